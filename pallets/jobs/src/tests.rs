//! The whole lifecycle, every refusal and every deadline of the jobs pallet, the pool checks
//! of device calls, and the attacks of docs/PROTOCOL.md §6 that live in this pallet (claim-and-abandon,
//! deadline flooding, collateral exhaustion), with the money invariants checked after each test.

use frame_support::{
	assert_noop, assert_ok,
	dispatch::{DispatchClass, GetDispatchInfo, Pays},
	traits::fungible::{hold::Inspect as HoldInspect, Inspect},
};
use pallet_devices::Devices as DevicesMap;
use proofgrid_primitives::traits::DeviceRegistry;
use proofgrid_primitives::{
	device::Requirements,
	gemm::{GemmShape, MAX_K},
	job::{claim_seed, effective_seed},
};
use sp_core::H256;
use sp_runtime::{
	traits::DispatchTransaction,
	transaction_validity::{InvalidTransaction, TransactionSource, TransactionValidityError},
	TokenError,
};

use crate::{
	mock::*, CheckDeviceCall, Deadlines, DeviceJobs, Error, Event, Expiries, FailureReason,
	FeesBurned, HoldReason, JobStatus, Jobs as JobsMap, SlashesBurned, MAX_ABANDONS_PER_JOB,
};

const CAP: Balance = 1_000;
const PRICE: Balance = 600;
/// `max(MIN_COLLATERAL, 150% × 600)`.
const COLLATERAL: Balance = 900;
/// A failure compensates the client with the call fee it paid, which these tests leave at zero
/// ([`CallFeePerMs`]): the client ends where it started; `mod call_fee` prices the calls.
const MAX_COMPENSATION: Balance = 0;

fn free(who: &AccountId) -> Balance {
	Balances::balance(who)
}
fn held(who: &AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::JobBudget.into(), who)
}
fn deposit_held(who: &AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::JobDeposit.into(), who)
}
fn client() -> AccountId {
	account(CLIENT)
}

/// Submits the standard job (one unit, cap 1 000) with deadline `deadline`; returns its id.
fn submit(deadline: u64) -> u64 {
	let id = crate::NextJobId::<Test>::get();
	assert_ok!(Jobs::submit_job(RuntimeOrigin::signed(client()), job_spec(), CAP, deadline));
	id
}

/// Registers device 1, submits, claims and commits `tree`'s root; returns (job, challenge
/// block, tree).
fn committed(
	tree_fake: impl Fn(u64) -> bool,
) -> (u64, u64, proofgrid_primitives::merkle::MerkleTree) {
	register_device(1, PRICE);
	let job = submit(50);
	assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job, None));
	let tree = seeded_output(&stored_spec(job), tree_fake);
	assert_ok!(Jobs::commit(RuntimeOrigin::signed(device(1)), job, H256(tree.root())));
	let challenge_block = System::block_number() + 1;
	(job, challenge_block, tree)
}

/// Reveals honestly (or as `tree` says) once the challenge block exists.
fn reveal(job: u64, challenge_block: u64, tree: &proofgrid_primitives::merkle::MerkleTree) {
	run_to_block(challenge_block + 1);
	let paths = reveal_paths(job, &stored_spec(job), tree, challenge_block);
	let challenge_hash = System::block_hash(challenge_block);
	assert_ok!(Jobs::reveal(RuntimeOrigin::signed(device(1)), job, challenge_hash, paths, 8));
}

mod submit_and_cancel {
	use super::*;

	#[test]
	fn submit_holds_the_budget_and_a_deposit_and_binds_the_seed() {
		build_and_execute(|| {
			let job = submit(20);
			let info = JobsMap::<Test>::get(job).unwrap();
			assert_eq!((info.units, info.budget, info.status), (1, CAP, JobStatus::Submitted));
			assert_eq!((held(&client()), deposit_held(&client())), (CAP, JOB_DEPOSIT));
			// The stored seed binds the job and its client: the same request twice gives two
			// different input sets, so one output cannot answer both.
			let client_bytes = codec::Encode::encode(&client());
			assert_eq!(
				info.spec.seed(),
				Some(&effective_seed(job_spec().seed().unwrap(), job, &client_bytes))
			);
			let second = submit(20);
			assert_ne!(stored_spec(second).seed(), info.spec.seed());
			assert_eq!(second, job + 1, "ids increase");
			System::assert_last_event(
				Event::JobSubmitted {
					job: second,
					client: client(),
					units: 1,
					budget: CAP,
					deposit: JOB_DEPOSIT,
					call_fee: 0,
					deadline: 20,
				}
				.into(),
			);
		});
	}

	#[test]
	fn submit_refusals() {
		build_and_execute(|| {
			let who = RuntimeOrigin::signed(client());
			let mut empty = job_spec();
			empty.shape.m = 0;
			assert_noop!(
				Jobs::submit_job(who.clone(), empty, CAP, 20),
				Error::<Test>::InvalidShape
			);
			let mut huge = job_spec();
			huge.shape = GemmShape { m: 65_536, n: 65_536, k: MAX_K };
			assert_noop!(Jobs::submit_job(who.clone(), huge, CAP, 20), Error::<Test>::TooMuchWork);
			assert_noop!(
				Jobs::submit_job(who.clone(), job_spec(), MIN_PRICE - 1, 20),
				Error::<Test>::PriceTooLow
			);
			assert_noop!(
				Jobs::submit_job(who.clone(), job_spec(), 0, 20),
				Error::<Test>::PriceTooLow
			);
			let mut big = job_spec();
			big.shape = GemmShape { m: 1_024, n: 1_024, k: 16 }; // 512 units
			assert_noop!(
				Jobs::submit_job(who.clone(), big, u64::MAX / 100, 20),
				Error::<Test>::Overflow
			);
			assert_noop!(
				Jobs::submit_job(who.clone(), job_spec(), CAP, 1),
				Error::<Test>::BadDeadline
			);
			assert_noop!(
				Jobs::submit_job(who.clone(), job_spec(), CAP, 1 + 101),
				Error::<Test>::BadDeadline
			);
			assert_noop!(
				Jobs::submit_job(who, job_spec(), ENDOWMENT * 2, 20),
				TokenError::FundsUnavailable
			);
		});
	}

	#[test]
	fn cancel_releases_the_budget_and_the_deposit() {
		build_and_execute(|| {
			let job = submit(20);
			assert_noop!(
				Jobs::cancel(RuntimeOrigin::signed(account(PROVIDER)), job),
				Error::<Test>::NotClient
			);
			assert_noop!(
				Jobs::cancel(RuntimeOrigin::signed(client()), job + 7),
				Error::<Test>::UnknownJob
			);
			assert_ok!(Jobs::cancel(RuntimeOrigin::signed(client()), job));
			System::assert_last_event(Event::JobCancelled { job }.into());
			assert_eq!((held(&client()), deposit_held(&client())), (0, 0));
			assert_eq!(free(&client()), ENDOWMENT);
			assert!(JobsMap::<Test>::get(job).is_none());
		});
	}

	#[test]
	fn cancel_is_refused_once_assigned() {
		build_and_execute(|| {
			register_device(1, PRICE);
			let job = submit(20);
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job, None));
			assert_noop!(
				Jobs::cancel(RuntimeOrigin::signed(client()), job),
				Error::<Test>::WrongState
			);
		});
	}
}

mod claim_and_commit {
	use super::*;

