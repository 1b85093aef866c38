// This file is part of ProofGrid.

//! Weights of `pallet_devices`, measured by `frame-omni-bencher` against the runtime's wasm.
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
// pallet_devices
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
// pallets/devices/src/weights.rs

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::{constants::ParityDbWeight, Weight}};

/// Weight functions of `pallet_devices`.
pub trait WeightInfo {
	fn register() -> Weight;
	fn heartbeat() -> Weight;
	fn update() -> Weight;
	fn pause() -> Weight;
	fn resume() -> Weight;
	fn deregister() -> Weight;
	fn withdraw_bond() -> Weight;
	fn set_endpoint() -> Weight;
	fn top_up_bond() -> Weight;
}

/// Measured weights, with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Devices::Devices` (r:1 w:1)
	/// Proof: `Devices::Devices` (`max_values`: None, `max_size`: Some(257), added: 2732, mode: `MaxEncodedLen`)
	/// Storage: `System::BlockHash` (r:1 w:0)
	/// Proof: `System::BlockHash` (`max_values`: None, `max_size`: Some(44), added: 2519, mode: `MaxEncodedLen`)
	/// Storage: `Devices::OwnerDevices` (r:1 w:1)
	/// Proof: `Devices::OwnerDevices` (`max_values`: None, `max_size`: Some(2098), added: 4573, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:1 w:1)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(103), added: 2578, mode: `MaxEncodedLen`)
	fn register() -> Weight {
		// Proof size: measured `234`, estimated `5563`.
		// Minimum execution time: 119_127_000 picoseconds.
		Weight::from_parts(201_809_000, 5563)
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	/// Storage: `Devices::Devices` (r:1 w:1)
	/// Proof: `Devices::Devices` (`max_values`: None, `max_size`: Some(257), added: 2732, mode: `MaxEncodedLen`)
	fn heartbeat() -> Weight {
		// Proof size: measured `313`, estimated `3722`.
		// Minimum execution time: 14_321_000 picoseconds.
		Weight::from_parts(37_095_000, 3722)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Devices::Devices` (r:1 w:1)
	/// Proof: `Devices::Devices` (`max_values`: None, `max_size`: Some(257), added: 2732, mode: `MaxEncodedLen`)
	fn update() -> Weight {
		// Proof size: measured `313`, estimated `3722`.
		// Minimum execution time: 14_621_000 picoseconds.
		Weight::from_parts(38_938_000, 3722)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Devices::Devices` (r:1 w:1)
	/// Proof: `Devices::Devices` (`max_values`: None, `max_size`: Some(257), added: 2732, mode: `MaxEncodedLen`)
	fn pause() -> Weight {
		// Proof size: measured `313`, estimated `3722`.
		// Minimum execution time: 14_071_000 picoseconds.
		Weight::from_parts(30_265_000, 3722)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Devices::Devices` (r:1 w:1)
	/// Proof: `Devices::Devices` (`max_values`: None, `max_size`: Some(257), added: 2732, mode: `MaxEncodedLen`)
	fn resume() -> Weight {
		// Proof size: measured `313`, estimated `3722`.
		// Minimum execution time: 13_891_000 picoseconds.
		Weight::from_parts(30_916_000, 3722)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: UNKNOWN KEY `0x24a41e2301a272149364e472b9200945` (r:1 w:0)
	/// Proof: UNKNOWN KEY `0x24a41e2301a272149364e472b9200945` (r:1 w:0)
	/// Storage: `Devices::Devices` (r:1 w:1)
	/// Proof: `Devices::Devices` (`max_values`: None, `max_size`: Some(257), added: 2732, mode: `MaxEncodedLen`)
	fn deregister() -> Weight {
		// Proof size: measured `313`, estimated `3778`.
		// Minimum execution time: 14_692_000 picoseconds.
		Weight::from_parts(19_749_000, 3778)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Devices::Devices` (r:1 w:1)
	/// Proof: `Devices::Devices` (`max_values`: None, `max_size`: Some(257), added: 2732, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:1 w:1)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(103), added: 2578, mode: `MaxEncodedLen`)
	/// Storage: `Devices::OwnerDevices` (r:1 w:1)
	/// Proof: `Devices::OwnerDevices` (`max_values`: None, `max_size`: Some(2098), added: 4573, mode: `MaxEncodedLen`)
	/// Storage: `Devices::Endpoints` (r:0 w:1)
	/// Proof: `Devices::Endpoints` (`max_values`: None, `max_size`: Some(178), added: 2653, mode: `MaxEncodedLen`)
	fn withdraw_bond() -> Weight {
		// Proof size: measured `617`, estimated `5563`.
		// Minimum execution time: 59_939_000 picoseconds.
		Weight::from_parts(106_428_000, 5563)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	/// Storage: `Devices::Devices` (r:1 w:1)
	/// Proof: `Devices::Devices` (`max_values`: None, `max_size`: Some(257), added: 2732, mode: `MaxEncodedLen`)
	/// Storage: `Devices::Endpoints` (r:0 w:1)
	/// Proof: `Devices::Endpoints` (`max_values`: None, `max_size`: Some(178), added: 2653, mode: `MaxEncodedLen`)
	fn set_endpoint() -> Weight {
		// Proof size: measured `313`, estimated `3722`.
		// Minimum execution time: 16_745_000 picoseconds.
		Weight::from_parts(21_452_000, 3722)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Devices::Devices` (r:1 w:1)
	/// Proof: `Devices::Devices` (`max_values`: None, `max_size`: Some(257), added: 2732, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:1 w:1)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(103), added: 2578, mode: `MaxEncodedLen`)
	fn top_up_bond() -> Weight {
		// Proof size: measured `542`, estimated `3722`.
		// Minimum execution time: 60_720_000 picoseconds.
		Weight::from_parts(66_799_000, 3722)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
}

/// The same weights with ParityDB's reference database weights, for tests and mocks.
impl WeightInfo for () {
	fn register() -> Weight {
		Weight::from_parts(201_809_000, 5563)
			.saturating_add(ParityDbWeight::get().reads(5_u64))
			.saturating_add(ParityDbWeight::get().writes(4_u64))
	}
	fn heartbeat() -> Weight {
		Weight::from_parts(37_095_000, 3722)
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
	fn update() -> Weight {
		Weight::from_parts(38_938_000, 3722)
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
	fn pause() -> Weight {
		Weight::from_parts(30_265_000, 3722)
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
	fn resume() -> Weight {
		Weight::from_parts(30_916_000, 3722)
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
	fn deregister() -> Weight {
		Weight::from_parts(19_749_000, 3778)
			.saturating_add(ParityDbWeight::get().reads(2_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
	fn withdraw_bond() -> Weight {
		Weight::from_parts(106_428_000, 5563)
			.saturating_add(ParityDbWeight::get().reads(4_u64))
			.saturating_add(ParityDbWeight::get().writes(5_u64))
	}
	fn set_endpoint() -> Weight {
		Weight::from_parts(21_452_000, 3722)
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(2_u64))
	}
	fn top_up_bond() -> Weight {
		Weight::from_parts(66_799_000, 3722)
			.saturating_add(ParityDbWeight::get().reads(3_u64))
			.saturating_add(ParityDbWeight::get().writes(3_u64))
	}
}
