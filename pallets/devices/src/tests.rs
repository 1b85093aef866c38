//! Tests of every call's success and errors, heartbeat expiry, unbonding timing, slashing (also
//! while unbonding) and the registration proof (forged, replayed, foreign).

use frame_support::{
	assert_noop, assert_ok,
	dispatch::Pays,
	traits::fungible::{hold::Inspect as HoldInspect, Inspect},
};
use proofgrid_primitives::{
	device::{DeviceStatus, Kernel, KernelSet, Requirements},
	traits::DeviceRegistry,
};
use sp_runtime::TokenError;

use crate::{mock::*, Devices as DevicesMap, Error, Event, HoldReason, OwnerDevices};

fn held(who: u8) -> Balance {
	Balances::balance_on_hold(&HoldReason::DeviceBond.into(), &account(who))
}

/// Registers device `n` for owner `owner` with price 5.
fn register(owner: u8, n: u8) {
	assert_ok!(Devices::register(
		RuntimeOrigin::signed(account(owner)),
		device(n),
		spec(),
		5,
		proof(&device_pair(n), &account(owner)),
	));
}

fn requirements() -> Requirements {
	Requirements { kernel: Kernel::GemmI8, min_vram_mib: 40_000, min_gops: 500_000 }
}

mod register {
	use super::*;

	#[test]
	fn holds_the_bond_and_stores_the_device() {
		build_and_execute(|| {
			register(ALICE, 1);
			let info = DevicesMap::<Test>::get(device(1)).expect("stored");
			assert_eq!(info.owner, account(ALICE));
			assert_eq!(info.bond, BOND);
			assert_eq!(info.status, DeviceStatus::Active);
			assert_eq!(info.last_heartbeat, 1);
			assert_eq!(info.price_per_unit, 5);
			assert_eq!(held(ALICE), BOND);
			assert_eq!(Balances::balance(&account(ALICE)), ENDOWMENT - BOND);
			assert_eq!(OwnerDevices::<Test>::get(account(ALICE)).into_inner(), vec![device(1)]);
			System::assert_last_event(
				Event::Registered { owner: account(ALICE), device: device(1), bond: BOND }.into(),
			);
		});
	}

	#[test]
	fn refuses_a_device_registered_twice() {
		build_and_execute(|| {
			register(ALICE, 1);
			assert_noop!(
				Devices::register(
					RuntimeOrigin::signed(account(BOB)),
					device(1),
					spec(),
					5,
					proof(&device_pair(1), &account(BOB)),
				),
				Error::<Test>::AlreadyRegistered
			);
		});
	}

	#[test]
	fn refuses_a_proof_by_another_key() {
		build_and_execute(|| {
			assert_noop!(
				Devices::register(
					RuntimeOrigin::signed(account(ALICE)),
					device(1),
					spec(),
					5,
					proof(&device_pair(2), &account(ALICE)),
				),
				Error::<Test>::BadProof
			);
		});
	}

	#[test]
	fn refuses_a_proof_replayed_by_another_owner() {
		build_and_execute(|| {
			// Bob saw Alice's registration proof and tries to claim the device for himself.
			let alices_proof = proof(&device_pair(1), &account(ALICE));
			assert_noop!(
				Devices::register(
					RuntimeOrigin::signed(account(BOB)),
					device(1),
					spec(),
					5,
					alices_proof,
				),
				Error::<Test>::BadProof
			);
		});
	}

	#[test]
	fn refuses_a_proof_made_for_another_chain() {
		build_and_execute(|| {
			assert_noop!(
				Devices::register(
					RuntimeOrigin::signed(account(ALICE)),
					device(1),
					spec(),
					5,
					foreign_proof(&device_pair(1), &account(ALICE)),
				),
				Error::<Test>::BadProof
			);
		});
	}

	#[test]
	fn refuses_a_device_key_owning_itself() {
		build_and_execute(|| {
			assert_noop!(
				Devices::register(
					RuntimeOrigin::signed(device(1)),
					device(1),
					spec(),
					5,
					proof(&device_pair(1), &device(1)),
				),
				Error::<Test>::DeviceIsOwner
			);
		});
	}

