//! Whole-model jobs from the client's side: the spec of a registered model on a batch, and the
//! job followed to its checked outputs — the batch uploaded, every layer's output downloaded
//! against the committed root, checked here layer by layer (`check::check_model`), and a wrong
//! element proven on chain. The chain checks its own samples (docs/MODELS.md §6).

use std::time::Instant;

use proofgrid_primitives::{
	check::{check_model, ModelCheckError, DEFAULT_ROUNDS},
	device::{Kernel, Requirements},
	inputs::{Download, MatrixCommitment},
	job::{InputSource, JobId, JobInputs, JobSpec, MAX_SUPPLIED_SAMPLES},
	model::{ModelId, Planned},
	model_proof::{
		lane_tree_root, model_job_shape, model_ops, model_output_values, output_root,
		ModelFraudProof, ModelProver,
	},
};
use sp_core::H256;

use crate::{
	data::Matrix,
	disputes::{WrongElement, OWN_GRANT},
	model::ModelFile,
	own::{MatmulOptions, Step},
	Client, Error, Keypair,
};

/// A submitted model job, as [`Client::follow_model`] needs it.
#[derive(Clone, Debug)]
pub struct ModelJob {
	/// Its id.
	pub id: JobId,
	/// The best block when it was submitted.
	pub submitted_at: u32,
	/// Images in the batch.
	pub batch: u32,
	/// The batch (NHWC, image after image).
	pub input: Vec<i8>,
	/// Whether the client uploads it (else the device fetches it from the job's URL).
	pub upload: bool,
	/// Blocks it may wait for a device.
	pub lifetime: u32,
	/// Its work units.
	pub units: u64,
	/// Elements the chain checks.
	pub samples: u32,
	/// Its witness (`k` of the spec's shape), for a dispute.
	pub k_dim: u32,
}

/// The spec of a job running `file` (registered as `model`) on `batch` images `input`, the
/// batch from `source` (uploaded, or a URL), with `samples` challenged elements;
/// `requirements` name the device.
#[allow(clippy::too_many_arguments)]
pub fn model_spec(
	model: ModelId,
	file: &ModelFile,
	batch: u32,
	input: &[i8],
	source: InputSource,
	samples: u32,
	public_output: bool,
	requirements: Requirements,
) -> Result<JobSpec, Error> {
	let plan = file
		.model
		.plan(batch)
		.map_err(|e| Error::BadInput(crate::model::describe(&e, &file.names)))?;
	let channels = file.model.input.channels as usize;
	let expected = batch as usize * file.model.input.values() as usize;
	if input.len() != expected || channels == 0 {
		return Err(Error::BadInput(format!(
			"the batch holds {} values; {batch} images of {}×{}×{} hold {expected}",
			input.len(),
			file.model.input.height,
			file.model.input.width,
			file.model.input.channels
		)));
	}
	let commitment = MatrixCommitment::of_lanes(input.chunks_exact(channels))
		.ok_or_else(|| Error::BadInput("an empty batch".into()))?;
	let ops = u64::try_from(model_ops(&plan))
		.map_err(|_| Error::BadInput("the batch is too much work for one job".into()))?;
	Ok(JobSpec {
		shape: model_job_shape(&plan, batch),
		inputs: JobInputs::Model {
			model,
			batch,
			input: commitment,
			source,
			samples,
			ops,
			output_values: model_output_values(&plan),
			public_output,
		},
		requirements: Requirements { kernel: Kernel::ModelI8, ..requirements },
	})
}

/// Every layer's output of `plan` read from `bytes` (the layers' outputs one after the other,
/// as a device serves them), if it has exactly their sizes.
pub fn split_outputs(plan: &[Planned], bytes: &[u8]) -> Option<Vec<Vec<i8>>> {
	let mut rest = bytes;
	let mut outputs = Vec::with_capacity(plan.len());
	for planned in plan {
		let size = usize::try_from(planned.output_values()).ok()?;
		if rest.len() < size {
			return None;
		}
		let (layer, tail) = rest.split_at(size);
		outputs.push(layer.iter().map(|&b| b as i8).collect());
		rest = tail;
	}
	rest.is_empty().then_some(outputs)
}

