//! Two validators, Alice and Bob, on the `local` chain (real 6 s slots): BABE authors blocks,
//! GRANDPA finalizes them, and a job settles with a reveal that answers a *final* challenge
//! block, the way the worker answers. Prints GRANDPA's lag behind the best block and the job's
//! latency from submission to final settlement.

mod common;

use std::time::{Duration, Instant};

use common::{
	best_and_finalized, block_number, output_tree, register_device, stored_spec, submit_and_wait,
	Node,
};
use jsonrpsee::{core::client::ClientT, rpc_params, ws_client::WsClient};
use pallet_jobs::JobStatus;
use proofgrid_primitives::{
	device::{Kernel, Requirements},
	gemm::GemmShape,
	job::JobSpec,
};
use proofgrid_runtime::{RuntimeCall, RuntimeEvent, GRID};
use sp_core::{sr25519, Pair, H256};
use sp_keyring::Sr25519Keyring;

/// Alice's network key and the peer id it gives, so that Bob can find her. Validators on a
/// non-dev chain must be given a network key.
const ALICE_NODE_KEY: &str = "0000000000000000000000000000000000000000000000000000000000000001";
const BOB_NODE_KEY: &str = "0000000000000000000000000000000000000000000000000000000000000002";
const ALICE_PEER_ID: &str = "12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp";

