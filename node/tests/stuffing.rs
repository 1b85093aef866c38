//! Block stuffing on a real node: the pool holds more zero-tip transactions than a block can
//! take, and the assigned device's reveal, sent last, is still included first — in the very
//! next block — and costs the device nothing (docs/PROTOCOL.md §6.4, docs/ECONOMICS.md).

mod common;

use codec::Decode;
use common::{apply, block_number, free_balance, seal_block, sign_and_submit, Node};
use jsonrpsee::{core::client::ClientT, rpc_params, ws_client::WsClient};
use proofgrid_primitives::{
	device::{Kernel, Requirements},
	gemm::GemmShape,
	job::JobSpec,
};
use proofgrid_runtime::{AccountId, Balance, RuntimeCall, RuntimeEvent, UncheckedExtrinsic, GRID};
use serde_json::Value;
use sp_core::{sr25519, Pair, H256};
use sp_keyring::Sr25519Keyring;

/// Remarks of 1 MiB: a block's normal class (3.75 MiB) takes three of them.
const REMARK_BYTES: usize = 1 << 20;
const REMARKS: usize = 5;

/// The calls of the best block, in order.
async fn best_block_calls(client: &WsClient) -> Vec<RuntimeCall> {
	let block: Value = client.request("chain_getBlock", rpc_params![]).await.expect("block");
	block["block"]["extrinsics"]
		.as_array()
		.expect("extrinsics")
		.iter()
		.map(|xt| {
			let bytes = common::hex_bytes(xt);
			UncheckedExtrinsic::decode(&mut &bytes[..]).expect("extrinsic decodes").function
		})
		.collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stuffed_pool_still_puts_the_devices_reveal_first_in_the_next_block() {
	let _serial = common::serial().await;
	let (node, client) = Node::start(&["--dev", "--sealing", "manual"]).await;
	let owner = Sr25519Keyring::Charlie.pair();
	let customer = Sr25519Keyring::Eve.pair();
	let stuffer = Sr25519Keyring::Alice.pair();
	let (device, _) = sr25519::Pair::generate();
	let device_id: AccountId = device.public().into();

	// A committed job: Charlie's device, Eve's one-unit job.
	apply(&client, &owner, common::register_call(&client, &owner, &device, GRID / 10).await).await;
	apply(
		&client,
		&owner,
		RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: device_id.clone().into(),
			value: GRID,
		}),
	)
	.await;
	let best = block_number(&client, None).await;
	let spec = JobSpec::seeded(
		GemmShape { m: 1024, n: 1024, k: 512 },
		[7; 32],
		Requirements { kernel: Kernel::GemmI8, min_vram_mib: 0, min_gops: 0 },
	);
	let events = apply(
		&client,
		&customer,
		RuntimeCall::Jobs(pallet_jobs::Call::submit_job {
			spec,
			price_cap: GRID,
			deadline: best + 100,
		}),
	)
	.await;
	let job = common::submitted_job(&events);
	apply(&client, &device, RuntimeCall::Jobs(pallet_jobs::Call::claim { job, basis: None })).await;
	apply(
		&client,
		&device,
		RuntimeCall::Jobs(pallet_jobs::Call::commit { job, root: H256::repeat_byte(1) }),
	)
	.await;
	// The challenge block, then one more so that its randomness is in state.
	let challenge_block = common::block_number(&client, None).await + 1;
	seal_block(&client).await;
	seal_block(&client).await;
	let device_before = free_balance(&client, &device_id).await;

	// Alice stuffs the pool with more than a block of zero-tip remarks; then the device reveals.
	for _ in 0..REMARKS {
		sign_and_submit(
			&client,
			&stuffer,
			RuntimeCall::System(frame_system::Call::remark { remark: vec![0u8; REMARK_BYTES] }),
		)
		.await;
	}
	// The reveal's content does not matter here (an empty proof fails the job and slashes the
	// device); what matters is that it gets in.
	sign_and_submit(
		&client,
		&device,
		RuntimeCall::Jobs(pallet_jobs::Call::reveal {
			job,
			challenge_hash: common::block_hash(&client, challenge_block).await,
			reveal: proofgrid_primitives::job::Reveal::Seeded(Default::default()),
			k_dim_witness: 512,
		}),
	)
	.await;
	common::wait_for_pool(&node, REMARKS + 1).await;
	seal_block(&client).await;

	let calls = best_block_calls(&client).await;
	let signed: Vec<&RuntimeCall> =
		calls.iter().filter(|c| !matches!(c, RuntimeCall::Timestamp(_))).collect();
	let remarks = signed.iter().filter(|c| matches!(c, RuntimeCall::System(_))).count();
	println!("next block: {} signed extrinsics, {remarks} of them 1 MiB remarks", signed.len());
	assert!(remarks < REMARKS, "the block is full: some remarks wait");
	assert!(
		matches!(signed.first(), Some(RuntimeCall::Jobs(pallet_jobs::Call::reveal { .. }))),
		"the reveal, sent last, comes first"
	);
	let hash: H256 = client.request("chain_getBlockHash", rpc_params![]).await.expect("best hash");
	let events = common::events_at(&client, hash).await;
	assert!(events.iter().any(|e| matches!(
		e,
		RuntimeEvent::Jobs(pallet_jobs::Event::JobFailed { job: failed, .. }) if *failed == job
	)));
	assert_eq!(free_balance(&client, &device_id).await, device_before, "the reveal was free");
}

