//! # ProofGrid runtime
//!
//! The FRAME runtime of the ProofGrid chain. This first version carries the chain's foundation:
//! accounts and the GRID token, fees, BABE block production, GRANDPA finality and sudo, plus the
//! compute market: the device registry (`pallet-devices`), the job market with escrow
//! (`pallet-jobs`) and on-chain verification of revealed work (`pallet-compute-proof`).
//!
//! Layout: [`configs`] holds each pallet's `Config`, [`apis`] the runtime APIs the node and
//! wallets call, [`genesis_config_presets`] the `development` and `local_testnet` presets.

#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime!` and `impl_runtime_apis!` expand deep.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

pub mod apis;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarks;
pub mod configs;
pub mod genesis_config_presets;
#[cfg(test)]
mod market_tests;
#[cfg(test)]
mod tests;

extern crate alloc;

use alloc::vec::Vec;
use sp_runtime::{generic, impl_opaque_keys};
use sp_version::RuntimeVersion;

pub use proofgrid_primitives::{
	currency::*, time::*, AccountId, Balance, BlockNumber, Hash, Nonce, Signature,
};

/// Opaque types: what the node needs to know about the runtime's blocks without knowing its
/// calls. Keeps the node independent of the runtime's extrinsic format.
pub mod opaque {
	use super::*;
	use sp_runtime::traits::{BlakeTwo256, Hash as HashT};

	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block identifier type.
	pub type BlockId = generic::BlockId<Block>;
	/// Opaque block hash type.
	pub type Hash = <BlakeTwo256 as HashT>::Output;

	impl_opaque_keys! {
		/// The session keys of a validator: BABE for authoring, GRANDPA for finality.
		pub struct SessionKeys {
			pub babe: Babe,
			pub grandpa: Grandpa,
		}
	}
}

/// The version of this runtime. Bump `spec_version` with every change of runtime logic and
/// `transaction_version` when call indices or argument encodings change.
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("proofgrid"),
	impl_name: alloc::borrow::Cow::Borrowed("proofgrid"),
	authoring_version: 1,
	spec_version: 110,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

/// Block header type as expected by this runtime.
pub type Header = generic::Header<BlockNumber, sp_runtime::traits::BlakeTwo256>;

/// Block type as expected by this runtime.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// A block with its justifications, as imported by the node.
pub type SignedBlock = generic::SignedBlock<Block>;

/// The address format for describing accounts.
pub type Address = sp_runtime::MultiAddress<AccountId, ()>;

/// The transaction extensions every signed transaction carries, in this order. Signers (wallets,
/// the client SDK, tests) must build exactly this tuple.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	// Looks at top-level calls only: a call-wrapping pallet (utility, proxy, multisig) added
	// later must be taught to refuse wrapped `claim`/`commit`/`reveal`, or their free,
	// operational dispatch would escape this check.
	pallet_jobs::CheckDeviceCall<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_metadata_hash_extension::CheckMetadataHash<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// Unchecked extrinsic type as expected by this runtime.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;

/// The payload a signer signs: the call plus the extensions' explicit and implicit data.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Migrations to run on runtime upgrade (none yet).
type Migrations = ();

/// Executive: dispatches calls to the pallets in order.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;

	#[runtime::pallet_index(2)]
	pub type Babe = pallet_babe;

	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;

	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;

	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;

	#[runtime::pallet_index(6)]
	pub type Sudo = pallet_sudo;

	// ProofGrid's own pallets start at index 20.
	#[runtime::pallet_index(20)]
	pub type Devices = pallet_devices;

	#[runtime::pallet_index(21)]
	pub type ComputeProof = pallet_compute_proof;

	#[runtime::pallet_index(22)]
	pub type Jobs = pallet_jobs;

	#[runtime::pallet_index(23)]
	pub type Rewards = pallet_rewards;

	#[runtime::pallet_index(24)]
	pub type Models = pallet_models;
}
