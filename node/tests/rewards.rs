//! Token rewards on a real dev node (10-block eras in the dev preset): two providers settle one
//! job each in the same era; when the era ends it mints `min(schedule, ρ × fees burned)`, the
//! treasury takes its share, and each provider's claim raises its free balance by exactly its
//! computed share — strictly less than the fees its jobs' client burned.

mod common;

use common::{
	free_balance, output_tree as tree, register_device, seal_block, storage, stored_spec,
	submit_and_wait, tx_fee, Node,
};
use jsonrpsee::{core::client::ClientT, rpc_params, ws_client::WsClient};
use proofgrid_primitives::{
	device::{Kernel, Requirements},
	gemm::GemmShape,
	job::{JobId, JobSpec},
};
use proofgrid_runtime::{
	configs::{
		FirstEraEmission, MaxRewardPerFee, ProtocolFee, RewardsTreasuryShare, TreasuryAccount,
	},
	genesis_config_presets::DEV_ERA_LENGTH,
	AccountId, Balance, Runtime, RuntimeCall, RuntimeEvent, GRID,
};
use sp_core::{sr25519, Pair, H256};
use sp_keyring::Sr25519Keyring;

/// A one-unit job (65 536 leaves) with its own seed.
fn spec(seed: u8) -> JobSpec {
	JobSpec::seeded(
		GemmShape { m: 1024, n: 1024, k: 512 },
		[seed; 32],
		Requirements { kernel: Kernel::GemmI8, min_vram_mib: 1_024, min_gops: 1 },
	)
}

fn find<T>(events: &[RuntimeEvent], f: impl Fn(&RuntimeEvent) -> Option<T>) -> T {
	events.iter().find_map(f).expect("expected event")
}

async fn current_era(client: &WsClient) -> u32 {
	storage(client, &pallet_rewards::CurrentEra::<Runtime>::hashed_key()).await.unwrap_or(0)
}

/// Reveals committed job `job` (challenge block `challenge_block`) from `device`; returns the
/// era it settled in.
async fn reveal(
	client: &WsClient,
	device: &sr25519::Pair,
	job: JobId,
	spec: &JobSpec,
	challenge_block: u32,
) -> u32 {
	let tree = tree(spec);
	let (_, reveal) = common::honest_reveal(client, job, spec, &tree, challenge_block).await;
	let events = submit_and_wait(client, device, reveal).await;
	find(&events, |e| match e {
		RuntimeEvent::Jobs(pallet_jobs::Event::JobSettled { job: settled, .. })
			if *settled == job =>
		{
			Some(())
		}
		_ => None,
	});
	current_era(client).await
}

