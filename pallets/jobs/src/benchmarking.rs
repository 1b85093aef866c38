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
use pallet_compute_proof::ComputeVerifier;
use proofgrid_primitives::{
	device::{Kernel, Requirements},
	gemm::{encode_leaf, seeded_leaf, GemmShape},
	job::{JobId, JobSpec, MerklePath, RevealPaths},
	merkle::{hash_leaf, MerkleTree},
};
use sp_core::H256;
use sp_runtime::traits::{One, Saturating};

/// An 8×8 output (4 leaves) with inner dimension 1: one work unit.
fn spec() -> JobSpec {
	JobSpec {
		shape: GemmShape { m: 8, n: 8, k: 1 },
		seed: [1u8; 32],
		requirements: Requirements { kernel: Kernel::GemmI8, min_vram_mib: 1, min_gops: 1 },
	}
}

fn cap<T: Config>() -> BalanceOf<T> {
	T::Currency::minimum_balance().saturating_mul(10u32.into())
}

/// A client funded for many jobs.
fn client<T: Config>() -> T::AccountId {
	let client: T::AccountId = account("client", 0, 0);
	T::Currency::set_balance(&client, cap::<T>().saturating_mul(100_000u32.into()));
	client
}

fn submitted<T: Config>(client: &T::AccountId) -> JobId {
	let job = NextJobId::<T>::get();
	let deadline =
		frame_system::Pallet::<T>::block_number().saturating_add(T::MaxJobLifetime::get());
	Pallet::<T>::submit_job(RawOrigin::Signed(client.clone()).into(), spec(), cap::<T>(), deadline)
		.expect("submit in setup");
	job
}

fn tree() -> MerkleTree {
	let spec = spec();
	let leaves = (0..spec.shape.leaf_count())
		.map(|i| hash_leaf(&encode_leaf(&seeded_leaf(&spec.shape, &spec.seed, i))))
		.collect();
	MerkleTree::from_leaf_hashes(leaves).expect("non-empty")
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
		_(RawOrigin::Signed(client), spec(), cap::<T>(), deadline);

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
		_(RawOrigin::Signed(device), job);

		assert!(matches!(Jobs::<T>::get(job).map(|j| j.status), Some(JobStatus::Assigned { .. })));
	}

	#[benchmark]
	fn commit() {
		let job = submitted::<T>(&client::<T>());
		let device = T::BenchmarkHelper::eligible_device(0, cap::<T>());
		Pallet::<T>::claim(RawOrigin::Signed(device.clone()).into(), job).expect("claim");

		#[extrinsic_call]
		_(RawOrigin::Signed(device), job, H256(tree().root()));

		assert!(matches!(Jobs::<T>::get(job).map(|j| j.status), Some(JobStatus::Committed { .. })));
	}

	#[benchmark]
	fn reveal() {
		let job = submitted::<T>(&client::<T>());
		let device = T::BenchmarkHelper::eligible_device(0, cap::<T>());
		Pallet::<T>::claim(RawOrigin::Signed(device.clone()).into(), job).expect("claim");
		let tree = tree();
		let root = H256(tree.root());
		Pallet::<T>::commit(RawOrigin::Signed(device.clone()).into(), job, root).expect("commit");
		let challenge_block =
			frame_system::Pallet::<T>::block_number().saturating_add(T::ChallengeDelay::get());
		frame_system::BlockHash::<T>::insert(challenge_block, H256::repeat_byte(7));
		frame_system::Pallet::<T>::set_block_number(challenge_block.saturating_add(One::one()));
		let block_hash = frame_system::Pallet::<T>::block_hash(challenge_block);
		let paths: alloc::vec::Vec<MerklePath> =
			T::Verifier::challenge(job, &spec(), &root, &block_hash)
				.into_iter()
				.map(|i| {
					let path: alloc::vec::Vec<H256> =
						tree.proof(i).expect("in range").into_iter().map(H256).collect();
					path.try_into().expect("shallow")
				})
				.collect();
		let paths: RevealPaths = paths.try_into().expect("few");

		#[extrinsic_call]
		_(RawOrigin::Signed(device), job, paths, 1);

		assert!(!Jobs::<T>::contains_key(job));
	}

	/// `n` committed jobs whose reveal deadline passes in the same block: each fails and
	/// slashes, the most expensive thing a deadline can do.
	#[benchmark]
	fn on_initialize(n: Linear<0, { T::MaxDeadlinesPerBlock::get() }>) {
		let client = client::<T>();
		let device = T::BenchmarkHelper::eligible_device(0, cap::<T>());
		let root = H256(tree().root());
		for _ in 0..n {
			let job = submitted::<T>(&client);
			Pallet::<T>::claim(RawOrigin::Signed(device.clone()).into(), job).expect("claim");
			Pallet::<T>::commit(RawOrigin::Signed(device.clone()).into(), job, root)
				.expect("commit");
		}
		let due = frame_system::Pallet::<T>::block_number()
			.saturating_add(T::ChallengeDelay::get())
			.saturating_add(T::RevealWindow::get())
			.saturating_add(One::one());
		frame_system::Pallet::<T>::set_block_number(due);

		#[block]
		{
			Pallet::<T>::on_initialize(due);
		}

		assert_eq!(Jobs::<T>::iter().count(), 0);
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
