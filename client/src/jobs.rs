//! Jobs: submit, cancel, claim, commit, reveal; read open jobs and follow one to its end.

use std::{collections::HashSet, time::Duration};

use proofgrid_primitives::{
	device::Kernel,
	gemm::GemmShape,
	job::{price_bucket, JobId, JobSpec, Reveal},
};
use subxt::utils::Static;

use crate::{node_error, runtime, AccountId32, Balance, Client, Error, Keypair, H256};

/// An open job as stored on chain.
pub type Job = runtime::runtime_types::pallet_jobs::types::Job<AccountId32, Balance, u32>;
/// Where an open job is.
pub type JobStatus =
	runtime::runtime_types::pallet_jobs::types::JobStatus<AccountId32, Balance, u32>;

/// How far below the best block a claim's basis is: deep enough that the usual one- or
/// two-block reorgs keep it, well within the runtime's `MaxClaimBasisAge` (8).
pub const CLAIM_BASIS_DEPTH: u32 = 2;

/// A settled layer's output as kept on chain for later jobs.
pub type LayerOutput = runtime::runtime_types::pallet_jobs::types::LayerOutput<AccountId32, u32>;

use runtime::jobs::events as ev;

/// A committed job's challenge, drawn from its challenge block's randomness.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
	/// The challenge block's number.
	pub block: u32,
	/// Its hash, which the reveal names.
	pub block_hash: H256,
	/// The last block a reveal is accepted in, as the chain read sees it: the job's
	/// `reveal_by` plus the congested blocks since its challenge block.
	pub reveal_by: u32,
	/// The leaves to reveal, sorted.
	pub indices: Vec<u64>,
	/// The challenge block's randomness (supplied-input provers draw their elements from it).
	pub randomness: H256,
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum JobOutcome {
	/// The proof checked out and everyone was paid.
	Settled {
		/// The device that did it.
		device: String,
		/// Its owner, who was paid.
		provider: String,
		/// To the provider, in planck.
		#[serde(serialize_with = "crate::planck")]
		payment: Balance,
		/// The protocol fee, burned, in planck.
		#[serde(serialize_with = "crate::planck")]
		fee_burned: Balance,
		/// Back to the client, in planck.
		#[serde(serialize_with = "crate::planck")]
		refund: Balance,
		/// Block of settlement.
		block: u32,
	},
	/// (Supplied inputs.) The reveal checked out: the client may download and check the
	/// output, and anyone may prove an element wrong, until `dispute_until`; then the job
	/// settles. Not an end: an upheld fraud proof still fails it.
	Verified {
		/// The device that did it.
		device: String,
		/// Last block for a fraud proof.
		dispute_until: u32,
		/// Block of the reveal.
		block: u32,
	},
	/// The proof failed or was late, or a fraud proof was upheld: the client was refunded and
	/// compensated.
	Failed {
		/// The device that failed.
		device: String,
		/// Why.
		reason: String,
		/// Taken from the device's bond, in planck.
		#[serde(serialize_with = "crate::planck")]
		slashed: Balance,
		/// Of which to the client, in planck.
		#[serde(serialize_with = "crate::planck")]
		compensation: Balance,
		/// Block of failure.
		block: u32,
	},
	/// No device did it in time; the budget was released.
	Expired {
		/// Block of expiry.
		block: u32,
	},
	/// The client withdrew it.
	Cancelled {
		/// Block of cancellation.
		block: u32,
	},
}

/// A short name of a job's state: `submitted`, `assigned`, `committed`, `verified`.
pub fn state_name(status: &JobStatus) -> &'static str {
	match status {
		JobStatus::Submitted => "submitted",
		JobStatus::Assigned { .. } => "assigned",
		JobStatus::Committed { .. } => "committed",
		JobStatus::Verified { .. } => "verified",
	}
}

impl Client {
	/// Posts a job: holds `work units × price_cap` from `client` until it ends; the job waits at
	/// most `lifetime` blocks for a device. Returns its id.
	pub async fn submit_job(
		&self,
		client: &Keypair,
		spec: JobSpec,
		price_cap: Balance,
		lifetime: u32,
	) -> Result<JobId, Error> {
		let deadline = self.best_number().await? + lifetime.max(1);
		let call = runtime::tx().jobs().submit_job(Static(spec), price_cap, deadline);
		let events = self.submit(&call, client).await?;
		let submitted = events
			.find_first::<ev::JobSubmitted>()
			.ok_or(Error::MissingEvent("Jobs::JobSubmitted"))?
			.map_err(node_error)?;
		Ok(submitted.job)
	}