	#[test]
	fn refuses_unusable_specs() {
		build_and_execute(|| {
			let mut no_memory = spec();
			no_memory.vram_mib = 0;
			let mut no_speed = spec();
			no_speed.advertised_gops = 0;
			let mut no_kernel = spec();
			no_kernel.kernels = KernelSet::default();
			for bad in [no_memory, no_speed, no_kernel] {
				assert_noop!(
					Devices::register(
						RuntimeOrigin::signed(account(ALICE)),
						device(1),
						bad,
						5,
						proof(&device_pair(1), &account(ALICE)),
					),
					Error::<Test>::InvalidSpec
				);
			}
		});
	}

	#[test]
	fn refuses_more_than_max_devices_per_owner() {
		build_and_execute(|| {
			for n in 1..=MAX_DEVICES as u8 {
				register(ALICE, n);
			}
			let extra = MAX_DEVICES as u8 + 1;
			assert_noop!(
				Devices::register(
					RuntimeOrigin::signed(account(ALICE)),
					device(extra),
					spec(),
					5,
					proof(&device_pair(extra), &account(ALICE)),
				),
				Error::<Test>::TooManyDevices
			);
			assert_eq!(held(ALICE), BOND * MAX_DEVICES as Balance);
		});
	}

	#[test]
	fn refuses_an_owner_who_cannot_pay_the_bond() {
		build_and_execute(|| {
			let poor = account(7);
			assert_ok!(Balances::transfer_allow_death(
				RuntimeOrigin::signed(account(BOB)),
				poor.clone(),
				BOND / 2
			));
			assert_noop!(
				Devices::register(
					RuntimeOrigin::signed(poor.clone()),
					device(1),
					spec(),
					5,
					proof(&device_pair(1), &poor),
				),
				TokenError::FundsUnavailable
			);
		});
	}
}

mod heartbeat {
	use super::*;

	#[test]
	fn is_free_and_keeps_the_device_fresh() {
		build_and_execute(|| {
			register(ALICE, 1);
			run_to_block(1 + MIN_HEARTBEAT_INTERVAL);
			let post = Devices::heartbeat(RuntimeOrigin::signed(device(1))).expect("ok");
			assert_eq!(post.pays_fee, Pays::No);
			assert_eq!(DevicesMap::<Test>::get(device(1)).unwrap().last_heartbeat, 6);
			System::assert_last_event(Event::Heartbeat { device: device(1) }.into());
		});
	}

	#[test]
	fn too_soon_fails_and_pays() {
		build_and_execute(|| {
			register(ALICE, 1);
			run_to_block(MIN_HEARTBEAT_INTERVAL); // one block short
			let err = Devices::heartbeat(RuntimeOrigin::signed(device(1))).unwrap_err();
			assert_eq!(err.error, Error::<Test>::HeartbeatTooSoon.into());
			assert_eq!(err.post_info.pays_fee, Pays::Yes);
		});
	}

	#[test]
	fn from_an_unknown_account_fails_and_pays() {
		build_and_execute(|| {
			let err = Devices::heartbeat(RuntimeOrigin::signed(account(BOB))).unwrap_err();
			assert_eq!(err.error, Error::<Test>::UnknownDevice.into());
			assert_eq!(err.post_info.pays_fee, Pays::Yes);
		});
	}

	#[test]
	fn from_an_unbonding_device_fails() {
		build_and_execute(|| {
			register(ALICE, 1);
			assert_ok!(Devices::deregister(RuntimeOrigin::signed(account(ALICE)), device(1)));
			run_to_block(20);
			assert_noop!(
				Devices::heartbeat(RuntimeOrigin::signed(device(1))),
				Error::<Test>::Unbonding
			);
		});
	}

	#[test]
	fn expiry_makes_the_device_stale_until_the_next_heartbeat() {
		build_and_execute(|| {
			register(ALICE, 1);
			run_to_block(1 + HEARTBEAT_TIMEOUT);
			assert_ok!(Devices::ensure_eligible(&device(1), &requirements(), 5, 0));
			run_to_block(2 + HEARTBEAT_TIMEOUT);
			assert_noop!(
				Devices::ensure_eligible(&device(1), &requirements(), 5, 0),
				Error::<Test>::Stale
			);
			assert_ok!(Devices::heartbeat(RuntimeOrigin::signed(device(1))));
			assert_ok!(Devices::ensure_eligible(&device(1), &requirements(), 5, 0));
		});
	}
}

mod update_pause_resume {
	use super::*;

