//! Whole-model jobs: submitted against a registered model (which they hold until they end),
//! claimed, committed, revealed layer by layer and settled; refused when the chain could not
//! check them; failed and slashed when faked, at the reveal or by a fraud proof.

use super::*;
use proofgrid_primitives::{
	job::{Accusation, InputSource, JobInputs, JobSpec},
	testing::model::ModelJob,
};

/// Samples of the tests' model jobs: two per layer of the five-layer textbook CNN.
const SAMPLES: u32 = 10;

/// The client registers `job`'s model: its id.
fn register_model(job: &ModelJob) -> u64 {
	let id = pallet_models::NextModelId::<Test>::get();
	assert_ok!(Models::register(
		RuntimeOrigin::signed(client()),
		job.model.clone(),
		job.commitments.clone().try_into().unwrap(),
		None,
	));
	id
}

fn users(model: u64) -> u32 {
	pallet_models::Models::<Test>::get(model).map_or(0, |info| info.users)
}

fn submit(spec: JobSpec) -> Result<u64, sp_runtime::DispatchError> {
	let id = crate::NextJobId::<Test>::get();
	Jobs::submit_job(RuntimeOrigin::signed(client()), spec, CAP, 50).map(|_| id)
}

/// Device 1 claims job `id` and commits `job`'s root; the challenge block.
fn committed(id: u64, job: &ModelJob) -> u64 {
	assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), id, None));
	assert_ok!(Jobs::commit(RuntimeOrigin::signed(device(1)), id, job.root()));
	System::block_number() + 1
}

/// Device 1's reveal of `job` (id `id`) once its challenge block exists.
fn reveal_model(id: u64, challenge_block: u64, job: &ModelJob) -> sp_runtime::DispatchResult {
	run_to_block(challenge_block + 1);
	let randomness = crate::ChallengeRandomness::<Test>::get(challenge_block).unwrap().randomness;
	let reveal = Reveal::Model(job.reveal(id, SAMPLES, &randomness));
	let hash = System::block_hash(challenge_block);
	let k = stored_spec(id).shape.k;
	Jobs::reveal(RuntimeOrigin::signed(device(1)), id, hash, reveal, k)
}

#[test]
fn a_model_job_is_verified_settles_and_holds_its_model_until_it_ends() {
	build_and_execute(|| {
		register_device(1, PRICE);
		let job = ModelJob::new(2);
		let model = register_model(&job);
		let id = submit(job.spec(model, SAMPLES)).unwrap();
		// Held: its owner cannot take the model away under the job.
		assert_eq!(users(model), 1);
		assert_noop!(
			Models::remove(RuntimeOrigin::signed(client()), model),
			pallet_models::Error::<Test>::InUse
		);
		let owner = free(&account(PROVIDER));
		let challenge_block = committed(id, &job);
		assert_ok!(reveal_model(id, challenge_block, &job));
		let Some(JobStatus::Verified { dispute_until, .. }) =
			JobsMap::<Test>::get(id).map(|j| j.status)
		else {
			panic!("verified");
		};
		assert_eq!(users(model), 1, "held while disputes are open");
		run_to_block(dispute_until + 1);
		assert!(JobsMap::<Test>::get(id).is_none(), "settled");
		// One unit (the minimum) at the device's price, less the 10% protocol fee.
		assert_eq!(free(&account(PROVIDER)), owner + PRICE - PRICE / 10);
		assert_eq!(users(model), 0);
		assert_ok!(Models::remove(RuntimeOrigin::signed(client()), model));
	});
}

#[test]
fn a_cancelled_or_expired_model_job_releases_its_model() {
	build_and_execute(|| {
		let job = ModelJob::new(1);
		let model = register_model(&job);
		let first = submit(job.spec(model, SAMPLES)).unwrap();
		let second = submit(job.spec(model, SAMPLES)).unwrap();
		assert_eq!(users(model), 2);
		assert_ok!(Jobs::cancel(RuntimeOrigin::signed(client()), first));
		assert_eq!(users(model), 1);
		run_to_block(51);
		assert!(JobsMap::<Test>::get(second).is_none(), "expired");
		assert_eq!(users(model), 0);
		assert_ok!(Models::remove(RuntimeOrigin::signed(client()), model));
	});
}

