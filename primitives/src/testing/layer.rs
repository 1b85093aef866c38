//! A `linear-i8` job with its honest (or doctored) output, for tests of every crate that
//! verifies or produces layer reveals.

use sp_core::H256;

use crate::{
	device::{Kernel, Requirements},
	gemm::GemmShape,
	inputs::{hash_lane, Challenged, Lane, MatrixCommitment, SuppliedInputs},
	job::{InputSource, JobInputs, JobSpec, LayerReveal},
	linear::*,
	merkle::MerkleTree,
	testing::supplied::lanes,
};

/// A small layer on pseudo-random matrices and biases, with the trees a provider keeps.
pub struct LayerJob {
	/// Its shape.
	pub shape: GemmShape,
	/// `A`'s rows.
	pub rows: Vec<Vec<i8>>,
	/// `W`'s columns.
	pub cols: Vec<Vec<i8>>,
	/// The biases.
	pub bias: Vec<i32>,
	/// The commitments of `A` and `W`.
	pub inputs: SuppliedInputs,
	/// The bias root and requantization.
	pub layer: Layer,
	/// The output's rows, as the provider committed them.
	pub output: Vec<Vec<i8>>,
	/// The output tree over the rows.
	pub tree: MerkleTree,
	a_tree: MerkleTree,
	b_tree: MerkleTree,
	bias_tree: MerkleTree,
}

fn tree_of(lanes: &[Vec<i8>]) -> MerkleTree {
	MerkleTree::from_leaf_hashes(lanes.iter().map(|l| hash_lane(l)).collect())
		.expect("at least one lane")
}

use crate::testing::as_path as path;

impl LayerJob {
	/// An `m`×`k` by `k`×`n` layer on pseudo-random matrices and biases (`salt` picks
	/// them) requantized by `requant`, with its honest output.
	pub fn new(m: u32, n: u32, k: u32, salt: u64, requant: Requant) -> Self {
		let (rows, cols) = (lanes(m, k, salt), lanes(n, k, !salt));
		// Biases of the size of the sums (|sum| ≲ 128²·√k), so that they matter.
		let bias: Vec<i32> = lanes(1, n, salt ^ 0xb1a5)[0]
			.iter()
			.map(|&b| i32::from(b) * 64 * (k as i32).max(1))
			.collect();
		Self::with(rows, cols, bias, requant)
	}

	/// The layer of these rows of `A`, columns of `W` and biases.
	pub fn with(rows: Vec<Vec<i8>>, cols: Vec<Vec<i8>>, bias: Vec<i32>, requant: Requant) -> Self {
		let k = rows[0].len();
		let shape = GemmShape { m: rows.len() as u32, n: cols.len() as u32, k: k as u32 };
		let output: Vec<Vec<i8>> = rows
			.iter()
			.map(|row| {
				cols.iter()
					.zip(&bias)
					.map(|(col, &b)| linear_element(row, col, b, &requant))
					.collect()
			})
			.collect();
		let inputs = SuppliedInputs {
			a: MatrixCommitment::of_lanes(rows.iter().map(|l| &l[..])).expect("lanes"),
			b: MatrixCommitment::of_lanes(cols.iter().map(|l| &l[..])).expect("lanes"),
		};
		let layer = Layer { bias: bias_root(&bias).expect("biases"), requant };
		let (a_tree, b_tree) = (tree_of(&rows), tree_of(&cols));
		let bias_tree = bias_tree(&bias).expect("biases");
		let tree = tree_of(&output);
		Self { shape, rows, cols, bias, inputs, layer, output, tree, a_tree, b_tree, bias_tree }
	}

	/// The same job with the output changed by `doctor` (a cheating provider's), committed.
	pub fn doctored(mut self, doctor: impl Fn(u32, u32, &mut i8)) -> Self {
		for (i, row) in self.output.iter_mut().enumerate() {
			for (j, value) in row.iter_mut().enumerate() {
				doctor(i as u32, j as u32, value);
			}
		}
		self.tree = tree_of(&self.output);
		self
	}

	/// The job's spec: `A` from `a`, `W` and the biases uploaded, `samples` challenged
	/// elements, any device that runs `linear-i8`.
	pub fn spec(&self, a: InputSource, samples: u32) -> JobSpec {
		JobSpec {
			shape: self.shape,
			inputs: JobInputs::Layer {
				matrices: self.inputs,
				a,
				b: InputSource::Upload,
				bias: InputSource::Upload,
				layer: self.layer,
				samples,
				public_output: false,
			},
			requirements: Requirements { kernel: Kernel::LinearI8, min_vram_mib: 0, min_gops: 0 },
		}
	}

	/// The committed output root.
	pub fn root(&self) -> H256 {
		H256(self.tree.root())
	}

	/// The commitment of the output, as the next layer's `A`.
	pub fn output_commitment(&self) -> MatrixCommitment {
		output_commitment(&self.shape, self.root())
	}

	/// The sample proving element `(i, j)`.
	pub fn sample(&self, (i, j): (u32, u32)) -> LayerSample {
		let lane = |l: &Vec<i8>| -> Lane { l.clone().try_into().expect("≤ MAX_K") };
		LayerSample {
			output_row: lane(&self.output[i as usize]),
			output_path: path(self.tree.proof(i.into()).expect("row in range")),
			row: lane(&self.rows[i as usize]),
			row_path: path(self.a_tree.proof(i.into()).expect("row in range")),
			col: lane(&self.cols[j as usize]),
			col_path: path(self.b_tree.proof(j.into()).expect("column in range")),
			bias: self.bias[j as usize],
			bias_path: path(self.bias_tree.proof(j.into()).expect("column in range")),
		}
	}

	/// A fraud proof of element `(i, j)` against the committed output.
	pub fn fraud_proof(&self, element: (u32, u32)) -> LayerFraudProof {
		LayerFraudProof { element, sample: self.sample(element) }
	}

	/// The reveal answering `challenged` (see [`crate::inputs::challenged_elements`]).
	pub fn reveal(&self, challenged: &[Challenged]) -> LayerReveal {
		let samples: Vec<LayerSample> = challenged.iter().map(|c| self.sample(c.element)).collect();
		samples.try_into().expect("at most MAX_SUPPLIED_SAMPLES")
	}
}