	/// Withdraws an unassigned job.
	pub async fn cancel_job(&self, client: &Keypair, job: JobId) -> Result<(), Error> {
		self.submit(&runtime::tx().jobs().cancel(job), client).await.map(|_| ())
	}

	/// Anyone: enforce a deadline of `job` that has passed (free when it does).
	pub async fn expire_job(&self, signer: &Keypair, job: JobId) -> Result<(), Error> {
		self.submit(&runtime::tx().jobs().expire(job), signer).await.map(|_| ())
	}

	/// A device takes a waiting job. The claim names a block [`CLAIM_BASIS_DEPTH`] below the
	/// best as its basis, so that a seeded job's inputs stay the same if a reorg re-includes
	/// the claim under another parent (and the claim is refused, without penalty, on a fork
	/// without that block).
	pub async fn claim_job(&self, device: &Keypair, job: JobId) -> Result<(), Error> {
		let number = self.best_number().await?.saturating_sub(CLAIM_BASIS_DEPTH);
		let hash = self
			.block_hash(number)
			.await?
			.ok_or_else(|| Error::Node(format!("no block #{number}")))?;
		let call = runtime::tx().jobs().claim(job, Some((number, hash)));
		self.submit(&call, device).await.map(|_| ())
	}

	/// The assigned device commits the output's Merkle root; returns the challenge block.
	pub async fn commit_job(
		&self,
		device: &Keypair,
		job: JobId,
		root: [u8; 32],
	) -> Result<u32, Error> {
		let events = self.submit(&runtime::tx().jobs().commit(job, H256(root)), device).await?;
		let committed = events
			.find_first::<ev::JobCommitted>()
			.ok_or(Error::MissingEvent("Jobs::JobCommitted"))?
			.map_err(node_error)?;
		Ok(committed.challenge_block)
	}

	/// The assigned device answers the challenge of block `challenge_hash` with its job's kind
	/// of [`Reveal`]. Returns whether it checked out in the best block (`false`: the job
	/// failed and the device was slashed): a seeded job has then settled, one on supplied
	/// inputs or a layer is verified and settles at the end of its dispute window. Only
	/// finality makes that final.
	pub async fn reveal(
		&self,
		device: &Keypair,
		job: JobId,
		challenge_hash: H256,
		reveal: Reveal,
		k_dim: u32,
	) -> Result<bool, Error> {
		let call = runtime::tx().jobs().reveal(job, challenge_hash, Static(reveal), k_dim);
		let events = self.submit(&call, device).await?;
		Ok(events.has::<ev::JobVerified>() || events.has::<ev::JobSettled>())
	}

	/// The kept output of settled `linear-i8` job `job` (its commitment, the device that
	/// serves it, the last block a job may take it as `A`), `None` if there is none.
	pub async fn layer_output(&self, job: JobId) -> Result<Option<LayerOutput>, Error> {
		let at = self.at_best().await?;
		at.storage()
			.try_fetch(runtime::storage().jobs().layer_outputs(), (job,))
			.await
			.map_err(node_error)?
			.map(|v| v.decode().map_err(node_error))
			.transpose()
	}

	/// The assigned device gives back a job on supplied inputs whose inputs did not arrive
	/// (allowed from `InputWindow` blocks after the claim until the commit; no penalty).
	pub async fn release_job(&self, device: &Keypair, job: JobId) -> Result<(), Error> {
		self.submit(&runtime::tx().jobs().release(job), device).await.map(|_| ())
	}

	/// An open job (`None` once it has ended).
	pub async fn job(&self, job: JobId) -> Result<Option<Job>, Error> {
		job_at(&self.at_best().await?, job).await
	}

