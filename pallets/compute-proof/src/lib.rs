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
//! **Supplied inputs** (a client's own matrices, `proofgrid_primitives::inputs`): the provider
//! reveals, per challenged leaf, the leaf's values and path, and the row of `A` and column of
//! `B` of one element of it drawn from the challenge, with their paths to the client's input
//! roots; this pallet checks the three paths and recomputes that element. A sample is about
//! `2k` bytes, so a supplied job is admitted only if its whole reveal fits
//! [`Config::MaxRevealBytes`] ([`ComputeVerifier::reveal_bytes`](proofgrid_primitives::traits::ComputeVerifier::reveal_bytes)).
//!
//! **Model jobs** (a whole registered model on a batch, `proofgrid_primitives::model_proof`):
//! the challenge splits its samples across the layers, each sample carries the element's output
//! row, the input rows it reads with their paths to the previous layer's root (or the batch's),
//! and for a GEMM layer the registered weight lane and bias; this pallet reads the model from
//! [`Config::Models`], recomputes each element by its layer's definition and checks every path.
//!
//! The pallet has no calls and no storage: the jobs pallet calls it through
//! [`ComputeVerifier`](proofgrid_primitives::traits::ComputeVerifier).

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
use proofgrid_primitives::traits::ComputeVerifier;
use proofgrid_primitives::{
	challenge::{challenge_indices, challenge_seed},
	gemm::{encode_leaf, seeded_leaf},
	inputs::MatrixCommitment,
	inputs::{
		challenged_elements, fraud_proven, sample_bytes, verify_sample, FraudProof, FraudRefused,
		LaneError, SampleError,
	},
	job::{
		Accusation, JobId, JobInputs, JobSpec, LayerReveal, ModelReveal, OutputKind, Reveal,
		RevealPaths, SuppliedReveal, MAX_SUPPLIED_SAMPLES,
	},
	linear::{
		layer_fraud_proven, layer_sample_bytes, verify_layer_sample, LayerFraudProof,
		LayerFraudRefused, LayerSampleError,
	},
	merkle::{self, hash_leaf, ProofError},
	model::Planned,
	model_proof::{
		model_challenge, model_fraud_proven, model_reveal_bytes, verify_model_sample,
		ModelCommitments, ModelFraudProof, ModelFraudRefused, ModelSampleError, WeightsCommitment,
	},
	traits::ModelRegistry,
};
use sp_core::H256;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_system::pallet_prelude::BlockNumberFor;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Default configurations of this pallet, for `#[derive_impl]`.
	pub mod config_preludes {
		use super::*;
		use frame_support::{derive_impl, traits::ConstU32};

		/// A test runtime's configuration: 8 samples a challenge, supplied jobs between 4 and
		/// 8 samples by default, reveals up to 1 MiB. Mocks override what their tests need.
		pub struct TestDefaultConfig;

		#[derive_impl(frame_system::config_preludes::TestDefaultConfig, no_aggregated_types)]
		impl frame_system::DefaultConfig for TestDefaultConfig {}

		#[frame_support::register_default_impl(TestDefaultConfig)]
		impl DefaultConfig for TestDefaultConfig {
			type Samples = ConstU32<8>;
			type MinSuppliedSamples = ConstU32<4>;
			type DefaultSuppliedSamples = ConstU32<8>;
			type MaxRevealBytes = ConstU32<{ 1 << 20 }>;
			type WeightInfo = ();
		}
	}

	/// Configuration of the compute-proof pallet.
	#[pallet::config(with_default)]
	pub trait Config: frame_system::Config {
		/// Leaves drawn per challenge (`k`), at most
		/// [`MAX_CHALLENGE_SAMPLES`](proofgrid_primitives::job::MAX_CHALLENGE_SAMPLES).
		#[pallet::constant]
		type Samples: Get<u32>;

		/// Fewest samples the client of a job on supplied inputs may ask for: below this the
		/// chain would settle jobs it has barely checked.
		#[pallet::constant]
		type MinSuppliedSamples: Get<u32>;

		/// Samples a client asks for when it does not choose (used by the SDK and CLI; the
		/// chain only checks the client's choice against [`Config::MinSuppliedSamples`] and
		/// [`MAX_SUPPLIED_SAMPLES`](proofgrid_primitives::job::MAX_SUPPLIED_SAMPLES)).
		#[pallet::constant]
		type DefaultSuppliedSamples: Get<u32>;

		/// Largest reveal a job may need, bytes. Supplied inputs reveal about `2k` bytes per
		/// sample; keeping a reveal well inside a block leaves room for several per block.
		#[pallet::constant]
		type MaxRevealBytes: Get<u32>;

		/// The registered models that model jobs run (`pallet-models`): their layers and
		/// weights' commitments, which a model job's samples are checked against.
		#[pallet::no_default]
		type Models: ModelRegistry;

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
		/// The reveal is for other inputs than the job's (seeded paths for supplied inputs or
		/// the other way round).
		WrongRevealKind,
		/// A revealed row of `A` or column of `B` is not the client's (wrong length, or its path
		/// does not lead to the input root).
		InputLaneMismatch,
		/// A revealed leaf has a non-zero cell past the edge of the output.
		DeadCellNotZero,
		/// The challenged element recomputed from the client's inputs differs from the
		/// committed leaf's: the output was wrong.
		ElementMismatch,
		/// A fraud proof names an element outside the output.
		ElementOutsideOutput,
		/// A fraud proof's element is right: it proves nothing.
		ElementCorrect,
		/// A revealed row of a layer's output is not the committed one (wrong length, or its
		/// path does not lead to the output root).
		OutputRowMismatch,
		/// A revealed bias is not the client's (its path does not lead to the bias root).
		BiasMismatch,
		/// A model job's model is not registered.
		UnknownModel,
		/// A model job's batch, input commitment or weights do not fit its model's plan.
		ModelMismatch,
		/// A model sample's weight lane is not the registered one, or a GEMM layer's sample
		/// lacks its weights (or a pooling layer's has some).
		WeightsMismatch,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(
				T::Samples::get() > 0
					&& T::Samples::get() <= proofgrid_primitives::job::MAX_CHALLENGE_SAMPLES,
				"Samples must be in 1..=MAX_CHALLENGE_SAMPLES"
			);
			let supplied = T::MinSuppliedSamples::get()..=MAX_SUPPLIED_SAMPLES;
			assert!(
				T::MinSuppliedSamples::get() > 0
					&& supplied.contains(&T::DefaultSuppliedSamples::get()),
				"0 < MinSuppliedSamples <= DefaultSuppliedSamples <= MAX_SUPPLIED_SAMPLES"
			);
		}
	}
}

