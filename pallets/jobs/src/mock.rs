//! A test runtime with the real pallet-balances, devices and compute-proof pallets.

use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64},
};
pub use proofgrid_primitives::testing::seeded_output;
use proofgrid_primitives::{
	device::{registration_message, DeviceSpec, Kernel, Requirements},
	gemm::GemmShape,
	job::{JobSpec, Reveal},
	merkle::MerkleTree,
	testing::device_spec,
};
use sp_core::{sr25519, Pair, H256};
use sp_runtime::{traits::IdentityLookup, AccountId32, BuildStorage, MultiSignature, Perbill};

use crate as pallet_jobs;
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
pub const BASE_COMMIT_WINDOW: u64 = 5;
/// The commit window of the standard job for the standard device: the base plus one block of
/// compute.
pub const COMMIT_WINDOW: u64 = BASE_COMMIT_WINDOW + 1;
pub const MAX_COMMIT_WINDOW: u64 = 20;
pub const REVEAL_WINDOW: u64 = 5;
pub const MAX_DEADLINES: u32 = 4;
pub const MIN_PRICE: Balance = 10;
pub const MIN_COLLATERAL: Balance = 100;
pub const COLLATERAL_PERCENT: u32 = 150;
pub const CLAIM_DEPOSIT: Balance = 50;
pub const JOB_DEPOSIT: Balance = 20;
pub const MAX_ACTIVE_JOBS: u32 = 3;
pub const DISPUTE_BLOCKS: u64 = 10;
pub const DISPUTE_DEPOSIT: Balance = 40;
/// Blocks a settled layer's output stays available to later jobs.
pub const OUTPUT_RETENTION: u64 = 20;
/// A work unit is 2¹⁶ operations here, so the standard 64×64×8 job is one unit.
pub const OPS_PER_UNIT: u64 = 65_536;
/// Hashing a leaf counts as this many operations in a commit window.
pub const OPS_PER_LEAF: u64 = 1_000;
/// One millisecond per block: a device of `g` GOPS computes `g·10⁶` operations per block.
pub const MILLISECS_PER_BLOCK: u64 = 1;

parameter_types! {
	/// Call fee per millisecond of device-call weight; 0 unless a test sets it.
	pub static CallFeePerMs: Balance = 0;
	/// The heaviest reveal a job may ask for: 10% of a 2-second block unless a test lowers it.
	pub static MaxRevealWeight: frame_support::weights::Weight =
		frame_support::weights::Weight::from_parts(200_000_000_000, u64::MAX);
	/// Blocks a verified supplied job waits for fraud proofs (zero: it settles at the reveal).
	pub static DisputeWindow: u64 = DISPUTE_BLOCKS;
	pub const DeviceBond: Balance = BOND;
	pub const ProtocolFee: Perbill = Perbill::from_percent(10);
	/// Whether the current block has room for the largest reveal (tests congest blocks).
	pub static BlockHadRoom: bool = true;
	/// Block authors: one unless a test says otherwise.
	pub static AuthorityCount: u32 = 1;
	/// The author of the blocks that start from now on.
	pub static Author: Option<u32> = None;
}

#[derive_impl(pallet_devices::config_preludes::TestDefaultConfig)]
impl pallet_devices::Config for Test {
	type Currency = Balances;
	type DeviceBond = DeviceBond;
	type MinPricePerUnit = ConstU64<MIN_PRICE>;
	type MaxActiveJobs = ConstU32<MAX_ACTIVE_JOBS>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = pallet_devices::Sr25519BenchmarkHelper;
}

/// A model's deposit: 100 and 1 per byte of its description.
impl pallet_models::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type DepositBase = ConstU64<100>;
	type DepositPerByte = ConstU64<1>;
	type WeightInfo = ();
}

#[derive_impl(pallet_compute_proof::config_preludes::TestDefaultConfig)]
impl pallet_compute_proof::Config for Test {
	/// 64 KiB: 8 supplied samples at k = 4096 do not fit (~9.7 KB each), at k = 8 they do.
	type MaxRevealBytes = ConstU32<{ 64 << 10 }>;
	type Models = Models;
}

#[derive_impl(pallet_jobs::config_preludes::TestDefaultConfig)]
impl pallet_jobs::Config for Test {
	type Currency = Balances;
	type Devices = Devices;
	type Verifier = ComputeProof;
	type Models = Models;
	type DeviceSignature = MultiSignature;
	type ProtocolFee = ProtocolFee;
	type MinPricePerUnit = ConstU64<MIN_PRICE>;
	type OpsPerUnit = ConstU64<OPS_PER_UNIT>;
	type MinCollateral = ConstU64<MIN_COLLATERAL>;
	type CollateralPercent = ConstU32<COLLATERAL_PERCENT>;
	type ClaimDeposit = ConstU64<CLAIM_DEPOSIT>;
	type CallFee = TestCallFee;
	type MaxRevealWeight = MaxRevealWeight;
	type OpsPerLeaf = ConstU64<OPS_PER_LEAF>;
	type BlockHadRoom = BlockHadRoom;
	type AuthorityCount = AuthorityCount;
	type BlockAuthor = TestAuthor;
	type JobDeposit = ConstU64<JOB_DEPOSIT>;
	type BaseCommitWindow = ConstU64<BASE_COMMIT_WINDOW>;
	type MaxCommitWindow = ConstU64<MAX_COMMIT_WINDOW>;
	type MillisecsPerBlock = ConstU64<MILLISECS_PER_BLOCK>;
	type BlockRandomness = crate::testing::TestRandomness<Test>;
	type RevealWindow = ConstU64<REVEAL_WINDOW>;
	type DisputeWindow = DisputeWindow;
	type DisputeDeposit = ConstU64<DISPUTE_DEPOSIT>;
	type OutputRetention = ConstU64<OUTPUT_RETENTION>;
	type MaxJobsPerDevice = ConstU32<MAX_ACTIVE_JOBS>;
	type MaxDeadlinesPerBlock = ConstU32<MAX_DEADLINES>;
	type OnWorkVerified = VerifiedWork;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = crate::DevicesBenchmarkHelper<Test>;
}