	#[test]
	fn update_changes_spec_and_price() {
		build_and_execute(|| {
			register(ALICE, 1);
			let mut new_spec = spec();
			new_spec.vram_mib = 24_000;
			assert_ok!(Devices::update(
				RuntimeOrigin::signed(account(ALICE)),
				device(1),
				new_spec.clone(),
				9
			));
			let info = DevicesMap::<Test>::get(device(1)).unwrap();
			assert_eq!(info.spec, new_spec);
			assert_eq!(info.price_per_unit, 9);
			System::assert_last_event(
				Event::Updated { device: device(1), price_per_unit: 9 }.into(),
			);
		});
	}

	#[test]
	fn update_errors() {
		build_and_execute(|| {
			register(ALICE, 1);
			let who = RuntimeOrigin::signed(account(BOB));
			assert_noop!(
				Devices::update(who.clone(), device(1), spec(), 9),
				Error::<Test>::NotOwner
			);
			assert_noop!(Devices::update(who, device(2), spec(), 9), Error::<Test>::UnknownDevice);
			let mut bad = spec();
			bad.vram_mib = 0;
			let alice = RuntimeOrigin::signed(account(ALICE));
			assert_noop!(
				Devices::update(alice.clone(), device(1), bad, 9),
				Error::<Test>::InvalidSpec
			);
			assert_ok!(Devices::deregister(alice.clone(), device(1)));
			assert_noop!(Devices::update(alice, device(1), spec(), 9), Error::<Test>::Unbonding);
		});
	}

	#[test]
	fn pause_and_resume() {
		build_and_execute(|| {
			register(ALICE, 1);
			let alice = RuntimeOrigin::signed(account(ALICE));
			assert_noop!(Devices::resume(alice.clone(), device(1)), Error::<Test>::NotPaused);
			assert_ok!(Devices::pause(alice.clone(), device(1)));
			System::assert_last_event(Event::Paused { device: device(1) }.into());
			assert_noop!(
				Devices::ensure_eligible(&device(1), &requirements(), 5, 0),
				Error::<Test>::NotActive
			);
			assert_noop!(Devices::pause(alice.clone(), device(1)), Error::<Test>::NotActive);
			assert_noop!(
				Devices::resume(RuntimeOrigin::signed(account(BOB)), device(1)),
				Error::<Test>::NotOwner
			);
			assert_ok!(Devices::resume(alice, device(1)));
			System::assert_last_event(Event::Resumed { device: device(1) }.into());
			assert_ok!(Devices::ensure_eligible(&device(1), &requirements(), 5, 0));
		});
	}

	#[test]
	fn pause_by_a_stranger_or_of_nothing_fails() {
		build_and_execute(|| {
			register(ALICE, 1);
			assert_noop!(
				Devices::pause(RuntimeOrigin::signed(account(BOB)), device(1)),
				Error::<Test>::NotOwner
			);
			assert_noop!(
				Devices::pause(RuntimeOrigin::signed(account(ALICE)), device(2)),
				Error::<Test>::UnknownDevice
			);
		});
	}
}

mod unbonding {
	use super::*;

	#[test]
	fn deregister_then_withdraw_returns_the_bond_after_the_period() {
		build_and_execute(|| {
			register(ALICE, 1);
			let alice = RuntimeOrigin::signed(account(ALICE));
			run_to_block(10);
			assert_ok!(Devices::deregister(alice.clone(), device(1)));
			let until = 10 + UNBONDING_PERIOD;
			System::assert_last_event(
				Event::Deregistered { device: device(1), unbonding_until: until }.into(),
			);
			assert_eq!(
				DevicesMap::<Test>::get(device(1)).unwrap().status,
				DeviceStatus::Unbonding { until }
			);
			assert_noop!(
				Devices::ensure_eligible(&device(1), &requirements(), 5, 0),
				Error::<Test>::NotActive
			);

			run_to_block(until - 1);
			assert_noop!(
				Devices::withdraw_bond(alice.clone(), device(1)),
				Error::<Test>::StillUnbonding
			);

			run_to_block(until);
			assert_ok!(Devices::withdraw_bond(alice, device(1)));
			System::assert_last_event(
				Event::BondWithdrawn { device: device(1), owner: account(ALICE), amount: BOND }
					.into(),
			);
			assert_eq!(held(ALICE), 0);
			assert_eq!(Balances::balance(&account(ALICE)), ENDOWMENT);
			assert!(DevicesMap::<Test>::get(device(1)).is_none());
			assert!(!OwnerDevices::<Test>::contains_key(account(ALICE)));
		});
	}