	/// Up to `limit` waiting jobs of `kernel` whose price cap is at least `min_price`, best-paying
	/// price bucket first, read from the chain's open-job index (`Jobs::OpenJobs`): one read
	/// says which buckets hold jobs, then only buckets that can pay `min_price` are read, a page
	/// of ids at a time, and only ids not in `skip` are fetched. Never reads every job.
	pub async fn open_jobs_paying(
		&self,
		kernel: Kernel,
		min_price: Balance,
		skip: &HashSet<JobId>,
		limit: usize,
	) -> Result<Vec<(JobId, Job)>, Error> {
		let at = self.at_best().await?;
		let lowest = price_bucket(min_price);
		let mut buckets = Vec::new();
		let mut counts = at
			.storage()
			.iter(runtime::storage().jobs().open_job_count(), (Static(kernel),))
			.await
			.map_err(node_error)?;
		while let Some(entry) = counts.next().await {
			let (_, bucket): (Static<Kernel>, u8) = entry
				.map_err(node_error)?
				.key()
				.map_err(node_error)?
				.decode()
				.map_err(node_error)?;
			if bucket >= lowest {
				buckets.push(bucket);
			}
		}
		buckets.sort_unstable_by(|a, b| b.cmp(a));
		let mut jobs = Vec::new();
		for bucket in buckets {
			let mut ids = at
				.storage()
				.iter(runtime::storage().jobs().open_jobs(), ((Static(kernel), bucket),))
				.await
				.map_err(node_error)?;
			while let Some(entry) = ids.next().await {
				let (_, id): ((Static<Kernel>, u8), JobId) = entry
					.map_err(node_error)?
					.key()
					.map_err(node_error)?
					.decode()
					.map_err(node_error)?;
				if skip.contains(&id) {
					continue;
				}
				let Some(job) = job_at(&at, id).await? else { continue };
				if job.price_cap >= min_price {
					jobs.push((id, job));
					if jobs.len() >= limit {
						return Ok(jobs);
					}
				}
			}
		}
		Ok(jobs)
	}

	/// All open jobs, by id. Reads every job: for tools and tests, not for a device's loop
	/// (see [`Self::open_jobs_paying`]).
	pub async fn open_jobs(&self) -> Result<Vec<(JobId, Job)>, Error> {
		let at = self.at_best().await?;
		let mut entries =
			at.storage().iter(runtime::storage().jobs().jobs(), ()).await.map_err(node_error)?;
		let mut jobs = Vec::new();
		while let Some(entry) = entries.next().await {
			let entry = entry.map_err(node_error)?;
			let (id,) = entry.key().map_err(node_error)?.decode().map_err(node_error)?;
			jobs.push((id, entry.value().decode().map_err(node_error)?));
		}
		jobs.sort_by_key(|(id, _)| *id);
		Ok(jobs)
	}

	/// The leaf indices the device of committed job `job` must reveal, as the best block sees
	/// them (from the block after the challenge block). A device answers [`Self::final_challenge`]
	/// instead.
	pub async fn challenge(&self, job: JobId) -> Result<Option<Vec<u64>>, Error> {
		let at = self.at_best().await?;
		let call = runtime::runtime_apis().jobs_api().challenge(job);
		let challenge = at.runtime_apis().call(call).await.map_err(node_error)?;
		Ok(challenge.map(|(_, indices)| indices))
	}

	/// The challenge of committed job `job` once its challenge block is final, `None` before.
	/// A reveal for it cannot be turned into a slash by a reorg: the chain refuses (without
	/// penalty) a reveal that names another challenge block than its own.
	pub async fn final_challenge(&self, job: JobId) -> Result<Option<Challenge>, Error> {
		challenge_at(&self.at_finalized().await?, job).await
	}

	/// The challenge a device should answer now: the final one, or — when finality lags and
	/// the best block is within `margin` blocks of the reveal deadline — the best chain's. A
	/// reveal on a fork that loses is refused without penalty, so answering the best chain
	/// near the deadline risks nothing, and a stall of finality longer than the reveal window
	/// no longer makes an honest device late. After a reorg, the device answers again.
	pub async fn challenge_to_answer(
		&self,
		job: JobId,
		margin: u32,
	) -> Result<Option<Challenge>, Error> {
		if let Some(challenge) = self.final_challenge(job).await? {
			return Ok(Some(challenge));
		}
		let at = self.at_best().await?;
		let best = at.block_number() as u32;
		match challenge_at(&at, job).await? {
			Some(challenge) if best.saturating_add(margin) >= challenge.reveal_by => {
				Ok(Some(challenge))
			}
			_ => Ok(None),
		}
	}

	/// Open job `job` as the finalized block has it (`None` if it is not open there).
	pub async fn job_at_finalized(&self, job: JobId) -> Result<Option<Job>, Error> {
		job_at(&self.at_finalized().await?, job).await
	}

