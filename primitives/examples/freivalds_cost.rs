//! Freivalds' check of a downloaded output against recomputing it, in the same run:
//! `cargo run --release -p proofgrid-primitives --example freivalds_cost -- 1024 4096`.
//! Both single-threaded, `C` recomputed with `gemm::dot` (the definition every backend is
//! checked against). Prints numbers; asserts only that the check agrees with the recomputation.

use std::time::Instant;

use proofgrid_primitives::{
	check::{freivalds, DEFAULT_ROUNDS},
	gemm::{dot, mix64},
};

fn main() {
	let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
	let sizes = if sizes.is_empty() { vec![1024] } else { sizes };
	println!("size³       GEMM (dot, 1 thread)   Freivalds ({DEFAULT_ROUNDS} rounds)   ratio");
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
		println!(
			"{n:>5}       {:>10.3} s             {:>10.4} s              1 : {:.0}",
			gemm,
			check,
			gemm / check
		);
	}
}
