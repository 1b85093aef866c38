//! The whole lifecycle, every refusal and every deadline of the jobs pallet, with the money
//! invariants checked after each test.

use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{hold::Inspect as HoldInspect, Inspect},
};
use pallet_devices::{DeviceRegistry, Devices as DevicesMap};
use proofgrid_primitives::{
	device::Requirements,
	gemm::{GemmShape, MAX_K},
};
use sp_core::H256;
use sp_runtime::TokenError;

use crate::{
	mock::*, Deadlines, Error, Event, FailureReason, HoldReason, JobStatus, Jobs as JobsMap,
};

const CAP: Balance = 1_000;
const PRICE: Balance = 600;

fn free(who: &AccountId) -> Balance {
	Balances::balance(who)
}
fn held(who: &AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::JobBudget.into(), who)
}

/// Submits the standard job (one unit, cap 1 000) with deadline `deadline`; returns its id.
fn submit(deadline: u64) -> u64 {
	let id = crate::NextJobId::<Test>::get();
	assert_ok!(Jobs::submit_job(RuntimeOrigin::signed(account(CLIENT)), job_spec(), CAP, deadline));
	id
}

/// Registers device 1, submits, claims and commits `tree`'s root; returns (job, challenge block).
fn committed(
	tree_fake: impl Fn(u64) -> bool,
) -> (u64, u64, proofgrid_primitives::merkle::MerkleTree) {
	register_device(1, PRICE);
	let job = submit(50);
	assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job));
	let tree = output(&job_spec(), tree_fake);
	assert_ok!(Jobs::commit(RuntimeOrigin::signed(device(1)), job, H256(tree.root())));
	let challenge_block = System::block_number() + 1;
	(job, challenge_block, tree)
}

mod submit_and_cancel {
	use super::*;

	#[test]
	fn submit_holds_units_times_cap() {
		build_and_execute(|| {
			let job = submit(20);
			let info = JobsMap::<Test>::get(job).unwrap();
			assert_eq!((info.units, info.budget, info.status), (1, CAP, JobStatus::Submitted));
			assert_eq!(held(&account(CLIENT)), CAP);
			System::assert_last_event(
				Event::JobSubmitted {
					job,
					client: account(CLIENT),
					units: 1,
					budget: CAP,
					deadline: 20,
				}
				.into(),
			);
			assert_eq!(submit(20), job + 1, "ids increase");
		});
	}

	#[test]
	fn submit_refusals() {
		build_and_execute(|| {
			let client = RuntimeOrigin::signed(account(CLIENT));
			let mut empty = job_spec();
			empty.shape.m = 0;
			assert_noop!(
				Jobs::submit_job(client.clone(), empty, CAP, 20),
				Error::<Test>::InvalidShape
			);
			let mut huge = job_spec();
			huge.shape = GemmShape { m: 65_536, n: 65_536, k: MAX_K };
			assert_noop!(
				Jobs::submit_job(client.clone(), huge, CAP, 20),
				Error::<Test>::TooMuchWork
			);
			let mut big = job_spec();
			big.shape = GemmShape { m: 16_384, n: 16_384, k: 1_024 }; // 550 units
			assert_noop!(
				Jobs::submit_job(client.clone(), big, u64::MAX / 100, 20),
				Error::<Test>::Overflow
			);
			assert_noop!(
				Jobs::submit_job(client.clone(), job_spec(), CAP, 1),
				Error::<Test>::BadDeadline
			);
			assert_noop!(
				Jobs::submit_job(client.clone(), job_spec(), CAP, 1 + 101),
				Error::<Test>::BadDeadline
			);
			assert_noop!(
				Jobs::submit_job(client, job_spec(), ENDOWMENT * 2, 20),
				TokenError::FundsUnavailable
			);
		});
	}

	#[test]
	fn cancel_releases_the_budget() {
		build_and_execute(|| {
			let job = submit(20);
			assert_noop!(
				Jobs::cancel(RuntimeOrigin::signed(account(PROVIDER)), job),
				Error::<Test>::NotClient
			);
			assert_noop!(
				Jobs::cancel(RuntimeOrigin::signed(account(CLIENT)), job + 7),
				Error::<Test>::UnknownJob
			);
			assert_ok!(Jobs::cancel(RuntimeOrigin::signed(account(CLIENT)), job));
			System::assert_last_event(Event::JobCancelled { job }.into());
			assert_eq!((held(&account(CLIENT)), free(&account(CLIENT))), (0, ENDOWMENT));
			assert!(JobsMap::<Test>::get(job).is_none());
		});
	}

