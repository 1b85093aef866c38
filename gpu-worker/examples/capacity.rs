//! The chain's capacity, measured in one run: how many balance transfers, and how many whole job
//! lifecycles, a block holds. `scripts/capacity.sh` starts a release `proofgrid-node --dev
//! --sealing manual` (the production runtime and its block limits; blocks made on request) and
//! runs this against it:
//!
//! ```sh
//! cargo run --release -p proofgrid-worker --example capacity -- --url ws://127.0.0.1:9944
//! ```
//!
//! Each phase puts all its transactions in the pool, then makes blocks until they are all in:
//! transfers; then, for seeded 1024³ jobs and for jobs on supplied inputs at k = 1024 and 4096,
//! the submissions, the claims, the commits and the reveals, each phase after the other. The
//! outputs are computed beforehand, by the CPU backend (seeded jobs, each its own) and by the
//! reference (supplied jobs: one pair of matrices serves them all), so the measurement is the
//! chain's, not this machine's GEMM speed.
//!
//! Per block it prints what the block holds, its weight and length against the limits, the time
//! `engine_createBlock` took (building and importing it), and what ended the block: weight,
//! length, or an empty pool.

use std::{collections::BTreeMap, time::Instant};

use anyhow::{bail, ensure, Context, Result};
use clap::Parser;
use proofgrid_client::{runtime, Client, Keypair, H256};
use proofgrid_primitives::{
	challenge::challenge_seed,
	device::{registration_message, Kernel, Requirements},
	gemm::GemmShape,
	inputs::challenged_elements,
	job::{InputSource, JobInputs, JobSpec, Reveal},
	merkle::MerkleTree,
	testing::supplied::SuppliedJob,
};
use proofgrid_worker::backend::{cpu::CpuBackend, Backend};
use subxt::{config::DefaultExtrinsicParamsBuilder, tx::Payload, utils::Static, PolkadotConfig};

use proofgrid_primitives::currency::GRID;

#[derive(Parser)]
struct Args {
	/// The node's WebSocket RPC (its HTTP RPC is the same port).
	#[arg(long, default_value = "ws://127.0.0.1:9944")]
	url: String,
	/// Balance transfers to put in the pool.
	#[arg(long, default_value_t = 12_000)]
	transfers: u32,
	/// Seeded 1024³ jobs (four per device).
	#[arg(long, default_value_t = 240)]
	seeded: u32,
	/// Jobs on supplied inputs with k = 1024 (1024 × 1024 outputs).
	#[arg(long, default_value_t = 64)]
	supplied_1024: u32,
	/// Jobs on supplied inputs with k = 4096 (512 × 512 outputs).
	#[arg(long, default_value_t = 24)]
	supplied_4096: u32,
	/// Accounts sending the transfers.
	#[arg(long, default_value_t = 24)]
	senders: u32,
	/// CPU threads for the outputs.
	#[arg(long, default_value_t = 2)]
	threads: usize,
}

/// A block's limits, from the runtime's constants.
struct Limits {
	max_block: u64,
	max_normal: u64,
	max_length_normal: u64,
	max_length: u64,
}

/// One block of a phase.
struct Row {
	number: u32,
	count: usize,
	normal: f64,
	total: f64,
	length: f64,
	build_ms: f64,
	limit: &'static str,
}

/// What a phase's blocks held.
struct Phase {
	name: String,
	rows: Vec<Row>,
}

/// What one transaction of a phase takes of a block, in percent: of the normal class's weight,
/// of the whole block's weight, of the block's length.
#[derive(Clone, Copy, Default)]
struct Share {
	normal: f64,
	total: f64,
	length: f64,
}

impl Share {
	fn add(self, other: Share) -> Share {
		Share {
			normal: self.normal + other.normal,
			total: self.total + other.total,
			length: self.length + other.length,
		}
	}

