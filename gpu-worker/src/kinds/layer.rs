//! A `linear-i8` job on the device: the layer's output and what answers its challenge.
//!
//! The GEMM runs on the backend as for a supplied GEMM (its leaf values give the int32
//! accumulators); the epilogue (`proofgrid_primitives::linear::Requant::apply`) turns them into
//! the int8 output `Y`, which is committed by its rows as lanes. The accumulators are kept too:
//! they are the client's hint for checking `Y` in `O(n²)` (`check::check_layer`).

use anyhow::{anyhow, ensure, Context, Result};
use proofgrid_primitives::{
	challenge::challenge_seed,
	gemm::{GemmShape, LEAF_ELEMENTS, TILE},
	inputs::{challenged_elements, hash_lane},
	job::JobId,
	linear::{bias_tree, LayerSample, Requant},
	merkle::{Hash32, MerkleTree},
};

use crate::{
	backend::{Backend, Inputs, LeafHash, LeafSink},
	kinds::faults::ElementHook,
	kinds::supplied::path,
};

/// A computed layer: its output, the accumulators behind it and the output's tree.
pub struct LayerOutput {
	/// `Y`, m×n, row-major.
	pub y: Vec<i8>,
	/// `A·W`, m×n, row-major (before bias and requantization).
	pub acc: Vec<i32>,
	/// The Merkle tree over `Y`'s rows as lanes; its root is what the device commits.
	pub tree: MerkleTree,
}

/// Collects the leaf values a backend streams, into the m×n accumulator matrix.
struct Accumulators<'a> {
	shape: &'a GemmShape,
	acc: Vec<i32>,
	next_leaf: u64,
}

impl LeafSink for Accumulators<'_> {
	fn append(&mut self, _hashes: &[LeafHash]) -> Result<()> {
		Ok(())
	}

	fn append_values(&mut self, values: &[[i32; LEAF_ELEMENTS]]) -> Result<()> {
		let (m, n, cols) = (self.shape.m, self.shape.n, self.shape.tile_cols() as u64);
		for leaf in values {
			let (tile_row, tile_col) = (self.next_leaf / cols, self.next_leaf % cols);
			for (cell, &value) in leaf.iter().enumerate() {
				let row = tile_row as u32 * TILE + cell as u32 / TILE;
				let col = tile_col as u32 * TILE + cell as u32 % TILE;
				if row < m && col < n {
					self.acc[row as usize * n as usize + col as usize] = value;
				}
			}
			self.next_leaf += 1;
		}
		Ok(())
	}
}

/// The layer of `A`'s rows and `W`'s columns (`k` values each, lane after lane), `bias` and
/// `requant`, with `backend` doing the GEMM (and `corrupt`, in tests, falsifying elements).
pub fn compute(
	backend: &dyn Backend,
	shape: &GemmShape,
	rows: &[i8],
	cols: &[i8],
	bias: &[i32],
	requant: &Requant,
	corrupt: Option<&ElementHook>,
) -> Result<LayerOutput> {
	let (m, n, k) = (shape.m as usize, shape.n as usize, shape.k as usize);
	ensure!(rows.len() == m * k && cols.len() == n * k, "inputs of the wrong size");
	ensure!(bias.len() == n, "{} biases for {n} columns", bias.len());
	let mut sink = Accumulators { shape, acc: vec![0; m * n], next_leaf: 0 };
	backend.write_leaf_hashes(shape, Inputs::Supplied { rows, cols }, &mut sink)?;
	ensure!(sink.next_leaf == shape.leaf_count(), "the backend delivered no accumulators");
	let acc = sink.acc;
	let mut y: Vec<i8> =
		acc.iter().enumerate().map(|(i, &a)| requant.apply(a, bias[i % n])).collect();
	if let Some(corrupt) = corrupt {
		y.iter_mut().enumerate().for_each(|(i, value)| corrupt(i as u64, value));
	}
	LayerOutput::new(y, acc, n)
}

impl LayerOutput {
	/// The output `y` (rows of `n`) with its accumulators, and its tree.
	pub fn new(y: Vec<i8>, acc: Vec<i32>, n: usize) -> Result<Self> {
		let tree = MerkleTree::from_leaf_hashes(y.chunks_exact(n.max(1)).map(hash_lane).collect())
			.context("an output without rows")?;
		Ok(Self { y, acc, tree })
	}
}

