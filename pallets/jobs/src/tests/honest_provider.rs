//! Issue 31: no honest device loses its collateral to a reorg or to full blocks, and no device
//! corners the pool.

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
		assert_ne!(validate(device(1), commit).expect("valid").provides, attacker_first.provides);
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
		assert!(matches!(JobsMap::<Test>::get(job).unwrap().status, JobStatus::Committed { .. }));
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
		let paths = Reveal::Seeded(proofgrid_primitives::testing::reveal_paths(&tree, &indices));
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
