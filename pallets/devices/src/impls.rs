//! Helpers of the devices pallet, its [`DeviceRegistry`] implementation and `try_state`.

use frame_support::{
	ensure,
	pallet_prelude::DispatchResult,
	traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision, Restriction},
		Get,
	},
};
use proofgrid_primitives::{
	device::{DeviceSpec, DeviceStatus, Requirements, Unmet},
	traits::DeviceRegistry,
};
use sp_runtime::{
	traits::{Saturating, Zero},
	DispatchError,
};

use crate::{BalanceOf, Config, DeviceInfoOf, Devices, Error, Event, HoldReason, Pallet};

impl<T: Config> Pallet<T> {
	/// Refuses specs no job could ever match.
	pub(crate) fn ensure_valid_spec(spec: &DeviceSpec) -> DispatchResult {
		ensure!(
			spec.vram_mib > 0 && spec.advertised_gops > 0 && !spec.kernels.is_empty(),
			Error::<T>::InvalidSpec
		);
		Ok(())
	}

	/// Applies `f` to `device`'s record if `owner` owns it.
	pub(crate) fn mutate_owned<R>(
		owner: &T::AccountId,
		device: &T::AccountId,
		f: impl FnOnce(&mut DeviceInfoOf<T>) -> Result<R, DispatchError>,
	) -> Result<R, DispatchError> {
		Devices::<T>::try_mutate(device, |info| {
			let info = info.as_mut().ok_or(Error::<T>::UnknownDevice)?;
			ensure!(&info.owner == owner, Error::<T>::NotOwner);
			f(info)
		})
	}

	/// Whether `info` had a heartbeat recently enough to take work at block `now`.
	pub(crate) fn is_fresh(
		info: &DeviceInfoOf<T>,
		now: frame_system::pallet_prelude::BlockNumberFor<T>,
	) -> bool {
		now <= info.last_heartbeat.saturating_add(T::HeartbeatTimeout::get())
	}

	/// Money invariants: each owner's held bonds equal the sum of its devices' bonds, no device
	/// locks more collateral than its bond, and the owner index matches the device records.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use crate::OwnerDevices;
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::traits::fungible::hold::Inspect;

		let mut bonds: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		for (device, info) in Devices::<T>::iter() {
			ensure!(
				OwnerDevices::<T>::get(&info.owner).contains(&device),
				"device missing from its owner's list"
			);
			ensure!(info.locked <= info.bond, "collateral locked above the bond");
			ensure!(
				info.active_jobs <= T::MaxActiveJobs::get(),
				"a device holds more open jobs than allowed"
			);
			let sum = bonds.entry(info.owner.clone()).or_insert_with(Zero::zero);
			*sum = sum.saturating_add(info.bond);
		}
		for (owner, devices) in OwnerDevices::<T>::iter() {
			ensure!(!devices.is_empty(), "empty owner list kept in storage");
			for device in devices.iter() {
				ensure!(
					Devices::<T>::get(device).is_some_and(|info| info.owner == owner),
					"owner list names a device it does not own"
				);
			}
			let held = T::Currency::balance_on_hold(&HoldReason::DeviceBond.into(), &owner);
			let expected = bonds.remove(&owner).unwrap_or_else(Zero::zero);
			ensure!(held == expected, "held device bonds differ from the sum of device bonds");
		}
		ensure!(bonds.is_empty(), "device whose owner has no list");
		Ok(())
	}
}

