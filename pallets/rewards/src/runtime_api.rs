//! The runtime API behind the node's `proofgrid_pendingRewards` and `proofgrid_currentEra` RPC.

use alloc::vec::Vec;
use codec::Codec;

use crate::{EraStatus, PendingReward};

sp_api::decl_runtime_apis! {
	/// Read access to token rewards.
	pub trait RewardsApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// What `who` can claim, era by era (finished, unexpired eras only).
		fn pending_rewards(who: AccountId) -> Vec<PendingReward<Balance>>;

		/// The current era, its emission and its verified work so far.
		fn current_era() -> EraStatus<Balance, BlockNumber>;
	}
}
