//! The emission schedule: pure functions of the `Config` constants, so anyone can compute what
//! the chain will mint in any era without running it.
//!
//! Era `e` is scheduled `first >> (e / halving_interval)`: the first emission, halved every
//! `halving_interval` eras, rounded down. What an era really mints is that, capped by the room
//! left under the hard cap on total issuance ([`capped_emission`]), and only if the era had
//! verified work.

use sp_runtime::traits::{AtLeast32BitUnsigned, Zero};

/// Tokens scheduled for era `era`: `first` halved `era / halving_interval` times, rounded down.
/// A `halving_interval` of zero is treated as one.
pub fn scheduled_emission<B: AtLeast32BitUnsigned + Copy>(
	first: B,
	halving_interval: u32,
	era: u32,
) -> B {
	let halvings = era / halving_interval.max(1);
	first.checked_shr(halvings).unwrap_or_else(Zero::zero)
}

/// The sum of [`scheduled_emission`] over eras `0..eras`, in O(number of halvings).
pub fn total_scheduled<B: AtLeast32BitUnsigned + Copy>(
	first: B,
	halving_interval: u32,
	eras: u32,
) -> B {
	let interval = halving_interval.max(1);
	let mut total = B::zero();
	let mut start = 0u32;
	while start < eras {
		let per_era = scheduled_emission(first, interval, start);
		if per_era.is_zero() {
			break;
		}
		let count = interval.min(eras - start);
		total = total.saturating_add(per_era.saturating_mul(B::from(count)));
		start = start.saturating_add(interval);
	}
	total
}

/// The first era whose scheduled emission is zero: `halving_interval × bits(first)`.
pub fn first_empty_era<B: AtLeast32BitUnsigned + Copy>(first: B, halving_interval: u32) -> u32 {
	let interval = halving_interval.max(1);
	let mut halvings = 0u32;
	let mut left = first;
	while !left.is_zero() {
		left /= B::from(2u32);
		halvings += 1;
	}
	interval.saturating_mul(halvings)
}

/// What an era mints: its schedule, never past `cap` on total issuance.
pub fn capped_emission<B: AtLeast32BitUnsigned + Copy>(scheduled: B, issuance: B, cap: B) -> B {
	scheduled.min(cap.saturating_sub(issuance))
}

#[cfg(test)]
mod tests {
	use super::*;
	use proptest::prelude::*;

	#[test]
	fn halves_every_interval_and_rounds_down() {
		let emission: Vec<u64> = (0..8).map(|era| scheduled_emission(1_001u64, 2, era)).collect();
		assert_eq!(emission, vec![1_001, 1_001, 500, 500, 250, 250, 125, 125]);
		assert_eq!(scheduled_emission(1u64, 1, 1), 0);
		// Far beyond the width of the type: zero, no panic.
		assert_eq!(scheduled_emission(u128::MAX, 1, 200), 0);
		assert_eq!(scheduled_emission(u128::MAX, 1, u32::MAX), 0);
		// A zero interval behaves as one.
		assert_eq!(scheduled_emission(8u64, 0, 2), 2);
	}

	#[test]
	fn emission_hits_zero_at_the_predicted_era() {
		// 1 000 has 10 bits: ten halvings of 3 eras each.
		assert_eq!(first_empty_era(1_000u64, 3), 30);
		assert_eq!(scheduled_emission(1_000u64, 3, 29), 1);
		assert_eq!(scheduled_emission(1_000u64, 3, 30), 0);
		assert_eq!(first_empty_era(0u64, 3), 0);
		// The runtime's schedule: 1 000 GRID per hour, halving yearly.
		let first: u128 = 1_000 * 1_000_000_000_000;
		let era = first_empty_era(first, 8_760);
		assert_eq!(scheduled_emission(first, 8_760, era), 0);
		assert_eq!(scheduled_emission(first, 8_760, era - 1), 1);
	}

	#[test]
	fn total_matches_the_era_by_era_sum() {
		for (first, interval) in [(1_000u64, 3u32), (7, 1), (1 << 40, 5), (0, 4)] {
			let mut sum = 0u64;
			for eras in 0..200u32 {
				assert_eq!(
					total_scheduled(first, interval, eras),
					sum,
					"{first} {interval} {eras}"
				);
				sum += scheduled_emission(first, interval, eras);
			}
		}
	}

	#[test]
	fn the_cap_is_never_crossed() {
		assert_eq!(capped_emission(100u64, 950, 1_000), 50);
		assert_eq!(capped_emission(100u64, 800, 1_000), 100);
		assert_eq!(capped_emission(100u64, 1_000, 1_000), 0);
		// Issuance above the cap (e.g. a large genesis): nothing, not an underflow.
		assert_eq!(capped_emission(100u64, 2_000, 1_000), 0);
	}

	proptest! {
		/// Everything ever scheduled is below `2 × first × interval`, so a cap of that size is
		/// never binding; and every era's emission is at most the first's.
		#[test]
		fn the_whole_schedule_is_bounded(first in 0u128..(1 << 100), interval in 1u32..10_000) {
			let forever = total_scheduled(first, interval, u32::MAX);
			prop_assert!(forever <= 2 * first * interval as u128);
			prop_assert_eq!(forever, total_scheduled(first, interval, first_empty_era(first, interval)));
			let era = interval * 3 + 1;
			prop_assert!(scheduled_emission(first, interval, era) <= first);
		}

		/// Minting era by era under a cap never crosses it, and never mints more than scheduled.
		#[test]
		fn minting_under_a_cap(first in 1u64..1_000_000, interval in 1u32..20, genesis in 0u64..10_000_000, room in 0u64..10_000_000) {
			let cap = genesis + room;
			let mut issuance = genesis;
			for era in 0..200 {
				let scheduled = scheduled_emission(first, interval, era);
				let minted = capped_emission(scheduled, issuance, cap);
				prop_assert!(minted <= scheduled);
				issuance += minted;
				prop_assert!(issuance <= cap);
			}
			prop_assert_eq!(issuance - genesis, total_scheduled(first, interval, 200).min(room));
		}
	}
}