impl<T: Config> ComputeVerifier for Pallet<T> {
	fn challenge(job: JobId, spec: &JobSpec, root: &H256, randomness: &H256) -> Vec<u64> {
		let seed = challenge_seed(job, &root.0, &randomness.0);
		match spec.inputs {
			JobInputs::Seeded { .. } => {
				challenge_indices(&seed, spec.shape.leaf_count(), T::Samples::get())
			}
			// The leaves of the challenged elements (a leaf appears once per element of it).
			JobInputs::Supplied { samples, .. } => challenged_elements(&spec.shape, &seed, samples)
				.into_iter()
				.map(|c| c.leaf)
				.collect(),
			// A layer's output is committed by rows: the rows of the challenged elements.
			JobInputs::Layer { samples, .. } => challenged_elements(&spec.shape, &seed, samples)
				.into_iter()
				.map(|c| c.element.0.into())
				.collect(),
			// Each element as `layer << 48 | row << 16 | channel` (rows < 2^32, channels
			// < 2^16): the worker draws them itself with `model_challenge`.
			JobInputs::Model { samples, .. } => Self::model_of(spec)
				.map(|(plan, _, _)| {
					model_challenge(&plan, &seed, samples)
						.into_iter()
						.map(|(l, row, ch)| {
							u64::from(l) << 48 | u64::from(row) << 16 | u64::from(ch)
						})
						.collect()
				})
				.unwrap_or_default(),
		}
	}

	fn verify(
		job: JobId,
		spec: &JobSpec,
		root: &H256,
		randomness: &H256,
		reveal: &Reveal,
	) -> DispatchResult {
		spec.shape.validate().map_err(|_| Error::<T>::InvalidShape)?;
		ensure!(spec.output_kind() == Some(reveal.kind()), Error::<T>::WrongRevealKind);
		match reveal {
			Reveal::Seeded(paths) => Self::verify_seeded(job, spec, root, randomness, paths),
			Reveal::Supplied(samples) => {
				Self::verify_supplied(job, spec, root, randomness, samples)
			}
			Reveal::Layer(samples) => Self::verify_layer(job, spec, root, randomness, samples),
			Reveal::Model(samples) => Self::verify_model(job, spec, root, randomness, samples),
		}
	}

