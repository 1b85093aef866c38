//! A whole-model job on the device: every layer's output on the client's batch (by the
//! primitives' definition, `Model::run`, on the CPU), the root over them, and the samples that
//! answer its challenge (`model_proof`). The weights come from the models this worker was given
//! (`--models DIR`), found by the commitments the model's registration names.

use std::path::Path;

use anyhow::{ensure, Context, Result};
use proofgrid_client::model::ModelFile;
use proofgrid_primitives::{
	challenge::challenge_seed,
	job::JobId,
	merkle::Hash32,
	model::{Model, Planned},
	model_proof::{model_challenge, ModelProver, ModelSample, WeightsCommitment},
};

use crate::kinds::faults::ElementHook;

/// The models a worker can run, loaded from the subdirectories of one directory (each a
/// `model.json` with its `.npy` files, as `proofgrid model import` writes them).
#[derive(Default)]
pub struct Library {
	models: Vec<(ModelFile, Vec<WeightsCommitment>)>,
}

impl Library {
	/// Every model under `dir` (one per subdirectory holding a `model.json`).
	pub fn load(dir: &Path) -> Result<Self> {
		let mut models = Vec::new();
		let mut entries: Vec<_> = std::fs::read_dir(dir)
			.with_context(|| format!("--models {}", dir.display()))?
			.collect::<std::io::Result<_>>()?;
		entries.sort_by_key(|e| e.path());
		for entry in entries {
			let path = entry.path();
			if !path.join("model.json").is_file() {
				continue;
			}
			let file = ModelFile::load(&path)
				.map_err(|e| anyhow::anyhow!("loading the model in {}: {e}", path.display()))?;
			let commitments = file.weights_commitments();
			models.push((file, commitments));
		}
		Ok(Self { models })
	}

	/// How many models it holds.
	pub fn len(&self) -> usize {
		self.models.len()
	}

	/// Whether it holds none.
	pub fn is_empty(&self) -> bool {
		self.models.is_empty()
	}

	/// The model whose layers are `model` and whose weights' commitments are `weights` (what a
	/// registration names), if this worker has it.
	pub fn find(&self, model: &Model, weights: &[WeightsCommitment]) -> Option<&ModelFile> {
		self.models
			.iter()
			.find(|(file, commitments)| &file.model == model && commitments == weights)
			.map(|(file, _)| file)
	}
}

/// Every layer's output of `file` on `batch` images `input` (NHWC). `corrupt`, in the tests'
/// fault-injection build, falsifies the first element it selects of the middle layer's output
/// after the honest run: one wrong element of an inner layer, which the chain's few draws in
/// that layer almost always miss and the client's check never does.
pub fn compute(
	file: &ModelFile,
	batch: u32,
	input: &[i8],
	corrupt: Option<&ElementHook>,
) -> Result<Vec<Vec<i8>>> {
	let mut outputs =
		file.run(batch, input).map_err(|e| anyhow::anyhow!("running the model: {e}"))?;
	if let Some(corrupt) = corrupt {
		let middle = outputs.len() / 2;
		for (i, value) in outputs[middle].iter_mut().enumerate() {
			let honest = *value;
			corrupt(i as u64, value);
			if *value != honest {
				break;
			}
		}
	}
	Ok(outputs)
}

/// The prover over a run: its trees and any element's sample.
pub fn prover<'a>(
	plan: &'a [Planned],
	file: &'a ModelFile,
	input: &'a [i8],
	outputs: &'a [Vec<i8>],
) -> Result<ModelProver<'a>> {
	ModelProver::new(plan, input, outputs, &file.weights)
		.context("the batch or the outputs do not have the model's sizes")
}

/// The samples answering the challenge of `randomness` for model job `job` committed as
/// `root` (`samples` draws, as its client asked).
pub fn reveal(
	job: JobId,
	prover: &ModelProver,
	plan: &[Planned],
	samples: u32,
	root: &[u8; 32],
	randomness: &Hash32,
) -> Result<Vec<ModelSample>> {
	ensure!(prover.root().0 == *root, "the outputs are not the committed ones");
	let seed = challenge_seed(job, root, randomness);
	Ok(model_challenge(plan, &seed, samples).into_iter().map(|e| prover.sample(e)).collect())
}

/// The outputs as the data service serves them: the layers' one after the other.
pub fn concatenated(outputs: &[Vec<i8>]) -> Vec<i8> {
	outputs.concat()
}

/// The layers' outputs read back from [`concatenated`] with `plan`'s sizes.
pub fn split(plan: &[Planned], values: &[i8]) -> Option<Vec<Vec<i8>>> {
	let bytes: Vec<u8> = values.iter().map(|&v| v as u8).collect();
	proofgrid_client::model_jobs::split_outputs(plan, &bytes)
}

#[cfg(test)]
mod tests {
	use super::*;
	use proofgrid_primitives::{
		model_proof::{verify_model_sample, ModelCommitments},
		testing::model::ModelJob,
	};

	#[test]
	fn a_run_reveals_what_the_chain_verifies_and_a_corrupted_one_is_caught() {
		let fixture = ModelJob::new(2);
		let file = ModelFile {
			model: fixture.model.clone(),
			weights: fixture.weights.clone(),
			names: (0..fixture.plan.len()).map(|l| format!("layer{l}")).collect(),
			input_scale: 1.0,
			output: (1.0, 0),
		};
		let outputs = compute(&file, 2, &fixture.input, None).unwrap();
		assert_eq!(outputs, fixture.outputs);
		assert_eq!(split(&fixture.plan, &concatenated(&outputs)), Some(outputs.clone()));
		let prover = prover(&fixture.plan, &file, &fixture.input, &outputs).unwrap();
		let root = prover.root();
		let randomness = [7; 32];
		let samples = reveal(3, &prover, &fixture.plan, 10, &root.0, &randomness).unwrap();
		let job = ModelCommitments {
			plan: &fixture.plan,
			input: &fixture.input_commitment,
			weights: &fixture.commitments,
			root: &root,
		};
		let drawn = fixture.challenged(3, 10, &sp_core::H256(randomness));
		assert_eq!(samples.len(), drawn.len());
		for (element, sample) in drawn.iter().zip(&samples) {
			assert_eq!(verify_model_sample(&job, *element, sample), Ok(()));
		}
		// Another root than the outputs': nothing is revealed.
		assert!(reveal(3, &prover, &fixture.plan, 10, &[0; 32], &randomness).is_err());

		// The cheater's hook falsifies one element of the middle layer only.
		let every: &ElementHook = &|_, value: &mut i8| *value = value.wrapping_add(1);
		let faked = compute(&file, 2, &fixture.input, Some(every)).unwrap();
		let middle = faked.len() / 2;
		for (l, (f, h)) in faked.iter().zip(&outputs).enumerate() {
			let changed = f.iter().zip(h).filter(|(a, b)| a != b).count();
			assert_eq!(changed, usize::from(l == middle), "layer {l}");
		}

		let library = Library { models: vec![(file.clone(), fixture.commitments.clone())] };
		assert!(library.find(&fixture.model, &fixture.commitments).is_some());
		let mut other = fixture.commitments.clone();
		other[0].bias = sp_core::H256::repeat_byte(1);
		assert!(library.find(&fixture.model, &other).is_none());
	}
}