/// The root a device commits for `outputs` of `plan`: one leaf per layer's lane tree.
pub fn outputs_root(plan: &[Planned], outputs: &[Vec<i8>]) -> Option<H256> {
	let roots = plan
		.iter()
		.zip(outputs)
		.map(|(p, o)| lane_tree_root(o, p.output.channels))
		.collect::<Option<Vec<_>>>()?;
	output_root(&roots)
}

impl Client {
	/// Submits a job running `file` (registered as `model`) on `batch` images `input` at
	/// `options`' price cap, samples (at least one per layer) and lifetime; the batch is
	/// uploaded to the device that claims it.
	pub async fn submit_model(
		&self,
		signer: &Keypair,
		model: ModelId,
		file: &ModelFile,
		batch: u32,
		input: Vec<i8>,
		options: &MatmulOptions,
	) -> Result<ModelJob, Error> {
		self.submit_model_from(signer, model, file, batch, input, InputSource::Upload, options)
			.await
	}

	/// [`Client::submit_model`] with the batch from `source`: [`InputSource::Upload`], or an
	/// [`InputSource::Url`] serving `input` as an int8 `.npy` file of one row per image (the
	/// device fetches it and checks it against the commitment made here from `input`).
	#[allow(clippy::too_many_arguments)]
	pub async fn submit_model_from(
		&self,
		signer: &Keypair,
		model: ModelId,
		file: &ModelFile,
		batch: u32,
		input: Vec<i8>,
		source: InputSource,
		options: &MatmulOptions,
	) -> Result<ModelJob, Error> {
		match &source {
			InputSource::Upload => {}
			InputSource::Url(_) if source.is_valid() => {}
			InputSource::Url(_) => {
				return Err(Error::BadInput(
					"the batch's URL is not an http:// or https:// URL".into(),
				))
			}
			InputSource::Job(_) => {
				return Err(Error::BadInput(
					"a model's batch is uploaded or fetched from a URL".into(),
				))
			}
		}
		let upload = matches!(source, InputSource::Upload);
		let market = self.market_params().await?;
		let layers = file.model.layers.len() as u32;
		let samples = options.samples.unwrap_or(market.default_supplied_samples);
		let min = market.min_supplied_samples.max(layers);
		if !(min..=MAX_SUPPLIED_SAMPLES).contains(&samples) {
			return Err(Error::BadInput(format!(
				"{samples} samples: the chain checks {min} to {MAX_SUPPLIED_SAMPLES} elements of a \
				 job of {layers} layers"
			)));
		}
		let requirements = Requirements {
			kernel: Kernel::ModelI8,
			min_vram_mib: options.min_vram_mib,
			min_gops: options.min_gops,
		};
		let public = options.public_output;
		let spec = model_spec(model, file, batch, &input, source, samples, public, requirements)?;
		let k_dim = spec.shape.k;
		let submitted_at = self.best_number().await?;
		let id = self.submit_job(signer, spec, options.price_cap, options.lifetime).await?;
		let units = self.job(id).await?.map_or(1, |job| job.units);
		Ok(ModelJob {
			id,
			submitted_at,
			batch,
			input,
			upload,
			lifetime: options.lifetime,
			units,
			samples,
			k_dim,
		})
	}

