//! Types of the devices pallet: the stored device record.

use codec::{Decode, Encode, MaxEncodedLen};
use frame_support::traits::fungible::Inspect;
use frame_system::pallet_prelude::BlockNumberFor;
use proofgrid_primitives::device::{Attestation, DeviceSpec, DeviceStatus, Reputation};
use scale_info::TypeInfo;

use crate::Config;

/// A device's published data-service URL.
pub type EndpointOf = sp_runtime::BoundedVec<
	u8,
	sp_core::ConstU32<{ proofgrid_primitives::device::MAX_ENDPOINT_LEN }>,
>;

/// Balance type of the pallet's currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// The stored record of a device, for a runtime `T`.
pub type DeviceInfoOf<T> =
	DeviceInfo<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;

/// Everything the chain knows about one device.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct DeviceInfo<AccountId, Balance, BlockNumber> {
	/// The provider account that registered the device, holds its bond and is paid for its
	/// work.
	pub owner: AccountId,
	/// What the owner advertises.
	pub spec: DeviceSpec,
	/// Asking price per work unit.
	pub price_per_unit: Balance,
	/// Bond still held for this device (slashes reduce it, `top_up_bond` adds to it).
	pub bond: Balance,
	/// Part of the bond locked as collateral by the device's open jobs (never above `bond`).
	pub locked: Balance,
	/// Active, paused or unbonding.
	pub status: DeviceStatus<BlockNumber>,
	/// Block of registration.
	pub registered_at: BlockNumber,
	/// Block of the last heartbeat (registration counts as one).
	pub last_heartbeat: BlockNumber,
	/// Jobs assigned to the device and not yet finished.
	pub active_jobs: u32,
	/// Settled and failed jobs.
	pub reputation: Reputation,
	/// Throughput measured by a capability proof, when one has run; it replaces the advertised
	/// figure for matching.
	pub measured_gops: Option<u64>,
	/// What the device has shown it delivers: the best throughput, in GOPS, of its settled
	/// jobs counted as operations over the blocks between claim and commit (a lower bound of
	/// its real speed; 0 until a job settles).
	pub delivered_gops: u64,
	/// Paid to the owner for this device's settled jobs, after the protocol fee (what it
	/// earned; rewards are the owner's, counted by the rewards pallet).
	pub earned: Balance,
	/// Taken from its bond by slashes: collateral of failed jobs and forfeited deposits.
	pub slashed: Balance,
	/// Hardware evidence for the device key.
	pub attestation: Attestation,
}

impl<AccountId, Balance: sp_runtime::Saturating + Copy, BlockNumber>
	DeviceInfo<AccountId, Balance, BlockNumber>
{
	/// The throughput matching trusts: measured if a capability proof ran, else advertised.
	/// Advertising is a promise: the commit window of a job is sized from it, and missing the
	/// window costs collateral.
	pub fn effective_gops(&self) -> u64 {
		self.measured_gops.unwrap_or(self.spec.advertised_gops)
	}

	/// The bond not locked as collateral.
	pub fn free_bond(&self) -> Balance {
		self.bond.saturating_sub(self.locked)
	}
}

/// Makes a device key and its registration proof inside the runtime, for benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId, Signature> {
	/// A fresh device account and its signature over `message`.
	fn device_and_proof(message: &[u8]) -> (AccountId, Signature);
	/// The signature over `message` of a device [`Self::device_and_proof`] made.
	fn sign(device: &AccountId, message: &[u8]) -> Signature;
}

/// [`BenchmarkHelper`] for `AccountId32` accounts and `MultiSignature`: an sr25519 key made in
/// the benchmark's keystore.
#[cfg(feature = "runtime-benchmarks")]
pub struct Sr25519BenchmarkHelper;

/// The keystore key type of [`Sr25519BenchmarkHelper`]'s device keys.
#[cfg(feature = "runtime-benchmarks")]
const BENCHMARK_KEY_TYPE: sp_core::crypto::KeyTypeId = sp_core::crypto::KeyTypeId(*b"pgdv");

#[cfg(feature = "runtime-benchmarks")]
impl BenchmarkHelper<sp_runtime::AccountId32, sp_runtime::MultiSignature>
	for Sr25519BenchmarkHelper
{
	fn device_and_proof(message: &[u8]) -> (sp_runtime::AccountId32, sp_runtime::MultiSignature) {
		let public = sp_io::crypto::sr25519_generate(BENCHMARK_KEY_TYPE, None);
		let device = public.into();
		let signature = Self::sign(&device, message);
		(device, signature)
	}

	fn sign(device: &sp_runtime::AccountId32, message: &[u8]) -> sp_runtime::MultiSignature {
		let public = sp_core::sr25519::Public::from_raw(*device.as_ref());
		sp_io::crypto::sr25519_sign(BENCHMARK_KEY_TYPE, &public, message)
			.expect("the key was generated in this keystore; qed")
			.into()
	}
}
