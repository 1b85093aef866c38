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
use proofgrid_runtime::{AccountId, RuntimeCall, RuntimeEvent, UncheckedExtrinsic, GRID};
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
	let (_node, client) = Node::start(&["--dev", "--sealing", "manual"]).await;
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
			paths: Default::default(),
			k_dim_witness: 512,
		}),
	)
	.await;
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
