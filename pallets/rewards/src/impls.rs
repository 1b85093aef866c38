//! The rewards pallet's internals: work accounting, era ends, claims, expiry and `try_state`.

use alloc::vec::Vec;
use frame_support::{
	pallet_prelude::DispatchResult,
	traits::{
		fungible::{Inspect, Mutate},
		tokens::Preservation,
		Get,
	},
	weights::Weight,
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{AccountIdConversion, Saturating, UniqueSaturatedFrom, UniqueSaturatedInto, Zero},
	Rounding,
};

use crate::{
	schedule, BalanceOf, Cleanup, Config, CurrentEra, CurrentEraFees, CurrentEraStart,
	CurrentEraUnits, EraIndex, EraLength, EraReward, EraStatus, EraWork, Eras, Error, Event,
	Pallet, PendingReward, TotalClaimed, TotalMinted, WeightInfo,
};

impl<T: Config> Pallet<T> {
	/// The account holding finished eras' unclaimed rewards.
	pub fn pot() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	/// What era `era` is scheduled to mint (before the issuance cap).
	pub fn scheduled_emission(era: EraIndex) -> BalanceOf<T> {
		schedule::scheduled_emission(T::FirstEraEmission::get(), T::HalvingInterval::get(), era)
	}

	/// What era `era` would mint now if it had verified work: its schedule, capped.
	fn emission_now(era: EraIndex) -> BalanceOf<T> {
		schedule::capped_emission(
			Self::scheduled_emission(era),
			T::Currency::total_issuance(),
			T::MaxIssuance::get(),
		)
	}

	/// What an era that burned `fees` may mint now: `min(emission, MaxRewardPerFee × fees)`.
	fn mintable(era: EraIndex, fees: BalanceOf<T>) -> BalanceOf<T> {
		Self::emission_now(era).min(T::MaxRewardPerFee::get() * fees)
	}

	/// `pool × part / total`, rounded down.
	fn share(pool: BalanceOf<T>, part: BalanceOf<T>, total: BalanceOf<T>) -> BalanceOf<T> {
		let share = multiply_by_rational_with_rounding(
			pool.unique_saturated_into(),
			part.unique_saturated_into(),
			total.unique_saturated_into(),
			Rounding::Down,
		)
		.unwrap_or_default();
		BalanceOf::<T>::unique_saturated_from(share)
	}

	/// Whether a finished era `era` may still be claimed while `current` is in progress.
	fn expired(era: EraIndex, current: EraIndex) -> bool {
		current.saturating_sub(era) > T::HistoryDepth::get()
	}

	/// Adds verified work, and the fee its client burned, to the current era.
	pub(crate) fn record_work(provider: &T::AccountId, units: u64, fees: BalanceOf<T>) {
		let era = CurrentEra::<T>::get();
		EraWork::<T>::mutate(era, provider, |work| {
			let mut sum = work.unwrap_or_default();
			sum.units = sum.units.saturating_add(units);
			sum.fees = sum.fees.saturating_add(fees);
			*work = Some(sum);
		});
		CurrentEraUnits::<T>::mutate(|total| *total = total.saturating_add(units.into()));
		CurrentEraFees::<T>::mutate(|total| *total = total.saturating_add(fees));
	}

	/// Sends `amount` from the pot to the treasury. Returns what was sent; if the treasury cannot
	/// take it (it does not exist and `amount` is below the existential deposit), it is burned
	/// so that the pot's books stay exact.
	fn pot_to_treasury(amount: BalanceOf<T>) -> BalanceOf<T> {
		if amount.is_zero() {
			return amount;
		}
		let pot = Self::pot();
		match T::Currency::transfer(&pot, &T::Treasury::get(), amount, Preservation::Preserve) {
			Ok(_) => amount,
			Err(error) => {
				log::warn!(target: "runtime::rewards", "treasury refused {amount:?}: {error:?}; burned");
				let _ = T::Currency::burn_from(
					&pot,
					amount,
					Preservation::Preserve,
					frame_support::traits::tokens::Precision::BestEffort,
					frame_support::traits::tokens::Fortitude::Force,
				);
				Zero::zero()
			}
		}
	}

