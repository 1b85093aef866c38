//! A test runtime with the real pallet-balances, devices and compute-proof pallets.

use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64, Hooks},
};
use proofgrid_primitives::{
	device::{
		registration_message, ComputeCapability, DeviceSpec, Kernel, KernelSet, Requirements,
	},
	gemm::{encode_leaf, seeded_leaf, GemmShape},
	job::{JobSpec, MerklePath, RevealPaths},
	merkle::{hash_leaf, MerkleTree},
};
use sp_core::{sr25519, Pair, H256};
use sp_runtime::{traits::IdentityLookup, AccountId32, BuildStorage, MultiSignature, Perbill};

use crate as pallet_jobs;
use pallet_compute_proof::ComputeVerifier;

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = AccountId32;
pub type Balance = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Devices: pallet_devices,
		ComputeProof: pallet_compute_proof,
		Jobs: pallet_jobs,
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
	type ExistentialDeposit = ConstU64<10>;
	type RuntimeHoldReason = RuntimeHoldReason;
}

pub const BOND: Balance = 1_000;
pub const COMMIT_WINDOW: u64 = 5;
pub const REVEAL_WINDOW: u64 = 5;
pub const MAX_DEADLINES: u32 = 4;

parameter_types! {
	pub const DeviceBond: Balance = BOND;
	pub TreasuryAccount: AccountId = account(TREASURY);
	pub const ProtocolFee: Perbill = Perbill::from_percent(10);
	pub const SlashFraction: Perbill = Perbill::from_percent(50);
	pub const CompensationFraction: Perbill = Perbill::from_percent(60);
}

impl pallet_devices::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type DeviceSignature = MultiSignature;
	type DeviceBond = DeviceBond;
	type MaxDevicesPerOwner = ConstU32<4>;
	type HeartbeatTimeout = ConstU64<1_000>;
	type MinHeartbeatInterval = ConstU64<1>;
	type UnbondingPeriod = ConstU64<10>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = pallet_devices::Sr25519BenchmarkHelper;
}

impl pallet_compute_proof::Config for Test {
	type Samples = ConstU32<8>;
	type WeightInfo = ();
}

impl pallet_jobs::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Devices = Devices;
	type Verifier = ComputeProof;
	type Treasury = TreasuryAccount;
	type ProtocolFee = ProtocolFee;
	type SlashFraction = SlashFraction;
	type CompensationFraction = CompensationFraction;
	type CommitWindow = ConstU64<COMMIT_WINDOW>;
	type ChallengeDelay = ConstU64<1>;
	type RevealWindow = ConstU64<REVEAL_WINDOW>;
	type MaxJobLifetime = ConstU64<100>;
	type MaxWorkUnits = ConstU64<1_000>;
	type MaxDeadlinesPerBlock = ConstU32<MAX_DEADLINES>;
	type OnWorkVerified = VerifiedWork;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = crate::DevicesBenchmarkHelper<Test>;
}

parameter_types! {
	/// What the jobs pallet reported through `OnWorkVerified`, in order.
	pub static Verified: Vec<(AccountId, u64)> = Vec::new();
}

/// Records reported work so tests can check it (the real consumer is the rewards pallet).
pub struct VerifiedWork;
impl crate::OnWorkVerified<AccountId> for VerifiedWork {
	fn on_work_verified(provider: &AccountId, units: u64) {
		Verified::mutate(|v| v.push((provider.clone(), units)));
	}
	fn weight() -> frame_support::weights::Weight {
		frame_support::weights::Weight::zero()
	}
}

pub fn account(n: u8) -> AccountId {
	AccountId32::new([n; 32])
}
pub const PROVIDER: u8 = 1;
pub const CLIENT: u8 = 2;
pub const TREASURY: u8 = 9;
pub const ENDOWMENT: Balance = 100_000;

pub fn device_pair(n: u8) -> sr25519::Pair {
	sr25519::Pair::from_seed(&[n.wrapping_add(100); 32])
}
pub fn device(n: u8) -> AccountId {
	device_pair(n).public().into()
}

/// Registers device `n` of the provider at `price` per unit.
pub fn register_device(n: u8, price: Balance) {
	let owner = account(PROVIDER);
	let proof: MultiSignature =
		device_pair(n).sign(&registration_message(&owner, &System::block_hash(0))).into();
	let spec = DeviceSpec {
		model: b"test GPU".to_vec().try_into().unwrap(),
		vram_mib: 16_000,
		compute_capability: ComputeCapability { major: 8, minor: 0 },
		multiprocessors: 80,
		kernels: KernelSet::of(&[Kernel::GemmI8]),
		advertised_gops: 100_000,
	};
	Devices::register(RuntimeOrigin::signed(owner), device(n), spec, price, proof).unwrap();
}

/// A 64×64 output (256 leaves) with inner dimension 8: one work unit.
pub fn job_spec() -> JobSpec {
	JobSpec {
		shape: GemmShape { m: 64, n: 64, k: 8 },
		seed: [5u8; 32],
		requirements: Requirements { kernel: Kernel::GemmI8, min_vram_mib: 8_000, min_gops: 1 },
	}
}

/// The provider's output tree; leaves selected by `fake` are wrong.
pub fn output(spec: &JobSpec, fake: impl Fn(u64) -> bool) -> MerkleTree {
	let hashes = (0..spec.shape.leaf_count())
		.map(|i| {
			let mut leaf = seeded_leaf(&spec.shape, &spec.seed, i);
			if fake(i) {
				leaf[3] ^= 1;
			}
			hash_leaf(&encode_leaf(&leaf))
		})
		.collect();
	MerkleTree::from_leaf_hashes(hashes).unwrap()
}

/// The reveal for job `job`'s challenge, read from the chain like a worker would.
pub fn reveal_paths(
	job: u64,
	spec: &JobSpec,
	tree: &MerkleTree,
	challenge_block: u64,
) -> RevealPaths {
	let root = H256(tree.root());
	let block_hash = System::block_hash(challenge_block);
	let paths: Vec<MerklePath> = ComputeProof::challenge(job, spec, &root, &block_hash)
		.into_iter()
		.map(|i| {
			tree.proof(i).unwrap().into_iter().map(H256).collect::<Vec<_>>().try_into().unwrap()
		})
		.collect();
	paths.try_into().unwrap()
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![
			(account(PROVIDER), ENDOWMENT),
			(account(CLIENT), ENDOWMENT),
			(account(TREASURY), ENDOWMENT),
			(device(1), ENDOWMENT),
			(device(2), ENDOWMENT),
		],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	// Benchmarks make device keys in the keystore.
	ext.register_extension(sp_keystore::KeystoreExt::new(
		sp_keystore::testing::MemoryKeystore::new(),
	));
	ext.execute_with(|| run_to_block(1));
	ext
}

/// Runs `test` in a fresh chain, then checks both pallets' money invariants.
pub fn build_and_execute(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Jobs::do_try_state().expect("jobs try_state");
		Devices::do_try_state().expect("devices try_state");
	});
}

/// Advances to block `n`, giving each block a distinct hash and running the jobs pallet's
/// deadline processing.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		if next > 1 {
			frame_system::BlockHash::<Test>::insert(
				next - 1,
				H256::repeat_byte((next % 251) as u8 + 1),
			);
		}
		System::set_block_number(next);
		Jobs::on_initialize(next);
	}
}
