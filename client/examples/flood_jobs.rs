//! Posts many small jobs at the minimum price, fast: fills a dev chain's job market for
//! measurements (how a worker idles beside 10 000 open jobs, see `scripts/idle-worker.sh`).
//!
//! ```sh
//! cargo run -p proofgrid-client --example flood_jobs -- ws://127.0.0.1:9944 10000
//! ```
//!
//! Jobs come from the prefunded dev accounts, each sending its share with explicit nonces
//! without waiting for inclusion; a transaction the pool refuses (full) is retried.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use proofgrid_client::{runtime, Client, Keypair};
use proofgrid_primitives::{
	device::{Kernel, Requirements},
	gemm::GemmShape,
	job::JobSpec,
};
use subxt::{config::DefaultExtrinsicParamsBuilder, utils::Static, PolkadotConfig};

const SENDERS: [&str; 5] = ["//Alice", "//Bob", "//Dave", "//Eve", "//Ferdie"];

#[tokio::main]
async fn main() -> Result<()> {
	let mut args = std::env::args().skip(1);
	let url = args.next().unwrap_or_else(|| "ws://127.0.0.1:9944".into());
	let count: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(10_000);
	let client = Client::connect(&url).await?;
	let market = client.market_params().await?;
	let started = Instant::now();
	let per_sender = count.div_ceil(SENDERS.len());
	let mut tasks = Vec::new();
	for (index, suri) in SENDERS.iter().enumerate() {
		let client = Client::connect(&url).await?;
		let sender = Keypair::from_suri(suri)?;
		let jobs = per_sender.min(count.saturating_sub(index * per_sender));
		let price = market.min_price_per_unit;
		tasks.push(tokio::spawn(async move { post(&client, &sender, index, jobs, price).await }));
	}
	for task in tasks {
		task.await??;
	}
	println!("{count} jobs posted in {:.1} s", started.elapsed().as_secs_f64());
	Ok(())
}

/// The next nonce of `sender` at the best block.
async fn chain_nonce(client: &Client, sender: &Keypair) -> Result<u64> {
	let at = client.at_best().await?;
	let nonce = at
		.runtime_apis()
		.call(runtime::runtime_apis().account_nonce_api().account_nonce(sender.account()))
		.await
		.context("nonce")?;
	Ok(nonce.into())
}

/// Posts `jobs` one-unit jobs from `sender` at `price` per unit.
async fn post(
	client: &Client,
	sender: &Keypair,
	index: usize,
	jobs: usize,
	price: u128,
) -> Result<()> {
	let mut nonce = chain_nonce(client, sender).await?;
	let deadline = client.best_number().await? + 2_000;
	for i in 0..jobs {
		let spec = JobSpec::seeded(
			GemmShape { m: 1024, n: 1024, k: 512 },
			[(index * 37 + i % 251) as u8; 32],
			Requirements { kernel: Kernel::GemmI8, min_vram_mib: 0, min_gops: 0 },
		);
		let call = runtime::tx().jobs().submit_job(Static(spec), price, deadline);
		loop {
			let params =
				DefaultExtrinsicParamsBuilder::<PolkadotConfig>::new().nonce(nonce).build();
			let mut transactions = client.at_best().await?.transactions();
			match transactions.sign_and_submit(&call, sender, params).await {
				Ok(_) => break,
				Err(e) => {
					// The pool is full (wait for blocks to take some), or the transaction got
					// in after all (the chain's nonce moved past it).
					tokio::time::sleep(Duration::from_millis(500)).await;
					if chain_nonce(client, sender).await? > nonce {
						break;
					}
					eprintln!("{}: job {i} refused, retrying: {e}", sender.address());
				}
			}
		}
		nonce += 1;
	}
	Ok(())
}
