//! `proofgrid`: the command line for dApps and providers. Human output by default, `--json`
//! for scripts.
//!
//! ```text
//! proofgrid job submit --m 1024 --n 1024 --k 1024 --price-cap 0.5 --wait
//! proofgrid job watch 3
//! proofgrid device list
//! proofgrid device top-up <device> 50
//! proofgrid market
//! proofgrid rewards claim
//! ```

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use proofgrid_client::{amount::format_grid, parse_address, to_address, Client, Keypair};
use serde_json::json;

use crate::{
	device::DeviceCommand,
	job::JobCommand,
	market::MarketCommand,
	model::ModelCommand,
	output::{address_or, Output},
	rewards::RewardsCommand,
};

mod device;
mod job;
mod layer;
mod market;
mod model;
mod output;
mod rewards;

#[derive(Parser)]
#[command(name = "proofgrid", version, about = "ProofGrid client: jobs, devices and rewards")]
struct Cli {
	/// Node WebSocket RPC.
	#[arg(long, global = true, default_value = "ws://127.0.0.1:9944")]
	url: String,
	/// Secret URI of the signing account (`//Alice`, a mnemonic, or a 0x seed). Visible to
	/// other users of this machine in its process list: for a real account prefer
	/// `--suri-file` or `PROOFGRID_SURI`. Without any of them, a development chain signs as
	/// `//Alice`; any other chain refuses to guess.
	#[arg(long, global = true)]
	suri: Option<String>,
	/// A file holding the signing account's secret URI (keep it mode 0600).
	#[arg(long, global = true, conflicts_with = "suri")]
	suri_file: Option<PathBuf>,
	/// Print JSON instead of text.
	#[arg(long, global = true)]
	json: bool,
	/// Let devices' data services be on private, loopback or link-local addresses (a private
	/// network, a local devnet). Refused by default: an endpoint is chosen by its device, and
	/// could point into your own network. Also `PROOFGRID_ALLOW_PRIVATE_ENDPOINTS=1`.
	#[arg(long, global = true)]
	allow_private_endpoints: bool,
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// An account's free and held GRID (the signer's by default).
	Balance {
		/// Account address; the signer by default.
		address: Option<String>,
	},
	/// A provider's earnings: payments for its devices' settled jobs, rewards claimed and to
	/// claim, slashes, and the net (the signer's by default).
	Earnings {
		/// Owner address; the signer by default.
		owner: Option<String>,
	},
	/// Register and manage GPU devices (the signer is the owner).
	#[command(subcommand)]
	Device(DeviceCommand),
	/// Submit and follow GEMM-i8 jobs (the signer is the client).
	#[command(subcommand)]
	Job(JobCommand),
	/// Token rewards for verified work.
	#[command(subcommand)]
	Rewards(RewardsCommand),
	/// The market's rules (prices, collateral, deposits, windows) and what it has burned;
	/// `market devices`: every registered device.
	Market {
		#[command(subcommand)]
		what: Option<MarketCommand>,
	},
	/// Whole quantized models: register an imported one; run a network as chained, verified
	/// `linear-i8` jobs.
	#[command(subcommand)]
	Model(ModelCommand),
}

#[tokio::main]
async fn main() {
	let cli = Cli::parse();
	if let Err(error) = run(cli).await {
		eprintln!("error: {error:#}");
		std::process::exit(1);
	}
}

/// The environment variable holding the signer's secret URI (instead of `--suri`).
const SURI_ENV: &str = "PROOFGRID_SURI";

/// The signing key: `--suri`, `--suri-file` or `PROOFGRID_SURI`; else `//Alice` on a
/// development chain only. Elsewhere a command that signs nothing gets a throwaway key (it is
/// never used), and one that signs is refused with how to name the signer.
async fn signer(client: &Client, cli: &Cli) -> Result<Keypair> {
	if let Some(suri) = &cli.suri {
		return Ok(Keypair::from_suri(suri)?);
	}
	if let Some(path) = &cli.suri_file {
		let text = std::fs::read_to_string(path)
			.with_context(|| format!("reading --suri-file {}", path.display()))?;
		return Ok(Keypair::from_suri(text.trim())?);
	}
	if let Ok(suri) = std::env::var(SURI_ENV) {
		return Ok(Keypair::from_suri(suri.trim())?);
	}
	let chain_type = client.chain_type().await?;
	if chain_type == "Development" {
		return Ok(Keypair::from_suri("//Alice")?);
	}
	let reads_only = matches!(
		&cli.command,
		Command::Market { .. }
			| Command::Balance { address: Some(_) }
			| Command::Earnings { owner: Some(_) }
			| Command::Job(JobCommand::Status { .. } | JobCommand::Watch { .. } | JobCommand::List)
	);
	if reads_only {
		return Ok(Keypair::from_seed(&proofgrid_client::random_bytes()));
	}
	bail!(
		"no signer: this is a {chain_type} chain, so there is no default account; give --suri-file FILE or {SURI_ENV} (or --suri)"
	)
}

async fn run(cli: Cli) -> Result<()> {
	use proofgrid_client::endpoint::{AddressPolicy, ALLOW_PRIVATE_ENV};
	let private = cli.allow_private_endpoints
		|| std::env::var(ALLOW_PRIVATE_ENV).is_ok_and(|v| v == "1" || v == "true");
	let policy = if private { AddressPolicy::AllowPrivate } else { AddressPolicy::PublicOnly };
	let client = Client::connect(&cli.url).await?.with_address_policy(policy);
	let signer = signer(&client, &cli).await?;
	let out = Output { json: cli.json };
	match cli.command {
		Command::Balance { address } => {
			let who = match &address {
				Some(address) => parse_address(address)?,
				None => signer.account(),
			};
			let (free, held) = client.balances(&who).await?;
			let address = to_address(&who);
			out.print(
				json!({ "address": address, "free": free.to_string(), "held": held.to_string() }),
				|| {
					format!(
						"{address}: {} GRID free, {} GRID held (bonds, job budgets, deposits)",
						format_grid(free),
						format_grid(held)
					)
				},
			);
			Ok(())
		}
		Command::Earnings { owner } => {
			let owner = address_or(owner.as_deref(), &signer)?;
			market::earnings(&client, &out, &owner).await
		}
		Command::Device(command) => device::run(&client, &signer, &out, command).await,
		Command::Job(command) => job::run(&client, &signer, &out, command).await,
		Command::Rewards(command) => rewards::run(&client, &signer, &out, command).await,
		Command::Market { what: None } => market::show(&client, &out).await,
		Command::Market { what: Some(MarketCommand::Devices) } => {
			market::devices(&client, &out).await
		}
		Command::Model(ModelCommand::Run(args)) => model::run(&client, &signer, &out, args).await,
		Command::Model(ModelCommand::Register { dir, weights_url }) => {
			model::register(&client, &signer, &out, dir, weights_url).await
		}
		Command::Model(ModelCommand::Show { id }) => model::show(&client, &out, id).await,
		Command::Model(ModelCommand::Remove { id }) => {
			model::remove(&client, &signer, &out, id).await
		}
	}
}