parameter_types! {
	/// What the jobs pallet reported through `OnWorkVerified`, in order.
	pub static Verified: Vec<(AccountId, u64, Balance)> = Vec::new();
}

/// The block author is [`Author`].
pub struct TestAuthor;
impl frame_support::traits::FindAuthor<u32> for TestAuthor {
	fn find_author<'a, I>(_: I) -> Option<u32>
	where
		I: 'a + IntoIterator<Item = (sp_runtime::ConsensusEngineId, &'a [u8])>,
	{
		Author::get()
	}
}

/// Prices device calls at [`CallFeePerMs`] per millisecond of weight.
pub struct TestCallFee;
impl sp_runtime::traits::Convert<frame_support::weights::Weight, Balance> for TestCallFee {
	fn convert(weight: frame_support::weights::Weight) -> Balance {
		weight.ref_time() / 1_000_000_000 * CallFeePerMs::get()
	}
}

/// Records reported work so tests can check it (the real consumer is the rewards pallet).
pub struct VerifiedWork;
impl proofgrid_primitives::traits::OnWorkVerified<AccountId, Balance> for VerifiedWork {
	fn on_work_verified(provider: &AccountId, units: u64, fee_burned: Balance) {
		Verified::mutate(|v| v.push((provider.clone(), units, fee_burned)));
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
pub const STRANGER: u8 = 9;
pub const ENDOWMENT: Balance = 100_000;

pub fn device_pair(n: u8) -> sr25519::Pair {
	sr25519::Pair::from_seed(&[n.wrapping_add(100); 32])
}
pub fn device(n: u8) -> AccountId {
	device_pair(n).public().into()
}

/// Registers device `n` of the provider at `price` per unit, advertising 100 000 GOPS.
pub fn register_device(n: u8, price: Balance) {
	register_device_with_gops(n, price, 100_000);
}

/// Registers device `n` of the provider at `price` per unit, advertising `gops`.
pub fn register_device_with_gops(n: u8, price: Balance, gops: u64) {
	let owner = account(PROVIDER);
	let proof: MultiSignature =
		device_pair(n).sign(&registration_message(&owner, &System::block_hash(0))).into();
	let spec = DeviceSpec {
		vram_mib: 16_000,
		..device_spec(&[Kernel::GemmI8, Kernel::LinearI8, Kernel::ModelI8], gops)
	};
	Devices::register(RuntimeOrigin::signed(owner), device(n), spec, price, proof).unwrap();
}

/// A 64×64 output (256 leaves) with inner dimension 8: one work unit here. The chain stores
/// the job's effective seed; use [`stored_spec`] to compute its output.
pub fn job_spec() -> JobSpec {
	JobSpec::seeded(
		GemmShape { m: 64, n: 64, k: 8 },
		[5u8; 32],
		Requirements { kernel: Kernel::GemmI8, min_vram_mib: 8_000, min_gops: 1 },
	)
}

/// The spec of job `job` as stored (with its effective seed), as a worker reads it.
pub fn stored_spec(job: u64) -> JobSpec {
	crate::Jobs::<Test>::get(job).expect("open job").spec
}

/// The reveal for job `job`'s challenge, read from the chain like a worker would.
pub fn reveal_paths(job: u64, spec: &JobSpec, tree: &MerkleTree, challenge_block: u64) -> Reveal {
	let root = H256(tree.root());
	// Before the randomness is recorded, any paths do for the refusals tests check.
	let randomness = crate::ChallengeRandomness::<Test>::get(challenge_block)
		.map(|seed| seed.randomness)
		.unwrap_or_default();
	let indices = ComputeProof::challenge(job, spec, &root, &randomness);
	Reveal::Seeded(proofgrid_primitives::testing::reveal_paths(tree, &indices))
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![
			(account(PROVIDER), ENDOWMENT),
			(account(CLIENT), ENDOWMENT),
			(account(STRANGER), ENDOWMENT),
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
		Models::do_try_state().expect("models try_state");
	});
}

/// Advances to block `n`, running every pallet's hooks, each block's parent with a distinct
/// hash.
pub fn run_to_block(n: u64) {
	crate::testing::run_to_block::<Test, AllPalletsWithSystem>(n);
}
