// This file is part of ProofGrid.

//! Weights of `pallet_rewards`, measured by `frame-omni-bencher` against the runtime's wasm.
//!
//! THIS FILE WAS AUTO-GENERATED USING THE SUBSTRATE BENCHMARK CLI VERSION 64.0.0
//! DATE: 2026-11-30, STEPS: `20`, REPEAT: `10`
//! HOSTNAME: `vm`, CPU: `AMD EPYC`
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
// pallet_rewards
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
// pallets/rewards/src/weights.rs

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::{constants::ParityDbWeight, Weight}};

/// Weight functions of `pallet_rewards`.
pub trait WeightInfo {
	fn claim() -> Weight;
	fn on_work_verified() -> Weight;
	fn on_initialize_idle() -> Weight;
	fn end_era() -> Weight;
	fn clean_up(n: u32, ) -> Weight;
}

/// Measured weights, with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Rewards::CurrentEra` (r:1 w:0)
	/// Proof: `Rewards::CurrentEra` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::Eras` (r:1 w:1)
	/// Proof: `Rewards::Eras` (`max_values`: None, `max_size`: Some(76), added: 2551, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::EraWork` (r:1 w:1)
	/// Proof: `Rewards::EraWork` (`max_values`: None, `max_size`: Some(84), added: 2559, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:2 w:2)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	fn claim() -> Weight {
		// Proof size: measured `606`, estimated `6196`.
		// Minimum execution time: 61_892_000 picoseconds.
		Weight::from_parts(89_543_000, 6196)
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	/// Storage: `Rewards::CurrentEra` (r:1 w:0)
	/// Proof: `Rewards::CurrentEra` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::EraWork` (r:1 w:1)
	/// Proof: `Rewards::EraWork` (`max_values`: None, `max_size`: Some(84), added: 2559, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::CurrentEraUnits` (r:1 w:1)
	/// Proof: `Rewards::CurrentEraUnits` (`max_values`: Some(1), `max_size`: Some(16), added: 511, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::CurrentEraFees` (r:1 w:1)
	/// Proof: `Rewards::CurrentEraFees` (`max_values`: Some(1), `max_size`: Some(16), added: 511, mode: `MaxEncodedLen`)
	fn on_work_verified() -> Weight {
		// Proof size: measured `103`, estimated `3549`.
		// Minimum execution time: 7_832_000 picoseconds.
		Weight::from_parts(13_660_000, 3549)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	/// Storage: `Rewards::CurrentEraStart` (r:1 w:0)
	/// Proof: `Rewards::CurrentEraStart` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::EraLength` (r:1 w:0)
	/// Proof: `Rewards::EraLength` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::Cleanup` (r:1 w:0)
	/// Proof: `Rewards::Cleanup` (`max_values`: Some(1), `max_size`: Some(258), added: 753, mode: `MaxEncodedLen`)
	fn on_initialize_idle() -> Weight {
		// Proof size: measured `103`, estimated `1743`.
		// Minimum execution time: 4_606_000 picoseconds.
		Weight::from_parts(5_348_000, 1743)
			.saturating_add(T::DbWeight::get().reads(3_u64))
	}
	/// Storage: `Rewards::CurrentEra` (r:1 w:1)
	/// Proof: `Rewards::CurrentEra` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::CurrentEraUnits` (r:1 w:1)
	/// Proof: `Rewards::CurrentEraUnits` (`max_values`: Some(1), `max_size`: Some(16), added: 511, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::CurrentEraFees` (r:1 w:1)
	/// Proof: `Rewards::CurrentEraFees` (`max_values`: Some(1), `max_size`: Some(16), added: 511, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:2 w:2)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::TotalMinted` (r:1 w:1)
	/// Proof: `Rewards::TotalMinted` (`max_values`: Some(1), `max_size`: Some(16), added: 511, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::Eras` (r:1 w:2)
	/// Proof: `Rewards::Eras` (`max_values`: None, `max_size`: Some(76), added: 2551, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::Cleanup` (r:1 w:1)
	/// Proof: `Rewards::Cleanup` (`max_values`: Some(1), `max_size`: Some(258), added: 753, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::CurrentEraStart` (r:0 w:1)
	/// Proof: `Rewards::CurrentEraStart` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	fn end_era() -> Weight {
		// Proof size: measured `1376`, estimated `6196`.
		// Minimum execution time: 136_963_000 picoseconds.
		Weight::from_parts(153_988_000, 6196)
			.saturating_add(T::DbWeight::get().reads(8_u64))
			.saturating_add(T::DbWeight::get().writes(10_u64))
	}
	/// Storage: `Rewards::Cleanup` (r:1 w:1)
	/// Proof: `Rewards::Cleanup` (`max_values`: Some(1), `max_size`: Some(258), added: 753, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::EraWork` (r:256 w:256)
	/// Proof: `Rewards::EraWork` (`max_values`: None, `max_size`: Some(84), added: 2559, mode: `MaxEncodedLen`)
	/// The range of component `n` is `[1, 256]`.
	fn clean_up(n: u32, ) -> Weight {
		// Proof size: measured `153 + n * 78`, estimated `1743 + n * 2559`.
		// Minimum execution time: 9_014_000 picoseconds.
		Weight::from_parts(3_960_598, 1743)
			.saturating_add(Weight::from_parts(1_345_203, 0).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().reads((1_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes(1_u64))
			.saturating_add(T::DbWeight::get().writes((1_u64).saturating_mul(n.into())))
			.saturating_add(Weight::from_parts(0, 2559).saturating_mul(n.into()))
	}
}

/// The same weights with ParityDB's reference database weights, for tests and mocks.
impl WeightInfo for () {
	fn claim() -> Weight {
		Weight::from_parts(89_543_000, 6196)
			.saturating_add(ParityDbWeight::get().reads(5_u64))
			.saturating_add(ParityDbWeight::get().writes(4_u64))
	}
	fn on_work_verified() -> Weight {
		Weight::from_parts(13_660_000, 3549)
			.saturating_add(ParityDbWeight::get().reads(4_u64))
			.saturating_add(ParityDbWeight::get().writes(3_u64))
	}
	fn on_initialize_idle() -> Weight {
		Weight::from_parts(5_348_000, 1743)
			.saturating_add(ParityDbWeight::get().reads(3_u64))
	}
	fn end_era() -> Weight {
		Weight::from_parts(153_988_000, 6196)
			.saturating_add(ParityDbWeight::get().reads(8_u64))
			.saturating_add(ParityDbWeight::get().writes(10_u64))
	}
	fn clean_up(n: u32, ) -> Weight {
		Weight::from_parts(3_960_598, 1743)
			.saturating_add(Weight::from_parts(1_345_203, 0).saturating_mul(n.into()))
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().reads((1_u64).saturating_mul(n.into())))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
			.saturating_add(ParityDbWeight::get().writes((1_u64).saturating_mul(n.into())))
			.saturating_add(Weight::from_parts(0, 2559).saturating_mul(n.into()))
	}
}