	#[test]
	fn claim_assigns_an_eligible_device_and_locks_collateral() {
		build_and_execute(|| {
			register_device(1, PRICE);
			let job = submit(20);
			let seed = *stored_spec(job).seed().unwrap();
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job, None));
			// The inputs are fixed only now: nobody could compute them before the claim.
			assert_eq!(stored_spec(job).seed(), Some(&claim_seed(&seed, &System::parent_hash().0)));
			assert_ne!(stored_spec(job).seed(), Some(&seed));
			let commit_by = 1 + COMMIT_WINDOW;
			System::assert_last_event(
				Event::JobAssigned {
					job,
					device: device(1),
					price: PRICE,
					collateral: COLLATERAL,
					call_fee_burned: 0,
					commit_by,
				}
				.into(),
			);
			let info = DevicesMap::<Test>::get(device(1)).unwrap();
			assert_eq!((info.active_jobs, info.locked), (1, COLLATERAL));
			assert_noop!(
				Jobs::claim(RuntimeOrigin::signed(device(1)), job, None),
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
				Jobs::claim(RuntimeOrigin::signed(account(PROVIDER)), job, None),
				Error::<Test>::UnknownDevice
			);
			// Asks more than the cap.
			register_device(1, CAP + 1);
			assert_noop!(
				Jobs::claim(RuntimeOrigin::signed(device(1)), job, None),
				pallet_devices::Error::<Test>::PriceTooHigh
			);
			// Needs more memory than the device has.
			let mut spec = job_spec();
			spec.requirements = Requirements { min_vram_mib: 80_000, ..spec.requirements };
			assert_ok!(Jobs::submit_job(RuntimeOrigin::signed(client()), spec, CAP * 2, 20));
			assert_noop!(
				Jobs::claim(RuntimeOrigin::signed(device(1)), job + 1, None),
				pallet_devices::Error::<Test>::InsufficientVram
			);
			assert_noop!(
				Jobs::claim(RuntimeOrigin::signed(device(1)), job + 9, None),
				Error::<Test>::UnknownJob
			);
		});
	}

	#[test]
	fn collateral_must_fit_in_the_free_bond() {
		build_and_execute(|| {
			let (first, challenge_block, tree) = committed(|_| false);
			// 900 of the 1 000 bond are locked by the first job.
			let second = submit(50);
			assert_noop!(
				Jobs::claim(RuntimeOrigin::signed(device(1)), second, None),
				pallet_devices::Error::<Test>::InsufficientCollateral
			);
			// A top-up makes room…
			assert_ok!(Devices::top_up_bond(
				RuntimeOrigin::signed(account(PROVIDER)),
				device(1),
				COLLATERAL
			));
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), second, None));
			assert_eq!(Devices::locked_of(&device(1)), Some(2 * COLLATERAL));
			// …and settling the first job unlocks its collateral.
			reveal(first, challenge_block, &tree);
			assert_eq!(Devices::locked_of(&device(1)), Some(COLLATERAL));
		});
	}

	#[test]
	fn collateral_grows_with_the_job() {
		build_and_execute(|| {
			register_device(1, PRICE);
			assert_ok!(Devices::top_up_bond(
				RuntimeOrigin::signed(account(PROVIDER)),
				device(1),
				20 * BOND
			));
			let mut spec = job_spec();
			spec.shape = GemmShape { m: 128, n: 64, k: 8 }; // 2 units
			let job = crate::NextJobId::<Test>::get();
			assert_ok!(Jobs::submit_job(RuntimeOrigin::signed(client()), spec, CAP, 50));
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job, None));
			// 150% of 2 × 600.
			assert_eq!(Devices::locked_of(&device(1)), Some(1_800));
			// The minimum applies to cheap jobs.
			assert_eq!(Jobs::collateral_for(10), MIN_COLLATERAL);
		});
	}

	#[test]
	fn each_device_s_jobs_are_indexed_while_they_are_open() {
		build_and_execute(|| {
			register_device(1, MIN_PRICE);
			let first = submit(50);
			let second = submit(50);
			let other = submit(50);
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), first, None));
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), second, None));
			assert_eq!(DeviceJobs::<Test>::get(device(1)).into_inner(), vec![first, second]);
			let listed: Vec<u64> =
				Jobs::jobs_for_device(&device(1)).iter().map(|(id, _)| *id).collect();
			assert_eq!(listed, vec![first, second]);
			assert!(Jobs::jobs_for_device(&device(2)).is_empty());
			// A missed window takes the job out of the index; so does the job's end.
			run_to_block(1 + COMMIT_WINDOW + 1);
			assert!(!DeviceJobs::<Test>::contains_key(device(1)));
			assert_eq!(JobsMap::<Test>::get(other).unwrap().status, JobStatus::Submitted);
		});
	}

	#[test]
	fn the_open_job_index_lists_exactly_the_waiting_jobs_by_price_bucket() {
		use crate::{OpenJobCount, OpenJobs};
		use proofgrid_primitives::{device::Kernel, job::price_bucket};
		build_and_execute(|| {
			register_device(1, MIN_PRICE);
			let listed = |bucket: u8| -> Vec<u64> {
				let mut ids: Vec<u64> =
					OpenJobs::<Test>::iter_key_prefix((Kernel::GemmI8, bucket)).collect();
				ids.sort();
				ids
			};
			let (cheap, dear) = (MIN_PRICE, 5_000);
			let (low, high) = (price_bucket(cheap as u128), price_bucket(dear as u128));
			assert!(low < high);
			let a = crate::NextJobId::<Test>::get();
			assert_ok!(Jobs::submit_job(RuntimeOrigin::signed(client()), job_spec(), cheap, 50));
			assert_ok!(Jobs::submit_job(RuntimeOrigin::signed(client()), job_spec(), dear, 50));
			assert_ok!(Jobs::submit_job(RuntimeOrigin::signed(client()), job_spec(), dear, 50));
			let (b, c) = (a + 1, a + 2);
			assert_eq!((listed(low), listed(high)), (vec![a], vec![b, c]));
			assert_eq!(OpenJobCount::<Test>::get(Kernel::GemmI8, high), Some(2));
			// Claimed: out of the index. A missed commit window: back in it.
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), b, None));
			assert_eq!(listed(high), vec![c]);
			run_to_block(1 + COMMIT_WINDOW + 1);
			assert_eq!(listed(high), vec![b, c]);
			// Cancelled or expired: out, and an empty bucket leaves no count behind.
			assert_ok!(Jobs::cancel(RuntimeOrigin::signed(client()), a));
			assert!(listed(low).is_empty());
			assert_eq!(OpenJobCount::<Test>::get(Kernel::GemmI8, low), None);
			run_to_block(50);
			assert!(listed(high).is_empty());
			assert_eq!(OpenJobCount::<Test>::iter().count(), 0);
		});
	}

	#[test]
	fn a_device_holds_at_most_max_active_jobs() {
		build_and_execute(|| {
			register_device(1, MIN_PRICE);
			for _ in 0..MAX_ACTIVE_JOBS {
				let job = submit(50);
				assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job, None));
			}
			let job = submit(50);
			assert_noop!(
				Jobs::claim(RuntimeOrigin::signed(device(1)), job, None),
				Error::<Test>::TooManyJobs
			);
		});
	}

	#[test]
	fn the_commit_window_scales_with_the_job_and_the_advertised_speed() {
		build_and_execute(|| {
			// 100 000 GOPS: 10¹¹ operations per (1 ms) block, so one block for any test job.
			register_device(1, MIN_PRICE);
			// 1 GOPS: 10⁶ operations per block.
			register_device_with_gops(2, MIN_PRICE, 1);
			for n in [1, 2] {
				assert_ok!(Devices::top_up_bond(
					RuntimeOrigin::signed(account(PROVIDER)),
					device(n),
					2 * BOND
				));
			}
			let mut spec = job_spec();
			spec.shape = GemmShape { m: 128, n: 128, k: 256 }; // 8.4·10⁶ operations
			let job = crate::NextJobId::<Test>::get();
			let cap = 2 * MIN_PRICE;
			assert_ok!(Jobs::submit_job(RuntimeOrigin::signed(client()), spec.clone(), cap, 50));
			assert_ok!(Jobs::submit_job(RuntimeOrigin::signed(client()), spec, cap, 50));
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job, None));
			assert!(matches!(
				JobsMap::<Test>::get(job).unwrap().status,
				JobStatus::Assigned { commit_by, .. } if commit_by == 1 + BASE_COMMIT_WINDOW + 1
			));
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(2)), job + 1, None));
			assert!(matches!(
				JobsMap::<Test>::get(job + 1).unwrap().status,
				// 8 388 608 operations and 1 024 leaves × 1 000: 10 blocks at 10⁶ per block.
				JobStatus::Assigned { commit_by, .. } if commit_by == 1 + BASE_COMMIT_WINDOW + 10
			));
			// A job the slow device cannot finish within MAX_COMMIT_WINDOW is refused to it.
			let mut big = job_spec();
			big.shape = GemmShape { m: 256, n: 256, k: 256 }; // 3.8·10⁷ work: 38 blocks
			assert_ok!(Jobs::submit_job(RuntimeOrigin::signed(client()), big, cap, 50));
			assert_noop!(
				Jobs::claim(RuntimeOrigin::signed(device(2)), job + 2, None),
				Error::<Test>::TooSlowForJob
			);
			// A wide, shallow job: 2·10⁶ operations (3 blocks) but 65 536 leaves to hash (66
			// blocks): the window counts the hashing, so the slow device may not take it.
			let mut wide = job_spec();
			wide.shape = GemmShape { m: 1_024, n: 1_024, k: 1 };
			assert_ok!(Jobs::submit_job(RuntimeOrigin::signed(client()), wide, cap, 50));
			assert_noop!(
				Jobs::claim(RuntimeOrigin::signed(device(2)), job + 3, None),
				Error::<Test>::TooSlowForJob
			);
		});
	}

	#[test]
	fn an_expired_job_cannot_be_claimed_before_its_expiry_runs() {
		build_and_execute(|| {
			register_device(1, PRICE);
			let job = submit(10);
			System::set_block_number(10);
			assert_noop!(
				Jobs::claim(RuntimeOrigin::signed(device(1)), job, None),
				Error::<Test>::JobExpired
			);
		});
	}

	#[test]
	fn commit_records_the_root_and_schedules_the_reveal_deadline() {
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
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job, None));
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
	fn an_honest_reveal_settles_burns_the_fee_and_pays_to_the_unit() {
		build_and_execute(|| {
			let (job, challenge_block, tree) = committed(|_| false);
			let (provider, client_free) = (free(&account(PROVIDER)), free(&client()));
			let issuance = Balances::total_issuance();

			reveal(job, challenge_block, &tree);

			// One unit at 600: a 10% fee (60) burned, 540 to the provider, 400 refunded.
			System::assert_last_event(
				Event::JobSettled {
					job,
					device: device(1),
					provider: account(PROVIDER),
					payment: 540,
					fee_burned: 60,
					refund: 400,
				}
				.into(),
			);
			assert_eq!(free(&account(PROVIDER)), provider + 540);
			assert_eq!(free(&client()), client_free + 400 + JOB_DEPOSIT);
			assert_eq!(free(&client()), ENDOWMENT - 600);
			assert_eq!((held(&client()), deposit_held(&client())), (0, 0));
			assert_eq!(Balances::total_issuance(), issuance - 60);
			assert_eq!(FeesBurned::<Test>::get(), 60);
			assert!(JobsMap::<Test>::get(job).is_none());
			let info = DevicesMap::<Test>::get(device(1)).unwrap();
			assert_eq!((info.active_jobs, info.locked, info.reputation.completed), (0, 0, 1));
			// The device's record adds up what its owner was paid (after the fee).
			assert_eq!((info.earned, info.slashed), (540, 0));
			// The verified work and its burned fee are reported once, to the owner.
			assert_eq!(Verified::get(), vec![(account(PROVIDER), 1, 60)]);
		});
	}

	#[test]
	fn a_settled_job_publishes_the_throughput_it_proved() {
		build_and_execute(|| {
			register_device(1, MIN_PRICE);
			let mut spec = job_spec();
			spec.shape = GemmShape { m: 128, n: 128, k: 256 }; // 8.4·10⁶ operations, 128 units
			let job = crate::NextJobId::<Test>::get();
			assert_ok!(Jobs::submit_job(RuntimeOrigin::signed(client()), spec, 2 * MIN_PRICE, 50));
			assert_ok!(Devices::top_up_bond(
				RuntimeOrigin::signed(account(PROVIDER)),
				device(1),
				2 * BOND
			));
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job, None));
			run_to_block(3);
			let tree = seeded_output(&stored_spec(job), |_| false);
			assert_ok!(Jobs::commit(RuntimeOrigin::signed(device(1)), job, H256(tree.root())));
			run_to_block(5);
			let paths = reveal_paths(job, &stored_spec(job), &tree, 4);
			let challenge_hash = System::block_hash(4);
			assert_ok!(Jobs::reveal(
				RuntimeOrigin::signed(device(1)),
				job,
				challenge_hash,
				paths,
				256
			));
			// 8 388 608 operations in 3 blocks of 1 ms (the inputs exist from the block before
			// the claim): 2.8 GOPS, rounded down.
			assert_eq!(DevicesMap::<Test>::get(device(1)).unwrap().delivered_gops, 2);
		});
	}

	#[test]
	fn a_faked_output_fails_slashes_the_collateral_and_compensates_below_the_loss() {
		build_and_execute(|| {
			let (job, challenge_block, tree) = committed(|_| true);
			let issuance = Balances::total_issuance();

			reveal(job, challenge_block, &tree);

			// The whole collateral (900) is slashed: the client paid no call fee here, so
			// nothing compensates it and all 900 are burned.
			System::assert_last_event(
				Event::JobFailed {
					job,
					device: device(1),
					reason: FailureReason::BadProof(
						pallet_compute_proof::Error::<Test>::LeafMismatch.into(),
					),
					slashed: COLLATERAL,
					compensation: MAX_COMPENSATION,
				}
				.into(),
			);
			assert_eq!(free(&client()), ENDOWMENT + MAX_COMPENSATION);
			assert_eq!((held(&client()), deposit_held(&client())), (0, 0));
			assert_eq!(Balances::total_issuance(), issuance - (COLLATERAL - MAX_COMPENSATION));
			assert_eq!(SlashesBurned::<Test>::get(), COLLATERAL - MAX_COMPENSATION);
			assert_eq!(Devices::bond_of(&device(1)), Some(BOND - COLLATERAL));
			let info = DevicesMap::<Test>::get(device(1)).unwrap();
			assert_eq!((info.active_jobs, info.locked, info.reputation.failed), (0, 0, 1));
			assert_eq!((info.earned, info.slashed), (0, COLLATERAL));
			// Failed work earns no rewards.
			assert!(Verified::get().is_empty());
		});
	}

	#[test]
	fn a_slashed_device_takes_no_work_until_topped_up() {
		build_and_execute(|| {
			let (job, challenge_block, tree) = committed(|_| true);
			reveal(job, challenge_block, &tree);
			// 100 of the 1 000 bond is left: below the minimum, so no work, not even cheap.
			let next = submit(50);
			assert_noop!(
				Jobs::claim(RuntimeOrigin::signed(device(1)), next, None),
				pallet_devices::Error::<Test>::BondTooLow
			);
			assert_ok!(Devices::top_up_bond(
				RuntimeOrigin::signed(account(PROVIDER)),
				device(1),
				COLLATERAL
			));
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), next, None));
		});
	}

	#[test]
	fn reveal_refusals() {
		build_and_execute(|| {
			register_device(2, PRICE);
			let (job, challenge_block, tree) = committed(|_| false);
			let paths = reveal_paths(job, &stored_spec(job), &tree, challenge_block);
			let hash = || System::block_hash(challenge_block);
			// The challenge block is not produced yet.
			assert_noop!(
				Jobs::reveal(RuntimeOrigin::signed(device(1)), job, hash(), paths.clone(), 8),
				Error::<Test>::ChallengeNotReady
			);
			run_to_block(challenge_block + 1);
			assert_noop!(
				Jobs::reveal(RuntimeOrigin::signed(device(2)), job, hash(), paths.clone(), 8),
				Error::<Test>::NotAssignedDevice
			);
			for witness in [7, 9, u32::MAX] {
				assert_noop!(
					Jobs::reveal(
						RuntimeOrigin::signed(device(1)),
						job,
						hash(),
						paths.clone(),
						witness
					),
					Error::<Test>::WrongWitness
				);
			}
			assert_noop!(
				Jobs::reveal(RuntimeOrigin::signed(device(1)), job + 3, hash(), paths.clone(), 8),
				Error::<Test>::UnknownJob
			);
			// After the window (deadline entry not yet run).
			System::set_block_number(challenge_block + REVEAL_WINDOW + 1);
			assert_noop!(
				Jobs::reveal(RuntimeOrigin::signed(device(1)), job, hash(), paths, 8),
				Error::<Test>::RevealTooLate
			);
		});
	}

	#[test]
	fn a_reveal_for_another_challenge_block_changes_nothing() {
		build_and_execute(|| {
			let (job, challenge_block, tree) = committed(|_| false);
			run_to_block(challenge_block + 1);
			let paths = reveal_paths(job, &stored_spec(job), &tree, challenge_block);
			// Computed on a fork whose challenge block was another one: refused, no slash.
			let other_fork = H256::repeat_byte(0xEE);
			assert_ne!(other_fork, System::block_hash(challenge_block));
			assert_noop!(
				Jobs::reveal(RuntimeOrigin::signed(device(1)), job, other_fork, paths, 8),
				Error::<Test>::WrongChallengeBlock
			);
			// The same device answers this chain's challenge block and is paid.
			reveal(job, challenge_block, &tree);
			assert!(System::events().iter().any(|r| matches!(
				r.event,
				RuntimeEvent::Jobs(Event::JobSettled { job: settled, .. }) if settled == job
			)));
		});
	}

	#[test]
	fn the_challenge_comes_from_the_blocks_randomness_not_its_hash() {
		build_and_execute(|| {
			let (job, challenge_block, _) = committed(|_| false);
			assert_eq!(Jobs::challenge_of(job), None, "no randomness before the block exists");
			run_to_block(challenge_block + 1);
			let challenge = Jobs::challenge_of(job).expect("drawn");
			// Another seal of the same block (another hash, same author and slot, so the same
			// VRF output) leaves the challenge as it was.
			frame_system::BlockHash::<Test>::insert(challenge_block, H256::repeat_byte(0x5E));
			assert_eq!(Jobs::challenge_of(job).as_ref(), Some(&challenge));
			// Other randomness is another challenge.
			crate::testing::VrfSalt::set(1);
			crate::ChallengeRandomness::<Test>::remove(challenge_block);
			Jobs::record_challenge_randomness(challenge_block + 1);
			assert_ne!(Jobs::challenge_of(job), Some(challenge));
		});
	}

	#[test]
	fn challenge_randomness_is_kept_for_the_reveal_window_only() {
		build_and_execute(|| {
			run_to_block(3);
			assert!(crate::ChallengeRandomness::<Test>::get(0).is_none(), "genesis has no VRF");
			assert!(crate::ChallengeRandomness::<Test>::get(1).is_some());
			assert!(crate::ChallengeRandomness::<Test>::get(2).is_some());
			assert!(crate::ChallengeRandomness::<Test>::get(3).is_none(), "not before block 4");
			// A seed of block 2 may challenge a commitment of block 1 (delay 1) up to
			// MAX_CHALLENGE_EXTENSION blocks late, revealed REVEAL_WINDOW blocks after that.
			let last = 2 + 1 + crate::MAX_CHALLENGE_EXTENSION as u64 + REVEAL_WINDOW;
			run_to_block(last);
			assert!(crate::ChallengeRandomness::<Test>::get(2).is_some());
			run_to_block(last + 1);
			assert!(crate::ChallengeRandomness::<Test>::get(2).is_none());
			assert_eq!(
				crate::ChallengeRandomness::<Test>::iter_keys().count() as u64,
				1 + crate::MAX_CHALLENGE_EXTENSION as u64 + REVEAL_WINDOW
			);
		});
	}

	#[test]
	fn a_reveal_after_settlement_is_refused() {
		build_and_execute(|| {
			let (job, challenge_block, tree) = committed(|_| false);
			reveal(job, challenge_block, &tree);
			let paths = reveal_paths(job, &job_spec(), &tree, challenge_block);
			let hash = || System::block_hash(challenge_block);
			assert_noop!(
				Jobs::reveal(RuntimeOrigin::signed(device(1)), job, hash(), paths, 8),
				Error::<Test>::UnknownJob
			);
		});
	}

	#[test]
	fn an_output_computed_for_another_job_does_not_answer_this_one() {
		build_and_execute(|| {
			register_device(1, PRICE);
			assert_ok!(Devices::top_up_bond(
				RuntimeOrigin::signed(account(PROVIDER)),
				device(1),
				BOND
			));
			// The same request twice: the device computes the first and replays its output.
			let first = submit(50);
			let second = submit(50);
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), first, None));
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), second, None));
			let tree = seeded_output(&stored_spec(first), |_| false);
			assert_ok!(Jobs::commit(RuntimeOrigin::signed(device(1)), second, H256(tree.root())));
			run_to_block(3);
			let paths = reveal_paths(second, &stored_spec(first), &tree, 2);
			let challenge_hash = System::block_hash(2);
			assert_ok!(Jobs::reveal(
				RuntimeOrigin::signed(device(1)),
				second,
				challenge_hash,
				paths,
				8
			));
			assert!(matches!(
				System::events().last().map(|r| r.event.clone()),
				Some(RuntimeEvent::Jobs(Event::JobFailed { job, .. })) if job == second
			));
		});
	}
}

