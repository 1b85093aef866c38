//! A held job's inputs: fetched from URLs (with back-off) or from the device that computed
//! an earlier layer, or waited for from the client's upload.

use super::*;

impl DeviceWorker {
	/// Fetches the inputs of supplied job `job` that come from URLs (or, for a layer's `A`, from
	/// the device that computed the earlier layer) and have not arrived yet. A failure is logged
	/// and tried again after a back-off ([`FETCH_BACKOFF`], doubling up to
	/// [`MAX_FETCH_BACKOFF`]) until the input window closes and the job is released.
	pub(super) async fn fetch_inputs(&self, job: u64, spec: &JobSpec) -> Result<()> {
		use proofgrid_client::data::Matrix;
		use proofgrid_primitives::job::{InputSource, JobInputs};
		let mut missing = Vec::new();
		let (matrices, bias) = match &spec.inputs {
			JobInputs::Supplied { matrices, a, b, .. } => {
				missing.extend([('a', a), ('b', b)]);
				(Some(matrices), None)
			}
			JobInputs::Layer { matrices, a, b, bias, layer, .. } => {
				missing.extend([('a', a), ('b', b)]);
				(Some(matrices), Some((bias, layer.bias)))
			}
			JobInputs::Seeded { .. } => return Ok(()),
			// A model's batch is its `A`.
			JobInputs::Model { source, .. } => {
				missing.push(('a', source));
				(None, None)
			}
		};
		missing.retain(|(name, source)| {
			!matches!(source, InputSource::Upload) && !self.config.store.has_input(job, *name)
		});
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
					('a', InputSource::Url(url)) if matrices.is_none() => {
						let JobInputs::Model { input, .. } = &spec.inputs else {
							bail!("a batch for a job that runs no model");
						};
						let url = String::from_utf8_lossy(url).into_owned();
						let bytes =
							crate::data::fetch::fetch_batch(&url, input, &self.config.fetch)
								.await?;
						self.config.store.save_input(job, 'a', &bytes)?;
						Ok((bytes.len(), url))
					}
					(_, _) if matrices.is_none() => bail!("a model's batch comes from {source:?}"),
					('a', InputSource::Job(earlier)) => {
						let matrices = matrices.expect("not a model");
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
						let matrices = matrices.expect("not a model");
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
	pub(super) async fn chained_rows(
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
	pub(super) fn inputs_arrived(&self, job: u64, spec: &JobSpec) -> Result<bool> {
		if spec.model().is_some() {
			return Ok(self.config.store.has_input(job, 'a'));
		}
		let matrices = self.config.store.inputs(job)?.is_some();
		Ok(matrices && (spec.layer().is_none() || self.config.store.bias(job)?.is_some()))
	}
}