	#[test]
	fn cancel_is_refused_once_assigned() {
		build_and_execute(|| {
			register_device(1, PRICE);
			let job = submit(20);
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job));
			assert_noop!(
				Jobs::cancel(RuntimeOrigin::signed(account(CLIENT)), job),
				Error::<Test>::WrongState
			);
		});
	}
}

mod claim_and_commit {
	use super::*;

	#[test]
	fn claim_assigns_an_eligible_device() {
		build_and_execute(|| {
			register_device(1, PRICE);
			let job = submit(20);
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job));
			let commit_by = 1 + COMMIT_WINDOW;
			System::assert_last_event(
				Event::JobAssigned { job, device: device(1), price: PRICE, commit_by }.into(),
			);
			assert_eq!(DevicesMap::<Test>::get(device(1)).unwrap().active_jobs, 1);
			assert_noop!(
				Jobs::claim(RuntimeOrigin::signed(device(1)), job),
				Error::<Test>::WrongState
			);
		});
	}

	#[test]
	fn claim_refuses_ineligible_devices() {
		build_and_execute(|| {
			let job = submit(20);
			// Not a device at all.
			assert_noop!(
				Jobs::claim(RuntimeOrigin::signed(account(PROVIDER)), job),
				pallet_devices::Error::<Test>::UnknownDevice
			);
			// Asks more than the cap.
			register_device(1, CAP + 1);
			assert_noop!(
				Jobs::claim(RuntimeOrigin::signed(device(1)), job),
				pallet_devices::Error::<Test>::PriceTooHigh
			);
			// Needs more memory than the device has.
			let mut spec = job_spec();
			spec.requirements = Requirements { min_vram_mib: 80_000, ..spec.requirements };
			assert_ok!(Jobs::submit_job(RuntimeOrigin::signed(account(CLIENT)), spec, CAP * 2, 20));
			assert_noop!(
				Jobs::claim(RuntimeOrigin::signed(device(1)), job + 1),
				pallet_devices::Error::<Test>::InsufficientVram
			);
			assert_noop!(
				Jobs::claim(RuntimeOrigin::signed(device(1)), job + 9),
				Error::<Test>::UnknownJob
			);
		});
	}

	#[test]
	fn commit_records_the_root_and_schedules_the_challenge() {
		build_and_execute(|| {
			let (job, challenge_block, tree) = committed(|_| false);
			let reveal_by = challenge_block + REVEAL_WINDOW;
			System::assert_last_event(
				Event::JobCommitted { job, root: H256(tree.root()), challenge_block, reveal_by }
					.into(),
			);
			assert!(Deadlines::<Test>::get(reveal_by + 1).contains(&job));
		});
	}

	#[test]
	fn commit_refusals() {
		build_and_execute(|| {
			register_device(1, PRICE);
			register_device(2, PRICE);
			let job = submit(50);
			assert_noop!(
				Jobs::commit(RuntimeOrigin::signed(device(1)), job, H256::zero()),
				Error::<Test>::WrongState
			);
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job));
			assert_noop!(
				Jobs::commit(RuntimeOrigin::signed(device(2)), job, H256::zero()),
				Error::<Test>::NotAssignedDevice
			);
			// Past the window but before the deadline entry ran.
			System::set_block_number(1 + COMMIT_WINDOW + 1);
			assert_noop!(
				Jobs::commit(RuntimeOrigin::signed(device(1)), job, H256::zero()),
				Error::<Test>::CommitTooLate
			);
		});
	}
}

mod reveal {
	use super::*;

