//! A whole-model job on the device: every layer's output on the client's batch (by the
//! primitives' definition, `Model::run`, on the CPU), the root over them, and the samples that
//! answer its challenge (`model_proof`). The weights come from the models this worker was given
//! (`--models DIR`) or fetched from a registration's weights URL into that directory, found by
//! the commitments the model's registration names.

use std::{
	path::{Path, PathBuf},
	sync::RwLock,
};

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

/// The models a worker can run: loaded from the subdirectories of its `--models` directory
/// (each a `model.json` with its `.npy` files, as `proofgrid model import` writes them), and
/// fetched into it from a registration's weights URL when a job names a model it lacks.
#[derive(Default)]
pub struct Library {
	models: RwLock<Vec<(ModelFile, Vec<WeightsCommitment>)>>,
	/// Where fetched models are kept, by their commitments (none: nothing is fetched).
	dir: Option<PathBuf>,
}

impl Library {
	/// Every model under `dir` (one per subdirectory holding a `model.json`); fetched models
	/// are kept there too.
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
		Ok(Self { models: RwLock::new(models), dir: Some(dir.to_path_buf()) })
	}

	/// How many models it holds.
	pub fn len(&self) -> usize {
		self.models.read().expect("not poisoned").len()
	}

	/// Whether it holds none (yet).
	pub fn is_empty(&self) -> bool {
		self.len() == 0
	}

	/// Whether it can run models at all: it has a directory (`--models`).
	pub fn is_enabled(&self) -> bool {
		self.dir.is_some()
	}

	/// The model whose layers are `model` and whose weights' commitments are `weights` (what a
	/// registration names), if this worker has it.
	pub fn find(&self, model: &Model, weights: &[WeightsCommitment]) -> Option<ModelFile> {
		self.models
			.read()
			.expect("not poisoned")
			.iter()
			.find(|(file, commitments)| &file.model == model && commitments == weights)
			.map(|(file, _)| file.clone())
	}

	/// Fetches the files of the model whose layers are `model` and whose weights' commitments
	/// are `weights` from `url`, and keeps them (in a directory named by the commitments) only
	/// if they are that model: the weights' roots recomputed from the fetched files.
	pub async fn fetch(
		&self,
		url: &str,
		model: &Model,
		weights: &[WeightsCommitment],
		policy: &crate::data::fetch::FetchPolicy,
	) -> Result<ModelFile> {
		use codec::Encode;
		let dir = self.dir.as_ref().context("no --models directory to keep fetched models in")?;
		let name = hex::encode(&sp_crypto_hashing::blake2_256(&weights.encode())[..16]);
		let (tmp, kept) = (dir.join(format!(".{name}.part")), dir.join(&name));
		let _ = std::fs::remove_dir_all(&tmp);
		crate::data::fetch::fetch_model_files(url, &tmp, policy).await?;
		let loaded = ModelFile::load(&tmp);
		let matches = loaded.as_ref().is_ok_and(|file| {
			&file.model == model && file.weights_commitments().as_slice() == weights
		});
		if !matches {
			let _ = std::fs::remove_dir_all(&tmp);
			anyhow::bail!(
				"the files at {url} are not the registered model ({})",
				match loaded {
					Err(e) => e.to_string(),
					Ok(_) => "other layers or weights than its registration names".into(),
				}
			);
		}
		let _ = std::fs::remove_dir_all(&kept);
		std::fs::rename(&tmp, &kept)?;
		let file = ModelFile::load(&kept).map_err(|e| anyhow::anyhow!("{e}"))?;
		self.models.write().expect("not poisoned").push((file.clone(), weights.to_vec()));
		Ok(file)
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

		let library = Library {
			models: RwLock::new(vec![(file.clone(), fixture.commitments.clone())]),
			dir: None,
		};
		assert!(library.find(&fixture.model, &fixture.commitments).is_some());
		let mut other = fixture.commitments.clone();
		other[0].bias = sp_core::H256::repeat_byte(1);
		assert!(library.find(&fixture.model, &other).is_none());
	}

	#[tokio::test]
	async fn a_model_is_fetched_checked_and_kept_and_other_files_are_refused() {
		use crate::data::fetch::FetchPolicy;
		use std::collections::HashMap;
		let cnn = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/cnn/model");
		let file = ModelFile::load(&cnn).unwrap();
		let weights = file.weights_commitments();
		let mut served: HashMap<String, Vec<u8>> = HashMap::new();
		for entry in std::fs::read_dir(&cnn).unwrap() {
			let path = entry.unwrap().path();
			let name = path.file_name().unwrap().to_string_lossy().to_string();
			let bytes = std::fs::read(&path).unwrap();
			served.insert(format!("/good/{name}"), bytes.clone());
			let mut bad = bytes.clone();
			if name == "layer0.bias.npy" {
				// One bias changed: its root is not the registered one.
				*bad.last_mut().unwrap() ^= 1;
			}
			served.insert(format!("/bad/{name}"), bad);
			let evil = match name.as_str() {
				"model.json" => String::from_utf8(bytes)
					.unwrap()
					.replace("layer0.weights.npy", "../../secret.npy")
					.into_bytes(),
				_ => bytes,
			};
			served.insert(format!("/evil/{name}"), evil);
		}
		let served = std::sync::Arc::new(served);
		let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
		let base = format!("http://{}", listener.local_addr().unwrap());
		let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
			let served = served.clone();
			async move {
				match served.get(uri.path()) {
					Some(bytes) => (axum::http::StatusCode::OK, bytes.clone()),
					None => (axum::http::StatusCode::NOT_FOUND, Vec::new()),
				}
			}
		});
		tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
		let open = FetchPolicy { max_bytes: 1 << 20, private_addresses: true };

		let dir = tempfile::tempdir().unwrap();
		let library = Library::load(dir.path()).unwrap();
		assert_eq!(library.len(), 0);
		let url = format!("{base}/good");
		let fetched = library.fetch(&url, &file.model, &weights, &open).await.unwrap();
		assert_eq!(fetched.weights, file.weights);
		assert!(library.find(&file.model, &weights).is_some());
		// Kept by its commitments: a worker started again has it without fetching.
		assert_eq!(Library::load(dir.path()).unwrap().len(), 1);

		let empty = || Library::load(tempfile::tempdir().unwrap().keep().as_path()).unwrap();
		let refused = |result: Result<ModelFile>| result.unwrap_err().to_string();
		let other = empty();
		let error =
			refused(other.fetch(&format!("{base}/bad"), &file.model, &weights, &open).await);
		assert!(error.contains("not the registered model"), "{error}");
		assert_eq!(other.len(), 0);
		let error =
			refused(other.fetch(&format!("{base}/evil"), &file.model, &weights, &open).await);
		assert!(error.contains("not a plain .npy file name"), "{error}");
		let error =
			refused(other.fetch(&format!("{base}/gone"), &file.model, &weights, &open).await);
		assert!(error.contains("404"), "{error}");
		// A worker that fetches from public addresses only does not fetch from loopback.
		let public = FetchPolicy { max_bytes: 1 << 20, private_addresses: false };
		let error = refused(other.fetch(&url, &file.model, &weights, &public).await);
		assert!(error.contains("not a public address"), "{error}");
		assert_eq!(other.len(), 0);
		assert!(crate::data::fetch::is_plain_npy_name("layer0.weights.npy"));
		for name in ["../a.npy", "a/b.npy", ".hidden.npy", "a.txt", "a b.npy", ""] {
			assert!(!crate::data::fetch::is_plain_npy_name(name), "{name}");
		}
	}
}