mod call_fee {
	use super::*;

	#[test]
	fn the_client_prepays_the_device_calls_burned_at_the_first_claim_only() {
		build_and_execute(|| {
			CallFeePerMs::set(10);
			register_device(1, PRICE);
			register_device(2, PRICE);
			let fee = Jobs::device_calls_weight(&job_spec()).ref_time() / 1_000_000_000 * 10;
			assert!(fee > 0);
			// Held with the deposit, returned if nobody claims.
			let cancelled = submit(50);
			assert_eq!(deposit_held(&client()), JOB_DEPOSIT + fee);
			assert_ok!(Jobs::cancel(RuntimeOrigin::signed(client()), cancelled));
			assert_eq!(free(&client()), ENDOWMENT);

			let job = submit(50);
			let issuance = Balances::total_issuance();
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job, None));
			System::assert_last_event(
				Event::JobAssigned {
					job,
					device: device(1),
					price: PRICE,
					collateral: COLLATERAL,
					call_fee_burned: fee,
					commit_by: System::block_number() + COMMIT_WINDOW,
				}
				.into(),
			);
			assert_eq!(Balances::total_issuance(), issuance - fee);
			assert_eq!(FeesBurned::<Test>::get(), fee);
			assert_eq!(deposit_held(&client()), JOB_DEPOSIT);
			// The device abandons; the next claim costs the client nothing more.
			run_to_block(1 + COMMIT_WINDOW + 1);
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(2)), job, None));
			assert_eq!(FeesBurned::<Test>::get(), fee);
			// The abandoning device repaid the client's fee out of its claim deposit.
			assert_eq!(JobsMap::<Test>::get(job).unwrap().fee_paid, 0);
		});
	}

	/// Attack 1 of issue 31: a client that makes its own job fail (here: a device that fakes
	/// its output, standing for any failure a client can provoke) gets back exactly what it
	/// put in — budget, deposit and the burned call fee — and nothing of the rest of the
	/// collateral, which is burned. Inducing failures never pays.
	#[test]
	fn a_failure_compensates_the_client_with_exactly_the_call_fee_it_paid() {
		build_and_execute(|| {
			CallFeePerMs::set(10);
			let fee = Jobs::device_calls_weight(&job_spec()).ref_time() / 1_000_000_000 * 10;
			assert!(fee > 0);
			let client_before = free(&client());
			register_device(1, PRICE);
			let job = submit(50);
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job, None));
			let tree = seeded_output(&stored_spec(job), |_| true);
			assert_ok!(Jobs::commit(RuntimeOrigin::signed(device(1)), job, H256(tree.root())));
			let challenge_block = System::block_number() + 1;
			let issuance = Balances::total_issuance();
			reveal(job, challenge_block, &tree);
			System::assert_last_event(
				Event::JobFailed {
					job,
					device: device(1),
					reason: FailureReason::BadProof(
						pallet_compute_proof::Error::<Test>::LeafMismatch.into(),
					),
					slashed: COLLATERAL,
					compensation: fee,
				}
				.into(),
			);
			// The client's gain: zero. Before, half the job's value (300) came on top.
			assert_eq!(free(&client()), client_before);
			assert_eq!(Balances::total_issuance(), issuance - (COLLATERAL - fee));
			assert_eq!(SlashesBurned::<Test>::get(), COLLATERAL - fee);
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
			assert_eq!(
				(free(&client()), held(&client()), deposit_held(&client())),
				(ENDOWMENT, 0, 0)
			);
		});
	}

	#[test]
	fn claim_and_abandon_forfeits_the_deposit_and_the_job_goes_to_others_at_once() {
		build_and_execute(|| {
			register_device(1, PRICE);
			register_device(2, PRICE);
			let job = submit(50);
			let (owner, client_free) = (free(&account(PROVIDER)), free(&client()));
			let issuance = Balances::total_issuance();
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job, None));
			run_to_block(1 + COMMIT_WINDOW + 1);
			System::assert_has_event(
				Event::JobUnassigned { job, device: device(1), forfeited: CLAIM_DEPOSIT }.into(),
			);
			// The griefer lost its deposit, burned: nobody, the client included, gains from a
			// missed window.
			assert_eq!(Devices::bond_of(&device(1)), Some(BOND - CLAIM_DEPOSIT));
			assert_eq!(free(&account(PROVIDER)), owner);
			assert_eq!(free(&client()), client_free);
			assert_eq!(Balances::total_issuance(), issuance - CLAIM_DEPOSIT);
			assert_eq!(SlashesBurned::<Test>::get(), CLAIM_DEPOSIT);
			let info = DevicesMap::<Test>::get(device(1)).unwrap();
			assert_eq!((info.active_jobs, info.locked, info.reputation.failed), (0, 0, 1));
			assert_eq!(JobsMap::<Test>::get(job).unwrap().status, JobStatus::Submitted);
			// It may not hold the job hostage again…
			assert_noop!(
				Jobs::claim(RuntimeOrigin::signed(device(1)), job, None),
				Error::<Test>::AbandonedBefore
			);
			// …and another device takes it in the same block.
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(2)), job, None));
		});
	}

	#[test]
	fn a_job_abandoned_too_often_expires_with_a_refund() {
		build_and_execute(|| {
			for n in 1..=(MAX_ABANDONS_PER_JOB as u8) {
				register_device(n, PRICE);
			}
			let job = submit(100);
			for n in 1..=(MAX_ABANDONS_PER_JOB as u8) {
				assert!(JobsMap::<Test>::get(job).is_some(), "open after {} abandonments", n - 1);
				assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(n)), job, None));
				run_to_block(System::block_number() + COMMIT_WINDOW + 1);
			}
			System::assert_last_event(Event::JobExpired { job }.into());
			assert_eq!((held(&client()), deposit_held(&client())), (0, 0));
		});
	}

	#[test]
	fn a_missed_commit_after_the_deadline_expires_the_job() {
		build_and_execute(|| {
			register_device(1, PRICE);
			let job = submit(3);
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job, None));
			run_to_block(1 + COMMIT_WINDOW + 1);
			System::assert_last_event(Event::JobExpired { job }.into());
			assert_eq!((held(&client()), deposit_held(&client())), (0, 0));
		});
	}

	#[test]
	fn a_missing_reveal_fails_the_job_and_slashes_the_collateral() {
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
					slashed: COLLATERAL,
					compensation: MAX_COMPENSATION,
				}
				.into(),
			);
			assert_eq!(free(&client()), ENDOWMENT + MAX_COMPENSATION);
		});
	}

	/// Fills both queues of `from..to` with stale entries.
	fn flood(queue: &str, from: u64, to: u64) {
		for block in from..to {
			for _ in 0..MAX_DEADLINES {
				let push = |q: &mut frame_support::BoundedVec<u64, _>| {
					let _ = q.try_push(999);
				};
				match queue {
					"client" => Expiries::<Test>::mutate(block, push),
					_ => Deadlines::<Test>::mutate(block, push),
				}
			}
		}
	}

	#[test]
	fn a_flood_of_client_deadlines_never_stops_claim_commit_or_reveal() {
		build_and_execute(|| {
			register_device(1, PRICE);
			// An attacker's jobs fill every client queue where this job's protocol deadlines
			// (commit by 7, reveal by 13) and their probes fall.
			for _ in 0..(MAX_DEADLINES * 40) {
				let block = 2 + (crate::NextJobId::<Test>::get() % 40);
				assert_ok!(Jobs::submit_job(
					RuntimeOrigin::signed(account(STRANGER)),
					job_spec(),
					MIN_PRICE,
					block
				));
			}
			assert!((2..42).all(|b| Expiries::<Test>::get(b).len() as u32 == MAX_DEADLINES));
			// The old single queue would now refuse the claim (its commit deadline, block 8, and
			// all probes were full); with client deadlines kept apart the lifecycle lands.
			let job = submit(50);
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job, None));
			let tree = seeded_output(&stored_spec(job), |_| false);
			assert_ok!(Jobs::commit(RuntimeOrigin::signed(device(1)), job, H256(tree.root())));
			reveal(job, 2, &tree);
			assert!(matches!(
				System::events().iter().rev().find_map(|r| match &r.event {
					RuntimeEvent::Jobs(Event::JobSettled { job: j, .. }) => Some(*j),
					_ => None,
				}),
				Some(j) if j == job
			));
		});
	}

	#[test]
	fn full_queues_never_fail_a_call_and_expire_enforces_what_they_could_not_hold() {
		build_and_execute(|| {
			register_device(1, PRICE);
			flood("client", 10, 10 + 16);
			flood("protocol", 1, 60);
			// Neither queue has room, yet submit and claim succeed.
			let job = submit(10);
			assert!(!Expiries::<Test>::iter_values().any(|q| q.contains(&job)));
			let stranger = RuntimeOrigin::signed(account(STRANGER));
			assert_noop!(Jobs::expire(stranger.clone(), job), Error::<Test>::NotDue);
			assert_noop!(Jobs::expire(stranger.clone(), job + 1), Error::<Test>::UnknownJob);
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job, None));
			run_to_block(10);
			// The missed commit was not queued: the job is still assigned until anyone
			// enforces it, for free.
			assert!(matches!(
				JobsMap::<Test>::get(job).unwrap().status,
				JobStatus::Assigned { .. }
			));
			let post = Jobs::expire(stranger.clone(), job).expect("due");
			assert_eq!(post.pays_fee, Pays::No);
			// Past its deadline too: the job expires with a refund after the forfeit.
			System::assert_last_event(Event::JobExpired { job }.into());
			assert_eq!(Devices::bond_of(&device(1)), Some(BOND - CLAIM_DEPOSIT));
			assert_eq!((held(&client()), deposit_held(&client())), (0, 0));
		});
	}
}

mod device_calls {
	use super::*;

	pub(super) fn validate(
		who: AccountId,
		call: RuntimeCall,
	) -> Result<sp_runtime::transaction_validity::ValidTransaction, TransactionValidityError> {
		let info = call.get_dispatch_info();
		CheckDeviceCall::<Test>::new()
			.validate_only(
				RuntimeOrigin::signed(who),
				&call,
				&info,
				0,
				TransactionSource::External,
				0,
			)
			.map(|(valid, _, _)| valid)
	}

	pub(super) fn custom(error: Error<Test>) -> TransactionValidityError {
		let index = match sp_runtime::DispatchError::from(error) {
			sp_runtime::DispatchError::Module(e) => e.error[0],
			_ => unreachable!("a pallet error"),
		};
		InvalidTransaction::Custom(index).into()
	}

	#[test]
	fn are_free_and_operational() {
		let paths = Default::default();
		for call in [
			RuntimeCall::Jobs(crate::Call::claim { job: 0, basis: None }),
			RuntimeCall::Jobs(crate::Call::commit { job: 0, root: H256::zero() }),
			RuntimeCall::Jobs(crate::Call::reveal {
				job: 0,
				challenge_hash: H256::zero(),
				paths,
				k_dim_witness: 8,
			}),
		] {
			let info = call.get_dispatch_info();
			assert_eq!((info.pays_fee, info.class), (Pays::No, DispatchClass::Operational));
		}
	}

	#[test]
	fn only_the_device_that_may_make_the_step_now_enters_the_pool() {
		build_and_execute(|| {
			register_device(1, PRICE);
			register_device(2, CAP + 1);
			let job = submit(50);
			let claim = RuntimeCall::Jobs(crate::Call::claim { job, basis: None });
			let valid = validate(device(1), claim.clone()).expect("eligible");
			assert_eq!(valid.priority, u64::MAX / 2);
			assert_eq!(valid.provides.len(), 1);
			assert_eq!(
				validate(device(2), claim.clone()),
				Err(InvalidTransaction::Custom(
					// The devices pallet's error index is passed through.
					match sp_runtime::DispatchError::from(
						pallet_devices::Error::<Test>::PriceTooHigh
					) {
						sp_runtime::DispatchError::Module(e) => e.error[0],
						_ => unreachable!(),
					}
				)
				.into())
			);
			assert_eq!(
				validate(account(STRANGER), claim.clone()),
				Err(custom(Error::UnknownDevice))
			);

			let commit = RuntimeCall::Jobs(crate::Call::commit { job, root: H256::zero() });
			assert_eq!(validate(device(1), commit.clone()), Err(custom(Error::WrongState)));
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job, None));
			assert_eq!(validate(device(1), claim), Err(custom(Error::WrongState)));
			assert_eq!(validate(device(2), commit.clone()), Err(custom(Error::NotAssignedDevice)));
			assert!(validate(device(1), commit.clone()).is_ok());

			let tree = seeded_output(&stored_spec(job), |_| false);
			assert_ok!(Jobs::commit(RuntimeOrigin::signed(device(1)), job, H256(tree.root())));
			let paths = reveal_paths(job, &stored_spec(job), &tree, 2);
			let reveal = |k_dim_witness| {
				RuntimeCall::Jobs(crate::Call::reveal {
					job,
					challenge_hash: System::block_hash(2),
					paths: paths.clone(),
					k_dim_witness,
				})
			};
			assert_eq!(validate(device(1), reveal(8)), Err(custom(Error::ChallengeNotReady)));
			run_to_block(3);
			assert_eq!(validate(device(1), reveal(9)), Err(custom(Error::WrongWitness)));
			assert!(validate(device(1), reveal(8)).is_ok());
			System::set_block_number(2 + REVEAL_WINDOW + 1);
			assert_eq!(validate(device(1), reveal(8)), Err(custom(Error::RevealTooLate)));
		});
	}

	#[test]
	fn other_calls_pass_untouched() {
		build_and_execute(|| {
			let call = RuntimeCall::Jobs(crate::Call::cancel { job: 7 });
			assert_eq!(validate(client(), call), Ok(Default::default()));
		});
	}
}

