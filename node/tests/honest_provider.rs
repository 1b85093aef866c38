//! Issue 31 on a real node (manual sealing, forks made with `engine_createBlock` on a chosen
//! parent): a reorg re-includes a device's claim under another parent block. A claim that names
//! its basis — as the worker's does — keeps the inputs the device computed on either fork, and
//! its honest reveal settles with nothing slashed; a claim that names none (the old rule) gets
//! other inputs on the other fork, and the output its device computed would be slashed.

mod common;

use common::{apply, block_number, seal_block, signed_extrinsic, Node};
use jsonrpsee::{core::client::ClientT, rpc_params, ws_client::WsClient};
use pallet_jobs::JobStatus;
use proofgrid_primitives::{
	device::{Kernel, Requirements},
	gemm::GemmShape,
	job::JobSpec,
};
use proofgrid_runtime::{AccountId, Runtime, RuntimeCall, RuntimeEvent, GRID};
use serde_json::Value;
use sp_core::{sr25519, Pair, H256};
use sp_keyring::Sr25519Keyring;

type Job = pallet_jobs::Job<AccountId, proofgrid_runtime::Balance, u32>;

/// A block on `parent` (the best if `None`) with what the pool holds, not finalized; its hash.
async fn create_block(client: &WsClient, parent: Option<H256>) -> H256 {
	let created: Value = client
		.request("engine_createBlock", rpc_params![true, false, parent])
		.await
		.expect("engine_createBlock");
	serde_json::from_value(created["hash"].clone()).expect("the new block's hash")
}

/// Job `job` in the state of block `at`.
async fn job_at(client: &WsClient, job: u64, at: H256) -> Option<Job> {
	use codec::Decode;
	let key = pallet_jobs::Jobs::<Runtime>::hashed_key_for(job);
	let data: Option<String> = client
		.request("state_getStorage", rpc_params![format!("0x{}", hex::encode(key)), at])
		.await
		.expect("storage");
	data.map(|d| {
		let bytes = hex::decode(d.trim_start_matches("0x")).expect("hex");
		Job::decode(&mut &bytes[..]).expect("a job")
	})
}

