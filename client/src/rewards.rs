//! Token rewards: what an account can claim, the current era, and claims.

use crate::{node_error, runtime, AccountId32, Balance, Client, Error, Keypair};

/// A claimable reward.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PendingReward {
	/// The finished era it was earned in.
	pub era: u32,
	/// The account's verified work units in that era.
	pub units: u64,
	/// Protocol fees its jobs' clients burned in that era, in planck: its share's weight.
	#[serde(serialize_with = "crate::planck")]
	pub fees: Balance,
	/// What a claim pays, in planck.
	#[serde(serialize_with = "crate::planck")]
	pub amount: Balance,
}

/// The era in progress.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EraStatus {
	/// Its number.
	pub era: u32,
	/// Its first block.
	pub start: u32,
	/// The block that ends it.
	pub end: u32,
	/// Its schedule under the issuance cap: the most it can mint, in planck.
	#[serde(serialize_with = "crate::planck")]
	pub emission: Balance,
	/// Verified work units so far.
	pub units: u128,
	/// Protocol fees its settled jobs burned so far, in planck.
	#[serde(serialize_with = "crate::planck")]
	pub fees: Balance,
	/// What it would mint if it ended now: `min(emission, ρ × fees)`, in planck.
	#[serde(serialize_with = "crate::planck")]
	pub mintable: Balance,
}

impl Client {
	/// What `who` can claim, era by era.
	pub async fn pending_rewards(&self, who: &AccountId32) -> Result<Vec<PendingReward>, Error> {
		let at = self.at_best().await?;
		let call = runtime::runtime_apis().rewards_api().pending_rewards(*who);
		let pending = at.runtime_apis().call(call).await.map_err(node_error)?;
		Ok(pending
			.into_iter()
			.map(|r| PendingReward { era: r.era, units: r.units, fees: r.fees, amount: r.amount })
			.collect())
	}

	/// The era in progress.
	pub async fn current_era(&self) -> Result<EraStatus, Error> {
		let at = self.at_best().await?;
		let call = runtime::runtime_apis().rewards_api().current_era();
		let era = at.runtime_apis().call(call).await.map_err(node_error)?;
		Ok(EraStatus {
			era: era.era,
			start: era.start,
			end: era.end,
			emission: era.emission,
			units: era.units,
			fees: era.fees,
			mintable: era.mintable,
		})
	}

	/// Claims `owner`'s share of finished era `era`; returns the amount paid.
	pub async fn claim_rewards(&self, owner: &Keypair, era: u32) -> Result<Balance, Error> {
		let events = self.submit(&runtime::tx().rewards().claim(era), owner).await?;
		let claimed = events
			.find_first::<runtime::rewards::events::Claimed>()
			.ok_or(Error::MissingEvent("Rewards::Claimed"))?
			.map_err(node_error)?;
		Ok(claimed.amount)
	}
}
