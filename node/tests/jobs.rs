//! One GEMM-i8 job through its whole life on a real dev node: submit → claim → commit →
//! reveal → settled, with the output, its Merkle tree and the challenge computed by
//! `proofgrid-primitives` inside the test, and the client's, provider's and treasury's balances
//! checked to the unit.

mod common;

use common::{
	free_balance as free, output_tree, register_device, seal_block, submit_and_wait, tx_fee, Node,
};
use jsonrpsee::{core::client::ClientT, rpc_params};
use proofgrid_primitives::{
	challenge::{challenge_indices, challenge_seed},
	device::{Kernel, Requirements},
	gemm::GemmShape,
	job::{JobSpec, MerklePath, RevealPaths},
};
use proofgrid_runtime::{
	configs::{ProtocolFee, TreasuryAccount},
	AccountId, Balance, RuntimeCall, RuntimeEvent, GRID,
};
use sp_core::{sr25519, Pair, H256};
use sp_keyring::Sr25519Keyring;

#[tokio::test(flavor = "multi_thread")]
async fn a_job_settles_and_pays_client_provider_and_treasury_to_the_unit() {
	let (_node, client) = Node::start(&["--dev", "--sealing", "instant"]).await;
	let provider = Sr25519Keyring::Alice;
	let customer = Sr25519Keyring::Bob;
	let treasury = TreasuryAccount::get();

	// The provider registers a GPU and funds its device key for transaction fees.
	let (device, _) = sr25519::Pair::generate();
	let device_id: AccountId = device.public().into();
	let price: Balance = GRID / 10;
	register_device(&client, &provider.pair(), &device, price).await;
	submit_and_wait(
		&client,
		&provider.pair(),
		RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: device_id.clone().into(),
			value: 10 * GRID,
		}),
	)
	.await;

	let (client_before, provider_before, treasury_before) = (
		free(&client, &customer.to_account_id()).await,
		free(&client, &provider.to_account_id()).await,
		free(&client, &treasury).await,
	);

	// The dApp posts a 128×96×40 GEMM (768 leaves, one work unit) with a cap of 1 GRID a unit.
	let spec = JobSpec {
		shape: GemmShape { m: 128, n: 96, k: 40 },
		seed: [42u8; 32],
		requirements: Requirements { kernel: Kernel::GemmI8, min_vram_mib: 1_024, min_gops: 1 },
	};
	let best: u32 = common::block_number(&client, None).await;
	let submitted = submit_and_wait(
		&client,
		&customer.pair(),
		RuntimeCall::Jobs(pallet_jobs::Call::submit_job {
			spec: spec.clone(),
			price_cap: GRID,
			deadline: best + 100,
		}),
	)
	.await;
	let job = submitted
		.iter()
		.find_map(|e| match e {
			RuntimeEvent::Jobs(pallet_jobs::Event::JobSubmitted { job, .. }) => Some(*job),
			_ => None,
		})
		.expect("JobSubmitted");
	let submit_fee = tx_fee(&submitted);

	// The worker's side: claim, compute with the primitives kernel, commit the root.
	submit_and_wait(&client, &device, RuntimeCall::Jobs(pallet_jobs::Call::claim { job })).await;
	let tree = output_tree(&spec);
	let root = H256(tree.root());
	let committed = submit_and_wait(
		&client,
		&device,
		RuntimeCall::Jobs(pallet_jobs::Call::commit { job, root }),
	)
	.await;
	let challenge_block = committed
		.iter()
		.find_map(|e| match e {
			RuntimeEvent::Jobs(pallet_jobs::Event::JobCommitted { challenge_block, .. }) => {
				Some(*challenge_block)
			}
			_ => None,
		})
		.expect("JobCommitted");

	// The challenge is known once the challenge block exists; the chain's state holds a
	// block's hash from the next block on, so the RPC answers one block later.
	while common::block_number(&client, None).await <= challenge_block {
		seal_block(&client).await;
	}
	let block_hash: H256 = client
		.request("chain_getBlockHash", rpc_params![challenge_block])
		.await
		.expect("challenge block hash");
	let indices = challenge_indices(
		&challenge_seed(job, &root.0, &block_hash.0),
		spec.shape.leaf_count(),
		64,
	);
	// The node's RPC gives workers the same challenge and the job's state, no storage layout
	// knowledge needed.
	let rpc_indices: Option<Vec<u64>> =
		client.request("proofgrid_challenge", rpc_params![job]).await.expect("proofgrid_challenge");
	assert_eq!(rpc_indices.as_ref(), Some(&indices));
	let view: serde_json::Value =
		client.request("proofgrid_job", rpc_params![job]).await.expect("proofgrid_job");
	assert_eq!(view["status"]["state"], "committed");
	assert_eq!(view["status"]["challengeBlock"], challenge_block);
	let mine: Vec<serde_json::Value> = client
		.request("proofgrid_jobsForDevice", rpc_params![device_id.to_string()])
		.await
		.expect("proofgrid_jobsForDevice");
	assert_eq!(mine.len(), 1);
	assert_eq!(mine[0]["id"], job);

	let paths: Vec<MerklePath> = indices
		.iter()
		.map(|&i| {
			let path: Vec<H256> = tree.proof(i).expect("in range").into_iter().map(H256).collect();
			path.try_into().expect("shallow")
		})
		.collect();
	let paths: RevealPaths = paths.try_into().expect("at most 64");
	let revealed = submit_and_wait(
		&client,
		&device,
		RuntimeCall::Jobs(pallet_jobs::Call::reveal { job, paths, k_dim_witness: spec.shape.k }),
	)
	.await;

	// One unit at the device's price: 5% to the treasury, the rest to the provider, and the
	// client pays exactly that (plus its own transaction fee); the rest of its budget is back.
	let units = spec.shape.work_units() as Balance;
	let payment = units * price;
	let fee = ProtocolFee::get() * payment;
	assert!(revealed.contains(&RuntimeEvent::Jobs(pallet_jobs::Event::JobSettled {
		job,
		device: device_id,
		provider: provider.to_account_id(),
		payment: payment - fee,
		fee,
		refund: units * GRID - payment,
	})));
	assert_eq!(
		free(&client, &customer.to_account_id()).await,
		client_before - submit_fee - payment
	);
	assert_eq!(free(&client, &provider.to_account_id()).await, provider_before + payment - fee);
	assert_eq!(free(&client, &treasury).await, treasury_before + fee);
	let gone: Option<serde_json::Value> =
		client.request("proofgrid_job", rpc_params![job]).await.expect("proofgrid_job");
	assert!(gone.is_none(), "finished jobs leave storage");
	println!(
		"job {job} settled: provider +{} , treasury +{fee}, client -{payment} (+ {submit_fee} tx fee); {} leaves revealed",
		payment - fee,
		indices.len()
	);
}
