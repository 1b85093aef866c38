//! Writes `gpu-worker/golden/roots.json`: seeded jobs on ragged shapes (and the longest inner
//! dimension) with their Merkle roots, computed by the CPU reference on its portable path (the
//! plain loop of `proofgrid-primitives`' definition). `gpu-selftest` checks every GPU against
//! them; the unit test `the_golden_roots_are_the_cpu_references` keeps the file honest.
//!
//! `cargo run --release -p proofgrid-worker --example golden_roots > gpu-worker/golden/roots.json`

use proofgrid_primitives::gemm::{GemmShape, MAX_K};
use proofgrid_worker::{
	backend::{cpu::CpuBackend, dot::DotPath},
	selftest::{root_of, GoldenRoot},
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
		golden.push(GoldenRoot { m, n, k, seed: hex::encode(seed), root: hex::encode(root) });
	}
	println!("{}", serde_json::to_string_pretty(&golden)?);
	Ok(())
}
