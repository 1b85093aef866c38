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
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use proofgrid_client::{
	amount::{format_grid, parse_grid},
	disputes::DisputeOutcome,
	grants::DownloadGrant,
	jobs::{state_name, Job, JobOutcome, JobStatus},
	own::{OwnInputs, OwnJob, Step},
	parse_address,
	rpc_api::{DeviceStateView, DeviceView, JobView, ShapeView},
	to_address, AccountId32, Client, Error as ClientError, Keypair,
};
use proofgrid_primitives::{
	check::DEFAULT_ROUNDS,
	device::{ComputeCapability, DeviceSpec, Kernel, KernelSet, Requirements},
	gemm::GemmShape,
	inputs::Download,
	job::{JobSpec, MAX_SUPPLIED_SAMPLES},
};
use serde_json::{json, Value};

mod layer;
mod model;

/// How long the grant a command signs for its own download is good for.
pub(crate) const GRANT_FOR_DOWNLOAD: Duration = Duration::from_secs(600);

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
	/// Run a quantized network as chained, verified `linear-i8` jobs.
	#[command(subcommand)]
	Model(ModelCommand),
}

#[derive(Subcommand)]
enum MarketCommand {
	/// Every registered device: price, speed, bond, record, status, data service.
	Devices,
}

#[derive(Subcommand)]
enum ModelCommand {
	/// Run the network of a model directory (`model.json`, `x.npy`, weights, biases; see
	/// `examples/mlp`) on its batch, layer after layer, and print the predicted classes.
	Run(model::ModelArgs),
}

