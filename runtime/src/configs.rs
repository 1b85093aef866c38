//! Each pallet's `Config` for the ProofGrid runtime, with the chain's parameters.

use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::{ConstU128, ConstU32, ConstU64, ConstU8, VariantCountOf},
	weights::{
		constants::{ParityDbWeight, WEIGHT_REF_TIME_PER_SECOND},
		ConstantMultiplier, Weight,
	},
};
use frame_system::limits::{BlockLength, BlockWeights};
use pallet_transaction_payment::{FungibleAdapter, Multiplier, TargetedFeeAdjustment};
use sp_runtime::{
	traits::{Bounded, One},
	FixedPointNumber, Perbill, Perquintill,
};
use sp_version::RuntimeVersion;

use super::{
	AccountId, Babe, Balance, Balances, Block, BlockNumber, ComputeProof, Devices, Hash, Nonce,
	PalletInfo, Rewards, Runtime, RuntimeCall, RuntimeEvent, RuntimeFreezeReason,
	RuntimeHoldReason, RuntimeOrigin, RuntimeTask, Signature, System, DAYS, EXISTENTIAL_DEPOSIT,
	GRID, HOURS, MILLI_GRID, MILLI_SECS_PER_BLOCK, MINUTES, SLOT_DURATION, VERSION,
};

/// Share of a block's weight that normal (user) transactions may fill; the rest is kept for
/// operational calls and inherents.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

/// Largest encoded block, in bytes (the node's block builder is told the same limit).
pub const MAX_BLOCK_LENGTH: u32 = 5 * 1024 * 1024;

parameter_types! {
	pub const BlockHashCount: BlockNumber = 2400;
	pub const Version: RuntimeVersion = VERSION;

	/// Two seconds of compute per block (of the 6 s slot), with a proof size that suits a
	/// solochain (no PoV limit applies, but storage proofs stay bounded).
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
		Weight::from_parts(2u64 * WEIGHT_REF_TIME_PER_SECOND, u64::MAX),
		NORMAL_DISPATCH_RATIO,
	);
	/// 5 MiB blocks, 75% of them for normal transactions.
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(MAX_BLOCK_LENGTH)
		.modify_max_length_for_class(DispatchClass::Normal, |max| {
			*max = NORMAL_DISPATCH_RATIO * MAX_BLOCK_LENGTH
		})
		.build();
	/// Generic Substrate prefix (42) until ProofGrid registers its own.
	pub const SS58Prefix: u8 = 42;
}

/// The default solochain configuration, with ProofGrid's types and limits.
#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	// The node stores state in ParityDB only: its reference weights (8 µs a read, 50 µs a
	// write, from Parity's ParityDB benchmarks on reference hardware). Measuring them here
	// would take `benchmark storage` from frame-benchmarking-cli inside the node, which this
	// project keeps out of it (docs/WEIGHTS.md).
	type DbWeight = ParityDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

parameter_types! {
	/// Slots per BABE epoch: one hour. The authorities never change between epochs yet
	/// ([`pallet_babe::SameAuthoritiesForever`]); the epoch randomness does.
	pub const EpochDuration: u64 = HOURS as u64;
	/// BABE's target time between blocks: the slot duration.
	pub const ExpectedBlockTime: u64 = MILLI_SECS_PER_BLOCK;
}

/// BABE at genesis: a primary slot leader (VRF below a threshold) in about 1 slot of 4, and a
/// secondary author with a VRF output in every other slot. Secondary *VRF* slots, not plain
/// ones: every block then carries a VRF output fixed by its author's key and slot, which is
/// what challenges are drawn from (see `pallet_jobs::Config::BlockRandomness`).
pub const BABE_GENESIS_EPOCH_CONFIG: sp_consensus_babe::BabeEpochConfiguration =
	sp_consensus_babe::BabeEpochConfiguration {
		c: (1, 4),
		allowed_slots: sp_consensus_babe::AllowedSlots::PrimaryAndSecondaryVRFSlots,
	};

