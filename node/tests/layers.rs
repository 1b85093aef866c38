//! Two `linear-i8` layers on a real dev node, the second taking the first's verified output as
//! its `A` without the client uploading anything: submit → claim → commit → `reveal` →
//! verified → settled at the end of its dispute window → output kept on chain → the next layer
//! chained from it. Then a layer with one wrong element, which the spot check misses, refuted
//! by the client's fraud proof. The test plays the device, with `proofgrid-primitives`'s
//! reference layer.

mod common;

use common::{register_device, seal_block, submit_and_wait, Node};
use jsonrpsee::{core::client::ClientT, rpc_params};
use proofgrid_primitives::{
	challenge::challenge_seed,
	inputs::challenged_elements,
	job::{InputSource, JobSpec},
	linear::Requant,
	testing::layer::LayerJob,
};
use proofgrid_runtime::{
	AccountId, Balance, BlockNumber, Runtime, RuntimeCall, RuntimeEvent, GRID,
};
use sp_core::{sr25519, Pair};
use sp_keyring::Sr25519Keyring;

/// A scale of about 2⁻¹⁰ with ReLU: outputs spread over int8.
const SCALE: Requant = Requant { multiplier: 1 << 30, shift: 40, relu: true };
/// The runtime's fewest samples a client may ask for.
const SAMPLES: u32 = 32;

fn layer_spec(job: &LayerJob, a: InputSource) -> JobSpec {
	job.spec(a, SAMPLES)
}

/// The first event `pick` finds in `events`.
fn find<T>(events: &[RuntimeEvent], pick: impl Fn(&RuntimeEvent) -> Option<T>) -> T {
	events.iter().find_map(pick).expect("the expected event")
}

/// Submits `spec` for `customer`, has `device` claim it and commit `job`'s output, and reveals
/// the challenge with `job`'s samples. The job's id and the reveal's events.
async fn run_layer(
	client: &jsonrpsee::ws_client::WsClient,
	customer: &sr25519::Pair,
	device: &sr25519::Pair,
	spec: JobSpec,
	job: &LayerJob,
) -> (u64, Vec<RuntimeEvent>) {
	let best = common::block_number(client, None).await;
	let submitted = submit_and_wait(
		client,
		customer,
		RuntimeCall::Jobs(pallet_jobs::Call::submit_job {
			spec,
			price_cap: GRID,
			deadline: best + 100,
		}),
	)
	.await;
	let id = common::submitted_job(&submitted);
	submit_and_wait(
		client,
		device,
		RuntimeCall::Jobs(pallet_jobs::Call::claim { job: id, basis: None }),
	)
	.await;
	let committed = submit_and_wait(
		client,
		device,
		RuntimeCall::Jobs(pallet_jobs::Call::commit { job: id, root: job.root() }),
	)
	.await;
	let challenge_block = find(&committed, |e| match e {
		RuntimeEvent::Jobs(pallet_jobs::Event::JobCommitted { challenge_block, .. }) => {
			Some(*challenge_block)
		}
		_ => None,
	});
	while common::block_number(client, None).await <= challenge_block {
		seal_block(client).await;
	}
	let key = pallet_jobs::ChallengeRandomness::<Runtime>::hashed_key_for(challenge_block);
	let recorded: pallet_jobs::ChallengeSeed =
		common::storage(client, &key).await.expect("randomness recorded");
	let seed = challenge_seed(id, &job.root().0, &recorded.randomness.0);
	let samples = job.reveal(&challenged_elements(&job.shape, &seed, SAMPLES));
	let reveal = RuntimeCall::Jobs(pallet_jobs::Call::reveal {
		job: id,
		challenge_hash: common::block_hash(client, challenge_block).await,
		reveal: proofgrid_primitives::job::Reveal::Layer(samples),
		k_dim_witness: job.shape.k,
	});
	(id, submit_and_wait(client, device, reveal).await)
}

/// The last block of `id`'s dispute window, from its verification's events.
fn verified_until(events: &[RuntimeEvent], id: u64) -> BlockNumber {
	find(events, |e| match e {
		RuntimeEvent::Jobs(pallet_jobs::Event::JobVerified { job, dispute_until, .. })
			if *job == id =>
		{
			Some(*dispute_until)
		}
		_ => None,
	})
}

