//! A test runtime with the real pallet-balances, devices, compute-proof and jobs pallets, so
//! rewards are earned by jobs that really settle.

use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64},
	PalletId,
};
use proofgrid_primitives::{
	device::{registration_message, DeviceSpec, Kernel, Requirements},
	gemm::GemmShape,
	job::JobSpec,
	testing::{device_spec, reveal_paths, seeded_output},
};
use sp_core::{sr25519, Pair, H256};
use sp_runtime::{traits::IdentityLookup, AccountId32, BuildStorage, MultiSignature, Perbill};

use crate as pallet_rewards;
use proofgrid_primitives::traits::ComputeVerifier;

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = AccountId32;
pub type Balance = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Devices: pallet_devices,
		Models: pallet_models,
		ComputeProof: pallet_compute_proof,
		Jobs: pallet_jobs,
		Rewards: pallet_rewards,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId;
	type Lookup = IdentityLookup<AccountId>;
	type AccountData = pallet_balances::AccountData<Balance>;
}

pub const ED: Balance = 10;

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type AccountStore = System;
	type ExistentialDeposit = ConstU64<ED>;
	type RuntimeHoldReason = RuntimeHoldReason;
}

parameter_types! {
	pub TreasuryAccount: AccountId = account(TREASURY);
	pub const RewardsPalletId: PalletId = PalletId(*b"pg/rwrds");
	pub const TreasuryShare: Perbill = Perbill::from_percent(10);
	/// Tests lower it to reach the cap.
	pub static MaxIssuance: Balance = Balance::MAX;
}

#[derive_impl(pallet_devices::config_preludes::TestDefaultConfig)]
impl pallet_devices::Config for Test {
	type Currency = Balances;
	type DeviceBond = ConstU64<BOND>;
	type MinPricePerUnit = ConstU64<MIN_PRICE>;
	type MaxDevicesPerOwner = ConstU32<4>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = pallet_devices::Sr25519BenchmarkHelper;
}

impl pallet_models::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type DepositBase = ConstU64<100>;
	type DepositPerByte = ConstU64<1>;
	type WeightInfo = ();
}

#[derive_impl(pallet_compute_proof::config_preludes::TestDefaultConfig)]
impl pallet_compute_proof::Config for Test {
	type Models = Models;
}

#[derive_impl(pallet_jobs::config_preludes::TestDefaultConfig)]
impl pallet_jobs::Config for Test {
	type Currency = Balances;
	type Devices = Devices;
	type Verifier = ComputeProof;
	type Models = Models;
	type DeviceSignature = MultiSignature;
	type MinPricePerUnit = ConstU64<MIN_PRICE>;
	type OpsPerUnit = ConstU64<OPS_PER_UNIT>;
	type BlockRandomness = pallet_jobs::testing::TestRandomness<Test>;
	type DeviceCallPriority = ConstU64<1>;
	type OnWorkVerified = Rewards;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = pallet_jobs::DevicesBenchmarkHelper<Test>;
}

parameter_types! {
	/// ρ: an era mints at most half of the fees its jobs burned.
	pub const MaxRewardPerFee: Perbill = Perbill::from_percent(RHO_PERCENT);
}

pub const BOND: Balance = 100_000;
pub const MIN_PRICE: Balance = 10;
/// Price and cap of the standard jobs: a 10% fee of 1 000 per job.
pub const PRICE: Balance = 10_000;
/// The standard 8×8×4 job (512 operations) is one unit.
pub const OPS_PER_UNIT: u64 = 512;
pub const RHO_PERCENT: u32 = 50;

pub const ERA_LENGTH: u64 = 10;
pub const FIRST_EMISSION: Balance = 1_000;
pub const HALVING: u32 = 2;
pub const HISTORY: u32 = 3;
pub const CLEANUP_BATCH: u32 = 2;

impl pallet_rewards::Config for Test {
	type Currency = Balances;
	type PalletId = RewardsPalletId;
	type Treasury = TreasuryAccount;
	type DefaultEraLength = ConstU64<ERA_LENGTH>;
	type FirstEraEmission = ConstU64<FIRST_EMISSION>;
	type HalvingInterval = ConstU32<HALVING>;
	type MaxIssuance = MaxIssuance;
	type TreasuryShare = TreasuryShare;
	type MaxRewardPerFee = MaxRewardPerFee;
	type HistoryDepth = ConstU32<HISTORY>;
	type CleanupBatch = ConstU32<CLEANUP_BATCH>;
	type WeightInfo = ();
}

pub fn account(n: u8) -> AccountId {
	AccountId32::new([n; 32])
}
pub const CLIENT: u8 = 2;
pub const TREASURY: u8 = 9;
pub const ENDOWMENT: Balance = 1_000_000_000_000;
/// Providers are accounts 11, 12, 13 …; provider `p` owns device `p`.
pub const PROVIDERS: [u8; 3] = [11, 12, 13];

