//! Every weight ProofGrid's pallets charge must be measured: each pallet's `weights.rs` is the
//! output of `scripts/bench-weights.sh` (frame-omni-bencher against the runtime's wasm), and
//! each weight function in it is one measured benchmark. Fails on a hand-written or hand-edited
//! weight, and on a benchmark or weight function without its counterpart.

use std::{collections::BTreeSet, path::PathBuf};

const PALLETS: [&str; 5] = ["devices", "compute-proof", "jobs", "rewards", "models"];
const GENERATED: &str = "THIS FILE WAS AUTO-GENERATED USING THE SUBSTRATE BENCHMARK CLI";

fn read(pallet: &str, file: &str) -> String {
	let path: PathBuf =
		[env!("CARGO_MANIFEST_DIR"), "..", "pallets", pallet, "src", file].iter().collect();
	std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Names of the functions declared in `trait WeightInfo { .. }`.
fn weight_functions(weights: &str) -> BTreeSet<String> {
	let start = weights.find("pub trait WeightInfo").expect("a WeightInfo trait");
	let body = &weights[start..];
	let body = &body[..body.find("\n}").expect("the trait's end")];
	body.lines()
		.filter_map(|line| line.trim().strip_prefix("fn "))
		.map(|rest| rest[..rest.find('(').expect("fn name(")].to_string())
		.collect()
}

/// Names of the `#[benchmark]` functions.
fn benchmarks(source: &str) -> BTreeSet<String> {
	let lines: Vec<&str> = source.lines().collect();
	lines
		.windows(2)
		.filter(|w| w[0].trim().starts_with("#[benchmark"))
		.filter_map(|w| w[1].trim().strip_prefix("fn "))
		.map(|rest| rest[..rest.find('(').expect("fn name(")].to_string())
		.collect()
}

#[test]
fn every_weight_is_generated_by_the_benchmark_cli() {
	for pallet in PALLETS {
		let weights = read(pallet, "weights.rs");
		assert!(
			weights.contains(GENERATED),
			"pallets/{pallet}/src/weights.rs is not generated: run scripts/bench-weights.sh"
		);
		let functions = weight_functions(&weights);
		let benchmarked = benchmarks(&read(pallet, "benchmarking.rs"));
		assert_eq!(functions, benchmarked, "pallet {pallet}: weight functions vs benchmarks");
		// Generated code notes each function's measured minimum in the runtime's implementation.
		let measured = weights.matches("Minimum execution time").count();
		assert_eq!(
			measured,
			functions.len(),
			"pallets/{pallet}/src/weights.rs: a weight function without a measurement"
		);
	}
}

#[test]
fn the_parsers_see_a_hand_written_weight() {
	let hand = "pub trait WeightInfo {\n\tfn a() -> Weight;\n\tfn b(n: u32, ) -> Weight;\n}\n\
		impl WeightInfo for () { fn a() -> Weight { Weight::zero() } }";
	assert_eq!(weight_functions(hand), ["a", "b"].map(String::from).into());
	assert!(!hand.contains(GENERATED));
	let bench = "#[benchmark]\nfn a() {}\n#[benchmark(extra)]\nfn b(n: Linear<0, 1>) {}\nfn c() {}";
	assert_eq!(benchmarks(bench), ["a", "b"].map(String::from).into());
}
