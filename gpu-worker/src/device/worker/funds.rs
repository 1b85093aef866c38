//! The device on chain and its money: registered with the measured figures, its account
//! funded for fees, its bond topped up within the owner's loss budget, and the owner's funds
//! checked before anything slow.

use super::*;

/// Refuses to start a worker whose owner cannot set its devices up: the bond of each device the
/// chain does not know yet, the fee float of each device account that needs one, and a margin
/// for the owner's own transactions. The error names the owner, what it holds, what is needed
/// and what is missing.
pub async fn check_owner_funds(
	client: &Client,
	owner: &Keypair,
	devices: &[Keypair],
	market: &proofgrid_client::market::MarketParams,
) -> Result<()> {
	let (mut unregistered, mut unfunded) = (0u128, 0u128);
	for device in devices {
		if client.device(&device.account()).await?.is_none() {
			unregistered += 1;
		}
		if client.free_balance(&device.account()).await? < DEVICE_MIN_BALANCE {
			unfunded += 1;
		}
	}
	let needed = unregistered * market.device_bond + unfunded * DEVICE_TOP_UP + OWNER_FEE_MARGIN;
	let held = client.free_balance(&owner.account()).await?;
	if held < needed {
		bail!(
			"the owner {} holds {} GRID, and this worker needs {} GRID to start: a bond of {} GRID \
			 for each of {unregistered} new device(s), {} GRID of fees for each of {unfunded} \
			 device account(s) and about {} GRID for the owner's own transactions. {} GRID \
			 missing: send it to {} and start again",
			owner.address(),
			format_grid(held),
			format_grid(needed),
			format_grid(market.device_bond),
			format_grid(DEVICE_TOP_UP),
			format_grid(OWNER_FEE_MARGIN),
			format_grid(needed - held),
			owner.address(),
		);
	}
	Ok(())
}

impl DeviceWorker {
	/// Registers the device if the chain does not know it (or updates its advertised figures if
	/// they are not its measured ones), and funds its account.
	pub async fn ensure_registered(&self) -> Result<()> {
		let id = self.config.device.account();
		match self.config.client.device(&id).await? {
			Some(info) if info.owner != self.config.owner.account() => bail!(
				"device {} is registered to another owner ({})",
				self.config.device.address(),
				proofgrid_client::to_address(&info.owner)
			),
			Some(info)
				if info.spec.0 != self.spec() || info.price_per_unit != self.config.price =>
			{
				self.config
					.client
					.update_device(&self.config.owner, &id, self.spec(), self.config.price)
					.await
					.context("updating the device's spec and price")?;
				tracing::info!(device = %self.config.device.address(), gops = self.config.gops, "device updated to its measured throughput and price");
			}
			Some(_) => {
				tracing::info!(device = %self.config.device.address(), "device already registered")
			}
			None => {
				self.config
					.client
					.register_device(
						&self.config.owner,
						&self.config.device,
						self.spec(),
						self.config.price,
					)
					.await
					.context("registering the device")?;
				tracing::info!(
					device = %self.config.device.address(),
					owner = %self.config.owner.address(),
					price = %format_grid(self.config.price),
					"registered device"
				);
			}
		}
		if self.config.client.endpoint(&id).await? != self.config.endpoint {
			self.config
				.client
				.set_endpoint(&self.config.owner, &id, self.config.endpoint.as_deref())
				.await
				.context("publishing the data service's URL")?;
			tracing::info!(device = %self.config.device.address(), endpoint = ?self.config.endpoint, "data service endpoint published");
		}
		self.ensure_funded().await
	}

	/// Tops the device account up from the owner when it runs low (heartbeat fees are charged
	/// up front, then refunded; an account below the existential deposit could sign nothing,
	/// not even a free reveal).
	pub(super) async fn ensure_funded(&self) -> Result<()> {
		let id = self.config.device.account();
		if self.config.client.free_balance(&id).await? < DEVICE_MIN_BALANCE {
			self.config
				.client
				.transfer(&self.config.owner, &id, DEVICE_TOP_UP)
				.await
				.context("funding the device")?;
			tracing::info!(device = %self.config.device.address(), "owner sent {} GRID for fees", format_grid(DEVICE_TOP_UP));
		}
		Ok(())
	}

	/// Collateral the chain locks if this device claims `job`.
	pub(super) fn collateral(&self, info: &DeviceInfo, job: &Job) -> Balance {
		self.config.market.collateral_for(info.price_per_unit.saturating_mul(job.units.into()))
	}

	/// Bond to add so that the device meets the minimum bond and its free bond covers
	/// `collateral`; `None` if that would take the bond beyond `--max-bond`, or the top-ups of
	/// the last [`TOP_UP_PERIOD`] beyond `--max-top-up-per-day`.
	pub(super) fn top_up_needed(&self, info: &DeviceInfo, collateral: Balance) -> Option<Balance> {
		let free = info.bond.saturating_sub(info.locked);
		let needed = self
			.config
			.market
			.device_bond
			.saturating_sub(info.bond)
			.max(collateral.saturating_sub(free));
		if needed == 0 {
			return Some(0);
		}
		let spent: Balance = match self.config.store.top_ups_since(TOP_UP_PERIOD) {
			Ok(recent) => recent.iter().map(|(_, amount)| amount).sum(),
			// Unknown spending: refuse to spend more.
			Err(_) => return None,
		};
		(info.bond.saturating_add(needed)
			<= self.config.max_bond.max(self.config.market.device_bond)
			&& spent.saturating_add(needed) <= self.config.max_top_up_per_period)
			.then_some(needed)
	}
}
