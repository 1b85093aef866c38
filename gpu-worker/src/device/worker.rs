//! One device's life: make sure it is registered and funded, send heartbeats, and run the job
//! loop — find an eligible job, claim, compute, commit, wait for the challenge, reveal — with
//! every step recorded in the device's [`Store`] first, so a restart resumes the held job.

use std::{
	collections::HashMap,
	sync::Arc,
	time::{Duration, Instant},
};

use anyhow::{bail, ensure, Context, Result};
use codec::Encode;
use proofgrid_client::{
	amount::format_grid,
	devices::{DeviceInfo, DeviceStatus},
	jobs::{Job, JobStatus},
	market::MarketParams,
	Balance, Client, Keypair, GRID,
};
use proofgrid_primitives::{
	device::Kernel,
	gemm::GemmShape,
	job::{JobId, JobSpec, MerklePath, PublishedLeaf},
};
use tokio::sync::watch;

use crate::{
	backend::{Backend, ElementHook, LeafHook},
	device::admission::Capacity,
	metrics::Metrics,
	store::{
		output::OutputTree,
		state::{unix_now, Access, HeldJob, Stage, Store},
	},
};

/// Waiting jobs read from the chain's open-job index per poll at most.
const CANDIDATES_PER_POLL: usize = 16;
/// Wait before fetching a URL input again after a failure (doubled after each).
const FETCH_BACKOFF: Duration = Duration::from_secs(1);
/// Longest wait between fetches of a URL input.
const MAX_FETCH_BACKOFF: Duration = Duration::from_secs(60);
/// Refused job ids remembered (8 bytes each).
const MAX_REFUSED: usize = 100_000;
/// Blocks between heartbeats (the chain forgets a device after 100 blocks without one, and
/// refunds one every 10 blocks at most).
const HEARTBEAT_EVERY: u32 = 30;
/// Below this free balance, the owner tops up the device account. Claims, commits and reveals
/// are free; the balance covers heartbeats, whose fee is charged up front and refunded.
const DEVICE_MIN_BALANCE: Balance = GRID;
/// What the owner sends when topping up.
const DEVICE_TOP_UP: Balance = 10 * GRID;
/// The period of the bond's loss budget (`--max-top-up-per-day`).
pub const TOP_UP_PERIOD: Duration = Duration::from_secs(24 * 3600);

/// What the owner keeps for its own transactions (registration, endpoint, top-ups) when the
/// worker checks its funds at start.
const OWNER_FEE_MARGIN: Balance = GRID;

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

/// How a job this device held ended, as final on chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finished {
	/// Verified and paid.
	Settled,
	/// Its reveal failed: the collateral was slashed.
	Failed,
	/// No longer this device's: released, a missed window, expired, or its end not found.
	Lost,
}

impl Finished {
	/// The name in logs and in the `proofgrid_worker_jobs_total{outcome}` metric.
	pub fn as_str(self) -> &'static str {
		match self {
			Self::Settled => "settled",
			Self::Failed => "failed",
			Self::Lost => "lost",
		}
	}
}

/// How the worker is asked to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
	/// Not at all: work on.
	Run,
	/// Claim nothing more; stop once the held job has ended (the first Ctrl-C or SIGTERM).
	Finish,
	/// At once (a second signal), saying what the held job puts at stake.
	Now,
}

/// What runs one device: its keys, backend and store, its terms and limits (the `run`
/// command's options). [`DeviceWorker::new`] takes it; what the worker learns while it runs
/// (refusals logged, fetch back-offs, finality waits) stays inside.
pub struct DeviceConfig {
	pub client: Client,
	pub owner: Keypair,
	pub device: Keypair,
	pub backend: Arc<dyn Backend>,
	pub store: Store,
	pub price: Balance,
	/// Most bond to hold for this device (top-ups stop here).
	pub max_bond: Balance,
	/// Most the owner adds to this device's bond in any [`TOP_UP_PERIOD`]: a loss budget, so
	/// that failures, whoever causes them, cannot drain the owner's account through refills.
	pub max_top_up_per_period: Balance,
	/// The chain's market parameters (collateral, windows).
	pub market: MarketParams,
	/// The backend's measured throughput (GOPS): used to estimate whether a job can be
	/// finished in its commit window, and advertised on chain less a margin.
	pub gops: u64,
	/// Most disk one job's output tree may take, bytes.
	pub max_output: u64,
	/// The URL of this worker's data service, published on chain for the device (supplied
	/// jobs need it: their inputs are uploaded to it).
	pub endpoint: Option<String>,
	/// How long a supplied job's output is kept for its client.
	pub retention: Duration,
	/// What URL inputs may be fetched.
	pub fetch: crate::data::fetch::FetchPolicy,
	pub metrics: Metrics,
	pub poll: Duration,
	/// Fault injection: none outside the tests' `fault-injection` build.
	pub faults: Faults,
}

/// Fault injection (tests only: the `fault-injection` build's `--corrupt-fraction`), so the
/// tests can run a cheater through the real worker.
#[derive(Clone, Default)]
pub struct Faults {
	/// Falsifies the selected output leaves.
	pub leaves: Option<Arc<LeafHook>>,
	/// Falsifies the selected elements of a layer's output.
	pub layer_elements: Option<Arc<ElementHook>>,
}

/// One device's worker: [`DeviceWorker::run`] until told to stop.
pub struct DeviceWorker {
	config: DeviceConfig,
	/// Jobs whose refusal was logged already (once each).
	refused: std::sync::Mutex<std::collections::HashSet<u64>>,
	/// When each failed URL input (job, matrix) may be fetched again, and the back-off after
	/// that: a bad URL is not fetched every round.
	fetch_retries: std::sync::Mutex<HashMap<(u64, char), (Instant, Duration)>>,
	/// Jobs whose wait for a final challenge block was logged already (once each).
	finality_waits: std::sync::Mutex<std::collections::HashSet<u64>>,
}

impl DeviceWorker {
	/// A worker for the device `config` describes.
	pub fn new(config: DeviceConfig) -> Self {
		Self {
			config,
			refused: Default::default(),
			fetch_retries: Default::default(),
			finality_waits: Default::default(),
		}
	}

