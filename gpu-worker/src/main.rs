//! `proofgrid-worker`: the provider's sidecar. One process per host manages all its devices:
//! each gets its own key (generated on first run), registration, heartbeats and job loop.
//!
//! ```text
//! PROOFGRID_OWNER_SURI=//Alice proofgrid-worker run --url ws://127.0.0.1:9944 --backend auto
//! proofgrid-worker run --owner-suri-file owner.suri   # the secret in a 0600 file, never argv
//! proofgrid-worker bench --backend cpu --sizes 1024,2048
//! proofgrid-worker limits --backend cpu --run   # the largest jobs it takes, timed
//! ```

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use proofgrid_client::{amount::parse_grid, Client, Keypair};
use tokio::sync::watch;

use proofgrid_worker::{
	backend::{self, BackendKind},
	data::{self, fetch, tls},
	device::{self, throughput},
	kinds::faults::{ElementHook, LeafHook},
	metrics,
	store::{keys, state},
	tools::{bench, limits, selftest},
};

#[derive(Parser)]
#[command(name = "proofgrid-worker", version, about = "ProofGrid provider worker")]
struct Cli {
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// Register this host's devices and work on jobs until Ctrl-C.
	Run(Box<RunArgs>),
	/// Time the backend on square GEMMs and print GOPS.
	Bench(bench::BenchArgs),
	/// The largest jobs this host accepts on a chain, with their estimated (and measured) time.
	Limits(limits::LimitsArgs),
	/// Check a GPU host in one command: driver, NVRTC, golden roots bit for bit, bench; JSON
	/// report. Without a GPU it says so and checks the rest.
	GpuSelftest(selftest::SelftestArgs),
}

#[derive(Args)]
struct RunArgs {
	/// Node WebSocket RPC.
	#[arg(long, default_value = "ws://127.0.0.1:9944")]
	url: String,
	/// File holding the secret URI of the owner account (holds bonds, receives payments and
	/// rewards); it must be readable by its owner only. Without it the secret comes from the
	/// `PROOFGRID_OWNER_SURI` environment variable. Never on the command line: `ps` shows it.
	#[arg(long)]
	owner_suri_file: Option<PathBuf>,
	/// Where device keys and job state live.
	#[arg(long, default_value = "proofgrid-worker-data")]
	base_path: PathBuf,
	/// Compute backend.
	#[arg(long, value_enum, default_value = "auto")]
	backend: BackendKind,
	/// Asking price per work unit, in GRID (at least the chain's minimum).
	#[arg(long, default_value = "0.1")]
	price: String,
	/// Most bond the worker holds for one device, in GRID: it tops the bond up (from the
	/// owner) to cover a job's collateral or after a slash, but never beyond this.
	#[arg(long, default_value = "1000")]
	max_bond: String,
	/// Most the owner adds to one device's bond in 24 hours, in GRID (default: --max-bond): a
	/// loss budget. Slashes are refilled from the owner's account only within it, so repeated
	/// failures — whoever causes them — cost the owner at most this much a day.
	#[arg(long)]
	max_top_up_per_day: Option<String>,
	/// CPU backend threads (0: one per core).
	#[arg(long, default_value_t = 0)]
	threads: usize,
	/// Largest memory one job may take, MiB: all of it on the CPU backend; on a GPU, the host
	/// side (a batch of its output's leaf hashes on their way to disk).
	#[arg(long, default_value_t = 4096)]
	memory_mib: u64,
	/// Most disk one job's output (its leaf hashes and Merkle tree, about 64 bytes per 4×4
	/// output tile) may take, MiB; jobs with larger outputs are not taken, and 64 MiB of the
	/// disk are always left free.
	#[arg(long, default_value_t = 16_384)]
	disk_mib: u64,
	/// Address the data service listens on (clients upload supplied inputs and download
	/// outputs there); without it, jobs on supplied inputs are not taken.
	#[arg(long)]
	data_addr: Option<SocketAddr>,
	/// The data service's URL as clients reach it (published on chain for every device, with
	/// the SHA-256 of its TLS certificate appended as `#sha256=…`), e.g.
	/// `https://203.0.113.7:9700`. Defaults to `https://` + `--data-addr`.
	#[arg(long)]
	public_url: Option<String>,
	/// The data service's TLS certificate chain (PEM). Without it (and `--tls-key`) the worker
	/// generates a self-signed one once, kept in `<base-path>/tls/`; clients pin either.
	#[arg(long, requires = "tls_key")]
	tls_cert: Option<PathBuf>,
	/// The private key of `--tls-cert` (PEM).
	#[arg(long, requires = "tls_cert")]
	tls_key: Option<PathBuf>,
	/// Serve plain HTTP, unencrypted: for tests, or behind a TLS proxy (then give
	/// `--public-url https://…`). Clients refuse plain `http://` endpoints on public addresses.
	#[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
	plain_http: bool,
	/// Largest input accepted (uploaded or fetched from a URL), MiB.
	#[arg(long, default_value_t = 1024)]
	max_input_mib: usize,
	/// Fetch URL inputs from loopback, private and link-local addresses too (tests, a private
	/// network). Refused by default, so that a client cannot make the worker reach into its
	/// own network.
	#[arg(long)]
	fetch_private_urls: bool,
	/// Hours a supplied job's output is kept for its client to download.
	#[arg(long, default_value_t = 24)]
	retention_hours: u64,
	/// A directory of models this worker runs (one subdirectory per model: its `model.json`
	/// and `.npy` files, as `proofgrid model import` writes them). A model job is taken when
	/// the model registered on chain, with its weights' commitments, is one of these, or can
	/// be fetched from the registration's weights URL (kept here once checked). Without it,
	/// model jobs are not taken.
	#[arg(long)]
	models: Option<PathBuf>,
	/// Prometheus metrics address (`none` to disable).
	#[arg(long, default_value = "127.0.0.1:9616")]
	metrics: String,
	/// How often the job loop polls the chain, milliseconds.
	#[arg(long, default_value_t = 500)]
	poll_ms: u64,
	/// TESTS ONLY: falsify this fraction of every job's output leaves (of a layer's elements).
	#[cfg(feature = "fault-injection")]
	#[arg(long, default_value_t = 0.0)]
	corrupt_fraction: f64,
}