#[derive(Subcommand)]
enum DeviceCommand {
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

#[derive(Args)]
struct SpecArgs {
	/// GPU model.
	#[arg(long, default_value = "CPU reference backend")]
	model: String,
	/// Device memory, MiB.
	#[arg(long, default_value_t = 16_384)]
	vram_mib: u32,
	/// Advertised int8 throughput, giga-operations per second.
	#[arg(long, default_value_t = 100)]
	gops: u64,
}

#[derive(Subcommand)]
enum JobCommand {
	/// Post a GEMM-i8 job C = A·B: on your own matrices (`--a A.npy --b B.npy`, int8; they
	/// are uploaded to the device that takes the job; or `--a-url/--b-url`, fetched by it) or
	/// on seeded ones (`--m --n --k`).
	Submit {
		/// `A` (m×k, int8 `.npy`): your own input, uploaded to the device that takes the job.
		#[arg(long, conflicts_with_all = ["a_url", "m", "n", "k", "seed"])]
		a: Option<PathBuf>,
		/// `A` as an int8 `.npy` file at this `http://` or `https://` URL, fetched by the device
		/// that takes the job (and once by this command, to commit to it).
		#[arg(long, conflicts_with_all = ["m", "n", "k", "seed"])]
		a_url: Option<String>,
		/// `B` (k×n, int8 `.npy`): your own input, uploaded to the device that takes the job.
		#[arg(long, conflicts_with = "b_url")]
		b: Option<PathBuf>,
		/// `B` as an int8 `.npy` file at this URL (as `--a-url`).
		#[arg(long)]
		b_url: Option<String>,
		/// Output elements the chain checks (your own inputs only; the chain's default and
		/// minimum by default): a device that got a fraction f of `C` wrong is caught with
		/// probability 1 − (1 − f)^samples. More samples cost a higher call fee.
		#[arg(long)]
		samples: Option<u32>,
		/// Let the device serve `C` to anyone (your own inputs only). By default it serves it
		/// only to you and to whoever you give a download grant (`proofgrid job grant`).
		#[arg(long)]
		public_output: bool,
		/// Write the verified output `C` (m×n, int32 `.npy`) here once the device has committed
		/// it (your own inputs only). Implies following the job.
		#[arg(long)]
		out: Option<PathBuf>,
		#[arg(long, required_unless_present_any = ["a", "a_url"])]
		m: Option<u32>,
		#[arg(long, required_unless_present_any = ["a", "a_url"])]
		n: Option<u32>,
		#[arg(long, required_unless_present_any = ["a", "a_url"])]
		k: Option<u32>,
		/// Input seed (64 hex digits); random by default.
		#[arg(long)]
		seed: Option<String>,
		/// Most you pay per work unit, in GRID.
		#[arg(long, default_value = "1")]
		price_cap: String,
		/// Blocks the job may wait for a device.
		#[arg(long, default_value_t = 100)]
		lifetime: u32,
		/// Minimum device memory, MiB.
		#[arg(long, default_value_t = 0)]
		min_vram_mib: u32,
		/// Minimum device throughput, GOPS.
		#[arg(long, default_value_t = 0)]
		min_gops: u64,
		/// Follow the job until it ends.
		#[arg(long)]
		wait: bool,
	},
	/// Post one `linear-i8` layer Y = act(sat_i8(requant(A·W + bias))) on your own data, or
	/// chained from an earlier layer's output (`--a-job`); check the committed Y here before
	/// accepting it, and prove a wrong element on chain.
	Layer(layer::LayerArgs),
	/// An open job.
	Status { job: u64 },
	/// Download the output `C` of a job on your own inputs from the device that computed it,
	/// check it against the committed root, and write it (int32 `.npy`). Works while the job is
	/// open and after it settled (within the node's state-pruning window, or on an archive
	/// node), for as long as the device keeps outputs (`--retention-hours`).
	Result {
		job: u64,
		/// Where to write `C`.
		#[arg(long)]
		out: PathBuf,
		/// A download grant from the job's client (`proofgrid job grant`); without one the
		/// signer asks as the job's client.
		#[arg(long)]
		grant: Option<String>,
	},
	/// Print a download grant for your job's output: whoever holds it may download it (with
	/// `job result --grant`) until it expires. Outputs are private unless submitted with
	/// `--public-output`.
	Grant {
		job: u64,
		/// What it grants: `output`, `accumulators` (a layer's) or `leaves`.
		#[arg(long, default_value = "output")]
		what: String,
		/// Seconds it is valid (an hour at most).
		#[arg(long, default_value_t = 600)]
		valid_for: u64,
	},
	/// Follow a job until it ends, a line per state.
	Watch {
		job: u64,
		/// Block to start from (default: the best block).
		#[arg(long)]
		from: Option<u32>,
		/// Give up after this many seconds.
		#[arg(long, default_value_t = 600)]
		timeout: u64,
	},
	/// All open jobs.
	List,
	/// Withdraw a job no device has claimed.
	Cancel { job: u64 },
	/// Enforce a deadline of a job that has passed (free when one has): expire a waiting job,
	/// end a missed commit window or a missing reveal. The chain does it by itself unless its
	/// deadline queues were full.
	Expire { job: u64 },
}

#[derive(Subcommand)]
enum RewardsCommand {
	/// Claimable rewards and the current era.
	Show {
		/// Account address; the signer by default.
		account: Option<String>,
	},
	/// Claim one era's rewards, or all pending ones.
	Claim {
		/// The era; all pending eras by default.
		#[arg(long)]
		era: Option<u32>,
	},
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
			earnings(&client, &out, &owner).await
		}
		Command::Device(command) => device(&client, &signer, &out, command).await,
		Command::Job(command) => job(&client, &signer, &out, command).await,
		Command::Rewards(command) => rewards(&client, &signer, &out, command).await,
		Command::Market { what: None } => market(&client, &out).await,
		Command::Market { what: Some(MarketCommand::Devices) } => {
			market_devices(&client, &out).await
		}
		Command::Model(ModelCommand::Run(args)) => model::run(&client, &signer, &out, args).await,
	}
}