#[test]
fn submit_refuses_a_model_job_the_chain_cannot_check() {
	build_and_execute(|| {
		let job = ModelJob::new(2);
		let model = register_model(&job);
		let spec = job.spec(model, SAMPLES);
		let with = |change: &dyn Fn(&mut JobSpec)| {
			let mut spec = spec.clone();
			change(&mut spec);
			spec
		};
		let inputs =
			|change: &dyn Fn(&mut JobInputs)| with(&|spec: &mut JobSpec| change(&mut spec.inputs));
		let refused = |spec: JobSpec, error: Error<Test>| {
			assert_noop!(submit(spec), error);
		};
		refused(job.spec(model + 1, SAMPLES), Error::<Test>::UnknownModel);
		refused(
			with(&|s| s.requirements.kernel = proofgrid_primitives::device::Kernel::LinearI8),
			Error::<Test>::KernelMismatch,
		);
		// The shape, operations and output values must be the plan's: a client cannot
		// underpay by naming less work, nor size the device's windows wrong.
		refused(with(&|s| s.shape.k += 1), Error::<Test>::ModelMismatch);
		refused(
			inputs(&|i| {
				if let JobInputs::Model { ops, .. } = i {
					*ops /= 2
				}
			}),
			Error::<Test>::ModelMismatch,
		);
		refused(
			inputs(&|i| {
				if let JobInputs::Model { output_values, .. } = i {
					*output_values -= 1
				}
			}),
			Error::<Test>::ModelMismatch,
		);
		// Another batch than the commitment's.
		refused(
			inputs(&|i| {
				if let JobInputs::Model { input, .. } = i {
					input.lanes += 1
				}
			}),
			Error::<Test>::InputsMismatch,
		);
		refused(
			inputs(&|i| {
				if let JobInputs::Model { source, .. } = i {
					*source = InputSource::Job(0)
				}
			}),
			Error::<Test>::BadInputSource,
		);
		// Fewer samples than layers would leave a layer unchecked.
		refused(job.spec(model, 4), Error::<Test>::BadSampleCount);
		refused(job.spec(model, 257), Error::<Test>::BadSampleCount);
		assert_eq!(users(model), 0, "nothing held by a refused submission");
		assert_ok!(submit(job.spec(model, 5)));
	});
}

/// A model's reveal is priced by its widest layer: a job whose reveal could not fit the room a
/// block keeps for one is refused at submission (its device could never answer), holding
/// nothing; one that fits is taken.
#[test]
fn submit_refuses_a_model_job_whose_reveal_would_not_fit_a_block() {
	build_and_execute(|| {
		let job = ModelJob::new(2);
		let model = register_model(&job);
		let spec = job.spec(model, SAMPLES);
		let weight = Jobs::reveal_call_weight(&spec);
		assert!(weight.ref_time() > 0);
		let before = held(&client());
		MaxRevealWeight::set(weight.set_ref_time(weight.ref_time() - 1));
		assert_noop!(submit(spec.clone()), Error::<Test>::RevealTooHeavy);
		assert_eq!(held(&client()), before);
		assert_eq!(users(model), 0);
		// More samples weigh more: the same model at half the samples fits where this did not.
		let fewer = job.spec(model, SAMPLES / 2);
		assert!(Jobs::reveal_call_weight(&fewer).all_lte(MaxRevealWeight::get()));
		assert_ok!(submit(fewer));
		MaxRevealWeight::set(weight);
		assert_ok!(submit(spec));
		assert_eq!(users(model), 2);
	});
}

#[test]
fn a_model_faked_in_a_whole_layer_fails_at_its_reveal_and_the_device_is_slashed() {
	build_and_execute(|| {
		register_device(1, PRICE);
		let honest = ModelJob::new(2);
		let model = register_model(&honest);
		let id = submit(honest.spec(model, SAMPLES)).unwrap();
		// Every element of the dilated convolution (layer 2) off by one.
		let mut fake = ModelJob::new(2);
		for row in 0..fake.plan[2].rows() {
			for channel in 0..fake.plan[2].output.channels {
				fake = fake.fake((2, row, channel));
			}
		}
		let bond = Devices::bond_of(&device(1)).unwrap();
		let challenge_block = committed(id, &fake);
		assert_ok!(reveal_model(id, challenge_block, &fake));
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
		assert_eq!(Devices::bond_of(&device(1)), Some(bond - COLLATERAL));
		let deposit = pallet_models::Models::<Test>::get(model).unwrap().deposit;
		assert_eq!(free(&client()) + deposit, ENDOWMENT + MAX_COMPENSATION);
		assert_eq!(users(model), 0);
	});
}

#[test]
fn a_fraud_proof_against_one_wrong_element_of_a_verified_model_job_slashes_its_device() {
	build_and_execute(|| {
		register_device(1, PRICE);
		let honest = ModelJob::new(2);
		let model = register_model(&honest);
		let id = submit(honest.spec(model, SAMPLES)).unwrap();
		// One element of the first convolution's 288 wrong: the spot check's two draws in
		// that layer miss it here.
		let victim = (0, 13, 2);
		let cheat = ModelJob::new(2).fake(victim);
		let challenge_block = committed(id, &cheat);
		assert_ok!(reveal_model(id, challenge_block, &cheat));
		assert!(matches!(
			JobsMap::<Test>::get(id).map(|j| j.status),
			Some(JobStatus::Verified { .. })
		));
		let owner = free(&account(PROVIDER));
		let bond = Devices::bond_of(&device(1)).unwrap();
		let k = stored_spec(id).shape.k;

		// A right element proves nothing and costs the accuser its deposit.
		let right = Accusation::Model(cheat.accuse((0, 13, 1)));
		assert_ok!(Jobs::dispute(RuntimeOrigin::signed(client()), id, right, k));
		assert!(JobsMap::<Test>::get(id).is_some());

		let proof = Accusation::Model(cheat.accuse(victim));
		let post = Jobs::dispute(RuntimeOrigin::signed(client()), id, proof, k).unwrap();
		assert_eq!(post.pays_fee, Pays::No, "an upheld dispute is free");
		System::assert_last_event(
			Event::JobFailed {
				job: id,
				device: device(1),
				reason: FailureReason::FraudProven { row: 13, col: 2 },
				slashed: COLLATERAL,
				compensation: MAX_COMPENSATION,
			}
			.into(),
		);
		// The cheater: nothing paid, its collateral gone; the model free again.
		assert_eq!(free(&account(PROVIDER)), owner);
		assert_eq!(Devices::bond_of(&device(1)), Some(bond - COLLATERAL));
		assert_eq!(users(model), 0);
	});
}