/// The samples answering the challenge of `randomness` for layer job `job` (`samples` of
/// them, as its client asked), from its inputs and computed output.
#[allow(clippy::too_many_arguments)]
pub fn reveal(
	job: JobId,
	shape: &GemmShape,
	samples: u32,
	rows: &[i8],
	cols: &[i8],
	bias: &[i32],
	output: &LayerOutput,
	randomness: &Hash32,
) -> Result<Vec<LayerSample>> {
	let (n, k) = (shape.n as usize, shape.k as usize);
	let lane_tree = |lanes: &[i8], len: usize| {
		MerkleTree::from_leaf_hashes(lanes.chunks_exact(len).map(hash_lane).collect())
			.context("a matrix without lanes")
	};
	let (a_tree, w_tree) = (lane_tree(rows, k)?, lane_tree(cols, k)?);
	let bias_tree = bias_tree(bias).context("no biases")?;
	let proof = |tree: &MerkleTree, index: usize| {
		path(tree.proof(index as u64).map_err(|e| anyhow!("no leaf {index}: {e:?}"))?)
	};
	let lane = |values: &[i8], index: usize, len: usize| {
		values[index * len..(index + 1) * len]
			.to_vec()
			.try_into()
			.map_err(|_| anyhow!("a lane over MAX_K"))
	};
	let seed = challenge_seed(job, &output.tree.root(), randomness);
	challenged_elements(shape, &seed, samples)
		.into_iter()
		.map(|c| {
			let (i, j) = (c.element.0 as usize, c.element.1 as usize);
			Ok(LayerSample {
				output_row: lane(&output.y, i, n)?,
				output_path: proof(&output.tree, i)?,
				row: lane(rows, i, k)?,
				row_path: proof(&a_tree, i)?,
				col: lane(cols, j, k)?,
				col_path: proof(&w_tree, j)?,
				bias: bias[j],
				bias_path: proof(&bias_tree, j)?,
			})
		})
		.collect()
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::backend::cpu::CpuBackend;
	use proofgrid_primitives::{linear::verify_layer_sample, testing::layer::LayerJob};

	const SCALE: Requant = Requant { multiplier: 1 << 30, shift: 40, relu: true };

	#[test]
	fn the_backend_computes_the_reference_layer_and_its_reveal_verifies() {
		let cpu = CpuBackend::new(2, 1024).unwrap();
		// Ragged: not multiples of the 4×4 tile.
		for (m, n, k) in [(1, 1, 1), (5, 7, 3), (33, 17, 65), (64, 10, 200)] {
			let reference = LayerJob::new(m, n, k, m as u64, SCALE);
			let (rows, cols) = (reference.rows.concat(), reference.cols.concat());
			let out = compute(&cpu, &reference.shape, &rows, &cols, &reference.bias, &SCALE, None)
				.unwrap();
			assert_eq!(out.y, reference.output.concat(), "{m}×{n}×{k}");
			assert_eq!(sp_core::H256(out.tree.root()), reference.root());
			let acc = proofgrid_primitives::check::check_layer(
				&rows,
				&cols,
				&reference.bias,
				&SCALE,
				&out.acc,
				&out.y,
				k as usize,
				5,
				2,
			);
			assert_eq!(acc, Ok(()), "the accumulators are A·W");
			let randomness = [9u8; 32];
			let samples =
				reveal(7, &reference.shape, 16, &rows, &cols, &reference.bias, &out, &randomness)
					.unwrap();
			let seed = challenge_seed(7, &out.tree.root(), &randomness);
			let challenged = challenged_elements(&reference.shape, &seed, 16);
			assert_eq!(samples.len(), challenged.len());
			for (c, sample) in challenged.iter().zip(&samples) {
				assert_eq!(
					verify_layer_sample(
						&reference.inputs,
						&reference.layer,
						&reference.shape,
						&reference.root(),
						c.element,
						sample
					),
					Ok(())
				);
			}
		}
	}

	#[test]
	fn inputs_of_the_wrong_size_are_refused() {
		let cpu = CpuBackend::new(1, 256).unwrap();
		let shape = GemmShape { m: 2, n: 2, k: 2 };
		assert!(compute(&cpu, &shape, &[0; 3], &[0; 4], &[0; 2], &SCALE, None).is_err());
		assert!(compute(&cpu, &shape, &[0; 4], &[0; 4], &[0; 3], &SCALE, None).is_err());
	}
}
