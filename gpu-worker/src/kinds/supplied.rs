//! The reveal of a job on supplied inputs: for each element the challenge draws, the leaf's
//! values and path (from the output kept on disk) and the element's row of `A` and column of
//! `B` with their paths to the client's input roots (from the uploaded inputs).

use anyhow::{ensure, Context, Result};
use proofgrid_primitives::{
	challenge::challenge_seed,
	inputs::{challenged_elements, hash_lane, SuppliedSample},
	job::{JobId, JobSpec, MerklePath},
	merkle::{Hash32, MerkleTree},
};
use sp_core::H256;

use crate::store::{output::OutputTree, state::Store};

/// A Merkle path as the chain takes it.
pub(crate) fn path(siblings: Vec<Hash32>) -> Result<MerklePath> {
	siblings
		.into_iter()
		.map(H256)
		.collect::<Vec<_>>()
		.try_into()
		.map_err(|_| anyhow::anyhow!("a path deeper than the chain accepts"))
}

/// The samples (as many as the client asked for) answering the challenge of `randomness` for
/// `job`, whose output is `tree`.
pub fn reveal(
	store: &Store,
	job: JobId,
	spec: &JobSpec,
	tree: &OutputTree,
	randomness: &Hash32,
) -> Result<Vec<SuppliedSample>> {
	let samples = spec.supplied_samples().context("not a job on supplied inputs")?;
	let (rows, cols) = store.inputs(job)?.context("the job's inputs are gone")?;
	let k = spec.shape.k as usize;
	ensure!(k > 0 && rows.len() % k == 0 && cols.len() % k == 0, "inputs of the wrong size");
	let lane_tree = |lanes: &[i8]| {
		MerkleTree::from_leaf_hashes(lanes.chunks_exact(k).map(hash_lane).collect())
			.context("an input without lanes")
	};
	let (a_tree, b_tree) = (lane_tree(&rows)?, lane_tree(&cols)?);
	let seed = challenge_seed(job, &tree.root(), randomness);
	let values = store.values_path(job);
	challenged_elements(&spec.shape, &seed, samples)
		.into_iter()
		.map(|c| {
			let (row, col) = (c.element.0 as usize, c.element.1 as usize);
			let lane = |lanes: &[i8], i: usize| lanes[i * k..(i + 1) * k].to_vec();
			Ok(SuppliedSample {
				leaf: crate::store::output::read_leaf_values(&values, c.leaf)?,
				leaf_path: path(tree.proof(c.leaf)?)?,
				row: lane(&rows, row).try_into().map_err(|_| anyhow::anyhow!("k > MAX_K"))?,
				row_path: path(a_tree.proof(row as u64).map_err(|e| anyhow::anyhow!("{e:?}"))?)?,
				col: lane(&cols, col).try_into().map_err(|_| anyhow::anyhow!("k > MAX_K"))?,
				col_path: path(b_tree.proof(col as u64).map_err(|e| anyhow::anyhow!("{e:?}"))?)?,
			})
		})
		.collect()
}
