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
			let leaves = match info.spec.0.layer() {
				Some(_) => self.demanded_rows(job, &info.spec.0.shape, &elements)?,
				None => self.demanded_leaves(job, &info.spec.0.shape, &elements)?,
			};
			self.ensure_funded().await?;
			self.config.client.publish_data(&self.config.device, job, leaves).await?;
			tracing::info!(device = %self.config.device.address(), job, elements = elements.len(), "published the leaves its client demanded");
		}
		Ok(())
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
