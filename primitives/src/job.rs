//! What a client asks for and what a provider reveals: shared by the jobs pallet, the compute
//! proof pallet, the client and the worker.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::{ConstU32, H256};
use sp_runtime::BoundedVec;

use crate::{device::Requirements, gemm::GemmShape};

/// A job's on-chain identifier.
pub type JobId = u64;

/// Most leaves a reveal may open (the chain's challenge sample count `k` is at most this).
pub const MAX_CHALLENGE_SAMPLES: u32 = 64;

/// Deepest Merkle path accepted: trees of up to 2^40 leaves.
pub const MAX_PROOF_DEPTH: u32 = 40;

/// One Merkle path: sibling hashes, bottom up.
pub type MerklePath = BoundedVec<H256, ConstU32<MAX_PROOF_DEPTH>>;

/// A reveal: the Merkle path of each challenged leaf, in increasing leaf-index order. The leaves
/// themselves are not sent: for seeded inputs the chain recomputes them.
pub type RevealPaths = BoundedVec<MerklePath, ConstU32<MAX_CHALLENGE_SAMPLES>>;

/// The work a client buys.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub struct JobSpec {
	/// The GEMM to compute.
	pub shape: GemmShape,
	/// Seed of the seeded inputs `A` and `B` (see [`crate::gemm`]).
	pub seed: [u8; 32],
	/// What the device must offer; `requirements.kernel` is the kernel to run.
	pub requirements: Requirements,
}
