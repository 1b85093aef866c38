//! What a held job's device computes and reveals, one arm per kind of output
//! ([`OutputKind`]): the job loop asks for the commitment's root, then for the [`Reveal`] that
//! answers the challenge, and sends both the same way whatever the kind. A new kind adds an arm
//! here and its file in `crate::kinds`.

use anyhow::{ensure, Context, Result};
use proofgrid_client::jobs::Challenge;
use proofgrid_primitives::job::{JobSpec, OutputKind, Reveal};

use super::{as_path, DeviceWorker};
use crate::store::state::HeldJob;

/// The kind of the held job's output; a spec whose kernel its inputs do not fit has none (the
/// chain refuses to create such a job).
fn kind(spec: &JobSpec) -> Result<OutputKind> {
	spec.output_kind().context("a job whose kernel does not fit its inputs")
}

impl DeviceWorker {
	/// The root of the held job's output, computed now unless it is kept on disk.
	pub(super) async fn output_root(&self, held: &HeldJob, spec: &JobSpec) -> Result<[u8; 32]> {
		Ok(match kind(spec)? {
			OutputKind::Layer => self.layer(held, spec).await?.tree.root(),
			OutputKind::Seeded | OutputKind::Supplied => self.gemm_root(held, spec).await?,
			OutputKind::Model => {
				let (file, plan, input, outputs) = self.model_outputs(held, spec).await?;
				crate::kinds::model::prover(&plan, &file, &input, &outputs)?.root().0
			}
		})
	}

	/// The reveal answering `challenge` for the held job, committed as `root`.
	pub(super) async fn answer(
		&self,
		held: &HeldJob,
		spec: &JobSpec,
		root: [u8; 32],
		challenge: &Challenge,
	) -> Result<Reveal> {
		let job = held.job;
		match kind(spec)? {
			OutputKind::Layer => {
				let mut output = self.layer(held, spec).await?;
				if output.tree.root() != root {
					// A damaged file: compute it again from the inputs.
					tracing::warn!(
						job,
						"the saved layer does not match the committed root; computing it again"
					);
					self.config.store.discard_values(job)?;
					output = self.layer(held, spec).await?;
					ensure!(
						output.tree.root() == root,
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
				Ok(Reveal::Layer(samples.try_into().map_err(|_| too_many(job))?))
			}
			OutputKind::Supplied => {
				let tree = self.output(held, spec).await?;
				warn_if_other_root(job, tree.root(), root);
				let samples = crate::kinds::supplied::reveal(
					&self.config.store,
					job,
					spec,
					&tree,
					&challenge.randomness.0,
				)?;
				Ok(Reveal::Supplied(samples.try_into().map_err(|_| too_many(job))?))
			}
			OutputKind::Seeded => {
				let tree = self.output(held, spec).await?;
				warn_if_other_root(job, tree.root(), root);
				let paths = challenge
					.indices
					.iter()
					.map(|&i| {
						as_path(tree.proof(i).with_context(|| format!("the path of leaf {i}"))?)
					})
					.collect::<Result<Vec<_>>>()?;
				Ok(Reveal::Seeded(paths.try_into().map_err(|_| too_many(job))?))
			}
			OutputKind::Model => {
				let (file, plan, input, outputs) = self.model_outputs(held, spec).await?;
				let prover = crate::kinds::model::prover(&plan, &file, &input, &outputs)?;
				let samples = crate::kinds::model::reveal(
					job,
					&prover,
					&plan,
					spec.supplied_samples().unwrap_or_default(),
					&root,
					&challenge.randomness.0,
				)?;
				Ok(Reveal::Model(samples.try_into().map_err(|_| too_many(job))?))
			}
		}
	}
}

/// A GEMM output that no longer matches its commitment is revealed all the same: the chain
/// judges it (a stored tree is only ever the one computed for the commit).
fn warn_if_other_root(job: u64, computed: [u8; 32], committed: [u8; 32]) {
	if computed != committed {
		tracing::warn!(job, "the recomputed output does not match the committed root");
	}
}

fn too_many(job: u64) -> anyhow::Error {
	anyhow::anyhow!("job {job}: more samples than a reveal holds")
}