#[tokio::main]
async fn main() {
	tracing_subscriber::fmt()
		.with_env_filter(
			tracing_subscriber::EnvFilter::try_from_default_env()
				.unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
		)
		.with_target(false)
		.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
		.init();
	let result = match Cli::parse().command {
		Command::Run(args) => run(*args).await,
		Command::Bench(args) => bench::run(args),
		Command::Limits(args) => limits::run(args).await,
		Command::GpuSelftest(args) => selftest::run(args),
	};
	if let Err(error) = result {
		tracing::error!("{error:#}");
		std::process::exit(1);
	}
}

/// Which leaves the fault-injection build falsifies: a fixed pseudo-random `fraction` of them.
#[cfg(feature = "fault-injection")]
fn fault_hook(fraction: f64) -> Option<Arc<LeafHook>> {
	if fraction <= 0.0 {
		return None;
	}
	tracing::warn!(
		"FAULT INJECTION: falsifying {:.2}% of output leaves (of elements for layers)",
		fraction * 100.0
	);
	let threshold = (fraction.min(1.0) * u64::MAX as f64) as u64;
	// Every element of a falsified leaf is wrong: supplied jobs are checked element by element.
	Some(Arc::new(move |index: u64, leaf: &mut [i32; 16]| {
		if proofgrid_primitives::gemm::mix64(index ^ 0x5eed) <= threshold {
			leaf.iter_mut().for_each(|v| *v = v.wrapping_add(1));
		}
	}))
}

/// Which elements of a layer's output the fault-injection build falsifies: a fixed
/// pseudo-random `fraction` of them.
#[cfg(feature = "fault-injection")]
fn fault_element_hook(fraction: f64) -> Option<Arc<ElementHook>> {
	if fraction <= 0.0 {
		return None;
	}
	let threshold = (fraction.min(1.0) * u64::MAX as f64) as u64;
	Some(Arc::new(move |index: u64, value: &mut i8| {
		if proofgrid_primitives::gemm::mix64(index ^ 0x1a7e) <= threshold {
			*value = value.wrapping_add(1);
		}
	}))
}

/// Environment variable holding the owner's secret URI when no `--owner-suri-file` is given.
const OWNER_SURI_ENV: &str = "PROOFGRID_OWNER_SURI";

/// The owner's secret URI, from its file (refused if others may read it) or the environment.
fn owner_secret(file: Option<&std::path::Path>) -> Result<String> {
	match file {
		Some(path) => {
			use std::os::unix::fs::PermissionsExt;
			let mode = std::fs::metadata(path)
				.with_context(|| format!("--owner-suri-file {}", path.display()))?
				.permissions()
				.mode() & 0o777;
			if mode & 0o077 != 0 {
				anyhow::bail!(
					"{} is readable by others (mode {mode:o}); chmod 600 it",
					path.display()
				);
			}
			Ok(std::fs::read_to_string(path)?.trim().to_string())
		}
		None => std::env::var(OWNER_SURI_ENV).map_err(|_| {
			anyhow::anyhow!(
				"no owner secret: give --owner-suri-file (mode 0600) or set {OWNER_SURI_ENV}"
			)
		}),
	}
}