	/// How many of these fit in a block, and the resource that runs out first.
	fn per_block(self) -> (f64, &'static str) {
		[(self.normal, "weight (normal class)"), (self.total, "weight"), (self.length, "length")]
			.into_iter()
			.filter(|(share, _)| *share > 0.0)
			.map(|(share, what)| (100.0 / share, what))
			.min_by(|a, b| a.0.total_cmp(&b.0))
			.unwrap_or((f64::INFINITY, "nothing"))
	}
}

impl Phase {
	/// A transaction's share of a block, measured over all the phase's blocks.
	fn share(&self) -> Share {
		let count = self.rows.iter().map(|r| r.count).sum::<usize>().max(1) as f64;
		let sum = |f: fn(&Row) -> f64| self.rows.iter().map(f).sum::<f64>() / count;
		Share { normal: sum(|r| r.normal), total: sum(|r| r.total), length: sum(|r| r.length) }
	}

	/// The most transactions a block of the phase held.
	fn most(&self) -> usize {
		self.rows.iter().map(|r| r.count).max().unwrap_or(0)
	}
}

struct Bench {
	client: Client,
	http: reqwest::Client,
	http_url: String,
	limits: Limits,
	phases: Vec<Phase>,
}

impl Bench {
	async fn rpc(&self, method: &str, params: serde_json::Value) -> Result<serde_json::Value> {
		let body =
			serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
		let reply = self
			.http
			.post(&self.http_url)
			.header("content-type", "application/json")
			.body(serde_json::to_vec(&body)?)
			.send()
			.await?
			.bytes()
			.await?;
		let mut reply: serde_json::Value = serde_json::from_slice(&reply)?;
		if let Some(error) = reply.get("error") {
			bail!("{method}: {error}");
		}
		Ok(reply["result"].take())
	}

	/// Makes a block of what the pool holds; returns its number and how long it took.
	async fn create_block(&self) -> Result<(u32, f64)> {
		let started = Instant::now();
		self.rpc("engine_createBlock", serde_json::json!([true, true, null])).await?;
		let took = started.elapsed().as_secs_f64() * 1e3;
		Ok((self.client.best_number().await?, took))
	}

	/// Makes blocks until `expected` events of the phase are in, counting them with `count`
	/// (which also collects what the phase needs from them); records a row per block.
	async fn fill<F>(&mut self, name: &str, expected: usize, mut count: F) -> Result<()>
	where
		F: FnMut(&subxt::events::Events<PolkadotConfig>) -> Result<usize>,
	{
		let mut rows = Vec::new();
		let (mut done, mut idle) = (0, 0);
		while done < expected {
			let (number, build_ms) = self.create_block().await?;
			let at = self.client.at(number).await?;
			let events = at.events().fetch().await?;
			let n = count(&events)?;
			done += n;
			idle = if n == 0 { idle + 1 } else { 0 };
			ensure!(idle < 3, "{name}: three blocks without progress ({done} of {expected} in)");
			let weight = at
				.storage()
				.try_fetch(runtime::storage().system().block_weight(), ())
				.await?
				.context("no BlockWeight")?
				.decode()?;
			let block = self
				.rpc("chain_getBlock", serde_json::json!([format!("{:?}", at.block_hash())]))
				.await?;
			let length: u64 = block["block"]["extrinsics"]
				.as_array()
				.context("extrinsics")?
				.iter()
				.map(|x| x.as_str().map_or(0, |h| (h.len() as u64 - 2) / 2))
				.sum();
			let all =
				weight.normal.ref_time + weight.operational.ref_time + weight.mandatory.ref_time;
			let l = &self.limits;
			let row = Row {
				number,
				count: n,
				normal: 100.0 * weight.normal.ref_time as f64 / l.max_normal as f64,
				total: 100.0 * all as f64 / l.max_block as f64,
				length: 100.0 * length as f64 / l.max_length as f64,
				build_ms,
				limit: if done >= expected {
					"pool"
				} else if length as f64 >= 0.9 * l.max_length_normal as f64 {
					"length"
				} else if weight.normal.ref_time as f64 >= 0.9 * l.max_normal as f64
					|| all as f64 >= 0.9 * l.max_block as f64
				{
					"weight"
				} else {
					"time or pool"
				},
			};
			println!(
				"{name:<28} #{:<5} {:>6} in block  weight: normal {:5.1}% all {:5.1}%  length {:5.1}%  built in {:7.1} ms  ended by {}",
				row.number, row.count, row.normal, row.total, row.length, row.build_ms, row.limit
			);
			rows.push(row);
		}
		self.phases.push(Phase { name: name.to_string(), rows });
		Ok(())
	}
}

