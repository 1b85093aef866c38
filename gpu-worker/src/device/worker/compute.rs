//! Computing a held job's output: the GEMM's tree (spot-checked on an accelerator) or the
//! layer's rows, streamed to the store.

use super::*;
use crate::kinds::faults::Falsifying;

impl DeviceWorker {
	/// The root of a GEMM job's output, computed (or read back), and spot-checked against the
	/// CPU reference where the backend is not the reference itself.
	pub(super) async fn gemm_root(&self, held: &HeldJob, spec: &JobSpec) -> Result<[u8; 32]> {
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
	pub(super) async fn layer(
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

	/// A model job's model, plan, batch and every layer's output: the saved outputs, or
	/// computed now and saved (served to its client, the layers one after the other).
	#[allow(clippy::type_complexity)]
	pub(super) async fn model_outputs(
		&self,
		held: &HeldJob,
		spec: &JobSpec,
	) -> Result<(
		proofgrid_client::model::ModelFile,
		Vec<proofgrid_primitives::model::Planned>,
		Vec<i8>,
		Vec<Vec<i8>>,
	)> {
		let job = held.job;
		let (model, batch) = spec.model().context("not a model job")?;
		let file = self.model_file(model).await?;
		let plan = file.model.plan(batch).map_err(|e| anyhow::anyhow!("model {model}: {e:?}"))?;
		let input = self.config.store.input(job, 'a')?.context("the batch has not arrived")?;
		if let Some((values, _)) = self.config.store.layer(job)? {
			if let Some(outputs) = crate::kinds::model::split(&plan, &values) {
				return Ok((file, plan, input, outputs));
			}
			tracing::warn!(job, "the saved outputs do not fit the model; computing them again");
		}
		let hook = self.config.faults.layer_elements.clone();
		let (file_owned, input_owned) = (file.clone(), input.clone());
		let started = std::time::Instant::now();
		let outputs = tokio::task::spawn_blocking(move || {
			crate::kinds::model::compute(&file_owned, batch, &input_owned, hook.as_deref())
		})
		.await??;
		self.config.store.save_layer(job, &crate::kinds::model::concatenated(&outputs), &[])?;
		tracing::info!(
			job,
			model,
			batch,
			seconds = started.elapsed().as_secs_f64(),
			"model computed"
		);
		Ok((file, plan, input, outputs))
	}

	/// The files of registered model `model`: this worker's (`--models`), or fetched from the
	/// registration's weights URL and checked against its commitments.
	pub(super) async fn model_file(
		&self,
		model: u64,
	) -> Result<proofgrid_client::model::ModelFile> {
		let registered =
			self.config.client.model(model).await?.with_context(|| format!("no model {model}"))?;
		if let Some(file) = self.config.models.find(&registered.model, &registered.weights) {
			return Ok(file);
		}
		let url = registered.weights_url.as_deref().with_context(|| {
			format!("this worker does not have model {model}'s weights, and it names no URL")
		})?;
		let file = self
			.config
			.models
			.fetch(url, &registered.model, &registered.weights, &self.config.fetch)
			.await
			.with_context(|| format!("model {model}'s weights"))?;
		tracing::info!(model, url, "model fetched and checked against its registration");
		Ok(file)
	}

	/// Whether this worker has registered model `model`'s weights: once it has, always (a
	/// registration never changes); a model it could not get is tried again after
	/// [`MODEL_RETRY`], so a URL that was down costs one try per period.
	pub(super) async fn has_model(&self, model: u64) -> Result<bool> {
		match self.known_models.lock().expect("not poisoned").get(&model) {
			Some(Ok(())) => return Ok(true),
			Some(Err(retry_at)) if Instant::now() < *retry_at => return Ok(false),
			_ => {}
		}
		let known = match self.config.client.model(model).await? {
			Some(_) => match self.model_file(model).await {
				Ok(_) => Ok(()),
				Err(e) => {
					tracing::warn!(model, retry_in = ?MODEL_RETRY, "not taking its jobs: {e:#}");
					Err(Instant::now() + MODEL_RETRY)
				}
			},
			None => Err(Instant::now() + MODEL_RETRY),
		};
		self.known_models.lock().expect("not poisoned").insert(model, known);
		Ok(known.is_ok())
	}

	/// The job's output tree: the saved one, or computed now (streamed to disk).
	pub(super) async fn output(&self, held: &HeldJob, spec: &JobSpec) -> Result<OutputTree> {
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
			let shape = spec_owned.shape;
			match hook.as_deref() {
				// The tests' cheater: the leaves it selects are falsified on their way to disk.
				Some(hook) => {
					let seed = spec_owned.seed().copied();
					let mut falsifying = Falsifying::new(&mut writer, hook, shape, seed);
					backend.write_leaf_hashes(&shape, inputs, &mut falsifying)?
				}
				None => backend.write_leaf_hashes(&shape, inputs, &mut writer)?,
			}
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
			.write_leaf_hashes(&spec.shape, inputs, &mut writer)
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
