//! Types of the rewards pallet.

use codec::{Decode, Encode, MaxEncodedLen};
use frame_support::traits::fungible::Inspect;
use scale_info::TypeInfo;

use crate::Config;

/// Eras are numbered from 0 at genesis.
pub type EraIndex = u32;

/// Balance type of the pallet's currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// A provider's verified work in an era: what its settled jobs' clients burned in protocol
/// fees decides its share; units are kept for display.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Work<Balance> {
	/// Verified work units settled.
	pub units: u64,
	/// Protocol fees burned by the clients of those jobs.
	pub fees: Balance,
}

/// A finished era whose providers' share is still (partly) unclaimed.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct EraReward<Balance> {
	/// The providers' share of the era's emission, held by the pallet's pot.
	pub pool: Balance,
	/// Protocol fees burned by the era's settled jobs: the pool is shared in proportion.
	pub total_fees: Balance,
	/// Fees whose provider has not claimed yet.
	pub unclaimed_fees: Balance,
	/// Paid out so far.
	pub paid: Balance,
}

/// A reward an account can claim.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct PendingReward<Balance> {
	/// The finished era it was earned in.
	pub era: EraIndex,
	/// The account's verified work units in that era.
	pub units: u64,
	/// Protocol fees its jobs' clients burned in that era.
	pub fees: Balance,
	/// What `claim(era)` pays.
	pub amount: Balance,
}

/// Where the current era stands.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct EraStatus<Balance, BlockNumber> {
	/// The current era.
	pub era: EraIndex,
	/// Its first block.
	pub start: BlockNumber,
	/// The block whose `on_initialize` ends it.
	pub end: BlockNumber,
	/// Its schedule, capped by the room under the issuance cap: the most it can mint.
	pub emission: Balance,
	/// Verified work units settled in it so far.
	pub units: u128,
	/// Protocol fees burned by its settled jobs so far.
	pub fees: Balance,
	/// What it would mint if it ended now: `min(emission, MaxRewardPerFee × fees)`.
	pub mintable: Balance,
}
