//! # Jobs pallet
//!
//! The ProofGrid job market: a client pays into escrow, a device does the work, the chain
//! checks a proof of that work, and only then is the provider paid — or the device's collateral
//! is slashed and the client refunded and compensated.
//!
//! ## Lifecycle
//! ```text
//! submit_job ─► Submitted ──claim──► Assigned ──commit──► Committed ──reveal ok──► Settled
//!                 │   ▲                  │                    │
//!        cancel / │   └── commit window ─┘                    └── bad or late ──► Failed
//!        deadline ▼       missed (claim deposit forfeited,          reveal     (collateral
//!          Cancelled /     the device may not claim it again)                    slashed)
//!          Expired (full refund)
//! ```
//! - `submit_job` holds `units × price_cap` ([`HoldReason::JobBudget`]), a storage deposit
//!   ([`Config::JobDeposit`]) and the **call fee** ([`Config::CallFee`] of the weight of the
//!   device's claim, commit and reveal, [`HoldReason::JobDeposit`]) from the client. The call
//!   fee is burned at the first claim: the device's calls are free, the client pays for the
//!   verification it asks for, so they are priced like any other transaction. Work units are whole
//!   giga-operations rounded down, at least [`Config::MinWorkUnits`]; the price cap is at least
//!   [`Config::MinPricePerUnit`]. The stored seed is the job's effective seed, bound to the job
//!   id and client, so one computed output never answers two jobs; a claim binds it further to
//!   the hash of the block before the claim, so nobody can compute a job before claiming it.
//! - `claim` is signed by a device key; the devices pallet decides eligibility in constant
//!   time. It locks **collateral** from the device's free bond: `max(MinCollateral,
//!   CollateralPercent × units × price)`. The commit window is [`Config::BaseCommitWindow`] plus
//!   the blocks the device's advertised throughput needs for the job: advertising speed is a
//!   promise backed by collateral.
//! - A missed commit window forfeits [`Config::ClaimDeposit`] of the collateral, or the call
//!   fee the client paid if that is more: the client gets its call fee back, the rest is burned
//!   (nobody profits from a device missing a window); the device may not claim that job again,
//!   nor any job for [`Config::ReleaseCooldown`], and the job is open to others at once. A
//!   device that gives a job on supplied inputs back (`release`) pays the same once its client
//!   showed the device's receipt for the inputs (`confirm_inputs`); before, it goes free (the
//!   chain cannot tell whether the inputs came). The window counts the output's leaves
//!   ([`Config::OpsPerLeaf`]) as well as its operations, so wide, shallow jobs get the time
//!   their hashing needs.
//! - `commit` records the output's Merkle root; the challenge is seeded by the VRF randomness of
//!   the block [`Config::ChallengeDelay`] blocks later (the *challenge block*), which did not
//!   exist at commit time and which its author cannot re-roll ([`Config::BlockRandomness`]);
//!   it is recorded in [`ChallengeRandomness`] when the next block starts.
//! - `reveal` (within [`Config::RevealWindow`] after the challenge block) names the challenge
//!   block's hash: a reveal computed on another fork is refused without penalty
//!   ([`Error::WrongChallengeBlock`]), so devices answer once that block is final (or at the
//!   best block as the deadline nears). Blocks too full for the largest reveal do not count
//!   towards the window ([`Config::BlockHadRoom`]). It is checked
//!   by the compute-proof pallet. Success pays the provider `units × device price` less [`Config::ProtocolFee`],
//!   which is **burned**, refunds the rest and reports the burned fee to
//!   [`Config::OnWorkVerified`] (rewards are bounded by burned fees). Failure refunds the whole
//!   budget and slashes the whole collateral: the client gets back the call fee it paid
//!   (`Job::fee_paid`), no more, the rest is burned.
//! - `claim`, `commit` and `reveal` are free (`Pays::No`) and operational: the
//!   [`CheckDeviceCall`] transaction extension admits them to the pool only when the signer is
//!   the device that may make that step now, with a high priority, so they can be neither
//!   priced out by spam nor used for it.
//! - Deadlines sit in bounded per-block queues processed in `on_initialize`: protocol deadlines
//!   (commit, reveal) and client deadlines (expiry) in separate queues, so clients cannot crowd
//!   out the protocol's. Queuing never fails a call: a deadline that finds no room is enforced
//!   by the permissionless `expire` call instead, which is free when it enforces something.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