impl pallet_babe::Config for Runtime {
	type EpochDuration = EpochDuration;
	type ExpectedBlockTime = ExpectedBlockTime;
	type EpochChangeTrigger = pallet_babe::SameAuthoritiesForever;
	type DisabledValidators = ();
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<32>;
	type MaxNominators = ConstU32<0>;
	// No session/staking pallets: equivocations are not reported on chain yet.
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<32>;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = ConstU64<0>;
	// No session/staking pallets: equivocations are not reported on chain yet.
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

impl pallet_timestamp::Config for Runtime {
	/// A timestamp: milliseconds since the unix epoch.
	type Moment = u64;
	type OnTimestampSet = Babe;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = ();
}

impl pallet_balances::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type Balance = Balance;
	// Dust from reaped accounts is burned (it is below the existential deposit).
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type ReserveIdentifier = [u8; 8];
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ConstU32<50>;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type DoneSlashHandler = ();
}

/// Planck per picosecond of weight: a full block's normal share (1.5 s) costs 150 GRID at the
/// base multiplier, a transfer about 0.02 GRID.
pub const WEIGHT_FEE: Balance = 100;
/// Planck per byte: a block's normal share of length (3.75 MiB) costs about 3.9 GRID.
pub const LENGTH_FEE: Balance = 1_000_000;

parameter_types! {
	/// Fees rise while blocks are fuller than this, and fall while they are emptier.
	pub const TargetBlockFullness: Perquintill = Perquintill::from_percent(25);
	/// How fast: a full block raises the multiplier by ~0.3%, so a full hour (600 blocks)
	/// multiplies fees by ~6, and empty blocks bring them back down by ~0.1% each.
	pub AdjustmentVariable: Multiplier = Multiplier::saturating_from_rational(1, 250);
	/// Fees never fall below the base: stuffing blocks always costs real money.
	pub MinimumMultiplier: Multiplier = Multiplier::one();
	pub MaximumMultiplier: Multiplier = Bounded::max_value();
}

/// Dynamic fees: the multiplier follows block fullness (see [`TargetBlockFullness`]).
pub type SlowAdjustingFeeUpdate<R> = TargetedFeeAdjustment<
	R,
	TargetBlockFullness,
	AdjustmentVariable,
	MinimumMultiplier,
	MaximumMultiplier,
>;

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	// Transaction fees are burned.
	type OnChargeTransaction = FungibleAdapter<Balances, ()>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightToFee = ConstantMultiplier<Balance, ConstU128<WEIGHT_FEE>>;
	type LengthToFee = ConstantMultiplier<Balance, ConstU128<LENGTH_FEE>>;
	type FeeMultiplierUpdate = SlowAdjustingFeeUpdate<Self>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Bond held from the owner for each registered device, and the least a device keeps to
	/// take work.
	pub const DeviceBond: Balance = 100 * GRID;
	/// Work is never sold below a thousandth of a GRID per unit (10⁹ operations).
	pub const MinPricePerUnit: Balance = MILLI_GRID;
	/// A device's heartbeat is free at most once a minute…
	pub const DeviceMinHeartbeatInterval: BlockNumber = MINUTES;
	/// …and a device silent for ten minutes gets no new work.
	pub const DeviceHeartbeatTimeout: BlockNumber = 10 * MINUTES;
	/// Seven days between `deregister` and `withdraw_bond`: long enough for late faults to be
	/// slashed. A storage parameter (key `:DeviceUnbondingPeriod:`), so root can shorten it on
	/// dev and test chains with `system.set_storage`.
	pub storage DeviceUnbondingPeriod: BlockNumber = 7 * DAYS;
}

