//! `proofgrid-worker limits`: the largest jobs this host's devices accept on a given chain —
//! the largest cube (m = n = k) and the widest output (m = n, k = 1) — with the check that
//! stops the next size up, the estimated time and the commit window's; with `--run`, each
//! largest job is computed (output streamed to disk, as a real job) and timed.

use std::{path::PathBuf, time::Instant};

use anyhow::{Context, Result};
use clap::Args;
use proofgrid_client::Client;
use proofgrid_primitives::gemm::{GemmShape, MAX_DIM, MAX_K};

use crate::{
	backend::{self, Backend, BackendKind, Inputs},
	device::{
		admission::{largest, Capacity},
		throughput,
	},
	store::output::{tree_bytes, OutputWriter},
};

#[derive(Args)]
pub struct LimitsArgs {
	/// Node WebSocket RPC (the chain's market parameters size the commit windows).
	#[arg(long, default_value = "ws://127.0.0.1:9944")]
	url: String,
	/// Backend to size.
	#[arg(long, value_enum, default_value = "auto")]
	backend: BackendKind,
	/// CPU backend threads (0: one per core).
	#[arg(long, default_value_t = 0)]
	threads: usize,
	/// Largest memory one job may take, MiB (as for `run`).
	#[arg(long, default_value_t = 4096)]
	memory_mib: u64,
	/// Most disk one job's output tree may take, MiB (as for `run`).
	#[arg(long, default_value_t = 16_384)]
	disk_mib: u64,
	/// Directory whose free disk counts (the worker's base path), and where `--run` writes.
	#[arg(long, default_value = "proofgrid-worker-data")]
	base_path: PathBuf,
	/// Also compute each largest job and print its measured time.
	#[arg(long)]
	run: bool,
}

/// One family of shapes: its name, its largest size and the shape of a size.
type Family = (&'static str, u32, fn(u32) -> GemmShape);

const FAMILIES: [Family; 2] = [
	("cube m = n = k", MAX_K, |s| GemmShape { m: s, n: s, k: s }),
	("widest m = n, k = 1", MAX_DIM, |s| GemmShape { m: s, n: s, k: 1 }),
];

pub async fn run(args: LimitsArgs) -> Result<()> {
	let client = Client::connect(&args.url).await?;
	let market = client.market_params().await.context("reading the market's parameters")?;
	std::fs::create_dir_all(&args.base_path)?;
	let free_disk = fs2::available_space(&args.base_path)?;
	println!(
		"chain: commit window {} + compute blocks (at most {}), {} ms blocks (observed; the runtime's target is {} ms), {} ops per leaf",
		market.base_commit_window,
		market.max_commit_window,
		market.block_ms,
		market.millisecs_per_block,
		market.ops_per_leaf
	);
	println!("disk free at {}: {} MiB", args.base_path.display(), free_disk >> 20);
	for device in backend::select(args.backend, args.threads, args.memory_mib)? {
		let scratch = args.base_path.join("limits");
		std::fs::create_dir_all(&scratch)?;
		let gops = throughput::measured_gops(device.as_ref(), &scratch.join("gops.json"))?;
		println!("\nbackend: {} ({gops} GOPS measured)", device.name());
		let capacity = Capacity {
			backend: device.as_ref(),
			market: &market,
			chain_gops: throughput::advertised(gops),
			gops,
			free_disk: Some(free_disk),
			max_output: args.disk_mib.saturating_mul(1 << 20),
		};
		for (name, max, shape) in FAMILIES {
			let Some((job, next)) = largest(&capacity, max, shape) else {
				println!("{name}: nothing accepted");
				continue;
			};
			let (estimate, window) = capacity.time(&job);
			println!(
				"{name}: {}×{}×{} ({:.2e} ops, {} leaves, output tree {} MiB): estimated {estimate:.1} s \
				 of a {:.0} s commit window",
				job.m,
				job.n,
				job.k,
				job.ops() as f64,
				job.leaf_count(),
				tree_bytes(job.leaf_count()).div_ceil(1 << 20),
				// At the pace the chain keeps now, not the runtime's target.
				window.unwrap_or_default() * market.block_ms as f64
					/ market.millisecs_per_block as f64,
			);
			println!("  next size refused: {}", next.as_deref().unwrap_or("(largest valid shape)"));
			if args.run {
				let seconds = compute(device.as_ref(), &job, &scratch.join("largest"))?;
				println!("  measured: {seconds:.1} s ({:.2} of the estimate)", seconds / estimate);
			}
		}
		std::fs::remove_dir_all(&scratch)?;
	}
	Ok(())
}

/// Computes a job of `shape` into an output tree at `path` as a real job would, in seconds.
fn compute(device: &dyn Backend, shape: &GemmShape, path: &std::path::Path) -> Result<f64> {
	let started = Instant::now();
	let mut writer = OutputWriter::create(path)?;
	device.write_leaf_hashes(shape, Inputs::Seeded(&[7; 32]), &mut writer)?;
	writer.finish(shape.leaf_count())?;
	let seconds = started.elapsed().as_secs_f64();
	std::fs::remove_file(path)?;
	Ok(seconds)
}
