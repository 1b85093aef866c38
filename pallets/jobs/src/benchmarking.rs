//! Benchmarks of every call of `pallet-jobs` and of deadline processing. Verification itself is
//! benchmarked in `pallet-compute-proof` and added to `reveal`'s weight, so `reveal` here uses
//! a tiny job.

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::{
	fungible::{Inspect, Mutate},
	Get, Hooks,
};
use frame_system::RawOrigin;
use proofgrid_primitives::traits::ComputeVerifier;
use proofgrid_primitives::{
	device::{Kernel, Requirements},
	gemm::{encode_leaf, GemmShape},
	inputs::{hash_lane, FraudProof, MatrixCommitment, SuppliedInputs, SuppliedSample},
	job::{Accusation, InputSource, JobId, JobInputs, JobSpec, Reveal},
	merkle::{hash_leaf, MerkleTree},
	testing::{merkle_path, reveal_paths, seeded_output},
};
use sp_core::H256;
use sp_runtime::traits::{One, Saturating, UniqueSaturatedFrom, Zero};

/// The smallest job the runtime accepts (`MinWorkUnits`), with the smallest square output whose
/// inner dimension is short (≤ 512): its verification, which `reveal` includes (and the call's
/// weight adds again for the real job, from `pallet-compute-proof`'s benchmarks), then costs
/// little. At 10⁹ operations that is a 1024² output with k = 477, about 35 µs a sample, against
/// 250 µs for a 256² output with k = 7630; both take the same work to set up.
fn spec<T: Config>() -> JobSpec {
	let min_ops = u128::from(T::MinWorkUnits::get()) * u128::from(T::OpsPerUnit::get());
	let mut shape = GemmShape { m: 4096, n: 4096, k: 1 };
	for side in [8u32, 64, 256, 1024, 4096] {
		let k = min_ops.div_ceil(2 * side as u128 * side as u128).max(1);
		if k <= 512 {
			shape = GemmShape { m: side, n: side, k: k as u32 };
			break;
		}
	}
	JobSpec::seeded(
		shape,
		[1u8; 32],
		Requirements { kernel: Kernel::GemmI8, min_vram_mib: 1, min_gops: 1 },
	)
}

/// [`spec`]'s shape on supplied (uploaded) inputs; the roots do not matter until a reveal.
fn supplied_spec<T: Config>() -> JobSpec {
	let seeded = spec::<T>();
	let commitment =
		|lanes| MatrixCommitment { lanes, lane_len: seeded.shape.k, root: H256([1; 32]) };
	JobSpec {
		inputs: JobInputs::Supplied {
			matrices: SuppliedInputs {
				a: commitment(seeded.shape.m),
				b: commitment(seeded.shape.n),
			},
			a: InputSource::Upload,
			b: InputSource::Upload,
			samples: T::Verifier::min_supplied_samples(),
			public_output: false,
		},
		..seeded
	}
}

fn cap<T: Config>() -> BalanceOf<T> {
	T::MinPricePerUnit::get().max(T::Currency::minimum_balance())
}

/// A client funded for many jobs.
fn client<T: Config>() -> T::AccountId {
	let client: T::AccountId = account("client", 0, 0);
	let per_job = cap::<T>()
		.saturating_mul(BalanceOf::<T>::unique_saturated_from(T::MinWorkUnits::get()))
		.saturating_add(T::JobDeposit::get());
	T::Currency::set_balance(
		&client,
		per_job.saturating_mul(1_000u32.into()).saturating_add(T::Currency::minimum_balance()),
	);
	client
}

fn submitted<T: Config>(client: &T::AccountId) -> JobId {
	let job = NextJobId::<T>::get();
	let deadline =
		frame_system::Pallet::<T>::block_number().saturating_add(T::MaxJobLifetime::get());
	Pallet::<T>::submit_job(
		RawOrigin::Signed(client.clone()).into(),
		spec::<T>(),
		cap::<T>(),
		deadline,
	)
	.expect("submit in setup");
	job
}

/// A supplied job of [`client`], claimed by an eligible device: (job, device).
fn claimed_supplied<T: Config>() -> (JobId, T::AccountId) {
	let job = NextJobId::<T>::get();
	let deadline =
		frame_system::Pallet::<T>::block_number().saturating_add(T::MaxJobLifetime::get());
	Pallet::<T>::submit_job(
		RawOrigin::Signed(client::<T>()).into(),
		supplied_spec::<T>(),
		cap::<T>(),
		deadline,
	)
	.expect("submit in setup");
	let device = T::BenchmarkHelper::eligible_device(0, cap::<T>());
	Pallet::<T>::claim(RawOrigin::Signed(device.clone()).into(), job, None).expect("claim");
	(job, device)
}