	/// Ends the era in progress at block `now`: mints `min(schedule, ρ × fees burned)` if it
	/// had verified work, opens the next era and expires the one that fell out of the history.
	pub(crate) fn end_era(now: BlockNumberFor<T>) {
		let era = CurrentEra::<T>::get();
		let units = CurrentEraUnits::<T>::take();
		let fees = CurrentEraFees::<T>::take();
		let mut minted = Zero::zero();
		let mut to_treasury = Zero::zero();
		let mut pool = Zero::zero();
		if units > 0 {
			let emission = Self::mintable(era, fees);
			if !emission.is_zero() && T::Currency::mint_into(&Self::pot(), emission).is_ok() {
				minted = emission;
				TotalMinted::<T>::mutate(|total| *total = total.saturating_add(minted));
				to_treasury = Self::pot_to_treasury(T::TreasuryShare::get() * minted);
				pool = minted.saturating_sub(T::TreasuryShare::get() * minted);
			}
			if pool.is_zero() {
				// Nothing to share: the work records go.
				Self::queue_cleanup(era);
			} else {
				Eras::<T>::insert(
					era,
					EraReward { pool, total_fees: fees, unclaimed_fees: fees, paid: Zero::zero() },
				);
			}
		}
		Self::deposit_event(Event::EraEnded { era, units, fees, minted, to_treasury, pool });

		let next = era.saturating_add(1);
		CurrentEra::<T>::put(next);
		CurrentEraStart::<T>::put(now);
		if let Some(expired) = next.checked_sub(T::HistoryDepth::get().saturating_add(1)) {
			if let Some(info) = Eras::<T>::take(expired) {
				let returned = Self::pot_to_treasury(info.pool.saturating_sub(info.paid));
				Self::deposit_event(Event::EraClosed { era: expired, returned });
				Self::queue_cleanup(expired);
			}
		}
	}

	/// Schedules the deletion of `era`'s work records.
	fn queue_cleanup(era: EraIndex) {
		Cleanup::<T>::mutate(|queue| {
			if queue.try_push(era).is_err() {
				// Unreachable in practice (see `MAX_CLEANUP_QUEUE`); the records stay, harmless
				// apart from their storage, and the era can no longer be claimed.
				log::warn!(target: "runtime::rewards", "cleanup queue full; era {era} kept");
			}
		});
	}

	/// Deletes up to `CleanupBatch` work records of the oldest queued era; the number removed,
	/// or `None` when nothing is queued.
	pub(crate) fn clean_up() -> Option<u32> {
		let mut queue = Cleanup::<T>::get();
		let era = *queue.first()?;
		let result = EraWork::<T>::clear_prefix(era, T::CleanupBatch::get(), None);
		if result.maybe_cursor.is_none() {
			queue.remove(0);
			Cleanup::<T>::put(queue);
		}
		Some(result.unique)
	}

	/// Pays `who` its share of finished era `era`.
	pub(crate) fn do_claim(who: &T::AccountId, era: EraIndex) -> DispatchResult {
		let current = CurrentEra::<T>::get();
		frame_support::ensure!(era < current, Error::<T>::EraNotFinished);
		frame_support::ensure!(!Self::expired(era, current), Error::<T>::EraExpired);
		let mut info = Eras::<T>::get(era).ok_or(Error::<T>::NothingToClaim)?;
		let work = EraWork::<T>::take(era, who).ok_or(Error::<T>::NothingToClaim)?;

		let amount = Self::share(info.pool, work.fees, info.total_fees);
		if !amount.is_zero() {
			T::Currency::transfer(&Self::pot(), who, amount, Preservation::Preserve)?;
		}
		info.paid = info.paid.saturating_add(amount);
		TotalClaimed::<T>::mutate(who, |total| *total = total.saturating_add(amount));
		info.unclaimed_fees = info.unclaimed_fees.saturating_sub(work.fees);
		Self::deposit_event(Event::Claimed {
			era,
			provider: who.clone(),
			units: work.units,
			fees: work.fees,
			amount,
		});

		if info.unclaimed_fees.is_zero() {
			Eras::<T>::remove(era);
			let returned = Self::pot_to_treasury(info.pool.saturating_sub(info.paid));
			Self::deposit_event(Event::EraClosed { era, returned });
		} else {
			Eras::<T>::insert(era, info);
		}
		Ok(())
	}

