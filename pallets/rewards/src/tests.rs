//! Emission, work accounting, claims, expiry and the money invariants of the rewards pallet,
//! with work earned through real jobs where it matters.

use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect};
use proofgrid_primitives::traits::OnWorkVerified;

use crate::{
	mock::*, Cleanup, CurrentEra, CurrentEraFees, CurrentEraUnits, EraLength, EraReward, EraStatus,
	EraWork, Eras, Error, Event, PendingReward, TotalClaimed, TotalMinted, Work,
};

/// Burned fees reported per unit by [`work`]: enough that the schedule, not ρ × fees, bounds
/// the emission in the tests about the schedule.
const FEE_PER_UNIT: Balance = 10_000;

fn free(who: &AccountId) -> Balance {
	Balances::balance(who)
}
fn treasury() -> Balance {
	free(&account(TREASURY))
}
fn pot() -> Balance {
	free(&Rewards::pot())
}
fn claim(p: u8, era: u32) -> frame_support::dispatch::DispatchResult {
	Rewards::claim(RuntimeOrigin::signed(account(p)), era)
}
fn rewards_events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Rewards(event) => Some(event),
			_ => None,
		})
		.collect()
}
/// Work reported the way the jobs pallet reports it, with `FEE_PER_UNIT` burned per unit.
fn work(p: u8, units: u64) {
	<Rewards as OnWorkVerified<AccountId, Balance>>::on_work_verified(
		&account(p),
		units,
		units * FEE_PER_UNIT,
	);
}
fn recorded(units: u64) -> Option<Work<Balance>> {
	Some(Work { units, fees: units * FEE_PER_UNIT })
}

mod genesis {
	use super::*;

	#[test]
	fn the_pot_holds_its_existential_deposit_and_eras_use_the_default_length() {
		build_and_execute(|| {
			assert_eq!(pot(), ED);
			assert_eq!(EraLength::<Test>::get(), ERA_LENGTH);
			assert_eq!(CurrentEra::<Test>::get(), 0);
		});
	}

	#[test]
	fn genesis_can_shorten_eras() {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		crate::GenesisConfig::<Test> { era_length: Some(3) }
			.assimilate_storage(&mut storage)
			.unwrap();
		sp_io::TestExternalities::new(storage).execute_with(|| {
			assert_eq!(EraLength::<Test>::get(), 3);
			run_to_block(3);
			assert_eq!(CurrentEra::<Test>::get(), 1);
		});
	}
	use sp_runtime::BuildStorage;
}

mod work_accounting {
	use super::*;

	#[test]
	fn settled_jobs_count_for_their_owner_and_failed_ones_not_at_all() {
		build_and_execute(|| {
			EraLength::<Test>::put(100);
			for p in PROVIDERS {
				register_device(p);
			}
			assert!(run_job(11, true));
			assert!(run_job(11, true));
			assert!(run_job(12, true));
			assert!(!run_job(13, false));
			// Each job paid 10 000 and burned a 10% fee.
			assert_eq!(EraWork::<Test>::get(0, account(11)), Some(Work { units: 2, fees: 2_000 }));
			assert_eq!(EraWork::<Test>::get(0, account(12)), Some(Work { units: 1, fees: 1_000 }));
			assert_eq!(EraWork::<Test>::get(0, account(13)), None);
			// The device key earns nothing itself: rewards go to the owner.
			assert_eq!(EraWork::<Test>::get(0, device(11)), None);
			assert_eq!(CurrentEraUnits::<Test>::get(), 3);
			assert_eq!(CurrentEraFees::<Test>::get(), 3_000);
		});
	}

	#[test]
	fn work_goes_to_the_era_in_progress() {
		build_and_execute(|| {
			work(11, 5);
			run_to_era(1);
			work(11, 7);
			assert_eq!(EraWork::<Test>::get(0, account(11)), recorded(5));
			assert_eq!(EraWork::<Test>::get(1, account(11)), recorded(7));
			assert_eq!(CurrentEraUnits::<Test>::get(), 7);
		});
	}
}

mod era_end {
	use super::*;

