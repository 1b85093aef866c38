//! Writes `gpu-worker/golden/roots.json`: seeded jobs on ragged shapes (and the longest inner
//! dimension), and supplied jobs of constant inputs at the extremes (sums at or near ±2³⁰; all
//! 127 also catches a GEMM that sums in f32, 16 129 being odd), with their
//! Merkle roots, computed by the CPU reference on its portable path (the
//! plain loop of `proofgrid-primitives`' definition). `gpu-selftest` checks every GPU against
//! them; the unit test `the_golden_roots_are_the_cpu_references` keeps the file honest.
//!
//! `cargo run --release -p proofgrid-worker --example golden_roots > gpu-worker/golden/roots.json`

use proofgrid_primitives::gemm::{GemmShape, MAX_K};
use proofgrid_worker::{
	backend::{cpu::CpuBackend, dot::DotPath},
	tools::selftest::{root_of, GoldenRoot},
};

fn main() -> anyhow::Result<()> {
	let reference = CpuBackend::new(0, 1 << 14)?.with_dot(DotPath::Portable).expect("portable");
	let shapes = [
		(1, 1, 1),
		(4, 4, 1),
		(5, 7, 3),
		(33, 17, 65),
		(64, 3, 200),
		(129, 67, 1000),
		(300, 260, 515),
		(13, 9, MAX_K),
	];
	let mut golden = Vec::new();
	for (i, (m, n, k)) in shapes.into_iter().enumerate() {
		let seed = [0x60 + i as u8; 32];
		let root = root_of(&reference, &GemmShape { m, n, k }, &seed)?;
		let seed = Some(hex::encode(seed));
		golden.push(GoldenRoot { m, n, k, seed, fill: None, root: hex::encode(root) });
	}
	for (m, n, k, fill) in
		[(16, 16, MAX_K, [-128, -128]), (5, 7, MAX_K, [127, -128]), (7, 5, MAX_K, [127, 127])]
	{
		let mut job = GoldenRoot { m, n, k, seed: None, fill: Some(fill), root: String::new() };
		job.root = hex::encode(job.root_on(&reference)?);
		golden.push(job);
	}
	println!("{}", serde_json::to_string_pretty(&golden)?);
	Ok(())
}