#[tokio::test(flavor = "multi_thread")]
async fn providers_earn_exactly_their_share_of_an_era_with_verified_work() {
	let (_node, client) = Node::start(&["--dev", "--sealing", "instant"]).await;
	let providers = [Sr25519Keyring::Charlie, Sr25519Keyring::Dave];
	let customer = Sr25519Keyring::Eve;
	let devices: Vec<sr25519::Pair> = (0..2).map(|_| sr25519::Pair::generate().0).collect();

	// Set-up (any era): devices registered and funded for fees, two jobs posted.
	for (owner, device) in providers.iter().zip(&devices) {
		register_device(&client, &owner.pair(), device, GRID / 10).await;
		submit_and_wait(
			&client,
			&owner.pair(),
			RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
				dest: AccountId::from(device.public()).into(),
				value: 10 * GRID,
			}),
		)
		.await;
	}
	let mut jobs = vec![];
	for spec in [spec(1), spec(2)] {
		let best = common::block_number(&client, None).await;
		let events = submit_and_wait(
			&client,
			&customer.pair(),
			RuntimeCall::Jobs(pallet_jobs::Call::submit_job {
				spec: spec.clone(),
				price_cap: GRID,
				deadline: best + 200,
			}),
		)
		.await;
		jobs.push(common::submitted_job(&events));
	}

	// Start at an era boundary so that both jobs (six blocks) settle in one era.
	let era = current_era(&client).await + 1;
	while current_era(&client).await < era {
		seal_block(&client).await;
	}
	let status: serde_json::Value =
		client.request("proofgrid_currentEra", rpc_params![]).await.expect("currentEra");
	assert_eq!(status["era"], era);
	assert_eq!(
		status["end"].as_u64().unwrap() - status["start"].as_u64().unwrap(),
		DEV_ERA_LENGTH as u64
	);
	let emission: Balance = status["emission"].as_str().unwrap().parse().unwrap();
	assert_eq!(emission, FirstEraEmission::get(), "the first year mints the first emission");

	let mut challenge_blocks = vec![];
	for (device, job) in devices.iter().zip(&jobs) {
		submit_and_wait(
			&client,
			device,
			RuntimeCall::Jobs(pallet_jobs::Call::claim { job: *job, basis: None }),
		)
		.await;
	}
	// The chain binds each job's seed to the job and its claim: compute what it stored.
	let mut specs = vec![];
	for job in &jobs {
		specs.push(stored_spec(&client, *job).await);
	}
	for ((device, job), spec) in devices.iter().zip(&jobs).zip(&specs) {
		let root = H256(tree(spec).root());
		let events = submit_and_wait(
			&client,
			device,
			RuntimeCall::Jobs(pallet_jobs::Call::commit { job: *job, root }),
		)
		.await;
		challenge_blocks.push(find(&events, |e| match e {
			RuntimeEvent::Jobs(pallet_jobs::Event::JobCommitted { challenge_block, .. }) => {
				Some(*challenge_block)
			}
			_ => None,
		}));
	}
	let mut settled_in = vec![];
	for (i, device) in devices.iter().enumerate() {
		while common::block_number(&client, None).await <= challenge_blocks[i] {
			seal_block(&client).await;
		}
		settled_in.push(reveal(&client, device, jobs[i], &specs[i], challenge_blocks[i]).await);
	}
	assert_eq!(settled_in, vec![era, era], "both jobs settle in era {era}");
	let status: serde_json::Value =
		client.request("proofgrid_currentEra", rpc_params![]).await.expect("currentEra");
	assert_eq!(status["units"], "2");

	// Each job paid 0.1 GRID and burned 5% of it: the era may mint ρ × 0.01 GRID, far below its
	// 1 000 GRID schedule.
	let fee = ProtocolFee::get().mul_ceil(GRID / 10);
	assert_eq!(status["fees"], (2 * fee).to_string());
	let minted = MaxRewardPerFee::get() * (2 * fee);
	assert_eq!(status["mintable"], minted.to_string());
	assert!(minted < emission);

	// The era ends: ρ × fees minted, 10% to the treasury, the pool split 1:1.
	let treasury_before = free_balance(&client, &TreasuryAccount::get()).await;
	while current_era(&client).await <= era {
		seal_block(&client).await;
	}
	let to_treasury = RewardsTreasuryShare::get() * minted;
	let share = (minted - to_treasury) / 2;
	assert!(share < fee, "a provider earns less than its client burned");
	assert_eq!(free_balance(&client, &TreasuryAccount::get()).await, treasury_before + to_treasury);

	for owner in providers {
		let who = owner.to_account_id();
		let pending: Vec<serde_json::Value> = client
			.request("proofgrid_pendingRewards", rpc_params![who.to_string()])
			.await
			.expect("pendingRewards");
		assert_eq!(pending.len(), 1);
		assert_eq!(
			(pending[0]["era"].clone(), pending[0]["units"].clone()),
			(era.into(), 1.into())
		);
		assert_eq!(pending[0]["fees"], fee.to_string());
		assert_eq!(pending[0]["amount"], share.to_string());

		let before = free_balance(&client, &who).await;
		let events = submit_and_wait(
			&client,
			&owner.pair(),
			RuntimeCall::Rewards(pallet_rewards::Call::claim { era }),
		)
		.await;
		assert!(events.contains(&RuntimeEvent::Rewards(pallet_rewards::Event::Claimed {
			era,
			provider: who.clone(),
			units: 1,
			fees: fee,
			amount: share,
		})));
		let fee = tx_fee(&events);
		assert_eq!(free_balance(&client, &who).await, before - fee + share);
		println!("{owner:?}: claimed {share} planck (era {era}), paid {fee} in fees");
	}
	let pending: Vec<serde_json::Value> = client
		.request("proofgrid_pendingRewards", rpc_params![providers[0].to_account_id().to_string()])
		.await
		.expect("pendingRewards");
	assert!(pending.is_empty(), "claimed rewards are no longer pending");
}
