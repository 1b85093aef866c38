//! The cheater of the tests' `fault-injection` build (`--corrupt-fraction`): a [`LeafSink`]
//! that falsifies the leaves a hook selects on their way from the backend to the output tree.
//! Any backend, CPU or GPU, can so be made to commit a wrong output, and no backend carries a
//! test hook. Outside that build no hook exists and this is never constructed.

use anyhow::{ensure, Result};
use proofgrid_primitives::{
	gemm::{encode_leaf, seeded_leaf, GemmShape, LEAF_ELEMENTS},
	merkle::hash_leaf,
};

use crate::backend::{LeafHash, LeafSink};

/// Tests only: changes leaf `index` (its values) of a GEMM's output before it is hashed, as a
/// cheating worker would; it decides by the index alone.
pub type LeafHook = dyn Fn(u64, &mut [i32; LEAF_ELEMENTS]) + Send + Sync;
/// Tests only: changes element `index` (row-major) of a layer's output `Y` before it is
/// committed, as a cheating worker would.
pub type ElementHook = dyn Fn(u64, &mut i8) + Send + Sync;

/// Passes leaves on to `inner`, falsified where `hook` changes them. The hook decides by a
/// leaf's index alone (it is shown a zero leaf to learn whether it falsifies one), as the
/// fault-injection build's does.
pub struct Falsifying<'a> {
	inner: &'a mut dyn LeafSink,
	hook: &'a LeafHook,
	shape: GemmShape,
	/// A seeded job's seed: its falsified leaves are recomputed here (the backend hands over
	/// only their hashes). `None` for supplied inputs, whose values come before their hashes.
	seed: Option<[u8; 32]>,
	/// The index of the next leaf.
	next: u64,
	/// The hashes of the falsified leaves among the values just passed on, by position.
	replaced: Vec<(usize, LeafHash)>,
	/// How many values were passed on for the hashes to come.
	values: Option<usize>,
}

impl<'a> Falsifying<'a> {
	/// A sink in front of `inner` for the output of a job of `shape` (seeded with `seed`, or
	/// on supplied inputs).
	pub fn new(
		inner: &'a mut dyn LeafSink,
		hook: &'a LeafHook,
		shape: GemmShape,
		seed: Option<[u8; 32]>,
	) -> Self {
		Self { inner, hook, shape, seed, next: 0, replaced: Vec::new(), values: None }
	}

	fn selects(&self, index: u64) -> bool {
		let mut probe = [0i32; LEAF_ELEMENTS];
		(self.hook)(index, &mut probe);
		probe != [0; LEAF_ELEMENTS]
	}
}

impl LeafSink for Falsifying<'_> {
	fn append_values(&mut self, values: &[[i32; LEAF_ELEMENTS]]) -> Result<()> {
		let mut values = values.to_vec();
		self.replaced.clear();
		for (i, leaf) in values.iter_mut().enumerate() {
			let index = self.next + i as u64;
			if self.selects(index) {
				(self.hook)(index, leaf);
				self.replaced.push((i, hash_leaf(&encode_leaf(leaf))));
			}
		}
		self.values = Some(values.len());
		self.inner.append_values(&values)
	}

	fn append(&mut self, hashes: &[LeafHash]) -> Result<()> {
		let mut hashes = hashes.to_vec();
		match (self.values.take(), self.seed) {
			(Some(count), _) => {
				ensure!(count == hashes.len(), "{count} values for {} hashes", hashes.len());
				for (i, hash) in self.replaced.drain(..) {
					hashes[i] = hash;
				}
			}
			(None, Some(seed)) => {
				for (i, hash) in hashes.iter_mut().enumerate() {
					let index = self.next + i as u64;
					if self.selects(index) {
						let mut leaf = seeded_leaf(&self.shape, &seed, index);
						(self.hook)(index, &mut leaf);
						*hash = hash_leaf(&encode_leaf(&leaf));
					}
				}
			}
			(None, None) => anyhow::bail!("hashes of supplied inputs without their values"),
		}
		self.next += hashes.len() as u64;
		self.inner.append(&hashes)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::backend::{cpu::CpuBackend, Backend, Collect, Inputs};
	use proofgrid_primitives::testing::supplied::SuppliedJob;

	/// Flips leaf 2 and leaf 5 (one bit of one element each).
	fn flip(index: u64, leaf: &mut [i32; LEAF_ELEMENTS]) {
		if index == 2 || index == 5 {
			leaf[0] ^= 1;
		}
	}

	#[test]
	fn a_seeded_output_is_falsified_exactly_where_the_hook_says() {
		let backend = CpuBackend::new(2, 64).unwrap();
		// 3 tile rows of 3 tiles: 9 leaves, the last row and column ragged.
		let shape = GemmShape { m: 11, n: 10, k: 7 };
		let seed = [2; 32];
		let honest = backend.leaf_hashes(&shape, &seed).unwrap();
		let mut faked = Vec::new();
		let mut sink = Falsifying::new(&mut faked, &flip, shape, Some(seed));
		backend.write_leaf_hashes(&shape, Inputs::Seeded(&seed), &mut sink).unwrap();
		let differing: Vec<usize> = (0..9).filter(|&i| honest[i] != faked[i]).collect();
		assert_eq!(differing, vec![2, 5]);
		// What replaces a leaf is the hash of the falsified reference leaf.
		let mut leaf = seeded_leaf(&shape, &seed, 5);
		flip(5, &mut leaf);
		assert_eq!(faked[5], hash_leaf(&encode_leaf(&leaf)));
	}

	#[test]
	fn supplied_values_and_their_hashes_are_falsified_alike() {
		let backend = CpuBackend::new(2, 64).unwrap();
		let job = SuppliedJob::new(9, 10, 5, 3);
		let (rows, cols) = (job.rows.concat(), job.cols.concat());
		let mut out = Collect(Vec::new(), Vec::new());
		let mut sink = Falsifying::new(&mut out, &flip, job.shape, None);
		let inputs = Inputs::Supplied { rows: &rows, cols: &cols };
		backend.write_leaf_hashes(&job.shape, inputs, &mut sink).unwrap();
		for (index, (values, hash)) in out.0.iter().zip(&out.1).enumerate() {
			let mut expected = job.leaves[index];
			flip(index as u64, &mut expected);
			assert_eq!(values, &expected, "leaf {index}");
			assert_eq!(hash, &hash_leaf(&encode_leaf(values)), "leaf {index}: its own hash");
		}
		assert_ne!(out.0[2], job.leaves[2]);
	}
}