	/// What `who` can claim, era by era.
	pub fn pending_rewards(who: &T::AccountId) -> Vec<PendingReward<BalanceOf<T>>> {
		let current = CurrentEra::<T>::get();
		let oldest = current.saturating_sub(T::HistoryDepth::get());
		(oldest..current)
			.filter_map(|era| {
				let info = Eras::<T>::get(era)?;
				let work = EraWork::<T>::get(era, who)?;
				Some(PendingReward {
					era,
					units: work.units,
					fees: work.fees,
					amount: Self::share(info.pool, work.fees, info.total_fees),
				})
			})
			.collect()
	}

	/// The era in progress.
	pub fn current_era() -> EraStatus<BalanceOf<T>, BlockNumberFor<T>> {
		let era = CurrentEra::<T>::get();
		let start = CurrentEraStart::<T>::get();
		let fees = CurrentEraFees::<T>::get();
		EraStatus {
			era,
			start,
			end: start.saturating_add(EraLength::<T>::get()),
			emission: Self::emission_now(era),
			units: CurrentEraUnits::<T>::get(),
			fees,
			mintable: Self::mintable(era, fees),
		}
	}

	/// The money invariants:
	/// - the pot holds at least its existential deposit plus every open era's unpaid pool;
	/// - each open era is within the history, paid ≤ pool, its pool is below `ρ ×` its fees,
	///   and its unclaimed fees are exactly the sum of its work records; the current era's
	///   units and fees are the sums of its records;
	/// - the pallet never minted more than the schedule of the finished eras, and issuance is
	///   within the cap whenever it minted.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use frame_support::ensure;
		let current = CurrentEra::<T>::get();
		let mut owed = BalanceOf::<T>::zero();
		for (era, info) in Eras::<T>::iter() {
			ensure!(era < current && !Self::expired(era, current), "open era outside the history");
			ensure!(info.paid <= info.pool, "era paid more than its pool");
			ensure!(
				info.pool <= T::MaxRewardPerFee::get() * info.total_fees,
				"era pool above the share of its burned fees"
			);
			ensure!(info.unclaimed_fees <= info.total_fees, "more unclaimed than total fees");
			let recorded = EraWork::<T>::iter_prefix_values(era)
				.fold(BalanceOf::<T>::zero(), |sum, work| sum.saturating_add(work.fees));
			ensure!(recorded == info.unclaimed_fees, "era work records disagree with its total");
			owed = owed.saturating_add(info.pool.saturating_sub(info.paid));
		}
		let (units, fees) = EraWork::<T>::iter_prefix_values(current)
			.fold((0u128, BalanceOf::<T>::zero()), |(units, fees), work| {
				(units + u128::from(work.units), fees.saturating_add(work.fees))
			});
		ensure!(units == CurrentEraUnits::<T>::get(), "current era units disagree");
		ensure!(fees == CurrentEraFees::<T>::get(), "current era fees disagree");
		ensure!(
			T::Currency::balance(&Self::pot())
				>= owed.saturating_add(T::Currency::minimum_balance()),
			"the pot cannot pay what the open eras owe"
		);
		let minted = TotalMinted::<T>::get();
		ensure!(
			minted
				<= schedule::total_scheduled(
					T::FirstEraEmission::get(),
					T::HalvingInterval::get(),
					current
				),
			"minted more than scheduled"
		);
		ensure!(
			minted.is_zero() || T::Currency::total_issuance() <= T::MaxIssuance::get(),
			"issuance above the cap"
		);
		Ok(())
	}
}

/// The jobs pallet reports verified work here.
impl<T: Config> proofgrid_primitives::traits::OnWorkVerified<T::AccountId, BalanceOf<T>>
	for Pallet<T>
{
	fn on_work_verified(provider: &T::AccountId, units: u64, fee_burned: BalanceOf<T>) {
		Self::record_work(provider, units, fee_burned);
	}

	fn weight() -> Weight {
		T::WeightInfo::on_work_verified()
	}
}