mod supplied_inputs {
	use super::{
		device_calls::{custom, validate},
		*,
	};
	use proofgrid_primitives::{
		challenge::challenge_seed,
		inputs::{challenged_elements, fixture::SuppliedJob, MatrixCommitment},
		job::{InputSource, JobInputs, JobSpec, MAX_SUPPLIED_SAMPLES},
	};

	/// The standard job's shape (64×64×8, one unit) on the client's own matrices.
	fn matrices() -> SuppliedJob {
		SuppliedJob::new(64, 64, 8, 42)
	}

	/// `job`'s spec with 8 samples (the mock verifier's default).
	fn supplied_spec(job: &SuppliedJob) -> JobSpec {
		with_samples(job, 8)
	}

	fn with_samples(job: &SuppliedJob, samples: u32) -> JobSpec {
		JobSpec {
			shape: job.shape,
			inputs: JobInputs::Supplied {
				matrices: job.inputs,
				a: InputSource::Upload,
				b: InputSource::Url(b"https://data.example/b.npy".to_vec().try_into().unwrap()),
				samples,
				public_output: false,
			},
			requirements: job_spec().requirements,
		}
	}

	/// Registers device 1, submits `job`'s spec, claims it and commits `job`'s output root.
	fn committed(job: &SuppliedJob) -> (u64, u64) {
		register_device(1, PRICE);
		let id = crate::NextJobId::<Test>::get();
		let spec = supplied_spec(job);
		assert_ok!(Jobs::submit_job(RuntimeOrigin::signed(client()), spec.clone(), CAP, 50));
		assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), id, None));
		// Supplied inputs are stored as submitted: no seed to bind.
		assert_eq!(stored_spec(id), spec);
		assert_ok!(Jobs::commit(RuntimeOrigin::signed(device(1)), id, H256(job.root())));
		(id, System::block_number() + 1)
	}

	/// What device 1 reveals for `job` (id `id`) once its challenge block exists.
	fn reveal_supplied(
		id: u64,
		challenge_block: u64,
		job: &SuppliedJob,
	) -> sp_runtime::DispatchResult {
		run_to_block(challenge_block + 1);
		let randomness =
			crate::ChallengeRandomness::<Test>::get(challenge_block).unwrap().randomness;
		let seed = challenge_seed(id, &job.root(), &randomness.0);
		let samples = job.reveal(&challenged_elements(&job.shape, &seed, 8));
		let hash = System::block_hash(challenge_block);
		Jobs::reveal_supplied(RuntimeOrigin::signed(device(1)), id, hash, samples, 8)
	}

	#[test]
	fn an_honest_supplied_job_is_verified_then_settles_once_after_its_dispute_window() {
		build_and_execute(|| {
			let job = matrices();
			let (id, challenge_block) = committed(&job);
			let provider = free(&account(PROVIDER));
			assert_ok!(reveal_supplied(id, challenge_block, &job));
			// The dispute window, and a block to download the 16 KiB output.
			let dispute_until = System::block_number() + DISPUTE_BLOCKS + 1;
			System::assert_last_event(
				Event::JobVerified { job: id, device: device(1), dispute_until }.into(),
			);
			// Nobody is paid yet; the collateral stays locked; the device's slot is free.
			assert_eq!(free(&account(PROVIDER)), provider);
			assert_eq!(free(&client()), ENDOWMENT - CAP - JOB_DEPOSIT);
			assert_eq!(Devices::locked_of(&device(1)), Some(COLLATERAL));
			assert!(crate::DeviceJobs::<Test>::get(device(1)).is_empty());
			let slots = pallet_devices::Devices::<Test>::get(device(1)).unwrap().active_jobs;
			assert_eq!(slots, 0, "the device may take other jobs meanwhile");
			assert!(Verified::get().is_empty());
			run_to_block(dispute_until);
			assert!(matches!(
				JobsMap::<Test>::get(id).map(|j| j.status),
				Some(JobStatus::Verified { .. })
			));
			run_to_block(dispute_until + 1);
			System::assert_last_event(
				Event::JobSettled {
					job: id,
					device: device(1),
					provider: account(PROVIDER),
					payment: 540,
					fee_burned: 60,
					refund: 400,
				}
				.into(),
			);
			run_to_block(dispute_until + 10);
			assert_eq!(free(&account(PROVIDER)), provider + 540, "paid once");
			assert_eq!(free(&client()), ENDOWMENT - 600);
			assert_eq!(Devices::locked_of(&device(1)), Some(0));
			assert_eq!(Verified::get(), vec![(account(PROVIDER), 1, 60)]);
		});
	}

	#[test]
	fn without_a_dispute_window_a_supplied_job_settles_at_its_reveal() {
		build_and_execute(|| {
			DisputeWindow::set(0);
			let job = matrices();
			let (id, challenge_block) = committed(&job);
			assert_ok!(reveal_supplied(id, challenge_block, &job));
			assert!(JobsMap::<Test>::get(id).is_none());
			assert_eq!(free(&client()), ENDOWMENT - 600);
		});
	}

	#[test]
	fn a_wrong_supplied_output_is_slashed() {
		build_and_execute(|| {
			let cheat = matrices().doctored(|_, leaf| leaf.iter_mut().for_each(|v| *v += 1));
			let (id, challenge_block) = committed(&cheat);
			assert_ok!(reveal_supplied(id, challenge_block, &cheat));
			System::assert_last_event(
				Event::JobFailed {
					job: id,
					device: device(1),
					reason: FailureReason::BadProof(
						pallet_compute_proof::Error::<Test>::ElementMismatch.into(),
					),
					slashed: COLLATERAL,
					compensation: MAX_COMPENSATION,
				}
				.into(),
			);
			assert_eq!(free(&client()), ENDOWMENT + MAX_COMPENSATION);
			assert_eq!(Devices::bond_of(&device(1)), Some(BOND - COLLATERAL));
		});
	}

	#[test]
	fn a_reveal_of_the_wrong_kind_changes_nothing() {
		build_and_execute(|| {
			let job = matrices();
			let (id, challenge_block) = committed(&job);
			run_to_block(challenge_block + 1);
			let hash = System::block_hash(challenge_block);
			assert_noop!(
				Jobs::reveal(RuntimeOrigin::signed(device(1)), id, hash, Default::default(), 8),
				Error::<Test>::WrongRevealKind
			);
			let call = RuntimeCall::Jobs(crate::Call::reveal {
				job: id,
				challenge_hash: hash,
				paths: Default::default(),
				k_dim_witness: 8,
			});
			assert_eq!(validate(device(1), call), Err(custom(Error::WrongRevealKind)));
			// And supplied samples for a seeded job.
			register_device(2, PRICE);
			let seeded = submit(50);
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(2)), seeded, None));
			assert_ok!(Jobs::commit(RuntimeOrigin::signed(device(2)), seeded, H256::zero()));
			run_to_block(System::block_number() + 2);
			let hash = System::block_hash(System::block_number() - 1);
			assert_noop!(
				Jobs::reveal_supplied(
					RuntimeOrigin::signed(device(2)),
					seeded,
					hash,
					Default::default(),
					8
				),
				Error::<Test>::WrongRevealKind
			);
			// The honest reveal still verifies the supplied job.
			assert_ok!(reveal_supplied(id, challenge_block, &job));
			assert!(matches!(
				JobsMap::<Test>::get(id).map(|j| j.status),
				Some(JobStatus::Verified { .. })
			));
		});
	}

	#[test]
	fn submit_refuses_inputs_that_do_not_make_the_shape_bad_urls_and_oversized_reveals() {
		build_and_execute(|| {
			let job = matrices();
			let submit =
				|spec: JobSpec| Jobs::submit_job(RuntimeOrigin::signed(client()), spec, CAP, 50);
			let mut other_shape = supplied_spec(&job);
			other_shape.shape.m = 60;
			assert_noop!(submit(other_shape), Error::<Test>::InputsMismatch);
			let mut ftp = supplied_spec(&job);
			if let JobInputs::Supplied { a, .. } = &mut ftp.inputs {
				*a = InputSource::Url(b"ftp://data.example/a".to_vec().try_into().unwrap());
			}
			assert_noop!(submit(ftp), Error::<Test>::BadInputSource);
			// k = 4 096: 8 samples of ~9.7 KB are more than the 64 KiB a reveal may take.
			let commitment =
				|lanes| MatrixCommitment { lanes, lane_len: 4_096, root: H256::repeat_byte(1) };
			let deep = JobSpec {
				shape: GemmShape { m: 64, n: 64, k: 4_096 },
				inputs: JobInputs::Supplied {
					matrices: proofgrid_primitives::inputs::SuppliedInputs {
						a: commitment(64),
						b: commitment(64),
					},
					a: InputSource::Upload,
					b: InputSource::Upload,
					samples: 8,
					public_output: false,
				},
				requirements: job_spec().requirements,
			};
			assert_noop!(submit(deep), Error::<Test>::RevealTooLarge);
			assert_ok!(submit(supplied_spec(&job)));
		});
	}

	#[test]
	fn the_client_chooses_its_samples_within_bounds_and_pays_for_their_verification() {
		build_and_execute(|| {
			CallFeePerMs::set(10);
			let job = matrices();
			let submit =
				|spec: JobSpec| Jobs::submit_job(RuntimeOrigin::signed(client()), spec, CAP, 50);
			// The mock verifier's minimum is 4; the most any job may ask for is 256.
			assert_noop!(submit(with_samples(&job, 3)), Error::<Test>::BadSampleCount);
			assert_noop!(submit(with_samples(&job, 0)), Error::<Test>::BadSampleCount);
			assert_noop!(
				submit(with_samples(&job, MAX_SUPPLIED_SAMPLES + 1)),
				Error::<Test>::BadSampleCount
			);
			// More samples: a larger call fee held from the client, for a heavier reveal.
			let fee = |samples| {
				let id = crate::NextJobId::<Test>::get();
				assert_ok!(submit(with_samples(&job, samples)));
				JobsMap::<Test>::get(id).unwrap().call_fee
			};
			let (few, many) = (fee(4), fee(64));
			assert!(many > few && few > 0, "{few} vs {many}");
			let weight = |samples| {
				Jobs::device_calls_weight(&with_samples(&job, samples)).ref_time() / 1_000_000_000
			};
			assert_eq!(many - few, (weight(64) - weight(4)) * 10);
			// The most samples must still fit the reveal size the chain admits (64 KiB here).
			assert_noop!(
				submit(with_samples(&job, MAX_SUPPLIED_SAMPLES)),
				Error::<Test>::RevealTooLarge
			);
		});
	}

	#[test]
	fn a_reveal_with_fewer_samples_than_the_client_asked_for_is_slashed() {
		build_and_execute(|| {
			let job = matrices();
			register_device(1, PRICE);
			let id = crate::NextJobId::<Test>::get();
			let spec = with_samples(&job, 16);
			assert_ok!(Jobs::submit_job(RuntimeOrigin::signed(client()), spec, CAP, 50));
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), id, None));
			assert_ok!(Jobs::commit(RuntimeOrigin::signed(device(1)), id, H256(job.root())));
			let challenge_block = System::block_number() + 1;
			// The device answers the mock default's 8 samples instead of the 16 asked for.
			assert_ok!(reveal_supplied(id, challenge_block, &job));
			assert!(matches!(
				System::events().last().map(|r| r.event.clone()),
				Some(RuntimeEvent::Jobs(Event::JobFailed { job, .. })) if job == id
			));
			assert_eq!(Devices::bond_of(&device(1)), Some(BOND - COLLATERAL));
		});
	}

	#[test]
	fn a_device_without_its_inputs_releases_the_job_without_penalty_after_the_input_window() {
		build_and_execute(|| {
			let job = matrices();
			register_device(1, PRICE);
			let id = crate::NextJobId::<Test>::get();
			let client_before = free(&client());
			assert_ok!(Jobs::submit_job(
				RuntimeOrigin::signed(client()),
				supplied_spec(&job),
				CAP,
				50
			));
			let call_fee = JobsMap::<Test>::get(id).unwrap().call_fee;
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), id, None));
			let release = RuntimeCall::Jobs(crate::Call::release { job: id });
			// Not before the input window has passed, and only by the assigned device.
			assert_noop!(
				Jobs::release(RuntimeOrigin::signed(device(1)), id),
				Error::<Test>::CannotRelease
			);
			assert_eq!(validate(device(1), release.clone()), Err(custom(Error::CannotRelease)));
			// The input window: 3 blocks, and one per MiB of inputs begun.
			assert_eq!(Jobs::input_window(&supplied_spec(&job)), 3 + 1);
			run_to_block(System::block_number() + 4);
			assert_noop!(
				Jobs::release(RuntimeOrigin::signed(device(2)), id),
				Error::<Test>::NotAssignedDevice
			);
			assert!(validate(device(1), release).is_ok());
			let bond = Devices::bond_of(&device(1));
			assert_ok!(Jobs::release(RuntimeOrigin::signed(device(1)), id));
			System::assert_last_event(
				Event::JobReleased { job: id, device: device(1), forfeited: 0 }.into(),
			);
			// No penalty: the whole bond is free again; the job waits for another device.
			assert_eq!(Devices::bond_of(&device(1)), bond);
			assert_eq!(DevicesMap::<Test>::get(device(1)).unwrap().locked, 0);
			assert_eq!(JobsMap::<Test>::get(id).unwrap().status, JobStatus::Submitted);
			assert_noop!(
				Jobs::claim(RuntimeOrigin::signed(device(1)), id, None),
				Error::<Test>::AbandonedBefore
			);
			// Each device can hold the job up once: after MAX_ABANDONS_PER_JOB it ends, and the
			// client has lost exactly the call fee it paid at the first claim.
			for n in 2..(2 + MAX_ABANDONS_PER_JOB as u8 - 1) {
				register_device(n, PRICE);
				assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(n)), id, None));
				run_to_block(System::block_number() + 4);
				assert_ok!(Jobs::release(RuntimeOrigin::signed(device(n)), id));
			}
			System::assert_last_event(Event::JobExpired { job: id }.into());
			assert_eq!(free(&client()), client_before - call_fee);
			assert_eq!((held(&client()), deposit_held(&client())), (0, 0));
		});
	}

	#[test]
	fn seeded_and_committed_jobs_cannot_be_released() {
		build_and_execute(|| {
			register_device(1, PRICE);
			let seeded = submit(50);
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), seeded, None));
			run_to_block(System::block_number() + 3);
			assert_noop!(
				Jobs::release(RuntimeOrigin::signed(device(1)), seeded),
				Error::<Test>::CannotRelease
			);
			let job = matrices();
			let id = crate::NextJobId::<Test>::get();
			assert_ok!(Jobs::submit_job(
				RuntimeOrigin::signed(client()),
				supplied_spec(&job),
				CAP,
				50
			));
			register_device(2, PRICE);
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(2)), id, None));
			assert_ok!(Jobs::commit(RuntimeOrigin::signed(device(2)), id, H256(job.root())));
			run_to_block(System::block_number() + 3);
			assert_noop!(
				Jobs::release(RuntimeOrigin::signed(device(2)), id),
				Error::<Test>::WrongState
			);
		});
	}
}

