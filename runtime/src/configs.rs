//! Each pallet's `Config` for the ProofGrid runtime, with the chain's parameters.

use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::{ConstBool, ConstU128, ConstU32, ConstU64, ConstU8, VariantCountOf},
	weights::{
		constants::{RocksDbWeight, WEIGHT_REF_TIME_PER_SECOND},
		IdentityFee, Weight,
	},
};
use frame_system::limits::{BlockLength, BlockWeights};
use pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier};
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_runtime::{traits::One, Perbill};
use sp_version::RuntimeVersion;

use super::{
	AccountId, Aura, Balance, Balances, Block, BlockNumber, ComputeProof, Devices, Hash, Nonce,
	PalletInfo, Rewards, Runtime, RuntimeCall, RuntimeEvent, RuntimeFreezeReason,
	RuntimeHoldReason, RuntimeOrigin, RuntimeTask, Signature, System, DAYS, EXISTENTIAL_DEPOSIT,
	GRID, HOURS, MINUTES, SLOT_DURATION, VERSION,
};

/// Share of a block's weight that normal (user) transactions may fill; the rest is kept for
/// operational calls and inherents.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

/// Largest encoded block, in bytes.
const MAX_BLOCK_LENGTH: u32 = 5 * 1024 * 1024;

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
	// Our own benchmarks regenerate this later; the reference weights are a safe upper bound.
	type DbWeight = RocksDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

impl pallet_aura::Config for Runtime {
	type AuthorityId = AuraId;
	type DisabledValidators = ();
	type MaxAuthorities = ConstU32<32>;
	// One block per slot: a second block in the same slot would be an equivocation.
	type AllowMultipleBlocksPerSlot = ConstBool<false>;
	type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
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
	type OnTimestampSet = Aura;
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

parameter_types! {
	pub FeeMultiplier: Multiplier = Multiplier::one();
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	// Fees are burned for now; a treasury arrives with the jobs pallet.
	type OnChargeTransaction = FungibleAdapter<Balances, ()>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightToFee = IdentityFee<Balance>;
	type LengthToFee = IdentityFee<Balance>;
	type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Bond held from the owner for each registered device.
	pub const DeviceBond: Balance = 100 * GRID;
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
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type DeviceSignature = Signature;
	type DeviceBond = DeviceBond;
	type MaxDevicesPerOwner = ConstU32<64>;
	type HeartbeatTimeout = DeviceHeartbeatTimeout;
	type MinHeartbeatInterval = DeviceMinHeartbeatInterval;
	type UnbondingPeriod = DeviceUnbondingPeriod;
	type WeightInfo = pallet_devices::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = pallet_devices::Sr25519BenchmarkHelper;
}

/// The treasury's account: receives protocol fees and the part of slashes not paid to clients.
pub const TREASURY_PALLET_ID: frame_support::PalletId = frame_support::PalletId(*b"pg/trsry");

parameter_types! {
	pub TreasuryAccount: AccountId =
		sp_runtime::traits::AccountIdConversion::into_account_truncating(&TREASURY_PALLET_ID);
	/// 5% of each payment goes to the treasury.
	pub const ProtocolFee: Perbill = Perbill::from_percent(5);
	/// A failed job costs its device 10% of its bond…
	pub const SlashFraction: Perbill = Perbill::from_percent(10);
	/// …half of which compensates the client.
	pub const CompensationFraction: Perbill = Perbill::from_percent(50);
}

impl pallet_compute_proof::Config for Runtime {
	/// k = 64: a provider who faked 20% of its output passes with probability 6.3e-7.
	type Samples = ConstU32<64>;
	type WeightInfo = pallet_compute_proof::weights::SubstrateWeight<Runtime>;
}

impl pallet_jobs::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Devices = Devices;
	type Verifier = ComputeProof;
	type Treasury = TreasuryAccount;
	type ProtocolFee = ProtocolFee;
	type SlashFraction = SlashFraction;
	type CompensationFraction = CompensationFraction;
	type CommitWindow = ConstU32<{ 2 * MINUTES }>;
	type ChallengeDelay = ConstU32<1>;
	type RevealWindow = ConstU32<{ 2 * MINUTES }>;
	type MaxJobLifetime = ConstU32<DAYS>;
	/// One peta-operation per job at most.
	type MaxWorkUnits = ConstU64<1_000_000>;
	type MaxDeadlinesPerBlock = ConstU32<256>;
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
}

/// Hourly eras (the dev preset uses 10 blocks) halving yearly: at most 2 × 1 000 × 8 760 =
/// 17.52 million GRID is ever scheduled, emission reaches zero after 8 760 × 50 eras.
impl pallet_rewards::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type PalletId = RewardsPalletId;
	type Treasury = TreasuryAccount;
	type DefaultEraLength = ConstU32<HOURS>;
	type FirstEraEmission = FirstEraEmission;
	type HalvingInterval = ConstU32<{ 365 * 24 }>;
	type MaxIssuance = MaxIssuance;
	type TreasuryShare = RewardsTreasuryShare;
	/// A week of hourly eras to claim.
	type HistoryDepth = ConstU32<{ 7 * 24 }>;
	type CleanupBatch = ConstU32<256>;
	type WeightInfo = pallet_rewards::weights::SubstrateWeight<Runtime>;
}
