//! Weights of `pallet-rewards`.
//!
//! HAND-DERIVED (storage reads and writes counted from the code, compute estimated), like the
//! other ProofGrid pallets until weights are generated with `frame-omni-bencher`; every item has a
//! benchmark in `benchmarking.rs` that runs as a test in CI.

#![allow(missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, RuntimeDbWeight, Weight},
};

/// Weight functions needed by `pallet-rewards`.
pub trait WeightInfo {
	fn claim() -> Weight;
	fn on_work_verified() -> Weight;
	fn on_initialize_idle() -> Weight;
	fn end_era() -> Weight;
	fn clean_up(removed: u32) -> Weight;
}

fn weight(ref_time_us: u64, reads: u64, writes: u64, db: RuntimeDbWeight) -> Weight {
	Weight::from_parts(ref_time_us * 1_000_000, 4_000)
		.saturating_add(db.reads(reads))
		.saturating_add(db.writes(writes))
}

fn all(db: RuntimeDbWeight) -> [Weight; 4] {
	[
		// claim, the worst case closing the era. Reads: CurrentEra, Eras, EraWork, accounts of
		// pot, provider and treasury. Writes: Eras, EraWork, the three accounts.
		weight(60, 6, 5, db),
		// Reads: CurrentEra, EraWork, CurrentEraUnits. Writes: EraWork, CurrentEraUnits.
		weight(10, 3, 2, db),
		// Reads: CurrentEraStart, EraLength, Cleanup.
		weight(3, 3, 0, db),
		// Reads: CurrentEra, CurrentEraUnits, TotalIssuance, pot, treasury, Eras (expired),
		// TotalMinted, Cleanup. Writes: all of those, plus CurrentEraStart.
		weight(80, 8, 9, db),
	]
}

/// Weights using the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn claim() -> Weight {
		all(T::DbWeight::get())[0]
	}
	fn on_work_verified() -> Weight {
		all(T::DbWeight::get())[1]
	}
	fn on_initialize_idle() -> Weight {
		all(T::DbWeight::get())[2]
	}
	fn end_era() -> Weight {
		all(T::DbWeight::get())[3]
	}
	/// Reads and writes the queue, plus one write per removed record.
	fn clean_up(removed: u32) -> Weight {
		let db = T::DbWeight::get();
		weight(5, 1, 1, db).saturating_add(db.writes(removed.into()))
	}
}

/// The same figures with reference database weights, for tests.
impl WeightInfo for () {
	fn claim() -> Weight {
		all(RocksDbWeight::get())[0]
	}
	fn on_work_verified() -> Weight {
		all(RocksDbWeight::get())[1]
	}
	fn on_initialize_idle() -> Weight {
		all(RocksDbWeight::get())[2]
	}
	fn end_era() -> Weight {
		all(RocksDbWeight::get())[3]
	}
	fn clean_up(removed: u32) -> Weight {
		let db = RocksDbWeight::get();
		weight(5, 1, 1, db).saturating_add(db.writes(removed.into()))
	}
}