/// Attack 5's residual: the chain tells whether a job's inputs reached its device from the
/// device's own signed receipt, which the client puts on chain (`confirm_inputs`). Before it,
/// a release is free (the inputs may never have come); after it, releasing repays the client.
mod input_receipts {
	use super::{
		device_calls::{custom, validate},
		*,
	};
	use proofgrid_primitives::{
		inputs::{fixture::SuppliedJob, inputs_receipt_message},
		job::{InputSource, JobInputs, JobSpec},
	};
	use sp_core::Pair;
	use sp_runtime::MultiSignature;

	/// A one-unit job on the client's own (uploaded) matrices.
	fn supplied_spec() -> JobSpec {
		let job = SuppliedJob::new(64, 64, 8, 7);
		JobSpec {
			shape: job.shape,
			inputs: JobInputs::Supplied {
				matrices: job.inputs,
				a: InputSource::Upload,
				b: InputSource::Upload,
				samples: 8,
				public_output: false,
			},
			requirements: job_spec().requirements,
		}
	}

	/// Submits the supplied job and has device `n` (registered) claim it; its id.
	fn claimed_by(n: u8) -> u64 {
		let id = crate::NextJobId::<Test>::get();
		assert_ok!(Jobs::submit_job(RuntimeOrigin::signed(client()), supplied_spec(), CAP, 50));
		register_device(n, PRICE);
		assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(n)), id, None));
		id
	}

	/// Device `signer`'s receipt for `job`, naming device `named` and genesis `genesis`.
	fn receipt_by(signer: u8, job: u64, named: u8, genesis: H256) -> MultiSignature {
		let message = inputs_receipt_message(&genesis.0, job, &device(named).into());
		device_pair(signer).sign(&message).into()
	}

	fn receipt(n: u8, job: u64) -> MultiSignature {
		receipt_by(n, job, n, System::block_hash(0))
	}

	fn inputs_received(job: u64) -> bool {
		matches!(
			JobsMap::<Test>::get(job).unwrap().status,
			JobStatus::Assigned { inputs_received: true, .. }
		)
	}

	#[test]
	fn the_client_confirms_its_inputs_with_the_devices_receipt() {
		build_and_execute(|| {
			let job = claimed_by(1);
			assert!(!inputs_received(job));
			assert_ok!(Jobs::confirm_inputs(RuntimeOrigin::signed(client()), job, receipt(1, job)));
			System::assert_last_event(Event::InputsReceived { job, device: device(1) }.into());
			assert!(inputs_received(job));
			assert_noop!(
				Jobs::confirm_inputs(RuntimeOrigin::signed(client()), job, receipt(1, job)),
				Error::<Test>::InputsAlreadyReceived
			);
		});
	}

	#[test]
	fn a_receipt_must_be_the_assigned_devices_for_this_chain_and_job() {
		build_and_execute(|| {
			let job = claimed_by(1);
			register_device(2, PRICE);
			let genesis = System::block_hash(0);
			let confirm =
				|receipt| Jobs::confirm_inputs(RuntimeOrigin::signed(client()), job, receipt);
			// Another device's signature, one naming another device, another job, another chain.
			assert_noop!(confirm(receipt_by(2, job, 1, genesis)), Error::<Test>::BadReceipt);
			assert_noop!(confirm(receipt_by(2, job, 2, genesis)), Error::<Test>::BadReceipt);
			assert_noop!(confirm(receipt_by(1, job + 1, 1, genesis)), Error::<Test>::BadReceipt);
			assert_noop!(
				confirm(receipt_by(1, job, 1, H256::repeat_byte(7))),
				Error::<Test>::BadReceipt
			);
			// Only the client; only an assigned job.
			assert_noop!(
				Jobs::confirm_inputs(
					RuntimeOrigin::signed(account(STRANGER)),
					job,
					receipt(1, job)
				),
				Error::<Test>::NotClient
			);
			let waiting = submit(50);
			assert_noop!(
				Jobs::confirm_inputs(RuntimeOrigin::signed(client()), waiting, receipt(1, waiting)),
				Error::<Test>::WrongState
			);
			assert_noop!(
				Jobs::confirm_inputs(RuntimeOrigin::signed(client()), 99, receipt(1, 99)),
				Error::<Test>::UnknownJob
			);
		});
	}

	/// Four sybil devices each claim the client's job, take its inputs (the client confirms
	/// them) and give it back. Before receipts each release was free and the client lost its
	/// call fee; now each device repays it, and the client ends where it started.
	#[test]
	fn releasing_after_the_inputs_arrived_repays_the_client_and_costs_the_attacker() {
		build_and_execute(|| {
			let weight_ms = Jobs::device_calls_weight(&supplied_spec()).ref_time() / 1_000_000_000;
			// A call fee above the claim deposit and below the collateral.
			CallFeePerMs::set(4 * CLAIM_DEPOSIT / weight_ms.max(1));
			let client_before = free(&client());
			let job = claimed_by(1);
			let fee = JobsMap::<Test>::get(job).unwrap().fee_paid;
			assert!(fee > CLAIM_DEPOSIT && fee < COLLATERAL, "fee {fee}");
			let mut forfeited_total = 0;
			for n in 1..=MAX_ABANDONS_PER_JOB as u8 {
				if n > 1 {
					register_device(n, PRICE);
					assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(n)), job, None));
				}
				assert_ok!(Jobs::confirm_inputs(
					RuntimeOrigin::signed(client()),
					job,
					receipt(n, job)
				));
				// At once: no input window to wait for once the inputs are in.
				let release = RuntimeCall::Jobs(crate::Call::release { job });
				assert!(validate(device(n), release).is_ok());
				let bond = Devices::bond_of(&device(n)).unwrap();
				assert_ok!(Jobs::release(RuntimeOrigin::signed(device(n)), job));
				let forfeited = bond - Devices::bond_of(&device(n)).unwrap();
				System::assert_has_event(
					Event::JobReleased { job, device: device(n), forfeited }.into(),
				);
				forfeited_total += forfeited;
				if n == 1 {
					assert_eq!(forfeited, fee, "the call fee, which is above the claim deposit");
				}
			}
			System::assert_last_event(Event::JobExpired { job }.into());
			// The client paid the fee once and got it back; the attacker's devices lost at
			// least the claim deposit each, and the first repaid the fee.
			assert_eq!(free(&client()), client_before);
			assert!(forfeited_total >= fee + CLAIM_DEPOSIT * (MAX_ABANDONS_PER_JOB as u64 - 1));
			println!(
				"{MAX_ABANDONS_PER_JOB} sybil releases after confirmed inputs: the client lost 0 \
				 (call fee {fee} repaid), the attacker forfeited {forfeited_total}"
			);
		});
	}

	/// Without a receipt the release stays free and waits for the input window: the chain
	/// cannot tell that the inputs came.
	#[test]
	fn without_a_receipt_a_release_is_free_and_waits_for_the_input_window() {
		build_and_execute(|| {
			let job = claimed_by(1);
			assert_noop!(
				Jobs::release(RuntimeOrigin::signed(device(1)), job),
				Error::<Test>::CannotRelease
			);
			let release = RuntimeCall::Jobs(crate::Call::release { job });
			assert_eq!(validate(device(1), release), Err(custom(Error::CannotRelease)));
			run_to_block(System::block_number() + Jobs::input_window(&supplied_spec()));
			let bond = Devices::bond_of(&device(1));
			assert_ok!(Jobs::release(RuntimeOrigin::signed(device(1)), job));
			assert_eq!(Devices::bond_of(&device(1)), bond);
			System::assert_last_event(
				Event::JobReleased { job, device: device(1), forfeited: 0 }.into(),
			);
		});
	}

	/// A missed commit window forfeits the call fee too when it is above the claim deposit, so
	/// a device that takes a costly job and walks away repays it in full.
	#[test]
	fn a_missed_commit_repays_a_call_fee_above_the_claim_deposit() {
		build_and_execute(|| {
			let weight_ms = Jobs::device_calls_weight(&job_spec()).ref_time() / 1_000_000_000;
			CallFeePerMs::set(4 * CLAIM_DEPOSIT / weight_ms.max(1));
			let before = free(&client());
			register_device(1, PRICE);
			let job = submit(1 + COMMIT_WINDOW + 2);
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job, None));
			let fee = JobsMap::<Test>::get(job).unwrap().fee_paid;
			assert!(fee > CLAIM_DEPOSIT, "fee {fee}");
			run_to_block(1 + COMMIT_WINDOW + 1);
			System::assert_has_event(
				Event::JobUnassigned { job, device: device(1), forfeited: fee }.into(),
			);
			run_to_block(1 + COMMIT_WINDOW + 3);
			assert_eq!(free(&client()), before, "the client has everything back");
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

#[test]
fn try_state_catches_a_deposit_or_collateral_mismatch() {
	new_test_ext().execute_with(|| {
		register_device(1, PRICE);
		let job = submit(20);
		JobsMap::<Test>::mutate(job, |j| j.as_mut().unwrap().deposit = JOB_DEPOSIT + 1);
		assert!(Jobs::do_try_state().is_err());
		JobsMap::<Test>::mutate(job, |j| j.as_mut().unwrap().deposit = JOB_DEPOSIT);
		assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job, None));
		assert!(Jobs::do_try_state().is_ok());
		DevicesMap::<Test>::mutate(device(1), |d| d.as_mut().unwrap().locked = 1);
		assert!(Jobs::do_try_state().is_err());
	});
}

mod disputes {
	use super::*;
	use frame_support::dispatch::Pays;
	use proofgrid_primitives::{
		challenge::challenge_seed,
		inputs::{challenged_elements, fixture::SuppliedJob},
		job::{InputSource, JobInputs, JobSpec},
	};