	#[test]
	fn an_honest_reveal_settles_and_pays_everyone_to_the_unit() {
		build_and_execute(|| {
			let (job, challenge_block, tree) = committed(|_| false);
			// The challenge is known once the challenge block exists.
			run_to_block(challenge_block + 1);
			let paths = reveal_paths(job, &job_spec(), &tree, challenge_block);
			let (provider, treasury, client) =
				(free(&account(PROVIDER)), free(&account(TREASURY)), free(&account(CLIENT)));

			assert_ok!(Jobs::reveal(RuntimeOrigin::signed(device(1)), job, paths, 8));

			// One unit at 600: 10% fee (60) to the treasury, 540 to the provider, 400 refunded.
			System::assert_last_event(
				Event::JobSettled {
					job,
					device: device(1),
					provider: account(PROVIDER),
					payment: 540,
					fee: 60,
					refund: 400,
				}
				.into(),
			);
			assert_eq!(free(&account(PROVIDER)), provider + 540);
			assert_eq!(free(&account(TREASURY)), treasury + 60);
			assert_eq!(free(&account(CLIENT)), client + 400);
			assert_eq!(free(&account(CLIENT)) + held(&account(CLIENT)), ENDOWMENT - 600);
			assert_eq!(held(&account(CLIENT)), 0);
			assert!(JobsMap::<Test>::get(job).is_none());
			let device_info = DevicesMap::<Test>::get(device(1)).unwrap();
			assert_eq!((device_info.active_jobs, device_info.reputation.completed), (0, 1));
			// The verified work is reported once, to the owner, not the device key.
			assert_eq!(Verified::get(), vec![(account(PROVIDER), 1)]);
		});
	}

	#[test]
	fn a_faked_output_fails_refunds_and_compensates() {
		build_and_execute(|| {
			let (job, challenge_block, tree) = committed(|_| true);
			let paths = reveal_paths(job, &job_spec(), &tree, challenge_block);
			run_to_block(challenge_block + 1);
			let treasury = free(&account(TREASURY));

			assert_ok!(Jobs::reveal(RuntimeOrigin::signed(device(1)), job, paths, 8));

			// Slash 50% of the 1 000 bond: 60% (300) to the client, 200 to the treasury.
			System::assert_last_event(
				Event::JobFailed {
					job,
					device: device(1),
					reason: FailureReason::BadProof(
						pallet_compute_proof::Error::<Test>::LeafMismatch.into(),
					),
					slashed: 500,
					compensation: 300,
				}
				.into(),
			);
			assert_eq!(free(&account(CLIENT)), ENDOWMENT + 300);
			assert_eq!(held(&account(CLIENT)), 0);
			assert_eq!(free(&account(TREASURY)), treasury + 200);
			assert_eq!(Devices::bond_of(&device(1)), Some(BOND - 500));
			let device_info = DevicesMap::<Test>::get(device(1)).unwrap();
			assert_eq!((device_info.active_jobs, device_info.reputation.failed), (0, 1));
			// Failed work earns no rewards.
			assert!(Verified::get().is_empty());
		});
	}

	#[test]
	fn reveal_refusals() {
		build_and_execute(|| {
			register_device(2, PRICE);
			let (job, challenge_block, tree) = committed(|_| false);
			let paths = reveal_paths(job, &job_spec(), &tree, challenge_block);
			// The challenge block is not produced yet.
			assert_noop!(
				Jobs::reveal(RuntimeOrigin::signed(device(1)), job, paths.clone(), 8),
				Error::<Test>::ChallengeNotReady
			);
			run_to_block(challenge_block + 1);
			assert_noop!(
				Jobs::reveal(RuntimeOrigin::signed(device(2)), job, paths.clone(), 8),
				Error::<Test>::NotAssignedDevice
			);
			assert_noop!(
				Jobs::reveal(RuntimeOrigin::signed(device(1)), job, paths.clone(), 7),
				Error::<Test>::WitnessTooSmall
			);
			assert_noop!(
				Jobs::reveal(RuntimeOrigin::signed(device(1)), job + 3, paths.clone(), 8),
				Error::<Test>::UnknownJob
			);
			// After the window (deadline entry not yet run).
			System::set_block_number(challenge_block + REVEAL_WINDOW + 1);
			assert_noop!(
				Jobs::reveal(RuntimeOrigin::signed(device(1)), job, paths, 8),
				Error::<Test>::RevealTooLate
			);
		});
	}