	#[test]
	fn an_era_with_work_mints_its_schedule_and_pays_the_treasury_share() {
		build_and_execute(|| {
			let issuance = Balances::total_issuance();
			let treasury_before = treasury();
			work(11, 4);
			run_to_block(ERA_LENGTH - 1);
			assert_eq!(CurrentEra::<Test>::get(), 0, "the era lasts ERA_LENGTH blocks");
			run_to_block(ERA_LENGTH);
			assert_eq!(CurrentEra::<Test>::get(), 1);
			assert_eq!(Balances::total_issuance(), issuance + FIRST_EMISSION);
			assert_eq!(treasury(), treasury_before + 100);
			assert_eq!(pot(), ED + 900);
			assert_eq!(TotalMinted::<Test>::get(), FIRST_EMISSION);
			assert_eq!(
				Eras::<Test>::get(0),
				Some(EraReward {
					pool: 900,
					total_fees: 4 * FEE_PER_UNIT,
					unclaimed_fees: 4 * FEE_PER_UNIT,
					paid: 0
				})
			);
			assert_eq!(
				rewards_events(),
				vec![Event::EraEnded {
					era: 0,
					units: 4,
					fees: 4 * FEE_PER_UNIT,
					minted: 1_000,
					to_treasury: 100,
					pool: 900
				}]
			);
		});
	}

	#[test]
	fn an_era_without_work_mints_nothing() {
		build_and_execute(|| {
			let issuance = Balances::total_issuance();
			let treasury_before = treasury();
			run_to_era(1);
			assert_eq!(Balances::total_issuance(), issuance);
			assert_eq!(treasury(), treasury_before);
			assert_eq!(Eras::<Test>::get(0), None);
			assert_eq!(
				rewards_events(),
				vec![Event::EraEnded {
					era: 0,
					units: 0,
					fees: 0,
					minted: 0,
					to_treasury: 0,
					pool: 0
				}]
			);
			// The schedule moves on regardless: era 2 is on the first halving.
			run_to_era(2);
			work(11, 1);
			run_to_era(3);
			assert_eq!(TotalMinted::<Test>::get(), FIRST_EMISSION / 2);
		});
	}

	#[test]
	fn emission_halves_on_schedule() {
		build_and_execute(|| {
			let mut minted = vec![];
			for era in 0..6 {
				work(11, 1);
				let before = TotalMinted::<Test>::get();
				run_to_era(era + 1);
				minted.push(TotalMinted::<Test>::get() - before);
			}
			assert_eq!(minted, vec![1_000, 1_000, 500, 500, 250, 250]);
		});
	}

	#[test]
	fn minting_stops_at_the_issuance_cap() {
		build_and_execute(|| {
			MaxIssuance::set(Balances::total_issuance() + 1_500);
			work(11, 1);
			run_to_era(1);
			work(11, 1);
			run_to_era(2);
			// Era 1 was scheduled 1 000 but only 500 fitted under the cap.
			assert_eq!(TotalMinted::<Test>::get(), 1_500);
			assert_eq!(Balances::total_issuance(), MaxIssuance::get());
			work(11, 1);
			run_to_era(3);
			assert_eq!(TotalMinted::<Test>::get(), 1_500);
			assert_eq!(Balances::total_issuance(), MaxIssuance::get());
			// Era 2 minted nothing: its work records are deleted, and there is nothing to claim.
			assert_eq!(Eras::<Test>::get(2), None);
			assert_eq!(Cleanup::<Test>::get().into_inner(), Vec::<u32>::new());
			assert_eq!(EraWork::<Test>::get(2, account(11)), None);
			assert_noop!(claim(11, 2), Error::<Test>::NothingToClaim);
			assert_ok!(claim(11, 0));
			assert_ok!(claim(11, 1));
			assert_eq!(free(&account(11)), ENDOWMENT + 900 + 450);
		});
	}

	#[test]
	fn an_era_mints_at_most_rho_times_the_fees_its_jobs_burned() {
		build_and_execute(|| {
			let issuance = Balances::total_issuance();
			// 300 burned: the era may mint 150 of its 1 000 scheduled, and no more.
			<Rewards as OnWorkVerified<AccountId, Balance>>::on_work_verified(&account(11), 3, 300);
			assert_eq!(Rewards::current_era().mintable, 150);
			run_to_era(1);
			assert_eq!(TotalMinted::<Test>::get(), 150);
			assert_eq!(Balances::total_issuance(), issuance + 150);
			// The treasury takes its 10%; the provider the rest, strictly less than the fees.
			assert_ok!(claim(11, 0));
			assert_eq!(free(&account(11)), ENDOWMENT + 135);
			// A job that burned nothing earns nothing.
			<Rewards as OnWorkVerified<AccountId, Balance>>::on_work_verified(&account(12), 5, 0);
			run_to_era(2);
			assert_eq!(TotalMinted::<Test>::get(), 150);
		});
	}
}