impl pallet_devices::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type DeviceSignature = Signature;
	type DeviceBond = DeviceBond;
	type MinPricePerUnit = MinPricePerUnit;
	type MaxActiveJobs = ConstU32<MAX_ACTIVE_JOBS>;
	type MaxDevicesPerOwner = ConstU32<64>;
	type HeartbeatTimeout = DeviceHeartbeatTimeout;
	type MinHeartbeatInterval = DeviceMinHeartbeatInterval;
	type UnbondingPeriod = DeviceUnbondingPeriod;
	type WeightInfo = pallet_devices::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = pallet_devices::Sr25519BenchmarkHelper;
}

/// Open jobs a device may hold at once (the devices pallet enforces it; the jobs pallet's
/// per-device index is bounded by it).
pub const MAX_ACTIVE_JOBS: u32 = 4;

/// The treasury's account: receives the treasury share of each era's emission.
pub const TREASURY_PALLET_ID: frame_support::PalletId = frame_support::PalletId(*b"pg/trsry");

parameter_types! {
	pub TreasuryAccount: AccountId =
		sp_runtime::traits::AccountIdConversion::into_account_truncating(&TREASURY_PALLET_ID);
	/// 5% of each payment is burned: the fee that bounds token rewards.
	pub const ProtocolFee: Perbill = Perbill::from_percent(5);
	/// A claim locks at least 10 GRID of the device's bond…
	pub const MinCollateral: Balance = 10 * GRID;
	/// …of which a missed commit window forfeits 1 GRID.
	pub const ClaimDeposit: Balance = GRID;
	/// Storage deposit of an open job, returned when it ends.
	pub const JobDeposit: Balance = GRID;
}

/// Whether the block being finalized has room left for the largest reveal: its length leaves
/// `MaxRevealBytes` (plus a margin for the call's other fields) and its weight leaves the
/// operational share a reveal may take ([`MAX_REVEAL_WEIGHT_SHARE`]). A block without room
/// does not count towards reveal windows (`pallet_jobs::CongestedBlocks`).
pub struct RevealRoom;
impl frame_support::traits::Get<bool> for RevealRoom {
	fn get() -> bool {
		use frame_support::traits::Get;
		let reveal = <<Runtime as pallet_compute_proof::Config>::MaxRevealBytes as Get<u32>>::get()
			.saturating_add(REVEAL_LENGTH_MARGIN);
		let length = System::block_size();
		let weights = RuntimeBlockWeights::get();
		let used = System::block_weight().total().ref_time();
		let room = weights.max_block.ref_time().saturating_sub(used);
		length.saturating_add(reveal) <= MAX_BLOCK_LENGTH
			&& room >= MAX_REVEAL_WEIGHT_SHARE * weights.max_block.ref_time()
	}
}

/// The number of BABE authorities.
pub struct BabeAuthorityCount;
impl frame_support::traits::Get<u32> for BabeAuthorityCount {
	fn get() -> u32 {
		pallet_babe::Authorities::<Runtime>::decode_len().unwrap_or(0) as u32
	}
}

/// The largest reveal's samples, in bytes (`pallet_compute_proof::Config::MaxRevealBytes`).
pub const MAX_REVEAL_BYTES: u32 = 1 << 20;

/// Bytes of a reveal extrinsic besides its samples: signature, extensions, job id, hashes.
pub const REVEAL_LENGTH_MARGIN: u32 = 1_024;

/// Largest share of a block's weight one reveal may take; the market tests check that every
/// reveal a job can ask for fits in it.
pub const MAX_REVEAL_WEIGHT_SHARE: Perbill = Perbill::from_percent(10);

parameter_types! {
	/// The heaviest reveal a job may ask for: the share of a block kept for one.
	pub MaxRevealWeight: Weight = Weight::from_parts(
		MAX_REVEAL_WEIGHT_SHARE * RuntimeBlockWeights::get().max_block.ref_time(),
		u64::MAX,
	);
}

