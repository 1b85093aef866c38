//! Weights of `pallet-compute-proof`.
//!
//! HAND-DERIVED for now (a later issue regenerates them with `frame-omni-bencher` on the runtime
//! wasm). Per challenged leaf the verifier draws `8·k_dim` seeded elements (one SplitMix round
//! each), does `16·k_dim` multiply-adds, hashes the leaf and up to 40 path nodes with blake2-256.
//!
//! Calibration: `cargo run --release -p proofgrid-primitives --example verify_cost` measured
//! 3.45 ms natively for 64 leaves at k_dim = 4096 (≈ 12 ns per k_dim step and leaf, a few µs
//! of hashing per leaf) on this project's 2-core machine. The figures below are ~3× that, to
//! cover wasm execution: 40 ns per k_dim step and leaf, 30 µs per leaf.

use frame_support::weights::Weight;

/// Weight functions needed by `pallet-compute-proof`.
pub trait WeightInfo {
	/// Verifying `samples` leaves of a GEMM with inner dimension `k_dim`.
	fn verify_reveal(samples: u32, k_dim: u32) -> Weight;
	/// Verifying `samples` samples of a GEMM on supplied inputs with inner dimension `k_dim`.
	fn verify_supplied(samples: u32, k_dim: u32) -> Weight;
}

/// Hand-derived weights (no storage is read).
pub struct SubstrateWeight<T>(core::marker::PhantomData<T>);
impl<T> WeightInfo for SubstrateWeight<T> {
	fn verify_reveal(samples: u32, k_dim: u32) -> Weight {
		Weight::from_parts(10_000_000, 0)
			.saturating_add(Weight::from_parts(30_000_000, 0).saturating_mul(samples as u64))
			.saturating_add(
				Weight::from_parts(40_000, 0).saturating_mul(samples as u64 * k_dim as u64),
			)
	}

	/// Per sample: three paths (up to 40 + 2×20 nodes) and a leaf hashed, two lanes of `k_dim`
	/// bytes hashed (blake2 at ~3 ns per byte natively) and one `k_dim` dot product: no element
	/// generation, so per k_dim step far less than a seeded leaf's `8·k_dim` draws and
	/// `16·k_dim` multiply-adds. Same ~3× wasm margin: 20 ns per k_dim step and sample.
	///
	/// The base covers drawing the job's samples (up to 256 blake2 draws and a sort), done
	/// before the reveal's sample count is checked: ~1 ms in wasm at most.
	fn verify_supplied(samples: u32, k_dim: u32) -> Weight {
		Weight::from_parts(1_000_000_000, 0)
			.saturating_add(Weight::from_parts(60_000_000, 0).saturating_mul(samples as u64))
			.saturating_add(
				Weight::from_parts(20_000, 0).saturating_mul(samples as u64 * k_dim as u64),
			)
	}
}

impl WeightInfo for () {
	fn verify_reveal(samples: u32, k_dim: u32) -> Weight {
		SubstrateWeight::<()>::verify_reveal(samples, k_dim)
	}
	fn verify_supplied(samples: u32, k_dim: u32) -> Weight {
		SubstrateWeight::<()>::verify_supplied(samples, k_dim)
	}
}
