//! Benchmarks of `claim`, of the hook the jobs pallet calls, and of every path of
//! `on_initialize` (idle block, era end, cleanup), each in its worst case.

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::{
	fungible::{Inspect, Mutate},
	Get, Hooks,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use proofgrid_primitives::traits::OnWorkVerified;
use sp_runtime::traits::Saturating;

fn provider<T: Config>(i: u32) -> T::AccountId {
	let who: T::AccountId = account("provider", i, 0);
	T::Currency::set_balance(&who, T::Currency::minimum_balance());
	who
}

/// Ends the era in progress, as its last block's successor would.
fn close_era<T: Config>() {
	let now = CurrentEraStart::<T>::get().saturating_add(EraLength::<T>::get());
	frame_system::Pallet::<T>::set_block_number(now);
	Pallet::<T>::end_era(now);
}

/// Makes sure the pot exists, as the genesis build does.
fn fund_pot<T: Config>() {
	let pot = Pallet::<T>::pot();
	if T::Currency::balance(&pot) < T::Currency::minimum_balance() {
		T::Currency::set_balance(&pot, T::Currency::minimum_balance());
	}
}

/// Burned fees for `units` of work: plenty, so that the schedule bounds the emission.
fn fees<T: Config>(units: u32) -> BalanceOf<T> {
	T::FirstEraEmission::get().saturating_mul((1_000 * units).into())
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// The last claim of an era: pays the provider and sends the dust to the treasury.
	#[benchmark]
	fn claim() {
		fund_pot::<T>();
		let first = provider::<T>(0);
		let last = provider::<T>(1);
		// Uneven work so that rounding leaves dust.
		Pallet::<T>::record_work(&first, 1, fees::<T>(1));
		Pallet::<T>::record_work(&last, 2, fees::<T>(2));
		close_era::<T>();
		Pallet::<T>::claim(RawOrigin::Signed(first).into(), 0).expect("first claim");
		assert!(Eras::<T>::get(0).is_some());

		#[extrinsic_call]
		_(RawOrigin::Signed(last), 0);

		assert!(Eras::<T>::get(0).is_none());
	}

	/// Work by a provider new in the era.
	#[benchmark]
	fn on_work_verified() {
		let who = provider::<T>(0);

		#[block]
		{
			<Pallet<T> as OnWorkVerified<T::AccountId, BalanceOf<T>>>::on_work_verified(
				&who,
				1,
				fees::<T>(1),
			);
		}

		assert_eq!(EraWork::<T>::get(0, &who).map(|work| work.units), Some(1));
	}

	/// A block inside an era with nothing to clean up.
	#[benchmark]
	fn on_initialize_idle() {
		let now: BlockNumberFor<T> = 1u32.into();

		#[block]
		{
			Pallet::<T>::on_initialize(now);
		}

		assert_eq!(CurrentEra::<T>::get(), 0);
	}

	/// An era end that mints, pays the treasury share and expires an unclaimed era.
	#[benchmark]
	fn end_era() {
		fund_pot::<T>();
		let who = provider::<T>(0);
		let depth = T::HistoryDepth::get();
		for _ in 0..depth {
			Pallet::<T>::record_work(&who, 1, fees::<T>(1));
			close_era::<T>();
		}
		Pallet::<T>::record_work(&who, 1, fees::<T>(1));
		assert!(Eras::<T>::get(0).is_some());
		let now = CurrentEraStart::<T>::get().saturating_add(EraLength::<T>::get());

		#[block]
		{
			Pallet::<T>::end_era(now);
		}

		assert!(Eras::<T>::get(0).is_none());
		assert!(Eras::<T>::get(depth).is_some());
	}

	/// Deleting `n` work records of an expired era.
	#[benchmark]
	fn clean_up(n: Linear<1, { T::CleanupBatch::get() }>) {
		for i in 0..n {
			let work = Work { units: 1, fees: fees::<T>(1) };
			EraWork::<T>::insert(0, account::<T::AccountId>("provider", i, 0), work);
		}
		Cleanup::<T>::put(frame_support::BoundedVec::truncate_from(alloc::vec![0]));

		#[block]
		{
			Pallet::<T>::clean_up();
		}

		assert!(EraWork::<T>::iter_prefix(0).next().is_none());
		assert!(Cleanup::<T>::get().is_empty());
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
