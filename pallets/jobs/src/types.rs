//! Types of the jobs pallet.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::traits::fungible::Inspect;
use frame_system::pallet_prelude::BlockNumberFor;
use proofgrid_primitives::job::JobSpec;
use scale_info::TypeInfo;
use sp_core::H256;
use sp_runtime::DispatchError;

use crate::Config;

/// Balance type of the pallet's currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// A stored job, for a runtime `T`.
pub type JobOf<T> = Job<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;

/// An open job. Finished jobs (settled, failed, expired, cancelled) are removed; their outcome
/// is in the events.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct Job<AccountId, Balance, BlockNumber> {
	/// Who pays.
	pub client: AccountId,
	/// What to compute.
	pub spec: JobSpec,
	/// Most the client pays per work unit.
	pub price_cap: Balance,
	/// Work units (giga-operations, rounded up).
	pub units: u64,
	/// Held from the client: `units × price_cap`.
	pub budget: Balance,
	/// Last block at which the job may still wait for a device.
	pub deadline: BlockNumber,
	/// Where the job is.
	pub status: JobStatus<AccountId, Balance, BlockNumber>,
}

/// The open states of a job.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub enum JobStatus<AccountId, Balance, BlockNumber> {
	/// Waiting for a device to claim it.
	Submitted,
	/// Claimed by `device` at its price; it must commit by `commit_by`.
	Assigned {
		/// The device doing the work.
		device: AccountId,
		/// The device's price per unit when it claimed.
		price: Balance,
		/// Last block for `commit`.
		commit_by: BlockNumber,
	},
	/// Output committed; the challenge comes from block `challenge_block`, the reveal is due by
	/// `reveal_by`.
	Committed {
		/// The device doing the work.
		device: AccountId,
		/// The device's price per unit when it claimed.
		price: Balance,
		/// Merkle root of the whole output.
		root: H256,
		/// The block whose hash seeds the challenge.
		challenge_block: BlockNumber,
		/// Last block for `reveal`.
		reveal_by: BlockNumber,
	},
}

/// Why a job failed (and its device was slashed).
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub enum FailureReason {
	/// The reveal did not prove the committed output; the verifier's error says why.
	BadProof(DispatchError),
	/// No reveal before the deadline.
	LateReveal,
}

/// Sets up what the jobs pallet's benchmarks need from other pallets.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId, Balance> {
	/// A registered, funded device that is eligible for any job at `price` per unit.
	fn eligible_device(seed: u32, price: Balance) -> AccountId;
}

/// [`BenchmarkHelper`] backed by the real devices pallet.
#[cfg(feature = "runtime-benchmarks")]
pub struct DevicesBenchmarkHelper<T>(core::marker::PhantomData<T>);

#[cfg(feature = "runtime-benchmarks")]
impl<T: pallet_devices::Config> BenchmarkHelper<T::AccountId, pallet_devices::BalanceOf<T>>
	for DevicesBenchmarkHelper<T>
{
	fn eligible_device(seed: u32, price: pallet_devices::BalanceOf<T>) -> T::AccountId {
		pallet_devices::Pallet::<T>::benchmark_device(seed, price)
	}
}
