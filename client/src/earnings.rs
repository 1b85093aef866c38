//! What a provider has earned, from the chain: payments for its devices' settled jobs,
//! rewards claimed and still to claim, and what slashes took from its bonds.

use crate::{node_error, runtime, AccountId32, Balance, Client, Error};

/// One registered device's record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceEarnings {
	/// The device's address.
	pub device: String,
	/// Jobs it settled.
	pub completed: u32,
	/// Jobs it failed.
	pub failed: u32,
	/// Paid to the owner for its settled jobs (after the protocol fee), in planck.
	#[serde(serialize_with = "crate::planck")]
	pub earned: Balance,
	/// Taken from its bond by slashes, in planck.
	#[serde(serialize_with = "crate::planck")]
	pub slashed: Balance,
}

/// A provider's earnings summary, in planck.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Earnings {
	/// The owner's address.
	pub owner: String,
	/// Its registered devices. A device that withdrew its bond is no longer on chain, and
	/// neither is its record.
	pub devices: Vec<DeviceEarnings>,
	/// Payments for settled jobs, all devices together.
	#[serde(serialize_with = "crate::planck")]
	pub payments: Balance,
	/// Rewards claimed since genesis.
	#[serde(serialize_with = "crate::planck")]
	pub rewards_claimed: Balance,
	/// Rewards of finished eras not yet claimed (`proofgrid rewards claim`).
	#[serde(serialize_with = "crate::planck")]
	pub rewards_to_claim: Balance,
	/// Slashes, all devices together.
	#[serde(serialize_with = "crate::planck")]
	pub slashed: Balance,
}

impl Earnings {
	/// Payments and rewards (claimed or not) less slashes; negative when slashes took more.
	pub fn net(&self) -> i128 {
		let gained = self.payments.saturating_add(self.rewards_claimed);
		let gained = gained.saturating_add(self.rewards_to_claim);
		i128::try_from(gained)
			.unwrap_or(i128::MAX)
			.saturating_sub(i128::try_from(self.slashed).unwrap_or(i128::MAX))
	}
}

impl Client {
	/// `owner`'s earnings: its registered devices' payments and slashes, and its rewards.
	pub async fn earnings(&self, owner: &AccountId32) -> Result<Earnings, Error> {
		let mut devices = Vec::new();
		for device in self.devices_of(owner).await? {
			if let Some(info) = self.device(&device).await? {
				devices.push(DeviceEarnings {
					device: crate::to_address(&device),
					completed: info.reputation.completed,
					failed: info.reputation.failed,
					earned: info.earned,
					slashed: info.slashed,
				});
			}
		}
		let at = self.at_best().await?;
		let claimed = at
			.storage()
			.fetch(runtime::storage().rewards().total_claimed(), (*owner,))
			.await
			.map_err(node_error)?
			.decode()
			.map_err(node_error)?;
		let to_claim = self.pending_rewards(owner).await?.iter().map(|r| r.amount).sum();
		Ok(Earnings {
			owner: crate::to_address(owner),
			payments: devices.iter().map(|d| d.earned).sum(),
			slashed: devices.iter().map(|d| d.slashed).sum(),
			devices,
			rewards_claimed: claimed,
			rewards_to_claim: to_claim,
		})
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn net_is_payments_and_rewards_less_slashes_and_may_be_negative() {
		let mut e = Earnings {
			owner: String::new(),
			devices: Vec::new(),
			payments: 10,
			rewards_claimed: 3,
			rewards_to_claim: 2,
			slashed: 4,
		};
		assert_eq!(e.net(), 11);
		e.slashed = 100;
		assert_eq!(e.net(), -85);
		let json = serde_json::to_value(&e).unwrap();
		assert_eq!(json["rewardsToClaim"], "2");
		assert_eq!(json["slashed"], "100");
	}
}
