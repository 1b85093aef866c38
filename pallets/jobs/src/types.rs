//! Types of the jobs pallet.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{traits::fungible::Inspect, BoundedVec};
use frame_system::pallet_prelude::BlockNumberFor;
use proofgrid_primitives::{inputs::MatrixCommitment, job::JobSpec};
use scale_info::TypeInfo;
use sp_core::{ConstU32, H256};
use sp_runtime::DispatchError;

use crate::Config;

/// Balance type of the pallet's currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// A stored job, for a runtime `T`.
pub type JobOf<T> = Job<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;

/// Devices that may abandon one job (miss its commit window) before the job is given up and
/// its client refunded: each abandonment costs a device its claim deposit, and an abandoning
/// device may never claim that job again.
pub const MAX_ABANDONS_PER_JOB: u32 = 4;

/// An open job. Finished jobs (settled, failed, expired, cancelled) are removed; their outcome
/// is in the events.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct Job<AccountId, Balance, BlockNumber> {
	/// Who pays.
	pub client: AccountId,
	/// What to compute. `spec.seed` is the job's effective seed (bound to the job and client).
	pub spec: JobSpec,
	/// Most the client pays per work unit.
	pub price_cap: Balance,
	/// Work units: whole giga-operations, rounded down (at least `MinWorkUnits`).
	pub units: u64,
	/// Held from the client: `units × price_cap`.
	pub budget: Balance,
	/// Storage deposit held from the client while the job is open; always returned.
	pub deposit: Balance,
	/// What the device's free `claim`, `commit` and `reveal` cost the chain, priced like a
	/// transaction: held from the client at submission, burned at the first claim (returned if
	/// nobody claims the job).
	pub call_fee: Balance,
	/// The part of the call fee already burned: what the client loses if the job then fails,
	/// and the most a failure compensates it with.
	pub fee_paid: Balance,
	/// Last block at which the job may still wait for a device.
	pub deadline: BlockNumber,
	/// Devices that let their commit window lapse on this job; they may not claim it again.
	pub abandoned: BoundedVec<AccountId, ConstU32<MAX_ABANDONS_PER_JOB>>,
	/// Where the job is.
	pub status: JobStatus<AccountId, Balance, BlockNumber>,
}

/// The open states of a job.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub enum JobStatus<AccountId, Balance, BlockNumber> {
	/// Waiting for a device to claim it.
	Submitted,
	/// Claimed by `device` at its price, with `collateral` locked from its bond; it must commit
	/// by `commit_by`.
	Assigned {
		/// The device doing the work.
		device: AccountId,
		/// The device's price per unit when it claimed.
		price: Balance,
		/// Locked from the device's bond until the job ends; slashed if it fails.
		collateral: Balance,
		/// Block of the claim.
		claimed_at: BlockNumber,
		/// Last block for `commit`.
		commit_by: BlockNumber,
		/// The client showed the device's signed receipt for the job's inputs
		/// ([`Pallet::confirm_inputs`](crate::Pallet::confirm_inputs)): the inputs arrived, so
		/// a release costs the device what the job cost its client.
		inputs_received: bool,
	},
	/// Output committed; the challenge comes from block `challenge_block`, the reveal is due by
	/// `reveal_by`.
	Committed {
		/// The device doing the work.
		device: AccountId,
		/// The device's price per unit when it claimed.
		price: Balance,
		/// Locked from the device's bond until the job ends; slashed if it fails.
		collateral: Balance,
		/// Block of the claim.
		claimed_at: BlockNumber,
		/// Block of the commitment.
		committed_at: BlockNumber,
		/// Merkle root of the whole output.
		root: H256,
		/// The block whose hash seeds the challenge.
		challenge_block: BlockNumber,
		/// Last block for `reveal`.
		reveal_by: BlockNumber,
	},
	/// A job on supplied inputs whose reveal checked out: its output may be downloaded and
	/// checked by its client, and anyone may prove an element of it wrong (`dispute`) until
	/// `dispute_until`. The payment and the collateral wait until then.
	Verified {
		/// The device that did the work.
		device: AccountId,
		/// The device's price per unit when it claimed.
		price: Balance,
		/// Still locked from the device's bond: slashed if a fraud proof is upheld.
		collateral: Balance,
		/// Block of the claim.
		claimed_at: BlockNumber,
		/// Block of the commitment.
		committed_at: BlockNumber,
		/// Merkle root of the whole output.
		root: H256,
		/// Last block for `dispute`; the job settles after it.
		dispute_until: BlockNumber,
	},
}