/// Submits each `(signer, call)` with the signer's next nonces, without waiting, several
/// signers at once.
async fn submit_all<C: Payload + Send + Sync + 'static>(
	client: &Client,
	batches: Vec<(Keypair, Vec<C>)>,
) -> Result<()> {
	let mut tasks = Vec::new();
	for (signer, calls) in batches {
		let client = client.clone();
		tasks.push(tokio::spawn(async move {
			let at = client.at_best().await?;
			let nonce_call =
				runtime::runtime_apis().account_nonce_api().account_nonce(signer.account());
			let mut nonce: u64 = at.runtime_apis().call(nonce_call).await?.into();
			let mut transactions = at.transactions();
			for call in calls {
				// Immortal: with blocks made on request, the best block's hash is not yet in the
				// chain's block-hash map that a mortal transaction's birth block is looked up in.
				let params = || {
					DefaultExtrinsicParamsBuilder::<PolkadotConfig>::new()
						.nonce(nonce)
						.immortal()
						.build()
				};
				// The pool learns of a new block shortly after `engine_createBlock` returns and
				// validates against the block before until then: retry a little.
				let mut tries = 0;
				while let Err(e) = transactions.sign_and_submit(&call, &signer, params()).await {
					tries += 1;
					if tries == 50 {
						// Debug: the node's reason is in the error's data, which Display omits.
						bail!("{} nonce {nonce}: {e:?}", signer.address());
					}
					tokio::time::sleep(std::time::Duration::from_millis(100)).await;
				}
				nonce += 1;
			}
			anyhow::Ok(())
		}));
	}
	for task in tasks {
		task.await??;
	}
	Ok(())
}

fn keypair(role: &str, i: u32) -> Keypair {
	Keypair::from_suri(&format!("//capacity-{role}-{i}")).expect("a valid derivation")
}

/// One kind of job whose lifecycles are measured.
enum Kind {
	/// Seeded, of this shape.
	Seeded(GemmShape),
	/// On these supplied inputs (the same for every job).
	Supplied(Box<SuppliedJob>),
}

impl Kind {
	fn spec(&self, i: u32) -> JobSpec {
		let requirements = Requirements { kernel: Kernel::GemmI8, min_vram_mib: 0, min_gops: 0 };
		match self {
			Kind::Seeded(shape) => JobSpec::seeded(*shape, [i as u8; 32], requirements),
			Kind::Supplied(job) => JobSpec {
				shape: job.shape,
				inputs: JobInputs::Supplied {
					matrices: job.inputs,
					a: InputSource::Upload,
					b: InputSource::Upload,
					samples: 64,
					public_output: false,
				},
				requirements,
			},
		}
	}
}

