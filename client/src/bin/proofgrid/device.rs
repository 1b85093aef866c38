//! `proofgrid device …`: register, inspect and manage a provider's devices.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use proofgrid_client::{
	amount::{format_grid, parse_grid},
	parse_address,
	rpc_api::{DeviceStateView, DeviceView},
	to_address, AccountId32, Client, Keypair,
};
use proofgrid_primitives::device::{ComputeCapability, DeviceSpec, Kernel, KernelSet};
use serde_json::json;

use crate::output::{address_or, Output};

#[derive(Args)]
pub(crate) struct SpecArgs {
	/// GPU model.
	#[arg(long, default_value = "CPU reference backend")]
	pub(crate) model: String,
	/// Device memory, MiB.
	#[arg(long, default_value_t = 16_384)]
	pub(crate) vram_mib: u32,
	/// Advertised int8 throughput, giga-operations per second.
	#[arg(long, default_value_t = 100)]
	pub(crate) gops: u64,
}

#[derive(Subcommand)]
pub(crate) enum DeviceCommand {
	/// Register a device key for the signer (the worker normally does this itself).
	Register {
		/// Secret URI of the device key.
		#[arg(long)]
		device_suri: String,
		/// Asking price per work unit, in GRID.
		#[arg(long, default_value = "0.1")]
		price: String,
		#[command(flatten)]
		spec: SpecArgs,
	},
	/// The signer's devices (or another owner's).
	List {
		/// Owner address; the signer by default.
		#[arg(long)]
		owner: Option<String>,
	},
	/// One device.
	Info {
		/// Device address.
		device: String,
	},
	/// Stop a device from taking new work (what it holds goes on): before maintenance, or to
	/// stop a worker without abandoning a job — pause, wait until `device info` shows no open
	/// job, then stop the worker.
	Pause {
		/// Device address.
		device: String,
	},
	/// Let a paused device take work again.
	Resume {
		/// Device address.
		device: String,
	},
	/// Start unbonding a device.
	Deregister {
		/// Device address.
		device: String,
	},
	/// Get the bond back after unbonding.
	Withdraw {
		/// Device address.
		device: String,
	},
	/// Add to a device's bond (a slashed device below the minimum takes no work until then).
	TopUp {
		/// Device address.
		device: String,
		/// Amount to add, in GRID.
		amount: String,
	},
}

pub(crate) fn device_line(view: &DeviceView, best: u32, block_ms: u64) -> String {
	let seconds = |blocks: u32| u64::from(blocks) * block_ms / 1000;
	let status = match view.status {
		DeviceStateView::Active => "active".to_string(),
		DeviceStateView::Paused => "paused".to_string(),
		DeviceStateView::Unbonding { until } => {
			format!("unbonding until #{until} (in about {} s)", seconds(until.saturating_sub(best)))
		}
	};
	format!(
		"{}  {}  price {} GRID/unit  bond {} GRID ({} locked)  {status}  done {} failed {}  \
		 earned {} GRID slashed {} GRID  delivered ≥ {} GOPS  heartbeat #{} ({} s ago)",
		view.device,
		view.model,
		format_grid(view.price_per_unit.0),
		format_grid(view.bond.0),
		format_grid(view.locked.0),
		view.completed,
		view.failed,
		format_grid(view.earned.0),
		format_grid(view.slashed.0),
		view.delivered_gops,
		view.last_heartbeat,
		seconds(best.saturating_sub(view.last_heartbeat)),
	)
}

/// Device `id` as the node's RPC shows it, printed as JSON or a line.
pub(crate) async fn print_device(client: &Client, out: &Output, id: &AccountId32) -> Result<()> {
	let view =
		client.device_view(id).await?.with_context(|| format!("no device {}", to_address(id)))?;
	let (best, block_ms) = (client.best_number().await?, client.block_time().await?.ms());
	out.print(serde_json::to_value(&view)?, || device_line(&view, best, block_ms));
	Ok(())
}

pub(crate) async fn run(
	client: &Client,
	signer: &Keypair,
	out: &Output,
	command: DeviceCommand,
) -> Result<()> {
	match command {
		DeviceCommand::Register { device_suri, price, spec } => {
			let device = Keypair::from_suri(&device_suri)?;
			let price = parse_grid(&price).map_err(anyhow::Error::msg)?;
			let spec = DeviceSpec {
				model: spec
					.model
					.into_bytes()
					.try_into()
					.map_err(|_| anyhow::anyhow!("model name too long"))?,
				vram_mib: spec.vram_mib,
				compute_capability: ComputeCapability { major: 0, minor: 0 },
				multiprocessors: 0,
				kernels: KernelSet::of(&[Kernel::GemmI8]),
				advertised_gops: spec.gops,
			};
			client.register_device(signer, &device, spec, price).await?;
			out.print(json!({ "registered": device.address(), "owner": signer.address() }), || {
				format!("registered device {} for {}", device.address(), signer.address())
			});
		}
		DeviceCommand::List { owner } => {
			let owner = address_or(owner.as_deref(), signer)?;
			let mut rows = vec![];
			for id in client.devices_of(&owner).await? {
				if let Some(view) = client.device_view(&id).await? {
					rows.push(view);
				}
			}
			let (best, block_ms) = (client.best_number().await?, client.block_time().await?.ms());
			out.print(serde_json::to_value(&rows)?, || {
				if rows.is_empty() {
					format!("{} has no devices", to_address(&owner))
				} else {
					let lines = rows.iter().map(|row| device_line(row, best, block_ms));
					lines.collect::<Vec<_>>().join("\n")
				}
			});
		}
		DeviceCommand::Info { device } => {
			print_device(client, out, &parse_address(&device)?).await?;
		}
		DeviceCommand::Pause { device } => {
			let id = parse_address(&device)?;
			client.pause_device(signer, &id).await?;
			print_device(client, out, &id).await?;
		}
		DeviceCommand::Resume { device } => {
			let id = parse_address(&device)?;
			client.resume_device(signer, &id).await?;
			print_device(client, out, &id).await?;
		}
		DeviceCommand::Deregister { device } => {
			client.deregister_device(signer, &parse_address(&device)?).await?;
			out.print(json!({ "deregistered": device }), || format!("{device} is unbonding"));
		}
		DeviceCommand::Withdraw { device } => {
			client.withdraw_bond(signer, &parse_address(&device)?).await?;
			out.print(json!({ "withdrawn": device }), || format!("bond of {device} returned"));
		}
		DeviceCommand::TopUp { device, amount } => {
			let id = parse_address(&device)?;
			let amount = parse_grid(&amount).map_err(anyhow::Error::msg)?;
			client.top_up_bond(signer, &id, amount).await?;
			print_device(client, out, &id).await?;
		}
	}
	Ok(())
}