	fn verify_weight(
		kind: OutputKind,
		samples: u32,
		k_dim: u32,
		row_len: u32,
		taps: u32,
	) -> Weight {
		match kind {
			// The chain draws its own number of leaves, whatever the reveal holds.
			OutputKind::Seeded => {
				T::WeightInfo::verify_reveal_sample(k_dim).saturating_mul(T::Samples::get().into())
			}
			OutputKind::Supplied => {
				T::WeightInfo::verify_supplied_sample(k_dim).saturating_mul(samples.into())
			}
			OutputKind::Layer => {
				T::WeightInfo::verify_layer_sample(k_dim, row_len).saturating_mul(samples.into())
			}
			// The model's read, then per sample its taps as measured on one-channel taps and
			// rows, the values beyond one per tap (wider taps, the longer weight lane) at a
			// layer sample's cost per value of `k`, and its output row at its cost per `n`.
			OutputKind::Model => {
				let layer = T::WeightInfo::verify_layer_sample;
				let wider = layer(k_dim, 1).saturating_sub(layer(taps.min(k_dim), 1));
				let row = layer(1, row_len).saturating_sub(layer(1, 1));
				T::WeightInfo::verify_model_sample(taps)
					.saturating_add(wider)
					.saturating_add(row)
					.saturating_mul(samples.into())
					.saturating_add(T::DbWeight::get().reads(1))
			}
		}
	}

	fn reveal_weight(spec: &JobSpec) -> Weight {
		let samples = spec.supplied_samples().unwrap_or_default();
		let (k, n) = (spec.shape.k, spec.shape.n);
		match spec.output_kind() {
			Some(OutputKind::Seeded) => Self::verify_weight(OutputKind::Seeded, 0, k, 0, 0),
			Some(OutputKind::Supplied) => {
				Self::verify_weight(OutputKind::Supplied, samples, k, 0, 0)
			}
			Some(OutputKind::Layer) => Self::verify_weight(OutputKind::Layer, samples, k, n, 0),
			// The shape bounds every layer's reads and rows; the plan, its taps.
			Some(OutputKind::Model) => {
				let taps = Self::model_of(spec).map_or(0, |(plan, _, _)| {
					plan.iter().map(Planned::max_taps).max().unwrap_or(0).min(u32::MAX.into())
						as u32
				});
				Self::verify_weight(OutputKind::Model, samples, k, n, taps)
			}
			None => Weight::zero(),
		}
	}

	fn min_supplied_samples() -> u32 {
		T::MinSuppliedSamples::get()
	}

	fn verify_fraud(spec: &JobSpec, root: &H256, accusation: &Accusation) -> DispatchResult {
		ensure!(spec.output_kind() == Some(accusation.kind()), Error::<T>::WrongRevealKind);
		match accusation {
			Accusation::Gemm(proof) => Self::verify_gemm_fraud(spec, root, proof),
			Accusation::Layer(proof) => Self::verify_layer_fraud(spec, root, proof),
			Accusation::Model(proof) => Self::verify_model_fraud(spec, root, proof),
		}
	}

	fn verify_fraud_weight(kind: OutputKind, k_dim: u32, row_len: u32, taps: u32) -> Weight {
		// One element recomputed and its paths checked: one sample of a reveal.
		Self::verify_weight(kind, 1, k_dim, row_len, taps)
	}

	fn reveal_bytes(spec: &JobSpec) -> u64 {
		match spec.inputs {
			// A path per sample: a length byte and up to one sibling per level.
			JobInputs::Seeded { .. } => {
				let depth = merkle::level_widths(spec.shape.leaf_count()).len() as u64;
				u64::from(T::Samples::get()).saturating_mul(1 + 32 * depth.saturating_sub(1))
			}
			JobInputs::Supplied { samples, .. } => {
				u64::from(samples).saturating_mul(sample_bytes(&spec.shape))
			}
			JobInputs::Layer { samples, .. } => {
				u64::from(samples).saturating_mul(layer_sample_bytes(&spec.shape))
			}
			// Unknown or unplannable models are refused at submission; here they take no room.
			JobInputs::Model { samples, .. } => {
				Self::model_of(spec).map_or(0, |(plan, _, _)| model_reveal_bytes(&plan, samples))
			}
		}
	}

	fn max_reveal_bytes() -> u64 {
		T::MaxRevealBytes::get().into()
	}
}

/// One function per kind of output, behind [`ComputeVerifier::verify`] and
/// [`ComputeVerifier::verify_fraud`] (which have checked that the reveal or accusation is of the
/// job's kind).
impl<T: Config> Pallet<T> {
	/// A seeded job: recompute each challenged leaf from the seed and check its path.
	pub fn verify_seeded(
		job: JobId,
		spec: &JobSpec,
		root: &H256,
		randomness: &H256,
		paths: &RevealPaths,
	) -> DispatchResult {
		spec.shape.validate().map_err(|_| Error::<T>::InvalidShape)?;
		ensure!(spec.seed().is_some(), Error::<T>::WrongRevealKind);
		let indices = Self::challenge(job, spec, root, randomness);
		Self::verify_leaves(spec, root, &indices, paths)
	}

