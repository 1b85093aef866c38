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
		assert_ok!(Jobs::reveal(RuntimeOrigin::signed(device(1)), job, challenge_hash, paths, 256));
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
				Jobs::reveal(RuntimeOrigin::signed(device(1)), job, hash(), paths.clone(), witness),
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
		assert_ok!(Devices::top_up_bond(RuntimeOrigin::signed(account(PROVIDER)), device(1), BOND));
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