mod self_dealing {
	//! docs/PROTOCOL.md §6.1: a provider that buys its own work ends every era poorer, however it sizes
	//! and prices the jobs, even when it is the only provider and takes the whole emission.
	use super::*;
	use frame_support::traits::fungible::InspectHold;
	use proofgrid_primitives::gemm::GemmShape;

	/// Account 21 is the attacker's client; it owns provider 11 and device 11 too.
	const ATTACKER_CLIENT: u8 = 21;

	/// Everything the attacker holds: free and held balances of its three accounts.
	fn attacker_total() -> Balance {
		[account(11), device(11), account(ATTACKER_CLIENT)]
			.iter()
			.map(|who| Balances::balance(who) + Balances::total_balance_on_hold(who))
			.sum()
	}

	/// Registers the attacker's device at `price`, funds its client, runs `jobs` self-dealt jobs
	/// of `shape` in one era, claims the era's reward; returns the attacker's change in wealth.
	fn self_deal(price: Balance, shape: GemmShape, jobs: u32) -> i128 {
		use frame_support::traits::fungible::Mutate;
		Balances::set_balance(&account(ATTACKER_CLIENT), ENDOWMENT);
		register_device_at(11, price);
		assert_ok!(Devices::top_up_bond(
			RuntimeOrigin::signed(account(11)),
			device(11),
			ENDOWMENT / 10
		));
		let before = attacker_total();
		let era = CurrentEra::<Test>::get();
		for _ in 0..jobs {
			assert!(run_job_for(ATTACKER_CLIENT, 11, shape, price, true));
		}
		assert_eq!(CurrentEra::<Test>::get(), era, "all jobs in one era");
		run_to_era(era + 1);
		// Whatever the era minted for it (possibly nothing: ρ × a tiny fee rounds to zero).
		if !Rewards::pending_rewards(&account(11)).is_empty() {
			assert_ok!(claim(11, era));
		}
		attacker_total() as i128 - before as i128
	}

	#[test]
	fn a_zero_price_is_refused() {
		build_and_execute(|| {
			register_device_at(11, MIN_PRICE);
			assert_noop!(
				pallet_jobs::Pallet::<Test>::submit_job(
					RuntimeOrigin::signed(account(CLIENT)),
					job_spec(1),
					0,
					20
				),
				pallet_jobs::Error::<Test>::PriceTooLow
			);
		});
	}

	#[test]
	fn one_tiny_job_at_the_minimum_price_loses() {
		build_and_execute(|| {
			EraLength::<Test>::put(100);
			let change = self_deal(MIN_PRICE, job_spec(0).shape, 1);
			assert!(change < 0, "self-dealing changed the attacker's wealth by {change}");
		});
	}

	#[test]
	fn many_tiny_jobs_at_the_minimum_price_lose() {
		build_and_execute(|| {
			EraLength::<Test>::put(100);
			let change = self_deal(MIN_PRICE, job_spec(0).shape, 8);
			assert!(change < 0, "self-dealing changed the attacker's wealth by {change}");
		});
	}

	#[test]
	fn huge_jobs_at_a_high_price_lose_even_with_the_whole_emission() {
		build_and_execute(|| {
			EraLength::<Test>::put(100);
			// 64×64×62 = 507 904 operations: 992 units, just under MaxWorkUnits.
			let huge = GemmShape { m: 64, n: 64, k: 62 };
			let change = self_deal(1_000_000, huge, 2);
			assert!(change < 0, "self-dealing changed the attacker's wealth by {change}");
			// The schedule (1 000) was far below ρ × fees here: the loss is nearly all the fee.
			assert_eq!(TotalMinted::<Test>::get(), FIRST_EMISSION);
		});
	}

	#[test]
	fn a_price_tuned_so_the_fee_cap_binds_still_loses() {
		build_and_execute(|| {
			EraLength::<Test>::put(100);
			// Fees of 2 × 1 000 burn; ρ × fees = 1 000 = the schedule: the best case for an
			// attacker, who then receives 90% of 1 000 for 2 000 burned.
			let change = self_deal(PRICE, job_spec(0).shape, 2);
			assert_eq!(change, -2_000 + 900);
		});
	}
}

mod claims {
	use super::*;