	#[test]
	fn deregister_is_refused_while_busy_and_twice() {
		build_and_execute(|| {
			register(ALICE, 1);
			let alice = RuntimeOrigin::signed(account(ALICE));
			assert_ok!(Devices::lock_collateral(&device(1), 10));
			assert_noop!(Devices::deregister(alice.clone(), device(1)), Error::<Test>::DeviceBusy);
			// Done working, but the collateral is still at stake: still busy.
			Devices::release_slot(&device(1));
			assert_noop!(Devices::deregister(alice.clone(), device(1)), Error::<Test>::DeviceBusy);
			Devices::unlock_collateral(&device(1), 10);
			assert_ok!(Devices::deregister(alice.clone(), device(1)));
			assert_noop!(Devices::deregister(alice, device(1)), Error::<Test>::Unbonding);
			assert_noop!(
				Devices::deregister(RuntimeOrigin::signed(account(BOB)), device(1)),
				Error::<Test>::NotOwner
			);
		});
	}

	#[test]
	fn withdraw_errors() {
		build_and_execute(|| {
			register(ALICE, 1);
			let alice = RuntimeOrigin::signed(account(ALICE));
			assert_noop!(
				Devices::withdraw_bond(alice.clone(), device(1)),
				Error::<Test>::NotUnbonding
			);
			assert_noop!(
				Devices::withdraw_bond(alice.clone(), device(2)),
				Error::<Test>::UnknownDevice
			);
			assert_ok!(Devices::deregister(alice, device(1)));
			run_to_block(1 + UNBONDING_PERIOD);
			assert_noop!(
				Devices::withdraw_bond(RuntimeOrigin::signed(account(BOB)), device(1)),
				Error::<Test>::NotOwner
			);
		});
	}

	#[test]
	fn the_owner_keeps_its_other_devices_after_one_leaves() {
		build_and_execute(|| {
			register(ALICE, 1);
			register(ALICE, 2);
			let alice = RuntimeOrigin::signed(account(ALICE));
			assert_ok!(Devices::deregister(alice.clone(), device(1)));
			run_to_block(1 + UNBONDING_PERIOD);
			assert_ok!(Devices::withdraw_bond(alice, device(1)));
			assert_eq!(OwnerDevices::<Test>::get(account(ALICE)).into_inner(), vec![device(2)]);
			assert_eq!(held(ALICE), BOND);
		});
	}
}

mod registry {
	use super::*;

	#[test]
	fn eligibility_names_each_mismatch() {
		build_and_execute(|| {
			register(ALICE, 1);
			let ok = requirements();
			assert_ok!(Devices::ensure_eligible(&device(1), &ok, 5, 0));
			assert_noop!(
				Devices::ensure_eligible(&device(1), &ok, 4, 0),
				Error::<Test>::PriceTooHigh
			);
			assert_noop!(
				Devices::ensure_eligible(
					&device(1),
					&Requirements { min_vram_mib: 100_000, ..ok },
					5,
					0
				),
				Error::<Test>::InsufficientVram
			);
			assert_noop!(
				Devices::ensure_eligible(
					&device(1),
					&Requirements { min_gops: 2_000_000, ..ok },
					5,
					0
				),
				Error::<Test>::TooSlow
			);
			assert_noop!(
				Devices::ensure_eligible(&device(2), &ok, 5, 0),
				Error::<Test>::UnknownDevice
			);
		});
	}

	#[test]
	fn unsupported_kernel_is_refused() {
		build_and_execute(|| {
			let mut other_kernels = spec();
			// A kernel bit the chain does not know yet.
			other_kernels.kernels = KernelSet(1 << 5);
			assert_ok!(Devices::register(
				RuntimeOrigin::signed(account(ALICE)),
				device(1),
				other_kernels,
				5,
				proof(&device_pair(1), &account(ALICE)),
			));
			assert_noop!(
				Devices::ensure_eligible(&device(1), &requirements(), 5, 0),
				Error::<Test>::KernelUnsupported
			);
		});
	}

