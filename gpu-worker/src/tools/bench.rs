//! `proofgrid-worker bench`: times whole verified jobs (generate inputs, multiply, hash every
//! output leaf, build the Merkle tree) on square shapes, prints GOPS, and with `--verify`
//! checks that the root equals the CPU reference's. Each backend also reports its phases
//! (input generation, GEMM alone, hashing, tree, and for the GPU the download), each with its
//! share of the time, and where the CPU backend runs oneDNN, the library's GEMM alone on the
//! same product, against which the whole job is measured. Build with `--release`.

use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args;
use proofgrid_primitives::gemm::GemmShape;
use rayon::prelude::*;

use crate::backend::{self, cpu::CpuBackend, dot::DotPath, Backend, BackendKind};

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
	/// Also compute each job on the CPU reference with its portable dot product (the plain
	/// loop), check the roots are equal, and time it: the speed-up in the same run.
	#[arg(long)]
	verify: bool,
}

/// Best wall time of `repeat` runs of a whole job, and its root.
pub fn time_job(backend: &dyn Backend, shape: &GemmShape, repeat: u32) -> Result<(f64, [u8; 32])> {
	let mut best = f64::MAX;
	let mut root = [0u8; 32];
	for _ in 0..repeat.max(1) {
		let started = Instant::now();
		let mut level = backend.leaf_hashes(shape, &[7; 32])?;
		// The tree as a job builds it (`output.rs`): levels in parallel pieces, in memory here.
		while level.len() > 1 {
			level = level
				.par_chunks(1 << 12)
				.flat_map_iter(crate::backend::hashing::parent_level)
				.collect();
		}
		root = level[0];
		best = best.min(started.elapsed().as_secs_f64());
	}
	Ok((best, root))
}

pub fn run(args: BenchArgs) -> Result<()> {
	let devices = backend::select(args.backend, args.threads, u64::MAX >> 20)?;
	let reference = CpuBackend::new(args.threads, u64::MAX >> 20)?
		.with_dot(DotPath::Portable)
		.expect("the portable path runs everywhere");
	let mut mismatches = 0;
	for device in &devices {
		println!("backend: {}", device.name());
		println!(
			"{:>6} {:>10} {:>10} {:>10}  {:<18} {}",
			"size",
			"leaves",
			"best (s)",
			"GOPS",
			"root",
			if args.verify { "CPU reference" } else { "" }
		);
		for &size in &args.sizes {
			let shape = GemmShape { m: size, n: size, k: size };
			if !device.fits(&shape) {
				println!("{size:>6}  does not fit {}", device.name());
				continue;
			}
			let (seconds, root) = time_job(device.as_ref(), &shape, args.repeat)?;
			let gops = shape.ops() as f64 / 1e9 / seconds;
			let mut line = format!(
				"{size:>6} {:>10} {seconds:>10.3} {gops:>10.1}  {:<18}",
				shape.leaf_count(),
				hex::encode(&root[..8])
			);
			if args.verify {
				let (cpu_seconds, cpu_root) = time_job(&reference, &shape, 1)?;
				let equal = cpu_root == root;
				mismatches += usize::from(!equal);
				line += &format!(
					" {} ({cpu_seconds:.3} s, {:.1}x)",
					if equal { "root equal" } else { "ROOT DIFFERS" },
					cpu_seconds / seconds
				);
			}
			println!("{line}");
			if let Some(phases) = device.phases(&shape, &[7; 32]) {
				let p = phases?;
				let gops = |seconds: f64| shape.ops() as f64 / 1e9 / seconds.max(1e-12);
				let hashing = (p.gemm_and_hash - p.gemm).max(0.0);
				let whole = p.generate + p.gemm_and_hash + p.download + p.tree;
				let share = |seconds: f64| 100.0 * seconds / whole.max(1e-12);
				println!(
					"        phases: generate {:.4} s ({:.0}%), GEMM {:.4} s ({:.0}%, {:.1} GOPS alone), hashing {:.4} s ({:.0}%), tree {:.4} s ({:.0}%), download {:.4} s; {:.1} GOPS in all",
					p.generate,
					share(p.generate),
					p.gemm,
					share(p.gemm),
					gops(p.gemm),
					hashing,
					share(hashing),
					p.tree,
					share(p.tree),
					p.download,
					gops(whole)
				);
				if let (Some((device_tree, _)), Some(on_device)) = (p.device_tree, p.on_device()) {
					println!(
						"        tree on the device: {device_tree:.4} s (on the host: {:.4} s), same root; the job on the device alone (inputs, GEMM, hashes, tree): {on_device:.4} s, {:.1} GOPS",
						p.tree,
						gops(on_device)
					);
				}
				if let Some((library, library_seconds)) = &p.library_gemm {
					println!(
						"        {library} GEMM alone: {library_seconds:.4} s, {:.1} GOPS; the whole job runs at {:.0}% of it",
						gops(*library_seconds),
						100.0 * library_seconds / seconds
					);
					if let Some(on_device) = p.on_device() {
						println!(
							"        the job on the device alone runs at {:.0}% of it",
							100.0 * library_seconds / on_device
						);
					}
				}
			}
		}
	}
	if mismatches > 0 {
		bail!("{mismatches} root(s) differ from the CPU reference");
	}
	Ok(())
}
