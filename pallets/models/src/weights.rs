// This file is part of ProofGrid.

//! Weights of `pallet_models`, measured by `frame-omni-bencher` against the runtime's wasm.
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
// pallet_models
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
// pallets/models/src/weights.rs

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::{constants::ParityDbWeight, Weight}};

/// Weight functions of `pallet_models`.
pub trait WeightInfo {
	fn register(l: u32, ) -> Weight;
	fn remove() -> Weight;
}

/// Measured weights, with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `System::Account` (r:1 w:1)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(121), added: 2596, mode: `MaxEncodedLen`)
	/// Storage: `Models::NextModelId` (r:1 w:1)
	/// Proof: `Models::NextModelId` (`max_values`: Some(1), `max_size`: Some(8), added: 503, mode: `MaxEncodedLen`)
	/// Storage: `Models::Models` (r:0 w:1)
	/// Proof: `Models::Models` (`max_values`: None, `max_size`: Some(7776), added: 10251, mode: `MaxEncodedLen`)
	/// The range of component `l` is `[1, 64]`.
	fn register(l: u32, ) -> Weight {
		// Proof size: measured `107`, estimated `3593`.
		// Minimum execution time: 50_119_000 picoseconds.
		Weight::from_parts(67_120_259, 3593)
			.saturating_add(Weight::from_parts(606_492, 0).saturating_mul(l.into()))
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	/// Storage: `Models::Models` (r:1 w:1)
	/// Proof: `Models::Models` (`max_values`: None, `max_size`: Some(7776), added: 10251, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:1 w:1)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(121), added: 2596, mode: `MaxEncodedLen`)
	fn remove() -> Weight {
		// Proof size: measured `7994`, estimated `11241`.
		// Minimum execution time: 48_706_000 picoseconds.
		Weight::from_parts(64_914_000, 11241)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
}

/// The same weights with ParityDB's reference database weights, for tests and mocks.
impl WeightInfo for () {
	fn register(l: u32, ) -> Weight {
		Weight::from_parts(67_120_259, 3593)
			.saturating_add(Weight::from_parts(606_492, 0).saturating_mul(l.into()))
			.saturating_add(ParityDbWeight::get().reads(3_u64))
			.saturating_add(ParityDbWeight::get().writes(4_u64))
	}
	fn remove() -> Weight {
		Weight::from_parts(64_914_000, 11241)
			.saturating_add(ParityDbWeight::get().reads(3_u64))
			.saturating_add(ParityDbWeight::get().writes(3_u64))
	}
}
