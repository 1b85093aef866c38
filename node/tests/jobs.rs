//! One GEMM-i8 job through its whole life on a real dev node: submit → claim → commit →
//! reveal → settled, with the output, its Merkle tree and the challenge computed by
//! `proofgrid-primitives` inside the test; the client's and provider's balances checked to the
//! unit, the protocol fee burned, the device's calls free, its collateral locked and released
//! and its delivered throughput published.

mod common;

use common::{
	free_balance as free, output_tree, register_device, seal_block, stored_spec, submit_and_wait,
	tx_fee, Node,
};
use jsonrpsee::{core::client::ClientT, rpc_params};
use proofgrid_primitives::{
	device::{Kernel, Requirements},
	gemm::GemmShape,
	job::JobSpec,
};
use proofgrid_rpc_api::{ErrorCode, JobStateView, Planck, ProofGridApiClient};
use proofgrid_runtime::{
	configs::{JobDeposit, MinCollateral, ProtocolFee},
	AccountId, Balance, RuntimeCall, RuntimeEvent, GRID,
};
use sp_core::{sr25519, Pair, H256};
use sp_keyring::Sr25519Keyring;

#[tokio::test(flavor = "multi_thread")]
async fn a_job_settles_pays_to_the_unit_and_burns_its_fee() {
	let (_node, client) = Node::start(&["--dev", "--sealing", "instant"]).await;
	let provider = Sr25519Keyring::Alice;
	let customer = Sr25519Keyring::Bob;

	// The provider registers a GPU and funds its device key (for heartbeats; job calls are
	// free).
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

	let (client_before, provider_before, device_before) = (
		free(&client, &customer.to_account_id()).await,
		free(&client, &provider.to_account_id()).await,
		free(&client, &device_id).await,
	);
	let issuance_before = common::total_issuance(&client).await;

	// The dApp posts a 1024×1024×512 GEMM (65 536 leaves, one work unit: 1.07·10⁹ operations)
	// with a cap of 1 GRID a unit.
	let spec = JobSpec::seeded(
		GemmShape { m: 1024, n: 1024, k: 512 },
		[42u8; 32],
		Requirements { kernel: Kernel::GemmI8, min_vram_mib: 1_024, min_gops: 1 },
	);
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
	let job = common::submitted_job(&submitted);
	let submit_fee = tx_fee(&submitted);
	let call_fee = submitted
		.iter()
		.find_map(|e| match e {
			RuntimeEvent::Jobs(pallet_jobs::Event::JobSubmitted { call_fee, .. }) => {
				Some(*call_fee)
			}
			_ => None,
		})
		.expect("JobSubmitted");
	assert!(call_fee > 0, "the client prepays its device's calls");
	assert_eq!(
		free(&client, &customer.to_account_id()).await,
		client_before - submit_fee - GRID - JobDeposit::get() - call_fee,
		"budget, deposit and call fee held"
	);

	// The worker's side: claim, compute with the primitives kernel on the stored spec (its
	// seed is bound to this job), commit the root.
	let claimed = submit_and_wait(
		&client,
		&device,
		RuntimeCall::Jobs(pallet_jobs::Call::claim { job, basis: None }),
	)
	.await;
	assert_eq!(tx_fee(&claimed), 0, "claims are free");
	assert!(claimed.iter().any(|e| matches!(
		e,
		RuntimeEvent::Jobs(pallet_jobs::Event::JobAssigned { call_fee_burned, .. })
			if *call_fee_burned == call_fee
	)));
	// The generated client of `proofgrid-rpc-api` gives typed views.
	let device_view = ProofGridApiClient::device(&client, device_id.to_string())
		.await
		.expect("proofgrid_device")
		.expect("registered");
	assert_eq!(device_view.locked, Planck(MinCollateral::get()));
	assert_eq!(device_view.active_jobs, 1);
	assert_eq!(device_view.device, device_id.to_string());
	// Hostile or mistaken arguments get a typed error or null, never a scan or a crash.
	let bad = ProofGridApiClient::device(&client, "not-an-address".into())
		.await
		.expect_err("a malformed address is refused");
	let jsonrpsee::core::client::Error::Call(bad) = bad else { panic!("{bad}") };
	assert_eq!(ErrorCode::of(bad.code()), Some(ErrorCode::BadAddress), "{bad}");
	assert!(bad.message().contains("bad device address"), "{bad}");
	let stranger: AccountId = sr25519::Pair::generate().0.public().into();
	let unknown =
		ProofGridApiClient::device(&client, stranger.to_string()).await.expect("proofgrid_device");
	assert!(unknown.is_none());
	let spec = stored_spec(&client, job).await;
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

	// The challenge comes from the challenge block's VRF randomness, which the chain records
	// when the next block starts, so it is known one block later.
	while common::block_number(&client, None).await <= challenge_block {
		seal_block(&client).await;
	}
	let (indices, reveal) =
		common::honest_reveal(&client, job, &spec, &tree, challenge_block).await;
	// The node's RPC gives workers the same challenge and the job's state, no storage layout
	// knowledge needed.
	let rpc_indices =
		ProofGridApiClient::challenge(&client, job).await.expect("proofgrid_challenge");
	assert_eq!(rpc_indices.as_ref(), Some(&indices));
	let view = ProofGridApiClient::job(&client, job).await.expect("proofgrid_job").expect("open");
	assert!(
		matches!(view.status, JobStateView::Committed { challenge_block: c, .. } if c == challenge_block),
		"{view:?}"
	);
	// The same view as raw JSON: the shape dApps in other languages read.
	let raw: serde_json::Value =
		client.request("proofgrid_job", rpc_params![job]).await.expect("proofgrid_job");
	assert_eq!(raw["status"]["state"], "committed");
	assert_eq!(raw["status"]["challengeBlock"], challenge_block);
	let mine = ProofGridApiClient::jobs_for_device(&client, device_id.to_string())
		.await
		.expect("proofgrid_jobsForDevice");
	assert_eq!(mine.len(), 1);
	assert_eq!(mine[0].id, job);

	// A reveal computed on another fork (another challenge block) changes nothing: refused.
	let RuntimeCall::Jobs(pallet_jobs::Call::reveal { reveal: paths, k_dim_witness, .. }) =
		reveal.clone()
	else {
		unreachable!("a reveal")
	};
	let other_fork = RuntimeCall::Jobs(pallet_jobs::Call::reveal {
		job,
		challenge_hash: H256::repeat_byte(0xEE),
		reveal: paths,
		k_dim_witness,
	});
	let refused: Result<H256, _> = client
		.request(
			"author_submitExtrinsic",
			rpc_params![common::signed_extrinsic(&client, &device, other_fork).await],
		)
		.await;
	assert!(refused.is_err(), "a reveal for another challenge block is refused by the pool");
	let revealed = submit_and_wait(&client, &device, reveal).await;

	// One unit at the device's price: 5% burned, the rest to the provider, and the client pays
	// exactly that (plus its own transaction fee); the rest of its budget and the deposit are
	// back. The device paid nothing for claim, commit or reveal.
	let units = spec.shape.work_units() as Balance;
	let payment = units * price;
	let fee = ProtocolFee::get().mul_ceil(payment);
	assert!(revealed.contains(&RuntimeEvent::Jobs(pallet_jobs::Event::JobSettled {
		job,
		device: device_id.clone(),
		provider: provider.to_account_id(),
		payment: payment - fee,
		fee_burned: fee,
		refund: units * GRID - payment,
	})));
	assert_eq!(
		free(&client, &customer.to_account_id()).await,
		client_before - submit_fee - payment - call_fee
	);
	assert_eq!(free(&client, &provider.to_account_id()).await, provider_before + payment - fee);
	assert_eq!(free(&client, &device_id).await, device_before, "device calls are free");
	assert_eq!(
		common::total_issuance(&client).await,
		issuance_before - submit_fee - fee - call_fee,
		"the protocol fee, the call fee and the client's transaction fee were burned"
	);
	let gone: Option<serde_json::Value> =
		client.request("proofgrid_job", rpc_params![job]).await.expect("proofgrid_job");
	assert!(gone.is_none(), "finished jobs leave storage");
	let device_view = ProofGridApiClient::device(&client, device_id.to_string())
		.await
		.expect("proofgrid_device")
		.expect("registered");
	assert_eq!((device_view.locked, device_view.active_jobs), (Planck(0), 0));
	assert_eq!(device_view.completed, 1);
	// What the job proved: its operations over the blocks from claim to commit (6 s each),
	// published for everyone to compare with the advertised figure.
	// The inputs exist from the block before the claim's.
	let blocks = (raw["status"]["committedAt"].as_u64().unwrap()
		- raw["status"]["claimedAt"].as_u64().unwrap()
		+ 1) as u128;
	let proven = spec.shape.ops() / (blocks * 6_000 * 1_000_000);
	assert_eq!(device_view.delivered_gops, proven as u64);
	println!(
		"job {job} settled: provider +{}, {fee} burned, client -{payment} (+ {submit_fee} tx fee, {call_fee} call fee); {} leaves revealed; device {device_view:?}",
		payment - fee,
		indices.len()
	);
}
