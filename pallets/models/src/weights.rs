// This file is part of ProofGrid.

//! Weights of `pallet_models`.
//!
//! Not yet measured on this machine: these are the measured weights of `pallet_devices`'
//! `register` and `deregister` (the same storage pattern: one record, one hold) with a
//! per-layer term for `Model::plan`, rounded up. `scripts/bench-weights.sh pallet_models`
//! replaces this file with `frame-omni-bencher`'s figures (benchmarking.rs).

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

/// Weights with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Models::NextModelId` (r:1 w:1), `Models::Models` (r:0 w:1),
	/// `System::Account` (r:1 w:1), `Balances::Holds` (r:1 w:1)
	/// The range of component `l` is `[1, 64]`.
	fn register(l: u32, ) -> Weight {
		Weight::from_parts(210_000_000, 5_563)
			.saturating_add(Weight::from_parts(2_000_000, 0).saturating_mul(l.into()))
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	/// Storage: `Models::Models` (r:1 w:1), `System::Account` (r:1 w:1),
	/// `Balances::Holds` (r:1 w:1)
	fn remove() -> Weight {
		Weight::from_parts(200_000_000, 5_563)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
}

// For tests.
impl WeightInfo for () {
	fn register(l: u32, ) -> Weight {
		Weight::from_parts(210_000_000, 5_563)
			.saturating_add(Weight::from_parts(2_000_000, 0).saturating_mul(l.into()))
			.saturating_add(ParityDbWeight::get().reads(3_u64))
			.saturating_add(ParityDbWeight::get().writes(4_u64))
	}
	fn remove() -> Weight {
		Weight::from_parts(200_000_000, 5_563)
			.saturating_add(ParityDbWeight::get().reads(3_u64))
			.saturating_add(ParityDbWeight::get().writes(3_u64))
	}
}
