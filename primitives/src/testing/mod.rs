//! Fixtures for the tests and benchmarks of every crate: a plausible device, a seeded job's
//! output tree (honest or with chosen leaves wrong) and the Merkle paths a provider reveals;
//! a job on supplied inputs ([`supplied::SuppliedJob`]) and a layer ([`layer::LayerJob`]) with
//! their honest or doctored outputs; a whole model's job ([`model::ModelJob`]).
//!
//! Kept here, next to the definitions they build on, so that pallet mocks, benchmarks (`no_std`),
//! runtime tests and the node's integration tests build them one way. They panic on misuse
//! (a leaf out of range, an empty job): a test that misuses them should fail loudly.

use alloc::vec::Vec;
use sp_core::H256;

use crate::{
	device::{ComputeCapability, DeviceSpec, Kernel, KernelSet},
	gemm::{encode_leaf, seeded_leaf},
	job::{JobSpec, MerklePath, RevealPaths},
	merkle::{hash_leaf, Hash32, MerkleTree},
};

/// A plausible H100 (80 GiB, compute capability 9.0, 132 multiprocessors) running `kernels` and
/// advertising `advertised_gops`. Tests that need another figure override it with
/// `DeviceSpec { vram_mib: …, ..device_spec(…) }`.
pub fn device_spec(kernels: &[Kernel], advertised_gops: u64) -> DeviceSpec {
	DeviceSpec {
		model: b"NVIDIA H100 80GB HBM3".to_vec().try_into().expect("a short name"),
		vram_mib: 81_559,
		compute_capability: ComputeCapability { major: 9, minor: 0 },
		multiprocessors: 132,
		kernels: KernelSet::of(kernels),
		advertised_gops,
	}
}

/// The output tree of seeded job `spec` (its stored spec, with the effective seed): honest
/// except at the leaves `wrong` selects, whose first value is off by one.
pub fn seeded_output(spec: &JobSpec, wrong: impl Fn(u64) -> bool) -> MerkleTree {
	let seed = spec.seed().expect("a seeded job");
	let hashes = (0..spec.shape.leaf_count())
		.map(|i| {
			let mut leaf = seeded_leaf(&spec.shape, seed, i);
			if wrong(i) {
				leaf[0] = leaf[0].wrapping_add(1);
			}
			hash_leaf(&encode_leaf(&leaf))
		})
		.collect();
	MerkleTree::from_leaf_hashes(hashes).expect("a job has at least one leaf")
}

/// Sibling hashes as the chain's bounded [`MerklePath`].
pub fn as_path(siblings: Vec<Hash32>) -> MerklePath {
	siblings.into_iter().map(H256).collect::<Vec<_>>().try_into().expect("a shallow tree")
}

/// The path of leaf `index` of `tree`.
pub fn merkle_path(tree: &MerkleTree, index: u64) -> MerklePath {
	as_path(tree.proof(index).expect("a leaf in range"))
}

/// What a provider reveals for a seeded job: the path of each of the challenged `indices`.
pub fn reveal_paths(tree: &MerkleTree, indices: &[u64]) -> RevealPaths {
	indices
		.iter()
		.map(|&i| merkle_path(tree, i))
		.collect::<Vec<_>>()
		.try_into()
		.expect("at most MAX_CHALLENGE_SAMPLES")
}

/// A supplied-input job and its trees.
#[cfg(feature = "std")]
pub mod supplied;

/// A `linear-i8` job and its trees.
#[cfg(feature = "std")]
pub mod layer;
pub mod model;

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{
		device::Requirements,
		gemm::GemmShape,
		merkle::{verify, ProofError},
	};

	fn spec() -> JobSpec {
		JobSpec::seeded(
			GemmShape { m: 13, n: 9, k: 7 },
			[7; 32],
			Requirements { kernel: Kernel::GemmI8, min_vram_mib: 0, min_gops: 0 },
		)
	}

	#[test]
	fn the_honest_output_verifies_and_a_wrong_leaf_does_not() {
		let spec = spec();
		let honest = seeded_output(&spec, |_| false);
		let wrong = seeded_output(&spec, |i| i == 2);
		assert_ne!(honest.root(), wrong.root());
		let seed = spec.seed().expect("seeded");
		for (path, i) in reveal_paths(&honest, &[0, 2, 3]).iter().zip([0u64, 2, 3]) {
			let leaf = hash_leaf(&encode_leaf(&seeded_leaf(&spec.shape, seed, i)));
			let siblings: Vec<Hash32> = path.iter().map(|h| h.0).collect();
			let leaves = spec.shape.leaf_count();
			assert_eq!(verify(&honest.root(), leaves, i, leaf, &siblings), Ok(()));
			let against_wrong = verify(&wrong.root(), leaves, i, leaf, &siblings);
			assert_eq!(against_wrong, Err(ProofError::RootMismatch));
		}
	}

	#[test]
	fn the_device_is_valid_for_its_kernels() {
		let spec = device_spec(&[Kernel::GemmI8, Kernel::LinearI8], 1_000);
		assert!(spec.kernels.contains(Kernel::LinearI8));
		let needs =
			Requirements { kernel: Kernel::LinearI8, min_vram_mib: 80_000, min_gops: 1_000 };
		assert!(needs.unmet_by(&spec, spec.advertised_gops).is_none());
	}
}
