//! # Compute-proof pallet
//!
//! Checks that a provider really computed what it committed to, without redoing the job.
//!
//! A provider commits the Merkle root of its whole output (see `proofgrid_primitives::merkle`).
//! Once a block produced *after* the commitment exists, the challenge — [`Config::Samples`]
//! leaf indices — is derived from `hash(job, root, that block's hash)`
//! (`proofgrid_primitives::challenge`), so the provider could not know it when committing. The
//! provider then reveals the Merkle path of each challenged leaf; this pallet recomputes each of
//! those leaves from the job's seeded inputs with the `primitives` kernel and checks every path
//! against the root.
//!
//! A provider who faked a fraction `f` of the output passes with probability `(1 − f)^k`
//! (`k` = [`Config::Samples`]; 64 gives `6.3·10⁻⁷` at `f = 0.2`). The author of the challenge
//! block can bias it only by re-rolling that block, which multiplies the bound by the number of
//! re-rolls.
//!
//! The pallet has no calls and no storage: the jobs pallet calls it through [`ComputeVerifier`].

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

pub mod weights;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod tests;

use alloc::vec::Vec;
use frame_support::pallet_prelude::*;
use proofgrid_primitives::{
	challenge::{challenge_indices, challenge_seed},
	gemm::{encode_leaf, seeded_leaf},
	job::{JobId, JobSpec, RevealPaths},
	merkle::{self, hash_leaf, ProofError},
};
use sp_core::H256;

/// What the jobs pallet needs from a compute verifier.
pub trait ComputeVerifier {
	/// The leaf indices the provider of `job` must reveal, sorted and distinct.
	fn challenge(job: JobId, spec: &JobSpec, root: &H256, randomness: &H256) -> Vec<u64>;

	/// `Ok` if `paths` proves the challenged leaves of `root` are the correct output of `spec`;
	/// otherwise the named reason.
	fn verify(
		job: JobId,
		spec: &JobSpec,
		root: &H256,
		randomness: &H256,
		paths: &RevealPaths,
	) -> DispatchResult;

	/// Weight of [`Self::verify`] for the job's inner dimension `k_dim`.
	fn verify_weight(k_dim: u32) -> Weight;
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_system::pallet_prelude::BlockNumberFor;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Configuration of the compute-proof pallet.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// Leaves drawn per challenge (`k`), at most
		/// [`MAX_CHALLENGE_SAMPLES`](proofgrid_primitives::job::MAX_CHALLENGE_SAMPLES).
		#[pallet::constant]
		type Samples: Get<u32>;

		/// Weights of verification.
		type WeightInfo: WeightInfo;
	}

	/// Errors of verification. Each names why a reveal was refused.
	#[pallet::error]
	pub enum Error<T> {
		/// The job's shape is invalid (empty or too large).
		InvalidShape,
		/// The reveal has a different number of paths than there are challenged leaves.
		WrongPathCount,
		/// A path has the wrong number of siblings for its leaf.
		WrongPathLength,
		/// A recomputed leaf does not lead to the committed root: the output was wrong.
		LeafMismatch,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(
				T::Samples::get() > 0
					&& T::Samples::get() <= proofgrid_primitives::job::MAX_CHALLENGE_SAMPLES,
				"Samples must be in 1..=MAX_CHALLENGE_SAMPLES"
			);
		}
	}
}

impl<T: Config> ComputeVerifier for Pallet<T> {
	fn challenge(job: JobId, spec: &JobSpec, root: &H256, randomness: &H256) -> Vec<u64> {
		let seed = challenge_seed(job, &root.0, &randomness.0);
		challenge_indices(&seed, spec.shape.leaf_count(), T::Samples::get())
	}

	fn verify(
		job: JobId,
		spec: &JobSpec,
		root: &H256,
		randomness: &H256,
		paths: &RevealPaths,
	) -> DispatchResult {
		spec.shape.validate().map_err(|_| Error::<T>::InvalidShape)?;
		let indices = Self::challenge(job, spec, root, randomness);
		Self::verify_leaves(spec, root, &indices, paths)
	}

	fn verify_weight(k_dim: u32) -> Weight {
		T::WeightInfo::verify_reveal(T::Samples::get(), k_dim)
	}
}

impl<T: Config> Pallet<T> {
	/// Checks that leaf `indices[i]` of `spec`'s correct output is proven by `paths[i]` against
	/// `root`. The costly part of [`ComputeVerifier::verify`], benchmarked on its own because the
	/// challenge indices depend on the root.
	pub fn verify_leaves(
		spec: &JobSpec,
		root: &H256,
		indices: &[u64],
		paths: &RevealPaths,
	) -> DispatchResult {
		ensure!(indices.len() == paths.len(), Error::<T>::WrongPathCount);
		let leaf_count = spec.shape.leaf_count();
		for (&index, path) in indices.iter().zip(paths.iter()) {
			// The chain recomputes the leaf: the provider cannot choose what it proves.
			let leaf = seeded_leaf(&spec.shape, &spec.seed, index);
			let siblings: Vec<[u8; 32]> = path.iter().map(|h| h.0).collect();
			merkle::verify(&root.0, leaf_count, index, hash_leaf(&encode_leaf(&leaf)), &siblings)
				.map_err(|e| match e {
				ProofError::RootMismatch => Error::<T>::LeafMismatch,
				ProofError::WrongLength => Error::<T>::WrongPathLength,
				ProofError::EmptyTree | ProofError::IndexOutOfRange => Error::<T>::InvalidShape,
			})?;
		}
		Ok(())
	}
}
