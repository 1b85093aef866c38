//! Benchmarks of every call of `pallet-models`.

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, Get};
use frame_system::RawOrigin;
use proofgrid_primitives::{
	linear::Requant,
	model::{Epilogue, Op, Shape},
};
use sp_runtime::traits::{Bounded, Saturating};

/// A model of `layers` layers (a convolution, then 1×1 convolutions: every one a GEMM layer, the
/// most weight commitments) with its commitments and the longest URL.
fn model(layers: u32) -> (Model, WeightsOf, Option<WeightsUrl>) {
	let epilogue =
		Epilogue { requant: Requant { multiplier: 1 << 30, shift: 38, relu: true }, zero_point: 0 };
	let first = Op::Conv {
		filters: 16,
		kernel: (3, 3),
		stride: (1, 1),
		padding: [1; 4],
		dilation: (1, 1),
		epilogue,
	};
	let rest = Op::Conv {
		filters: 16,
		kernel: (1, 1),
		stride: (1, 1),
		padding: [0; 4],
		dilation: (1, 1),
		epilogue,
	};
	let ops: Vec<Op> = (0..layers).map(|l| if l == 0 { first } else { rest }).collect();
	let model = Model {
		input: Shape { height: 32, width: 32, channels: 3 },
		input_zero_point: 0,
		layers: ops.try_into().expect("at most MAX_LAYERS"),
	};
	let weights: Vec<WeightsCommitment> = (0..layers)
		.map(|_| WeightsCommitment {
			lanes: sp_core::H256::repeat_byte(1),
			bias: sp_core::H256::repeat_byte(2),
		})
		.collect();
	let mut url = b"https://".to_vec();
	url.resize(MAX_URL_LEN as usize, b'x');
	(
		model,
		weights.try_into().expect("at most MAX_LAYERS"),
		Some(url.try_into().expect("MAX_URL_LEN")),
	)
}

fn funded<T: Config>() -> T::AccountId {
	let owner: T::AccountId = account("owner", 0, 0);
	let plenty = BalanceOf::<T>::max_value() / 4u32.into();
	T::Currency::set_balance(&owner, plenty.saturating_add(T::DepositBase::get()));
	owner
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register(l: Linear<1, MAX_LAYERS>) {
		let owner = funded::<T>();
		let (model, weights, url) = model(l);
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), model, weights, url);
		assert!(Models::<T>::contains_key(0));
	}

	#[benchmark]
	fn remove() {
		let owner = funded::<T>();
		let (model, weights, url) = model(MAX_LAYERS);
		Pallet::<T>::register(RawOrigin::Signed(owner.clone()).into(), model, weights, url)
			.expect("registration in benchmark setup");
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), 0);
		assert!(!Models::<T>::contains_key(0));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