async fn run(args: RunArgs) -> Result<()> {
	let secret = owner_secret(args.owner_suri_file.as_deref())?;
	let owner = Keypair::from_suri(&secret).context("the owner's secret URI")?;
	let price = parse_grid(&args.price).map_err(anyhow::Error::msg).context("--price")?;
	let max_bond = parse_grid(&args.max_bond).map_err(anyhow::Error::msg).context("--max-bond")?;
	let max_top_up_per_period = match &args.max_top_up_per_day {
		Some(amount) => {
			parse_grid(amount).map_err(anyhow::Error::msg).context("--max-top-up-per-day")?
		}
		None => max_bond,
	};
	let backends = backend::select(args.backend, args.threads, args.memory_mib)?;
	let client = Client::connect(&args.url).await?;
	let chain_type = client.chain_type().await?;
	if secret.starts_with("//") && !matches!(chain_type.as_str(), "Development" | "Local") {
		tracing::warn!(
			chain_type,
			"the owner key is a well-known development key on a {chain_type} chain: anyone can \
			 spend its funds"
		);
	}
	let market = client.market_params().await.context("reading the market's parameters")?;
	if price < market.min_price_per_unit {
		anyhow::bail!(
			"--price {} GRID is below the chain's minimum of {} GRID per unit",
			args.price,
			proofgrid_client::amount::format_grid(market.min_price_per_unit)
		);
	}
	let metrics = metrics::Metrics::new()?;
	let models = Arc::new(match &args.models {
		Some(dir) => proofgrid_worker::kinds::model::Library::load(dir)?,
		None => Default::default(),
	});
	if models.is_enabled() {
		tracing::info!(models = models.len(), "models loaded: model-i8 jobs are taken");
	}
	#[cfg(feature = "fault-injection")]
	let (hook, layer_hook) =
		(fault_hook(args.corrupt_fraction), fault_element_hook(args.corrupt_fraction));
	#[cfg(not(feature = "fault-injection"))]
	let (hook, layer_hook): (Option<Arc<LeafHook>>, Option<Arc<ElementHook>>) = (None, None);

	if args.metrics != "none" {
		let address: SocketAddr = args.metrics.parse().context("--metrics")?;
		let metrics = metrics.clone();
		tokio::spawn(async move {
			if let Err(e) = metrics.serve(address).await {
				tracing::error!("metrics server: {e:#}");
			}
		});
	}

	let (stop, stopped) = watch::channel(device::Stop::Run);
	let (stop_service, service_stopped) = watch::channel(false);
	// The data service's certificate, and the endpoint published with its pin.
	let tls = match (args.data_addr, args.plain_http) {
		(Some(address), false) => {
			let host = args
				.public_url
				.as_deref()
				.and_then(|url| reqwest::Url::parse(url).ok())
				.and_then(|url| url.host_str().map(str::to_string));
			let names = ["localhost".to_string(), address.ip().to_string()]
				.into_iter()
				.chain(host)
				.collect();
			Some(tls::load_or_generate(
				args.tls_cert.as_deref(),
				args.tls_key.as_deref(),
				&args.base_path.join("tls"),
				names,
			)?)
		}
		_ => None,
	};
	let scheme = if args.plain_http { "http" } else { "https" };
	let public_url = args
		.public_url
		.clone()
		.or_else(|| args.data_addr.map(|a| format!("{scheme}://{a}")))
		.map(|url| match &tls {
			Some(identity) => format!("{}{}", url.trim_end_matches('/'), identity.pin_fragment()),
			None => url,
		});
	if let Some(url) = &public_url {
		let max = proofgrid_primitives::device::MAX_ENDPOINT_LEN;
		anyhow::ensure!(
			proofgrid_primitives::job::is_http_url(url.as_bytes()) && url.len() <= max as usize,
			"the data service's endpoint {url} is not an http(s) URL of at most {max} bytes"
		);
		if tls.is_some() {
			anyhow::ensure!(
				url.starts_with("https://"),
				"--public-url {url}: the data service speaks TLS, so its URL is https://"
			);
		}
	}
	let devices = (0..backends.len())
		.map(|index| keys::load_or_create(&args.base_path.join(format!("keys/device-{index}.key"))))
		.collect::<Result<Vec<_>>>()?;
	// Before anything slow: an owner without the bond says so now, not at the first claim.
	device::check_owner_funds(&client, &owner, &devices, &market).await?;
	let mut data_devices = std::collections::BTreeMap::new();
	let mut device_tasks = Vec::new();
	for (backend, device) in backends.into_iter().zip(devices) {
		let state_dir = args.base_path.join(format!("devices/{}", device.address()));
		data_devices.insert(
			device.account().0,
			data::service::ServedDevice { dir: state_dir.clone(), key: device.clone() },
		);
		let store = state::Store::open(&state_dir)?;
		let gops = throughput::measured_gops(backend.as_ref(), &state_dir.join("throughput.json"))
			.context("measuring the backend's throughput")?;
		tracing::info!(device = %device.address(), backend = %backend.name(), gops, owner = %owner.address(), "device");
		let worker = device::DeviceWorker::new(device::DeviceConfig {
			client: client.clone(),
			owner: owner.clone(),
			device,
			backend: Arc::from(backend),
			store,
			price,
			max_bond,
			max_top_up_per_period,
			gops,
			max_output: args.disk_mib.saturating_mul(1 << 20),
			endpoint: public_url.clone().filter(|_| args.data_addr.is_some()),
			retention: Duration::from_secs(args.retention_hours.saturating_mul(3600)),
			fetch: fetch::FetchPolicy {
				max_bytes: args.max_input_mib.saturating_mul(1 << 20),
				private_addresses: args.fetch_private_urls,
			},
			market: market.clone(),
			metrics: metrics.clone(),
			poll: Duration::from_millis(args.poll_ms),
			faults: device::Faults { leaves: hook.clone(), layer_elements: layer_hook.clone() },
			models: models.clone(),
		});
		device_tasks.push(tokio::spawn(worker.run(stopped.clone())));
	}

	let mut service_task = None;
	if let Some(address) = args.data_addr {
		let service = Arc::new(data::service::DataService::new(
			client.clone(),
			data_devices,
			args.max_input_mib.saturating_mul(1 << 20),
		));
		let mut stopped = service_stopped.clone();
		let shutdown = async move {
			let _ = stopped.changed().await;
		};
		service_task =
			Some(tokio::spawn(async move { service.serve(address, tls, shutdown).await }));
	}

	// Until a signal — or until a device or the data service stops on its own (it cannot
	// register, say): then the worker says why at once and exits with it.
	// The first signal: claim nothing more, finish the held jobs (their devices' collateral is
	// at stake), then stop. A second: stop at once.
	let service_ended = async {
		match service_task.as_mut() {
			Some(task) => task.await,
			None => std::future::pending().await,
		}
	};
	let ended = tokio::select! {
		_ = shutdown_signal() => None,
		(result, index, _) = futures::future::select_all(device_tasks.iter_mut()), if !device_tasks.is_empty() => {
			device_tasks.remove(index);
			Some(result)
		}
		result = service_ended => {
			service_task = None;
			Some(result)
		}
	};
	let mut failure = None;
	match ended {
		None => {
			tracing::info!("stopping: claiming nothing more, finishing the jobs held (Ctrl-C or SIGTERM again stops at once)");
			let _ = stop.send(device::Stop::Finish);
		}
		Some(result) => {
			match result {
				Ok(Ok(())) => {
					tracing::warn!("a device task or the data service ended; shutting down")
				}
				Ok(Err(e)) => {
					tracing::error!("{e:#}; shutting down");
					failure = Some(e);
				}
				Err(e) => {
					tracing::error!("a device task failed: {e}; shutting down");
					failure = Some(anyhow::anyhow!("a device task failed: {e}"));
				}
			}
			let _ = stop.send(device::Stop::Now);
		}
	}
	let finished = futures::future::join_all(device_tasks.iter_mut());
	let results = tokio::select! {
		results = finished => results,
		_ = shutdown_signal() => {
			tracing::warn!("stopping at once");
			let _ = stop.send(device::Stop::Now);
			match tokio::time::timeout(Duration::from_secs(30), futures::future::join_all(device_tasks.iter_mut())).await {
				Ok(results) => results,
				Err(_) => {
					tracing::warn!("a device did not stop in 30 s; its state is on disk");
					Vec::new()
				}
			}
		}
	};
	for result in results {
		match result {
			Ok(Ok(())) => {}
			Ok(Err(e)) => tracing::error!("device: {e:#}"),
			Err(e) => tracing::error!("device task: {e}"),
		}
	}
	// The data service last: clients download what the devices finished.
	let _ = stop_service.send(true);
	if let Some(service) = service_task {
		match tokio::time::timeout(Duration::from_secs(10), service).await {
			Ok(Ok(Err(e))) => tracing::error!("data service: {e:#}"),
			Ok(Err(e)) => tracing::error!("data service task: {e}"),
			_ => {}
		}
	}
	failure.map_or(Ok(()), Err)
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
	let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
		.expect("SIGTERM handler");
	tokio::select! {
		_ = tokio::signal::ctrl_c() => {}
		_ = terminate.recv() => {}
	}
}
