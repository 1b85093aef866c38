use super::{
	device_calls::{custom, validate},
	*,
};
use proofgrid_primitives::{
	challenge::challenge_seed,
	inputs::{challenged_elements, MatrixCommitment},
	job::{InputSource, JobInputs, JobSpec, MAX_SUPPLIED_SAMPLES},
	testing::supplied::SuppliedJob,
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
fn reveal_supplied(id: u64, challenge_block: u64, job: &SuppliedJob) -> sp_runtime::DispatchResult {
	run_to_block(challenge_block + 1);
	let randomness = crate::ChallengeRandomness::<Test>::get(challenge_block).unwrap().randomness;
	let seed = challenge_seed(id, &job.root(), &randomness.0);
	let samples = job.reveal(&challenged_elements(&job.shape, &seed, 8));
	let hash = System::block_hash(challenge_block);
	Jobs::reveal(RuntimeOrigin::signed(device(1)), id, hash, Reveal::Supplied(samples), 8)
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
			Jobs::reveal(
				RuntimeOrigin::signed(device(1)),
				id,
				hash,
				Reveal::Seeded(Default::default()),
				8
			),
			Error::<Test>::WrongRevealKind
		);
		let call = RuntimeCall::Jobs(crate::Call::reveal {
			job: id,
			challenge_hash: hash,
			reveal: Reveal::Seeded(Default::default()),
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
			Jobs::reveal(
				RuntimeOrigin::signed(device(2)),
				seeded,
				hash,
				Reveal::Supplied(Default::default()),
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
		assert_ok!(Jobs::submit_job(RuntimeOrigin::signed(client()), supplied_spec(&job), CAP, 50));
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
		assert_ok!(Jobs::submit_job(RuntimeOrigin::signed(client()), supplied_spec(&job), CAP, 50));
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