	/// A GEMM on supplied inputs: each challenged leaf, with the lanes behind its element.
	pub fn verify_supplied(
		job: JobId,
		spec: &JobSpec,
		root: &H256,
		randomness: &H256,
		samples: &SuppliedReveal,
	) -> DispatchResult {
		spec.shape.validate().map_err(|_| Error::<T>::InvalidShape)?;
		ensure!(spec.output_kind() == Some(OutputKind::Supplied), Error::<T>::WrongRevealKind);
		let inputs = spec.supplied().ok_or(Error::<T>::WrongRevealKind)?;
		let count = spec.supplied_samples().ok_or(Error::<T>::WrongRevealKind)?;
		let seed = challenge_seed(job, &root.0, &randomness.0);
		let challenged = challenged_elements(&spec.shape, &seed, count);
		ensure!(challenged.len() == samples.len(), Error::<T>::WrongPathCount);
		for (c, sample) in challenged.iter().zip(samples.iter()) {
			verify_sample(inputs, &spec.shape, &root.0, c.leaf, c.element, sample)
				.map_err(Pallet::<T>::sample_error)?;
		}
		Ok(())
	}

	/// A `linear-i8` layer: each challenged element's output row, with its inputs and bias.
	pub fn verify_layer(
		job: JobId,
		spec: &JobSpec,
		root: &H256,
		randomness: &H256,
		samples: &LayerReveal,
	) -> DispatchResult {
		spec.shape.validate().map_err(|_| Error::<T>::InvalidShape)?;
		let (Some(inputs), Some(layer), Some(count)) =
			(spec.supplied(), spec.layer(), spec.supplied_samples())
		else {
			return Err(Error::<T>::WrongRevealKind.into());
		};
		let seed = challenge_seed(job, &root.0, &randomness.0);
		let challenged = challenged_elements(&spec.shape, &seed, count);
		ensure!(challenged.len() == samples.len(), Error::<T>::WrongPathCount);
		for (c, sample) in challenged.iter().zip(samples.iter()) {
			verify_layer_sample(inputs, layer, &spec.shape, root, c.element, sample)
				.map_err(Pallet::<T>::layer_sample_error)?;
		}
		Ok(())
	}

	/// A model job: each challenged element with what it reads, against the registered model.
	pub fn verify_model(
		job: JobId,
		spec: &JobSpec,
		root: &H256,
		randomness: &H256,
		samples: &ModelReveal,
	) -> DispatchResult {
		let (plan, input, weights) = Self::model_of(spec)?;
		let count = spec.supplied_samples().ok_or(Error::<T>::WrongRevealKind)?;
		let seed = challenge_seed(job, &root.0, &randomness.0);
		let challenged = model_challenge(&plan, &seed, count);
		ensure!(challenged.len() == samples.len(), Error::<T>::WrongPathCount);
		let commitments = ModelCommitments { plan: &plan, input, weights: &weights, root };
		for (element, sample) in challenged.iter().zip(samples.iter()) {
			verify_model_sample(&commitments, *element, sample)
				.map_err(Pallet::<T>::model_sample_error)?;
		}
		Ok(())
	}

	/// An accusation against a model job.
	pub fn verify_model_fraud(
		spec: &JobSpec,
		root: &H256,
		proof: &ModelFraudProof,
	) -> DispatchResult {
		let (plan, input, weights) = Self::model_of(spec)?;
		let commitments = ModelCommitments { plan: &plan, input, weights: &weights, root };
		model_fraud_proven(&commitments, proof).map_err(|refused| match refused {
			ModelFraudRefused::ElementCorrect => Error::<T>::ElementCorrect.into(),
			ModelFraudRefused::Invalid(error) => Pallet::<T>::model_sample_error(error),
		})
	}

	/// A model job's plan on its batch, its input commitment and its model's weights.
	pub fn model_of(
		spec: &JobSpec,
	) -> Result<(Vec<Planned>, &MatrixCommitment, Vec<WeightsCommitment>), DispatchError> {
		let JobInputs::Model { model, batch, input, .. } = &spec.inputs else {
			return Err(Error::<T>::WrongRevealKind.into());
		};
		let (model, weights) = T::Models::model(*model).ok_or(Error::<T>::UnknownModel)?;
		let plan = model.plan(*batch).map_err(|_| Error::<T>::ModelMismatch)?;
		Ok((plan, input, weights))
	}