/// Blocks past its earliest challenge block that a commitment's challenge waits at most for a
/// block by a second author ([`Config::AuthorityCount`](crate::Config)): a longer run of one
/// author's blocks means one author makes nearly all blocks, and waiting longer buys nothing.
pub const MAX_CHALLENGE_EXTENSION: u32 = 16;

/// What a block leaves for the challenges it seeds, recorded when the next block starts.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct ChallengeSeed {
	/// The randomness of the chain up to this block: the hash of the previous block's and this
	/// block's VRF output (see [`Config::BlockRandomness`](crate::Config)). A challenge drawn
	/// from it depends on every VRF output since the commitment, so an author who knows its
	/// own coming outputs still does not know the challenge while another author's block is
	/// among them.
	pub randomness: H256,
	/// Whether the block's author differs from its parent's: a commitment's challenge comes
	/// from a block after at least two authors' blocks.
	pub new_author: bool,
	/// The block's hash: a reveal names it, so that one computed on another fork is refused
	/// without penalty. Kept here because a congested reveal window may outlast
	/// `frame_system`'s block hashes.
	pub block_hash: H256,
	/// [`CongestedBlocks`](crate::CongestedBlocks) when it was recorded: the reveal windows of
	/// the jobs it challenges grow by every congested block since.
	pub congested_before: u32,
}

/// A client's data-availability demand on a verified job: the device must publish the leaves
/// of `elements` on chain by `answer_by` (plus the congested blocks since
/// `congested_before`), or the job fails as for a wrong result. Kept, `answered`, until the job
/// ends: one demand per job, so that demands cannot hold a provider's payment back for long.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct Demand<BlockNumber> {
	/// The output elements `(row, column)` whose leaves must be published.
	pub elements: proofgrid_primitives::job::DemandedElements,
	/// Last block for the answer, congested blocks not counted.
	pub answer_by: BlockNumber,
	/// [`CongestedBlocks`](crate::CongestedBlocks) when the demand was made.
	pub congested_before: u32,
	/// Whether the device published the leaves.
	pub answered: bool,
}

/// The output of a settled `linear-i8` job, kept for [`Config::OutputRetention`] blocks so that
/// later jobs can take it as their `A` ([`InputSource::Job`](proofgrid_primitives::job::InputSource)).
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct LayerOutput<AccountId, BlockNumber> {
	/// The output's commitment: its rows as lanes.
	pub commitment: MatrixCommitment,
	/// The device that computed it, which serves its bytes.
	pub device: AccountId,
	/// The last block a job may name it as an input.
	pub kept_until: BlockNumber,
}

/// Why a job failed (and its device's collateral was slashed).
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub enum FailureReason {
	/// The reveal did not prove the committed output; the verifier's error says why.
	BadProof(DispatchError),
	/// No reveal before the deadline.
	LateReveal,
	/// After the reveal, a fraud proof showed element `(row, col)` of the output wrong.
	FraudProven {
		/// The element's row in the output.
		row: u32,
		/// Its column.
		col: u32,
	},
	/// The device did not publish the leaves its client demanded in time, or published leaves
	/// that its committed root does not prove.
	DataWithheld,
}

/// Sets up what the jobs pallet's benchmarks need from other pallets.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId, Balance, Signature> {
	/// A registered, funded device that is eligible for any job at `price` per unit.
	fn eligible_device(seed: u32, price: Balance) -> AccountId;
	/// The signature of `device` (made by [`Self::eligible_device`]) over `message`.
	fn sign_as_device(device: &AccountId, message: &[u8]) -> Signature;
}

/// [`BenchmarkHelper`] backed by the real devices pallet.
#[cfg(feature = "runtime-benchmarks")]
pub struct DevicesBenchmarkHelper<T>(core::marker::PhantomData<T>);

#[cfg(feature = "runtime-benchmarks")]
impl<T: pallet_devices::Config>
	BenchmarkHelper<T::AccountId, pallet_devices::BalanceOf<T>, T::DeviceSignature>
	for DevicesBenchmarkHelper<T>
{
	fn eligible_device(seed: u32, price: pallet_devices::BalanceOf<T>) -> T::AccountId {
		pallet_devices::Pallet::<T>::benchmark_device(seed, price)
	}

	fn sign_as_device(device: &T::AccountId, message: &[u8]) -> T::DeviceSignature {
		use pallet_devices::BenchmarkHelper as _;
		T::BenchmarkHelper::sign(device, message)
	}
}