	#[test]
	fn measured_throughput_replaces_the_advertised_one() {
		build_and_execute(|| {
			register(ALICE, 1);
			DevicesMap::<Test>::mutate(device(1), |i| i.as_mut().unwrap().measured_gops = Some(1));
			assert_noop!(
				Devices::ensure_eligible(&device(1), &requirements(), 5, 0),
				Error::<Test>::TooSlow
			);
		});
	}

	#[test]
	fn owner_price_busy_and_reputation() {
		build_and_execute(|| {
			register(ALICE, 1);
			assert_eq!(Devices::owner_of(&device(1)), Some(account(ALICE)));
			assert_eq!(Devices::owner_of(&device(2)), None);
			assert_eq!(Devices::price_of(&device(1)), Some(5));
			assert_eq!(Devices::bond_of(&device(1)), Some(BOND));
			assert_eq!(Devices::bond_of(&device(2)), None);
			assert_eq!(Devices::gops_of(&device(1)), Some(1_000_000));
			assert_ok!(Devices::lock_collateral(&device(1), 100));
			assert_ok!(Devices::lock_collateral(&device(1), 200));
			let info = DevicesMap::<Test>::get(device(1)).unwrap();
			assert_eq!((info.active_jobs, info.locked, info.free_bond()), (2, 300, BOND - 300));
			assert_noop!(Devices::lock_collateral(&device(2), 1), Error::<Test>::UnknownDevice);
			assert_noop!(
				Devices::lock_collateral(&device(1), BOND - 299),
				Error::<Test>::InsufficientCollateral
			);
			Devices::release_slot(&device(1));
			let info = DevicesMap::<Test>::get(device(1)).unwrap();
			assert_eq!((info.active_jobs, info.locked), (1, 300), "the slot only");
			Devices::unlock_collateral(&device(1), 100);
			let info = DevicesMap::<Test>::get(device(1)).unwrap();
			assert_eq!((info.active_jobs, info.locked), (1, 200));
			Devices::record_success(&device(1), 70, 30);
			Devices::record_success(&device(1), 50, 12);
			Devices::record_failure(&device(1));
			let info = DevicesMap::<Test>::get(device(1)).unwrap();
			assert_eq!((info.reputation.completed, info.reputation.failed), (2, 1));
			// What the owner was paid adds up per device.
			assert_eq!(info.earned, 42);
			// The best proven throughput is kept: each settled job is a lower bound.
			assert_eq!(info.delivered_gops, 70);
		});
	}
}

mod bond_and_collateral {
	use super::*;

	#[test]
	fn prices_below_the_minimum_are_refused() {
		build_and_execute(|| {
			assert_noop!(
				Devices::register(
					RuntimeOrigin::signed(account(ALICE)),
					device(1),
					spec(),
					MIN_PRICE - 1,
					proof(&device_pair(1), &account(ALICE)),
				),
				Error::<Test>::PriceTooLow
			);
			register(ALICE, 1);
			assert_noop!(
				Devices::update(
					RuntimeOrigin::signed(account(ALICE)),
					device(1),
					spec(),
					MIN_PRICE - 1
				),
				Error::<Test>::PriceTooLow
			);
			assert_ok!(Devices::update(
				RuntimeOrigin::signed(account(ALICE)),
				device(1),
				spec(),
				MIN_PRICE
			));
		});
	}

	#[test]
	fn collateral_must_fit_in_the_free_bond() {
		build_and_execute(|| {
			register(ALICE, 1);
			let ok = requirements();
			assert_ok!(Devices::ensure_eligible(&device(1), &ok, 5, BOND));
			assert_noop!(
				Devices::ensure_eligible(&device(1), &ok, 5, BOND + 1),
				Error::<Test>::InsufficientCollateral
			);
			assert_ok!(Devices::lock_collateral(&device(1), 600));
			assert_ok!(Devices::ensure_eligible(&device(1), &ok, 5, 400));
			assert_noop!(
				Devices::ensure_eligible(&device(1), &ok, 5, 401),
				Error::<Test>::InsufficientCollateral
			);
		});
	}

	#[test]
	fn a_device_holds_at_most_max_active_jobs() {
		build_and_execute(|| {
			register(ALICE, 1);
			for _ in 0..MAX_ACTIVE_JOBS {
				assert_ok!(Devices::ensure_eligible(&device(1), &requirements(), 5, 1));
				assert_ok!(Devices::lock_collateral(&device(1), 1));
			}
			assert_noop!(
				Devices::ensure_eligible(&device(1), &requirements(), 5, 1),
				Error::<Test>::TooManyJobs
			);
		});
	}

