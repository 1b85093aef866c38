use super::*;
use frame_support::dispatch::Pays;
use proofgrid_primitives::{
	challenge::challenge_seed,
	inputs::challenged_elements,
	job::{InputSource, JobInputs, JobSpec},
	testing::supplied::SuppliedJob,
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
	let randomness = crate::ChallengeRandomness::<Test>::get(challenge_block).unwrap().randomness;
	let seed = challenge_seed(id, &job.root(), &randomness.0);
	let challenged = challenged_elements(&job.shape, &seed, 8);
	let hash = System::block_hash(challenge_block);
	assert_ok!(Jobs::reveal(
		RuntimeOrigin::signed(device(1)),
		id,
		hash,
		Reveal::Supplied(job.reveal(&challenged)),
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
		let post = Jobs::dispute(RuntimeOrigin::signed(client()), id, proof.into(), 8).unwrap();
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
			Jobs::dispute(
				RuntimeOrigin::signed(client()),
				id,
				cheat.fraud_proof((37, 21)).into(),
				8
			),
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
			job.fraud_proof((5, 9)).into(),
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
		assert_ok!(Jobs::dispute(RuntimeOrigin::signed(stranger.clone()), id, forged.into(), 8));
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
			Jobs::dispute(RuntimeOrigin::signed(client()), id, job.fraud_proof((0, 0)).into(), k)
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
			Jobs::dispute(RuntimeOrigin::signed(broke), id, job.fraud_proof((0, 0)).into(), 8),
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
		let proofgrid_primitives::job::PublishedLeaf::Tile { values, path } = &published(&job)[0]
		else {
			panic!("a GEMM output's leaf")
		};
		let mut proof = job.fraud_proof((37, 21));
		proof.sample.leaf = *values;
		proof.sample.leaf_path = path.clone();
		assert_ok!(Jobs::dispute(RuntimeOrigin::signed(client()), id, proof.into(), 8));
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