impl<T: Config> DeviceRegistry<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn ensure_eligible(
		device: &T::AccountId,
		requirements: &Requirements,
		price_cap: BalanceOf<T>,
		collateral: BalanceOf<T>,
	) -> DispatchResult {
		let info = Devices::<T>::get(device).ok_or(Error::<T>::UnknownDevice)?;
		ensure!(info.status == DeviceStatus::Active, Error::<T>::NotActive);
		ensure!(
			Self::is_fresh(&info, frame_system::Pallet::<T>::block_number()),
			Error::<T>::Stale
		);
		match requirements.unmet_by(&info.spec, info.effective_gops()) {
			Some(Unmet::Kernel) => Err(Error::<T>::KernelUnsupported)?,
			Some(Unmet::Vram) => Err(Error::<T>::InsufficientVram)?,
			Some(Unmet::Throughput) => Err(Error::<T>::TooSlow)?,
			None => {}
		}
		ensure!(info.price_per_unit <= price_cap, Error::<T>::PriceTooHigh);
		ensure!(info.active_jobs < T::MaxActiveJobs::get(), Error::<T>::TooManyJobs);
		ensure!(info.bond >= T::DeviceBond::get(), Error::<T>::BondTooLow);
		ensure!(info.free_bond() >= collateral, Error::<T>::InsufficientCollateral);
		Ok(())
	}

	fn owner_of(device: &T::AccountId) -> Option<T::AccountId> {
		Devices::<T>::get(device).map(|info| info.owner)
	}

	fn price_of(device: &T::AccountId) -> Option<BalanceOf<T>> {
		Devices::<T>::get(device).map(|info| info.price_per_unit)
	}

	fn bond_of(device: &T::AccountId) -> Option<BalanceOf<T>> {
		Devices::<T>::get(device).map(|info| info.bond)
	}

	fn gops_of(device: &T::AccountId) -> Option<u64> {
		Devices::<T>::get(device).map(|info| info.effective_gops())
	}

	fn lock_collateral(device: &T::AccountId, collateral: BalanceOf<T>) -> DispatchResult {
		Devices::<T>::try_mutate(device, |info| {
			let info = info.as_mut().ok_or(Error::<T>::UnknownDevice)?;
			ensure!(info.free_bond() >= collateral, Error::<T>::InsufficientCollateral);
			info.locked = info.locked.saturating_add(collateral);
			info.active_jobs = info.active_jobs.saturating_add(1);
			Ok(())
		})
	}

	fn release_slot(device: &T::AccountId) {
		Devices::<T>::mutate(device, |info| {
			if let Some(info) = info {
				info.active_jobs = info.active_jobs.saturating_sub(1);
			}
		});
	}

	fn unlock_collateral(device: &T::AccountId, collateral: BalanceOf<T>) {
		Devices::<T>::mutate(device, |info| {
			if let Some(info) = info {
				info.locked = info.locked.saturating_sub(collateral);
			}
		});
	}

	fn record_success(device: &T::AccountId, delivered_gops: u64, paid: BalanceOf<T>) {
		Devices::<T>::mutate(device, |info| {
			if let Some(info) = info {
				info.reputation.completed = info.reputation.completed.saturating_add(1);
				info.delivered_gops = info.delivered_gops.max(delivered_gops);
				info.earned = info.earned.saturating_add(paid);
			}
		});
	}

	fn record_failure(device: &T::AccountId) {
		Devices::<T>::mutate(device, |info| {
			if let Some(info) = info {
				info.reputation.failed = info.reputation.failed.saturating_add(1);
			}
		});
	}

	fn locked_of(device: &T::AccountId) -> Option<BalanceOf<T>> {
		Devices::<T>::get(device).map(|info| info.locked)
	}

	fn slash(
		device: &T::AccountId,
		amount: BalanceOf<T>,
		victim: &T::AccountId,
		max_compensation: BalanceOf<T>,
	) -> Result<(BalanceOf<T>, BalanceOf<T>), DispatchError> {
		let mut info = Devices::<T>::get(device).ok_or(Error::<T>::UnknownDevice)?;
		let reason = HoldReason::DeviceBond.into();
		// Collateral is unlocked before it is slashed, so a slash never leaves `locked` above
		// `bond`; capping at the free bond keeps the other jobs' collateral whole.
		let slashed = amount.min(info.free_bond());
		let mut compensation = max_compensation.min(slashed);
		// A victim that cannot receive (e.g. would stay below the existential deposit)
		// forfeits its part, which is then burned with the rest.
		if !compensation.is_zero()
			&& T::Currency::transfer_on_hold(
				&reason,
				&info.owner,
				victim,
				compensation,
				Precision::Exact,
				Restriction::Free,
				Fortitude::Force,
			)
			.is_err()
		{
			compensation = Zero::zero();
		}
		let rest = slashed.saturating_sub(compensation);
		if !rest.is_zero() {
			T::Currency::burn_held(&reason, &info.owner, rest, Precision::Exact, Fortitude::Force)?;
		}
		info.bond = info.bond.saturating_sub(slashed);
		info.slashed = info.slashed.saturating_add(slashed);
		Devices::<T>::insert(device, info);
		Self::deposit_event(Event::Slashed { device: device.clone(), amount: slashed });
		Ok((slashed, compensation))
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl<T: Config> Pallet<T> {
	/// A funded owner, a fresh device key and its registration proof for that owner.
	pub(crate) fn benchmark_owner_and_device(
		seed: u32,
	) -> (T::AccountId, T::AccountId, T::DeviceSignature) {
		use crate::BenchmarkHelper;
		use frame_support::traits::fungible::{Inspect, Mutate};
		use proofgrid_primitives::device::registration_message;

		let owner: T::AccountId = frame_benchmarking::account("device-owner", seed, 0);
		let funds = T::DeviceBond::get()
			.saturating_mul(1000u32.into())
			.saturating_add(T::Currency::minimum_balance());
		T::Currency::set_balance(&owner, funds);
		let genesis = frame_system::Pallet::<T>::block_hash(
			frame_system::pallet_prelude::BlockNumberFor::<T>::zero(),
		);
		let (device, proof) =
			T::BenchmarkHelper::device_and_proof(&registration_message(&owner, &genesis));
		(owner, device, proof)
	}

	/// Registers a fresh, funded, eligible device asking `price` per unit, for other pallets'
	/// benchmarks. Returns the device account.
	pub fn benchmark_device(seed: u32, price: BalanceOf<T>) -> T::AccountId {
		use frame_support::traits::fungible::{Inspect, Mutate};
		use proofgrid_primitives::{
			device::{DeviceSpec, Kernel},
			testing::device_spec,
		};

		let (owner, device, proof) = Self::benchmark_owner_and_device(seed);
		// The device key pays its own fees.
		T::Currency::set_balance(&device, T::Currency::balance(&owner));
		// Enough memory and speed for any job.
		let spec = DeviceSpec { vram_mib: u32::MAX, ..device_spec(&[Kernel::GemmI8], u64::MAX) };
		Self::register(
			frame_system::RawOrigin::Signed(owner).into(),
			device.clone(),
			spec,
			price,
			proof,
		)
		.expect("benchmark device registers");
		device
	}
}
