//! GPU devices: what a provider advertises, what a job may require, and the registration proof
//! format. Shared by the devices pallet (to store and check), the client (to build calls) and
//! the worker (to describe its GPUs).

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::ConstU32;
use sp_runtime::BoundedVec;

/// Longest endpoint URL a device may publish, in bytes.
pub const MAX_ENDPOINT_LEN: u32 = 256;

/// Longest GPU model name stored on chain, in bytes.
pub const MAX_MODEL_NAME_LEN: u32 = 64;

/// Domain tag of a registration proof: the device key signs
/// `REGISTRATION_TAG ++ SCALE(owner) ++ genesis hash`.
pub const REGISTRATION_TAG: &[u8] = b"proofgrid/register";

/// The message a device key signs to let `owner` register it on the chain with `genesis_hash`.
/// Binding the owner stops anyone else from registering the key; binding the genesis hash stops
/// a proof from being replayed on another chain.
pub fn registration_message<AccountId: Encode, Hash: AsRef<[u8]>>(
	owner: &AccountId,
	genesis_hash: &Hash,
) -> alloc::vec::Vec<u8> {
	let mut message = REGISTRATION_TAG.to_vec();
	owner.encode_to(&mut message);
	message.extend_from_slice(genesis_hash.as_ref());
	message
}

/// A compute kernel the chain knows how to verify.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
pub enum Kernel {
	/// `C = A·B` over int8 with exact int32 accumulation.
	GemmI8,
	/// One quantized layer, `Y = act(sat_i8(requant(A·W + bias)))` (see [`crate::linear`]).
	LinearI8,
	/// A whole registered int8 model on a batch (see [`crate::model`]).
	ModelI8,
}

impl Kernel {
	/// Every kernel the chain knows.
	pub const ALL: [Kernel; 3] = [Kernel::GemmI8, Kernel::LinearI8, Kernel::ModelI8];

	/// Its name, as the RPC and the CLI show it.
	pub fn name(self) -> &'static str {
		match self {
			Kernel::GemmI8 => "gemm-i8",
			Kernel::LinearI8 => "linear-i8",
			Kernel::ModelI8 => "model-i8",
		}
	}

	/// This kernel's bit in a [`KernelSet`].
	pub const fn bit(self) -> u32 {
		match self {
			Kernel::GemmI8 => 1 << 0,
			Kernel::LinearI8 => 1 << 1,
			Kernel::ModelI8 => 1 << 2,
		}
	}
}

/// A set of [`Kernel`]s as a bit mask (bit `n` = kernel with index `n`).
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	Default,
	PartialEq,
	Eq,
	Debug,
)]
pub struct KernelSet(pub u32);

impl KernelSet {
	/// A set holding exactly the given kernels.
	pub fn of(kernels: &[Kernel]) -> Self {
		Self(kernels.iter().fold(0, |mask, k| mask | k.bit()))
	}

	/// Whether `kernel` is in the set.
	pub fn contains(&self, kernel: Kernel) -> bool {
		self.0 & kernel.bit() != 0
	}

	/// Whether the set is empty.
	pub fn is_empty(&self) -> bool {
		self.0 == 0
	}
}

/// CUDA compute capability, e.g. 9.0 for an H100.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	Default,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Debug,
)]
pub struct ComputeCapability {
	/// Major version.
	pub major: u8,
	/// Minor version.
	pub minor: u8,
}

/// What a provider advertises about one GPU. Advertised throughput is not trusted for matching
/// once a capability proof has measured the device (see `DeviceInfo::measured_gops`).
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub struct DeviceSpec {
	/// GPU model name, e.g. `NVIDIA H100 80GB HBM3`.
	pub model: BoundedVec<u8, ConstU32<MAX_MODEL_NAME_LEN>>,
	/// Device memory in MiB.
	pub vram_mib: u32,
	/// CUDA compute capability.
	pub compute_capability: ComputeCapability,
	/// Number of streaming multiprocessors.
	pub multiprocessors: u16,
	/// Kernels the device can run.
	pub kernels: KernelSet,
	/// Advertised int8 throughput in giga-operations per second.
	pub advertised_gops: u64,
}

/// What a job needs from a device.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
pub struct Requirements {
	/// The kernel to run.
	pub kernel: Kernel,
	/// Minimum device memory in MiB.
	pub min_vram_mib: u32,
	/// Minimum int8 throughput in giga-operations per second.
	pub min_gops: u64,
}

/// Which of a job's [`Requirements`] a device does not meet.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Unmet {
	/// It does not run the job's kernel.
	Kernel,
	/// It has less memory than the job needs.
	Vram,
	/// Its throughput (measured, else advertised) is below the job's minimum.
	Throughput,
}

impl Requirements {
	/// The first of these requirements a device of `spec` does not meet, whose throughput
	/// counts as `gops` (the chain's measurement of it, else its advertised figure); `None` if
	/// it meets them all. The one rule: the chain applies it to a claim
	/// (`DeviceRegistry::ensure_eligible`), a worker to the jobs it looks at.
	pub fn unmet_by(&self, spec: &DeviceSpec, gops: u64) -> Option<Unmet> {
		if !spec.kernels.contains(self.kernel) {
			Some(Unmet::Kernel)
		} else if spec.vram_mib < self.min_vram_mib {
			Some(Unmet::Vram)
		} else if gops < self.min_gops {
			Some(Unmet::Throughput)
		} else {
			None
		}
	}
}

/// Where a device is in its life on chain.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
pub enum DeviceStatus<BlockNumber> {
	/// Takes work when fresh.
	Active,
	/// Registered, but the owner paused it: takes no new work.
	Paused,
	/// Deregistered: takes no work; the bond can be withdrawn from block `until` on, and can
	/// still be slashed before that.
	Unbonding {
		/// First block at which `withdraw_bond` succeeds.
		until: BlockNumber,
	},
}

/// A device's track record, kept by the chain.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	Default,
	PartialEq,
	Eq,
	Debug,
)]
pub struct Reputation {
	/// Jobs settled with a valid proof.
	pub completed: u32,
	/// Jobs failed: bad or late proof, missed windows.
	pub failed: u32,
}

/// Hardware evidence binding a device key to a physical GPU. Only `Unattested` exists today;
/// NVIDIA confidential-computing reports (whose nonce commits to the device key) come later
/// without changing the storage layout of anything else.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	Default,
	PartialEq,
	Eq,
	Debug,
)]
pub enum Attestation {
	/// No hardware evidence: the device is trusted only through its bond and proofs.
	#[default]
	Unattested,
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn requirements_are_met_or_the_first_unmet_one_is_named() {
		let spec = DeviceSpec {
			model: Default::default(),
			vram_mib: 1000,
			compute_capability: ComputeCapability { major: 9, minor: 0 },
			multiprocessors: 1,
			kernels: KernelSet::of(&[Kernel::GemmI8]),
			advertised_gops: 50,
		};
		let needs = Requirements { kernel: Kernel::GemmI8, min_vram_mib: 1000, min_gops: 100 };
		assert_eq!(needs.unmet_by(&spec, 100), None, "exactly enough");
		assert_eq!(needs.unmet_by(&spec, 99), Some(Unmet::Throughput));
		let more_memory = Requirements { min_vram_mib: 1001, ..needs };
		assert_eq!(more_memory.unmet_by(&spec, 0), Some(Unmet::Vram));
		let layer = Requirements { kernel: Kernel::LinearI8, ..more_memory };
		assert_eq!(layer.unmet_by(&spec, 0), Some(Unmet::Kernel), "the kernel first");
	}
}
