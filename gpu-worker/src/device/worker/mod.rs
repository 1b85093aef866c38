//! One device's life: make sure it is registered and funded, send heartbeats, and run the job
//! loop — find an eligible job, claim, compute, commit, wait for the challenge, reveal — with
//! every step recorded in the device's [`Store`] first, so a restart resumes the held job.

use std::{
	collections::HashMap,
	sync::Arc,
	time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
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
	backend::Backend,
	device::admission::Capacity,
	kinds::faults::{ElementHook, LeafHook},
	metrics::Metrics,
	store::{
		output::OutputTree,
		state::{unix_now, Access, HeldJob, Stage, Store},
	},
};

mod claim;
mod compute;
mod demands;
mod funds;
mod inputs;
mod reveal;

pub use funds::check_owner_funds;

/// Waiting jobs read from the chain's open-job index per poll at most.
const CANDIDATES_PER_POLL: usize = 16;
/// Wait before fetching a URL input again after a failure (doubled after each).
const FETCH_BACKOFF: Duration = Duration::from_secs(1);
/// Longest wait between fetches of a URL input.
const MAX_FETCH_BACKOFF: Duration = Duration::from_secs(60);

/// How long a model whose weights could not be had (unreachable URL, files that do not match
/// the registration) is left alone before they are fetched again.
const MODEL_RETRY: Duration = Duration::from_secs(600);
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
	/// The models this device runs (`--models`, and those fetched into it); without that
	/// directory it does not advertise `model-i8`.
	pub models: Arc<crate::kinds::model::Library>,
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
	/// Whether this worker has each registered model's weights (a registration never
	/// changes: once had, always had), or until when it does not try to get them again.
	known_models: std::sync::Mutex<HashMap<u64, Result<(), Instant>>>,
}

impl DeviceWorker {
	/// A worker for the device `config` describes.
	pub fn new(config: DeviceConfig) -> Self {
		Self {
			config,
			refused: Default::default(),
			fetch_retries: Default::default(),
			finality_waits: Default::default(),
			known_models: Default::default(),
		}
	}

	fn log_name(&self) -> String {
		format!("{} {}", self.config.backend.name(), self.config.device.address())
	}

	/// What the device advertises: the backend's spec with its measured throughput, less the
	/// margin its commit windows need ([`crate::device::throughput::advertised`]).
	fn spec(&self) -> proofgrid_primitives::device::DeviceSpec {
		let mut spec = proofgrid_primitives::device::DeviceSpec {
			advertised_gops: crate::device::throughput::advertised(self.config.gops),
			..self.config.backend.spec()
		};
		// Models run on the CPU by their one definition: any backend can take them.
		if self.config.models.is_enabled() {
			spec.kernels.0 |= Kernel::ModelI8.bit();
		}
		spec
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
				if spec.has_client_inputs() && !self.inputs_arrived(job, &spec)? {
					self.fetch_inputs(job, &spec).await?;
				}
				if spec.has_client_inputs() && !self.inputs_arrived(job, &spec)? {
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
				let root = self.output_root(&held, &spec).await?;
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
				let spec = held.spec()?;
				self.ensure_funded().await?;
				let reveal = self.answer(&held, &spec, root.0, &challenge).await?;
				let checked_out = self
					.config
					.client
					.reveal(&self.config.device, job, challenge.block_hash, reveal, spec.shape.k)
					.await?;
				held.stage = Stage::Revealed;
				self.config.store.hold(&held)?;
				tracing::info!(
					device = %self.config.device.address(),
					job,
					challenge_block = challenge.block,
					checked_out,
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

/// A Merkle proof's siblings as the chain takes them.
fn as_path(siblings: Vec<[u8; 32]>) -> Result<MerklePath> {
	siblings
		.into_iter()
		.map(sp_core::H256)
		.collect::<Vec<_>>()
		.try_into()
		.map_err(|_| anyhow::anyhow!("a path deeper than any output's"))
}
