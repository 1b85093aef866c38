//! Freivalds' check of a downloaded output against recomputing it, in the same run:
//! `cargo run --release -p proofgrid-primitives --example freivalds_cost -- 1024 4096`.
//! All single-threaded, `C` recomputed with `gemm::dot` (the definition every backend is
//! checked against). For a GEMM, `check::freivalds` of `C`; for a `linear-i8` layer on the same
//! matrices, `check::check_layer` of `Y` with the accumulators as its hint. Prints numbers;
//! asserts only that the checks agree with the recomputation.

use std::time::Instant;

use proofgrid_primitives::{
	check::{check_layer, freivalds, DEFAULT_ROUNDS},
	gemm::{dot, mix64},
	linear::Requant,
};

fn main() {
	let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
	let sizes = if sizes.is_empty() { vec![1024] } else { sizes };
	println!(
		"size³   GEMM (dot, 1 thread)   Freivalds ({DEFAULT_ROUNDS} rounds)   ratio     layer check   ratio"
	);
	let requant = Requant { multiplier: 1 << 30, shift: 40, relu: true };
	for n in sizes {
		let lanes = |salt: u64| -> Vec<i8> {
			(0..(n * n) as u64).map(|i| (mix64(i ^ salt) >> 56) as i8).collect()
		};
		let (rows, columns) = (lanes(1), lanes(2));
		let started = Instant::now();
		let c: Vec<i32> = rows
			.chunks(n)
			.flat_map(|row| columns.chunks(n).map(move |col| dot(row, col)))
			.collect();
		let gemm = started.elapsed().as_secs_f64();
		let started = Instant::now();
		let checked = freivalds(&rows, &columns, &c, n, 0x5eed, DEFAULT_ROUNDS);
		let check = started.elapsed().as_secs_f64();
		assert_eq!(checked, Ok(()));
		let bias: Vec<i32> = (0..n as i32).map(|j| (j - 64) * 1000).collect();
		let y: Vec<i8> =
			c.iter().enumerate().map(|(i, &a)| requant.apply(a, bias[i % n])).collect();
		let started = Instant::now();
		let layer =
			check_layer(&rows, &columns, &bias, &requant, &c, &y, n, 0x5eed, DEFAULT_ROUNDS);
		let layer_check = started.elapsed().as_secs_f64();
		assert_eq!(layer, Ok(()));
		println!(
			"{n:>5}   {gemm:>10.3} s           {check:>10.4} s            1 : {:<5.0}  {layer_check:>8.4} s   1 : {:.0}",
			gemm / check,
			gemm / layer_check
		);
	}
}