pub fn device_pair(n: u8) -> sr25519::Pair {
	sr25519::Pair::from_seed(&[n.wrapping_add(100); 32])
}
pub fn device(n: u8) -> AccountId {
	device_pair(n).public().into()
}

/// Registers device `p`, owned by provider account `p`, at [`PRICE`] per unit.
pub fn register_device(p: u8) {
	register_device_at(p, PRICE);
}

/// Registers device `p`, owned by provider account `p`, at `price` per unit.
pub fn register_device_at(p: u8, price: Balance) {
	let owner = account(p);
	let proof: MultiSignature =
		device_pair(p).sign(&registration_message(&owner, &System::block_hash(0))).into();
	let spec = DeviceSpec { vram_mib: 16_000, ..device_spec(&[Kernel::GemmI8], 100_000) };
	Devices::register(RuntimeOrigin::signed(owner), device(p), spec, price, proof).unwrap();
}

/// A small GEMM: one work unit here, four leaves.
pub fn job_spec(seed: u8) -> JobSpec {
	JobSpec::seeded(
		GemmShape { m: 8, n: 8, k: 4 },
		[seed; 32],
		Requirements { kernel: Kernel::GemmI8, min_vram_mib: 8_000, min_gops: 1 },
	)
}

/// Runs a whole one-unit job for [`CLIENT`] on device `p`, honest or not, through the jobs
/// pallet; returns whether it settled.
pub fn run_job(p: u8, honest: bool) -> bool {
	run_job_for(CLIENT, p, job_spec(0).shape, PRICE, honest)
}

/// Runs a whole job of `shape` for client account `client` at price cap `cap` on device `p`,
/// honest or not, through the jobs pallet; returns whether it settled.
pub fn run_job_for(client: u8, p: u8, shape: GemmShape, cap: Balance, honest: bool) -> bool {
	let job = pallet_jobs::NextJobId::<Test>::get();
	let deadline = System::block_number() + 50;
	pallet_jobs::Pallet::<Test>::submit_job(
		RuntimeOrigin::signed(account(client)),
		JobSpec { shape, ..job_spec(job as u8) },
		cap,
		deadline,
	)
	.unwrap();
	pallet_jobs::Pallet::<Test>::claim(RuntimeOrigin::signed(device(p)), job, None).unwrap();
	// The chain binds the seed to the job and the claim: compute what it stored.
	let spec = pallet_jobs::Jobs::<Test>::get(job).unwrap().spec;
	let tree = seeded_output(&spec, |_| !honest);
	let root = H256(tree.root());
	pallet_jobs::Pallet::<Test>::commit(RuntimeOrigin::signed(device(p)), job, root).unwrap();
	let challenge_block = System::block_number() + 1;
	run_to_block(challenge_block + 1);
	let randomness =
		pallet_jobs::ChallengeRandomness::<Test>::get(challenge_block).unwrap().randomness;
	let paths = reveal_paths(&tree, &ComputeProof::challenge(job, &spec, &root, &randomness));
	let challenge_hash = System::block_hash(challenge_block);
	pallet_jobs::Pallet::<Test>::reveal(
		RuntimeOrigin::signed(device(p)),
		job,
		challenge_hash,
		proofgrid_primitives::job::Reveal::Seeded(paths),
		spec.shape.k,
	)
	.unwrap();
	pallet_jobs::Jobs::<Test>::get(job).is_none()
		&& System::events().iter().any(|record| {
			matches!(
				&record.event,
				RuntimeEvent::Jobs(pallet_jobs::Event::JobSettled { job: settled, .. })
					if *settled == job
			)
		})
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut balances = vec![(account(CLIENT), ENDOWMENT), (account(TREASURY), ENDOWMENT)];
	for p in PROVIDERS {
		balances.push((account(p), ENDOWMENT));
		balances.push((device(p), ENDOWMENT));
	}
	pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
		.assimilate_storage(&mut storage)
		.unwrap();
	pallet_rewards::GenesisConfig::<Test>::default().assimilate_storage(&mut storage).unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.register_extension(sp_keystore::KeystoreExt::new(
		sp_keystore::testing::MemoryKeystore::new(),
	));
	ext.execute_with(|| run_to_block(1));
	ext
}

/// Runs `test` in a fresh chain, then checks every pallet's money invariants.
pub fn build_and_execute(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Rewards::do_try_state().expect("rewards try_state");
		Jobs::do_try_state().expect("jobs try_state");
		Devices::do_try_state().expect("devices try_state");
	});
}

/// Advances to block `n`, running every pallet's hooks, each block's parent with a distinct
/// hash.
pub fn run_to_block(n: u64) {
	pallet_jobs::testing::run_to_block::<Test, AllPalletsWithSystem>(n);
}

/// Advances to the first block of era `era`.
pub fn run_to_era(era: u32) {
	while crate::CurrentEra::<Test>::get() < era {
		run_to_block(System::block_number() + 1);
	}
}