#[tokio::test(flavor = "multi_thread")]
async fn two_chained_layers_are_verified_and_a_wrong_one_is_refuted() {
	let (_node, client) = Node::start(&["--dev", "--sealing", "instant"]).await;
	let (provider, customer) = (Sr25519Keyring::Alice.pair(), Sr25519Keyring::Bob.pair());
	let (device, _) = sr25519::Pair::generate();
	let price: Balance = GRID / 10;
	register_device(&client, &provider, &device, price).await;
	let device_id: AccountId = device.public().into();
	submit_and_wait(
		&client,
		&provider,
		RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: device_id.clone().into(),
			value: 10 * GRID,
		}),
	)
	.await;

	// Layer 1: 64 inputs of 48 features to 32, on uploaded matrices and biases.
	let first = LayerJob::new(64, 32, 48, 1, SCALE);
	let (id1, revealed) =
		run_layer(&client, &customer, &device, layer_spec(&first, InputSource::Upload), &first)
			.await;
	let until = verified_until(&revealed, id1);
	let view: serde_json::Value =
		client.request("proofgrid_job", rpc_params![id1]).await.expect("proofgrid_job");
	assert_eq!(view["status"]["state"], "verified");
	assert_eq!(view["inputs"]["layer"]["requant"]["shift"], 40);
	assert_eq!(view["inputs"]["layer"]["bias"]["root"], format!("{:?}", first.layer.bias));

	// Its dispute window passes: it settles, and its output stays on chain for the next layer.
	while common::block_number(&client, None).await <= until {
		seal_block(&client).await;
	}
	let key = pallet_jobs::LayerOutputs::<Runtime>::hashed_key_for(id1);
	let kept: pallet_jobs::LayerOutput<AccountId, BlockNumber> =
		common::storage(&client, &key).await.expect("the settled layer's output is kept");
	assert_eq!(kept.commitment, first.output_commitment());
	assert_eq!(kept.device, device_id);

	// Layer 2 takes layer 1's output as its `A`: 64 × 32 into 16, nothing uploaded for `A`.
	let second = LayerJob::with(
		first.output.clone(),
		LayerJob::new(64, 16, 32, 2, SCALE).cols,
		(0..16).map(|j| (j - 8) * 500).collect(),
		SCALE,
	);
	let (id2, revealed) =
		run_layer(&client, &customer, &device, layer_spec(&second, InputSource::Job(id1)), &second)
			.await;
	verified_until(&revealed, id2);
	let view: serde_json::Value =
		client.request("proofgrid_job", rpc_params![id2]).await.expect("proofgrid_job");
	assert_eq!(view["inputs"]["layer"]["a"]["source"], format!("job:{id1}"));

	// A device that gets one element of 2 048 wrong: 32 samples miss it 98.4% of the time.
	let honest = LayerJob::new(64, 32, 48, 3, SCALE);
	let cheat = LayerJob::new(64, 32, 48, 3, SCALE).doctored(|i, j, v| {
		if (i, j) == (40, 7) {
			*v = v.wrapping_add(1)
		}
	});
	let (id3, revealed) =
		run_layer(&client, &customer, &device, layer_spec(&cheat, InputSource::Upload), &cheat)
			.await;
	let caught = revealed.iter().any(
		|e| matches!(e, RuntimeEvent::Jobs(pallet_jobs::Event::JobFailed { job, .. }) if *job == id3),
	);
	if !caught {
		// The client checks the whole output (here: against its own reference) and proves the
		// wrong element; the chain recomputes it and slashes.
		let wrong = (0..64u32)
			.flat_map(|i| (0..32u32).map(move |j| (i, j)))
			.find(|&(i, j)| {
				cheat.output[i as usize][j as usize] != honest.output[i as usize][j as usize]
			})
			.expect("one wrong element");
		let disputed = submit_and_wait(
			&client,
			&customer,
			RuntimeCall::Jobs(pallet_jobs::Call::dispute {
				job: id3,
				accusation: cheat.fraud_proof(wrong).into(),
				k_dim_witness: 48,
			}),
		)
		.await;
		assert!(disputed.iter().any(|e| matches!(
			e,
			RuntimeEvent::Jobs(pallet_jobs::Event::JobFailed {
				job,
				reason: pallet_jobs::FailureReason::FraudProven { row: 40, col: 7 },
				..
			}) if *job == id3
		)));
	}
	let key = pallet_jobs::LayerOutputs::<Runtime>::hashed_key_for(id3);
	let refuted: Option<pallet_jobs::LayerOutput<AccountId, BlockNumber>> =
		common::storage(&client, &key).await;
	assert!(refuted.is_none(), "a refuted layer feeds nothing");
}
