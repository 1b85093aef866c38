//! Weights of `pallet-jobs`.
//!
//! HAND-DERIVED (storage reads and writes counted from the code, compute estimated); a later
//! issue generates them with `frame-omni-bencher` against the runtime wasm. `reveal` adds the
//! compute-proof pallet's verification weight on top.

#![allow(missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Deadline-queue lengths read when a block's queue is full (`schedule` tries 16 blocks).
const PROBES: u64 = 16;

/// Weight functions needed by `pallet-jobs`.
pub trait WeightInfo {
	fn submit_job() -> Weight;
	fn cancel() -> Weight;
	fn claim() -> Weight;
	fn commit() -> Weight;
	fn reveal() -> Weight;
	fn on_initialize(deadlines: u32) -> Weight;
	fn expire() -> Weight;
	fn release() -> Weight;
	fn dispute() -> Weight;
}

fn weight(
	ref_time_us: u64,
	reads: u64,
	writes: u64,
	db: frame_support::weights::RuntimeDbWeight,
) -> Weight {
	Weight::from_parts(ref_time_us * 1_000_000, 8_000)
		.saturating_add(db.reads(reads))
		.saturating_add(db.writes(writes))
}

/// Weights using the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Reads: NextJobId, Expiries (up to 16 probes), Holds (budget, deposit), Account,
	/// OpenJobCount. Writes: the same plus Jobs and OpenJobs.
	fn submit_job() -> Weight {
		weight(70, 6 + PROBES, 8, T::DbWeight::get())
	}
	/// Reads: Jobs, Holds, Account, OpenJobs, OpenJobCount. Writes: the same.
	fn cancel() -> Weight {
		weight(50, 6, 6, T::DbWeight::get())
	}
	/// Reads: Jobs, DeviceJobs, Devices (eligibility, price, busy), Deadlines (up to 16
	/// probes), the client's hold (call fee), OpenJobs, OpenJobCount. Writes: Jobs, DeviceJobs,
	/// Devices, Deadlines, the hold, OpenJobs, OpenJobCount.
	fn claim() -> Weight {
		weight(50, 8 + PROBES, 6, T::DbWeight::get())
	}
	/// Reads: Jobs, Deadlines (up to 16 probes). Writes: Jobs, Deadlines.
	fn commit() -> Weight {
		weight(40, 2 + PROBES, 2, T::DbWeight::get())
	}
	/// Settlement or failure, verification excluded. Reads: Jobs, BlockHash, ChallengeRandomness,
	/// Devices (owner,
	/// bond), Holds and accounts of client, provider, treasury. Writes: the same.
	fn reveal() -> Weight {
		weight(170, 13, 11, T::DbWeight::get())
	}
	/// Per deadline: the worst case (a failure with slash, or an abandoned job listed again in
	/// the open-job index) ≈ a reveal's settlement.
	fn on_initialize(deadlines: u32) -> Weight {
		weight(10, 4, 4, T::DbWeight::get()).saturating_add(
			weight(170, 15, 13, T::DbWeight::get()).saturating_mul(deadlines as u64),
		)
	}
	/// One deadline, enforced on request: the worst case is a failure with slash.
	fn expire() -> Weight {
		weight(170, 15, 13, T::DbWeight::get())
	}
	/// Reads: Jobs, Devices (collateral), DeviceJobs, OpenJobs, OpenJobCount. Writes: the same
	/// (or the client's holds, when the job ends with a refund).
	fn release() -> Weight {
		weight(60, 7, 7, T::DbWeight::get())
	}
	/// Verification excluded; the worst case is an upheld proof, a failure with slash. Reads:
	/// Jobs, the accuser's account, Devices (bond), Holds and accounts of client and device.
	/// Writes: the same.
	fn dispute() -> Weight {
		weight(170, 12, 10, T::DbWeight::get())
	}
}

/// The same figures with reference database weights, for tests.
impl WeightInfo for () {
	fn submit_job() -> Weight {
		weight(70, 6 + PROBES, 8, RocksDbWeight::get())
	}
	fn cancel() -> Weight {
		weight(50, 6, 6, RocksDbWeight::get())
	}
	fn claim() -> Weight {
		weight(50, 8 + PROBES, 6, RocksDbWeight::get())
	}
	fn commit() -> Weight {
		weight(40, 2 + PROBES, 2, RocksDbWeight::get())
	}
	fn reveal() -> Weight {
		weight(170, 13, 11, RocksDbWeight::get())
	}
	fn on_initialize(deadlines: u32) -> Weight {
		weight(10, 4, 4, RocksDbWeight::get()).saturating_add(
			weight(170, 15, 13, RocksDbWeight::get()).saturating_mul(deadlines as u64),
		)
	}
	fn expire() -> Weight {
		weight(170, 15, 13, RocksDbWeight::get())
	}
	fn release() -> Weight {
		weight(60, 7, 7, RocksDbWeight::get())
	}
	fn dispute() -> Weight {
		weight(170, 12, 10, RocksDbWeight::get())
	}
}