	#[test]
	fn a_slashed_device_below_the_minimum_takes_no_work_until_topped_up() {
		build_and_execute(|| {
			register(ALICE, 1);
			Devices::slash(&device(1), 1, &account(BOB), 0).unwrap();
			assert_noop!(
				Devices::ensure_eligible(&device(1), &requirements(), 5, 0),
				Error::<Test>::BondTooLow
			);
			let alice = RuntimeOrigin::signed(account(ALICE));
			assert_noop!(
				Devices::top_up_bond(alice.clone(), device(1), 0),
				Error::<Test>::ZeroAmount
			);
			assert_noop!(
				Devices::top_up_bond(RuntimeOrigin::signed(account(BOB)), device(1), 1),
				Error::<Test>::NotOwner
			);
			assert_ok!(Devices::top_up_bond(alice.clone(), device(1), 1));
			System::assert_last_event(
				Event::BondToppedUp { device: device(1), amount: 1, bond: BOND }.into(),
			);
			assert_eq!(held(ALICE), BOND);
			assert_ok!(Devices::ensure_eligible(&device(1), &requirements(), 5, 0));
			// The owner cannot hold more than it has.
			assert!(Devices::top_up_bond(alice.clone(), device(1), ENDOWMENT).is_err());
			assert_ok!(Devices::deregister(alice.clone(), device(1)));
			assert_noop!(Devices::top_up_bond(alice, device(1), 1), Error::<Test>::Unbonding);
		});
	}

	#[test]
	fn a_slash_never_reaches_the_collateral_of_other_jobs() {
		build_and_execute(|| {
			register(ALICE, 1);
			assert_ok!(Devices::lock_collateral(&device(1), 700));
			let (slashed, _) = Devices::slash(&device(1), BOND, &account(BOB), 0).unwrap();
			assert_eq!(slashed, BOND - 700);
			assert_eq!(DevicesMap::<Test>::get(device(1)).unwrap().bond, 700);
		});
	}
}

mod slashing {
	use super::*;

	#[test]
	fn compensates_the_victim_up_to_the_cap_and_burns_the_rest() {
		build_and_execute(|| {
			register(ALICE, 1);
			let issuance = Balances::total_issuance();
			let outcome = Devices::slash(&device(1), 400, &account(BOB), 150).expect("slash");
			assert_eq!(outcome, (400, 150));
			assert_eq!(Balances::balance(&account(BOB)), ENDOWMENT + 150);
			assert_eq!(Balances::total_issuance(), issuance - 250);
			assert_eq!(held(ALICE), BOND - 400);
			assert_eq!(DevicesMap::<Test>::get(device(1)).unwrap().bond, BOND - 400);
			System::assert_last_event(Event::Slashed { device: device(1), amount: 400 }.into());
			// The device's record keeps what its slashes took, for its owner's accounts.
			Devices::slash(&device(1), 100, &account(BOB), 0).unwrap();
			assert_eq!(DevicesMap::<Test>::get(device(1)).unwrap().slashed, 500);
		});
	}

	#[test]
	fn is_capped_by_the_bond() {
		build_and_execute(|| {
			register(ALICE, 1);
			let outcome = Devices::slash(&device(1), 5 * BOND, &account(BOB), 5 * BOND).unwrap();
			assert_eq!(outcome, (BOND, BOND));
			assert_eq!(Balances::balance(&account(BOB)), ENDOWMENT + BOND);
			assert_eq!(held(ALICE), 0);
		});
	}

	#[test]
	fn reaches_an_unbonding_device_and_withdraw_returns_what_is_left() {
		build_and_execute(|| {
			register(ALICE, 1);
			let alice = RuntimeOrigin::signed(account(ALICE));
			assert_ok!(Devices::deregister(alice.clone(), device(1)));
			run_to_block(10);
			assert_eq!(Devices::slash(&device(1), 300, &account(BOB), 300).unwrap(), (300, 300));
			run_to_block(1 + UNBONDING_PERIOD);
			assert_ok!(Devices::withdraw_bond(alice, device(1)));
			System::assert_last_event(
				Event::BondWithdrawn {
					device: device(1),
					owner: account(ALICE),
					amount: BOND - 300,
				}
				.into(),
			);
			assert_eq!(Balances::balance(&account(ALICE)), ENDOWMENT - 300);
		});
	}