	/// A 64×64×8 job on the client's own matrices with 8 samples, committed by device 1 with
	/// `job`'s output, revealed, and verified; its id and last dispute block.
	fn verified(job: &SuppliedJob) -> (u64, u64) {
		register_device(1, PRICE);
		let id = crate::NextJobId::<Test>::get();
		let spec = JobSpec {
			shape: job.shape,
			inputs: JobInputs::Supplied {
				matrices: job.inputs,
				a: InputSource::Upload,
				b: InputSource::Upload,
				samples: 8,
				public_output: false,
			},
			requirements: job_spec().requirements,
		};
		assert_ok!(Jobs::submit_job(RuntimeOrigin::signed(client()), spec, CAP, 50));
		assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), id, None));
		assert_ok!(Jobs::commit(RuntimeOrigin::signed(device(1)), id, H256(job.root())));
		let challenge_block = System::block_number() + 1;
		run_to_block(challenge_block + 1);
		let randomness =
			crate::ChallengeRandomness::<Test>::get(challenge_block).unwrap().randomness;
		let seed = challenge_seed(id, &job.root(), &randomness.0);
		let challenged = challenged_elements(&job.shape, &seed, 8);
		let hash = System::block_hash(challenge_block);
		assert_ok!(Jobs::reveal_supplied(
			RuntimeOrigin::signed(device(1)),
			id,
			hash,
			job.reveal(&challenged),
			8
		));
		let Some(JobStatus::Verified { dispute_until, .. }) =
			JobsMap::<Test>::get(id).map(|j| j.status)
		else {
			panic!("the reveal checked out (the challenge missed the doctored element)");
		};
		(id, dispute_until)
	}

	/// The honest output with element (37, 21) off by one: one of 4 096 elements, which 8
	/// samples miss 99.8% of the time (and this test's challenge misses).
	fn one_wrong_element() -> SuppliedJob {
		SuppliedJob::new(64, 64, 8, 42).doctored(|index, leaf| {
			// Tile (9, 5) of 16 per row; row 1, column 1 within it.
			if index == 9 * 16 + 5 {
				leaf[4 + 1] += 1;
			}
		})
	}

	#[test]
	fn a_fraud_proof_catches_what_the_spot_check_missed_and_the_cheater_loses_its_collateral() {
		build_and_execute(|| {
			let cheat = one_wrong_element();
			let (id, _) = verified(&cheat);
			let owner = free(&account(PROVIDER));
			let bond = Devices::bond_of(&device(1)).unwrap();
			let issuance = Balances::total_issuance();

			let proof = cheat.fraud_proof((37, 21));
			let post = Jobs::dispute(RuntimeOrigin::signed(client()), id, proof, 8).unwrap();
			assert_eq!(post.pays_fee, Pays::No, "an upheld dispute is free");
			System::assert_last_event(
				Event::JobFailed {
					job: id,
					device: device(1),
					reason: FailureReason::FraudProven { row: 37, col: 21 },
					slashed: COLLATERAL,
					compensation: MAX_COMPENSATION,
				}
				.into(),
			);
			// The cheater: nothing paid, its whole collateral gone. The client: its budget and
			// deposit back, plus compensation.
			assert_eq!(free(&account(PROVIDER)), owner);
			assert_eq!(Devices::bond_of(&device(1)), Some(bond - COLLATERAL));
			assert_eq!(free(&client()), ENDOWMENT + MAX_COMPENSATION);
			assert_eq!(Balances::total_issuance(), issuance - (COLLATERAL - MAX_COMPENSATION));
			assert!(JobsMap::<Test>::get(id).is_none());
			assert!(Verified::get().is_empty(), "no reward for refuted work");
			// Nothing happens at the end of the window; a second proof finds no job.
			run_to_block(System::block_number() + DISPUTE_BLOCKS + 3);
			assert_eq!(free(&account(PROVIDER)), owner);
			assert_noop!(
				Jobs::dispute(RuntimeOrigin::signed(client()), id, cheat.fraud_proof((37, 21)), 8),
				Error::<Test>::UnknownJob
			);
		});
	}

	#[test]
	fn a_fraud_proof_of_a_right_element_costs_the_accuser_its_deposit_and_the_provider_nothing() {
		build_and_execute(|| {
			let job = SuppliedJob::new(64, 64, 8, 42);
			let (id, dispute_until) = verified(&job);
			let stranger = account(STRANGER);
			let before = free(&stranger);
			let issuance = Balances::total_issuance();
			let owner = free(&account(PROVIDER));

			let post = Jobs::dispute(
				RuntimeOrigin::signed(stranger.clone()),
				id,
				job.fraud_proof((5, 9)),
				8,
			)
			.unwrap();
			assert_eq!(post.pays_fee, Pays::Yes);
			System::assert_last_event(
				Event::DisputeRejected {
					job: id,
					accuser: stranger.clone(),
					reason: pallet_compute_proof::Error::<Test>::ElementCorrect.into(),
					deposit_burned: DISPUTE_DEPOSIT,
				}
				.into(),
			);
			// A forged proof (a row of A that is not the client's) proves nothing either.
			let mut forged = job.fraud_proof((5, 9));
			forged.sample.row[0] = forged.sample.row[0].wrapping_add(1);
			assert_ok!(Jobs::dispute(RuntimeOrigin::signed(stranger.clone()), id, forged, 8));
			System::assert_last_event(
				Event::DisputeRejected {
					job: id,
					accuser: stranger.clone(),
					reason: pallet_compute_proof::Error::<Test>::InputLaneMismatch.into(),
					deposit_burned: DISPUTE_DEPOSIT,
				}
				.into(),
			);
			assert_eq!(free(&stranger), before - 2 * DISPUTE_DEPOSIT);
			assert_eq!(Balances::total_issuance(), issuance - 2 * DISPUTE_DEPOSIT);
			assert_eq!(crate::SlashesBurned::<Test>::get(), 2 * DISPUTE_DEPOSIT);
			// The provider is paid in full, on time.
			run_to_block(dispute_until + 1);
			assert_eq!(free(&account(PROVIDER)), owner + 540);
		});
	}

	#[test]
	fn only_a_verified_job_in_its_window_can_be_disputed() {
		build_and_execute(|| {
			let job = SuppliedJob::new(64, 64, 8, 42);
			let dispute = |id: u64, k: u32| {
				Jobs::dispute(RuntimeOrigin::signed(client()), id, job.fraud_proof((0, 0)), k)
			};
			// A seeded job: committed, then settled at its reveal — never disputable.
			register_device(2, PRICE);
			let seeded = submit(50);
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(2)), seeded, None));
			assert_ok!(Jobs::commit(RuntimeOrigin::signed(device(2)), seeded, H256::zero()));
			assert_noop!(dispute(seeded, 8), Error::<Test>::NotDisputable);
			assert_noop!(dispute(99, 8), Error::<Test>::UnknownJob);

			let (id, dispute_until) = verified(&job);
			assert_noop!(dispute(id, 9), Error::<Test>::WrongWitness);
			// An accuser who could not pay for a refused proof is turned away before the check.
			let broke = account(77);
			assert_noop!(
				Jobs::dispute(RuntimeOrigin::signed(broke), id, job.fraud_proof((0, 0)), 8),
				Error::<Test>::CannotPayDisputeDeposit
			);
			// Past the window (its deadline not yet enforced): closed; `expire` settles it.
			System::set_block_number(dispute_until + 1);
			assert_noop!(dispute(id, 8), Error::<Test>::DisputeWindowClosed);
			assert_ok!(Jobs::expire(RuntimeOrigin::signed(account(STRANGER)), id));
			assert!(JobsMap::<Test>::get(id).is_none());
			assert_noop!(dispute(id, 8), Error::<Test>::UnknownJob);
		});
	}

	/// The leaf of element (37, 21) of `job`'s output, as its device publishes it.
	fn published(job: &SuppliedJob) -> proofgrid_primitives::job::DataAnswer {
		let sample = job.sample(9 * 16 + 5, (37, 21));
		vec![proofgrid_primitives::job::PublishedLeaf::Tile {
			values: sample.leaf,
			path: sample.leaf_path,
		}]
		.try_into()
		.unwrap()
	}

	fn demand(id: u64, elements: Vec<(u32, u32)>) -> sp_runtime::DispatchResult {
		Jobs::demand_data(RuntimeOrigin::signed(client()), id, elements.try_into().unwrap(), 8)
	}

	/// Attack 8 of issue 31: a device that never serves its output and does not publish the
	/// leaves its client demands is slashed as for a wrong result, and paid nothing; the client
	/// gets everything back.
	#[test]
	fn a_device_that_withholds_demanded_leaves_fails_and_is_not_paid() {
		build_and_execute(|| {
			let job = one_wrong_element();
			let client_before = free(&client());
			let (id, _) = verified(&job);
			let owner_before = free(&account(PROVIDER));
			assert_ok!(demand(id, vec![(37, 21)]));
			let answer_by = System::block_number() + REVEAL_WINDOW;
			System::assert_last_event(
				Event::DataDemanded {
					job: id,
					device: device(1),
					elements: vec![(37, 21)].try_into().unwrap(),
					answer_by,
				}
				.into(),
			);
			run_to_block(answer_by + 1);
			assert!(JobsMap::<Test>::get(id).is_none());
			assert!(System::events().iter().any(|e| matches!(
				e.event,
				RuntimeEvent::Jobs(Event::JobFailed {
					reason: FailureReason::DataWithheld,
					slashed: COLLATERAL,
					..
				})
			)));
			assert_eq!(free(&account(PROVIDER)), owner_before, "the provider was paid nothing");
			assert_eq!(free(&client()), client_before, "the client has everything back");
			assert_eq!(Devices::bond_of(&device(1)), Some(BOND - COLLATERAL));
		});
	}

	/// The published leaf is what a fraud proof needs: with it and its own inputs the client
	/// proves the wrong element, however the device served (or did not serve) its output.
	#[test]
	fn published_leaves_let_the_client_prove_a_wrong_element() {
		build_and_execute(|| {
			let job = one_wrong_element();
			let (id, dispute_until) = verified(&job);
			// A demand in the last block of the window: the settlement waits for the answer.
			run_to_block(dispute_until);
			assert_ok!(demand(id, vec![(37, 21)]));
			run_to_block(dispute_until + 2);
			assert!(JobsMap::<Test>::get(id).is_some());
			assert_ok!(Jobs::publish_data(RuntimeOrigin::signed(device(1)), id, published(&job)));
			let extended = System::block_number() + REVEAL_WINDOW;
			System::assert_last_event(
				Event::DataPublished {
					job: id,
					elements: vec![(37, 21)].try_into().unwrap(),
					leaves: published(&job),
					dispute_until: extended,
				}
				.into(),
			);
			// The client builds its fraud proof from the published leaf and its own lanes.
			let proofgrid_primitives::job::PublishedLeaf::Tile { values, path } =
				&published(&job)[0]
			else {
				panic!("a GEMM output's leaf")
			};
			let mut proof = job.fraud_proof((37, 21));
			proof.sample.leaf = *values;
			proof.sample.leaf_path = path.clone();
			assert_ok!(Jobs::dispute(RuntimeOrigin::signed(client()), id, proof, 8));
			assert!(System::events().iter().any(|e| matches!(
				e.event,
				RuntimeEvent::Jobs(Event::JobFailed {
					reason: FailureReason::FraudProven { row: 37, col: 21 },
					..
				})
			)));
		});
	}

	#[test]
	fn demands_and_answers_are_checked() {
		build_and_execute(|| {
			let job = SuppliedJob::new(64, 64, 8, 42);
			let (id, _) = verified(&job);
			let stranger = RuntimeOrigin::signed(account(STRANGER));
			assert_noop!(
				Jobs::demand_data(stranger, id, vec![(0, 0)].try_into().unwrap(), 8),
				Error::<Test>::NotClient
			);
			assert_noop!(demand(id, vec![]), Error::<Test>::BadDemand);
			assert_noop!(demand(id, vec![(64, 0)]), Error::<Test>::BadDemand);
			assert_noop!(
				Jobs::demand_data(
					RuntimeOrigin::signed(client()),
					id,
					vec![(0, 0)].try_into().unwrap(),
					9
				),
				Error::<Test>::WrongWitness
			);
			assert_noop!(
				Jobs::publish_data(RuntimeOrigin::signed(device(1)), id, published(&job)),
				Error::<Test>::NoDemand
			);
			assert_ok!(demand(id, vec![(37, 21)]));
			assert_noop!(demand(id, vec![(1, 1)]), Error::<Test>::DemandPending);
			// The pool admits the answer of the device only.
			let answer =
				RuntimeCall::Jobs(crate::Call::publish_data { job: id, leaves: published(&job) });
			assert!(super::device_calls::validate(device(1), answer.clone()).is_ok());
			assert!(super::device_calls::validate(device(2), answer).is_err());
			// A leaf its root does not prove fails the job.
			let mut forged = published(&job);
			if let proofgrid_primitives::job::PublishedLeaf::Tile { values, .. } = &mut forged[0] {
				values[0] += 1;
			}
			assert_ok!(Jobs::publish_data(RuntimeOrigin::signed(device(1)), id, forged));
			assert!(System::events().iter().any(|e| matches!(
				e.event,
				RuntimeEvent::Jobs(Event::JobFailed { reason: FailureReason::DataWithheld, .. })
			)));
		});
	}

	/// An honest answer keeps the job going: it settles after the (extended) window.
	#[test]
	fn an_answered_demand_settles_and_pays() {
		build_and_execute(|| {
			let job = SuppliedJob::new(64, 64, 8, 42);
			let (id, dispute_until) = verified(&job);
			assert_ok!(demand(id, vec![(37, 21)]));
			assert_ok!(Jobs::publish_data(RuntimeOrigin::signed(device(1)), id, published(&job)));
			// One demand per job: the provider's payment cannot be held back by demand after
			// demand; nor can the answer be sent twice.
			assert_noop!(demand(id, vec![(1, 1)]), Error::<Test>::DemandPending);
			assert_noop!(
				Jobs::publish_data(RuntimeOrigin::signed(device(1)), id, published(&job)),
				Error::<Test>::NoDemand
			);
			let until = (System::block_number() + REVEAL_WINDOW).max(dispute_until);
			run_to_block(until);
			assert!(JobsMap::<Test>::get(id).is_some());
			run_to_block(until + 1);
			assert!(System::events()
				.iter()
				.any(|e| matches!(e.event, RuntimeEvent::Jobs(Event::JobSettled { .. }))));
			assert_eq!(crate::Demands::<Test>::iter().count(), 0, "forgotten with the job");
		});
	}
}

mod layers {
	use super::{
		device_calls::{custom, validate},
		*,
	};
	use frame_support::dispatch::Pays;
	use proofgrid_primitives::{
		challenge::challenge_seed,
		device::Kernel,
		inputs::challenged_elements,
		job::{InputSource, JobInputs, JobSpec},
		linear::{fixture::LayerJob, Requant},
	};

	const SCALE: Requant = Requant { multiplier: 1 << 30, shift: 38, relu: true };

	/// A 64×64×8 layer (one unit) on the client's own matrices and biases.
	fn layer() -> LayerJob {
		LayerJob::new(64, 64, 8, 42, SCALE)
	}

	/// `job`'s spec with 8 samples, its `A` from `a`.
	fn layer_spec(job: &LayerJob, a: InputSource) -> JobSpec {
		let requirements = Requirements { kernel: Kernel::LinearI8, ..job_spec().requirements };
		JobSpec { requirements, ..job.spec(a, 8) }
	}

	fn submit(spec: JobSpec) -> Result<u64, sp_runtime::DispatchError> {
		let id = crate::NextJobId::<Test>::get();
		Jobs::submit_job(RuntimeOrigin::signed(client()), spec, CAP, 50).map(|_| id)
	}