#[tokio::main]
async fn main() -> Result<()> {
	let args = Args::parse();
	let client = Client::connect(&args.url).await?;
	let http_url = args.url.replacen("ws://", "http://", 1);
	let at = client.at_best().await?;
	let constants = at.constants();
	let weights = constants.entry(runtime::constants().system().block_weights())?;
	let length = constants.entry(runtime::constants().system().block_length())?;
	let limits = Limits {
		max_block: weights.max_block.ref_time,
		max_normal: weights
			.per_class
			.normal
			.max_total
			.map_or(weights.max_block.ref_time, |w| w.ref_time),
		max_length_normal: length.max.normal.into(),
		max_length: length.max.operational.into(),
	};
	let mut bench = Bench {
		client: client.clone(),
		http: reqwest::Client::new(),
		http_url,
		limits,
		phases: vec![],
	};
	let market = client.market_params().await?;
	let price = market.min_price_per_unit;

	// Accounts: transfer senders, job clients, device owners (64 devices each at most) and
	// devices; all funded by Alice.
	let needed = args
		.seeded
		.div_ceil(4)
		.max(args.supplied_1024.div_ceil(4) + args.supplied_4096.div_ceil(4));
	let devices: Vec<Keypair> = (0..needed).map(|i| keypair("device", i)).collect();
	let owners: Vec<Keypair> =
		(0..devices.len().div_ceil(64) as u32).map(|i| keypair("owner", i)).collect();
	let senders: Vec<Keypair> = (0..args.senders).map(|i| keypair("sender", i)).collect();
	let clients: Vec<Keypair> = (0..8).map(|i| keypair("client", i)).collect();
	let mut funding = Vec::new();
	let transfer = |to: &Keypair, amount: u128| {
		runtime::tx().balances().transfer_keep_alive(to.account().into(), amount)
	};
	for s in &senders {
		funding.push(transfer(s, 10_000 * GRID));
	}
	for c in &clients {
		funding.push(transfer(c, 10_000 * GRID));
	}
	for o in &owners {
		funding.push(transfer(o, 100 * GRID * 70));
	}
	for d in &devices {
		funding.push(transfer(d, 10 * GRID));
	}
	let funded = funding.len();
	println!("funding {funded} accounts");
	submit_all(&client, vec![(Keypair::from_suri("//Alice")?, funding)]).await?;
	let transfers = |events: &subxt::events::Events<PolkadotConfig>| -> Result<usize> {
		Ok(events.find::<runtime::balances::events::Transfer>().count())
	};
	bench.fill("setup: funding", funded, transfers).await?;

	// Devices: registered by their owners, as the CPU backend describes itself.
	let backend = CpuBackend::new(args.threads, 8 * 1024)?;
	let genesis = client.genesis_hash();
	let mut registrations: BTreeMap<usize, (Keypair, Vec<_>)> = BTreeMap::new();
	for (i, device) in devices.iter().enumerate() {
		let owner = &owners[i / 64];
		let owner_id = sp_core::crypto::AccountId32::from(owner.account().0);
		let message = registration_message(&owner_id, &genesis.0);
		let call = runtime::tx().devices().register(
			device.account(),
			Static(backend.spec()),
			price,
			runtime::runtime_types::sp_runtime::MultiSignature::Sr25519(
				device.sign_bytes(&message),
			),
		);
		registrations.entry(i / 64).or_insert_with(|| (owner.clone(), vec![])).1.push(call);
	}
	submit_all(&client, registrations.into_values().collect()).await?;
	bench
		.fill("setup: devices", devices.len(), |e| {
			Ok(e.find::<runtime::devices::events::Registered>().count())
		})
		.await?;

	// (a) Transfers: 1 planck each from many senders to many receivers.
	let per_sender = args.transfers.div_ceil(args.senders);
	let batches = senders
		.iter()
		.enumerate()
		.map(|(i, s)| {
			let to = &senders[(i + 1) % senders.len()];
			(s.clone(), (0..per_sender).map(|_| transfer(to, GRID / 1000)).collect::<Vec<_>>())
		})
		.collect();
	println!("submitting {} transfers", per_sender * args.senders);
	let started = Instant::now();
	submit_all(&client, batches).await?;
	println!("in the pool in {:.1} s", started.elapsed().as_secs_f64());
	bench.fill("transfers", (per_sender * args.senders) as usize, transfers).await?;

	// (b) Lifecycles.
	let seeded = Kind::Seeded(GemmShape { m: 1024, n: 1024, k: 1024 });
	lifecycles(
		&mut bench,
		&backend,
		&devices,
		&clients,
		price,
		"seeded 1024³",
		seeded,
		args.seeded,
	)
	.await?;
	let started = Instant::now();
	let supplied = Kind::Supplied(Box::new(SuppliedJob::new(1024, 1024, 1024, 1)));
	println!(
		"supplied inputs k = 1024: output computed in {:.1} s",
		started.elapsed().as_secs_f64()
	);
	lifecycles(
		&mut bench,
		&backend,
		&devices,
		&clients,
		price,
		"supplied k=1024",
		supplied,
		args.supplied_1024,
	)
	.await?;
	// Verified supplied jobs hold their devices' job slots until they settle, at the end of
	// their dispute window: the next kind goes to other devices.
	let supplied = Kind::Supplied(Box::new(SuppliedJob::new(512, 512, 4096, 2)));
	let free = args.supplied_1024.div_ceil(4) as usize;
	lifecycles(
		&mut bench,
		&backend,
		&devices[free..],
		&clients,
		price,
		"supplied k=4096",
		supplied,
		args.supplied_4096,
	)
	.await?;

	summary(&bench.phases);
	Ok(())
}