	#[test]
	fn a_victim_that_cannot_receive_forfeits_to_the_burn() {
		build_and_execute(|| {
			register(ALICE, 1);
			let issuance = Balances::total_issuance();
			// A new account would be created below the existential deposit (10).
			let outcome = Devices::slash(&device(1), 5, &account(42), 5).unwrap();
			assert_eq!(outcome, (5, 0));
			assert_eq!(Balances::balance(&account(42)), 0);
			assert_eq!(Balances::total_issuance(), issuance - 5);
		});
	}

	#[test]
	fn of_an_unknown_device_fails() {
		build_and_execute(|| {
			assert_noop!(
				Devices::slash(&device(1), 5, &account(BOB), 0),
				Error::<Test>::UnknownDevice
			);
		});
	}
}

mod endpoint {
	use super::*;
	use crate::{EndpointOf, Endpoints};

	fn url(s: &str) -> EndpointOf {
		s.as_bytes().to_vec().try_into().unwrap()
	}

	#[test]
	fn the_owner_publishes_changes_and_withdraws_an_endpoint_and_it_goes_with_the_device() {
		build_and_execute(|| {
			register(ALICE, 1);
			let alice = RuntimeOrigin::signed(account(ALICE));
			let first = url("http://127.0.0.1:9700");
			assert_ok!(Devices::set_endpoint(alice.clone(), device(1), Some(first.clone())));
			System::assert_last_event(
				Event::EndpointSet { device: device(1), endpoint: Some(first.clone()) }.into(),
			);
			assert_eq!(Endpoints::<Test>::get(device(1)), Some(first));
			let second = url("https://gpu.example:8443/proofgrid");
			assert_ok!(Devices::set_endpoint(alice.clone(), device(1), Some(second.clone())));
			assert_eq!(Endpoints::<Test>::get(device(1)), Some(second.clone()));
			assert_ok!(Devices::set_endpoint(alice.clone(), device(1), None));
			assert_eq!(Endpoints::<Test>::get(device(1)), None);

			// Removed with the device.
			assert_ok!(Devices::set_endpoint(alice.clone(), device(1), Some(second)));
			assert_ok!(Devices::deregister(alice.clone(), device(1)));
			run_to_block(1 + UNBONDING_PERIOD);
			assert_ok!(Devices::withdraw_bond(alice, device(1)));
			assert_eq!(Endpoints::<Test>::get(device(1)), None);
		});
	}

	#[test]
	fn strangers_bad_urls_and_unbonding_devices_are_refused() {
		build_and_execute(|| {
			register(ALICE, 1);
			let alice = RuntimeOrigin::signed(account(ALICE));
			let good = Some(url("http://127.0.0.1:9700"));
			assert_noop!(
				Devices::set_endpoint(RuntimeOrigin::signed(account(BOB)), device(1), good.clone()),
				Error::<Test>::NotOwner
			);
			assert_noop!(
				Devices::set_endpoint(alice.clone(), device(2), good.clone()),
				Error::<Test>::UnknownDevice
			);
			for bad in ["ftp://x", "http://", "https:///a", "http://a b", "127.0.0.1:9700"] {
				assert_noop!(
					Devices::set_endpoint(alice.clone(), device(1), Some(url(bad))),
					Error::<Test>::BadEndpoint
				);
			}
			assert_ok!(Devices::deregister(alice.clone(), device(1)));
			assert_noop!(Devices::set_endpoint(alice, device(1), good), Error::<Test>::Unbonding);
		});
	}
}

#[test]
fn try_state_catches_a_bond_mismatch() {
	new_test_ext().execute_with(|| {
		register(ALICE, 1);
		assert!(Devices::do_try_state().is_ok());
		DevicesMap::<Test>::mutate(device(1), |i| i.as_mut().unwrap().bond = BOND - 1);
		assert!(Devices::do_try_state().is_err());
	});
}

#[test]
fn try_state_catches_collateral_above_the_bond() {
	new_test_ext().execute_with(|| {
		register(ALICE, 1);
		DevicesMap::<Test>::mutate(device(1), |i| i.as_mut().unwrap().locked = BOND + 1);
		assert!(Devices::do_try_state().is_err());
	});
}
