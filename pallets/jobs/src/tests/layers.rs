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
	linear::Requant,
	testing::layer::LayerJob,
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
	let randomness = crate::ChallengeRandomness::<Test>::get(challenge_block).unwrap().randomness;
	let seed = challenge_seed(id, &job.root().0, &randomness.0);
	let samples = job.reveal(&challenged_elements(&job.shape, &seed, 8));
	let hash = System::block_hash(challenge_block);
	let reveal = Reveal::Layer(samples);
	Jobs::reveal(RuntimeOrigin::signed(device(device_n)), id, hash, reveal, job.shape.k)
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
			Jobs::reveal(
				RuntimeOrigin::signed(device(1)),
				id,
				hash,
				Reveal::Supplied(Default::default()),
				8
			),
			Error::<Test>::WrongRevealKind
		);
		let call = RuntimeCall::Jobs(crate::Call::reveal {
			job: id,
			challenge_hash: hash,
			reveal: Reveal::Supplied(Default::default()),
			k_dim_witness: 8,
		});
		assert_eq!(validate(device(1), call), Err(custom(Error::WrongRevealKind)));
		let layer_call = RuntimeCall::Jobs(crate::Call::reveal {
			job: id,
			challenge_hash: hash,
			reveal: Reveal::Layer(Default::default()),
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
		let post = Jobs::dispute(
			RuntimeOrigin::signed(client()),
			id,
			cheat.fraud_proof((37, 20)).into(),
			8,
		)
		.unwrap();
		assert_eq!(post.pays_fee, Pays::Yes);
		assert_eq!(free(&client()), accuser - DISPUTE_DEPOSIT);
		// The witness must be the job's inner dimension.
		assert_noop!(
			Jobs::dispute(
				RuntimeOrigin::signed(client()),
				id,
				cheat.fraud_proof((37, 21)).into(),
				9
			),
			Error::<Test>::WrongWitness
		);
		// The wrong element: the job fails, the collateral is slashed, the call is free.
		let bond = Devices::bond_of(&device(1)).unwrap();
		let post = Jobs::dispute(
			RuntimeOrigin::signed(client()),
			id,
			cheat.fraud_proof((37, 21)).into(),
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
		assert!(crate::LayerOutputs::<Test>::get(id).is_none(), "a refuted layer feeds nothing");
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
