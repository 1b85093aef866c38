// This file is part of ProofGrid.

//! Weights of `pallet_jobs`, measured by `frame-omni-bencher` against the runtime's wasm.
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
// pallet_jobs
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
// pallets/jobs/src/weights.rs

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::{constants::ParityDbWeight, Weight}};

/// Weight functions of `pallet_jobs`.
pub trait WeightInfo {
	fn submit_job() -> Weight;
	fn cancel() -> Weight;
	fn claim() -> Weight;
	fn commit() -> Weight;
	fn reveal() -> Weight;
	fn on_initialize(n: u32, ) -> Weight;
	fn expire() -> Weight;
	fn release() -> Weight;
	fn dispute() -> Weight;
}

/// Measured weights, with the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Jobs::NextJobId` (r:1 w:1)
	/// Proof: `Jobs::NextJobId` (`max_values`: Some(1), `max_size`: Some(8), added: 503, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:1 w:1)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(103), added: 2578, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::Expiries` (r:1 w:1)
	/// Proof: `Jobs::Expiries` (`max_values`: None, `max_size`: Some(2062), added: 4537, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::OpenJobCount` (r:1 w:1)
	/// Proof: `Jobs::OpenJobCount` (`max_values`: None, `max_size`: Some(22), added: 2497, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::OpenJobs` (r:0 w:1)
	/// Proof: `Jobs::OpenJobs` (`max_values`: None, `max_size`: Some(26), added: 2501, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::Jobs` (r:0 w:1)
	/// Proof: `Jobs::Jobs` (`max_values`: None, `max_size`: Some(994), added: 3469, mode: `MaxEncodedLen`)
	fn submit_job() -> Weight {
		// Proof size: measured `244`, estimated `5527`.
		// Minimum execution time: 108_741_000 picoseconds.
		Weight::from_parts(119_116_000, 5527)
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(7_u64))
	}
	/// Storage: `Jobs::Jobs` (r:1 w:1)
	/// Proof: `Jobs::Jobs` (`max_values`: None, `max_size`: Some(994), added: 3469, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:1 w:1)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(103), added: 2578, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::OpenJobs` (r:1 w:1)
	/// Proof: `Jobs::OpenJobs` (`max_values`: None, `max_size`: Some(26), added: 2501, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::OpenJobCount` (r:1 w:1)
	/// Proof: `Jobs::OpenJobCount` (`max_values`: None, `max_size`: Some(22), added: 2497, mode: `MaxEncodedLen`)
	fn cancel() -> Weight {
		// Proof size: measured `680`, estimated `4459`.
		// Minimum execution time: 93_258_000 picoseconds.
		Weight::from_parts(136_001_000, 4459)
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	/// Storage: `Jobs::Jobs` (r:1 w:1)
	/// Proof: `Jobs::Jobs` (`max_values`: None, `max_size`: Some(994), added: 3469, mode: `MaxEncodedLen`)
	/// Storage: `Devices::Devices` (r:1 w:1)
	/// Proof: `Devices::Devices` (`max_values`: None, `max_size`: Some(257), added: 2732, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::DeviceJobs` (r:1 w:1)
	/// Proof: `Jobs::DeviceJobs` (`max_values`: None, `max_size`: Some(81), added: 2556, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::OpenJobs` (r:1 w:1)
	/// Proof: `Jobs::OpenJobs` (`max_values`: None, `max_size`: Some(26), added: 2501, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::OpenJobCount` (r:1 w:1)
	/// Proof: `Jobs::OpenJobCount` (`max_values`: None, `max_size`: Some(22), added: 2497, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:1 w:1)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(103), added: 2578, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::FeesBurned` (r:1 w:1)
	/// Proof: `Jobs::FeesBurned` (`max_values`: Some(1), `max_size`: Some(16), added: 511, mode: `MaxEncodedLen`)
	/// Storage: `System::ParentHash` (r:1 w:0)
	/// Proof: `System::ParentHash` (`max_values`: Some(1), `max_size`: Some(32), added: 527, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::Deadlines` (r:1 w:1)
	/// Proof: `Jobs::Deadlines` (`max_values`: None, `max_size`: Some(2062), added: 4537, mode: `MaxEncodedLen`)
	fn claim() -> Weight {
		// Proof size: measured `973`, estimated `5527`.
		// Minimum execution time: 87_610_000 picoseconds.
		Weight::from_parts(153_317_000, 5527)
			.saturating_add(T::DbWeight::get().reads(10_u64))
			.saturating_add(T::DbWeight::get().writes(9_u64))
	}
	/// Storage: `Jobs::Jobs` (r:1 w:1)
	/// Proof: `Jobs::Jobs` (`max_values`: None, `max_size`: Some(994), added: 3469, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::Deadlines` (r:1 w:1)
	/// Proof: `Jobs::Deadlines` (`max_values`: None, `max_size`: Some(2062), added: 4537, mode: `MaxEncodedLen`)
	fn commit() -> Weight {
		// Proof size: measured `519`, estimated `5527`.
		// Minimum execution time: 74_240_000 picoseconds.
		Weight::from_parts(85_928_000, 5527)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Jobs::Jobs` (r:1 w:1)
	/// Proof: `Jobs::Jobs` (`max_values`: None, `max_size`: Some(994), added: 3469, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::ChallengeRandomness` (r:1 w:0)
	/// Proof: `Jobs::ChallengeRandomness` (`max_values`: None, `max_size`: Some(44), added: 2519, mode: `MaxEncodedLen`)
	/// Storage: `System::BlockHash` (r:1 w:0)
	/// Proof: `System::BlockHash` (`max_values`: None, `max_size`: Some(44), added: 2519, mode: `MaxEncodedLen`)
	/// Storage: `Devices::Devices` (r:1 w:1)
	/// Proof: `Devices::Devices` (`max_values`: None, `max_size`: Some(257), added: 2732, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(103), added: 2578, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:2 w:2)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::FeesBurned` (r:1 w:1)
	/// Proof: `Jobs::FeesBurned` (`max_values`: Some(1), `max_size`: Some(16), added: 511, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::DeviceJobs` (r:1 w:1)
	/// Proof: `Jobs::DeviceJobs` (`max_values`: None, `max_size`: Some(81), added: 2556, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::CurrentEra` (r:1 w:0)
	/// Proof: `Rewards::CurrentEra` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::EraWork` (r:1 w:1)
	/// Proof: `Rewards::EraWork` (`max_values`: None, `max_size`: Some(84), added: 2559, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::CurrentEraUnits` (r:1 w:1)
	/// Proof: `Rewards::CurrentEraUnits` (`max_values`: Some(1), `max_size`: Some(16), added: 511, mode: `MaxEncodedLen`)
	/// Storage: `Rewards::CurrentEraFees` (r:1 w:1)
	/// Proof: `Rewards::CurrentEraFees` (`max_values`: Some(1), `max_size`: Some(16), added: 511, mode: `MaxEncodedLen`)
	fn reveal() -> Weight {
		// Proof size: measured `1576`, estimated `6196`.
		// Minimum execution time: 2_273_437_000 picoseconds.
		Weight::from_parts(2_460_163_000, 6196)
			.saturating_add(T::DbWeight::get().reads(13_u64))
			.saturating_add(T::DbWeight::get().writes(10_u64))
	}
	/// Storage: `Babe::AuthorVrfRandomness` (r:1 w:0)
	/// Proof: `Babe::AuthorVrfRandomness` (`max_values`: Some(1), `max_size`: Some(33), added: 528, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::Deadlines` (r:1 w:1)
	/// Proof: `Jobs::Deadlines` (`max_values`: None, `max_size`: Some(2062), added: 4537, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::Expiries` (r:1 w:0)
	/// Proof: `Jobs::Expiries` (`max_values`: None, `max_size`: Some(2062), added: 4537, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::Jobs` (r:256 w:256)
	/// Proof: `Jobs::Jobs` (`max_values`: None, `max_size`: Some(994), added: 3469, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:257 w:257)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:257 w:257)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(103), added: 2578, mode: `MaxEncodedLen`)
	/// Storage: `Devices::Devices` (r:256 w:256)
	/// Proof: `Devices::Devices` (`max_values`: None, `max_size`: Some(257), added: 2732, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::DeviceJobs` (r:256 w:256)
	/// Proof: `Jobs::DeviceJobs` (`max_values`: None, `max_size`: Some(81), added: 2556, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::SlashesBurned` (r:1 w:1)
	/// Proof: `Jobs::SlashesBurned` (`max_values`: Some(1), `max_size`: Some(16), added: 511, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::ChallengeRandomness` (r:0 w:1)
	/// Proof: `Jobs::ChallengeRandomness` (`max_values`: None, `max_size`: Some(44), added: 2519, mode: `MaxEncodedLen`)
	/// The range of component `n` is `[0, 256]`.
	fn on_initialize(n: u32, ) -> Weight {
		// Proof size: measured `611 + n * 758`, estimated `5527 + n * 3469`.
		// Minimum execution time: 31_477_000 picoseconds.
		Weight::from_parts(175_085_490, 5527)
			.saturating_add(Weight::from_parts(203_104_049, 0).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().reads((5_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes(4_u64))
			.saturating_add(T::DbWeight::get().writes((5_u64).saturating_mul(n.into())))
			.saturating_add(Weight::from_parts(0, 3469).saturating_mul(n.into()))
	}
	/// Storage: `Jobs::Jobs` (r:1 w:1)
	/// Proof: `Jobs::Jobs` (`max_values`: None, `max_size`: Some(994), added: 3469, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:2 w:2)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:2 w:2)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(103), added: 2578, mode: `MaxEncodedLen`)
	/// Storage: `Devices::Devices` (r:1 w:1)
	/// Proof: `Devices::Devices` (`max_values`: None, `max_size`: Some(257), added: 2732, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::DeviceJobs` (r:1 w:1)
	/// Proof: `Jobs::DeviceJobs` (`max_values`: None, `max_size`: Some(81), added: 2556, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::SlashesBurned` (r:1 w:1)
	/// Proof: `Jobs::SlashesBurned` (`max_values`: Some(1), `max_size`: Some(16), added: 511, mode: `MaxEncodedLen`)
	fn expire() -> Weight {
		// Proof size: measured `1354`, estimated `6196`.
		// Minimum execution time: 181_378_000 picoseconds.
		Weight::from_parts(209_200_000, 6196)
			.saturating_add(T::DbWeight::get().reads(8_u64))
			.saturating_add(T::DbWeight::get().writes(8_u64))
	}
	/// Storage: `Jobs::Jobs` (r:1 w:1)
	/// Proof: `Jobs::Jobs` (`max_values`: None, `max_size`: Some(994), added: 3469, mode: `MaxEncodedLen`)
	/// Storage: `Devices::Devices` (r:1 w:1)
	/// Proof: `Devices::Devices` (`max_values`: None, `max_size`: Some(257), added: 2732, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::DeviceJobs` (r:1 w:1)
	/// Proof: `Jobs::DeviceJobs` (`max_values`: None, `max_size`: Some(81), added: 2556, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::OpenJobCount` (r:1 w:1)
	/// Proof: `Jobs::OpenJobCount` (`max_values`: None, `max_size`: Some(22), added: 2497, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::OpenJobs` (r:0 w:1)
	/// Proof: `Jobs::OpenJobs` (`max_values`: None, `max_size`: Some(26), added: 2501, mode: `MaxEncodedLen`)
	fn release() -> Weight {
		// Proof size: measured `868`, estimated `4459`.
		// Minimum execution time: 38_918_000 picoseconds.
		Weight::from_parts(51_235_000, 4459)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	/// Storage: `Jobs::Jobs` (r:1 w:1)
	/// Proof: `Jobs::Jobs` (`max_values`: None, `max_size`: Some(994), added: 3469, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:2 w:2)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:2 w:2)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(103), added: 2578, mode: `MaxEncodedLen`)
	/// Storage: `Devices::Devices` (r:1 w:1)
	/// Proof: `Devices::Devices` (`max_values`: None, `max_size`: Some(257), added: 2732, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::DeviceJobs` (r:1 w:1)
	/// Proof: `Jobs::DeviceJobs` (`max_values`: None, `max_size`: Some(81), added: 2556, mode: `MaxEncodedLen`)
	/// Storage: `Jobs::SlashesBurned` (r:1 w:1)
	/// Proof: `Jobs::SlashesBurned` (`max_values`: Some(1), `max_size`: Some(16), added: 511, mode: `MaxEncodedLen`)
	fn dispute() -> Weight {
		// Proof size: measured `1325`, estimated `6196`.
		// Minimum execution time: 259_584_000 picoseconds.
		Weight::from_parts(382_436_000, 6196)
			.saturating_add(T::DbWeight::get().reads(8_u64))
			.saturating_add(T::DbWeight::get().writes(8_u64))
	}
}

/// The same weights with ParityDB's reference database weights, for tests and mocks.
impl WeightInfo for () {
	fn submit_job() -> Weight {
		Weight::from_parts(119_116_000, 5527)
			.saturating_add(ParityDbWeight::get().reads(5_u64))
			.saturating_add(ParityDbWeight::get().writes(7_u64))
	}
	fn cancel() -> Weight {
		Weight::from_parts(136_001_000, 4459)
			.saturating_add(ParityDbWeight::get().reads(5_u64))
			.saturating_add(ParityDbWeight::get().writes(5_u64))
	}
	fn claim() -> Weight {
		Weight::from_parts(153_317_000, 5527)
			.saturating_add(ParityDbWeight::get().reads(10_u64))
			.saturating_add(ParityDbWeight::get().writes(9_u64))
	}
	fn commit() -> Weight {
		Weight::from_parts(85_928_000, 5527)
			.saturating_add(ParityDbWeight::get().reads(2_u64))
			.saturating_add(ParityDbWeight::get().writes(2_u64))
	}
	fn reveal() -> Weight {
		Weight::from_parts(2_460_163_000, 6196)
			.saturating_add(ParityDbWeight::get().reads(13_u64))
			.saturating_add(ParityDbWeight::get().writes(10_u64))
	}
	fn on_initialize(n: u32, ) -> Weight {
		Weight::from_parts(175_085_490, 5527)
			.saturating_add(Weight::from_parts(203_104_049, 0).saturating_mul(n.into()))
			.saturating_add(ParityDbWeight::get().reads(5_u64))
			.saturating_add(ParityDbWeight::get().reads((5_u64).saturating_mul(n.into())))
			.saturating_add(ParityDbWeight::get().writes(4_u64))
			.saturating_add(ParityDbWeight::get().writes((5_u64).saturating_mul(n.into())))
			.saturating_add(Weight::from_parts(0, 3469).saturating_mul(n.into()))
	}
	fn expire() -> Weight {
		Weight::from_parts(209_200_000, 6196)
			.saturating_add(ParityDbWeight::get().reads(8_u64))
			.saturating_add(ParityDbWeight::get().writes(8_u64))
	}
	fn release() -> Weight {
		Weight::from_parts(51_235_000, 4459)
			.saturating_add(ParityDbWeight::get().reads(4_u64))
			.saturating_add(ParityDbWeight::get().writes(5_u64))
	}
	fn dispute() -> Weight {
		Weight::from_parts(382_436_000, 6196)
			.saturating_add(ParityDbWeight::get().reads(8_u64))
			.saturating_add(ParityDbWeight::get().writes(8_u64))
	}
}