/// Prices a job's device calls like transactions of that weight, at the current multiplier:
/// the client pays at submission for the claim, commit and reveal its device will send free.
pub struct DeviceCallFee;
impl sp_runtime::traits::Convert<Weight, Balance> for DeviceCallFee {
	fn convert(weight: Weight) -> Balance {
		let fee = pallet_transaction_payment::Pallet::<Runtime>::weight_to_fee(weight);
		pallet_transaction_payment::NextFeeMultiplier::<Runtime>::get().saturating_mul_int(fee)
	}
}

impl pallet_compute_proof::Config for Runtime {
	/// k = 64: a provider who faked 20% of its output passes with probability 6.3e-7.
	type Samples = ConstU32<64>;
	/// A supplied job asks for 32 to 256 samples (64 unless its client chooses): at 32 a
	/// device that got 20% of the output wrong still passes with probability 7.9e-4, at 64 with
	/// 6.3e-7. More samples catch rarer errors; the client pays for their verification.
	type MinSuppliedSamples = ConstU32<32>;
	type DefaultSuppliedSamples = ConstU32<64>;
	/// 1 MiB: a fifth of a block's length, so a few reveals fit in every block. A seeded
	/// reveal is ~41 KB at most; a supplied one ~2k bytes per sample, so with 64 samples `k` is
	/// at most 7 452 for a 4096² output (a 4096³ job's reveal is 619 KB).
	type MaxRevealBytes = ConstU32<MAX_REVEAL_BYTES>;
	type Models = crate::Models;
	type WeightInfo = pallet_compute_proof::weights::SubstrateWeight<Runtime>;
}

impl pallet_jobs::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Devices = Devices;
	type Verifier = ComputeProof;
	type Models = crate::Models;
	type DeviceSignature = Signature;
	type ProtocolFee = ProtocolFee;
	type MinPricePerUnit = MinPricePerUnit;
	type OpsPerUnit = ConstU64<{ proofgrid_primitives::gemm::OPS_PER_UNIT as u64 }>;
	/// A job is at least one work unit (10⁹ operations, e.g. 1024×1024×512).
	type MinWorkUnits = ConstU64<1>;
	/// One peta-operation per job at most.
	type MaxWorkUnits = ConstU64<1_000_000>;
	type MinCollateral = MinCollateral;
	/// Collateral is twice what the device is paid for the job (or MinCollateral).
	type CollateralPercent = ConstU32<200>;
	type ClaimDeposit = ClaimDeposit;
	type CallFee = DeviceCallFee;
	type MaxRevealWeight = MaxRevealWeight;
	/// Hashing a 64-byte leaf into the tree costs about as much as 4 096 int8 operations.
	type OpsPerLeaf = ConstU64<4_096>;
	type JobDeposit = JobDeposit;
	/// Two minutes on top of the compute time the device's advertised speed promises…
	type BaseCommitWindow = ConstU32<{ 2 * MINUTES }>;
	/// …and never more than an hour: slower devices cannot take the job.
	type MaxCommitWindow = ConstU32<HOURS>;
	type MillisecsPerBlock = ConstU64<MILLI_SECS_PER_BLOCK>;
	type ChallengeDelay = ConstU32<1>;
	type BlockRandomness = pallet_babe::ParentBlockRandomness<Runtime>;
	/// Reveals cannot be priced out (free, operational, top priority), so two minutes only
	/// has to cover a worker restart; a longer window would only delay settlement and slashes.
	type RevealWindow = ConstU32<{ 2 * MINUTES }>;
	/// Ten minutes for a client to download a verified output and check all of it (Freivalds'
	/// check of a 4096² output takes well under a second; the download takes the rest).
	type DisputeWindow = ConstU32<{ 10 * MINUTES }>;
	/// A refused fraud proof burns 1 GRID: over eight times the fee of the largest proof
	/// (0.12 GRID at k = 4096, mostly its length), on top of that fee.
	type DisputeDeposit = ConstU128<GRID>;
	/// A day: the next layer of a network is submitted minutes after the last one settles.
	type OutputRetention = ConstU32<DAYS>;
	/// A client uploads its inputs right after the claim; a device whose inputs have not come
	/// a minute later may give the job back without penalty.
	type InputWindow = ConstU32<MINUTES>;
	/// …plus a block per 37.5 MB of `A` and `B`: 50 Mbit/s, half the 100 Mbit/s a client on an
	/// ordinary link gets, so 1 GiB of inputs adds 29 blocks (~3 minutes) to the input and
	/// commit windows.
	type InputBytesPerBlock = ConstU64<37_500_000>;
	/// A claim names one of the last 8 blocks (48 s) as its basis: the worker names a block a
	/// little below its best, so a re-included claim keeps its inputs.
	type MaxClaimBasisAge = ConstU32<8>;
	type BlockHadRoom = RevealRoom;
	/// A device that gave a job back waits ten minutes before claiming again.
	type ReleaseCooldown = ConstU32<{ 10 * MINUTES }>;
	type AuthorityCount = BabeAuthorityCount;
	type BlockAuthor = Babe;
	type MaxJobLifetime = ConstU32<DAYS>;
	type MaxJobsPerDevice = ConstU32<MAX_ACTIVE_JOBS>;
	type MaxDeadlinesPerBlock = ConstU32<256>;
	/// The highest: a transfer can at most tie with it by tipping ~6 000 GRID, and it does not
	/// compete for normal block space anyway (see docs/ECONOMICS.md).
	type DeviceCallPriority = ConstU64<{ u64::MAX }>;
	type OnWorkVerified = Rewards;
	type WeightInfo = pallet_jobs::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = pallet_jobs::DevicesBenchmarkHelper<Runtime>;
}

