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

/// Advances a mock runtime `T` to block `n`, running the hooks of `AllPallets` (a runtime's
/// `AllPalletsWithSystem`) in runtime order and giving each block's parent a distinct hash, as
/// the challenge's block hash needs.
pub fn run_to_block<T, AllPallets>(n: BlockNumberFor<T>)
where
	T: frame_system::Config<Hash = H256>,
	BlockNumberFor<T>: Into<u64>,
	AllPallets: frame_support::traits::OnInitialize<BlockNumberFor<T>>
		+ frame_support::traits::OnFinalize<BlockNumberFor<T>>,
{
	frame_system::Pallet::<T>::run_to_block_with::<AllPallets>(
		n,
		frame_system::RunToBlockHooks::<T>::default().before_initialize(|next| {
			let number: u64 = next.into();
			if number > 1u64 {
				frame_system::BlockHash::<T>::insert(
					next.saturating_sub(One::one()),
					H256::repeat_byte((number % 251) as u8 + 1),
				);
			}
		}),
	);
}
