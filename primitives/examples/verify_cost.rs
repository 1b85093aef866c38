//! Prints what verifying one reveal costs natively: recomputing the challenged leaves of a
//! seeded GEMM and checking their Merkle paths, as the runtime does, plus the reveal's size.
//!
//! `cargo run --release -p proofgrid-primitives --example verify_cost [samples] [dim]`
//! (defaults: 64 samples, m = n = k = 4096). The output tree is not built: only the challenged
//! leaves are real and the other subtrees are constant, which costs the verifier the same.

use std::{collections::BTreeMap, time::Instant};

use proofgrid_primitives::{
	gemm::{encode_leaf, seeded_leaf, GemmShape},
	merkle::{hash_leaf, hash_node, proof_len, verify, Hash32},
};

fn main() {
	let mut args = std::env::args().skip(1);
	let samples: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(64);
	let dim: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(4096);
	let shape = GemmShape { m: dim, n: dim, k: dim };
	let seed = [7u8; 32];
	let leaves = shape.leaf_count();
	assert!(leaves.is_power_of_two(), "use a power-of-two dimension");
	let depth = leaves.trailing_zeros() as usize;

	// Prover side (not timed): a sparse tree with `samples` real leaves.
	let indices: Vec<u64> = (0..samples).map(|i| i * (leaves / samples)).collect();
	let mut empty = vec![[0u8; 32]];
	for l in 0..depth {
		empty.push(hash_node(&empty[l], &empty[l]));
	}
	let mut levels: Vec<BTreeMap<u64, Hash32>> = vec![indices
		.iter()
		.map(|&i| (i, hash_leaf(&encode_leaf(&seeded_leaf(&shape, &seed, i)))))
		.collect()];
	for l in 0..depth {
		let below = &levels[l];
		let get = |i: u64| below.get(&i).copied().unwrap_or(empty[l]);
		let above = below.keys().map(|&i| (i / 2, hash_node(&get(i & !1), &get(i | 1)))).collect();
		levels.push(above);
	}
	let root = levels[depth][&0];
	let paths: Vec<Vec<Hash32>> = indices
		.iter()
		.map(|&i| {
			(0..depth)
				.map(|l| levels[l].get(&((i >> l) ^ 1)).copied().unwrap_or(empty[l]))
				.collect()
		})
		.collect();

	// Verifier side, timed: what the runtime does per reveal.
	let runs = 5;
	let started = Instant::now();
	for _ in 0..runs {
		for (&i, path) in indices.iter().zip(&paths) {
			let leaf = seeded_leaf(&shape, &seed, i);
			verify(&root, leaves, i, hash_leaf(&encode_leaf(&leaf)), path).expect("valid");
		}
	}
	let per_reveal = started.elapsed() / runs;

	let path_len = proof_len(leaves, 0).expect("non-empty");
	// SCALE: compact length prefixes, 32-byte hashes, plus job id, witness and the signed
	// extrinsic's envelope (~150 bytes).
	let reveal_bytes = 1 + samples as usize * (1 + path_len * 32) + 8 + 4 + 150;
	println!(
		"shape {dim}x{dim}x{dim}: {leaves} leaves, {path_len}-sibling paths, {samples} samples"
	);
	println!("native verification: {:.2} ms per reveal", per_reveal.as_secs_f64() * 1e3);
	println!(
		"  = {:.3}% of a 2 s block natively (the runtime runs it in wasm: expect a small multiple)",
		per_reveal.as_secs_f64() / 2.0 * 100.0
	);
	println!("reveal extrinsic: ~{reveal_bytes} bytes ({:.1} KB)", reveal_bytes as f64 / 1024.0);
}