	fn log_name(&self) -> String {
		format!("{} {}", self.config.backend.name(), self.config.device.address())
	}

	/// What the device advertises: the backend's spec with its measured throughput, less the
	/// margin its commit windows need ([`crate::device::throughput::advertised`]).
	fn spec(&self) -> proofgrid_primitives::device::DeviceSpec {
		proofgrid_primitives::device::DeviceSpec {
			advertised_gops: crate::device::throughput::advertised(self.config.gops),
			..self.config.backend.spec()
		}
	}

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
	async fn ensure_funded(&self) -> Result<()> {
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

	/// Runs until `stop` says so. Errors of one step are logged and retried. On
	/// [`Stop::Finish`] it claims nothing more and returns once the job it holds has ended (its
	/// output committed and revealed, its outcome final); on [`Stop::Now`] it returns at once,
	/// saying what the held job puts at stake.
	pub async fn run(self, mut stop: watch::Receiver<Stop>) -> Result<()> {
		self.ensure_registered().await?;
		tracing::info!(device = %self.log_name(), "job loop started");
		let mut finishing = false;
		loop {
			let now = *stop.borrow();
			match now {
				Stop::Run => {}
				Stop::Finish => match self.config.store.held()? {
					None => break,
					Some(held) if !finishing => {
						finishing = true;
						tracing::info!(device = %self.config.device.address(), job = held.job, "stopping once this job has ended: it is committed, revealed and final first (a second Ctrl-C or SIGTERM stops at once)");
					}
					Some(_) => {}
				},
				Stop::Now => {
					self.warn_at_stake().await;
					break;
				}
			}
			if let Err(error) = self.step(now == Stop::Run).await {
				tracing::warn!(device = %self.config.device.address(), "{error:#}");
			}
			tokio::select! {
				_ = tokio::time::sleep(self.config.poll) => {}
				_ = stop.changed() => {}
			}
		}
		tracing::info!(device = %self.config.device.address(), "stopped");
		Ok(())
	}

	/// Says what stopping now costs the held job's device unless the worker is started again
	/// in time.
	async fn warn_at_stake(&self) {
		let Ok(Some(held)) = self.config.store.held() else { return };
		let job = held.job;
		let device = self.config.device.address();
		let status = match self.config.client.job(job).await {
			Ok(Some(info)) => info.status,
			_ => {
				tracing::warn!(
					device,
					job,
					"stopping with job {job} held; start the worker again soon to finish it"
				);
				return;
			}
		};
		// At the pace the chain keeps now (a dev chain may seal far faster than its target).
		let block_ms = match self.config.client.block_time().await {
			Ok(time) => time.ms(),
			Err(_) => self.config.market.block_ms,
		};
		let seconds = |blocks: u32| u64::from(blocks) * block_ms / 1000;
		let best = self.config.client.best_number().await.unwrap_or_default();
		match status {
			JobStatus::Assigned { commit_by, .. } => {
				let left = commit_by.saturating_sub(best);
				tracing::warn!(device, job, "stopping with job {job} claimed and not committed: unless the worker is started again and commits it by block #{commit_by} ({left} blocks, about {} s), the device forfeits at least {} GRID", seconds(left), format_grid(self.config.market.claim_deposit));
			}
			JobStatus::Committed { reveal_by, collateral, .. } => {
				let left = reveal_by.saturating_sub(best);
				tracing::warn!(device, job, "stopping with job {job} committed and not yet verified: unless the worker is started again and reveals it by block #{reveal_by} ({left} blocks, about {} s), the device loses its collateral of {} GRID", seconds(left), format_grid(collateral));
			}
			JobStatus::Verified { dispute_until, collateral, .. } => {
				let left = dispute_until.saturating_sub(best);
				tracing::warn!(device, job, "stopping with job {job} verified and in its dispute window (to block #{dispute_until}, about {} s): a data demand left unanswered meanwhile costs the device its collateral of {} GRID; start the worker again to answer", seconds(left), format_grid(collateral));
			}
			JobStatus::Submitted => {}
		}
	}

	/// One round: heartbeat if due, then advance the held job or (if `claim`) look for a new
	/// one.
	async fn step(&self, claim: bool) -> Result<()> {
		let best = self.config.client.best_number().await?;
		let info = self
			.config
			.client
			.device(&self.config.device.account())
			.await?
			.context("the device is not registered any more")?;
		let unbonding = matches!(info.status, DeviceStatus::Unbonding { .. });
		// An unbonding device's heartbeat would fail and keep its fee: send none.
		if !unbonding && best.saturating_sub(info.last_heartbeat) >= HEARTBEAT_EVERY {
			self.ensure_funded().await?;
			self.config.client.heartbeat(&self.config.device).await.context("heartbeat")?;
			self.config.store.sweep_outputs(self.config.retention)?;
			tracing::debug!(device = %self.config.device.address(), "heartbeat");
		}
		// A demand on a verified job left unanswered would fail it: answer first.
		if let Err(error) = self.answer_demands().await {
			tracing::warn!(device = %self.config.device.address(), "answering data demands: {error:#}");
		}
		match self.config.store.held()? {
			Some(held) => self.advance(held, best).await,
			// A paused or unbonding device takes no work: the pool would refuse its claims.
			None if !matches!(info.status, DeviceStatus::Active) || !claim => Ok(()),
			None => self.find_and_claim(best, &info).await,
		}
	}

	/// Publishes on chain the leaves (values and paths) that clients demand of this device's
	/// verified jobs, from the output it keeps for them: a demand left unanswered fails the job
	/// as a wrong result would.
	async fn answer_demands(&self) -> Result<()> {
		for (job, elements) in
			self.config.client.demands_for_device(&self.config.device.account()).await?
		{
			let info = self.config.client.job(job).await?.context("a demanded job is not open")?;
			let leaves = match info.spec.0.layer() {
				Some(_) => self.demanded_rows(job, &info.spec.0.shape, &elements)?,
				None => self.demanded_leaves(job, &info.spec.0.shape, &elements)?,
			};
			self.ensure_funded().await?;
			self.config.client.publish_data(&self.config.device, job, leaves).await?;
			tracing::info!(device = %self.config.device.address(), job, elements = elements.len(), "published the leaves its client demanded");
		}
		Ok(())
	}

	/// The leaves of a GEMM output holding `elements`, with their paths.
	fn demanded_leaves(
		&self,
		job: JobId,
		shape: &GemmShape,
		elements: &[(u32, u32)],
	) -> Result<Vec<PublishedLeaf>> {
		let values = self.config.store.values_path(job);
		let tree = self
			.config
			.store
			.output(job, shape.leaf_count())?
			.with_context(|| format!("job {job}'s output tree is gone"))?;
		elements
			.iter()
			.map(|&(row, col)| {
				let index = shape.leaf_of(row, col);
				Ok(PublishedLeaf::Tile {
					values: crate::store::output::read_leaf_values(&values, index)?,
					path: as_path(tree.proof(index)?)?,
				})
			})
			.collect()
	}

	/// The rows of a layer's output `Y` holding `elements`, with their paths (the tree over
	/// the rows' lane hashes, rebuilt from the kept output).
	fn demanded_rows(
		&self,
		job: JobId,
		shape: &GemmShape,
		elements: &[(u32, u32)],
	) -> Result<Vec<PublishedLeaf>> {
		let (y, _) =
			self.config.store.layer(job)?.with_context(|| format!("job {job}'s output is gone"))?;
		let rows: Vec<&[i8]> = y.chunks_exact(shape.n.max(1) as usize).collect();
		let tree = proofgrid_primitives::merkle::MerkleTree::from_leaf_hashes(
			rows.iter().map(|row| proofgrid_primitives::inputs::hash_lane(row)).collect(),
		)
		.context("an empty output")?;
		elements
			.iter()
			.map(|&(row, _)| {
				let values = rows.get(row as usize).context("a row beyond the output")?;
				Ok(PublishedLeaf::Row {
					values: values
						.to_vec()
						.try_into()
						.map_err(|_| anyhow::anyhow!("a row longer than a lane"))?,
					path: as_path(
						tree.proof(row.into()).map_err(|e| anyhow::anyhow!("row {row}: {e:?}"))?,
					)?,
				})
			})
			.collect()
	}

	/// Collateral the chain locks if this device claims `job`.
	fn collateral(&self, info: &DeviceInfo, job: &Job) -> Balance {
		self.config.market.collateral_for(info.price_per_unit.saturating_mul(job.units.into()))
	}

	/// Bond to add so that the device meets the minimum bond and its free bond covers
	/// `collateral`; `None` if that would take the bond beyond `--max-bond`, or the top-ups of
	/// the last [`TOP_UP_PERIOD`] beyond `--max-top-up-per-day`.
	fn top_up_needed(&self, info: &DeviceInfo, collateral: Balance) -> Option<Balance> {
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

	/// Why this device cannot do `job` (memory, time, disk, collateral), if it cannot.
	fn cannot_do(&self, info: &DeviceInfo, job: &Job, gops: u64) -> Option<String> {
		let capacity = Capacity {
			backend: self.config.backend.as_ref(),
			market: &self.config.market,
			chain_gops: gops,
			gops: self.config.gops,
			free_disk: self.config.store.available_disk().ok(),
			max_output: self.config.max_output,
		};
		if job.spec.0.supplied().is_some() {
			// Uploads arrive, and every output is delivered, through the data service.
			if self.config.endpoint.is_none() {
				return Some("supplied inputs need the data service (--data-addr)".into());
			}
		}
		if job.spec.0.layer().is_some() {
			if let Some(reason) = crate::device::admission::layer_refusal(
				&job.spec.0.shape,
				self.config.fetch.max_bytes,
			) {
				return Some(reason);
			}
		}
		if let Some(reason) = capacity.refusal(&job.spec.0.shape) {
			return Some(reason);
		}
		if self.top_up_needed(info, self.collateral(info, job)).is_none() {
			return Some(format!(
				"its collateral ({} GRID) would take the bond beyond --max-bond, or the day's \
				 top-ups beyond --max-top-up-per-day",
				format_grid(self.collateral(info, job))
			));
		}
		None
	}

	/// Remembers that job `id` is not for this device; `true` the first time. The memory is
	/// bounded: past [`MAX_REFUSED`] ids it starts again (and re-reads a few jobs once).
	fn remember_refusal(&self, id: u64) -> bool {
		let Ok(mut refused) = self.refused.lock() else { return false };
		if refused.len() >= MAX_REFUSED {
			refused.clear();
		}
		refused.insert(id)
	}

	/// Claims the first open job this device may and can do, topping its bond up first if the
	/// job's collateral needs it.
	async fn find_and_claim(&self, best: u32, info: &DeviceInfo) -> Result<()> {
		let gops = info.measured_gops.unwrap_or(info.spec.0.advertised_gops);
		let me = self.config.device.account();
		// Jobs never to look at again: lost or failed here before, or not for this device
		// (a job's requirements, price cap and abandoning devices never get better for it).
		let mut skip: std::collections::HashSet<u64> =
			self.config.store.lost()?.into_iter().collect();
		if let Ok(refused) = self.refused.lock() {
			skip.extend(refused.iter().copied());
		}
		let mut jobs = Vec::new();
		for kernel in Kernel::ALL {
			if info.spec.0.kernels.contains(kernel) && jobs.len() < CANDIDATES_PER_POLL {
				let more = self
					.config
					.client
					.open_jobs_paying(kernel, info.price_per_unit, &skip, CANDIDATES_PER_POLL)
					.await?;
				jobs.extend(more);
			}
		}
		let candidate = jobs.into_iter().find(|(id, job)| {
			let spec = &job.spec.0;
			// The pool checks a claim as of the next block.
			if !matches!(job.status, JobStatus::Submitted) || job.price_cap < info.price_per_unit {
				return false;
			}
			let for_me = job.deadline > best + 1
				&& !job.abandoned.0.contains(&me)
				&& spec.requirements.unmet_by(&info.spec.0, gops).is_none();
			if !for_me {
				// None of these gets better for this device: never read the job again.
				self.remember_refusal(*id);
				return false;
			}
			// Jobs this device could take but cannot finish: say why, once.
			match self.cannot_do(info, job, gops) {
				None => true,
				Some(reason) => {
					if self.remember_refusal(*id) {
						tracing::info!(device = %self.config.device.address(), job = id, "refused: {reason}");
					}
					false
				}
			}
		});
		let Some((id, job)) = candidate else { return Ok(()) };
		let collateral = self.collateral(info, &job);
		if let Some(amount) = self.top_up_needed(info, collateral).filter(|a| *a > 0) {
			self.config
				.client
				.top_up_bond(&self.config.owner, &me, amount)
				.await
				.context("topping up the bond")?;
			self.config.store.record_top_up(amount, TOP_UP_PERIOD)?;
			tracing::info!(device = %self.config.device.address(), amount = %format_grid(amount), "bond topped up");
		}
		// Device calls are free, but the account must exist and pay heartbeats: top it up
		// before every call it signs, not only at heartbeats.
		self.ensure_funded().await?;
		// Recorded before it is sent: after a crash here, the chain says whether it landed.
		let claiming = HeldJob::claiming(id, &job.spec.0);
		self.config.store.save_access(id, &Access::of(&job.client.0, &job.spec.0))?;
		self.config.store.hold(&claiming)?;
		match self.config.client.claim_job(&self.config.device, id).await {
			Ok(()) => {
				// The claim fixed the job's inputs (its seed now includes the hash of the block
				// before the claim's): compute what the chain stores, not what was listed.
				let claimed =
					self.config.client.job(id).await?.context("the claimed job vanished")?;
				self.config.store.hold(&claiming.claimed(&claimed.spec.0))?;
				tracing::info!(
					device = %self.config.device.address(),
					job = id,
					units = job.units,
					collateral = %format_grid(collateral),
					"claimed"
				);
				Ok(())
			}
			// The pool refuses a claim that would fail (another device was faster, the job
			// expired): nothing was paid, look again next round.
			Err(e @ proofgrid_client::Error::Rejected(_)) => {
				tracing::debug!(job = id, "claim refused: {e}");
				self.config.store.release(id)
			}
			// Unknown outcome (e.g. the connection dropped): the next round asks the chain.
			Err(e) => Err(e.into()),
		}
	}

	/// Fetches the inputs of supplied job `job` that come from URLs (or, for a layer's `A`, from
	/// the device that computed the earlier layer) and have not arrived yet. A failure is logged
	/// and tried again after a back-off ([`FETCH_BACKOFF`], doubling up to
	/// [`MAX_FETCH_BACKOFF`]) until the input window closes and the job is released.
	async fn fetch_inputs(&self, job: u64, spec: &JobSpec) -> Result<()> {
		use proofgrid_client::data::Matrix;
		use proofgrid_primitives::job::{InputSource, JobInputs};
		let (matrices, a, b, bias) = match &spec.inputs {
			JobInputs::Supplied { matrices, a, b, .. } => (matrices, a, b, None),
			JobInputs::Layer { matrices, a, b, bias, layer, .. } => {
				(matrices, a, b, Some((bias, layer.bias)))
			}
			JobInputs::Seeded { .. } => return Ok(()),
		};
		let mut missing = Vec::new();
		for (name, source) in [('a', a), ('b', b)] {
			if !matches!(source, InputSource::Upload) && !self.config.store.has_input(job, name) {
				missing.push((name, source));
			}
		}
		if let Some((source, _)) = bias {
			if *source != InputSource::Upload && self.config.store.bias(job)?.is_none() {
				missing.push(('w', source));
			}
		}
		for (name, source) in missing {
			let retry = self.fetch_retries.lock().expect("not poisoned").get(&(job, name)).copied();
			if retry.is_some_and(|(at, _)| Instant::now() < at) {
				continue;
			}
			// Never longer than the input window: a server that drips its bytes must not hold
			// the job loop (and the device's heartbeats) past the point of giving the job back.
			let limit = Duration::from_millis(
				u64::from(self.config.market.input_window_for(spec))
					.saturating_mul(self.config.market.millisecs_per_block),
			);
			let fetching = async {
				match (name, source) {
					('a', InputSource::Job(earlier)) => {
						let (bytes, from) = self.chained_rows(job, *earlier, &matrices.a).await?;
						self.config.store.save_input(job, 'a', &bytes)?;
						Ok((bytes.len(), from))
					}
					('w', InputSource::Url(url)) => {
						let url = String::from_utf8_lossy(url).into_owned();
						let root = bias.map(|(_, root)| root).unwrap_or_default();
						let values = crate::data::fetch::fetch_bias(
							&url,
							spec.shape.n,
							&root,
							&self.config.fetch,
						)
						.await?;
						self.config.store.save_bias(job, &values)?;
						Ok((values.len() * 4, url))
					}
					(name, InputSource::Url(url)) => {
						let url = String::from_utf8_lossy(url).into_owned();
						let (matrix, commitment) = match name {
							'a' => (Matrix::A, &matrices.a),
							_ => (Matrix::B, &matrices.b),
						};
						let bytes = crate::data::fetch::fetch_input(
							&url,
							matrix,
							commitment,
							&self.config.fetch,
						)
						.await?;
						self.config.store.save_input(job, name, &bytes)?;
						Ok((bytes.len(), url))
					}
					(_, source) => bail!("input {name} cannot come from {source:?}"),
				}
			};
			let fetched: Result<(usize, String)> = tokio::time::timeout(limit, fetching)
				.await
				.unwrap_or_else(|_| Err(anyhow::anyhow!("gave up after {limit:?}")));
			match fetched {
				Ok((bytes, from)) => {
					self.fetch_retries.lock().expect("not poisoned").remove(&(job, name));
					tracing::info!(job, input = %name, bytes, %from, "input fetched");
				}
				Err(e) => {
					let backoff =
						retry.map_or(FETCH_BACKOFF, |(_, b)| (b * 2).min(MAX_FETCH_BACKOFF));
					let now = Instant::now();
					let mut retries = self.fetch_retries.lock().expect("not poisoned");
					// Forget jobs long given up (released or ended).
					retries.retain(|_, (at, _)| now.duration_since(*at) < 10 * MAX_FETCH_BACKOFF);
					retries.insert((job, name), (now + backoff, backoff));
					tracing::warn!(job, input = %name, retry_in = ?backoff, "{e:#}");
				}
			}
		}
		Ok(())
	}

	/// The rows of settled layer job `earlier`'s output, committed as `commitment` (which the
	/// chain checked against its kept output), the `A` of this device's job `job`: from this
	/// device's own store if it computed them, else from the data service of the device that
	/// did. Returns them and where from.
	async fn chained_rows(
		&self,
		job: u64,
		earlier: u64,
		commitment: &proofgrid_primitives::inputs::MatrixCommitment,
	) -> Result<(Vec<u8>, String)> {
		let kept = self
			.config
			.client
			.layer_output(earlier)
			.await?
			.with_context(|| format!("job {earlier}'s output is no longer kept on chain"))?;
		if kept.device == self.config.device.account() {
			if let Some((y, _)) = self.config.store.layer(earlier)? {
				let bytes: Vec<u8> = y.iter().map(|&v| v as u8).collect();
				if crate::data::fetch::matches_commitment(bytes.clone().into(), *commitment).await {
					return Ok((bytes, "this device".into()));
				}
			}
		}
		let endpoint = self
			.config
			.client
			.endpoint(&kept.device)
			.await?
			.context("the device that computed it publishes no data service")?;
		let checked = proofgrid_client::endpoint::check_endpoint(
			&endpoint,
			self.config.fetch.address_policy(),
		)?;
		let url =
			format!("{}/v1/jobs/{earlier}/output", checked.url.as_str().trim_end_matches('/'));
		// A private output is served to the device of a job chained from it: this request
		// names the job it is for, and the serving device checks that on chain.
		let grant = proofgrid_client::grants::DownloadGrant::by_chained_device(
			&self.config.device,
			&self.config.client.genesis_hash().0,
			kept.device.0,
			earlier,
			job,
		);
		let headers = grant.headers();
		let bytes = crate::data::fetch::fetch_rows(
			&url,
			checked.cert_sha256,
			commitment,
			&self.config.fetch,
			&headers,
		)
		.await?;
		Ok((bytes, url))
	}

	/// Whether every input of supplied job `job` has arrived (uploaded, fetched).
	fn inputs_arrived(&self, job: u64, spec: &JobSpec) -> Result<bool> {
		let matrices = self.config.store.inputs(job)?.is_some();
		Ok(matrices && (spec.layer().is_none() || self.config.store.bias(job)?.is_some()))
	}

	/// Moves the held job one step on, according to what the chain says about it at `best`.
	async fn advance(&self, mut held: HeldJob, best: u32) -> Result<()> {
		let job = held.job;
		let me = self.config.device.account();
		let on_chain: Option<Job> = self.config.client.job(job).await?;
		let status = on_chain.as_ref().map(|j| j.status.clone());
		if held.stage == Stage::Claiming {
			// A claim whose outcome we did not see: keep the job if it landed, with the spec
			// the chain fixed at the claim; forget it otherwise (nothing was lost).
			match (&status, &on_chain) {
				(Some(JobStatus::Assigned { device, .. }), Some(info)) if *device == me => {
					held = held.claimed(&info.spec.0);
					self.config.store.hold(&held)?;
				}
				_ => {
					tracing::info!(device = %self.config.device.address(), job, "an unconfirmed claim did not land");
					return self.config.store.release(job);
				}
			}
		}
		match status {
			Some(JobStatus::Assigned {
				device, claimed_at, commit_by, inputs_received, ..
			}) if device == me => {
				let spec = held.spec()?;
				if spec.supplied().is_some() && !self.inputs_arrived(job, &spec)? {
					self.fetch_inputs(job, &spec).await?;
				}
				if spec.supplied().is_some() && !self.inputs_arrived(job, &spec)? {
					if inputs_received {
						// The chain holds this device's receipt, yet the inputs are gone
						// (a lost disk): a release would cost the call fee; missing the
						// commit window costs the same, so wait for a re-upload until then.
						tracing::warn!(device = %self.config.device.address(), job, "the client holds a receipt for inputs this device no longer has; waiting for a re-upload");
						return Ok(());
					}
					// Waiting for the client's upload (or a reachable URL); past the input
					// window the job goes back without penalty (the chain cannot tell whose
					// fault it is).
					if best + 1 < claimed_at + self.config.market.input_window_for(&spec) {
						return Ok(());
					}
					// An upload still arriving is waited for, as long as the compute still fits
					// the commit window (with half the base window to spare).
					let compute = self
						.config
						.market
						.commit_window(&spec.shape, self.config.gops)
						.unwrap_or(u32::MAX)
						.saturating_sub(self.config.market.base_commit_window / 2);
					if self.config.store.upload_in_progress(job)
						&& best.saturating_add(1).saturating_add(compute) < commit_by
					{
						tracing::info!(device = %self.config.device.address(), job, "an upload is under way; not releasing yet");
						return Ok(());
					}
					// No receipt is signed from here on; inputs that came meanwhile are used.
					self.config.store.mark_releasing(job)?;
					if self.inputs_arrived(job, &spec)? {
						self.config.store.unmark_releasing(job);
						return Ok(());
					}
					let released = self.config.client.release_job(&self.config.device, job).await;
					self.config.store.unmark_releasing(job);
					released?;
					tracing::warn!(device = %self.config.device.address(), job, "inputs did not arrive in the input window; released the job");
					self.finish(&held, Finished::Lost, &spec);
					return Ok(());
				}
				let root = match spec.layer() {
					Some(_) => self.layer(&held, &spec).await?.tree.root(),
					None => self.gemm_root(&held, &spec).await?,
				};
				held.stage = Stage::Computed;
				held.root = Some(hex::encode(root));
				self.config.store.hold(&held)?;
				self.ensure_funded().await?;
				let challenge_block =
					self.config.client.commit_job(&self.config.device, job, root).await?;
				held.stage = Stage::Committed;
				self.config.store.hold(&held)?;
				tracing::info!(device = %self.config.device.address(), job, root = %hex::encode(root), challenge_block, "committed");
				Ok(())
			}
			Some(JobStatus::Committed { device, root, challenge_block, reveal_by, .. })
				if device == me =>
			{
				if held.stage == Stage::Revealed {
					// Our reveal is not in the best chain: a reorg dropped it. Answer again.
					tracing::warn!(device = %self.config.device.address(), job, "the reveal left the best chain; revealing again");
				} else if held.stage != Stage::Committed {
					// We crashed between the commit and recording it.
					held.stage = Stage::Committed;
					held.root = Some(hex::encode(root.0));
				}
				if held.challenge != Some((challenge_block, reveal_by)) {
					held.challenge = Some((challenge_block, reveal_by));
					self.config.store.hold(&held)?;
				}
				if best <= challenge_block {
					return Ok(());
				}
				// A final challenge block while there is time: a reveal for a block a reorg
				// replaces would be refused and sent again. Near the deadline, the best chain's
				// (a stall of finality must not make an honest device late); after a reorg the
				// job is still committed at the best block and is answered again.
				let margin = self.config.market.reveal_window / 2;
				let Some(challenge) = self.config.client.challenge_to_answer(job, margin).await?
				else {
					if self.finality_waits.lock().map(|mut w| w.insert(job)).unwrap_or(false) {
						tracing::info!(device = %self.config.device.address(), job, challenge_block, reveal_by, "waiting for the challenge block to be finalized");
					}
					return Ok(());
				};
				let indices = challenge.indices;
				let spec = held.spec()?;
				self.ensure_funded().await?;
				if spec.layer().is_some() {
					let mut output = self.layer(&held, &spec).await?;
					if output.tree.root() != root.0 {
						// A damaged file: compute it again from the inputs.
						tracing::warn!(
							job,
							"the saved layer does not match the committed root; computing it again"
						);
						self.config.store.discard_values(job)?;
						output = self.layer(&held, &spec).await?;
						ensure!(
							output.tree.root() == root.0,
							"job {job}: the layer computed again does not match the committed root"
						);
					}
					let (rows, cols) =
						self.config.store.inputs(job)?.context("the job's inputs are gone")?;
					let bias = self.config.store.bias(job)?.context("the job's biases are gone")?;
					let samples = crate::kinds::layer::reveal(
						job,
						&spec.shape,
						spec.supplied_samples().unwrap_or_default(),
						&rows,
						&cols,
						&bias,
						&output,
						&challenge.randomness.0,
					)?;
					let settled = self
						.config
						.client
						.reveal_layer(
							&self.config.device,
							job,
							challenge.block_hash,
							samples,
							spec.shape.k,
						)
						.await?;
					held.stage = Stage::Revealed;
					self.config.store.hold(&held)?;
					tracing::info!(device = %self.config.device.address(), job, challenge_block = challenge.block, checked_out = settled, "layer revealed; waiting for the outcome to be finalized");
					return Ok(());
				}
				let tree = self.output(&held, &spec).await?;
				if tree.root() != root.0 {
					tracing::warn!(job, "the recomputed output does not match the committed root");
				}
				let settled = if spec.supplied().is_some() {
					let samples = crate::kinds::supplied::reveal(
						&self.config.store,
						job,
						&spec,
						&tree,
						&challenge.randomness.0,
					)?;
					self.config
						.client
						.reveal_supplied(
							&self.config.device,
							job,
							challenge.block_hash,
							samples,
							spec.shape.k,
						)
						.await?
				} else {
					let paths = indices
						.iter()
						.map(|&i| tree.proof(i).with_context(|| format!("the path of leaf {i}")))
						.collect::<Result<Vec<_>>>()?;
					self.config
						.client
						.reveal_job(
							&self.config.device,
							job,
							challenge.block_hash,
							paths,
							spec.shape.k,
						)
						.await?
				};
				held.stage = Stage::Revealed;
				self.config.store.hold(&held)?;
				tracing::info!(
					device = %self.config.device.address(),
					job,
					challenge_block = challenge.block,
					checked_out = settled,
					"revealed; waiting for the outcome to be finalized"
				);
				Ok(())
			}
			// A job on supplied inputs whose reveal checked out: it settles by itself when its
			// dispute window closes, and its output stays downloadable (retention) meanwhile.
			// The device is done with it once the finalized block agrees.
			Some(JobStatus::Verified { device, dispute_until, .. })
				if device == me && matches!(held.stage, Stage::Committed | Stage::Revealed) =>
			{
				let finalized = self.config.client.job_at_finalized(job).await?.map(|j| j.status);
				if !matches!(finalized, Some(JobStatus::Verified { .. })) {
					return Ok(());
				}
				tracing::info!(device = %self.config.device.address(), job, dispute_until, "verified; paid when its dispute window closes");
				let spec = held.spec()?;
				self.finish(&held, Finished::Settled, &spec);
				Ok(())
			}
			// Committed and no longer open at the best block: a reveal (ours, or one we sent
			// before a crash) or a deadline ended it. Done once the finalized block agrees.
			_ if matches!(held.stage, Stage::Committed | Stage::Revealed) => {
				if self.config.client.is_open_at_finalized(job).await? {
					return Ok(());
				}
				let outcome = self.final_outcome(&held).await?;
				let spec = held.spec()?;
				self.finish(&held, outcome, &spec);
				Ok(())
			}
			// The job ended, went back to the queue (missed commit window) or is someone else's.
			_ => {
				tracing::warn!(device = %self.config.device.address(), job, "job no longer assigned to this device; dropping it");
				let spec = held.spec()?;
				self.finish(&held, Finished::Lost, &spec);
				Ok(())
			}
		}
	}

	/// How a committed job that is closed at the finalized block ended: its settlement or
	/// failure event, looked for from its challenge block to shortly after its reveal window.
	async fn final_outcome(&self, held: &HeldJob) -> Result<Finished> {
		use proofgrid_client::jobs::JobOutcome;
		let finalized = self.config.client.finalized_number().await?;
		// Deadlines may be pushed a few blocks on by full queues, or enforced by `expire`.
		const AFTER_WINDOW: u32 = 32;
		let (from, to) = match held.challenge {
			Some((challenge_block, reveal_by)) => {
				(challenge_block + 1, finalized.min(reveal_by + AFTER_WINDOW))
			}
			None => (finalized.saturating_sub(AFTER_WINDOW), finalized),
		};
		for number in from..=to {
			match self.config.client.job_outcome_in(held.job, number).await? {
				// Verified (supplied inputs): it settled when its dispute window closed, unless a
				// fraud proof was upheld after the range looked at here.
				Some(JobOutcome::Settled { .. } | JobOutcome::Verified { .. }) => {
					return Ok(Finished::Settled)
				}
				Some(JobOutcome::Failed { reason, slashed, block, .. }) => {
					// Said where the operator looks, with what it cost.
					tracing::warn!(
						device = %self.config.device.address(),
						job = held.job,
						block,
						reason,
						"job failed: {} GRID of the device's bond slashed",
						format_grid(slashed)
					);
					return Ok(Finished::Failed);
				}
				Some(_) => return Ok(Finished::Lost),
				None => {}
			}
		}
		Ok(Finished::Lost)
	}

	/// The root of a GEMM job's output, computed (or read back), and spot-checked against the
	/// CPU reference where the backend is not the reference itself.
	async fn gemm_root(&self, held: &HeldJob, spec: &JobSpec) -> Result<[u8; 32]> {
		let job = held.job;
		let tree = self.output(held, spec).await?;
		if self.config.backend.is_reference() {
			return Ok(tree.root());
		}
		// Drawn where the backend cannot predict them: the time and the job.
		let salt = (
			job,
			std::time::SystemTime::now()
				.duration_since(std::time::UNIX_EPOCH)
				.map(|d| d.as_nanos())
				.unwrap_or_default(),
		)
			.encode();
		let (store, spec_owned) = (self.config.store.clone(), spec.clone());
		// Reading the inputs back and recomputing leaves blocks: off the async threads.
		let (checked, tree) = tokio::task::spawn_blocking(move || {
			(spot_check_output(&store, job, &spec_owned, &tree, &salt), tree)
		})
		.await?;
		if let Err(mismatch) = checked? {
			self.config.store.discard_output(job)?;
			self.config.metrics.spot_check_failures.inc();
			self.config.backend.distrust_fast_path();
			bail!("not committing job {job}: {mismatch}; computing it again");
		}
		Ok(tree.root())
	}

	/// A `linear-i8` job's output: the saved one, or computed now from its inputs and saved
	/// (`Y` and the accumulators, served to its client and to chained jobs).
	async fn layer(
		&self,
		held: &HeldJob,
		spec: &JobSpec,
	) -> Result<crate::kinds::layer::LayerOutput> {
		let (job, n) = (held.job, spec.shape.n as usize);
		if let Some((y, acc)) = self.config.store.layer(job)? {
			return crate::kinds::layer::LayerOutput::new(y, acc, n);
		}
		let layer = *spec.layer().context("not a layer")?;
		let (rows, cols) = self.config.store.inputs(job)?.context("the inputs have not arrived")?;
		let bias = self.config.store.bias(job)?.context("the biases have not arrived")?;
		let (backend, hook, shape) =
			(self.config.backend.clone(), self.config.faults.layer_elements.clone(), spec.shape);
		let started = std::time::Instant::now();
		let output = tokio::task::spawn_blocking(move || {
			crate::kinds::layer::compute(
				backend.as_ref(),
				&shape,
				&rows,
				&cols,
				&bias,
				&layer.requant,
				hook.as_deref(),
			)
		})
		.await??;
		self.config.store.save_layer(job, &output.y, &output.acc)?;
		let seconds = started.elapsed().as_secs_f64();
		tracing::info!(
			job,
			shape = ?(shape.m, shape.n, shape.k),
			seconds,
			gops = shape.ops() as f64 / 1e9 / seconds.max(1e-9),
			"layer computed"
		);
		Ok(output)
	}

	/// The job's output tree: the saved one, or computed now (streamed to disk).
	async fn output(&self, held: &HeldJob, spec: &JobSpec) -> Result<OutputTree> {
		let leaf_count = spec.shape.leaf_count();
		if let Some(tree) = self.config.store.output(held.job, leaf_count)? {
			return Ok(tree);
		}
		let backend = self.config.backend.clone();
		let hook = self.config.faults.leaves.clone();
		let spec_owned = spec.clone();
		let supplied = match spec.supplied() {
			Some(_) => {
				Some(self.config.store.inputs(held.job)?.context("the inputs have not arrived")?)
			}
			None => None,
		};
		let mut writer = self.config.store.output_writer(held.job, supplied.is_some())?;
		let started = std::time::Instant::now();
		let tree = tokio::task::spawn_blocking(move || {
			let inputs = match (&supplied, spec_owned.seed()) {
				(Some((rows, cols)), _) => crate::backend::Inputs::Supplied { rows, cols },
				(None, Some(seed)) => crate::backend::Inputs::Seeded(seed),
				(None, None) => bail!("a supplied job without inputs"),
			};
			backend.write_leaf_hashes(&spec_owned.shape, inputs, hook.as_deref(), &mut writer)?;
			writer.finish(leaf_count)
		})
		.await??;
		let seconds = started.elapsed().as_secs_f64();
		let ops = spec.shape.ops() as f64;
		self.config.metrics.units_per_second.set(ops / 1e9 / seconds.max(1e-9));
		tracing::info!(
			job = held.job,
			shape = ?(spec.shape.m, spec.shape.n, spec.shape.k),
			seconds,
			gops = ops / 1e9 / seconds.max(1e-9),
			"computed"
		);
		Ok(tree)
	}

	fn finish(&self, held: &HeldJob, finished: Finished, spec: &JobSpec) {
		let outcome = finished.as_str();
		self.config.metrics.jobs.with_label_values(&[outcome]).inc();
		self.config.metrics.job_seconds.observe(unix_now().saturating_sub(held.claimed_at) as f64);
		if finished == Finished::Settled {
			self.config.metrics.work_units.inc_by(spec.shape.work_units());
		}
		tracing::info!(device = %self.config.device.address(), job = held.job, outcome, "job finished (final)");
		if let Ok(mut waits) = self.finality_waits.lock() {
			waits.remove(&held.job);
		}
		// A job that failed or slipped away once is not for this device: never claim it again.
		if finished != Finished::Settled {
			if let Err(e) = self.config.store.mark_lost(held.job) {
				tracing::error!("cannot record the lost job: {e:#}");
			}
			if let Err(e) = self.config.store.discard_values(held.job) {
				tracing::error!("cannot delete the job's output: {e:#}");
			}
		}
		if let Err(e) = self.config.store.release(held.job) {
			tracing::error!("cannot clear the job state: {e:#}");
		}
	}
}

/// The spot check of a GEMM job's output on a backend other than the reference: the sampled
/// leaves' hashes against the reference kernel on the job's seed or its uploaded inputs, and
/// for supplied inputs the values delivered to the client too. `Err` if the check could not
/// run; `Ok(Err(..))` if the output is wrong.
fn spot_check_output(
	store: &Store,
	job: u64,
	spec: &JobSpec,
	tree: &OutputTree,
	salt: &[u8],
) -> Result<Result<(), crate::kinds::spot_check::SpotCheckError>> {
	let supplied = match spec.supplied() {
		Some(_) => Some(store.inputs(job)?.context("the inputs have gone")?),
		None => None,
	};
	let reference = match (&supplied, spec.seed()) {
		(Some((rows, cols)), _) => crate::backend::Inputs::Supplied { rows, cols },
		(None, Some(seed)) => crate::backend::Inputs::Seeded(seed),
		(None, None) => bail!("a supplied job without inputs"),
	};
	let values_path = store.values_path(job);
	let values = |i| crate::store::output::read_leaf_values(&values_path, i);
	let values: Option<crate::kinds::spot_check::LeafValues> =
		supplied.is_some().then_some(&values);
	let leaf = |i| tree.leaf(i);
	Ok(crate::kinds::spot_check::spot_check(
		&spec.shape,
		reference,
		tree.leaf_count(),
		leaf,
		values,
		salt,
	))
}

/// A Merkle proof's siblings as the chain takes them.
fn as_path(siblings: Vec<[u8; 32]>) -> Result<MerklePath> {
	siblings
		.into_iter()
		.map(sp_core::H256)
		.collect::<Vec<_>>()
		.try_into()
		.map_err(|_| anyhow::anyhow!("a path deeper than any output's"))
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{backend::cpu::CpuBackend, backend::Inputs, kinds::spot_check::SpotCheckError};
	use proofgrid_primitives::{
		device::{Kernel, Requirements},
		gemm::GemmShape,
		job::{InputSource, JobInputs},
		testing::supplied::SuppliedJob,
	};

	fn requirements() -> Requirements {
		Requirements { kernel: Kernel::GemmI8, min_vram_mib: 0, min_gops: 0 }
	}

	/// A job's output computed by the CPU backend into `store`, as `output` writes it.
	fn computed(store: &Store, job: u64, spec: &JobSpec, inputs: Inputs) -> OutputTree {
		let mut writer = store.output_writer(job, spec.supplied().is_some()).unwrap();
		CpuBackend::new(1, 64)
			.unwrap()
			.write_leaf_hashes(&spec.shape, inputs, None, &mut writer)
			.unwrap();
		writer.finish(spec.shape.leaf_count()).unwrap()
	}

	/// What a GPU's output goes through before it is committed: its leaves against the seed,
	/// or against the inputs the client uploaded, and then the values the client will get.
	#[test]
	fn a_gpu_output_is_spot_checked_against_its_seed_or_its_uploaded_inputs() {
		let dir = tempfile::tempdir().unwrap();
		let store = Store::open(dir.path()).unwrap();
		let fixture = SuppliedJob::new(13, 10, 7, 5);
		let spec = JobSpec {
			shape: fixture.shape,
			inputs: JobInputs::Supplied {
				matrices: fixture.inputs,
				a: InputSource::Upload,
				b: InputSource::Upload,
				samples: 8,
				public_output: false,
			},
			requirements: requirements(),
		};
		let (rows, cols) = (fixture.rows.concat(), fixture.cols.concat());
		store.save_input(1, 'a', &rows.iter().map(|&x| x as u8).collect::<Vec<_>>()).unwrap();
		store.save_input(1, 'b', &cols.iter().map(|&x| x as u8).collect::<Vec<_>>()).unwrap();
		let tree = computed(&store, 1, &spec, Inputs::Supplied { rows: &rows, cols: &cols });
		assert!(spot_check_output(&store, 1, &spec, &tree, b"s").unwrap().is_ok());
		// The values delivered to the client, falsified after the hashes: caught.
		let values = std::fs::read(store.values_path(1)).unwrap();
		let falsified: Vec<u8> = values.iter().map(|b| b ^ 1).collect();
		std::fs::write(store.values_path(1), falsified).unwrap();
		let checked = spot_check_output(&store, 1, &spec, &tree, b"s").unwrap();
		assert!(matches!(checked, Err(SpotCheckError::ValuesMismatch { .. })), "{checked:?}");
		// Another job's inputs: its leaves are not this output's.
		let other = SuppliedJob::new(13, 10, 7, 6);
		let (rows, cols) = (other.rows.concat(), other.cols.concat());
		store.save_input(1, 'a', &rows.iter().map(|&x| x as u8).collect::<Vec<_>>()).unwrap();
		store.save_input(1, 'b', &cols.iter().map(|&x| x as u8).collect::<Vec<_>>()).unwrap();
		let checked = spot_check_output(&store, 1, &spec, &tree, b"s").unwrap();
		assert!(matches!(checked, Err(SpotCheckError::Mismatch { .. })), "{checked:?}");
		// Seeded: against the seed; another seed's output is caught.
		let seeded = JobSpec::seeded(GemmShape { m: 9, n: 17, k: 33 }, [4; 32], requirements());
		let tree = computed(&store, 2, &seeded, Inputs::Seeded(&[4; 32]));
		assert!(spot_check_output(&store, 2, &seeded, &tree, b"s").unwrap().is_ok());
		let tree = computed(&store, 3, &seeded, Inputs::Seeded(&[5; 32]));
		let checked = spot_check_output(&store, 3, &seeded, &tree, b"s").unwrap();
		assert!(matches!(checked, Err(SpotCheckError::Mismatch { .. })), "{checked:?}");
	}
}
