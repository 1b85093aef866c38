// This file is part of ProofGrid.

//! Weights of `pallet_compute_proof`, measured by `frame-omni-bencher` against the runtime's wasm.
//!
//! THIS FILE WAS AUTO-GENERATED USING THE SUBSTRATE BENCHMARK CLI VERSION 64.0.0
//! DATE: 2026-12-08, STEPS: `20`, REPEAT: `10`
//! HOSTNAME: `vm`, CPU: `Intel(R) Xeon(R) Processor`
//! WASM-EXECUTION: `Compiled`
//! Regenerate with `scripts/bench-weights.sh`; do not edit by hand.

// Executed command:
// /root/.cache/proofgrid/tools/bin/frame-omni-bencher
// v1
// benchmark
// pallet
// --runtime
// /root/.cache/proofgrid/target/bench/debug/wbuild/proofgrid-runtime/proofgrid_runtime.wasm
// --genesis-builder-preset
// development
// --pallet
// pallet_compute_proof
// --extrinsic
// *
// --steps
// 20
// --repeat
// 10
// --template
// scripts/weights/template.hbs
// --header
// scripts/weights/header.txt
// --output
// pallets/compute-proof/src/weights.rs

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::{constants::ParityDbWeight, Weight}};

/// Weight functions of `pallet_compute_proof`.
pub trait WeightInfo {
	fn verify_reveal_sample(k: u32, ) -> Weight;
	fn verify_supplied_sample(k: u32, ) -> Weight;
	fn verify_layer_sample(k: u32, n: u32, ) -> Weight;
	fn verify_model_sample(t: u32, ) -> Weight;
}

/// Measured weights, with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// The range of component `k` is `[1, 65536]`.
	fn verify_reveal_sample(k: u32, ) -> Weight {
		// Proof size: measured `0`, estimated `0`.
		// Minimum execution time: 14_647_000 picoseconds.
		Weight::from_parts(18_159_609, 0)
			.saturating_add(Weight::from_parts(13_906, 0).saturating_mul(k.into()))
	}
	/// The range of component `k` is `[1, 65536]`.
	fn verify_supplied_sample(k: u32, ) -> Weight {
		// Proof size: measured `0`, estimated `0`.
		// Minimum execution time: 28_450_000 picoseconds.
		Weight::from_parts(34_163_520, 0)
			.saturating_add(Weight::from_parts(5_280, 0).saturating_mul(k.into()))
	}
	/// The range of component `k` is `[1, 65536]`.
	/// The range of component `n` is `[1, 65536]`.
	fn verify_layer_sample(k: u32, n: u32, ) -> Weight {
		// Proof size: measured `0`, estimated `0`.
		// Minimum execution time: 193_288_000 picoseconds.
		Weight::from_parts(20_695_774, 0)
			.saturating_add(Weight::from_parts(5_322, 0).saturating_mul(k.into()))
			.saturating_add(Weight::from_parts(2_724, 0).saturating_mul(n.into()))
	}
	/// The range of component `t` is `[1, 4096]`.
	fn verify_model_sample(t: u32, ) -> Weight {
		// Proof size: measured `0`, estimated `0`.
		// Minimum execution time: 23_983_000 picoseconds.
		Weight::from_parts(25_353_000, 0)
			.saturating_add(Weight::from_parts(8_157_705, 0).saturating_mul(t.into()))
	}
}

/// The same weights with ParityDB's reference database weights, for tests and mocks.
impl WeightInfo for () {
	fn verify_reveal_sample(k: u32, ) -> Weight {
		Weight::from_parts(18_159_609, 0)
			.saturating_add(Weight::from_parts(13_906, 0).saturating_mul(k.into()))
	}
	fn verify_supplied_sample(k: u32, ) -> Weight {
		Weight::from_parts(34_163_520, 0)
			.saturating_add(Weight::from_parts(5_280, 0).saturating_mul(k.into()))
	}
	fn verify_layer_sample(k: u32, n: u32, ) -> Weight {
		Weight::from_parts(20_695_774, 0)
			.saturating_add(Weight::from_parts(5_322, 0).saturating_mul(k.into()))
			.saturating_add(Weight::from_parts(2_724, 0).saturating_mul(n.into()))
	}
	fn verify_model_sample(t: u32, ) -> Weight {
		Weight::from_parts(25_353_000, 0)
			.saturating_add(Weight::from_parts(8_157_705, 0).saturating_mul(t.into()))
	}
}