/// `device`'s receipt for `job`'s inputs.
fn receipt_of<T: Config>(job: JobId, device: &T::AccountId) -> T::DeviceSignature {
	use codec::Encode;
	let genesis = frame_system::Pallet::<T>::block_hash(
		frame_system::pallet_prelude::BlockNumberFor::<T>::zero(),
	);
	let message = proofgrid_primitives::inputs::inputs_receipt_message(
		genesis.as_ref().try_into().expect("32-byte hashes"),
		job,
		device.encode().as_slice().try_into().expect("32-byte accounts"),
	);
	T::BenchmarkHelper::sign_as_device(device, &message)
}

/// The honest output of job `job`, as stored (with its effective seed).
fn tree<T: Config>(job: JobId) -> MerkleTree {
	seeded_output(&Jobs::<T>::get(job).expect("open job").spec, |_| false)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn submit_job() {
		let client = client::<T>();
		let deadline =
			frame_system::Pallet::<T>::block_number().saturating_add(T::MaxJobLifetime::get());

		#[extrinsic_call]
		_(RawOrigin::Signed(client), spec::<T>(), cap::<T>(), deadline);

		assert!(Jobs::<T>::contains_key(0));
	}

	#[benchmark]
	fn cancel() {
		let client = client::<T>();
		let job = submitted::<T>(&client);

		#[extrinsic_call]
		_(RawOrigin::Signed(client), job);

		assert!(!Jobs::<T>::contains_key(job));
	}

	#[benchmark]
	fn claim() {
		let job = submitted::<T>(&client::<T>());
		let device = T::BenchmarkHelper::eligible_device(0, cap::<T>());

		#[extrinsic_call]
		_(RawOrigin::Signed(device), job, None);

		assert!(matches!(Jobs::<T>::get(job).map(|j| j.status), Some(JobStatus::Assigned { .. })));
	}

	#[benchmark]
	fn commit() {
		let job = submitted::<T>(&client::<T>());
		let device = T::BenchmarkHelper::eligible_device(0, cap::<T>());
		Pallet::<T>::claim(RawOrigin::Signed(device.clone()).into(), job, None).expect("claim");

		#[extrinsic_call]
		_(RawOrigin::Signed(device), job, H256(tree::<T>(job).root()));

		assert!(matches!(Jobs::<T>::get(job).map(|j| j.status), Some(JobStatus::Committed { .. })));
	}

	#[benchmark]
	fn reveal() {
		let job = submitted::<T>(&client::<T>());
		let device = T::BenchmarkHelper::eligible_device(0, cap::<T>());
		Pallet::<T>::claim(RawOrigin::Signed(device.clone()).into(), job, None).expect("claim");
		let tree = tree::<T>(job);
		let root = H256(tree.root());
		let spec = Jobs::<T>::get(job).expect("open job").spec;
		Pallet::<T>::commit(RawOrigin::Signed(device.clone()).into(), job, root).expect("commit");
		let challenge_block =
			frame_system::Pallet::<T>::block_number().saturating_add(T::ChallengeDelay::get());
		let challenge_hash = H256::repeat_byte(7);
		let randomness = H256::repeat_byte(8);
		frame_system::BlockHash::<T>::insert(challenge_block, challenge_hash);
		ChallengeRandomness::<T>::insert(
			challenge_block,
			crate::ChallengeSeed {
				randomness,
				new_author: false,
				block_hash: challenge_hash,
				congested_before: 0,
			},
		);
		frame_system::Pallet::<T>::set_block_number(challenge_block.saturating_add(One::one()));
		let paths = reveal_paths(&tree, &T::Verifier::challenge(job, &spec, &root, &randomness));

		#[extrinsic_call]
		_(RawOrigin::Signed(device), job, challenge_hash, Reveal::Seeded(paths), spec.shape.k);

		assert!(!Jobs::<T>::contains_key(job));
	}

	/// `n` committed jobs whose reveal deadline passes in the same block: each fails and
	/// slashes, the most expensive thing a deadline can do. One device per job, so no device's
	/// `MaxActiveJobs` or bond limits the setup.
	#[benchmark]
	fn on_initialize(n: Linear<0, { T::MaxDeadlinesPerBlock::get() }>) {
		let client = client::<T>();
		let mut jobs = alloc::vec::Vec::new();
		for i in 0..n {
			let device = T::BenchmarkHelper::eligible_device(i, cap::<T>());
			let job = submitted::<T>(&client);
			Pallet::<T>::claim(RawOrigin::Signed(device.clone()).into(), job, None).expect("claim");
			let root = H256::repeat_byte(1);
			Pallet::<T>::commit(RawOrigin::Signed(device).into(), job, root).expect("commit");
			jobs.push(job);
		}
		let due = frame_system::Pallet::<T>::block_number()
			.saturating_add(T::ChallengeDelay::get())
			.saturating_add(T::RevealWindow::get())
			// No seed is recorded here: the challenge block could still come this much later.
			.saturating_add(crate::MAX_CHALLENGE_EXTENSION.into())
			.saturating_add(One::one());
		// Exactly the `n` reveal deadlines in the block (the claims' stale commit deadlines may
		// have landed there too and pushed some on).
		Deadlines::<T>::insert(due, frame_support::BoundedVec::truncate_from(jobs));
		Expiries::<T>::remove(due);
		frame_system::Pallet::<T>::set_block_number(due);

		#[block]
		{
			Pallet::<T>::on_initialize(due);
		}

		assert_eq!(Jobs::<T>::iter().count(), 0);
	}

	/// Enforcing a missed reveal on request: a failure with slash.
	#[benchmark]
	fn expire() {
		let job = submitted::<T>(&client::<T>());
		let device = T::BenchmarkHelper::eligible_device(0, cap::<T>());
		Pallet::<T>::claim(RawOrigin::Signed(device.clone()).into(), job, None).expect("claim");
		Pallet::<T>::commit(RawOrigin::Signed(device).into(), job, H256::repeat_byte(1))
			.expect("commit");
		let due = frame_system::Pallet::<T>::block_number()
			.saturating_add(T::ChallengeDelay::get())
			.saturating_add(T::RevealWindow::get())
			// No seed is recorded here: the challenge block could still come this much later.
			.saturating_add(crate::MAX_CHALLENGE_EXTENSION.into())
			.saturating_add(One::one());
		frame_system::Pallet::<T>::set_block_number(due);

		#[extrinsic_call]
		_(RawOrigin::Signed(account("anyone", 0, 0)), job);

		assert!(!Jobs::<T>::contains_key(job));
	}

	/// The worst case: a device gives back a supplied job whose inputs its client confirmed,
	/// forfeiting part of its collateral to repay the client.
	#[benchmark]
	fn release() {
		let (job, device) = claimed_supplied::<T>();
		let client = client::<T>();
		let receipt = receipt_of::<T>(job, &device);
		Pallet::<T>::confirm_inputs(RawOrigin::Signed(client).into(), job, receipt)
			.expect("confirm");

		#[extrinsic_call]
		_(RawOrigin::Signed(device), job);

		assert!(matches!(Jobs::<T>::get(job).map(|j| j.status), Some(JobStatus::Submitted)));
	}

	/// The worst case: a fraud proof that is upheld, so the job fails and the device is
	/// slashed. The job multiplies zero matrices; its provider committed an output whose
	/// element (0, 0) is 1.
	#[benchmark]
	fn dispute() {
		let client = client::<T>();
		let shape = spec::<T>().shape;
		let path = merkle_path;
		let lane = alloc::vec![0i8; shape.k as usize];
		let lanes_tree = |count: u32| {
			MerkleTree::from_leaf_hashes(alloc::vec![hash_lane(&lane); count as usize])
				.expect("lanes")
		};
		let (a_tree, b_tree) = (lanes_tree(shape.m), lanes_tree(shape.n));
		let commitment = |tree: &MerkleTree, lanes: u32| MatrixCommitment {
			lanes,
			lane_len: shape.k,
			root: H256(tree.root()),
		};
		let mut wrong = [0i32; proofgrid_primitives::gemm::LEAF_ELEMENTS];
		wrong[0] = 1;
		let mut leaves =
			alloc::vec![hash_leaf(&encode_leaf(&[0; 16])); shape.leaf_count() as usize];
		leaves[0] = hash_leaf(&encode_leaf(&wrong));
		let output = MerkleTree::from_leaf_hashes(leaves).expect("leaves");
		let spec = JobSpec {
			shape,
			inputs: JobInputs::Supplied {
				matrices: SuppliedInputs {
					a: commitment(&a_tree, shape.m),
					b: commitment(&b_tree, shape.n),
				},
				a: InputSource::Upload,
				b: InputSource::Upload,
				samples: T::Verifier::min_supplied_samples(),
				public_output: false,
			},
			requirements: spec::<T>().requirements,
		};
		let job = NextJobId::<T>::get();
		let deadline =
			frame_system::Pallet::<T>::block_number().saturating_add(T::MaxJobLifetime::get());
		Pallet::<T>::submit_job(
			RawOrigin::Signed(client.clone()).into(),
			spec,
			cap::<T>(),
			deadline,
		)
		.expect("submit in setup");
		let device = T::BenchmarkHelper::eligible_device(0, cap::<T>());
		Pallet::<T>::claim(RawOrigin::Signed(device.clone()).into(), job, None).expect("claim");
		Pallet::<T>::commit(RawOrigin::Signed(device).into(), job, H256(output.root()))
			.expect("commit");
		// As if its reveal had checked out (the challenge missed element (0, 0)).
		Pallet::<T>::open_dispute_window(job, Jobs::<T>::get(job).expect("open job"))
			.expect("verified");
		let lane: proofgrid_primitives::inputs::Lane = lane.try_into().expect("k ≤ MAX_K");
		let proof = FraudProof {
			element: (0, 0),
			sample: SuppliedSample {
				leaf: wrong,
				leaf_path: path(&output, 0),
				row: lane.clone(),
				row_path: path(&a_tree, 0),
				col: lane,
				col_path: path(&b_tree, 0),
			},
		};

		#[extrinsic_call]
		_(RawOrigin::Signed(client), job, Accusation::Gemm(proof), shape.k);

		assert!(!Jobs::<T>::contains_key(job));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
