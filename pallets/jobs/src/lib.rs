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

mod calls;
mod errors;
mod events;
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
use frame_support::pallet_macros::import_section;
use impls::{GiveBack, Queue};
pub use types::*;
pub use weights::WeightInfo;

#[import_section(events::events)]
#[import_section(errors::errors)]
#[import_section(calls::calls)]
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
			/// A reveal weighs at most 200 ms: 10% of a 2-second block.
			pub const TenthOfTwoSeconds: frame_support::weights::Weight =
				frame_support::weights::Weight::from_parts(200_000_000_000, u64::MAX);
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
			type MaxRevealWeight = TenthOfTwoSeconds;
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

		/// The registered models model jobs run (`pallet-models`): a model job holds its model
		/// from submission to its end, so that it cannot be removed under the job.
		#[pallet::no_default]
		type Models: proofgrid_primitives::traits::ModelRegistry;

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

		/// The heaviest reveal call a job may ask for, its verification included: at most the
		/// share of a block the runtime keeps for one reveal (`BlockHadRoom`), so that every
		/// admitted job's reveal fits a block that counts towards its window. A model job's
		/// reveal is priced by its plan's widest layer, so a job can ask for more.
		#[pallet::constant]
		type MaxRevealWeight: Get<Weight>;

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
}
