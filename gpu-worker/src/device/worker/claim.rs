//! Finding a job this device can finish in time and claiming it, with the reason logged
//! once for each job it refuses.

use super::*;

impl DeviceWorker {
	/// Why this device cannot do `job` (memory, time, disk, collateral), if it cannot.
	pub(super) fn cannot_do(&self, info: &DeviceInfo, job: &Job, gops: u64) -> Option<String> {
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
		if let Some((model, _)) = job.spec.0.model() {
			if self.config.endpoint.is_none() {
				return Some("a model's batch needs the data service (--data-addr)".into());
			}
			let known = self.known_models.lock().ok().and_then(|k| k.get(&model).copied());
			if known != Some(Ok(())) {
				return Some(format!(
					"this worker does not have model {model}'s weights (--models)"
				));
			}
			// Run on the CPU by the primitives' definition: the backend's limits do not apply.
			return match self.top_up_needed(info, self.collateral(info, job)) {
				Some(_) => None,
				None => Some("its collateral would take the bond beyond --max-bond".into()),
			};
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
	pub(super) fn remember_refusal(&self, id: u64) -> bool {
		let Ok(mut refused) = self.refused.lock() else { return false };
		if refused.len() >= MAX_REFUSED {
			refused.clear();
		}
		refused.insert(id)
	}

	/// Claims the first open job this device may and can do, topping its bond up first if the
	/// job's collateral needs it.
	pub(super) async fn find_and_claim(&self, best: u32, info: &DeviceInfo) -> Result<()> {
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
		// Which registered models this worker has: asked before the (synchronous) choice.
		for (_, job) in &jobs {
			if let Some((model, _)) = job.spec.0.model() {
				self.has_model(model).await?;
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
}