/// Grows a fork from `tip` (`len` blocks above the fork point) one block at a time until every
/// job in `jobs` is assigned on it and it is at least `min_len` long; its tip and length. The
/// pool takes a moment after each import to follow a new fork, so a claim may miss a block.
async fn grow_until_claimed(
	client: &WsClient,
	mut tip: H256,
	mut len: u32,
	jobs: &[u64],
	min_len: u32,
) -> (H256, u32) {
	loop {
		let mut claimed = true;
		for &job in jobs {
			let status = job_at(client, job, tip).await.expect("job").status;
			claimed &= matches!(status, JobStatus::Assigned { .. });
		}
		if claimed && len >= min_len {
			return (tip, len);
		}
		assert!(len < 8, "claims not included after {len} blocks on this fork");
		tokio::time::sleep(std::time::Duration::from_millis(300)).await;
		tip = create_block(client, Some(tip)).await;
		len += 1;
	}
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reorg_that_moves_a_claim_changes_nothing_for_a_claim_that_names_its_basis() {
	let _serial = common::serial().await;
	let (node, client) = Node::start(&["--dev", "--sealing", "manual"]).await;
	let owner = Sr25519Keyring::Charlie.pair();
	let customer = Sr25519Keyring::Eve.pair();
	let (named, _) = sr25519::Pair::generate();
	let (unnamed, _) = sr25519::Pair::generate();
	for device in [&named, &unnamed] {
		apply(&client, &owner, common::register_call(&client, &owner, device, GRID / 10).await)
			.await;
		apply(
			&client,
			&owner,
			RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
				dest: AccountId::from(device.public()).into(),
				value: GRID,
			}),
		)
		.await;
	}
	let spec = JobSpec::seeded(
		GemmShape { m: 1024, n: 1024, k: 512 },
		[5; 32],
		Requirements { kernel: Kernel::GemmI8, min_vram_mib: 0, min_gops: 0 },
	);
	let mut jobs = Vec::new();
	for _ in 0..2 {
		let best = block_number(&client, None).await;
		let events = apply(
			&client,
			&customer,
			RuntimeCall::Jobs(pallet_jobs::Call::submit_job {
				spec: spec.clone(),
				price_cap: GRID,
				deadline: best + 200,
			}),
		)
		.await;
		jobs.push(common::submitted_job(&events));
	}
	let (named_job, unnamed_job) = (jobs[0], jobs[1]);

	// The fork point: the last final block. The worker names a block a little below its best;
	// here, the fork point itself.
	let fork_point: H256 =
		client.request("chain_getBlockHash", rpc_params![]).await.expect("best hash");
	let fork_number = block_number(&client, None).await;
	let named_claim = signed_extrinsic(
		&client,
		&named,
		RuntimeCall::Jobs(pallet_jobs::Call::claim {
			job: named_job,
			basis: Some((fork_number, fork_point)),
		}),
	)
	.await;
	let unnamed_claim = signed_extrinsic(
		&client,
		&unnamed,
		RuntimeCall::Jobs(pallet_jobs::Call::claim { job: unnamed_job, basis: None }),
	)
	.await;
	// Two forks from the fork point, each one empty block long; then the claims, which the
	// pool puts in a later block of each fork: under another parent on each.
	let b1 = create_block(&client, Some(fork_point)).await;
	let a1 = create_block(&client, Some(fork_point)).await;
	for claim in [&named_claim, &unnamed_claim] {
		let _: H256 = client
			.request("author_submitExtrinsic", rpc_params![claim])
			.await
			.expect("claim accepted by the pool");
	}
	let claimed = [named_job, unnamed_job];
	let (a_tip, a_len) = grow_until_claimed(&client, a1, 1, &claimed, 0).await;
	let on_a = |job| job_at(&client, job, a_tip);
	let (named_a, unnamed_a) =
		(on_a(named_job).await.expect("job"), on_a(unnamed_job).await.expect("job"));
	assert!(
		matches!(named_a.status, JobStatus::Assigned { .. }),
		"claimed on fork A\n{}",
		node.log_tail()
	);
	assert!(matches!(unnamed_a.status, JobStatus::Assigned { .. }), "claimed on fork A");

	// Fork B: the same claims, re-included by the pool on B, and B grows longer than A.
	let (b_tip, _) = grow_until_claimed(&client, b1, 1, &claimed, a_len + 1).await;
	let best: H256 = client.request("chain_getBlockHash", rpc_params![]).await.expect("best");
	assert_eq!(best, b_tip, "fork B is the best chain");
	let on_b = |job| job_at(&client, job, b_tip);
	let (named_b, unnamed_b) =
		(on_b(named_job).await.expect("job"), on_b(unnamed_job).await.expect("job"));
	assert!(
		matches!(named_b.status, JobStatus::Assigned { .. }),
		"the claim is re-included on fork B\n{}",
		node.log_tail()
	);
	assert!(matches!(unnamed_b.status, JobStatus::Assigned { .. }));
	println!(
		"claim re-included under another parent: named basis → same inputs: {}; no basis → same inputs: {}",
		named_a.spec == named_b.spec,
		unnamed_a.spec == unnamed_b.spec
	);
	assert_eq!(named_a.spec, named_b.spec, "a named basis keeps the inputs");
	assert_ne!(unnamed_a.spec, unnamed_b.spec, "without one, the parent decides them");

	// The device computed its output on fork A; it commits and reveals on fork B, where the
	// chain now is: the job settles and its collateral comes back whole.
	let device_id: AccountId = named.public().into();
	let bond_before = common::device_bond(&client, &device_id).await;
	let tree = common::output_tree(&named_a.spec);
	apply(
		&client,
		&named,
		RuntimeCall::Jobs(pallet_jobs::Call::commit { job: named_job, root: H256(tree.root()) }),
	)
	.await;
	seal_block(&client).await;
	seal_block(&client).await;
	let (challenge_block, _) =
		common::challenge(&client, named_job, None).await.expect("the challenge is drawn");
	let (_, reveal) =
		common::honest_reveal(&client, named_job, &named_a.spec, &tree, challenge_block).await;
	let events = apply(&client, &named, reveal).await;
	assert!(
		events.iter().any(|e| matches!(
			e,
			RuntimeEvent::Jobs(pallet_jobs::Event::JobSettled { job, .. }) if *job == named_job
		)),
		"the honest reveal settles after the reorg"
	);
	let bond_after = common::device_bond(&client, &device_id).await;
	assert_eq!(bond_after, bond_before, "nothing slashed");
}

