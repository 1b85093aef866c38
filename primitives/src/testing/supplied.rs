//! A supplied-input job with its honest (or doctored) output, for tests of every crate that
//! verifies or produces supplied reveals.

use crate::{
	gemm::{encode_leaf, leaves_of, mix64, GemmShape, LEAF_ELEMENTS, TILE},
	inputs::*,
	job::SuppliedReveal,
	merkle::{hash_leaf, Hash32, MerkleTree},
};

/// A small job on pseudo-random matrices, with the trees a provider keeps.
pub struct SuppliedJob {
	/// Its shape.
	pub shape: GemmShape,
	/// `A`'s rows.
	pub rows: Vec<Vec<i8>>,
	/// `B`'s columns.
	pub cols: Vec<Vec<i8>>,
	/// The commitments of `A` and `B`.
	pub inputs: SuppliedInputs,
	/// The output's leaves, as the provider committed them.
	pub leaves: Vec<[i32; LEAF_ELEMENTS]>,
	/// The output tree over `leaves`.
	pub tree: MerkleTree,
	a_tree: MerkleTree,
	b_tree: MerkleTree,
}

/// `count` pseudo-random lanes of `len` elements.
pub fn lanes(count: u32, len: u32, salt: u64) -> Vec<Vec<i8>> {
	(0..count)
		.map(|l| {
			(0..len).map(|i| (mix64(salt ^ ((l as u64) << 32 | i as u64)) >> 56) as i8).collect()
		})
		.collect()
}

fn tree_of(lanes: &[Vec<i8>]) -> MerkleTree {
	MerkleTree::from_leaf_hashes(lanes.iter().map(|l| hash_lane(l)).collect())
		.expect("at least one lane")
}

use crate::testing::as_path as path;

impl SuppliedJob {
	/// An `m`×`k` by `k`×`n` job on pseudo-random matrices (`salt` picks them) with its
	/// honest output, computed by a plain triple loop.
	pub fn new(m: u32, n: u32, k: u32, salt: u64) -> Self {
		let shape = GemmShape { m, n, k };
		let (rows, cols) = (lanes(m, k, salt), lanes(n, k, !salt));
		let mut c = alloc::vec![0i32; (m * n) as usize];
		for r in 0..m as usize {
			for col in 0..n as usize {
				c[r * n as usize + col] =
					(0..k as usize).map(|i| rows[r][i] as i32 * cols[col][i] as i32).sum();
			}
		}
		let inputs = SuppliedInputs {
			a: MatrixCommitment::of_lanes(rows.iter().map(|l| &l[..])).expect("lanes"),
			b: MatrixCommitment::of_lanes(cols.iter().map(|l| &l[..])).expect("lanes"),
		};
		let (a_tree, b_tree) = (tree_of(&rows), tree_of(&cols));
		let leaves = leaves_of(&shape, &c);
		let tree = Self::tree_over(&leaves);
		Self { shape, rows, cols, inputs, leaves, tree, a_tree, b_tree }
	}

	fn tree_over(leaves: &[[i32; LEAF_ELEMENTS]]) -> MerkleTree {
		MerkleTree::from_leaf_hashes(leaves.iter().map(|l| hash_leaf(&encode_leaf(l))).collect())
			.expect("at least one leaf")
	}

	/// The same job with the output changed by `doctor` (a cheating provider's), committed.
	pub fn doctored(mut self, doctor: impl Fn(u64, &mut [i32; LEAF_ELEMENTS])) -> Self {
		for (index, leaf) in self.leaves.iter_mut().enumerate() {
			doctor(index as u64, leaf);
		}
		self.tree = Self::tree_over(&self.leaves);
		self
	}

	/// The committed output root.
	pub fn root(&self) -> Hash32 {
		self.tree.root()
	}

	/// The sample answering leaf `index` with element `(row, col)`.
	pub fn sample(&self, index: u64, (row, col): (u32, u32)) -> SuppliedSample {
		SuppliedSample {
			leaf: self.leaves[index as usize],
			leaf_path: path(self.tree.proof(index).expect("leaf in range")),
			row: self.rows[row as usize].clone().try_into().expect("k ≤ MAX_K"),
			row_path: path(self.a_tree.proof(row.into()).expect("row in range")),
			col: self.cols[col as usize].clone().try_into().expect("k ≤ MAX_K"),
			col_path: path(self.b_tree.proof(col.into()).expect("column in range")),
		}
	}

	/// A fraud proof of element `(row, col)` against the committed output.
	pub fn fraud_proof(&self, (row, col): (u32, u32)) -> FraudProof {
		let leaf =
			u64::from(row / TILE) * u64::from(self.shape.tile_cols()) + u64::from(col / TILE);
		FraudProof { element: (row, col), sample: self.sample(leaf, (row, col)) }
	}

	/// The reveal answering `challenged` (see [`challenged_elements`]).
	pub fn reveal(&self, challenged: &[Challenged]) -> SuppliedReveal {
		let samples: Vec<SuppliedSample> =
			challenged.iter().map(|c| self.sample(c.leaf, c.element)).collect();
		samples.try_into().expect("at most MAX_SUPPLIED_SAMPLES")
	}
}
