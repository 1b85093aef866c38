//! A test runtime: frame-system, the real pallet-balances and the devices pallet.

use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64},
};
use proofgrid_primitives::{
	device::{registration_message, DeviceSpec, Kernel},
	testing::device_spec,
};
use sp_core::{sr25519, Pair, H256};
use sp_keystore::{testing::MemoryKeystore, KeystoreExt};
use sp_runtime::{traits::IdentityLookup, AccountId32, BuildStorage, MultiSignature};

use crate as pallet_devices;

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = AccountId32;
pub type Balance = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Devices: pallet_devices,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId;
	type Lookup = IdentityLookup<AccountId>;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type AccountStore = System;
	type ExistentialDeposit = ExistentialDeposit;
	type RuntimeHoldReason = RuntimeHoldReason;
}

pub const BOND: Balance = 1_000;
pub const HEARTBEAT_TIMEOUT: u64 = 20;
pub const MIN_HEARTBEAT_INTERVAL: u64 = 5;
pub const UNBONDING_PERIOD: u64 = 50;
pub const MAX_DEVICES: u32 = 3;
pub const MIN_PRICE: Balance = 2;
pub const MAX_ACTIVE_JOBS: u32 = 2;

parameter_types! {
	pub const ExistentialDeposit: Balance = 10;
	pub const DeviceBond: Balance = BOND;
	pub const HeartbeatTimeout: u64 = HEARTBEAT_TIMEOUT;
	pub const MinHeartbeatInterval: u64 = MIN_HEARTBEAT_INTERVAL;
	pub const UnbondingPeriod: u64 = UNBONDING_PERIOD;
}

#[derive_impl(pallet_devices::config_preludes::TestDefaultConfig)]
impl pallet_devices::Config for Test {
	type Currency = Balances;
	type DeviceBond = DeviceBond;
	type MinPricePerUnit = ConstU64<MIN_PRICE>;
	type MaxActiveJobs = ConstU32<MAX_ACTIVE_JOBS>;
	type MaxDevicesPerOwner = ConstU32<MAX_DEVICES>;
	type HeartbeatTimeout = HeartbeatTimeout;
	type MinHeartbeatInterval = MinHeartbeatInterval;
	type UnbondingPeriod = UnbondingPeriod;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = crate::Sr25519BenchmarkHelper;
}

/// Plain accounts (owners, clients, treasury) in tests.
pub fn account(n: u8) -> AccountId {
	AccountId32::new([n; 32])
}
pub const ALICE: u8 = 1;
pub const BOB: u8 = 2;
pub const TREASURY: u8 = 9;
/// Starting balance of ALICE, BOB and TREASURY.
pub const ENDOWMENT: Balance = 10_000;

/// A device key, deterministic per index.
pub fn device_pair(n: u8) -> sr25519::Pair {
	sr25519::Pair::from_seed(&[n.wrapping_add(100); 32])
}
pub fn device(n: u8) -> AccountId {
	device_pair(n).public().into()
}

/// A valid GPU spec: 80 GiB, 1000 TOPS, GEMM-i8.
pub fn spec() -> DeviceSpec {
	device_spec(&[Kernel::GemmI8], 1_000_000)
}

/// The device key's proof that `owner` may register it on this (test) chain.
pub fn proof(device: &sr25519::Pair, owner: &AccountId) -> MultiSignature {
	let genesis = System::block_hash(0);
	device.sign(&registration_message(owner, &genesis)).into()
}

/// A proof for another chain (different genesis hash).
pub fn foreign_proof(device: &sr25519::Pair, owner: &AccountId) -> MultiSignature {
	device.sign(&registration_message(owner, &H256::repeat_byte(0xab))).into()
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![
			(account(ALICE), ENDOWMENT),
			(account(BOB), ENDOWMENT),
			(account(TREASURY), ENDOWMENT),
		],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	// Benchmarks make device keys in the keystore.
	ext.register_extension(KeystoreExt::new(MemoryKeystore::new()));
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs `test`, then checks the pallet's money invariants.
pub fn build_and_execute(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Devices::do_try_state().expect("try_state holds");
	});
}

/// Moves to block `n`.
pub fn run_to_block(n: u64) {
	System::run_to_block::<AllPalletsWithSystem>(n);
}
