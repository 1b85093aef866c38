//! Benchmarks of every call of `pallet-devices`.

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::Get;
use frame_system::RawOrigin;
use proofgrid_primitives::device::{DeviceSpec, DeviceStatus, Kernel};
use sp_runtime::traits::Saturating;

fn spec() -> DeviceSpec {
	DeviceSpec {
		// Longest allowed model name: the worst case for encoding.
		model: alloc::vec![b'x'; proofgrid_primitives::device::MAX_MODEL_NAME_LEN as usize]
			.try_into()
			.expect("exactly the maximum length"),
		..proofgrid_primitives::testing::device_spec(&[Kernel::GemmI8], 1_000_000)
	}
}

/// An owner with enough for a bond, and a device it registered.
fn registered<T: Config>() -> (T::AccountId, T::AccountId) {
	let (owner, device, proof) = Pallet::<T>::benchmark_owner_and_device(0);
	Pallet::<T>::register(
		RawOrigin::Signed(owner.clone()).into(),
		device.clone(),
		spec(),
		T::MinPricePerUnit::get(),
		proof,
	)
	.expect("registration in benchmark setup");
	(owner, device)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register() {
		let (owner, device, proof) = Pallet::<T>::benchmark_owner_and_device(0);

		#[extrinsic_call]
		_(
			RawOrigin::Signed(owner.clone()),
			device.clone(),
			spec(),
			T::MinPricePerUnit::get(),
			proof,
		);

		assert!(Devices::<T>::contains_key(&device));
	}

	#[benchmark]
	fn heartbeat() {
		let (_, device) = registered::<T>();
		let later = frame_system::Pallet::<T>::block_number()
			.saturating_add(T::MinHeartbeatInterval::get());
		frame_system::Pallet::<T>::set_block_number(later);

		#[extrinsic_call]
		_(RawOrigin::Signed(device.clone()));

		assert_eq!(Devices::<T>::get(&device).map(|i| i.last_heartbeat), Some(later));
	}

	#[benchmark]
	fn update() {
		let (owner, device) = registered::<T>();

		let price = T::MinPricePerUnit::get().saturating_add(1u32.into());

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), device.clone(), spec(), price);

		assert_eq!(Devices::<T>::get(&device).map(|i| i.price_per_unit), Some(price));
	}

	#[benchmark]
	fn pause() {
		let (owner, device) = registered::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), device.clone());

		assert_eq!(Devices::<T>::get(&device).map(|i| i.status), Some(DeviceStatus::Paused));
	}

	#[benchmark]
	fn resume() {
		let (owner, device) = registered::<T>();
		Pallet::<T>::pause(RawOrigin::Signed(owner.clone()).into(), device.clone())
			.expect("pause in setup");

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), device.clone());

		assert_eq!(Devices::<T>::get(&device).map(|i| i.status), Some(DeviceStatus::Active));
	}

	#[benchmark]
	fn deregister() {
		let (owner, device) = registered::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), device.clone());

		assert!(matches!(
			Devices::<T>::get(&device).map(|i| i.status),
			Some(DeviceStatus::Unbonding { .. })
		));
	}

	#[benchmark]
	fn withdraw_bond() {
		let (owner, device) = registered::<T>();
		Pallet::<T>::deregister(RawOrigin::Signed(owner.clone()).into(), device.clone())
			.expect("deregister in setup");
		let later =
			frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get());
		frame_system::Pallet::<T>::set_block_number(later);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), device.clone());

		assert!(!Devices::<T>::contains_key(&device));
	}

	#[benchmark]
	fn set_endpoint() {
		let (owner, device) = registered::<T>();
		let mut url = b"https://".to_vec();
		url.resize(proofgrid_primitives::device::MAX_ENDPOINT_LEN as usize, b'a');
		let endpoint: EndpointOf = url.try_into().expect("fits");

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), device.clone(), Some(endpoint));

		assert!(Endpoints::<T>::contains_key(&device));
	}

	#[benchmark]
	fn top_up_bond() {
		let (owner, device) = registered::<T>();
		let amount = T::DeviceBond::get();

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), device.clone(), amount);

		assert_eq!(
			Devices::<T>::get(&device).map(|i| i.bond),
			Some(T::DeviceBond::get().saturating_add(amount))
		);
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