	/// Device `device` claims job `id` and commits `job`'s output; the challenge block.
	fn committed(device_n: u8, id: u64, job: &LayerJob) -> u64 {
		assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(device_n)), id, None));
		assert_ok!(Jobs::commit(RuntimeOrigin::signed(device(device_n)), id, job.root()));
		System::block_number() + 1
	}

	/// Device `device_n`'s reveal of `job` (id `id`) once its challenge block exists.
	fn reveal_layer(
		device_n: u8,
		id: u64,
		challenge_block: u64,
		job: &LayerJob,
	) -> sp_runtime::DispatchResult {
		run_to_block(challenge_block + 1);
		let randomness =
			crate::ChallengeRandomness::<Test>::get(challenge_block).unwrap().randomness;
		let seed = challenge_seed(id, &job.root().0, &randomness.0);
		let samples = job.reveal(&challenged_elements(&job.shape, &seed, 8));
		let hash = System::block_hash(challenge_block);
		Jobs::reveal_layer(RuntimeOrigin::signed(device(device_n)), id, hash, samples, job.shape.k)
	}

	#[test]
	fn a_layer_is_verified_settles_and_its_output_feeds_the_next_layer_until_it_expires() {
		build_and_execute(|| {
			register_device(1, PRICE);
			let first = layer();
			let id = submit(layer_spec(&first, InputSource::Upload)).unwrap();
			let challenge_block = committed(1, id, &first);
			assert_ok!(reveal_layer(1, id, challenge_block, &first));
			let dispute_until = System::block_number() + DISPUTE_BLOCKS + 1; // + the download
			System::assert_last_event(
				Event::JobVerified { job: id, device: device(1), dispute_until }.into(),
			);
			// Not yet settled: its output cannot be chained from.
			let next = LayerJob::with(
				first.output.clone(),
				LayerJob::new(64, 8, 64, 7, SCALE).cols,
				vec![100; 8],
				SCALE,
			);
			assert_eq!(next.inputs.a, first.output_commitment());
			assert_noop!(
				submit(layer_spec(&next, InputSource::Job(id))),
				Error::<Test>::UnknownChainedOutput
			);
			run_to_block(dispute_until + 1);
			assert!(JobsMap::<Test>::get(id).is_none(), "settled");
			let kept = crate::LayerOutputs::<Test>::get(id).unwrap();
			assert_eq!(kept.commitment, first.output_commitment());
			assert_eq!((kept.device, kept.kept_until), (device(1), dispute_until + 1 + 20));

			// The next layer takes it as its `A`: the chain checks the commitment is the output.
			let mut forged = next.inputs;
			forged.a.root = H256::repeat_byte(9);
			let mut wrong = layer_spec(&next, InputSource::Job(id));
			if let JobInputs::Layer { matrices, .. } = &mut wrong.inputs {
				*matrices = forged;
			}
			assert_noop!(submit(wrong), Error::<Test>::ChainedInputMismatch);
			let second = submit(layer_spec(&next, InputSource::Job(id))).unwrap();
			register_device(2, PRICE);
			let challenge_block = committed(2, second, &next);
			assert_ok!(reveal_layer(2, second, challenge_block, &next));
			assert!(matches!(
				JobsMap::<Test>::get(second).map(|j| j.status),
				Some(JobStatus::Verified { .. })
			));

			// After the retention the output is gone, and nothing can chain from it.
			run_to_block(kept.kept_until);
			assert!(crate::LayerOutputs::<Test>::get(id).is_some());
			run_to_block(kept.kept_until + 1);
			assert!(crate::LayerOutputs::<Test>::get(id).is_none());
			assert_noop!(
				submit(layer_spec(&next, InputSource::Job(id))),
				Error::<Test>::UnknownChainedOutput
			);
		});
	}

	#[test]
	fn submit_refuses_a_layer_the_chain_cannot_check() {
		build_and_execute(|| {
			let job = layer();
			// A kernel that does not take the inputs, either way round.
			let mut gemm_kernel = layer_spec(&job, InputSource::Upload);
			gemm_kernel.requirements.kernel = Kernel::GemmI8;
			assert_noop!(submit(gemm_kernel), Error::<Test>::KernelMismatch);
			let mut seeded_layer = job_spec();
			seeded_layer.requirements.kernel = Kernel::LinearI8;
			assert_noop!(submit(seeded_layer), Error::<Test>::KernelMismatch);
			// A requantization that is not one.
			for requant in [
				Requant { multiplier: 0, ..SCALE },
				Requant { shift: proofgrid_primitives::linear::MAX_SHIFT + 1, ..SCALE },
			] {
				let mut spec = layer_spec(&job, InputSource::Upload);
				if let JobInputs::Layer { layer, .. } = &mut spec.inputs {
					layer.requant = requant;
				}
				assert_noop!(submit(spec), Error::<Test>::BadRequant);
			}
			// Only `A` may come from an earlier job; biases and `W` may not.
			let mut spec = layer_spec(&job, InputSource::Upload);
			if let JobInputs::Layer { b, .. } = &mut spec.inputs {
				*b = InputSource::Job(0);
			}
			assert_noop!(submit(spec), Error::<Test>::BadInputSource);
			let mut spec = layer_spec(&job, InputSource::Upload);
			if let JobInputs::Layer { bias, .. } = &mut spec.inputs {
				*bias = InputSource::Job(0);
			}
			assert_noop!(submit(spec), Error::<Test>::BadInputSource);
			// Output rows longer than a lane.
			let wide = proofgrid_primitives::gemm::MAX_K + 1;
			let mut spec = layer_spec(&job, InputSource::Upload);
			spec.shape = GemmShape { m: 1, n: wide, k: 8 };
			if let JobInputs::Layer { matrices, .. } = &mut spec.inputs {
				matrices.a.lanes = 1;
				matrices.b.lanes = wide;
			}
			assert_noop!(submit(spec), Error::<Test>::LayerTooWide);
			assert_ok!(submit(layer_spec(&job, InputSource::Upload)));
		});
	}

	#[test]
	fn a_wrong_layer_is_slashed_and_reveals_of_the_wrong_kind_change_nothing() {
		build_and_execute(|| {
			register_device(1, PRICE);
			let cheat = layer().doctored(|_, _, v| *v = v.wrapping_add(1));
			let id = submit(layer_spec(&cheat, InputSource::Upload)).unwrap();
			let challenge_block = committed(1, id, &cheat);
			run_to_block(challenge_block + 1);
			let hash = System::block_hash(challenge_block);
			// A GEMM reveal for a layer job: refused, by the call and by the pool.
			assert_noop!(
				Jobs::reveal_supplied(
					RuntimeOrigin::signed(device(1)),
					id,
					hash,
					Default::default(),
					8
				),
				Error::<Test>::WrongRevealKind
			);
			let call = RuntimeCall::Jobs(crate::Call::reveal_supplied {
				job: id,
				challenge_hash: hash,
				samples: Default::default(),
				k_dim_witness: 8,
			});
			assert_eq!(validate(device(1), call), Err(custom(Error::WrongRevealKind)));
			let layer_call = RuntimeCall::Jobs(crate::Call::reveal_layer {
				job: id,
				challenge_hash: hash,
				samples: Default::default(),
				k_dim_witness: 8,
			});
			assert!(validate(device(1), layer_call).is_ok());
			assert_ok!(reveal_layer(1, id, challenge_block, &cheat));
			System::assert_last_event(
				Event::JobFailed {
					job: id,
					device: device(1),
					reason: FailureReason::BadProof(
						pallet_compute_proof::Error::<Test>::ElementMismatch.into(),
					),
					slashed: COLLATERAL,
					compensation: MAX_COMPENSATION,
				}
				.into(),
			);
			assert_eq!(free(&client()), ENDOWMENT + MAX_COMPENSATION);
			assert!(crate::LayerOutputs::<Test>::get(id).is_none(), "a failed layer feeds nothing");
		});
	}

	/// Row `i` of `job`'s output with its path, as its device publishes it for a demand.
	fn published_row(job: &LayerJob, i: u32) -> proofgrid_primitives::job::DataAnswer {
		let sample = job.sample((i, 0));
		vec![proofgrid_primitives::job::PublishedLeaf::Row {
			values: sample.output_row,
			path: sample.output_path,
		}]
		.try_into()
		.unwrap()
	}

	/// Attack 8 for layers: a device that does not serve a layer's output publishes the rows
	/// its client demands, and the client proves a wrong element from a published row. The
	/// witness is the longer of `k` and `n` (it prices hashing the rows).
	#[test]
	fn a_layers_device_publishes_demanded_rows_and_a_wrong_element_is_proven_from_them() {
		build_and_execute(|| {
			register_device(1, PRICE);
			let cheat = layer().doctored(|i, j, v| {
				if (i, j) == (37, 21) {
					*v = v.wrapping_add(1)
				}
			});
			let id = submit(layer_spec(&cheat, InputSource::Upload)).unwrap();
			let challenge_block = committed(1, id, &cheat);
			assert_ok!(reveal_layer(1, id, challenge_block, &cheat));
			let demand = |witness| {
				Jobs::demand_data(
					RuntimeOrigin::signed(client()),
					id,
					vec![(37, 21)].try_into().unwrap(),
					witness,
				)
			};
			assert_noop!(demand(8), Error::<Test>::WrongWitness);
			assert_ok!(demand(64));
			// A GEMM leaf does not answer a layer's demand, nor does another row.
			let tile = proofgrid_primitives::job::PublishedLeaf::Tile {
				values: [0; 16],
				path: Default::default(),
			};
			let wrong_kind: proofgrid_primitives::job::DataAnswer = vec![tile].try_into().unwrap();
			assert_eq!(
				proofgrid_primitives::job::check_data_answer(
					proofgrid_primitives::job::OutputKind::Layer,
					&cheat.shape,
					&cheat.root().0,
					&[(37, 21)],
					&wrong_kind,
				),
				Err(0)
			);
			assert_eq!(
				proofgrid_primitives::job::check_data_answer(
					proofgrid_primitives::job::OutputKind::Layer,
					&cheat.shape,
					&cheat.root().0,
					&[(37, 21)],
					&published_row(&cheat, 36),
				),
				Err(0)
			);
			assert_ok!(Jobs::publish_data(
				RuntimeOrigin::signed(device(1)),
				id,
				published_row(&cheat, 37)
			));
			assert!(System::events()
				.iter()
				.any(|e| matches!(e.event, RuntimeEvent::Jobs(Event::DataPublished { .. }))));
			// The client's fraud proof takes the published row and its own inputs.
			let proofgrid_primitives::job::PublishedLeaf::Row { values, path } =
				&published_row(&cheat, 37)[0]
			else {
				panic!("a layer's row")
			};
			let mut proof = layer().fraud_proof((37, 21));
			proof.sample.output_row = values.clone();
			proof.sample.output_path = path.clone();
			assert_ok!(Jobs::dispute_layer(RuntimeOrigin::signed(client()), id, proof, 8));
			assert!(System::events().iter().any(|e| matches!(
				e.event,
				RuntimeEvent::Jobs(Event::JobFailed {
					reason: FailureReason::FraudProven { row: 37, col: 21 },
					..
				})
			)));
		});
	}

	/// A forged row fails the job as withheld data would, and slashes the device.
	#[test]
	fn a_forged_row_fails_a_layer_job() {
		build_and_execute(|| {
			register_device(1, PRICE);
			let job = layer();
			let id = submit(layer_spec(&job, InputSource::Upload)).unwrap();
			let challenge_block = committed(1, id, &job);
			assert_ok!(reveal_layer(1, id, challenge_block, &job));
			assert_ok!(Jobs::demand_data(
				RuntimeOrigin::signed(client()),
				id,
				vec![(5, 7)].try_into().unwrap(),
				64
			));
			let mut forged = published_row(&job, 5);
			if let proofgrid_primitives::job::PublishedLeaf::Row { values, .. } = &mut forged[0] {
				values[7] = values[7].wrapping_add(1);
			}
			assert_ok!(Jobs::publish_data(RuntimeOrigin::signed(device(1)), id, forged));
			assert!(System::events().iter().any(|e| matches!(
				e.event,
				RuntimeEvent::Jobs(Event::JobFailed {
					reason: FailureReason::DataWithheld,
					slashed: COLLATERAL,
					..
				})
			)));
		});
	}

	#[test]
	fn a_layer_fraud_proof_slashes_and_a_refused_one_costs_the_accuser_its_deposit() {
		build_and_execute(|| {
			register_device(1, PRICE);
			// One wrong element of 4 096, which 8 samples miss (this challenge does).
			let cheat = layer().doctored(|i, j, v| {
				if (i, j) == (37, 21) {
					*v = v.wrapping_add(1)
				}
			});
			let id = submit(layer_spec(&cheat, InputSource::Upload)).unwrap();
			let challenge_block = committed(1, id, &cheat);
			assert_ok!(reveal_layer(1, id, challenge_block, &cheat));
			assert!(matches!(
				JobsMap::<Test>::get(id).map(|j| j.status),
				Some(JobStatus::Verified { .. })
			));
			// A proof of a right element: refused, the accuser's deposit burned.
			let accuser = free(&client());
			let post = Jobs::dispute_layer(
				RuntimeOrigin::signed(client()),
				id,
				cheat.fraud_proof((37, 20)),
				8,
			)
			.unwrap();
			assert_eq!(post.pays_fee, Pays::Yes);
			assert_eq!(free(&client()), accuser - DISPUTE_DEPOSIT);
			// The witness must be the job's inner dimension.
			assert_noop!(
				Jobs::dispute_layer(
					RuntimeOrigin::signed(client()),
					id,
					cheat.fraud_proof((37, 21)),
					9
				),
				Error::<Test>::WrongWitness
			);
			// The wrong element: the job fails, the collateral is slashed, the call is free.
			let bond = Devices::bond_of(&device(1)).unwrap();
			let post = Jobs::dispute_layer(
				RuntimeOrigin::signed(client()),
				id,
				cheat.fraud_proof((37, 21)),
				8,
			)
			.unwrap();
			assert_eq!(post.pays_fee, Pays::No);
			System::assert_last_event(
				Event::JobFailed {
					job: id,
					device: device(1),
					reason: FailureReason::FraudProven { row: 37, col: 21 },
					slashed: COLLATERAL,
					compensation: MAX_COMPENSATION,
				}
				.into(),
			);
			assert_eq!(Devices::bond_of(&device(1)), Some(bond - COLLATERAL));
			run_to_block(System::block_number() + DISPUTE_BLOCKS + 3);
			assert!(
				crate::LayerOutputs::<Test>::get(id).is_none(),
				"a refuted layer feeds nothing"
			);
		});
	}

	#[test]
	fn a_layer_smaller_than_a_unit_is_billed_as_one() {
		build_and_execute(|| {
			// 2·8·8·8 = 1 024 operations: a sixty-fourth of a unit.
			let small = LayerJob::new(8, 8, 8, 3, SCALE);
			let id = submit(layer_spec(&small, InputSource::Upload)).unwrap();
			let job = JobsMap::<Test>::get(id).unwrap();
			assert_eq!((job.units, job.budget), (1, CAP));
		});
	}
}

/// Issue 31: no honest device loses its collateral to a reorg or to full blocks, and no device
/// corners the pool.
mod honest_provider {
	use super::device_calls::validate;
	use super::*;
	use crate::{mock::BlockHadRoom, CongestedBlocks};
	use codec::Encode;
	use frame_support::storage::{with_transaction, TransactionOutcome};
	use proofgrid_primitives::job::{InputSource, JobInputs, JobSpec};