	/// An accusation against a GEMM on supplied inputs.
	pub fn verify_gemm_fraud(spec: &JobSpec, root: &H256, proof: &FraudProof) -> DispatchResult {
		ensure!(spec.output_kind() == Some(OutputKind::Supplied), Error::<T>::WrongRevealKind);
		let inputs = spec.supplied().ok_or(Error::<T>::WrongRevealKind)?;
		fraud_proven(inputs, &spec.shape, &root.0, proof).map_err(|refused| match refused {
			FraudRefused::OutsideOutput => Error::<T>::ElementOutsideOutput.into(),
			FraudRefused::ElementCorrect => Error::<T>::ElementCorrect.into(),
			FraudRefused::Invalid(error) => Pallet::<T>::sample_error(error),
		})
	}

	/// An accusation against a `linear-i8` layer.
	pub fn verify_layer_fraud(
		spec: &JobSpec,
		root: &H256,
		proof: &LayerFraudProof,
	) -> DispatchResult {
		let (Some(inputs), Some(layer)) = (spec.supplied(), spec.layer()) else {
			return Err(Error::<T>::WrongRevealKind.into());
		};
		layer_fraud_proven(inputs, layer, &spec.shape, root, proof).map_err(|refused| match refused
		{
			LayerFraudRefused::OutsideOutput => Error::<T>::ElementOutsideOutput.into(),
			LayerFraudRefused::ElementCorrect => Error::<T>::ElementCorrect.into(),
			LayerFraudRefused::Invalid(error) => Pallet::<T>::layer_sample_error(error),
		})
	}
}

impl<T: Config> Pallet<T> {
	/// The error a refused sample of a reveal (or of a fraud proof) gives.
	fn sample_error(error: SampleError) -> DispatchError {
		match error {
			SampleError::Leaf(ProofError::RootMismatch) => Error::<T>::LeafMismatch,
			SampleError::Leaf(ProofError::WrongLength) => Error::<T>::WrongPathLength,
			SampleError::Leaf(_) | SampleError::ElementOutsideLeaf => Error::<T>::InvalidShape,
			SampleError::Row(LaneError::WrongLength | LaneError::Path(_))
			| SampleError::Column(LaneError::WrongLength | LaneError::Path(_)) => {
				Error::<T>::InputLaneMismatch
			}
			SampleError::DeadCell => Error::<T>::DeadCellNotZero,
			SampleError::WrongElement => Error::<T>::ElementMismatch,
		}
		.into()
	}

	/// The error a refused sample of a layer's reveal (or of a layer fraud proof) gives.
	fn layer_sample_error(error: LayerSampleError) -> DispatchError {
		match error {
			LayerSampleError::Output(_) => Error::<T>::OutputRowMismatch,
			LayerSampleError::Row(_) | LayerSampleError::Column(_) => Error::<T>::InputLaneMismatch,
			LayerSampleError::Bias(_) => Error::<T>::BiasMismatch,
			LayerSampleError::OutsideOutput => Error::<T>::ElementOutsideOutput,
			LayerSampleError::WrongElement => Error::<T>::ElementMismatch,
		}
		.into()
	}

	/// The error a refused sample of a model job's reveal (or of its fraud proof) gives.
	fn model_sample_error(error: ModelSampleError) -> DispatchError {
		match error {
			ModelSampleError::OutsideOutput => Error::<T>::ElementOutsideOutput,
			ModelSampleError::LayerRoot(_)
			| ModelSampleError::PreviousRoot(_)
			| ModelSampleError::Output(_) => Error::<T>::OutputRowMismatch,
			ModelSampleError::TapCount | ModelSampleError::Tap { .. } => {
				Error::<T>::InputLaneMismatch
			}
			ModelSampleError::Weights | ModelSampleError::WeightLane(_) => {
				Error::<T>::WeightsMismatch
			}
			ModelSampleError::Bias(_) => Error::<T>::BiasMismatch,
			ModelSampleError::Commitments => Error::<T>::ModelMismatch,
			ModelSampleError::WrongElement => Error::<T>::ElementMismatch,
		}
		.into()
	}

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
		let seed = spec.seed().ok_or(Error::<T>::WrongRevealKind)?;
		let leaf_count = spec.shape.leaf_count();
		for (&index, path) in indices.iter().zip(paths.iter()) {
			// The chain recomputes the leaf: the provider cannot choose what it proves.
			let leaf = seeded_leaf(&spec.shape, seed, index);
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
