//! `proofgrid market` (the rules, what was burned), `market devices` (every device) and
//! `proofgrid earnings` (what a provider earned).

use anyhow::Result;
use clap::Subcommand;
use proofgrid_client::{amount::format_grid, rpc_api::DeviceStateView, AccountId32, Client};
use serde_json::json;

use crate::output::Output;

#[derive(Subcommand)]
pub(crate) enum MarketCommand {
	/// Every registered device: price, speed, bond, record, status, data service.
	Devices,
}

/// A provider's earnings, a line per device and the totals.
pub(crate) async fn earnings(client: &Client, out: &Output, owner: &AccountId32) -> Result<()> {
	let e = client.earnings(owner).await?;
	let mut value = serde_json::to_value(&e)?;
	value["net"] = json!(e.net().to_string());
	out.print(value, || {
		let mut lines: Vec<String> = e
			.devices
			.iter()
			.map(|d| {
				format!(
					"device {}: {} settled, {} failed; earned {} GRID, slashed {} GRID",
					d.device,
					d.completed,
					d.failed,
					format_grid(d.earned),
					format_grid(d.slashed)
				)
			})
			.collect();
		if lines.is_empty() {
			lines.push(format!("{} has no registered device", e.owner));
		}
		let net = e.net();
		let sign = if net < 0 { "-" } else { "" };
		lines.extend([
			format!(
				"payments for settled jobs: {} GRID (after the protocol fee)",
				format_grid(e.payments)
			),
			format!("rewards claimed:           {} GRID", format_grid(e.rewards_claimed)),
			format!(
				"rewards to claim:          {} GRID (`proofgrid rewards claim`)",
				format_grid(e.rewards_to_claim)
			),
			format!("slashed:                   {} GRID", format_grid(e.slashed)),
			format!("net for {}: {sign}{} GRID", e.owner, format_grid(net.unsigned_abs())),
		]);
		lines.join("\n")
	});
	Ok(())
}

/// Every registered device, a line each.
pub(crate) async fn devices(client: &Client, out: &Output) -> Result<()> {
	let devices = client.all_devices().await?;
	let best = client.best_number().await?;
	let params = client.market_params().await?;
	out.print(serde_json::to_value(&devices)?, || {
		if devices.is_empty() {
			return "no device is registered".into();
		}
		let lines: Vec<String> = devices
			.iter()
			.map(|d| {
				let status = match d.status {
					DeviceStateView::Active => "active".to_string(),
					DeviceStateView::Paused => "paused".to_string(),
					DeviceStateView::Unbonding { until } => format!("unbonding until #{until}"),
				};
				format!(
					"{}  {}  {} MiB  {} GOPS advertised, ≥ {} delivered  {} GRID/unit  bond {} GRID ({} locked)  done {} failed {}  {}  heartbeat {} blocks (about {} s) ago  {}  data service: {}",
					d.device,
					d.model,
					d.vram_mib,
					d.advertised_gops,
					d.delivered_gops,
					format_grid(d.price_per_unit.0),
					format_grid(d.bond.0),
					format_grid(d.locked.0),
					d.completed,
					d.failed,
					d.kernels.join(","),
					best.saturating_sub(d.last_heartbeat),
					params.seconds(best.saturating_sub(d.last_heartbeat)),
					status,
					d.endpoint.as_deref().unwrap_or("none"),
				)
			})
			.collect();
		format!("{} device(s) at #{best}:\n{}", devices.len(), lines.join("\n"))
	});
	Ok(())
}

pub(crate) async fn show(client: &Client, out: &Output) -> Result<()> {
	let params = client.market_params().await?;
	let burned = client.burned().await?;
	let percent = |ppb: u32| ppb as f64 / 1e7;
	out.print(json!({ "params": params, "burned": burned }), || {
		[
			format!(
				"work unit: {} operations; jobs of at least {} unit(s), at least {} GRID/unit",
				params.ops_per_unit,
				params.min_work_units,
				format_grid(params.min_price_per_unit)
			),
			format!(
				"client: job deposit {} GRID (returned); call fee (its device's calls, priced like \
				 transactions) burned at the claim; protocol fee {}% of the payment, burned",
				format_grid(params.job_deposit),
				percent(params.protocol_fee_ppb)
			),
			format!(
				"device: bond ≥ {} GRID; collateral per job max({} GRID, {}% of its value); \
				 a missed commit forfeits {} GRID (the client's call fee repaid from it, the rest burned)",
				format_grid(params.device_bond),
				format_grid(params.min_collateral),
				params.collateral_percent,
				format_grid(params.claim_deposit)
			),
			"failure: whole collateral slashed; the client gets its budget, deposit and the \
			 call fee it paid back (what the failure cost it, never more), the rest is burned"
				.to_string(),
			format!(
				"blocks: {} ms each now (the runtime's target: {} ms); the seconds below are at that pace",
				params.block_ms, params.millisecs_per_block
			),
			format!(
				"reveal window: {} blocks (about {} s) after the challenge block, not counting blocks \
				 too full for the largest reveal; input window: {} blocks (about {} s) + 1 per {} MB \
				 of inputs",
				params.reveal_window,
				params.seconds(params.reveal_window),
				params.input_window,
				params.seconds(params.input_window),
				params.input_bytes_per_block / 1_000_000
			),
			format!(
				"commit window: {} blocks (about {} s) + the compute and hashing time the \
				 advertised speed promises, at most {} blocks (about {} s)",
				params.base_commit_window,
				params.seconds(params.base_commit_window),
				params.max_commit_window,
				params.seconds(params.max_commit_window)
			),
			format!(
				"rewards: an era mints at most {}% of the fees its jobs burned",
				percent(params.max_reward_per_fee_ppb)
			),
			format!(
				"burned so far: {} GRID in protocol and call fees, {} GRID in slashes",
				format_grid(burned.fees),
				format_grid(burned.slashes)
			),
		]
		.join("\n")
	});
	Ok(())
}