	#[test]
	fn uneven_work_is_paid_in_proportion_and_the_dust_goes_to_the_treasury() {
		build_and_execute(|| {
			work(11, 1);
			work(12, 2);
			work(13, 4);
			run_to_era(1);
			let treasury_before = treasury();
			// Pool 900 over 7 units: 128.57…, 257.14…, 514.28… rounded down.
			assert_ok!(claim(13, 0));
			assert_ok!(claim(11, 0));
			assert_eq!(free(&account(13)), ENDOWMENT + 514);
			assert_eq!(free(&account(11)), ENDOWMENT + 128);
			assert_eq!(Eras::<Test>::get(0).unwrap().paid, 642);
			assert_eq!(treasury(), treasury_before);
			assert_ok!(claim(12, 0));
			assert_eq!(free(&account(12)), ENDOWMENT + 257);
			// 900 − 899 = 1 of dust, and the era is closed.
			assert_eq!(treasury(), treasury_before + 1);
			assert_eq!(Eras::<Test>::get(0), None);
			assert_eq!(pot(), ED);
			assert_eq!(rewards_events().last(), Some(&Event::EraClosed { era: 0, returned: 1 }));
		});
	}

	#[test]
	fn each_providers_claimed_rewards_add_up_over_eras() {
		build_and_execute(|| {
			work(11, 1);
			work(12, 3);
			run_to_era(1);
			work(11, 1);
			run_to_era(2);
			assert_eq!(TotalClaimed::<Test>::get(account(11)), 0);
			assert_ok!(claim(11, 0));
			let first = free(&account(11)) - ENDOWMENT;
			assert!(first > 0);
			assert_eq!(TotalClaimed::<Test>::get(account(11)), first);
			assert_ok!(claim(11, 1));
			// Both eras' claims, exactly what reached the account; nobody else's.
			assert_eq!(TotalClaimed::<Test>::get(account(11)), free(&account(11)) - ENDOWMENT);
			assert!(TotalClaimed::<Test>::get(account(11)) > first);
			assert_eq!(TotalClaimed::<Test>::get(account(12)), 0);
		});
	}

	#[test]
	fn rewards_of_real_jobs_reach_the_honest_providers_only() {
		build_and_execute(|| {
			EraLength::<Test>::put(100);
			let issuance = Balances::total_issuance();
			for p in PROVIDERS {
				register_device(p);
			}
			for _ in 0..3 {
				assert!(run_job(11, true));
			}
			assert!(run_job(12, true));
			assert!(!run_job(13, false));
			run_to_era(1);
			let (a, b, c) = (free(&account(11)), free(&account(12)), free(&account(13)));
			assert_ok!(claim(11, 0));
			assert_ok!(claim(12, 0));
			assert_noop!(claim(13, 0), Error::<Test>::NothingToClaim);
			assert_eq!(free(&account(11)), a + 675);
			assert_eq!(free(&account(12)), b + 225);
			assert_eq!(free(&account(13)), c);
			// Issuance = genesis + minted − burned fees − burned slashes: nothing else created
			// or destroyed money.
			assert_eq!(
				Balances::total_issuance(),
				issuance + TotalMinted::<Test>::get()
					- pallet_jobs::FeesBurned::<Test>::get()
					- pallet_jobs::SlashesBurned::<Test>::get()
			);
			assert_eq!(TotalMinted::<Test>::get(), FIRST_EMISSION);
		});
	}

	#[test]
	fn a_second_claim_is_refused() {
		build_and_execute(|| {
			work(11, 1);
			work(12, 1);
			run_to_era(1);
			assert_ok!(claim(11, 0));
			assert_noop!(claim(11, 0), Error::<Test>::NothingToClaim);
			assert_ok!(claim(12, 0));
			// After the era closed, too.
			assert_noop!(claim(12, 0), Error::<Test>::NothingToClaim);
			assert_eq!(
				rewards_events().iter().filter(|e| matches!(e, Event::Claimed { .. })).count(),
				2
			);
		});
	}

	#[test]
	fn an_unfinished_era_cannot_be_claimed() {
		build_and_execute(|| {
			work(11, 1);
			assert_noop!(claim(11, 0), Error::<Test>::EraNotFinished);
			assert_noop!(claim(11, 5), Error::<Test>::EraNotFinished);
			run_to_era(1);
			assert_noop!(claim(11, 1), Error::<Test>::EraNotFinished);
			assert_ok!(claim(11, 0));
		});
	}

	#[test]
	fn accounts_without_work_have_nothing_to_claim() {
		build_and_execute(|| {
			work(11, 1);
			run_to_era(1);
			assert_noop!(claim(12, 0), Error::<Test>::NothingToClaim);
			assert_noop!(
				Rewards::claim(RuntimeOrigin::none(), 0),
				sp_runtime::DispatchError::BadOrigin
			);
		});
	}

