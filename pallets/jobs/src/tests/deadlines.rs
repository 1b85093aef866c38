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
		assert_eq!((free(&client()), held(&client()), deposit_held(&client())), (ENDOWMENT, 0, 0));
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
		assert!(matches!(JobsMap::<Test>::get(job).unwrap().status, JobStatus::Assigned { .. }));
		let post = Jobs::expire(stranger.clone(), job).expect("due");
		assert_eq!(post.pays_fee, Pays::No);
		// Past its deadline too: the job expires with a refund after the forfeit.
		System::assert_last_event(Event::JobExpired { job }.into());
		assert_eq!(Devices::bond_of(&device(1)), Some(BOND - CLAIM_DEPOSIT));
		assert_eq!((held(&client()), deposit_held(&client())), (0, 0));
	});
}