	#[test]
	fn a_reveal_after_settlement_is_refused() {
		build_and_execute(|| {
			let (job, challenge_block, tree) = committed(|_| false);
			run_to_block(challenge_block + 1);
			let paths = reveal_paths(job, &job_spec(), &tree, challenge_block);
			assert_ok!(Jobs::reveal(RuntimeOrigin::signed(device(1)), job, paths.clone(), 8));
			assert_noop!(
				Jobs::reveal(RuntimeOrigin::signed(device(1)), job, paths, 8),
				Error::<Test>::UnknownJob
			);
		});
	}
}

mod deadlines {
	use super::*;

	#[test]
	fn an_unclaimed_job_expires_with_a_full_refund() {
		build_and_execute(|| {
			let job = submit(10);
			run_to_block(9);
			assert!(JobsMap::<Test>::get(job).is_some());
			run_to_block(10);
			System::assert_last_event(Event::JobExpired { job }.into());
			assert!(JobsMap::<Test>::get(job).is_none());
			assert_eq!((free(&account(CLIENT)), held(&account(CLIENT))), (ENDOWMENT, 0));
		});
	}

	#[test]
	fn a_missed_commit_returns_the_job_to_the_market() {
		build_and_execute(|| {
			register_device(1, PRICE);
			let job = submit(50);
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job));
			run_to_block(1 + COMMIT_WINDOW + 1);
			System::assert_last_event(Event::JobUnassigned { job, device: device(1) }.into());
			assert_eq!(JobsMap::<Test>::get(job).unwrap().status, JobStatus::Submitted);
			let info = DevicesMap::<Test>::get(device(1)).unwrap();
			assert_eq!((info.active_jobs, info.reputation.failed), (0, 1));
			// Another claim works, and the expiry still applies later.
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job));
		});
	}

	#[test]
	fn a_missed_commit_after_the_deadline_expires_the_job() {
		build_and_execute(|| {
			register_device(1, PRICE);
			let job = submit(3);
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job));
			run_to_block(1 + COMMIT_WINDOW + 1);
			System::assert_last_event(Event::JobExpired { job }.into());
			assert_eq!(held(&account(CLIENT)), 0);
		});
	}

	#[test]
	fn a_missing_reveal_fails_the_job_and_slashes() {
		build_and_execute(|| {
			let (job, challenge_block, _) = committed(|_| false);
			run_to_block(challenge_block + REVEAL_WINDOW);
			assert!(JobsMap::<Test>::get(job).is_some());
			run_to_block(challenge_block + REVEAL_WINDOW + 1);
			System::assert_last_event(
				Event::JobFailed {
					job,
					device: device(1),
					reason: FailureReason::LateReveal,
					slashed: 500,
					compensation: 300,
				}
				.into(),
			);
			assert_eq!(free(&account(CLIENT)), ENDOWMENT + 300);
		});
	}

	#[test]
	fn full_blocks_push_deadlines_to_the_next_ones_until_the_probe_limit() {
		build_and_execute(|| {
			for _ in 0..MAX_DEADLINES + 1 {
				submit(10);
			}
			assert_eq!(Deadlines::<Test>::get(10).len() as u32, MAX_DEADLINES);
			assert_eq!(Deadlines::<Test>::get(11).len(), 1);
			// Fill blocks 11..26 so the 16 probes from block 11 all fail.
			for block in 11..(11 + 16) {
				while (Deadlines::<Test>::get(block).len() as u32) < MAX_DEADLINES {
					Deadlines::<Test>::mutate(block, |q| q.try_push(999).unwrap());
				}
			}
			assert_noop!(
				Jobs::submit_job(RuntimeOrigin::signed(account(CLIENT)), job_spec(), CAP, 11),
				Error::<Test>::DeadlineQueueFull
			);
			// Every job still expires, the one pushed to block 11 included.
			run_to_block(11);
			assert_eq!(held(&account(CLIENT)), 0);
			assert_eq!(JobsMap::<Test>::iter().count(), 0);
		});
	}
}

#[test]
fn try_state_catches_a_budget_mismatch() {
	new_test_ext().execute_with(|| {
		let job = submit(20);
		assert!(Jobs::do_try_state().is_ok());
		JobsMap::<Test>::mutate(job, |j| j.as_mut().unwrap().budget = CAP - 1);
		assert!(Jobs::do_try_state().is_err());
	});
}
