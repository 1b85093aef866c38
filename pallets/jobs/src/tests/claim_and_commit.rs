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
			Event::JobCommitted { job, root: H256(tree.root()), challenge_block, reveal_by }.into(),
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