/// Submits `count` jobs of `kind`, has the devices claim them (four each), computes their
/// outputs, commits and reveals them: a phase per step.
#[allow(clippy::too_many_arguments)]
async fn lifecycles(
	bench: &mut Bench,
	backend: &CpuBackend,
	devices: &[Keypair],
	clients: &[Keypair],
	price: u128,
	name: &str,
	kind: Kind,
	count: u32,
) -> Result<()> {
	if count == 0 {
		return Ok(());
	}
	let client = bench.client.clone();
	let deadline = client.best_number().await? + 1_000;
	let mut submissions: Vec<(Keypair, Vec<_>)> =
		clients.iter().map(|c| (c.clone(), vec![])).collect();
	for i in 0..count {
		let call = runtime::tx().jobs().submit_job(Static(kind.spec(i)), price, deadline);
		submissions[i as usize % clients.len()].1.push(call);
	}
	submit_all(&client, submissions).await?;
	let mut jobs = Vec::new();
	bench
		.fill(&format!("{name}: submit"), count as usize, |e| {
			let before = jobs.len();
			for s in e.find::<runtime::jobs::events::JobSubmitted>() {
				jobs.push(s?.job);
			}
			Ok(jobs.len() - before)
		})
		.await?;

	// Device i takes jobs 4i..4i+3.
	let mut claims: Vec<(Keypair, Vec<_>)> = Vec::new();
	for (chunk, device) in jobs.chunks(4).zip(devices) {
		claims.push((
			device.clone(),
			chunk.iter().map(|&job| runtime::tx().jobs().claim(job, None)).collect(),
		));
	}
	ensure!(claims.len() * 4 >= jobs.len(), "too few devices for {} jobs", jobs.len());
	submit_all(&client, claims).await?;
	bench
		.fill(&format!("{name}: claim"), jobs.len(), |e| {
			Ok(e.find::<runtime::jobs::events::JobAssigned>().count())
		})
		.await?;

	// The outputs, as the chain stores the jobs after their claims.
	let started = Instant::now();
	let mut trees = Vec::new();
	for &job in &jobs {
		let info = client.job(job).await?.context("the job is gone")?;
		let tree = match (&kind, info.spec.0.seed()) {
			(Kind::Seeded(shape), Some(seed)) => {
				MerkleTree::from_leaf_hashes(backend.leaf_hashes(shape, seed)?)
					.context("an output")?
			}
			(Kind::Supplied(fixture), None) => fixture.tree.clone(),
			_ => bail!("job {job} is not of the kind submitted"),
		};
		trees.push(tree);
	}
	println!("{name}: {} outputs computed in {:.1} s", jobs.len(), started.elapsed().as_secs_f64());
	let commits = jobs
		.chunks(4)
		.zip(trees.chunks(4))
		.zip(devices)
		.map(|((jobs, trees), device)| {
			let calls = jobs
				.iter()
				.zip(trees)
				.map(|(&job, tree)| runtime::tx().jobs().commit(job, H256(tree.root())))
				.collect();
			(device.clone(), calls)
		})
		.collect();
	submit_all(&client, commits).await?;
	bench
		.fill(&format!("{name}: commit"), jobs.len(), |e| {
			Ok(e.find::<runtime::jobs::events::JobCommitted>().count())
		})
		.await?;

	// The challenge block, then one more: its randomness is recorded when the next starts.
	bench.create_block().await?;
	bench.create_block().await?;
	let mut reveals_seeded: Vec<(Keypair, Vec<_>)> = Vec::new();
	let mut reveals_supplied: Vec<(Keypair, Vec<_>)> = Vec::new();
	for ((jobs, trees), device) in jobs.chunks(4).zip(trees.chunks(4)).zip(devices) {
		let (mut seeded, mut supplied) = (Vec::new(), Vec::new());
		for (&job, tree) in jobs.iter().zip(trees) {
			let challenge = client.final_challenge(job).await?.context("no challenge yet")?;
			match &kind {
				Kind::Seeded(shape) => {
					let paths = challenge
						.indices
						.iter()
						.map(|&i| {
							tree.proof(i)
								.map_err(|e| anyhow::anyhow!("{e:?}"))?
								.into_iter()
								.map(H256)
								.collect::<Vec<_>>()
								.try_into()
								.map_err(|_| anyhow::anyhow!("a path too deep"))
						})
						.collect::<Result<Vec<_>>>()?;
					let reveal = Reveal::Seeded(
						paths.try_into().map_err(|_| anyhow::anyhow!("too many paths"))?,
					);
					seeded.push(runtime::tx().jobs().reveal(
						job,
						challenge.block_hash,
						Static(reveal),
						shape.k,
					));
				}
				Kind::Supplied(fixture) => {
					let seed = challenge_seed(job, &tree.root(), &challenge.randomness.0);
					let elements = challenged_elements(&fixture.shape, &seed, 64);
					let reveal = Reveal::Supplied(fixture.reveal(&elements));
					supplied.push(runtime::tx().jobs().reveal(
						job,
						challenge.block_hash,
						Static(reveal),
						fixture.shape.k,
					));
				}
			}
		}
		reveals_seeded.push((device.clone(), seeded));
		reveals_supplied.push((device.clone(), supplied));
	}
	let revealed = |e: &subxt::events::Events<PolkadotConfig>| -> Result<usize> {
		let failed = e.find::<runtime::jobs::events::JobFailed>().count();
		ensure!(failed == 0, "{failed} jobs failed their reveal");
		Ok(e.find::<runtime::jobs::events::JobSettled>().count()
			+ e.find::<runtime::jobs::events::JobVerified>().count())
	};
	match kind {
		Kind::Seeded(_) => submit_all(&client, reveals_seeded).await?,
		Kind::Supplied(_) => submit_all(&client, reveals_supplied).await?,
	}
	bench.fill(&format!("{name}: reveal"), jobs.len(), revealed).await?;
	Ok(())
}

