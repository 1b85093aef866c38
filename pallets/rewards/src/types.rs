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

/// A finished era whose providers' share is still (partly) unclaimed.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct EraReward<Balance> {
	/// The providers' share of the era's emission, held by the pallet's pot.
	pub pool: Balance,
	/// Verified work units settled in the era.
	pub total_units: u128,
	/// Units whose provider has not claimed yet.
	pub unclaimed_units: u128,
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
	/// What it will mint if it has verified work: its schedule, capped by the room under the
	/// issuance cap.
	pub emission: Balance,
	/// Verified work units settled in it so far.
	pub units: u128,
}