	/// The seed the claim of `job` by device 1 with `basis` stores, if the claim's parent
	/// were `parent` (the claim is rolled back).
	fn seed_claimed_under(job: u64, parent: H256, basis: Option<(u64, H256)>) -> JobSpec {
		with_transaction(|| {
			System::set_parent_hash(parent);
			let claimed = Jobs::claim(RuntimeOrigin::signed(device(1)), job, basis);
			TransactionOutcome::Rollback(claimed.map(|()| stored_spec(job)))
		})
		.expect("claimed")
	}

	/// Attack 3: a reorg re-includes a claim under another parent. With a named basis the
	/// device computes the same inputs on either fork; with none (the old rule) they change
	/// under it, and its honest reveal would fail with `LeafMismatch`.
	#[test]
	fn a_claim_that_names_its_basis_keeps_its_inputs_under_any_parent() {
		build_and_execute(|| {
			register_device(1, PRICE);
			let job = submit(50);
			run_to_block(4);
			let basis = Some((3, System::block_hash(3)));
			let one_fork = seed_claimed_under(job, H256::repeat_byte(0xa1), basis);
			let other_fork = seed_claimed_under(job, H256::repeat_byte(0xb2), basis);
			assert_eq!(one_fork, other_fork);
			assert_ne!(
				seed_claimed_under(job, H256::repeat_byte(0xa1), None),
				seed_claimed_under(job, H256::repeat_byte(0xb2), None),
				"without a basis the parent decides the inputs"
			);
		});
	}

	#[test]
	fn a_claim_basis_must_be_a_recent_block_of_this_chain() {
		build_and_execute(|| {
			register_device(1, PRICE);
			let job = submit(50);
			run_to_block(10);
			let claim = |basis| Jobs::claim(RuntimeOrigin::signed(device(1)), job, Some(basis));
			// Another fork's block, the current block, a block older than MaxClaimBasisAge (4).
			assert_noop!(claim((8, H256::repeat_byte(0xee))), Error::<Test>::BadClaimBasis);
			assert_noop!(claim((10, System::block_hash(10))), Error::<Test>::BadClaimBasis);
			assert_noop!(claim((5, System::block_hash(5))), Error::<Test>::BadClaimBasis);
			// The pool refuses it too, with the same error.
			let call = RuntimeCall::Jobs(crate::Call::claim {
				job,
				basis: Some((8, H256::repeat_byte(0xee))),
			});
			assert_eq!(
				validate(device(1), call),
				Err(super::device_calls::custom(Error::BadClaimBasis))
			);
			assert_ok!(claim((6, System::block_hash(6))));
			let JobInputs::Seeded { seed } = stored_spec(job).inputs else { unreachable!() };
			let JobInputs::Seeded { seed: listed } = job_spec().inputs else { unreachable!() };
			let effective = effective_seed(&listed, job, &client().encode());
			assert_eq!(seed, claim_seed(&effective, &System::block_hash(6).0));
		});
	}

	/// Attack 6: one device's claims for every open job share one pool tag, so it has one
	/// claim in the pool at a time; another device's claim for the same job has a tag of its
	/// own, so it is not shut out.
	#[test]
	fn a_device_holds_one_claim_in_the_pool_and_shuts_nobody_out() {
		build_and_execute(|| {
			register_device(1, PRICE);
			register_device(2, PRICE);
			let (first, second) = (submit(50), submit(50));
			let claim = |job| RuntimeCall::Jobs(crate::Call::claim { job, basis: None });
			let attacker_first = validate(device(1), claim(first)).expect("valid");
			let attacker_second = validate(device(1), claim(second)).expect("valid");
			let honest_first = validate(device(2), claim(first)).expect("valid");
			assert_eq!(attacker_first.provides, attacker_second.provides);
			assert_ne!(attacker_first.provides, honest_first.provides);
			// The other device calls keep one tag per job and step.
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), first, None));
			let commit = RuntimeCall::Jobs(crate::Call::commit { job: first, root: H256::zero() });
			assert_ne!(
				validate(device(1), commit).expect("valid").provides,
				attacker_first.provides
			);
		});
	}

	/// Attack 2: blocks with no room for the largest reveal do not count towards a reveal
	/// window. However long the stuffing lasts, the honest device reveals after it, and is
	/// paid; its collateral is untouched.
	#[test]
	fn congested_blocks_do_not_count_towards_a_reveal_window() {
		build_and_execute(|| {
			let (job, challenge_block, tree) = committed(|_| false);
			let bond = Devices::bond_of(&device(1));
			// Every block from the challenge block on is full, for three windows.
			run_to_block(challenge_block);
			BlockHadRoom::set(false);
			run_to_block(challenge_block + 3 * REVEAL_WINDOW);
			BlockHadRoom::set(true);
			assert!(matches!(
				JobsMap::<Test>::get(job).unwrap().status,
				JobStatus::Committed { .. }
			));
			assert_eq!(CongestedBlocks::<Test>::get() as u64, 3 * REVEAL_WINDOW);
			run_to_block(challenge_block + 3 * REVEAL_WINDOW + REVEAL_WINDOW - 1);
			let paths = reveal_paths(job, &stored_spec(job), &tree, challenge_block);
			assert_ok!(Jobs::reveal(
				RuntimeOrigin::signed(device(1)),
				job,
				System::block_hash(challenge_block),
				paths,
				8
			));
			assert!(JobsMap::<Test>::get(job).is_none(), "settled");
			assert_eq!(Devices::bond_of(&device(1)), bond);
			assert!(matches!(
				System::events().last().map(|e| &e.event),
				Some(RuntimeEvent::Jobs(Event::JobSettled { .. }))
			));
		});
	}

	/// The extension is exactly the congested blocks: a device that never reveals still fails,
	/// one block after its window plus them.
	#[test]
	fn a_missing_reveal_still_fails_after_the_window_and_the_congested_blocks() {
		build_and_execute(|| {
			let (job, challenge_block, _) = committed(|_| false);
			run_to_block(challenge_block + 1);
			BlockHadRoom::set(false);
			run_to_block(challenge_block + 4);
			BlockHadRoom::set(true);
			// Blocks challenge_block + 1 ..= + 3 were congested.
			let deadline = challenge_block + REVEAL_WINDOW + 3;
			run_to_block(deadline);
			assert!(JobsMap::<Test>::get(job).is_some());
			run_to_block(deadline + 1);
			assert!(JobsMap::<Test>::get(job).is_none());
			assert!(System::events().iter().any(|e| matches!(
				e.event,
				RuntimeEvent::Jobs(Event::JobFailed { reason: FailureReason::LateReveal, .. })
			)));
			// The seeds of the window are forgotten once no reveal can use them (a commitment
			// may be challenged up to MAX_CHALLENGE_EXTENSION blocks after its earliest block).
			run_to_block(deadline + crate::MAX_CHALLENGE_EXTENSION as u64 + 3);
			assert!(crate::ChallengeRandomness::<Test>::get(challenge_block).is_none());
		});
	}

	/// Attack 9: a job's input and commit windows grow with its inputs' size.
	#[test]
	fn input_windows_grow_with_the_inputs() {
		use proofgrid_primitives::inputs::{MatrixCommitment, SuppliedInputs};
		let supplied = |shape: GemmShape| {
			let lanes = |lanes| MatrixCommitment { lanes, lane_len: shape.k, root: H256::zero() };
			JobSpec {
				shape,
				inputs: JobInputs::Supplied {
					matrices: SuppliedInputs { a: lanes(shape.m), b: lanes(shape.n) },
					a: InputSource::Upload,
					b: InputSource::Upload,
					samples: 8,
					public_output: false,
				},
				requirements: job_spec().requirements,
			}
		};
		build_and_execute(|| {
			let small = supplied(GemmShape { m: 64, n: 64, k: 8 });
			let large = supplied(GemmShape { m: 4096, n: 4096, k: 1024 });
			assert_eq!(small.input_bytes(), (64 + 64) * 8);
			assert_eq!(large.input_bytes(), 8192 * 1024);
			// InputWindow (3) plus a block per MiB, rounded up.
			assert_eq!(Jobs::input_window(&small), 3 + 1);
			assert_eq!(Jobs::input_window(&large), 3 + 8);
			assert_eq!(job_spec().input_bytes(), 0, "seeded jobs upload nothing");
			// The commit window of a supplied job includes the upload.
			let mut seeded = job_spec();
			seeded.shape = large.shape;
			let gops = 1_000_000;
			assert_eq!(
				Jobs::commit_window(&large, gops).unwrap(),
				Jobs::commit_window(&seeded, gops).unwrap() + Jobs::input_window(&large)
			);
		});
	}

	/// Attack 5: giving a job back pauses the device's claims for `ReleaseCooldown` blocks, so
	/// claim-and-release cannot be repeated fast.
	#[test]
	fn a_device_that_gives_a_job_back_may_not_claim_for_a_while() {
		build_and_execute(|| {
			register_device(1, PRICE);
			let (first, second) = (submit(50), submit(50));
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), first, None));
			run_to_block(1 + COMMIT_WINDOW + 1);
			assert!(matches!(JobsMap::<Test>::get(first).unwrap().status, JobStatus::Submitted));
			let paused_until = System::block_number() + 10;
			assert_eq!(crate::ClaimsPausedUntil::<Test>::get(device(1)), Some(paused_until));
			assert_noop!(
				Jobs::claim(RuntimeOrigin::signed(device(1)), second, None),
				Error::<Test>::ClaimsPaused
			);
			let call = RuntimeCall::Jobs(crate::Call::claim { job: second, basis: None });
			assert_eq!(
				validate(device(1), call),
				Err(super::device_calls::custom(Error::ClaimsPaused))
			);
			// The forfeited claim deposit took the bond below the minimum: top it up.
			assert_ok!(Devices::top_up_bond(
				RuntimeOrigin::signed(account(PROVIDER)),
				device(1),
				CLAIM_DEPOSIT
			));
			run_to_block(paused_until);
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), second, None));
		});
	}

	/// Attack 5: a missed commit window repays the client's call fee out of the forfeited
	/// claim deposit; the rest is burned. The client ends where it started; a device that
	/// abandons its own client's job loses the deposit less the fee.
	#[test]
	fn a_missed_commit_window_repays_the_client_its_call_fee() {
		build_and_execute(|| {
			CallFeePerMs::set(10);
			let fee = Jobs::device_calls_weight(&job_spec()).ref_time() / 1_000_000_000 * 10;
			assert!(fee > 0 && fee < CLAIM_DEPOSIT);
			let before = free(&client());
			register_device(1, PRICE);
			let job = submit(1 + COMMIT_WINDOW + 2);
			assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job, None));
			run_to_block(1 + COMMIT_WINDOW + 1);
			System::assert_has_event(
				Event::JobUnassigned { job, device: device(1), forfeited: CLAIM_DEPOSIT }.into(),
			);
			assert_eq!(JobsMap::<Test>::get(job).unwrap().fee_paid, 0, "repaid");
			assert_eq!(SlashesBurned::<Test>::get(), CLAIM_DEPOSIT - fee);
			// The job expires: the client has everything back.
			run_to_block(1 + COMMIT_WINDOW + 3);
			assert!(JobsMap::<Test>::get(job).is_none());
			assert_eq!(free(&client()), before);
		});
	}

	/// Attack 7: with several authors, a commitment's challenge comes from a block after at
	/// least two authors' blocks, its seed chained through every VRF output since the commit.
	/// An author that makes the blocks after a commitment does not make its challenge alone.
	#[test]
	fn a_challenge_waits_for_a_second_author() {
		build_and_execute(|| {
			AuthorityCount::set(4);
			crate::mock::Author::set(Some(0));
			let (job, earliest, tree) = committed(|_| false);
			let committed_at = earliest - 1;
			// Author 0 makes the next five blocks: no challenge yet.
			run_to_block(committed_at + 6);
			assert_eq!(Jobs::challenge_block_of(committed_at, earliest), None);
			assert!(Jobs::challenge_of(job).is_none());
			// Author 1 makes the next (committed_at + 7): the challenge block; its seed is
			// recorded when the block after it starts.
			crate::mock::Author::set(Some(1));
			run_to_block(committed_at + 7);
			assert_eq!(Jobs::challenge_block_of(committed_at, earliest), None);
			run_to_block(committed_at + 8);
			let block = committed_at + 7;
			assert_eq!(Jobs::challenge_block_of(committed_at, earliest), Some(block));
			assert_eq!(Jobs::challenge_of(job).map(|(b, _)| b), Some(block));
			// The window counts from it.
			assert_eq!(
				Jobs::reveal_deadline(committed_at, earliest, earliest + REVEAL_WINDOW),
				block + REVEAL_WINDOW
			);
			// A reveal for the earliest block is refused without penalty; for the challenge
			// block it settles.
			let indices = Jobs::challenge_of(job).unwrap().1;
			let paths = proofgrid_primitives::testing::reveal_paths(&tree, &indices);
			assert_noop!(
				Jobs::reveal(
					RuntimeOrigin::signed(device(1)),
					job,
					System::block_hash(earliest),
					paths.clone(),
					8
				),
				Error::<Test>::WrongChallengeBlock
			);
			run_to_block(block + REVEAL_WINDOW);
			assert_ok!(Jobs::reveal(
				RuntimeOrigin::signed(device(1)),
				job,
				System::block_hash(block),
				paths,
				8
			));
			assert!(JobsMap::<Test>::get(job).is_none(), "settled");
		});
	}

	/// Seeds are chained: each depends on the one before, so a challenge depends on every VRF
	/// output since the commitment, not only on its own block's.
	#[test]
	fn challenge_seeds_are_chained() {
		build_and_execute(|| {
			run_to_block(4);
			let seed = |b| crate::ChallengeRandomness::<Test>::get(b).unwrap().randomness;
			let before = seed(2);
			// Block 3's seed again, as if block 2's VRF output had been another.
			crate::ChallengeRandomness::<Test>::mutate(2, |s| {
				s.as_mut().unwrap().randomness = H256::repeat_byte(0x42)
			});
			let chained_on_other = with_transaction(|| {
				crate::ChallengeRandomness::<Test>::remove(3);
				Jobs::record_challenge_randomness(4);
				TransactionOutcome::Rollback(Ok::<_, sp_runtime::DispatchError>(seed(3)))
			})
			.unwrap();
			assert_ne!(chained_on_other, seed(3));
			assert_ne!(before, H256::repeat_byte(0x42));
		});
	}
}