/// Waits until the finalized block is at least `number`; returns it.
async fn wait_finalized(client: &WsClient, number: u32, what: &str) -> u32 {
	let started = Instant::now();
	loop {
		let (_, finalized) = best_and_finalized(client).await;
		if finalized >= number {
			return finalized;
		}
		assert!(started.elapsed() < Duration::from_secs(120), "{what}: #{number} never final");
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}

/// Job `job` as the finalized state holds it once it is in a state `wanted` accepts there
/// (what no fork can take back).
async fn final_job(
	client: &WsClient,
	job: u64,
	wanted: impl Fn(&JobStatus<proofgrid_runtime::AccountId, proofgrid_runtime::Balance, u32>) -> bool,
) -> pallet_jobs::Job<proofgrid_runtime::AccountId, proofgrid_runtime::Balance, u32> {
	use codec::Decode;
	let key = pallet_jobs::Jobs::<proofgrid_runtime::Runtime>::hashed_key_for(job);
	let started = Instant::now();
	loop {
		let data: Option<String> = client
			.request(
				"state_getStorage",
				rpc_params![format!("0x{}", hex::encode(&key)), finalized_head(client).await],
			)
			.await
			.expect("storage");
		let info = data.map(|d| {
			let bytes = hex::decode(d.trim_start_matches("0x")).expect("hex");
			pallet_jobs::Job::decode(&mut &bytes[..]).expect("a job")
		});
		if let Some(info) = info.filter(|info| wanted(&info.status)) {
			return info;
		}
		assert!(started.elapsed() < Duration::from_secs(120), "job {job}: step never final");
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}

/// The finalized block's hash.
async fn finalized_head(client: &WsClient) -> H256 {
	client.request("chain_getFinalizedHead", rpc_params![]).await.expect("finalized head")
}

#[tokio::test(flavor = "multi_thread")]
async fn two_validators_finalize_with_babe_and_settle_a_job_on_final_challenges() {
	let (alice, client) = Node::start(&[
		"--chain",
		"local",
		"--alice",
		"--node-key",
		ALICE_NODE_KEY,
		"--allow-private-ip",
	])
	.await;
	let bootnode = format!("/ip4/127.0.0.1/tcp/{}/p2p/{ALICE_PEER_ID}", alice.p2p_port);
	let (bob, bob_client) = Node::start(&[
		"--chain",
		"local",
		"--bob",
		"--node-key",
		BOB_NODE_KEY,
		"--bootnodes",
		&bootnode,
		"--allow-private-ip",
	])
	.await;

	// GRANDPA needs both votes (2 of 2 > 2/3): finality proves the nodes talk.
	let started = Instant::now();
	let finalized = loop {
		let (best, finalized) = best_and_finalized(&bob_client).await;
		if finalized >= 3 {
			break finalized;
		}
		assert!(
			started.elapsed() < Duration::from_secs(120),
			"no finality with two validators (best #{best})\nAlice:\n{}\nBob:\n{}",
			alice.log_tail(),
			bob.log_tail()
		);
		tokio::time::sleep(Duration::from_secs(1)).await;
	};
	println!(
		"both validators finalized #{finalized} after {:.0} s",
		started.elapsed().as_secs_f64()
	);

	// A device of Charlie's; Eve posts a one-unit job.
	let provider = Sr25519Keyring::Charlie;
	let customer = Sr25519Keyring::Eve;
	let (device, _) = sr25519::Pair::generate();
	register_device(&client, &provider.pair(), &device, GRID / 10).await;
	// Device calls are free, but its account must exist.
	submit_and_wait(
		&client,
		&provider.pair(),
		RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: proofgrid_runtime::AccountId::from(device.public()).into(),
			value: GRID,
		}),
	)
	.await;
	let spec = JobSpec::seeded(
		GemmShape { m: 1024, n: 1024, k: 1024 },
		[7u8; 32],
		Requirements { kernel: Kernel::GemmI8, min_vram_mib: 0, min_gops: 0 },
	);
	let submitted_at = Instant::now();
	let best = block_number(&client, None).await;
	let events = submit_and_wait(
		&client,
		&customer.pair(),
		RuntimeCall::Jobs(pallet_jobs::Call::submit_job {
			spec,
			price_cap: GRID,
			deadline: best + 100,
		}),
	)
	.await;
	let job = common::submitted_job(&events);

	// The device's side, as the worker does it. Two validators fork now and then: a step's
	// block may be replaced and the step included again in another one (with another claim
	// seed, another challenge block), so each step is read back from the finalized state.
	submit_and_wait(&client, &device, RuntimeCall::Jobs(pallet_jobs::Call::claim { job })).await;
	let spec = final_job(&client, job, |s| matches!(s, JobStatus::Assigned { .. })).await.spec;
	assert_eq!(spec.shape, stored_spec(&client, job).await.shape);
	let tree = output_tree(&spec);
	submit_and_wait(
		&client,
		&device,
		RuntimeCall::Jobs(pallet_jobs::Call::commit { job, root: H256(tree.root()) }),
	)
	.await;
	let committed = final_job(&client, job, |s| matches!(s, JobStatus::Committed { .. })).await;
	let JobStatus::Committed { challenge_block, reveal_by, .. } = committed.status else {
		unreachable!("waited for the commitment")
	};
	// Answer only once the challenge block (and the next, which records its randomness) is
	// final: no reorg can change the challenge after that.
	// What finality costs: the time from the challenge being known at the best block (when
	// devices used to reveal) to it being final.
	let waited = Instant::now();
	let mut known_at_best = None;
	let finalized = loop {
		let (best, finalized) = best_and_finalized(&client).await;
		if best > challenge_block && known_at_best.is_none() {
			known_at_best = Some(waited.elapsed());
		}
		if finalized > challenge_block {
			break finalized;
		}
		assert!(waited.elapsed() < Duration::from_secs(120), "the challenge block never final");
		tokio::time::sleep(Duration::from_millis(200)).await;
	};
	let best = block_number(&client, None).await;
	println!(
		"challenge block #{challenge_block}: known at the best block after {:.1} s, final after {:.1} s (best #{best}, finalized #{finalized}, reveal by #{reveal_by})",
		known_at_best.unwrap_or_default().as_secs_f64(),
		waited.elapsed().as_secs_f64()
	);
	assert!(best < reveal_by, "finality came in time for the reveal window");
	let (_, reveal) = common::honest_reveal(&client, job, &spec, &tree, challenge_block).await;
	let events = submit_and_wait(&client, &device, reveal).await;
	let settled_in = events.iter().any(
		|e| matches!(e, RuntimeEvent::Jobs(pallet_jobs::Event::JobSettled { job: j, .. }) if *j == job),
	);
	assert!(settled_in, "the job settled");
	// Final once the finalized chain has no open job left.
	let settled_at = block_number(&client, None).await;
	wait_finalized(&client, settled_at, "the settlement").await;
	let key = pallet_jobs::Jobs::<proofgrid_runtime::Runtime>::hashed_key_for(job);
	let open: Option<String> = client
		.request(
			"state_getStorage",
			rpc_params![format!("0x{}", hex::encode(key)), finalized_head(&client).await],
		)
		.await
		.expect("storage");
	assert!(open.is_none(), "the job is closed in the finalized state");
	println!(
		"job {job}: submitted → settled and final in {:.1} s on 6 s slots",
		submitted_at.elapsed().as_secs_f64(),
	);

	// GRANDPA's lag behind the best block, sampled over half a minute.
	let mut lags = Vec::new();
	for _ in 0..10 {
		let (best, finalized) = best_and_finalized(&bob_client).await;
		lags.push(best - finalized);
		tokio::time::sleep(Duration::from_secs(3)).await;
	}
	println!(
		"GRANDPA lag over 30 s: {:?} blocks (max {})",
		lags,
		lags.iter().max().copied().unwrap_or(0)
	);
}