parameter_types! {
	/// The pot holding finished eras' unclaimed rewards.
	pub const RewardsPalletId: frame_support::PalletId = frame_support::PalletId(*b"pg/rwrds");
	/// Era 0 mints 1 000 GRID…
	pub const FirstEraEmission: Balance = 1_000 * GRID;
	/// …and total issuance never exceeds 100 million GRID.
	pub const MaxIssuance: Balance = 100_000_000 * GRID;
	/// 10% of each era's emission funds the treasury.
	pub const RewardsTreasuryShare: Perbill = Perbill::from_percent(10);
	/// ρ: an era mints at most half of the protocol fees its jobs burned.
	pub const MaxRewardPerFee: Perbill = Perbill::from_percent(50);
}

/// Hourly eras (the dev preset uses 10 blocks) halving yearly: at most 2 × 1 000 × 8 760 =
/// 17.52 million GRID is ever scheduled, emission reaches zero after 8 760 × 50 eras.
impl pallet_rewards::Config for Runtime {
	type Currency = Balances;
	type PalletId = RewardsPalletId;
	type Treasury = TreasuryAccount;
	type DefaultEraLength = ConstU32<HOURS>;
	type FirstEraEmission = FirstEraEmission;
	type HalvingInterval = ConstU32<{ 365 * 24 }>;
	type MaxIssuance = MaxIssuance;
	type TreasuryShare = RewardsTreasuryShare;
	type MaxRewardPerFee = MaxRewardPerFee;
	/// A week of hourly eras to claim.
	type HistoryDepth = ConstU32<{ 7 * 24 }>;
	type CleanupBatch = ConstU32<256>;
	type WeightInfo = pallet_rewards::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// A registered model holds 1 GRID…
	pub const ModelDepositBase: Balance = GRID;
	/// …plus 10 mGRID per byte of its record (the digits CNN: ~3 GRID more; the largest model,
	/// 64 layers with a full URL, ~60 GRID more). Returned whole on removal.
	pub const ModelDepositPerByte: Balance = 10 * MILLI_GRID;
}

impl pallet_models::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type DepositBase = ModelDepositBase;
	type DepositPerByte = ModelDepositPerByte;
	type WeightInfo = pallet_models::weights::SubstrateWeight<Runtime>;
}
