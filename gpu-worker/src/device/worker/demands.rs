//! Answers to data demands: the demanded leaves (a GEMM's) or rows (a layer's) of a
//! committed output, published on chain.

use super::*;

impl DeviceWorker {
	/// Publishes on chain the leaves (values and paths) that clients demand of this device's
	/// verified jobs, from the output it keeps for them: a demand left unanswered fails the job
	/// as a wrong result would.
	pub(super) async fn answer_demands(&self) -> Result<()> {
		for (job, elements) in
			self.config.client.demands_for_device(&self.config.device.account()).await?
		{
			let info = self.config.client.job(job).await?.context("a demanded job is not open")?;
			let spec = &info.spec.0;
			let leaves = match (spec.model(), spec.layer()) {
				(Some((model, batch)), _) => {
					self.demanded_model_rows(job, model, batch, &elements).await?
				}
				(None, Some(_)) => self.demanded_rows(job, &spec.shape, &elements)?,
				(None, None) => self.demanded_leaves(job, &spec.shape, &elements)?,
			};
			self.ensure_funded().await?;
			self.config.client.publish_data(&self.config.device, job, leaves).await?;
			tracing::info!(device = %self.config.device.address(), job, elements = elements.len(), "published the leaves its client demanded");
		}
		Ok(())
	}

	/// The rows `(layer, row)` of a model job's outputs, each with its path to its layer's root
	/// and that root's to the output root (the trees rebuilt from the kept outputs).
	async fn demanded_model_rows(
		&self,
		job: JobId,
		model: u64,
		batch: u32,
		elements: &[(u32, u32)],
	) -> Result<Vec<PublishedLeaf>> {
		let file = self.model_file(model).await?;
		let plan = file.model.plan(batch).map_err(|e| anyhow::anyhow!("model {model}: {e:?}"))?;
		let (values, _) = self
			.config
			.store
			.layer(job)?
			.with_context(|| format!("job {job}'s outputs are gone"))?;
		let outputs = crate::kinds::model::split(&plan, &values)
			.with_context(|| format!("job {job}'s kept outputs do not fit its model"))?;
		elements
			.iter()
			.map(|&element| {
				proofgrid_primitives::model_proof::published_row(&plan, &outputs, element)
					.with_context(|| format!("row {element:?} is outside job {job}'s outputs"))
			})
			.collect()
	}

	/// The leaves of a GEMM output holding `elements`, with their paths.
	pub(super) fn demanded_leaves(
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
	pub(super) fn demanded_rows(
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
}
