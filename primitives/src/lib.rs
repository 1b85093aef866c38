//! # ProofGrid primitives
//!
//! The basic types and constants that the runtime, the node and off-chain code (client, worker)
//! must agree on. Kept `no_std` so the runtime wasm and native code share one definition.
//!
//! - [`device`]: what a GPU device advertises and a job requires, registration proofs;
//! - [`gemm`]: the GEMM-i8 kernel's definition (seeded inputs, exact int32 output, leaf layout);
//! - [`linear`]: the `linear-i8` kernel's requantization (bias, fixed-point scale, saturation,
//!   ReLU), exact integer arithmetic;
//! - [`conv`]: 2-D convolution (NHWC, padding, stride, dilation) defined as an im2col GEMM, so
//!   each output element is a `linear-i8` element;
//! - [`inputs`]: commitments to a client's own matrices and the samples that reveal them;
//! - [`merkle`]: the domain-separated blake2-256 Merkle commitment over output leaves;
//! - [`challenge`]: which leaves a provider must reveal;
//! - [`check`]: a client's check of a whole downloaded output (Freivalds' algorithm);
//! - [`job`]: job specs and reveal formats;
//! - [`traits`]: how the pallets call one another (devices, verifier, rewards);
//! - [`testing`]: fixtures for tests and benchmarks (a device, an output tree, reveal paths).
//!
//! One definition each, used to compute off chain and to verify on chain.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod challenge;
pub mod check;
pub mod conv;
pub mod device;
pub mod gemm;
pub mod inputs;
pub mod job;
pub mod linear;
pub mod merkle;
pub mod model;
pub mod model_proof;
pub mod net;
pub mod pool;
pub mod testing;
pub mod traits;

use sp_runtime::{
	traits::{IdentifyAccount, Verify},
	MultiSignature,
};

/// An index to a block.
pub type BlockNumber = u32;

/// Signature type used by ProofGrid accounts (sr25519, ed25519 or ecdsa).
pub type Signature = MultiSignature;

/// An account on the chain: the public key behind [`Signature`].
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;

/// Balance of an account, in plancks of GRID (1 GRID = 10^12 plancks).
pub type Balance = u128;

/// Index of a transaction in the chain.
pub type Nonce = u32;

/// A hash of some data used by the chain.
pub type Hash = sp_core::H256;

/// Token facts shared by the runtime (genesis, fees) and user-facing tools (formatting).
pub mod currency {
	use super::Balance;

	/// Ticker of the native token.
	pub const TOKEN_SYMBOL: &str = "GRID";
	/// Number of decimals of the native token.
	pub const TOKEN_DECIMALS: u8 = 12;
	/// One whole GRID in plancks.
	pub const GRID: Balance = 10u128.pow(TOKEN_DECIMALS as u32);
	/// One thousandth of a GRID.
	pub const MILLI_GRID: Balance = GRID / 1_000;
	/// One millionth of a GRID.
	pub const MICRO_GRID: Balance = MILLI_GRID / 1_000;
	/// The smallest balance an account may hold; below it the account is reaped.
	pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_GRID;
}

/// Block timing shared by the runtime (Aura slot) and the node (sealing, timestamps).
pub mod time {
	use super::BlockNumber;

	/// Target block time of production chains (BABE slot duration), in milliseconds.
	pub const MILLI_SECS_PER_BLOCK: u64 = 6_000;
	/// BABE slot duration: at most one primary block per slot.
	pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;

	/// Number of blocks in a minute at the target block time.
	pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
	/// Number of blocks in an hour.
	pub const HOURS: BlockNumber = MINUTES * 60;
	/// Number of blocks in a day.
	pub const DAYS: BlockNumber = HOURS * 24;
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn grid_has_twelve_decimals() {
		assert_eq!(currency::GRID, 1_000_000_000_000);
		assert_eq!(currency::MICRO_GRID * 1_000_000, currency::GRID);
	}

	#[test]
	fn six_second_blocks() {
		assert_eq!(time::MINUTES, 10);
		assert_eq!(time::DAYS, 14_400);
	}
}