	/// Whether `job` is still open at the finalized block.
	pub async fn is_open_at_finalized(&self, job: JobId) -> Result<bool, Error> {
		Ok(job_at(&self.at_finalized().await?, job).await?.is_some())
	}

	/// How `job` ended, if it ended in block `number` (or was verified there: see
	/// [`JobOutcome::Verified`]).
	pub async fn job_outcome_in(
		&self,
		job: JobId,
		number: u32,
	) -> Result<Option<JobOutcome>, Error> {
		let at = self.at(number).await?;
		let events = at.events().fetch().await.map_err(node_error)?;
		let address = crate::to_address;
		for event in events.find::<ev::JobSettled>() {
			let e = event.map_err(node_error)?;
			if e.job == job {
				return Ok(Some(JobOutcome::Settled {
					device: address(&e.device),
					provider: address(&e.provider),
					payment: e.payment,
					fee_burned: e.fee_burned,
					refund: e.refund,
					block: number,
				}));
			}
		}
		for event in events.find::<ev::JobFailed>() {
			let e = event.map_err(node_error)?;
			if e.job == job {
				return Ok(Some(JobOutcome::Failed {
					device: address(&e.device),
					reason: format!("{:?}", e.reason),
					slashed: e.slashed,
					compensation: e.compensation,
					block: number,
				}));
			}
		}
		for event in events.find::<ev::JobVerified>() {
			let e = event.map_err(node_error)?;
			if e.job == job {
				return Ok(Some(JobOutcome::Verified {
					device: address(&e.device),
					dispute_until: e.dispute_until,
					block: number,
				}));
			}
		}
		if events.find::<ev::JobExpired>().flatten().any(|e| e.job == job) {
			return Ok(Some(JobOutcome::Expired { block: number }));
		}
		if events.find::<ev::JobCancelled>().flatten().any(|e| e.job == job) {
			return Ok(Some(JobOutcome::Cancelled { block: number }));
		}
		Ok(None)
	}

	/// Follows `job` block by block from block `from` until it ends or is verified, calling
	/// `on_state` with each new state (`submitted`, `assigned`, `committed`). Returns how it
	/// ended (or [`JobOutcome::Verified`]).
	pub async fn watch_job(
		&self,
		job: JobId,
		from: u32,
		timeout: Duration,
		mut on_state: impl FnMut(u32, &Job),
	) -> Result<JobOutcome, Error> {
		let started = std::time::Instant::now();
		let mut next = from;
		let mut last_state = "";
		loop {
			let best = self.best_number().await?;
			while next <= best {
				if let Some(outcome) = self.job_outcome_in(job, next).await? {
					return Ok(outcome);
				}
				if let Some(info) = job_at(&self.at(next).await?, job).await? {
					let state = state_name(&info.status);
					if state != last_state {
						last_state = state;
						on_state(next, &info);
					}
				}
				next += 1;
			}
			if started.elapsed() > timeout {
				return Err(Error::Timeout { job, seconds: timeout.as_secs() });
			}
			tokio::time::sleep(Duration::from_millis(200)).await;
		}
	}
}

/// A job's committed output: who computed it, its root, and whether the chain verified it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommittedOutput {
	/// The device that computed and serves it.
	pub device: AccountId32,
	/// The committed Merkle root of its leaves.
	pub root: [u8; 32],
	/// The job's GEMM shape.
	pub shape: GemmShape,
	/// Whether the chain checked the output (the job is verified or settled); `false` while its
	/// reveal is pending (a job that failed has no output worth downloading, and is an error).
	pub verified: bool,
}