/// Issue 31, attack 5 on the runtime's parameters: a device takes a client's job on supplied
/// inputs, gets them (its receipt goes on chain), and gives the job back. Its release repays
/// the call fee the client paid; the client is out only the fees of its own transactions.
#[tokio::test(flavor = "multi_thread")]
async fn a_release_after_the_devices_receipt_repays_the_client_its_call_fee() {
	use proofgrid_primitives::{
		inputs::{inputs_receipt_message, MatrixCommitment, SuppliedInputs},
		job::{InputSource, JobInputs},
	};
	let _serial = common::serial().await;
	let (_node, client) = Node::start(&["--dev", "--sealing", "manual"]).await;
	let owner = Sr25519Keyring::Charlie.pair();
	let customer = Sr25519Keyring::Eve.pair();
	let customer_id: AccountId = customer.public().into();
	let (device, _) = sr25519::Pair::generate();
	let device_id: AccountId = device.public().into();
	apply(&client, &owner, common::register_call(&client, &owner, &device, GRID / 10).await).await;
	let fund =
		pallet_balances::Call::transfer_keep_alive { dest: device_id.clone().into(), value: GRID };
	apply(&client, &owner, RuntimeCall::Balances(fund)).await;

	// A 256×256 output with k = 1 500 and the most samples (256, a reveal of ~1 MB): one work
	// unit whose call fee (about 2 GRID with the measured weights) is above the 1 GRID claim
	// deposit, which this test needs (at 64 samples it fell under it when faster hardware
	// measured the weights).
	let shape = GemmShape { m: 256, n: 256, k: 1_500 };
	let lanes = |lanes| MatrixCommitment { lanes, lane_len: shape.k, root: H256::repeat_byte(3) };
	let spec = JobSpec {
		shape,
		inputs: JobInputs::Supplied {
			matrices: SuppliedInputs { a: lanes(shape.m), b: lanes(shape.n) },
			a: InputSource::Upload,
			b: InputSource::Upload,
			samples: proofgrid_primitives::job::MAX_SUPPLIED_SAMPLES,
			public_output: false,
		},
		requirements: Requirements { kernel: Kernel::GemmI8, min_vram_mib: 0, min_gops: 0 },
	};
	let before = common::free_balance(&client, &customer_id).await;
	let best = block_number(&client, None).await;
	let submit = pallet_jobs::Call::submit_job { spec, price_cap: GRID, deadline: best + 100 };
	let events = apply(&client, &customer, RuntimeCall::Jobs(submit)).await;
	let mut customer_fees = common::tx_fee(&events);
	let job = common::submitted_job(&events);
	let claim = pallet_jobs::Call::claim { job, basis: None };
	apply(&client, &device, RuntimeCall::Jobs(claim)).await;
	let head: H256 = client.request("chain_getBlockHash", rpc_params![]).await.expect("best");
	let fee_paid = job_at(&client, job, head).await.expect("open").fee_paid;
	assert!(fee_paid > proofgrid_runtime::configs::ClaimDeposit::get(), "fee {fee_paid}");

	// The device's data service signs the receipt once the inputs are in; the client shows it.
	let genesis = common::genesis_hash(&client).await;
	let receipt = device.sign(&inputs_receipt_message(&genesis.0, job, device.public().as_ref()));
	let confirm = pallet_jobs::Call::confirm_inputs { job, receipt: receipt.into() };
	let events = apply(&client, &customer, RuntimeCall::Jobs(confirm)).await;
	customer_fees += common::tx_fee(&events);
	assert!(events.iter().any(|e| matches!(
		e,
		RuntimeEvent::Jobs(pallet_jobs::Event::InputsReceived { job: j, .. }) if *j == job
	)));

	// The device gives the job back at once: it pays the client's call fee.
	let bond = common::device_bond(&client, &device_id).await;
	let events =
		apply(&client, &device, RuntimeCall::Jobs(pallet_jobs::Call::release { job })).await;
	let forfeited = events
		.iter()
		.find_map(|e| match e {
			RuntimeEvent::Jobs(pallet_jobs::Event::JobReleased { forfeited, .. }) => {
				Some(*forfeited)
			}
			_ => None,
		})
		.expect("JobReleased");
	assert_eq!(forfeited, fee_paid, "the call fee, above the claim deposit");
	assert_eq!(common::device_bond(&client, &device_id).await, bond - forfeited);

	// The client cancels the job: it is out its own transactions' fees, and nothing else.
	let events =
		apply(&client, &customer, RuntimeCall::Jobs(pallet_jobs::Call::cancel { job })).await;
	customer_fees += common::tx_fee(&events);
	let after = common::free_balance(&client, &customer_id).await;
	assert_eq!(after, before - customer_fees, "the call fee came back");
	println!(
		"claim, receipt, release: the device forfeited {:.3} GRID, which repaid the client's call fee ({:.3} GRID); the client paid {:.3} GRID in transaction fees and lost nothing else (before: the call fee was lost and the release free)",
		forfeited as f64 / GRID as f64,
		fee_paid as f64 / GRID as f64,
		customer_fees as f64 / GRID as f64,
	);
}