mod extension;
mod impls;
pub mod runtime_api;
#[cfg(feature = "std")]
pub mod testing;
mod types;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub use extension::CheckDeviceCall;
use impls::{GiveBack, Queue};
pub use types::*;
pub use weights::WeightInfo;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, Mutate, MutateHold},
			Randomness,
		},
	};
	use frame_system::pallet_prelude::*;
	use proofgrid_primitives::traits::{ComputeVerifier, DeviceRegistry, OnWorkVerified};
	use proofgrid_primitives::{
		device::Kernel,
		job::{
			claim_seed, effective_seed, Accusation, JobId, JobInputs, JobSpec, OutputKind, Reveal,
		},
	};
	use sp_core::H256;
	use sp_runtime::{
		traits::{
			CheckedMul, Convert, IdentifyAccount, One, Saturating, UniqueSaturatedFrom, Verify,
			Zero,
		},
		Perbill,
	};

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Default configurations of this pallet, for `#[derive_impl]`.
	pub mod config_preludes {
		use super::*;
		use frame_support::{
			derive_impl, parameter_types,
			traits::{ConstU32, ConstU64},
		};

		parameter_types! {
			/// 10% of a job's payment is burned.
			pub const TenPercent: Perbill = Perbill::from_percent(10);
		}

		/// A test runtime's configuration (`u64` balances and block numbers): a work unit of
		/// 2¹⁶ operations, prices from 10, collateral max(100, 150%), free device calls,
		/// 1 ms blocks (so windows are short), 5-block commit base and reveal windows,
		/// 10-block dispute windows, jobs living at most 100 blocks. Mocks name the sibling
		/// pallets and override what their tests need.
		pub struct TestDefaultConfig;

		#[derive_impl(frame_system::config_preludes::TestDefaultConfig, no_aggregated_types)]
		impl frame_system::DefaultConfig for TestDefaultConfig {}

		#[frame_support::register_default_impl(TestDefaultConfig)]
		impl DefaultConfig for TestDefaultConfig {
			#[inject_runtime_type]
			type RuntimeHoldReason = ();
			type ProtocolFee = TenPercent;
			type MinPricePerUnit = ConstU64<10>;
			type OpsPerUnit = ConstU64<65_536>;
			type MinWorkUnits = ConstU64<1>;
			type MaxWorkUnits = ConstU64<1_000>;
			type MinCollateral = ConstU64<100>;
			type CollateralPercent = ConstU32<150>;
			type ClaimDeposit = ConstU64<50>;
			type CallFee = sp_runtime::traits::ConvertToValue<ConstU64<0>>;
			type OpsPerLeaf = ConstU64<0>;
			type JobDeposit = ConstU64<20>;
			type BaseCommitWindow = ConstU64<5>;
			type MaxCommitWindow = ConstU64<50>;
			type MillisecsPerBlock = ConstU64<1>;
			type ChallengeDelay = ConstU64<1>;
			type InputWindow = ConstU64<3>;
			type InputBytesPerBlock = ConstU64<{ 1 << 20 }>;
			type MaxClaimBasisAge = ConstU64<4>;
			type BlockHadRoom = frame_support::traits::ConstBool<true>;
			type ReleaseCooldown = ConstU64<10>;
			type AuthorityCount = ConstU32<1>;
			type BlockAuthor = ();
			type RevealWindow = ConstU64<5>;
			type DisputeWindow = ConstU64<10>;
			type DisputeDeposit = ConstU64<40>;
			type OutputRetention = ConstU64<20>;
			type MaxJobLifetime = ConstU64<100>;
			type MaxJobsPerDevice = ConstU32<4>;
			type MaxDeadlinesPerBlock = ConstU32<16>;
			type DeviceCallPriority = ConstU64<{ u64::MAX / 2 }>;
			type OnWorkVerified = ();
			type WeightInfo = ();
		}
	}

	/// Configuration of the jobs pallet.
	#[pallet::config(with_default)]
	pub trait Config: frame_system::Config<Hash = H256> {
		/// The currency in which budgets are held and providers paid.
		#[pallet::no_default]
		type Currency: Inspect<Self::AccountId>
			+ Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		#[pallet::no_default_bounds]
		type RuntimeHoldReason: From<HoldReason>;

		/// The device registry.
		#[pallet::no_default]
		type Devices: DeviceRegistry<Self::AccountId, BalanceOf<Self>>;

		/// The compute-proof verifier.
		#[pallet::no_default]
		type Verifier: ComputeVerifier;

		/// A device key's signature: what a device signs its receipt for a job's inputs with
		/// ([`inputs_receipt_message`](proofgrid_primitives::inputs::inputs_receipt_message)).
		#[pallet::no_default]
		type DeviceSignature: Verify<Signer: IdentifyAccount<AccountId = Self::AccountId>>
			+ Parameter
			+ MaxEncodedLen;

		/// Share of each payment burned as the protocol fee. Token rewards are bounded by
		/// burned fees, so this is also what makes self-dealing cost money.
		#[pallet::constant]
		type ProtocolFee: Get<Perbill>;

		/// Lowest price cap per work unit a job may name.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type MinPricePerUnit: Get<BalanceOf<Self>>;

		/// Operations in one work unit (`2·m·n·k` operations per GEMM).
		#[pallet::constant]
		type OpsPerUnit: Get<u64>;

		/// Smallest job, in work units.
		#[pallet::constant]
		type MinWorkUnits: Get<u64>;

		/// Largest job, in work units.
		#[pallet::constant]
		type MaxWorkUnits: Get<u64>;

		/// Least collateral a claim locks from the device's bond.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type MinCollateral: Get<BalanceOf<Self>>;

		/// Collateral a claim locks, in percent of the job's value (`units × device price`), when
		/// that is more than [`Config::MinCollateral`].
		#[pallet::constant]
		type CollateralPercent: Get<u32>;

		/// Part of the collateral a device forfeits (burned) when it lets its commit window
		/// lapse.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type ClaimDeposit: Get<BalanceOf<Self>>;

		/// Prices the weight of a job's device calls (claim, commit, reveal) for the client, the
		/// way transaction fees price weight; held at submission, burned at the first claim.
		#[pallet::no_default_bounds]
		type CallFee: Convert<Weight, BalanceOf<Self>>;

		/// Operation-equivalents of committing one output leaf (hashing it into the tree): the
		/// commit window counts `ops + leaves × OpsPerLeaf`.
		#[pallet::constant]
		type OpsPerLeaf: Get<u64>;

		/// Storage deposit held from the client for each open job.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type JobDeposit: Get<BalanceOf<Self>>;

		/// Blocks a device has to commit on top of what its advertised throughput needs.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type BaseCommitWindow: Get<BlockNumberFor<Self>>;

		/// Longest commit window: a device too slow to finish a job within it cannot claim it.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type MaxCommitWindow: Get<BlockNumberFor<Self>>;

		/// Expected block time, to turn throughput (operations per second) into blocks.
		#[pallet::constant]
		type MillisecsPerBlock: Get<u64>;

		/// Blocks between a commitment and the block whose randomness seeds its challenge (at
		/// least 1).
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type ChallengeDelay: Get<BlockNumberFor<Self>>;

		/// The randomness of the parent block, fixed by its author's key and slot (BABE's VRF
		/// output: `pallet_babe::ParentBlockRandomness`), with the block it belongs to. It must
		/// not be a block hash or anything else an author can re-roll by re-sealing, or a
		/// cheating validator could grind its challenges. `None` for a block without such
		/// randomness.
		#[pallet::no_default]
		type BlockRandomness: Randomness<Option<H256>, BlockNumberFor<Self>>;

		/// Blocks after its claim from which the device of a job on supplied inputs may give it
		/// back without penalty because the inputs did not arrive ([`Pallet::release`]), for
		/// inputs of no size: the window grows by a block per [`Config::InputBytesPerBlock`].
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type InputWindow: Get<BlockNumberFor<Self>>;

		/// Input bytes a client is expected to upload per block: a job's input window, and its
		/// commit window, grow by a block for each this many bytes of `A` and `B`, so that large
		/// inputs arrive before the device may give the job up.
		#[pallet::constant]
		type InputBytesPerBlock: Get<u64>;

		/// Oldest block a claim may name as its basis (see [`Pallet::claim`]), in blocks before
		/// the claim's. Delivered throughput is counted from this many blocks before the claim,
		/// so naming an old basis gains a device no measured speed.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type MaxClaimBasisAge: Get<BlockNumberFor<Self>>;

		/// Read at the end of each block: whether the block had room left for the largest
		/// reveal (length and weight). A block without room does not count towards any reveal
		/// window ([`CongestedBlocks`]), so filling blocks delays reveals and never makes an
		/// honest one late.
		#[pallet::no_default_bounds]
		type BlockHadRoom: Get<bool>;

		/// Blocks after giving a job back (a release or a missed commit window) during which a
		/// device may not claim: claim-and-release cannot be repeated fast.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type ReleaseCooldown: Get<BlockNumberFor<Self>>;

		/// Block authors (BABE authorities). With more than one, a commitment's challenge waits
		/// for a block after blocks by two authors ([`ChallengeSeed::new_author`]), so that no
		/// single author knows it when the device commits.
		type AuthorityCount: Get<u32>;

		/// The index of a block's author among the authorities, from its digest
		/// (`pallet_babe::Pallet`).
		#[pallet::no_default_bounds]
		type BlockAuthor: frame_support::traits::FindAuthor<u32>;

		/// Blocks a device has to reveal after the challenge block.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type RevealWindow: Get<BlockNumberFor<Self>>;

		/// Blocks after a verified reveal of a job on supplied inputs during which anyone may
		/// prove an element of its output wrong ([`Pallet::dispute`]): time for the client to
		/// download the output and check all of it. The payment waits until the window closes.
		/// Zero settles such jobs at the reveal, as seeded ones. The genesis may set another
		/// ([`DisputeWindowBlocks`]).
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type DisputeWindow: Get<BlockNumberFor<Self>>;

		/// Burned from an accuser whose fraud proof shows nothing: a dispute costs the chain a
		/// verification, and harassing a provider must not be free.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type DisputeDeposit: Get<BalanceOf<Self>>;

		/// Blocks a settled `linear-i8` job's output stays available as the input of later jobs
		/// ([`LayerOutputs`]).
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type OutputRetention: Get<BlockNumberFor<Self>>;

		/// Longest a job may wait for a device.
		#[pallet::constant]
		#[pallet::no_default_bounds]
		type MaxJobLifetime: Get<BlockNumberFor<Self>>;

		/// Open jobs a device may hold (the devices pallet's `MaxActiveJobs`): bounds the
		/// per-device job index behind `jobs_for_device`.
		#[pallet::constant]
		type MaxJobsPerDevice: Get<u32>;

		/// Deadlines of each queue processed per block at most.
		#[pallet::constant]
		type MaxDeadlinesPerBlock: Get<u32>;

		/// Pool priority of a valid `claim`, `commit` or `reveal` (see [`CheckDeviceCall`]).
		#[pallet::constant]
		type DeviceCallPriority: Get<TransactionPriority>;

		/// Told about each settled job's verified work and burned fee (the rewards pallet).
		#[pallet::no_default_bounds]
		type OnWorkVerified: OnWorkVerified<Self::AccountId, BalanceOf<Self>>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;

		/// Registers eligible devices for benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		#[pallet::no_default]
		type BenchmarkHelper: BenchmarkHelper<
			Self::AccountId,
			BalanceOf<Self>,
			Self::DeviceSignature,
		>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A client's budget for an open job.
		#[codec(index = 0)]
		JobBudget,
		/// A client's storage deposit for an open job.
		#[codec(index = 1)]
		JobDeposit,
	}

	/// The id the next job gets.
	#[pallet::storage]
	pub type NextJobId<T> = StorageValue<_, JobId, ValueQuery>;

	/// Open jobs.
	#[pallet::storage]
	pub type Jobs<T: Config> = StorageMap<_, Twox64Concat, JobId, JobOf<T>>;

	/// Protocol deadlines (commit and reveal windows) falling at a block. An entry is checked
	/// against the job's state when its block comes, so stale entries cost one read.
	#[pallet::storage]
	pub type Deadlines<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<JobId, T::MaxDeadlinesPerBlock>,
		ValueQuery,
	>;

	/// Client deadlines (a submitted job's expiry) falling at a block; kept apart from
	/// [`Deadlines`] so that clients, who choose these blocks, cannot crowd protocol deadlines
	/// out.
	#[pallet::storage]
	pub type Expiries<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<JobId, T::MaxDeadlinesPerBlock>,
		ValueQuery,
	>;

	/// The open jobs assigned to each device, so that a device's jobs are read without scanning
	/// all jobs.
	#[pallet::storage]
	pub type DeviceJobs<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		BoundedVec<JobId, T::MaxJobsPerDevice>,
		ValueQuery,
	>;

	/// The randomness (and hash) of each recent block that challenges are drawn from, recorded
	/// when the next block starts and kept while a reveal may still use it:
	/// [`Config::RevealWindow`] blocks more, plus every congested block since.
	#[pallet::storage]
	pub type ChallengeRandomness<T: Config> =
		StorageMap<_, Twox64Concat, BlockNumberFor<T>, ChallengeSeed>;

	/// The oldest block whose [`ChallengeRandomness`] may still be kept: the cursor of its
	/// clean-up.
	#[pallet::storage]
	pub type OldestChallenge<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// The authors of the current block and of its parent (recorded when the block starts),
	/// for the next block's [`ChallengeSeed::new_author`].
	#[pallet::storage]
	pub type RecentAuthors<T: Config> = StorageValue<_, (Option<u32>, Option<u32>), ValueQuery>;

	/// Open data-availability demands, by device and job (see [`Pallet::demand_data`]): a
	/// device reads its own in one prefix.
	#[pallet::storage]
	pub type Demands<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Twox64Concat,
		JobId,
		Demand<BlockNumberFor<T>>,
	>;

	/// Devices that gave a job back, and the block until which they may not claim
	/// ([`Config::ReleaseCooldown`]).
	#[pallet::storage]
	pub type ClaimsPausedUntil<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, BlockNumberFor<T>>;

	/// Blocks since genesis that had no room left for the largest reveal
	/// ([`Config::BlockHadRoom`]). Reveal windows count only the other blocks: a job's reveal
	/// is due by its `reveal_by` plus the congested blocks since its challenge block.
	#[pallet::storage]
	pub type CongestedBlocks<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// Waiting jobs by kernel and price bucket
	/// ([`price_bucket`](proofgrid_primitives::job::price_bucket) of the price cap), so that a
	/// device reads only the jobs that can pay it, a page of ids at a time, never every job.
	#[pallet::storage]
	pub type OpenJobs<T: Config> =
		StorageDoubleMap<_, Twox64Concat, (Kernel, u8), Twox64Concat, JobId, (), OptionQuery>;

	/// How many waiting jobs each `(kernel, price bucket)` of [`OpenJobs`] holds; buckets
	/// without jobs have no entry, so a device learns which buckets to read in one page.
	#[pallet::storage]
	pub type OpenJobCount<T: Config> =
		StorageDoubleMap<_, Twox64Concat, Kernel, Twox64Concat, u8, u32, OptionQuery>;

	/// Protocol fees and call fees burned since genesis.
	#[pallet::storage]
	pub type FeesBurned<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

	/// Slashed collateral and forfeited claim deposits burned (not paid to clients) since
	/// genesis.
	#[pallet::storage]
	pub type SlashesBurned<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

	/// Outputs of settled `linear-i8` jobs that later jobs may take as their `A`, until their
	/// `kept_until` (then the deadline queue removes them).
	#[pallet::storage]
	pub type LayerOutputs<T: Config> =
		StorageMap<_, Twox64Concat, JobId, LayerOutput<T::AccountId, BlockNumberFor<T>>>;

	/// Blocks a verified job on supplied inputs waits for fraud proofs:
	/// [`Config::DisputeWindow`] unless the genesis set another (dev chains use a short one).
	#[pallet::storage]
	pub type DisputeWindowBlocks<T: Config> =
		StorageValue<_, BlockNumberFor<T>, ValueQuery, DefaultDisputeWindow<T>>;

	/// [`Config::DisputeWindow`].
	#[pallet::type_value]
	pub fn DefaultDisputeWindow<T: Config>() -> BlockNumberFor<T> {
		T::DisputeWindow::get()
	}

	/// Blocks a device waits to claim after giving a job back: [`Config::ReleaseCooldown`]
	/// unless the genesis set another (dev chains use a short one).
	#[pallet::storage]
	pub type ReleaseCooldownBlocks<T: Config> =
		StorageValue<_, BlockNumberFor<T>, ValueQuery, DefaultReleaseCooldown<T>>;

	/// [`Config::ReleaseCooldown`].
	#[pallet::type_value]
	pub fn DefaultReleaseCooldown<T: Config>() -> BlockNumberFor<T> {
		T::ReleaseCooldown::get()
	}

	/// Genesis: the dispute window (dev chains use a short one).
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Blocks a verified job waits for fraud proofs; [`Config::DisputeWindow`] if `None`.
		pub dispute_window: Option<BlockNumberFor<T>>,
		/// Blocks a device waits to claim after giving a job back; [`Config::ReleaseCooldown`]
		/// if `None`.
		pub release_cooldown: Option<BlockNumberFor<T>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			if let Some(window) = self.dispute_window {
				DisputeWindowBlocks::<T>::put(window);
			}
			if let Some(cooldown) = self.release_cooldown {
				ReleaseCooldownBlocks::<T>::put(cooldown);
			}
		}
	}

	/// Events of the jobs pallet.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A client posted a job; its budget, storage deposit and call fee were held.
		JobSubmitted {
			job: JobId,
			client: T::AccountId,
			units: u64,
			budget: BalanceOf<T>,
			deposit: BalanceOf<T>,
			call_fee: BalanceOf<T>,
			deadline: BlockNumberFor<T>,
		},
		/// The client withdrew an unassigned job; its budget and deposit were released.
		JobCancelled { job: JobId },
		/// A device claimed a job and locked `collateral` from its bond; the client's call fee
		/// (`call_fee_burned`, zero on a re-claim) was burned.
		JobAssigned {
			job: JobId,
			device: T::AccountId,
			price: BalanceOf<T>,
			collateral: BalanceOf<T>,
			call_fee_burned: BalanceOf<T>,
			commit_by: BlockNumberFor<T>,
		},
		/// The device missed its commit window and `forfeited` that much of its collateral
		/// (burned); it may not claim this job again, and the job waits for another device.
		JobUnassigned { job: JobId, device: T::AccountId, forfeited: BalanceOf<T> },
		/// The device committed the output's root.
		JobCommitted {
			job: JobId,
			root: H256,
			challenge_block: BlockNumberFor<T>,
			reveal_by: BlockNumberFor<T>,
		},
		/// The proof checked out: the provider was paid, the protocol fee burned, the client
		/// got the rest back.
		JobSettled {
			job: JobId,
			device: T::AccountId,
			provider: T::AccountId,
			payment: BalanceOf<T>,
			fee_burned: BalanceOf<T>,
			refund: BalanceOf<T>,
		},
		/// The job failed: the client got its budget back and `compensation` (at most the call
		/// fee it paid) from the device's slashed collateral; the rest of the slash was burned.
		JobFailed {
			job: JobId,
			device: T::AccountId,
			reason: FailureReason,
			slashed: BalanceOf<T>,
			compensation: BalanceOf<T>,
		},
		/// Nobody did the job in time; the budget and deposit were released.
		JobExpired { job: JobId },
		/// The reveal of a job on supplied inputs checked out: its client may download and check
		/// the output, and anyone may prove an element wrong (`dispute`), until `dispute_until`;
		/// then the job settles.
		JobVerified { job: JobId, device: T::AccountId, dispute_until: BlockNumberFor<T> },
		/// A fraud proof did not show the output wrong (`reason` says why): the accuser's
		/// `deposit_burned` was burned and the job goes on.
		DisputeRejected {
			job: JobId,
			accuser: T::AccountId,
			reason: DispatchError,
			deposit_burned: BalanceOf<T>,
		},
		/// The client of verified job `job` demanded that its device publish the leaves of
		/// `elements` on chain by `answer_by` (plus congested blocks).
		DataDemanded {
			job: JobId,
			device: T::AccountId,
			elements: proofgrid_primitives::job::DemandedElements,
			answer_by: BlockNumberFor<T>,
		},
		/// The device published the demanded leaves (values and paths, in the demand's order);
		/// fraud proofs are taken until `dispute_until`.
		DataPublished {
			job: JobId,
			elements: proofgrid_primitives::job::DemandedElements,
			leaves: proofgrid_primitives::job::DataAnswer,
			dispute_until: BlockNumberFor<T>,
		},
		/// The device gave a job on supplied inputs back; it may not claim the job again, and
		/// the job waits for another device. Free (`forfeited` zero) unless the client had
		/// confirmed the inputs' arrival; then `forfeited` of its collateral repaid the client's
		/// call fee, the rest burned.
		JobReleased { job: JobId, device: T::AccountId, forfeited: BalanceOf<T> },
		/// The client showed the assigned device's receipt for the job's inputs: they arrived.
		InputsReceived { job: JobId, device: T::AccountId },
	}

	/// Errors of the jobs pallet.
	#[pallet::error]
	pub enum Error<T> {
		/// The GEMM shape is empty or too large.
		InvalidShape,
		/// The job is larger than `MaxWorkUnits`.
		TooMuchWork,
		/// The price cap is below `MinPricePerUnit`.
		PriceTooLow,
		/// `units × price_cap` overflows.
		Overflow,
		/// The deadline is not in the future or lies beyond `MaxJobLifetime`.
		BadDeadline,
		/// No open job has this id.
		UnknownJob,
		/// The caller is not a registered device.
		UnknownDevice,
		/// Only the job's client may do this.
		NotClient,
		/// The job is not in the state this call needs.
		WrongState,
		/// The caller is not the device assigned to this job.
		NotAssignedDevice,
		/// The job's deadline has passed; it can no longer be claimed.
		JobExpired,
		/// This device let its commit window on this job lapse before; it may not claim it again.
		AbandonedBefore,
		/// At the throughput it advertises, the device would need more than `MaxCommitWindow`.
		TooSlowForJob,
		/// The commit window has passed.
		CommitTooLate,
		/// The challenge block's randomness is not on chain yet (it is recorded when the block
		/// after the challenge block starts).
		ChallengeNotReady,
		/// The reveal answers the challenge of another block than the challenge block on this
		/// chain (it was computed on another fork). Nothing happens: reveal again for this one.
		WrongChallengeBlock,
		/// The reveal window has passed.
		RevealTooLate,
		/// The witness inner dimension is not the job's.
		WrongWitness,
		/// None of the job's deadlines has passed: there is nothing to expire.
		NotDue,
		/// The job is not open to disputes: it is not a job on supplied inputs whose reveal
		/// checked out.
		NotDisputable,
		/// The job's dispute window has closed: it is settled (or about to be).
		DisputeWindowClosed,
		/// The accuser cannot pay the [`Config::DisputeDeposit`] a refused fraud proof costs.
		CannotPayDisputeDeposit,
		/// The device holds `MaxJobsPerDevice` open jobs already.
		TooManyJobs,
		/// The supplied inputs' commitments do not make the job's shape (or `A`'s rows and `B`'s
		/// columns differ in length).
		InputsMismatch,
		/// An input's URL is not an `http://` or `https://` URL with a host.
		BadInputSource,
		/// The job's reveal would be larger than the chain admits (`MaxRevealBytes`): use a
		/// smaller inner dimension `k`.
		RevealTooLarge,
		/// The reveal is of another kind than the job's output ([`OutputKind`]): a seeded job
		/// takes [`Reveal::Seeded`], one on supplied inputs [`Reveal::Supplied`], a layer
		/// [`Reveal::Layer`]. Nothing happens.
		WrongRevealKind,
		/// Only jobs on supplied inputs can be released, and only `InputWindow` blocks after
		/// their claim (at any time once their inputs' arrival is confirmed).
		CannotRelease,
		/// The receipt is not the assigned device's signature of
		/// [`inputs_receipt_message`](proofgrid_primitives::inputs::inputs_receipt_message) for
		/// this chain, job and device.
		BadReceipt,
		/// The inputs' arrival is confirmed already.
		InputsAlreadyReceived,
		/// The sample count of a job on supplied inputs is below the verifier's minimum or above
		/// [`MAX_SUPPLIED_SAMPLES`](proofgrid_primitives::job::MAX_SUPPLIED_SAMPLES).
		BadSampleCount,
		/// The job's kernel does not take its inputs: `gemm-i8` takes seeded or supplied
		/// matrices, `linear-i8` a layer ([`JobInputs::Layer`]).
		KernelMismatch,
		/// The layer's requantization is not usable (a multiplier that is not positive, or a
		/// shift above `MAX_SHIFT`).
		BadRequant,
		/// A layer's output rows would be longer than a lane (`n` above [`MAX_K`](proofgrid_primitives::gemm::MAX_K)).
		LayerTooWide,
		/// The earlier job named as `A` has no output on chain: it is not a settled `linear-i8`
		/// job, or its output is past `OutputRetention`.
		UnknownChainedOutput,
		/// `A`'s commitment is not the output of the earlier job it names.
		ChainedInputMismatch,
		/// The claim's basis is not one of this chain's last `MaxClaimBasisAge` blocks (it is on
		/// another fork, or too old). Nothing happens: claim again naming a recent block.
		BadClaimBasis,
		/// The device gave a job back less than `ReleaseCooldown` blocks ago: it may not claim
		/// yet.
		ClaimsPaused,
		/// A data-availability demand names no element, an element outside the output, or a job
		/// that is not a verified GEMM job on supplied inputs in its dispute window.
		BadDemand,
		/// The job had its data-availability demand already (one per job).
		DemandPending,
		/// There is no open data-availability demand on this job for this device.
		NoDemand,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::record_challenge_randomness(now);
			let mut count = 0u32;
			for job in Deadlines::<T>::take(now).into_iter().chain(Expiries::<T>::take(now)) {
				Self::process_deadline(job, now);
				count = count.saturating_add(1);
			}
			// A deadline may settle a verified job, which tells `OnWorkVerified`; `on_finalize`
			// reads the block's fullness and may count it as congested, and the randomness
			// clean-up takes up to two more entries.
			T::WeightInfo::on_initialize(count)
				.saturating_add(
					<T::OnWorkVerified as OnWorkVerified<_, _>>::weight()
						.saturating_mul(count.into()),
				)
				.saturating_add(T::DbWeight::get().reads_writes(5, 4))
		}

		fn on_finalize(_now: BlockNumberFor<T>) {
			if !T::BlockHadRoom::get() {
				CongestedBlocks::<T>::mutate(|n| *n = n.saturating_add(1));
			}
		}

		fn integrity_test() {
			assert!(
				!T::ChallengeDelay::get().is_zero(),
				"the challenge must come from a block after the commitment"
			);
			assert!(T::MinWorkUnits::get() > 0, "a job is at least one work unit");
			assert!(T::OpsPerUnit::get() > 0, "a work unit is some operations");
			assert!(T::MillisecsPerBlock::get() > 0, "blocks take time");
			assert!(T::InputBytesPerBlock::get() > 0, "uploads take time");
			assert!(
				T::ClaimDeposit::get() <= T::MinCollateral::get(),
				"the claim deposit is part of the collateral"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Post a job: hold `units × price_cap`, the [`Config::JobDeposit`] and the call fee
		/// from the caller. The job waits for a device until block `deadline` at the latest.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::submit_job())]
		pub fn submit_job(
			origin: OriginFor<T>,
			spec: JobSpec,
			price_cap: BalanceOf<T>,
			deadline: BlockNumberFor<T>,
		) -> DispatchResult {
			let client = ensure_signed(origin)?;
			let mut spec = spec;
			spec.shape.validate().map_err(|_| Error::<T>::InvalidShape)?;
			Self::check_inputs(&spec)?;
			ensure!(
				T::Verifier::reveal_bytes(&spec) <= T::Verifier::max_reveal_bytes(),
				Error::<T>::RevealTooLarge
			);
			// A job smaller than `MinWorkUnits` is billed as that much: a tiny layer is still
			// worth running, and costs what the smallest job costs.
			let units = Self::work_units(&spec.shape).max(T::MinWorkUnits::get());
			ensure!(units <= T::MaxWorkUnits::get(), Error::<T>::TooMuchWork);
			ensure!(price_cap >= T::MinPricePerUnit::get(), Error::<T>::PriceTooLow);
			let budget = price_cap
				.checked_mul(&BalanceOf::<T>::unique_saturated_from(units))
				.ok_or(Error::<T>::Overflow)?;
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(
				deadline > now && deadline <= now.saturating_add(T::MaxJobLifetime::get()),
				Error::<T>::BadDeadline
			);

			let job = NextJobId::<T>::get();
			let deposit = T::JobDeposit::get();
			let call_fee = T::CallFee::convert(Self::device_calls_weight(&spec));
			T::Currency::hold(&HoldReason::JobBudget.into(), &client, budget)?;
			T::Currency::hold(
				&HoldReason::JobDeposit.into(),
				&client,
				deposit.saturating_add(call_fee),
			)?;
			// A full queue only means the expiry waits for `expire` or a claim attempt.
			Self::schedule(Queue::Client, deadline, job);
			if let JobInputs::Seeded { seed } = &mut spec.inputs {
				*seed = effective_seed(seed, job, &client.encode());
			}
			NextJobId::<T>::put(job.saturating_add(1));
			let info = Job {
				client: client.clone(),
				spec,
				price_cap,
				units,
				budget,
				deposit,
				call_fee,
				fee_paid: Zero::zero(),
				deadline,
				abandoned: Default::default(),
				status: JobStatus::Submitted,
			};
			Self::list_open(job, &info);
			Jobs::<T>::insert(job, info);
			Self::deposit_event(Event::JobSubmitted {
				job,
				client,
				units,
				budget,
				deposit,
				call_fee,
				deadline,
			});
			Ok(())
		}

		/// Withdraw a job no device has claimed yet; its budget and deposit are released.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::cancel())]
		pub fn cancel(origin: OriginFor<T>, job: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let info = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
			ensure!(info.client == who, Error::<T>::NotClient);
			ensure!(info.status == JobStatus::Submitted, Error::<T>::WrongState);
			Self::release_client_funds(&info);
			Self::unlist_open(job, &info);
			Jobs::<T>::remove(job);
			Self::deposit_event(Event::JobCancelled { job });
			Ok(())
		}

		/// Signed by a device key: take a waiting job, locking its collateral from the device's
		/// free bond. Free, and admitted to the pool only when it would succeed; a device has one
		/// claim in the pool at a time.
		///
		/// A seeded job's inputs are bound to the hash of the claim's *basis*: the block
		/// `basis = (number, hash)` names, which must be one of this chain's last
		/// [`Config::MaxClaimBasisAge`] blocks ([`Error::BadClaimBasis`] otherwise, without
		/// penalty), or the claim's parent if `None`. A named basis keeps the inputs the device
		/// computes the same when a reorg re-includes the claim under another parent.
		#[pallet::call_index(2)]
		#[pallet::weight((T::WeightInfo::claim(), DispatchClass::Operational, Pays::No))]
		pub fn claim(
			origin: OriginFor<T>,
			job: JobId,
			basis: Option<(BlockNumberFor<T>, H256)>,
		) -> DispatchResult {
			let device = ensure_signed(origin)?;
			let (mut info, plan) = Self::check_claim(&device, job)?;
			let basis = Self::check_claim_basis(basis)?;
			DeviceJobs::<T>::try_mutate(&device, |jobs| jobs.try_push(job))
				.map_err(|_| Error::<T>::TooManyJobs)?;
			T::Devices::lock_collateral(&device, plan.collateral)?;
			Self::unlist_open(job, &info);
			let call_fee_burned = Self::burn_call_fee(&mut info);
			if let JobInputs::Seeded { seed } = &mut info.spec.inputs {
				*seed = claim_seed(seed, &basis.0);
			}
			Self::schedule(Queue::Protocol, plan.commit_by.saturating_add(One::one()), job);
			info.status = JobStatus::Assigned {
				device: device.clone(),
				price: plan.price,
				collateral: plan.collateral,
				claimed_at: frame_system::Pallet::<T>::block_number(),
				commit_by: plan.commit_by,
				inputs_received: false,
			};
			Jobs::<T>::insert(job, info);
			Self::deposit_event(Event::JobAssigned {
				job,
				device,
				price: plan.price,
				collateral: plan.collateral,
				call_fee_burned,
				commit_by: plan.commit_by,
			});
			Ok(())
		}

		/// Signed by the assigned device: commit the Merkle root of the whole output. Free, and
		/// admitted to the pool only when it would succeed.
		#[pallet::call_index(3)]
		#[pallet::weight((T::WeightInfo::commit(), DispatchClass::Operational, Pays::No))]
		pub fn commit(origin: OriginFor<T>, job: JobId, root: H256) -> DispatchResult {
			let device = ensure_signed(origin)?;
			let mut info = Self::check_commit(&device, job)?;
			let JobStatus::Assigned { device, price, collateral, claimed_at, .. } =
				info.status.clone()
			else {
				return Err(Error::<T>::WrongState.into());
			};
			let now = frame_system::Pallet::<T>::block_number();
			let challenge_block = now.saturating_add(T::ChallengeDelay::get());
			let reveal_by = challenge_block.saturating_add(T::RevealWindow::get());
			Self::schedule(Queue::Protocol, reveal_by.saturating_add(One::one()), job);
			info.status = JobStatus::Committed {
				device,
				price,
				collateral,
				claimed_at,
				committed_at: now,
				root,
				challenge_block,
				reveal_by,
			};
			Jobs::<T>::insert(job, info);
			Self::deposit_event(Event::JobCommitted { job, root, challenge_block, reveal_by });
			Ok(())
		}

		/// Signed by the assigned device: answer the challenge of block `challenge_hash` with
		/// the job's kind of [`Reveal`] — the Merkle paths of the challenged leaves of a seeded
		/// job; each challenged leaf with the row of `A` and column of `B` behind its element
		/// for a job on supplied inputs; each challenged element's output row, row of `A`,
		/// column of `W` and bias for a `linear-i8` layer. The chain checks the paths and
		/// recomputes the elements ([`Config::Verifier`]): a seeded job then settles; a job on
		/// supplied inputs or a layer settles at the end of its dispute window
		/// ([`Config::DisputeWindow`]; a layer's output then stays on chain for later layers,
		/// [`LayerOutputs`]). If they do not match, the job fails with a slash. A reveal for
		/// another block than this chain's challenge block changes nothing
		/// ([`Error::WrongChallengeBlock`]); one of another kind than the job's is refused.
		/// `k_dim_witness` must be the job's inner dimension; with the reveal's samples and rows
		/// it prices the verification. Free, and admitted to the pool only in the reveal window.
		#[pallet::call_index(4)]
		#[pallet::weight((
			T::WeightInfo::reveal()
				.saturating_add(T::Verifier::verify_weight(
					reveal.kind(),
					reveal.samples(),
					*k_dim_witness,
					reveal.row_len(),
				))
				.saturating_add(<T::OnWorkVerified as OnWorkVerified<_, _>>::weight()),
			DispatchClass::Operational,
			Pays::No
		))]
		pub fn reveal(
			origin: OriginFor<T>,
			job: JobId,
			challenge_hash: H256,
			reveal: Reveal,
			k_dim_witness: u32,
		) -> DispatchResult {
			let device = ensure_signed(origin)?;
			let (info, root, randomness) =
				Self::check_reveal(&device, job, &challenge_hash, k_dim_witness, reveal.kind())?;
			let verdict = T::Verifier::verify(job, &info.spec, &root, &randomness, &reveal);
			Self::conclude_reveal(job, info, verdict)
		}

		/// Anyone: enforce a deadline of `job` that has passed (expiry of a waiting job, a
		/// missed commit window, a missed reveal). Deadlines are enforced automatically when
		/// their block's queue had room; this is the fallback when it had not. Free when it
		/// enforces something; fails and pays otherwise.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::expire())]
		pub fn expire(origin: OriginFor<T>, job: JobId) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(Self::is_due(job, now)?, Error::<T>::NotDue);
			Self::process_deadline(job, now);
			Ok(Pays::No.into())
		}

		/// Signed by the assigned device of a job on supplied inputs, until it commits: give the
		/// job back. The collateral is unlocked, the device may not claim the job again (as for
		/// a missed window) nor any job for [`Config::ReleaseCooldown`], and the job waits for
		/// another device — or ends with a full refund once [`MAX_ABANDONS_PER_JOB`] devices
		/// gave it up.
		///
		/// - Before the client confirmed the inputs' arrival ([`Pallet::confirm_inputs`]), from
		///   [`Config::InputWindow`] blocks after the claim: free. The inputs did not arrive (no
		///   upload, an unreachable URL, bytes that do not match the commitment) and the chain
		///   cannot tell whose fault that is.
		/// - Once it confirmed them, at any time: the device forfeits, as for a missed commit
		///   window, the claim deposit or the call fee the client paid if that is more (at most
		///   the collateral), which repays the client's call fee; the rest is burned.
		///
		/// Free, and admitted to the pool only when it would succeed.
		#[pallet::call_index(7)]
		// A release after confirmed inputs forfeits part of the collateral: `expire`'s measured
		// slash bounds it.
		#[pallet::weight((
			T::WeightInfo::release().max(T::WeightInfo::expire()),
			DispatchClass::Operational,
			Pays::No
		))]
		pub fn release(origin: OriginFor<T>, job: JobId) -> DispatchResult {
			let device = ensure_signed(origin)?;
			let info = Self::check_release(&device, job)?;
			let JobStatus::Assigned { collateral, inputs_received, .. } = info.status else {
				return Err(Error::<T>::WrongState.into());
			};
			let why = if inputs_received { GiveBack::Released } else { GiveBack::NoInputs };
			Self::give_back(job, info, device, collateral, why);
			Ok(())
		}

		/// The client of an assigned job on supplied inputs: show that its inputs reached the
		/// device, with the device's `receipt` — its signature of
		/// [`inputs_receipt_message`](proofgrid_primitives::inputs::inputs_receipt_message)`
		/// (genesis, job, device)`, which its data service hands out once it holds every input.
		/// From then on the device's [`Pallet::release`] costs it what the job cost the client.
		#[pallet::call_index(13)]
		// Two reads, a write and an sr25519 verification: bounded by `cancel`'s measured weight
		// (five reads and writes, two hold releases), until it has a benchmark of its own.
		#[pallet::weight(T::WeightInfo::cancel())]
		pub fn confirm_inputs(
			origin: OriginFor<T>,
			job: JobId,
			receipt: T::DeviceSignature,
		) -> DispatchResult {
			let client = ensure_signed(origin)?;
			let mut info = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
			ensure!(info.client == client, Error::<T>::NotClient);
			let JobStatus::Assigned { device, inputs_received, .. } = &mut info.status else {
				return Err(Error::<T>::WrongState.into());
			};
			ensure!(!*inputs_received, Error::<T>::InputsAlreadyReceived);
			let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
			let message = proofgrid_primitives::inputs::inputs_receipt_message(
				genesis.as_ref().try_into().map_err(|_| Error::<T>::BadReceipt)?,
				job,
				device.encode().as_slice().try_into().map_err(|_| Error::<T>::BadReceipt)?,
			);
			ensure!(receipt.verify(&message[..], device), Error::<T>::BadReceipt);
			*inputs_received = true;
			let device = device.clone();
			Jobs::<T>::insert(job, info);
			Self::deposit_event(Event::InputsReceived { job, device });
			Ok(())
		}

		/// Anyone (the client, typically, after checking the whole output): prove an element of
		/// a verified job's output wrong, until the end of its dispute window. The
		/// [`Accusation`] names the element and gives what the chain needs to recompute it, each
		/// part with its Merkle path: its leaf and the row of `A` and column of `B` behind it
		/// for a GEMM; its output row, row of `A`, column of `W` and bias for a layer. If it is
		/// wrong the job fails as a failed reveal would: the device's collateral is slashed, the
		/// client refunded and compensated, nobody paid — and the call is free. If it is right
		/// (or the proof proves nothing) the accuser's [`Config::DisputeDeposit`] is burned and
		/// the job goes on. `k_dim_witness` must be the job's inner dimension; with the
		/// accusation's row it prices the verification.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::dispute().saturating_add(T::Verifier::verify_fraud_weight(
			accusation.kind(),
			*k_dim_witness,
			accusation.row_len(),
		)))]
		pub fn dispute(
			origin: OriginFor<T>,
			job: JobId,
			accusation: Accusation,
			k_dim_witness: u32,
		) -> DispatchResultWithPostInfo {
			let accuser = ensure_signed(origin)?;
			let (info, root) = Self::check_dispute(&accuser, job, k_dim_witness)?;
			let verdict = T::Verifier::verify_fraud(&info.spec, &root, &accusation);
			Self::judge(job, info, accuser, accusation.element(), verdict)
		}

		/// The client of a verified job on supplied inputs or `linear-i8` layer, within its
		/// dispute window: demand that the device publish on chain the leaves (a GEMM output's
		/// 4×4 tiles, a layer output's rows; values and Merkle paths) holding `elements` of the
		/// output, so that the client can prove an element wrong even if the device never
		/// served its output. The device must answer ([`Pallet::publish_data`]) within
		/// [`Config::RevealWindow`] blocks (congested blocks not counted), or the job fails as
		/// for a wrong result. One demand at a time; the settlement waits for the answer, and
		/// disputes are taken for a reveal window after it. One demand per job, so a provider's
		/// payment waits at most two reveal windows longer. The client pays for the answer's
		/// verification in this call's fee. `k_dim_witness` must be the job's `k` (for a layer,
		/// the larger of `k` and `n`, the length of the rows the answer hashes).
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::dispute().saturating_add(
			T::Verifier::verify_fraud_weight(OutputKind::Supplied, *k_dim_witness, 0)
				.max(T::Verifier::verify_fraud_weight(
					OutputKind::Layer,
					*k_dim_witness,
					*k_dim_witness
				))
				.saturating_mul(elements.len() as u64)
		))]
		pub fn demand_data(
			origin: OriginFor<T>,
			job: JobId,
			elements: proofgrid_primitives::job::DemandedElements,
			k_dim_witness: u32,
		) -> DispatchResult {
			let client = ensure_signed(origin)?;
			let (device, answer_by) = Self::check_demand(&client, job, &elements, k_dim_witness)?;
			Demands::<T>::insert(
				&device,
				job,
				Demand {
					elements: elements.clone(),
					answer_by,
					congested_before: CongestedBlocks::<T>::get(),
					answered: false,
				},
			);
			Self::schedule(Queue::Protocol, answer_by.saturating_add(One::one()), job);
			Self::deposit_event(Event::DataDemanded { job, device, elements, answer_by });
			Ok(())
		}

		/// Signed by the device of a job with an open data-availability demand: publish the
		/// leaf of each demanded element with its path to the committed root, in the demand's
		/// order. If they prove against the root, the demand is met and fraud proofs are taken
		/// for [`Config::RevealWindow`] blocks more; otherwise the job fails as for a wrong
		/// result. Free, and admitted to the pool only while the demand is open.
		#[pallet::call_index(12)]
		#[pallet::weight((
			T::WeightInfo::reveal().saturating_add(Pallet::<T>::answer_weight(leaves)),
			DispatchClass::Operational,
			Pays::No
		))]
		pub fn publish_data(
			origin: OriginFor<T>,
			job: JobId,
			leaves: proofgrid_primitives::job::DataAnswer,
		) -> DispatchResult {
			let device = ensure_signed(origin)?;
			let (info, demand) = Self::check_publish(&device, job)?;
			Self::conclude_demand(job, info, device, demand, leaves)
		}
	}
}