	#[test]
	fn expired_eras_go_to_the_treasury_and_their_records_are_cleaned_up_in_batches() {
		let mut ext = new_test_ext();
		ext.execute_with(|| {
			// Five providers: two cleanup blocks at two records each for the four unclaimed.
			for p in [11, 12, 13, 14, 15] {
				work(p, 1);
			}
			run_to_era(1);
			assert_ok!(claim(11, 0));
			// Claimable during eras 1..=HISTORY.
			run_to_era(HISTORY);
			assert!(Eras::<Test>::get(0).is_some());
		});
		// Deletion limits count records in the database, not in the block's overlay.
		ext.commit_all().unwrap();
		ext.execute_with(|| {
			let treasury_before = treasury();
			run_to_era(HISTORY + 1);
			assert_noop!(claim(12, 0), Error::<Test>::EraExpired);
			assert_eq!(Eras::<Test>::get(0), None);
			// 900 − 180 claimed = 720 returned.
			assert_eq!(treasury(), treasury_before + 720);
			assert_eq!(pot(), ED);
			assert!(rewards_events().contains(&Event::EraClosed { era: 0, returned: 720 }));
			// The era-end block removed two records; the next block the other two.
			assert_eq!(EraWork::<Test>::iter_prefix(0).count(), 2);
			assert_eq!(Cleanup::<Test>::get().into_inner(), vec![0]);
		});
		ext.commit_all().unwrap();
		ext.execute_with(|| {
			run_to_block(System::block_number() + 1);
			assert_eq!(EraWork::<Test>::iter_prefix(0).count(), 0);
			run_to_block(System::block_number() + 1);
			assert!(Cleanup::<Test>::get().is_empty());
			Rewards::do_try_state().unwrap();
		});
	}
}

mod queries {
	use super::*;

	#[test]
	fn pending_rewards_and_the_current_era() {
		build_and_execute(|| {
			assert_eq!(
				Rewards::current_era(),
				EraStatus {
					era: 0,
					start: 0,
					end: ERA_LENGTH,
					emission: 1_000,
					units: 0,
					fees: 0,
					mintable: 0
				}
			);
			work(11, 1);
			work(12, 3);
			run_to_era(1);
			work(11, 2);
			assert_eq!(
				Rewards::current_era(),
				EraStatus {
					era: 1,
					start: 10,
					end: 20,
					emission: 1_000,
					units: 2,
					fees: 2 * FEE_PER_UNIT,
					mintable: 1_000
				}
			);
			run_to_era(2);
			assert_eq!(
				Rewards::pending_rewards(&account(11)),
				vec![
					PendingReward { era: 0, units: 1, fees: FEE_PER_UNIT, amount: 225 },
					PendingReward { era: 1, units: 2, fees: 2 * FEE_PER_UNIT, amount: 900 },
				]
			);
			assert_ok!(claim(11, 1));
			assert_eq!(
				Rewards::pending_rewards(&account(11)),
				vec![PendingReward { era: 0, units: 1, fees: FEE_PER_UNIT, amount: 225 }]
			);
			assert_eq!(Rewards::pending_rewards(&account(14)), vec![]);
			// Under the cap the advertised emission shrinks to what fits.
			MaxIssuance::set(Balances::total_issuance() + 7);
			assert_eq!(Rewards::current_era().emission, 7);
		});
	}
}

mod invariants {
	use super::*;

	#[test]
	fn try_state_catches_broken_books() {
		new_test_ext().execute_with(|| {
			work(11, 2);
			run_to_era(1);
			assert_ok!(Rewards::do_try_state());
			// A work record that the era's totals do not know about.
			EraWork::<Test>::insert(0, account(12), Work { units: 1, fees: 1 });
			assert!(Rewards::do_try_state().is_err());
			EraWork::<Test>::remove(0, account(12));
			// The pot short of what it owes.
			assert_ok!(<Balances as frame_support::traits::fungible::Mutate<_>>::burn_from(
				&Rewards::pot(),
				1,
				frame_support::traits::tokens::Preservation::Expendable,
				frame_support::traits::tokens::Precision::Exact,
				frame_support::traits::tokens::Fortitude::Force,
			));
			assert!(Rewards::do_try_state().is_err());
		});
	}

	#[test]
	fn try_state_catches_minting_beyond_the_schedule() {
		new_test_ext().execute_with(|| {
			TotalMinted::<Test>::put(1);
			assert!(Rewards::do_try_state().is_err());
		});
	}
}