/// The rows `(layer, row)` of `job`'s outputs its device publishes for `elements`.
fn published(job: &ModelJob, elements: &[(u32, u32)]) -> proofgrid_primitives::job::DataAnswer {
	let rows: Vec<_> = elements
		.iter()
		.map(|&e| {
			proofgrid_primitives::model_proof::published_row(&job.plan, &job.outputs, e).unwrap()
		})
		.collect();
	rows.try_into().unwrap()
}

#[test]
fn a_model_jobs_device_publishes_demanded_rows_or_is_slashed_for_withholding_them() {
	build_and_execute(|| {
		register_device(1, PRICE);
		let job = ModelJob::new(2);
		let model = register_model(&job);
		let witness = job.spec(model, SAMPLES).shape.k.max(job.spec(model, SAMPLES).shape.n);
		let verified = |job: &ModelJob| {
			let id = submit(job.spec(model, SAMPLES)).unwrap();
			let challenge_block = committed(id, job);
			assert_ok!(reveal_model(id, challenge_block, job));
			id
		};
		let demand = |id, elements: Vec<(u32, u32)>, witness| {
			Jobs::demand_data(
				RuntimeOrigin::signed(client()),
				id,
				elements.try_into().unwrap(),
				witness,
			)
		};

		// Rows of the first and the last layer: published, proven, and disputes taken longer.
		let id = verified(&job);
		assert_noop!(demand(id, vec![(0, 1)], witness + 1), Error::<Test>::WrongWitness);
		// Elements are rows of layers: a layer or a row beyond the outputs is refused.
		assert_noop!(demand(id, vec![(5, 0)], witness), Error::<Test>::BadDemand);
		let rows = job.plan[4].rows();
		assert_noop!(demand(id, vec![(4, rows)], witness), Error::<Test>::BadDemand);
		let elements = vec![(0, 17), (4, 1)];
		assert_ok!(demand(id, elements.clone(), witness));
		// Another row than demanded proves nothing; kept for later.
		let wrong = published(&job, &[(0, 16), (4, 1)]);
		assert_ok!(Jobs::publish_data(
			RuntimeOrigin::signed(device(1)),
			id,
			published(&job, &elements)
		));
		assert!(System::events()
			.iter()
			.any(|e| matches!(e.event, RuntimeEvent::Jobs(Event::DataPublished { .. }))));
		let Some(JobStatus::Verified { dispute_until, .. }) =
			JobsMap::<Test>::get(id).map(|j| j.status)
		else {
			panic!("still verified, open to disputes from the published rows");
		};
		run_to_block(dispute_until + 1);
		assert!(JobsMap::<Test>::get(id).is_none(), "settled");

		// A second job: the device answers with another row than demanded, and is slashed as
		// for withheld data; the client is made whole.
		let second = verified(&job);
		let bond = Devices::bond_of(&device(1)).unwrap();
		assert_ok!(demand(second, elements.clone(), witness));
		assert_ok!(Jobs::publish_data(RuntimeOrigin::signed(device(1)), second, wrong));
		assert!(System::events().iter().any(|e| matches!(
			e.event,
			RuntimeEvent::Jobs(Event::JobFailed {
				job,
				reason: FailureReason::DataWithheld,
				slashed: COLLATERAL,
				..
			}) if job == second
		)));
		assert_eq!(Devices::bond_of(&device(1)), Some(bond - COLLATERAL));
		assert_ok!(Devices::top_up_bond(
			RuntimeOrigin::signed(account(PROVIDER)),
			device(1),
			COLLATERAL
		));

		// A third: the device never answers; the deadline fails the job.
		let third = verified(&job);
		assert_ok!(demand(third, vec![(2, 3)], witness));
		run_to_block(System::block_number() + REVEAL_WINDOW + 2);
		assert!(System::events().iter().any(|e| matches!(
			e.event,
			RuntimeEvent::Jobs(Event::JobFailed { job, reason: FailureReason::DataWithheld, .. })
				if job == third
		)));
		assert_eq!(users(model), 0, "every job ended");
	});
}