/// Samples of each reveal in the test below: the runtime's default for supplied jobs.
const SAMPLES: u32 = 64;

/// The largest `k` whose 256×256 supplied job's reveal of [`SAMPLES`] samples the runtime takes
/// (`MaxRevealBytes`): the biggest valid reveal a job can ask for, ~1 MiB.
fn largest_reveal_k() -> u32 {
	let max = u64::from(proofgrid_runtime::configs::MAX_REVEAL_BYTES);
	let bytes = |k| {
		u64::from(SAMPLES)
			* proofgrid_primitives::inputs::sample_bytes(&GemmShape { m: 256, n: 256, k })
	};
	(1..=proofgrid_primitives::gemm::MAX_K).rev().find(|&k| bytes(k) <= max).expect("some k fits")
}

/// Issue 31, attack 2 with the attacker's own reveals: an attacker runs six self-dealt jobs
/// whose valid reveals are the largest the runtime takes (~1 MiB each, free, operational, at
/// the same top priority as every reveal) and sends them ahead of an honest device's equally
/// large reveal, in the last block of its window. The block fills with the attacker's reveals;
/// the honest one waits — and since the block had no room for it, the window does not count
/// it: the reveal lands in the next block, the job is verified and the honest device loses
/// nothing. The attacker paid its jobs' call fees for one block of delay.
#[tokio::test(flavor = "multi_thread")]
async fn the_attackers_own_largest_reveals_delay_an_honest_reveal_but_never_slash_it() {
	use proofgrid_primitives::{
		challenge::challenge_seed,
		inputs::challenged_elements,
		job::{InputSource, JobInputs},
		testing::supplied::SuppliedJob,
	};
	const ATTACKER_JOBS: usize = 6;

	let _serial = common::serial().await;
	let (node, client) = Node::start(&["--dev", "--sealing", "manual"]).await;
	let attacker = Sr25519Keyring::Alice.pair();
	let (honest_owner, honest_client) =
		(Sr25519Keyring::Charlie.pair(), Sr25519Keyring::Eve.pair());
	// Two attacker devices (a device holds at most four jobs) and the honest one.
	let devices: Vec<sr25519::Pair> = (0..3).map(|_| sr25519::Pair::generate().0).collect();
	for (i, device) in devices.iter().enumerate() {
		let owner = if i < 2 { &attacker } else { &honest_owner };
		apply(&client, owner, common::register_call(&client, owner, device, GRID / 10).await).await;
		let dest: AccountId = device.public().into();
		let fund = pallet_balances::Call::transfer_keep_alive { dest: dest.into(), value: GRID };
		apply(&client, owner, RuntimeCall::Balances(fund)).await;
	}
	let honest_device = &devices[2];
	let honest_id: AccountId = honest_device.public().into();

	// Every job multiplies the same 256×k by k×256 matrices; the device (played by the test)
	// holds the honest output.
	let k = largest_reveal_k();
	let fixture = SuppliedJob::new(256, 256, k, 31);
	let spec = JobSpec {
		shape: fixture.shape,
		inputs: JobInputs::Supplied {
			matrices: fixture.inputs,
			a: InputSource::Upload,
			b: InputSource::Upload,
			samples: SAMPLES,
			public_output: false,
		},
		requirements: Requirements { kernel: Kernel::GemmI8, min_vram_mib: 0, min_gops: 0 },
	};
	// (job, its client, its device)
	let mut jobs = Vec::new();
	let mut attacker_fees: Balance = 0;
	for i in 0..=ATTACKER_JOBS {
		let (customer, device) = if i < ATTACKER_JOBS {
			(&attacker, &devices[i / 4])
		} else {
			(&honest_client, honest_device)
		};
		let best = block_number(&client, None).await;
		let submit = pallet_jobs::Call::submit_job {
			spec: spec.clone(),
			price_cap: GRID,
			deadline: best + 200,
		};
		let events = apply(&client, customer, RuntimeCall::Jobs(submit)).await;
		if i < ATTACKER_JOBS {
			attacker_fees += common::tx_fee(&events);
		}
		let job = common::submitted_job(&events);
		let claim = pallet_jobs::Call::claim { job, basis: None };
		apply(&client, device, RuntimeCall::Jobs(claim)).await;
		jobs.push((job, device));
	}
	// All seven commit in one block, so that they share a challenge block and a reveal window.
	for (job, device) in &jobs {
		let commit = pallet_jobs::Call::commit { job: *job, root: H256(fixture.root()) };
		sign_and_submit(&client, device, RuntimeCall::Jobs(commit)).await;
	}
	common::wait_for_pool(&node, jobs.len()).await;
	seal_block(&client).await;
	let hash: H256 = client.request("chain_getBlockHash", rpc_params![]).await.expect("best");
	let committed = common::events_at(&client, hash).await;
	let windows: Vec<(u32, u32)> = committed
		.iter()
		.filter_map(|e| match e {
			RuntimeEvent::Jobs(pallet_jobs::Event::JobCommitted {
				challenge_block,
				reveal_by,
				..
			}) => Some((*challenge_block, *reveal_by)),
			_ => None,
		})
		.collect();
	assert_eq!(windows.len(), jobs.len(), "every job committed in one block");
	assert!(windows.iter().all(|w| *w == windows[0]), "one challenge block, one window");
	let (challenge_block, reveal_by) = windows[0];

	// Everyone's reveal, ready once the challenge block's randomness is recorded.
	while block_number(&client, None).await <= challenge_block {
		seal_block(&client).await;
	}
	let key = pallet_jobs::ChallengeRandomness::<proofgrid_runtime::Runtime>::hashed_key_for(
		challenge_block,
	);
	let seed: pallet_jobs::ChallengeSeed = common::storage(&client, &key).await.expect("seed");
	let challenge_hash = common::block_hash(&client, challenge_block).await;
	let reveals: Vec<RuntimeCall> = jobs
		.iter()
		.map(|(job, _)| {
			let seed = challenge_seed(*job, &fixture.root(), &seed.randomness.0);
			let samples = fixture.reveal(&challenged_elements(&fixture.shape, &seed, SAMPLES));
			RuntimeCall::Jobs(pallet_jobs::Call::reveal {
				job: *job,
				challenge_hash,
				reveal: proofgrid_primitives::job::Reveal::Supplied(samples),
				k_dim_witness: k,
			})
		})
		.collect();
	let reveal_len = codec::Encode::encoded_size(&reveals[ATTACKER_JOBS]);

	// Everyone waits for the last block of the window; the attacker sends its reveals first.
	while block_number(&client, None).await < reveal_by - 1 {
		seal_block(&client).await;
	}
	let bond_before = common::device_bond(&client, &honest_id).await;
	let congested_before: u32 = common::storage(
		&client,
		&pallet_jobs::CongestedBlocks::<proofgrid_runtime::Runtime>::hashed_key(),
	)
	.await
	.unwrap_or(0);
	for ((_, device), reveal) in jobs.iter().zip(&reveals) {
		sign_and_submit(&client, device, reveal.clone()).await;
	}
	common::wait_for_pool(&node, jobs.len()).await;
	seal_block(&client).await;
	assert_eq!(block_number(&client, None).await, reveal_by, "the window's last block");
	let last = best_block_calls(&client).await;
	let revealed = |calls: &[RuntimeCall], id: u64| {
		calls.iter().any(
			|c| matches!(c, RuntimeCall::Jobs(pallet_jobs::Call::reveal { job, .. }) if *job == id),
		)
	};
	let honest_job = jobs[ATTACKER_JOBS].0;
	let attackers_in = jobs[..ATTACKER_JOBS].iter().filter(|(id, _)| revealed(&last, *id)).count();
	assert!(!revealed(&last, honest_job), "the attacker's reveals, sent first, fill the block");
	assert!(attackers_in >= 4, "the block holds the attacker's reveals");
	let congested: u32 = common::storage(
		&client,
		&pallet_jobs::CongestedBlocks::<proofgrid_runtime::Runtime>::hashed_key(),
	)
	.await
	.unwrap_or(0);
	assert_eq!(congested, congested_before + 1, "the stuffed block had no room for a reveal");

	// The window did not count that block: the honest reveal lands in the next one.
	seal_block(&client).await;
	let next = best_block_calls(&client).await;
	assert!(revealed(&next, honest_job), "the honest reveal lands a block later");
	let hash: H256 = client.request("chain_getBlockHash", rpc_params![]).await.expect("best");
	let events = common::events_at(&client, hash).await;
	common::assert_no_failure(&events);
	assert!(events.iter().any(|e| matches!(
		e,
		RuntimeEvent::Jobs(pallet_jobs::Event::JobVerified { job, .. }) if *job == honest_job
	)));
	assert!(!events.iter().any(|e| matches!(
		e,
		RuntimeEvent::Jobs(pallet_jobs::Event::JobFailed { job, .. }) if *job == honest_job
	)));
	assert_eq!(common::device_bond(&client, &honest_id).await, bond_before, "nothing slashed");

	let mut call_fees: Balance = 0;
	for (job, _) in &jobs[..ATTACKER_JOBS] {
		let key = pallet_jobs::Jobs::<proofgrid_runtime::Runtime>::hashed_key_for(job);
		let info: pallet_jobs::Job<AccountId, Balance, u32> =
			common::storage(&client, &key).await.expect("open job");
		call_fees += info.fee_paid;
	}
	println!(
		"k = {k}: each reveal {reveal_len} bytes; {attackers_in} of the attacker's {ATTACKER_JOBS} filled block #{reveal_by}, the honest reveal's last; it landed in #{} and was verified, nothing slashed; the attacker paid {:.3} GRID (submissions {:.3}, call fees {:.3}) for one block of delay",
		reveal_by + 1,
		(attacker_fees + call_fees) as f64 / GRID as f64,
		attacker_fees as f64 / GRID as f64,
		call_fees as f64 / GRID as f64,
	);
}