impl Client {
	/// The committed output of `job`, open or ended. An ended job is found in the chain's
	/// recent history: going back from the best block in doubling steps to a block the job was
	/// open in, then bisecting to the last such block (~2·log₂(age) reads). That needs the state
	/// of the blocks read: within the node's pruning window (256 blocks by default) for a job
	/// that ended recently, any block on an archive node (`--state-pruning archive`).
	pub async fn committed_output(&self, job: JobId) -> Result<CommittedOutput, Error> {
		// Every read is at a fixed block number, so a job ending meanwhile changes nothing.
		let best = self.best_number().await?;
		let committed = |info: Job| match info.status {
			JobStatus::Committed { device, root, .. } => {
				Ok((device, root.0, info.spec.0.shape, false))
			}
			JobStatus::Verified { device, root, .. } => {
				Ok((device, root.0, info.spec.0.shape, true))
			}
			status => Err(Error::NoOutput {
				job,
				reason: format!("no committed output yet (it is {})", state_name(&status)),
			}),
		};
		let open_at = |number: u32| async move { job_at(&self.at(number).await?, job).await };
		let submitted_by = |number: u32| async move {
			let at = self.at(number).await?;
			let next = at
				.storage()
				.try_fetch(runtime::storage().jobs().next_job_id(), ())
				.await
				.map_err(node_error)?;
			let next: JobId =
				next.map(|v| v.decode().map_err(node_error)).transpose()?.unwrap_or_default();
			Ok::<_, Error>(next > job)
		};
		if let Some(info) = open_at(best).await? {
			let (device, root, shape, verified) = committed(info)?;
			return Ok(CommittedOutput { device, root, shape, verified });
		}
		if !submitted_by(best).await? {
			return Err(Error::NoSuchJob { job });
		}
		// `ended`: a block after the job ended. Step back until a block it was open in, or one
		// before it was submitted (then it was open at its submission block, found by bisection).
		let (mut ended, mut step) = (best, 1u32);
		let open = loop {
			let probe = ended.saturating_sub(step);
			if open_at(probe).await?.is_some() {
				break probe;
			}
			if !submitted_by(probe).await? {
				let (mut before, mut after) = (probe, ended);
				while after - before > 1 {
					let mid = before + (after - before) / 2;
					if submitted_by(mid).await? {
						after = mid;
					} else {
						before = mid;
					}
				}
				break after;
			}
			if probe == 0 {
				return Err(Error::NoSuchJob { job });
			}
			(ended, step) = (probe, step.saturating_mul(2));
		};
		let (mut open, mut ended) = (open, ended);
		while ended - open > 1 {
			let mid = open + (ended - open) / 2;
			if open_at(mid).await?.is_some() {
				open = mid;
			} else {
				ended = mid;
			}
		}
		let info = open_at(open).await?.ok_or(Error::NoSuchJob { job })?;
		let (device, root, shape, _) = committed(info)?;
		match self.job_outcome_in(job, ended).await? {
			Some(JobOutcome::Settled { .. }) => {
				Ok(CommittedOutput { device, root, shape, verified: true })
			}
			outcome => Err(Error::NoOutput {
				job,
				reason: format!("it did not settle: its output was not verified ({outcome:?})"),
			}),
		}
	}
}

/// Open job `job` as block `at` has it (`None` if it is not open there).
async fn job_at(at: &crate::AtBlock, job: JobId) -> Result<Option<Job>, Error> {
	let value = at
		.storage()
		.try_fetch(runtime::storage().jobs().jobs(), (job,))
		.await
		.map_err(node_error)?;
	value.map(|v| v.decode().map_err(node_error)).transpose()
}

/// The challenge of committed job `job` as block `at` sees it, once its challenge block's seed
/// is recorded there.
async fn challenge_at(at: &crate::AtBlock, job: JobId) -> Result<Option<Challenge>, Error> {
	let Some(info) = job_at(at, job).await? else { return Ok(None) };
	let JobStatus::Committed { challenge_block: earliest, reveal_by, .. } = info.status else {
		return Ok(None);
	};
	// The runtime picks the challenge block (a block after two authors' blocks, from
	// `earliest` on) and draws the indices.
	let call = runtime::runtime_apis().jobs_api().challenge(job);
	let Some((block, indices)) = at.runtime_apis().call(call).await.map_err(node_error)? else {
		return Ok(None);
	};
	let storage = at.storage();
	let jobs = runtime::storage().jobs();
	let seed = storage
		.try_fetch(jobs.challenge_randomness(), (block,))
		.await
		.map_err(node_error)?
		.map(|v| v.decode().map_err(node_error))
		.transpose()?
		.ok_or_else(|| Error::Node(format!("no challenge seed for #{block}")))?;
	let congested: u32 = storage
		.fetch(jobs.congested_blocks(), ())
		.await
		.map_err(node_error)?
		.decode()
		.map_err(node_error)?;
	// As the runtime counts it: the window after the challenge block, plus congested blocks.
	let window = reveal_by.saturating_sub(earliest);
	Ok(Some(Challenge {
		block,
		block_hash: seed.block_hash,
		reveal_by: block
			.saturating_add(window)
			.saturating_add(congested.saturating_sub(seed.congested_before)),
		indices,
		randomness: seed.randomness,
	}))
}
