//! `proofgrid-worker bench`: times whole jobs (generate, multiply, hash) on square shapes and
//! prints GOPS. Build with `--release` for meaningful figures.

use std::time::Instant;

use anyhow::Result;
use clap::Args;
use proofgrid_primitives::{gemm::GemmShape, merkle::MerkleTree};

use crate::backend::{self, BackendKind};

#[derive(Args)]
pub struct BenchArgs {
	/// Backend to time.
	#[arg(long, value_enum, default_value = "cpu")]
	backend: BackendKind,
	/// Square sizes m = n = k, comma separated.
	#[arg(long, value_delimiter = ',', default_value = "256,512,1024")]
	sizes: Vec<u32>,
	/// CPU threads (0: one per core).
	#[arg(long, default_value_t = 0)]
	threads: usize,
	/// Repetitions per size (the best is reported).
	#[arg(long, default_value_t = 3)]
	repeat: u32,
}

pub fn run(args: BenchArgs) -> Result<()> {
	let backend = backend::select(args.backend, args.threads, u64::MAX >> 20)?
		.into_iter()
		.next()
		.expect("at least one device");
	println!("backend: {}", backend.name());
	println!("{:>6} {:>10} {:>12} {:>10}", "size", "leaves", "best (s)", "GOPS");
	for size in args.sizes {
		let shape = GemmShape { m: size, n: size, k: size };
		let mut best = f64::MAX;
		let mut root = [0u8; 32];
		for _ in 0..args.repeat.max(1) {
			let started = Instant::now();
			let leaves = backend.leaf_hashes(&shape, &[7; 32], None)?;
			root = MerkleTree::from_leaf_hashes(leaves).expect("non-empty").root();
			best = best.min(started.elapsed().as_secs_f64());
		}
		println!(
			"{size:>6} {:>10} {best:>12.3} {:>10.1}   root {}",
			shape.leaf_count(),
			shape.ops() as f64 / 1e9 / best,
			hex::encode(&root[..8])
		);
	}
	Ok(())
}