/// A provider's earnings, a line per device and the totals.
async fn earnings(client: &Client, out: &Output, owner: &AccountId32) -> Result<()> {
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
async fn market_devices(client: &Client, out: &Output) -> Result<()> {
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

async fn market(client: &Client, out: &Output) -> Result<()> {
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

/// Prints either JSON or text.
struct Output {
	json: bool,
}

impl Output {
	fn print(&self, value: Value, text: impl FnOnce() -> String) {
		let line = if self.json { value.to_string() } else { text() };
		say(&line);
	}
}

/// Prints `line` on stdout. A reader that went away (`proofgrid … | head -1`) ends the
/// command quietly, with the status a shell gives a command killed by SIGPIPE, instead of
/// a panic (Rust ignores SIGPIPE, so `println!` would panic).
pub(crate) fn say(line: &str) {
	use std::io::Write;
	let mut stdout = std::io::stdout().lock();
	if let Err(e) = writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
		if e.kind() == std::io::ErrorKind::BrokenPipe {
			std::process::exit(141);
		}
		panic!("writing to stdout: {e}");
	}
}

fn address_or(text: Option<&str>, default: &Keypair) -> Result<AccountId32> {
	Ok(match text {
		Some(text) => parse_address(text)?,
		None => default.account(),
	})
}

fn device_line(view: &DeviceView, best: u32, block_ms: u64) -> String {
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
async fn print_device(client: &Client, out: &Output, id: &AccountId32) -> Result<()> {
	let view =
		client.device_view(id).await?.with_context(|| format!("no device {}", to_address(id)))?;
	let (best, block_ms) = (client.best_number().await?, client.block_time().await?.ms());
	out.print(serde_json::to_value(&view)?, || device_line(&view, best, block_ms));
	Ok(())
}

async fn device(
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

/// A job's line as `job watch` prints it each time its state changes (the same as
/// [`job_line`], read from the chain's record instead of the RPC's view).
fn watch_line(id: u64, job: &Job) -> String {
	let GemmShape { m, n, k } = job.spec.0.shape;
	let mut line = format!(
		"job {id}  {}  {m}×{n}×{k}  {} unit(s)  cap {} GRID/unit",
		state_name(&job.status),
		job.units,
		format_grid(job.price_cap),
	);
	if let JobStatus::Assigned { device, collateral, .. }
	| JobStatus::Committed { device, collateral, .. }
	| JobStatus::Verified { device, collateral, .. } = &job.status
	{
		line += &format!(
			"  device {} (collateral {} GRID)",
			to_address(device),
			format_grid(*collateral)
		);
	}
	line
}

fn job_line(view: &JobView) -> String {
	let ShapeView { m, n, k } = view.shape;
	let mut line = format!(
		"job {}  {}  {m}×{n}×{k}  {} unit(s)  cap {} GRID/unit",
		view.id,
		view.status.name(),
		view.units,
		format_grid(view.price_cap.0),
	);
	if let Some((device, collateral)) = view.status.device() {
		line += &format!("  device {device} (collateral {} GRID)", format_grid(collateral.0));
	}
	line
}

/// A job's end as a line; `block_ms` turns a wait in blocks into seconds.
pub(crate) fn outcome_line(job: u64, outcome: &JobOutcome, block_ms: u64) -> String {
	match outcome {
		JobOutcome::Verified { device, dispute_until, block } => format!(
			"job {job} verified in #{block}: proof checked on chain; device {device} is paid after #{dispute_until} (in about {} s) unless an element is proven wrong before",
			u64::from(dispute_until.saturating_sub(*block)) * block_ms / 1000
		),
		JobOutcome::Settled { provider, payment, fee_burned, refund, block, .. } => format!(
			"job {job} settled in #{block}: proof verified; provider {provider} paid {} GRID, fee {} GRID burned, refund {} GRID + deposit",
			format_grid(*payment),
			format_grid(*fee_burned),
			format_grid(*refund)
		),
		JobOutcome::Failed { device, reason, slashed, compensation, block } => format!(
			"job {job} FAILED in #{block} ({reason}): device {device} lost {} GRID of collateral, client compensated {} GRID, the rest burned",
			format_grid(*slashed),
			format_grid(*compensation)
		),
		JobOutcome::Expired { block } => {
			format!("job {job} expired in #{block}: budget and deposit released")
		}
		JobOutcome::Cancelled { block } => format!("job {job} cancelled in #{block}"),
	}
}

async fn watch(
	client: &Client,
	out: &Output,
	job: u64,
	from: u32,
	timeout: Duration,
) -> Result<()> {
	let outcome = client
		.watch_job(job, from, timeout, |block, info| {
			if !out.json {
				say(&format!("#{block}  {}", watch_line(job, info)));
			}
		})
		.await?;
	let block_ms = client.block_time().await?.ms();
	out.print(json!({ "id": job, "end": outcome }), || outcome_line(job, &outcome, block_ms));
	if matches!(outcome, JobOutcome::Settled { .. } | JobOutcome::Verified { .. }) {
		Ok(())
	} else {
		bail!("job {job} did not settle")
	}
}

async fn job(client: &Client, signer: &Keypair, out: &Output, command: JobCommand) -> Result<()> {
	match command {
		JobCommand::Submit {
			a,
			a_url,
			b,
			b_url,
			samples,
			public_output,
			out: out_path,
			m,
			n,
			k,
			seed,
			price_cap,
			lifetime,
			min_vram_mib,
			min_gops,
			wait,
		} => {
			let requirements = Requirements { kernel: Kernel::GemmI8, min_vram_mib, min_gops };
			let a = InputArg::of(a, a_url);
			let b = InputArg::of(b, b_url);
			let (spec, uploads) = match (a, b) {
				(Some(a), Some(b)) => {
					let market = client.market_params().await?;
					let samples = samples.unwrap_or(market.default_supplied_samples);
					let (min, max) = (market.min_supplied_samples, MAX_SUPPLIED_SAMPLES);
					anyhow::ensure!(
						(min..=max).contains(&samples),
						"--samples {samples}: the chain checks {min} to {max} elements of a job"
					);
					let (spec, uploads) =
						supplied_spec(a, b, samples, public_output, requirements).await?;
					(spec, Some(uploads))
				}
				(Some(_), None) | (None, Some(_)) => {
					bail!("give both inputs: --a or --a-url, and --b or --b-url")
				}
				_ => {
					anyhow::ensure!(
						samples.is_none() && out_path.is_none() && !public_output,
						"--samples, --public-output and --out are for your own inputs (--a, --b)"
					);
					let seed = match seed {
						Some(hex_seed) => {
							let bytes = hex::decode(hex_seed.trim_start_matches("0x"))?;
							bytes.try_into().map_err(|_| anyhow::anyhow!("the seed is 32 bytes"))?
						}
						None => proofgrid_client::random_bytes(),
					};
					let shape = GemmShape {
						m: m.context("--m")?,
						n: n.context("--n")?,
						k: k.context("--k")?,
					};
					(JobSpec::seeded(shape, seed, requirements), None)
				}
			};
			let shape = spec.shape;
			let (m, n, k) = (shape.m, shape.n, shape.k);
			shape.validate().map_err(|e| anyhow::anyhow!("bad shape: {e:?}"))?;
			let cap = parse_grid(&price_cap).map_err(anyhow::Error::msg)?;
			let from = client.best_number().await?;
			let supplied_samples = spec.supplied_samples();
			let spec_submitted = spec.clone();
			let id = client.submit_job(signer, spec, cap, lifetime).await?;
			let info = client.job(id).await?;
			let (budget, deposit, call_fee) =
				info.map(|j| (j.budget, j.deposit, j.call_fee)).unwrap_or_default();
			// What the challenge catches: a device that faked a fraction f of the output (of
			// its leaves for seeded inputs, of its elements for supplied ones) passes with
			// probability (1 − f)^samples.
			let samples = match supplied_samples {
				Some(samples) => samples,
				None => client.market_params().await?.samples,
			};
			let unit = if uploads.is_some() { "elements" } else { "leaves" };
			let detection: Vec<(f64, f64)> = [0.01, 0.05, 0.2]
				.iter()
				.map(|&f| (f, 1.0 - proofgrid_primitives::challenge::pass_probability(f, samples)))
				.collect();
			out.print(
				json!({
					"submitted": id,
					"units": shape.work_units(),
					"budget": budget.to_string(),
					"deposit": deposit.to_string(),
					"callFee": call_fee.to_string(),
					"samples": samples,
					"detection": detection
						.iter()
						.map(|(f, p)| json!({ "faked": f, "caught": p }))
						.collect::<Vec<_>>(),
				}),
				|| {
					let caught: Vec<String> = detection
						.iter()
						.map(|(f, p)| match p {
							p if *p > 0.999 => format!("{:.0}% faked → caught 1 − {:.1e}", f * 100.0, 1.0 - p),
							p => format!("{:.0}% faked → caught {p:.3}", f * 100.0),
						})
						.collect();
					format!(
						"submitted job {id}: {m}×{n}×{k}, {} work unit(s), cap {} GRID/unit; held {} GRID budget + {} GRID deposit + {} GRID call fee\n\
						 {samples} {unit} checked: {}",
						shape.work_units(),
						format_grid(cap),
						format_grid(budget),
						format_grid(deposit),
						format_grid(call_fee),
						caught.join(", ")
					)
				},
			);
			let unfit = client.unfit_devices(&spec_submitted, cap).await?;
			if !unfit.is_empty() {
				let seconds = client.market_params().await?.seconds(lifetime);
				out.print(json!({ "job": id, "noDeviceCanTakeIt": unfit }), || {
					format!(
						"job {id}: no device can take it as it stands:\n  {}\n(it waits {lifetime} blocks, about {seconds} s, for one; `proofgrid market devices` lists the market)",
						unfit.join("\n  ")
					)
				});
			}
			if let Some(inputs) = uploads {
				let job = OwnJob { id, submitted_at: from, inputs, lifetime };
				let block_ms = client.block_time().await?.ms();
				let c = match client.follow_own(signer, &job, |step| print_step(out, id, "C", step, block_ms)).await {
					Ok(c) => c,
					Err(ClientError::WrongOutput { .. }) => {
						bail!("job {id}: the device's output was wrong")
					}
					Err(e) => return Err(e.into()),
				};
				if let Some(path) = &out_path {
					proofgrid_client::data::write_npy_i32(path, m as usize, n as usize, &c)?;
					out.print(json!({ "job": id, "out": path }), || {
						format!(
							"job {id}: C ({m}×{n}, checked against the committed root) written to {}; first values {}",
							path.display(),
							first_values(&c)
						)
					});
				}
			}
			if wait {
				watch(client, out, id, from + 1, Duration::from_secs(600)).await?;
			}
		}
		JobCommand::Layer(args) => {
			layer::run(client, signer, out, args).await?;
		}
		JobCommand::Status { job } => match client.job_view(job).await? {
			Some(view) => out.print(serde_json::to_value(&view)?, || job_line(&view)),
			None => out.print(json!(null), || {
				format!("job {job} is not open (finished jobs are in the events; `job watch {job} --from <block>`)")
			}),
		},
		JobCommand::Result { job, out: path, grant } => {
			let output = client.committed_output(job).await?;
			let endpoint = client
				.endpoint(&output.device)
				.await?
				.context("the device that computed the job no longer publishes a data service")?;
			let grant = match grant {
				Some(token) => DownloadGrant::from_token(&token)?,
				None => client.grant_download(
					signer,
					output.device.0,
					job,
					Download::Output,
					GRANT_FOR_DOWNLOAD,
				)?,
			};
			let c = client
				.download_output(&endpoint, job, &output.shape, &output.root, Some(&grant))
				.await?;
			let GemmShape { m, n, .. } = output.shape;
			proofgrid_client::data::write_npy_i32(&path, m as usize, n as usize, &c)?;
			let verified = if output.verified { "verified" } else { "committed, reveal pending" };
			out.print(json!({ "job": job, "out": path, "verified": output.verified }), || {
				format!(
					"job {job}: C ({m}×{n}, {verified}, checked against the committed root) written to {}; first values {}",
					path.display(),
					first_values(&c)
				)
			});
		}
		JobCommand::Grant { job, what, valid_for } => {
			let what = match what.as_str() {
				"output" => Download::Output,
				"accumulators" => Download::Accumulators,
				"leaves" => Download::Leaves,
				other => bail!("--what {other}: one of output, accumulators, leaves"),
			};
			let output = client.committed_output(job).await?;
			let grant = client.grant_download(
				signer,
				output.device.0,
				job,
				what,
				Duration::from_secs(valid_for),
			)?;
			let token = grant.to_token();
			out.print(json!({ "job": job, "what": what.name(), "expiry": grant.expiry, "grant": token }), || {
				format!(
					"{token}\n(job {job}'s {}, valid {valid_for} s: `proofgrid job result {job} --out FILE --grant <it>`; it proves nothing about who holds it, so hand it only to whom you mean)",
					what.name()
				)
			});
		}
		JobCommand::Watch { job, from, timeout } => {
			let from = match from {
				Some(from) => from,
				None => client.best_number().await?,
			};
			watch(client, out, job, from, Duration::from_secs(timeout)).await?;
		}
		JobCommand::List => {
			// The node's view of each open job: the same shape as `proofgrid_job`.
			let mut rows = vec![];
			for (id, _) in client.open_jobs().await? {
				rows.extend(client.job_view(id).await?);
			}
			out.print(serde_json::to_value(&rows)?, || {
				if rows.is_empty() {
					"no open jobs".into()
				} else {
					rows.iter().map(job_line).collect::<Vec<_>>().join("\n")
				}
			});
		}
		JobCommand::Cancel { job } => {
			client.cancel_job(signer, job).await?;
			out.print(json!({ "cancelled": job }), || format!("job {job} cancelled"));
		}
		JobCommand::Expire { job } => {
			client.expire_job(signer, job).await?;
			let state = client.job(job).await?.map(|info| state_name(&info.status));
			out.print(json!({ "expired": job, "state": state }), || match state {
				Some(state) => format!("job {job}: deadline enforced, now {state}"),
				None => format!("job {job}: deadline enforced, the job ended"),
			});
		}
	}
	Ok(())
}

/// Where one of a job's own inputs comes from, as given on the command line.
enum InputArg {
	/// A local `.npy` file, uploaded to the device.
	File(PathBuf),
	/// A URL the device fetches an `.npy` file from.
	Url(String),
}

impl InputArg {
	fn of(file: Option<PathBuf>, url: Option<String>) -> Option<Self> {
		file.map(Self::File).or(url.map(Self::Url))
	}
}

/// The spec of a job on the matrices `a` (m×k) and `b` (k×n) with `samples`, and its inputs
/// (those from files are uploaded, those at URLs fetched by the device).
async fn supplied_spec(
	a: InputArg,
	b: InputArg,
	samples: u32,
	public_output: bool,
	requirements: Requirements,
) -> Result<(JobSpec, OwnInputs)> {
	use proofgrid_client::data::{fetch_npy_i8, read_npy_i8, MAX_NPY_HEADER};
	use proofgrid_primitives::job::InputSource;
	// A URL input is read here once, to commit to it: no larger than a worker takes by default
	// (`--max-input-mib` 1024).
	const MAX_URL_INPUT: usize = (1 << 30) + MAX_NPY_HEADER + 12;
	let load = |input: InputArg| async move {
		let (source, (rows, cols, values)) = match input {
			InputArg::File(path) => (InputSource::Upload, read_npy_i8(&path)?),
			InputArg::Url(url) => {
				let source = InputSource::Url(
					url.clone()
						.into_bytes()
						.try_into()
						.map_err(|_| anyhow::anyhow!("URL too long"))?,
				);
				anyhow::ensure!(source.is_valid(), "{url} is not an http:// or https:// URL");
				(source, fetch_npy_i8(&url, MAX_URL_INPUT).await?)
			}
		};
		anyhow::Ok((source, rows, cols, values))
	};
	let (a_source, m, k, a_values) = load(a).await?;
	let (b_source, k_b, n, b_values) = load(b).await?;
	let mut inputs = OwnInputs::from_row_major(a_values, (m, k), b_values, (k_b, n))?;
	inputs.upload_a = a_source == InputSource::Upload;
	inputs.upload_b = b_source == InputSource::Upload;
	let spec = inputs.spec((a_source, b_source), samples, public_output, requirements)?;
	Ok((spec, inputs))
}

/// Prints a step of a job on own data (`proofgrid_client::own`, `::layers`); `matrix` is its
/// output's name, `C` of a GEMM or `Y` of a layer.
pub(crate) fn print_step(out: &Output, id: u64, matrix: &str, step: Step, block_ms: u64) {
	let layer = matrix == "Y";
	match step {
		Step::Uploaded { device } => {
			out.print(json!({ "job": id, "uploadedTo": to_address(&device) }), || {
				format!("job {id}: inputs uploaded to device {}", to_address(&device))
			})
		}
		Step::InputsConfirmed => out.print(json!({ "job": id, "inputsConfirmed": true }), || {
			format!("job {id}: the device's receipt for the inputs is on chain")
		}),
		Step::Checked { millis } if layer => out.print(
			json!({ "job": id, "checked": { "rounds": DEFAULT_ROUNDS, "ms": millis } }),
			|| {
				format!(
					"job {id}: Y = layer(A, W, bias) checked here in {millis:.1} ms (Freivalds on the accumulators, {DEFAULT_ROUNDS} rounds, then every element)"
				)
			},
		),
		Step::Checked { millis } => out.print(
			json!({ "job": id, "freivalds": { "rounds": DEFAULT_ROUNDS, "ms": millis } }),
			|| {
				format!(
					"job {id}: C = A·B checked here in {millis:.0} ms (Freivalds, {DEFAULT_ROUNDS} rounds: a wrong C passes with probability ≤ 2⁻⁶⁴)"
				)
			},
		),
		Step::NoHint { reason } => {
			eprintln!("job {id}: no accumulators from the device ({reason}); checking the slow way")
		}
		Step::Wrong { row, column, found, expected } => {
			let reference = if layer { "the layer" } else { "A·B" };
			print_wrong(out, id, matrix, reference, (row as usize, column as usize), found, expected)
		}
		Step::Ruled(outcome) => out.print(json!({ "id": id, "end": outcome }), || {
			outcome_line(id, &outcome, block_ms)
		}),
		Step::Disputed { row, column, verdict } => {
			out.print(json!({ "job": id, "dispute": verdict }), || match &verdict {
				DisputeOutcome::Upheld { slashed, compensation } => format!(
					"job {id}: fraud proof of {matrix}[{row}][{column}] upheld: the device lost {} GRID of collateral; you were refunded and compensated {} GRID",
					format_grid(*slashed),
					format_grid(*compensation)
				),
				DisputeOutcome::Rejected { reason, deposit_burned } => format!(
					"job {id}: fraud proof of {matrix}[{row}][{column}] REJECTED ({reason}); {} GRID deposit burned",
					format_grid(*deposit_burned)
				),
			})
		}
	}
}

/// Prints the wrong element a client's check found in `matrix` of job `id`: where, what the
/// device committed, and what `reference` gives.
fn print_wrong(
	out: &Output,
	id: u64,
	matrix: &str,
	reference: &str,
	(row, column): (usize, usize),
	found: i64,
	expected: i64,
) {
	out.print(
		json!({ "job": id, "wrongElement": { "row": row, "column": column, "committed": found, "expected": expected } }),
		|| format!(
			"job {id}: the committed {matrix} is WRONG: {matrix}[{row}][{column}] is {found}, {reference} gives {expected} ({matrix} not written)"
		),
	);
}

/// The first values of an output, for a glance.
fn first_values(c: &[i32]) -> String {
	c.iter().take(4).map(|v| v.to_string()).collect::<Vec<_>>().join(", ")
}

async fn rewards(
	client: &Client,
	signer: &Keypair,
	out: &Output,
	command: RewardsCommand,
) -> Result<()> {
	match command {
		RewardsCommand::Show { account } => {
			let who = address_or(account.as_deref(), signer)?;
			let pending = client.pending_rewards(&who).await?;
			let era = client.current_era().await?;
			let total: u128 = pending.iter().map(|p| p.amount).sum();
			out.print(
				json!({ "account": to_address(&who), "pending": pending, "currentEra": era }),
				|| {
					let mut lines = vec![format!(
						"era {} (blocks #{}..#{}): {} units so far, {} GRID fees burned; mints min(schedule {} GRID, ρ × fees) = {} GRID",
						era.era,
						era.start,
						era.end,
						era.units,
						format_grid(era.fees),
						format_grid(era.emission),
						format_grid(era.mintable)
					)];
					for p in &pending {
						lines.push(format!(
							"  era {}: {} unit(s), {} GRID fees burned → {} GRID",
							p.era,
							p.units,
							format_grid(p.fees),
							format_grid(p.amount)
						));
					}
					lines.push(format!(
						"{} can claim {} GRID",
						to_address(&who),
						format_grid(total)
					));
					lines.join("\n")
				},
			);
		}
		RewardsCommand::Claim { era } => {
			let eras: Vec<u32> = match era {
				Some(era) => vec![era],
				None => {
					client.pending_rewards(&signer.account()).await?.iter().map(|p| p.era).collect()
				}
			};
			let mut claimed = vec![];
			for era in eras {
				let amount = client.claim_rewards(signer, era).await?;
				claimed.push(json!({ "era": era, "amount": amount.to_string() }));
				if !out.json {
					say(&format!("claimed {} GRID for era {era}", format_grid(amount)));
				}
			}
			if out.json {
				say(&json!(claimed).to_string());
			} else if claimed.is_empty() {
				say("nothing to claim");
			}
		}
	}
	Ok(())
}