fn summary(phases: &[Phase]) {
	println!(
		"\n| phase | blocks | most in a block | a block holds | limited by | build ms (max) |"
	);
	println!("|---|---:|---:|---:|---|---:|");
	let mut shares = BTreeMap::new();
	for phase in phases {
		let (per_block, limit) = phase.share().per_block();
		let build = phase.rows.iter().map(|r| r.build_ms).fold(0.0, f64::max);
		println!(
			"| {} | {} | {} | {per_block:.0} | {limit} | {build:.0} |",
			phase.name,
			phase.rows.len(),
			phase.most()
		);
		shares.insert(phase.name.clone(), phase.share());
	}
	let transfers = shares.get("transfers").map_or(0.0, |s| s.per_block().0);
	println!();
	for kind in ["seeded 1024³", "supplied k=1024", "supplied k=4096"] {
		let steps: Vec<Share> = ["submit", "claim", "commit", "reveal"]
			.iter()
			.filter_map(|s| shares.get(&format!("{kind}: {s}")).copied())
			.collect();
		if steps.len() < 4 {
			continue;
		}
		// A block of whole lifecycles holds one of each step per lifecycle.
		let (lifecycles, limit) = steps.into_iter().fold(Share::default(), Share::add).per_block();
		println!(
			"{kind}: {lifecycles:.0} whole lifecycles (submit, claim, commit, reveal) per block, limited by {limit}; {:.3} of the {transfers:.0} transfers a block holds",
			lifecycles / transfers.max(1.0)
		);
	}
}
