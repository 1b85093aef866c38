//! Test doubles for runtimes that use this pallet (mocks of this and other pallets). Never for a
//! real chain: [`TestRandomness`] is predictable by anyone.

use codec::Encode;
use frame_support::{parameter_types, traits::Randomness};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use sp_runtime::traits::{BlakeTwo256, Hash, One, Saturating, Zero};

parameter_types! {
	/// Mixed into [`TestRandomness`]: a test changes it to change every later block's output.
	pub static VrfSalt: u8 = 0;
}

/// Stands in for BABE's per-block VRF output (`pallet_babe::ParentBlockRandomness`): answers
/// for the parent block, with a function of its number and [`VrfSalt`], not of its hash, as a
/// VRF output is a function of the author's key and slot, not of the block's contents.
pub struct TestRandomness<T>(core::marker::PhantomData<T>);

impl<T: frame_system::Config> Randomness<Option<H256>, BlockNumberFor<T>> for TestRandomness<T>
where
	BlockNumberFor<T>: Into<u64>,
{
	fn random(subject: &[u8]) -> (Option<H256>, BlockNumberFor<T>) {
		let now = frame_system::Pallet::<T>::block_number();
		let parent = if now.is_zero() { now } else { now.saturating_sub(One::one()) };
		let number: u64 = parent.into();
		let random =
			(number > 0).then(|| BlakeTwo256::hash(&(subject, number, VrfSalt::get()).encode()));
		(random, parent)
	}
}