	/// Follows model job `job` of `file` to its checked outputs (every layer's, in order):
	/// uploads the batch once a device claims it (unless the device fetches it), puts the device's receipt on chain, downloads
	/// every layer's output against the committed root, and checks each layer on the previous
	/// layer's committed output. A wrong element is proven on chain once the chain has ruled on
	/// the reveal, and ends in [`Error::WrongOutput`] (its row is the element's row in its layer;
	/// the layer is in the message of [`Step::Wrong`]'s caller).
	pub async fn follow_model(
		&self,
		signer: &Keypair,
		job: &ModelJob,
		file: &ModelFile,
		mut on_step: impl FnMut(Step),
	) -> Result<Vec<Vec<i8>>, Error> {
		let id = job.id;
		let plan = file
			.model
			.plan(job.batch)
			.map_err(|e| Error::BadInput(crate::model::describe(&e, &file.names)))?;
		let device = self.wait_assigned(id, job.lifetime).await?;
		if job.upload {
			self.upload_input(signer, id, Matrix::A, &job.input).await?;
			on_step(Step::Uploaded { device });
		}
		if self.confirm_when_held(signer, id).await? {
			on_step(Step::InputsConfirmed);
		}
		let root = H256(self.wait_committed(id).await?);
		let endpoint = self.endpoint(&device).await?.ok_or_else(|| {
			crate::data::no_service(
				"the device withdrew its data service before serving its output",
			)
		})?;
		let grant = self.grant_download(signer, device.0, id, Download::Output, OWN_GRANT)?;
		let url = self.service_url(&endpoint, &format!("v1/jobs/{id}/output"))?;
		let expected: u64 = plan.iter().map(Planned::output_values).sum();
		let bytes = self.get_at_most(&url, expected as usize, Some(&grant)).await?;
		let outputs = split_outputs(&plan, &bytes)
			.filter(|outputs| outputs_root(&plan, outputs) == Some(root))
			.ok_or_else(|| {
				crate::data::mismatch(
					&url,
					&format!("the outputs do not match the committed root of job {id}"),
				)
			})?;

		let started = Instant::now();
		let seed = u64::from_le_bytes(crate::random_bytes()[..8].try_into().expect("8 bytes"));
		let (plan_owned, weights, input) = (plan.clone(), file.weights.clone(), job.input.clone());
		let (outputs, checked) = tokio::task::spawn_blocking(move || {
			let checked =
				check_model(&plan_owned, &weights, &input, &outputs, None, seed, DEFAULT_ROUNDS);
			(outputs, checked)
		})
		.await
		.map_err(|e| Error::Node(format!("the check stopped: {e}")))?;
		let wrong = match checked {
			Ok(()) => {
				on_step(Step::Checked { millis: started.elapsed().as_secs_f64() * 1e3 });
				return Ok(outputs);
			}
			// The root matched the sizes: a shape error cannot happen, but is no proof either.
			Err(ModelCheckError::Shape { layer }) => {
				return Err(Error::BadInput(format!("layer {layer}'s output has the wrong size")))
			}
			Err(ModelCheckError::Wrong(wrong)) => wrong,
		};
		let (layer, row, column) = (wrong.layer as u32, wrong.row as u32, wrong.column as u32);
		let wrong = WrongElement {
			row,
			column,
			found: i64::from(wrong.found),
			expected: i64::from(wrong.expected),
		};
		let prove = || async {
			let sample = ModelProver::new(&plan, &job.input, &outputs, &file.weights)
				.ok_or_else(|| Error::BadInput("the model's files do not fit its plan".into()))?
				.sample((layer, row, column));
			let proof = ModelFraudProof { element: (layer, row, column), sample };
			self.dispute(signer, id, proof.into(), job.k_dim).await
		};
		Err(self.wrong_output(id, job.submitted_at + 1, wrong, &mut on_step, prove).await)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use proofgrid_primitives::testing::model::ModelJob as Fixture;

	#[test]
	fn outputs_split_by_the_plan_and_give_the_devices_root() {
		let fixture = Fixture::new(2);
		let bytes: Vec<u8> = fixture.outputs.concat().iter().map(|&v| v as u8).collect();
		let outputs = split_outputs(&fixture.plan, &bytes).unwrap();
		assert_eq!(outputs, fixture.outputs);
		assert_eq!(outputs_root(&fixture.plan, &outputs), Some(fixture.root()));
		assert_eq!(split_outputs(&fixture.plan, &bytes[1..]), None);
		let mut longer = bytes.clone();
		longer.push(0);
		assert_eq!(split_outputs(&fixture.plan, &longer), None);
		let faked = fixture_faked();
		assert_ne!(outputs_root(&faked.plan, &faked.outputs), Some(fixture.root()));
	}

	fn fixture_faked() -> Fixture {
		Fixture::new(2).fake((1, 3, 2))
	}
}
