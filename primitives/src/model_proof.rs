//! How a model job's outputs are committed, which elements its challenge draws, and how one
//! element is proven right (a reveal's sample) or wrong (a fraud proof) against the commitments
//! alone: the chain holds no activation, only roots.
//!
//! ```text
//!                         output root
//!                  ┌──────────┴───────────┐
//!   hash(0x04 ‖ 0 ‖ R₀)   …   hash(0x04 ‖ L−1 ‖ R_{L−1})      one leaf per layer
//!          │
//!          R₀ = lane tree over layer 0's rows (one per output pixel of the batch,
//!               `channels` int8 values), as a client commits a matrix
//! ```
//!
//! **Commitments.** Layer `l`'s output on the batch is a [`MatrixCommitment`] of its rows
//! (`rows = batch·h·w` lanes of `channels` values); the device commits one root over every
//! layer's ([`output_root`]). The input batch is committed by the client the same way (one lane
//! per input pixel), and each GEMM layer's weights by the model's registration
//! ([`WeightsCommitment`]: `n` lanes of `k` values and the bias root).
//!
//! **A sample** of element `(l, i, j)` (layer, row, channel) carries layer `l`'s root and its
//! path, output row `i` with its path, the rows of the layer's input that the element reads
//! (for a convolution its patch's pixels, padding skipped; for pooling its window; for a dense
//! layer the whole image) with their paths to the previous layer's root (or to the input's),
//! and for a GEMM layer weight lane `j` and bias `j`. The chain recomputes the element by the
//! layer's definition ([`Conv2d::taps`], [`crate::pool::MaxPool2d::window`],
//! [`crate::pool::average`],
//! [`Requant::apply_at`](crate::linear::Requant::apply_at)) and compares.
//!
//! **Challenge.** Draw `s` of `S` samples a uniform element of layer `s mod L`: every layer
//! gets `⌊S/L⌋` or `⌈S/L⌉` draws ([`draws_of_layer`]), so a device that computes a fraction
//! `f` of layer `l`'s elements wrongly passes with probability `(1 − f)^draws(l)`. A device
//! that computes layer `l` wrongly and the later layers *from* its wrong output is caught in
//! layer `l` only, and the client, who recomputes every layer, proves the first wrong layer's
//! element wrong against its (right) input: the fraud proof is a sample.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::{ConstU32, H256};
use sp_crypto_hashing::blake2_256;
use sp_runtime::BoundedVec;

use crate::{
	conv::Conv2d,
	gemm::dot,
	inputs::{hash_lane, Lane, LaneError, MatrixCommitment},
	linear::{bias_tree, hash_bias},
	merkle::{self, Hash32, MerklePath, MerkleTree, ProofError},
	model::{Planned, Step, Weights, MAX_TAPS},
};

/// Domain tag of a layer root's leaf in the output root.
pub const LAYER_ROOT_PREFIX: u8 = 0x04;

/// Domain tag of the model challenge's draws.
const MODEL_DRAW_TAG: &[u8] = b"proofgrid/model-draw";

/// What a registered model names for one GEMM layer.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
pub struct WeightsCommitment {
	/// Lane root of the `n` weight lanes (`k` values each).
	pub lanes: H256,
	/// Root of the `n` biases ([`crate::linear::bias_root`]).
	pub bias: H256,
}

/// The leaf of layer `layer`'s root in the output root.
pub fn hash_layer_root(layer: u32, root: &H256) -> Hash32 {
	let mut data = [0u8; 37];
	data[0] = LAYER_ROOT_PREFIX;
	data[1..5].copy_from_slice(&layer.to_le_bytes());
	data[5..].copy_from_slice(&root.0);
	blake2_256(&data)
}

/// The tree over the layers' roots, in layer order.
pub fn output_tree(layer_roots: &[H256]) -> Option<MerkleTree> {
	let leaves = layer_roots.iter().enumerate().map(|(l, r)| hash_layer_root(l as u32, r));
	MerkleTree::from_leaf_hashes(leaves.collect())
}

/// The output root: the root of [`output_tree`].
pub fn output_root(layer_roots: &[H256]) -> Option<H256> {
	output_tree(layer_roots).map(|tree| H256(tree.root()))
}

/// A row (lane) with its path to the root it is committed under.
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct ProvenRow {
	/// The values.
	pub values: Lane,
	/// Its path.
	pub path: MerklePath,
}

/// What a GEMM layer's element needs beyond its input rows: the weight lane and the bias.
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct GemmWitness {
	/// Weight lane `j` (`k` values) and its path to the layer's lane root.
	pub lane: ProvenRow,
	/// `bias[j]`.
	pub bias: i32,
	/// Its path to the bias root.
	pub bias_path: MerklePath,
}

/// What proves one element of a model job's output.
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct ModelSample {
	/// The element's layer's root and its path to the output root.
	pub layer_root: H256,
	/// See `layer_root`.
	pub layer_path: MerklePath,
	/// The element's row of the layer's output.
	pub output: ProvenRow,
	/// The previous layer's root and its path (unused for layer 0, whose input is the job's).
	pub previous_root: H256,
	/// See `previous_root`.
	pub previous_path: MerklePath,
	/// The input rows the element reads, in its window's order, padding skipped.
	pub taps: BoundedVec<ProvenRow, ConstU32<MAX_TAPS>>,
	/// For a convolution or dense layer, its weight lane and bias; `None` for pooling.
	pub weights: Option<GemmWitness>,
}

/// Why a model sample is refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ModelSampleError {
	/// The element is outside the model's outputs.
	OutsideOutput,
	/// The layer's root is not the committed one.
	LayerRoot(ProofError),
	/// The previous layer's root is not the committed one.
	PreviousRoot(ProofError),
	/// The output row is not the committed one.
	Output(LaneError),
	/// Not one row per tap of the element's window.
	TapCount,
	/// Tap `tap`'s row is not the committed one.
	Tap {
		/// Its position among the taps.
		tap: u32,
		/// Why.
		error: LaneError,
	},
	/// A GEMM layer's sample without weights, or a pooling sample with them.
	Weights,
	/// The weight lane is not the registered one.
	WeightLane(LaneError),
	/// The bias is not the registered one.
	Bias(ProofError),
	/// The job's input commitment or weights do not have the plan's shape: nothing about it
	/// can be proven (the chain checks this at submission; the verifier checks it again).
	Commitments,
	/// The recomputed element differs from the committed output's: the output is wrong.
	WrongElement,
}

/// A model job as the chain knows it: the plan of its layers on its batch, the commitments of
/// its input and weights, and the device's output root.
#[derive(Clone, Copy, Debug)]
pub struct ModelCommitments<'a> {
	/// [`crate::model::Model::plan`] on the job's batch.
	pub plan: &'a [Planned],
	/// The input batch's rows.
	pub input: &'a MatrixCommitment,
	/// One per GEMM layer, in order.
	pub weights: &'a [WeightsCommitment],
	/// The device's output root.
	pub root: &'a H256,
}

impl Planned {
	/// Rows of its output on the batch (output pixels).
	pub fn rows(&self) -> u32 {
		match self.step {
			Step::Gemm(conv, _) => conv.gemm_shape().m,
			Step::MaxPool(pool) | Step::AvgPool(pool, ..) => {
				pool.batch * pool.out_height() * pool.out_width()
			}
		}
	}

	/// Rows of its input on the batch (input pixels).
	pub fn input_rows(&self) -> u32 {
		let (batch, height, width) = match self.step {
			Step::Gemm(conv, _) => (conv.batch, conv.height, conv.width),
			Step::MaxPool(pool) | Step::AvgPool(pool, ..) => (pool.batch, pool.height, pool.width),
		};
		batch * height * width
	}

	/// The input pixels output row `row` reads, `None` for padding a convolution reads as its
	/// pad value.
	pub fn taps(&self, row: u32) -> Vec<Option<u32>> {
		match self.step {
			Step::Gemm(conv, _) => conv.taps(row),
			Step::MaxPool(pool) | Step::AvgPool(pool, ..) => {
				pool.window(row).into_iter().map(Some).collect()
			}
		}
	}
}

/// How many GEMM layers come before layer `layer`: the index of its weights.
fn gemm_index(plan: &[Planned], layer: usize) -> usize {
	plan[..layer].iter().filter(|p| p.gemm_shape().is_some()).count()
}

fn siblings(path: &MerklePath) -> Vec<Hash32> {
	path.iter().map(|h| h.0).collect()
}

/// The commitment a layer's input rows are proven against: the job's input for layer 0, else
/// the previous layer's output.
fn input_commitment(
	job: &ModelCommitments,
	layer: usize,
	sample: &ModelSample,
) -> Result<MatrixCommitment, ModelSampleError> {
	if layer == 0 {
		return Ok(*job.input);
	}
	let previous = &job.plan[layer - 1];
	merkle::verify(
		&job.root.0,
		job.plan.len() as u64,
		(layer - 1) as u64,
		hash_layer_root(layer as u32 - 1, &sample.previous_root),
		&siblings(&sample.previous_path),
	)
	.map_err(ModelSampleError::PreviousRoot)?;
	Ok(MatrixCommitment {
		lanes: previous.rows(),
		lane_len: previous.output.channels,
		root: sample.previous_root,
	})
}

/// Checks `sample` as the proof of element `(layer, row, channel)` of the model job `job`:
/// every path, then the element recomputed by its layer's definition.
pub fn verify_model_sample(
	job: &ModelCommitments,
	(layer, row, channel): (u32, u32, u32),
	sample: &ModelSample,
) -> Result<(), ModelSampleError> {
	let first = job.plan.first().ok_or(ModelSampleError::Commitments)?;
	let gemm_layers = gemm_index(job.plan, job.plan.len());
	if job.input.lanes != first.input_rows()
		|| job.input.lane_len != first.input.channels
		|| job.weights.len() != gemm_layers
	{
		return Err(ModelSampleError::Commitments);
	}
	let l = layer as usize;
	let planned = job.plan.get(l).ok_or(ModelSampleError::OutsideOutput)?;
	if row >= planned.rows() || channel >= planned.output.channels {
		return Err(ModelSampleError::OutsideOutput);
	}
	merkle::verify(
		&job.root.0,
		job.plan.len() as u64,
		layer.into(),
		hash_layer_root(layer, &sample.layer_root),
		&siblings(&sample.layer_path),
	)
	.map_err(ModelSampleError::LayerRoot)?;
	MatrixCommitment {
		lanes: planned.rows(),
		lane_len: planned.output.channels,
		root: sample.layer_root,
	}
	.verify_lane(row, &sample.output.values, &siblings(&sample.output.path))
	.map_err(ModelSampleError::Output)?;

	let input = input_commitment(job, l, sample)?;
	let taps = planned.taps(row);
	let pixels: Vec<u32> = taps.iter().flatten().copied().collect();
	if pixels.len() != sample.taps.len() {
		return Err(ModelSampleError::TapCount);
	}
	for (tap, (pixel, proven)) in pixels.iter().zip(&sample.taps).enumerate() {
		input
			.verify_lane(*pixel, &proven.values, &siblings(&proven.path))
			.map_err(|error| ModelSampleError::Tap { tap: tap as u32, error })?;
	}

	let expected = match (planned.step, &sample.weights) {
		(Step::Gemm(conv, epilogue), Some(witness)) => {
			let index = gemm_index(job.plan, l);
			let commitment = job.weights.get(index).ok_or(ModelSampleError::Weights)?;
			let shape = conv.gemm_shape();
			MatrixCommitment { lanes: shape.n, lane_len: shape.k, root: commitment.lanes }
				.verify_lane(channel, &witness.lane.values, &siblings(&witness.lane.path))
				.map_err(ModelSampleError::WeightLane)?;
			merkle::verify(
				&commitment.bias.0,
				shape.n.into(),
				channel.into(),
				hash_bias(witness.bias),
				&siblings(&witness.bias_path),
			)
			.map_err(ModelSampleError::Bias)?;
			let patch = patch_of(&conv, &taps, &sample.taps);
			epilogue.requant.apply_at(
				dot(&patch, &witness.lane.values),
				witness.bias,
				epilogue.zero_point,
			)
		}
		// Every tap's row was proven `channels` long (the input's lanes were checked above).
		(Step::MaxPool(_), None) => sample
			.taps
			.iter()
			.filter_map(|t| t.values.get(channel as usize).copied())
			.max()
			.unwrap_or(i8::MIN),
		(Step::AvgPool(_, epilogue, zero_in), None) => crate::pool::average(
			sample.taps.iter().filter_map(|t| t.values.get(channel as usize).copied()),
			zero_in,
			&epilogue.requant,
			epilogue.zero_point,
		),
		_ => return Err(ModelSampleError::Weights),
	};
	if sample.output.values[channel as usize] != expected {
		return Err(ModelSampleError::WrongElement);
	}
	Ok(())
}

/// A convolution's patch from its proven rows, the padding read as the pad value.
fn patch_of(conv: &Conv2d, taps: &[Option<u32>], rows: &[ProvenRow]) -> Vec<i8> {
	let c = conv.channels as usize;
	let mut rows = rows.iter();
	let mut patch = Vec::with_capacity(taps.len() * c);
	for tap in taps {
		match tap {
			Some(_) => patch.extend_from_slice(&rows.next().expect("counted").values),
			None => patch.extend(core::iter::repeat_n(conv.pad, c)),
		}
	}
	patch
}

/// A fraud proof against a model job: one element, chosen by the accuser, and its sample.
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct ModelFraudProof {
	/// Layer, row and channel.
	pub element: (u32, u32, u32),
	/// What the chain recomputes it from.
	pub sample: ModelSample,
}

/// Why a model fraud proof does not show the output wrong.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ModelFraudRefused {
	/// A part does not prove itself against the commitments: the proof shows nothing.
	Invalid(ModelSampleError),
	/// The element is right.
	ElementCorrect,
}

/// `Ok` if `proof` shows the model job `job`'s committed output wrong: a proven element
/// differs from what its proven input rows and weights give.
pub fn model_fraud_proven(
	job: &ModelCommitments,
	proof: &ModelFraudProof,
) -> Result<(), ModelFraudRefused> {
	match verify_model_sample(job, proof.element, &proof.sample) {
		Err(ModelSampleError::WrongElement) => Ok(()),
		Ok(()) => Err(ModelFraudRefused::ElementCorrect),
		Err(error) => Err(ModelFraudRefused::Invalid(error)),
	}
}

/// How many of `samples` draws fall on layer `layer` of `layers`: `⌊S/L⌋`, plus one for the
/// first `S mod L` layers.
pub fn draws_of_layer(layers: u32, samples: u32, layer: u32) -> u32 {
	if layers == 0 {
		return 0;
	}
	samples / layers + u32::from(layer < samples % layers)
}

/// The elements `(layer, row, channel)` a model job's challenge `seed` draws, `samples` of
/// them: draw `s` is uniform over layer `s mod L`'s elements. Sorted and deduplicated (a
/// duplicate has its twin's outcome).
pub fn model_challenge(plan: &[Planned], seed: &Hash32, samples: u32) -> Vec<(u32, u32, u32)> {
	if plan.is_empty() {
		return Vec::new();
	}
	let mut drawn: Vec<(u32, u32, u32)> = (0..samples)
		.map(|draw| {
			let layer = draw % plan.len() as u32;
			let planned = &plan[layer as usize];
			let mut data = Vec::with_capacity(MODEL_DRAW_TAG.len() + 36);
			data.extend_from_slice(MODEL_DRAW_TAG);
			data.extend_from_slice(seed);
			data.extend_from_slice(&draw.to_le_bytes());
			let hash = blake2_256(&data);
			let mut word = [0u8; 8];
			word.copy_from_slice(&hash[..8]);
			let channels = u64::from(planned.output.channels.max(1));
			let elements = u64::from(planned.rows()) * channels;
			let element = u64::from_le_bytes(word) % elements.max(1);
			(layer, (element / channels) as u32, (element % channels) as u32)
		})
		.collect();
	drawn.sort_unstable();
	drawn.dedup();
	drawn
}

/// Everything a device builds to answer for a model job: the trees over its input, its
/// outputs and the model's weights, and from them any element's [`ModelSample`].
pub struct ModelProver<'a> {
	plan: &'a [Planned],
	input: &'a [i8],
	outputs: &'a [Vec<i8>],
	weights: &'a [Weights],
	input_tree: MerkleTree,
	layer_trees: Vec<MerkleTree>,
	top: MerkleTree,
	weight_trees: Vec<(MerkleTree, MerkleTree)>,
}

/// The root of `values` committed as lanes of `lane_len` (a layer's output, or the batch), as
/// [`MatrixCommitment::of_lanes`] makes it; `None` without a whole lane.
pub fn lane_tree_root(values: &[i8], lane_len: u32) -> Option<H256> {
	if lane_len == 0 || !values.len().is_multiple_of(lane_len as usize) {
		return None;
	}
	lane_tree(values, lane_len).map(|tree| H256(tree.root()))
}

fn lane_tree(values: &[i8], lane_len: u32) -> Option<MerkleTree> {
	let lanes = values.chunks_exact(lane_len.max(1) as usize);
	MerkleTree::from_leaf_hashes(lanes.map(hash_lane).collect())
}

fn proven_row(tree: &MerkleTree, values: &[i8], lane_len: u32, index: u32) -> ProvenRow {
	let len = lane_len as usize;
	let start = index as usize * len;
	ProvenRow {
		values: values[start..start + len].to_vec().try_into().expect("a lane is at most MAX_K"),
		path: to_path(tree.proof(index.into()).expect("index in range")),
	}
}

fn to_path(hashes: Vec<Hash32>) -> MerklePath {
	hashes.into_iter().map(H256).collect::<Vec<_>>().try_into().expect("depth ≤ MAX_PROOF_DEPTH")
}

impl<'a> ModelProver<'a> {
	/// The trees over `input` (the batch, NHWC), `outputs` (every layer's, as
	/// [`crate::model::Model::run`] gives them) and `weights` for `plan`; `None` if a size
	/// does not match the plan.
	pub fn new(
		plan: &'a [Planned],
		input: &'a [i8],
		outputs: &'a [Vec<i8>],
		weights: &'a [Weights],
	) -> Option<Self> {
		let first = plan.first()?;
		let gemm_shapes: Vec<_> = plan.iter().filter_map(Planned::gemm_shape).collect();
		let weights_fit = weights.len() == gemm_shapes.len()
			&& gemm_shapes.iter().zip(weights).all(|(shape, w)| {
				w.lanes.len() as u64 == u64::from(shape.n) * u64::from(shape.k)
					&& w.bias.len() == shape.n as usize
			});
		let input_fits =
			input.len() as u64 == u64::from(first.input_rows()) * u64::from(first.input.channels);
		if outputs.len() != plan.len() || !weights_fit || !input_fits {
			return None;
		}
		let input_tree = lane_tree(input, first.input.channels)?;
		let mut layer_trees = Vec::with_capacity(plan.len());
		for (planned, output) in plan.iter().zip(outputs) {
			if output.len() as u64 != u64::from(planned.rows()) * u64::from(planned.output.channels)
			{
				return None;
			}
			layer_trees.push(lane_tree(output, planned.output.channels)?);
		}
		let roots: Vec<H256> = layer_trees.iter().map(|t| H256(t.root())).collect();
		let top = output_tree(&roots)?;
		let mut weight_trees = Vec::with_capacity(weights.len());
		for (shape, w) in plan.iter().filter_map(Planned::gemm_shape).zip(weights) {
			weight_trees.push((lane_tree(&w.lanes, shape.k)?, bias_tree(&w.bias)?));
		}
		Some(Self { plan, input, outputs, weights, input_tree, layer_trees, top, weight_trees })
	}

	/// The output root the device commits.
	pub fn root(&self) -> H256 {
		H256(self.top.root())
	}

	/// The input batch's commitment (what the client committed, if the input is right).
	pub fn input_commitment(&self) -> MatrixCommitment {
		MatrixCommitment {
			lanes: self.input_tree.leaf_count() as u32,
			lane_len: self.plan[0].input.channels,
			root: H256(self.input_tree.root()),
		}
	}

	/// The weights' commitments, one per GEMM layer: what the model's registration names.
	pub fn weights_commitments(&self) -> Vec<WeightsCommitment> {
		self.weight_trees
			.iter()
			.map(|(lanes, bias)| WeightsCommitment {
				lanes: H256(lanes.root()),
				bias: H256(bias.root()),
			})
			.collect()
	}

	/// The sample of element `(layer, row, channel)`, which must be in the outputs.
	pub fn sample(&self, (layer, row, channel): (u32, u32, u32)) -> ModelSample {
		let l = layer as usize;
		let planned = &self.plan[l];
		let output =
			proven_row(&self.layer_trees[l], &self.outputs[l], planned.output.channels, row);
		let (input, tree, lane_len) = match l {
			0 => (self.input, &self.input_tree, planned.input.channels),
			_ => (
				&self.outputs[l - 1][..],
				&self.layer_trees[l - 1],
				self.plan[l - 1].output.channels,
			),
		};
		let taps: Vec<ProvenRow> = planned
			.taps(row)
			.into_iter()
			.flatten()
			.map(|pixel| proven_row(tree, input, lane_len, pixel))
			.collect();
		let weights = planned.gemm_shape().map(|shape| {
			let index = gemm_index(self.plan, l);
			let (lanes, bias) = &self.weight_trees[index];
			GemmWitness {
				lane: proven_row(lanes, &self.weights[index].lanes, shape.k, channel),
				bias: self.weights[index].bias[channel as usize],
				bias_path: to_path(bias.proof(channel.into()).expect("channel in range")),
			}
		});
		let (previous_root, previous_path) = match l {
			0 => (H256::zero(), MerklePath::default()),
			_ => (
				H256(self.layer_trees[l - 1].root()),
				to_path(self.top.proof((l - 1) as u64).expect("layer in range")),
			),
		};
		ModelSample {
			layer_root: H256(self.layer_trees[l].root()),
			layer_path: to_path(self.top.proof(l as u64).expect("layer in range")),
			output,
			previous_root,
			previous_path,
			taps: taps.try_into().expect("at most MAX_TAPS rows: Model::plan checks it"),
			weights,
		}
	}
}

/// `Ok` if `answer` publishes, for each demanded row `(layer, row)` of a model job's outputs
/// committed as `root` (planned as `plan`), in order, that row proven against its layer's root
/// and that root against the output root ([`crate::job::PublishedLeaf::LayerRow`]); the index
/// of the first part that does not prove it (or of the first missing one).
pub fn check_model_data_answer(
	plan: &[Planned],
	root: &H256,
	elements: &[(u32, u32)],
	answer: &[crate::job::PublishedLeaf],
) -> Result<(), usize> {
	use crate::job::PublishedLeaf;
	for (i, &(layer, row)) in elements.iter().enumerate() {
		let planned = plan.get(layer as usize).ok_or(i)?;
		let Some(PublishedLeaf::LayerRow { layer_root, layer_path, values, path }) = answer.get(i)
		else {
			return Err(i);
		};
		let proven = row < planned.rows()
			&& values.len() == planned.output.channels as usize
			&& merkle::verify(
				&root.0,
				plan.len() as u64,
				layer.into(),
				hash_layer_root(layer, layer_root),
				&siblings(layer_path),
			)
			.is_ok() && merkle::verify(
			&layer_root.0,
			planned.rows().into(),
			row.into(),
			hash_lane(values),
			&siblings(path),
		)
		.is_ok();
		if !proven {
			return Err(i);
		}
	}
	if answer.len() == elements.len() {
		Ok(())
	} else {
		Err(elements.len())
	}
}

/// What a device publishes for demanded row `(layer, row)` of its model job's `outputs`
/// (every layer's, as planned by `plan`); `None` outside them.
pub fn published_row(
	plan: &[Planned],
	outputs: &[Vec<i8>],
	(layer, row): (u32, u32),
) -> Option<crate::job::PublishedLeaf> {
	let planned = plan.get(layer as usize)?;
	if row >= planned.rows() || outputs.len() != plan.len() {
		return None;
	}
	let trees = plan
		.iter()
		.zip(outputs)
		.map(|(p, o)| lane_tree(o, p.output.channels))
		.collect::<Option<Vec<_>>>()?;
	let roots: Vec<H256> = trees.iter().map(|t| H256(t.root())).collect();
	let top = output_tree(&roots)?;
	let tree = &trees[layer as usize];
	let channels = planned.output.channels as usize;
	let start = row as usize * channels;
	Some(crate::job::PublishedLeaf::LayerRow {
		layer_root: roots[layer as usize],
		layer_path: to_path(top.proof(layer.into()).ok()?),
		values: outputs[layer as usize].get(start..start + channels)?.to_vec().try_into().ok()?,
		path: to_path(tree.proof(row.into()).ok()?),
	})
}

/// What a model job costs and how large its proof is, from its plan alone: what the chain
/// prices, sizes windows by and bounds reveals with.
impl Planned {
	/// The most input rows one element reads: its kernel's or window's pixels (a dense layer's
	/// kernel is the whole image). A sample carries that many rows at most.
	pub fn max_taps(&self) -> u64 {
		let (height, width) = match self.step {
			Step::Gemm(conv, _) => conv.kernel,
			Step::MaxPool(pool) | Step::AvgPool(pool, ..) => pool.kernel,
		};
		u64::from(height) * u64::from(width)
	}

	/// The most input values one element reads: a GEMM layer's `k`, or a pooling window's
	/// pixels times the channels (a sample carries whole rows).
	pub fn max_reads(&self) -> u64 {
		match self.gemm_shape() {
			Some(shape) => shape.k.into(),
			None => self.max_taps() * u64::from(self.input.channels),
		}
	}

	/// Its operations on the batch: 2 per multiply-add of a GEMM layer, 1 per value a pooling
	/// window reads.
	pub fn ops(&self) -> u128 {
		match self.gemm_shape() {
			Some(shape) => shape.ops(),
			None => {
				u128::from(self.rows())
					* u128::from(self.output.channels)
					* u128::from(self.max_taps())
			}
		}
	}

	/// Its output values on the batch (what the device hashes into its root).
	pub fn output_values(&self) -> u64 {
		u64::from(self.rows()) * u64::from(self.output.channels)
	}

	/// The most bytes one SCALE-encoded [`ModelSample`] of this layer takes, in a model of
	/// `layers` layers.
	pub fn sample_bytes(&self, layers: u32) -> u64 {
		use crate::inputs::{lane_bytes, path_bytes};
		use codec::{Compact, CompactLen};
		let layer_path = path_bytes(layers.into());
		let roots = 2 * (32 + layer_path);
		let output = lane_bytes(self.output.channels) + path_bytes(self.rows().into());
		let tap = lane_bytes(self.input.channels) + path_bytes(self.input_rows().into());
		let taps = Compact::<u32>::compact_len(&MAX_TAPS) as u64 + self.max_taps() * tap;
		// Weight lane `j` and bias `j`, each with its path among the `n` lanes and biases.
		let weights = 1 + self
			.gemm_shape()
			.map_or(0, |shape| lane_bytes(shape.k) + 4 + 2 * path_bytes(shape.n.into()));
		roots + output + taps + weights
	}
}

/// The shape a model job's spec names, checked against the plan at submission: `m` the batch,
/// `n` the widest row any layer reads or writes, `k` the most input values one element reads
/// ([`Planned::max_reads`]). The chain bounds a sample's work by `k` and `n`, as for a layer.
pub fn model_job_shape(plan: &[Planned], batch: u32) -> crate::gemm::GemmShape {
	let n = plan.iter().map(|p| p.input.channels.max(p.output.channels)).max().unwrap_or(0);
	let k = plan.iter().map(Planned::max_reads).max().unwrap_or(0);
	crate::gemm::GemmShape { m: batch, n, k: k.min(u64::from(u32::MAX)) as u32 }
}

/// A model job's operations on its batch: every layer's ([`Planned::ops`]).
pub fn model_ops(plan: &[Planned]) -> u128 {
	plan.iter().map(Planned::ops).fold(0, u128::saturating_add)
}

/// Every layer's output values on the batch: what its device hashes.
pub fn model_output_values(plan: &[Planned]) -> u64 {
	plan.iter().map(Planned::output_values).fold(0, u64::saturating_add)
}

/// The most bytes a reveal of `samples` samples of a model job takes: each layer's draws
/// ([`draws_of_layer`]) times its largest sample.
pub fn model_reveal_bytes(plan: &[Planned], samples: u32) -> u64 {
	let layers = plan.len() as u32;
	plan.iter()
		.enumerate()
		.map(|(l, p)| {
			u64::from(draws_of_layer(layers, samples, l as u32))
				.saturating_mul(p.sample_bytes(layers))
		})
		.fold(0, u64::saturating_add)
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{
		challenge::{challenge_seed, pass_probability},
		model::tests::{cnn, values, weights_for},
	};

	struct Run {
		plan: Vec<Planned>,
		input: Vec<i8>,
		outputs: Vec<Vec<i8>>,
		weights: Vec<Weights>,
	}

	fn run(batch: u32) -> Run {
		let model = cnn();
		let weights = weights_for(&model, 40);
		let input = values((u64::from(batch) * model.input.values()) as usize, 4);
		let outputs = model.run(batch, &input, &weights).unwrap();
		Run { plan: model.plan(batch).unwrap(), input, outputs, weights }
	}

	fn every_element(plan: &[Planned]) -> Vec<(u32, u32, u32)> {
		let mut all = Vec::new();
		for (l, p) in plan.iter().enumerate() {
			for row in 0..p.rows() {
				for ch in 0..p.output.channels {
					all.push((l as u32, row, ch));
				}
			}
		}
		all
	}

	#[test]
	fn every_element_of_every_layer_of_an_honest_run_is_proven() {
		let r = run(2);
		let prover = ModelProver::new(&r.plan, &r.input, &r.outputs, &r.weights).unwrap();
		let (input, weights, root) =
			(prover.input_commitment(), prover.weights_commitments(), prover.root());
		let job = ModelCommitments { plan: &r.plan, input: &input, weights: &weights, root: &root };
		let all = every_element(&r.plan);
		assert_eq!(all.len(), 2 * (9 * 4 * 4 + 5 * 4 * 4 + 3 * 3 * 3 + 2 * 2 * 3 + 5));
		for element in &all {
			let sample = prover.sample(*element);
			assert_eq!(verify_model_sample(&job, *element, &sample), Ok(()), "{element:?}");
			let proof = ModelFraudProof { element: *element, sample };
			assert_eq!(model_fraud_proven(&job, &proof), Err(ModelFraudRefused::ElementCorrect));
		}
		// A padded corner of the first convolution reads 4 of its 9 taps; the average pooling
		// its 2×2 window; the dense layer its whole 2×2 image.
		assert_eq!(prover.sample((0, 0, 0)).taps.len(), 4);
		assert_eq!(prover.sample((3, 3, 2)).taps.len(), 4);
		assert_eq!(prover.sample((4, 1, 4)).taps.len(), 4);
		assert_eq!(prover.sample((1, 0, 0)).weights, None);
		assert_eq!(prover.sample((3, 0, 0)).weights, None);
	}

	#[test]
	fn every_sample_fits_its_layers_bound_and_the_job_sizes_add_up() {
		let r = run(3);
		let prover = ModelProver::new(&r.plan, &r.input, &r.outputs, &r.weights).unwrap();
		let layers = r.plan.len() as u32;
		let mut largest = vec![0u64; r.plan.len()];
		for element in every_element(&r.plan) {
			let bytes = prover.sample(element).encoded_size() as u64;
			let bound = r.plan[element.0 as usize].sample_bytes(layers);
			assert!(bytes <= bound, "{element:?}: {bytes} > {bound}");
			largest[element.0 as usize] = largest[element.0 as usize].max(bytes);
		}
		// The bound is tight where a sample reads its whole kernel (no padding skipped); layer
		// 0's has no previous layer's path.
		for (l, p) in r.plan.iter().enumerate() {
			assert!(p.sample_bytes(layers) - largest[l] < 128, "layer {l}: {largest:?}");
		}
		let reveal: u64 = (0..layers)
			.map(|l| {
				u64::from(draws_of_layer(layers, 13, l)) * r.plan[l as usize].sample_bytes(layers)
			})
			.sum();
		assert_eq!(model_reveal_bytes(&r.plan, 13), reveal);

		// The textbook model on 3 images: 6×6×1 → conv 3×3 (9 filters) → ... as `cnn()` plans.
		let gemm: u128 = r.plan.iter().filter_map(Planned::gemm_shape).map(|s| s.ops()).sum();
		let pooled: u128 = r
			.plan
			.iter()
			.filter(|p| p.gemm_shape().is_none())
			.map(|p| u128::from(p.rows()) * u128::from(p.output.channels) * p.max_taps() as u128)
			.sum();
		assert_eq!(model_ops(&r.plan), gemm + pooled);
		let values: u64 = r.outputs.iter().map(|o| o.len() as u64).sum();
		assert_eq!(model_output_values(&r.plan), values);
		let shape = model_job_shape(&r.plan, 3);
		assert_eq!(shape.m, 3);
		let widest = r.plan.iter().map(|p| p.input.channels.max(p.output.channels)).max();
		assert_eq!(Some(shape.n), widest);
		let reads = r.plan.iter().filter_map(Planned::gemm_shape).map(|s| s.k).max().unwrap();
		assert!(shape.k >= reads);
	}

	#[test]
	fn every_published_row_proves_against_the_root_and_a_doctored_one_does_not() {
		use crate::job::PublishedLeaf;
		let r = run(2);
		let prover = ModelProver::new(&r.plan, &r.input, &r.outputs, &r.weights).unwrap();
		let root = prover.root();
		let mut all = Vec::new();
		for (l, p) in r.plan.iter().enumerate() {
			for row in 0..p.rows() {
				all.push((l as u32, row));
			}
		}
		let answer: Vec<PublishedLeaf> =
			all.iter().map(|&e| published_row(&r.plan, &r.outputs, e).unwrap()).collect();
		for (element, leaf) in all.iter().zip(&answer) {
			assert_eq!(
				check_model_data_answer(&r.plan, &root, &[*element], core::slice::from_ref(leaf)),
				Ok(())
			);
		}
		let demanded = [(0, 5), (4, 1), (2, 0)];
		let leaves: Vec<_> =
			demanded.iter().map(|&e| published_row(&r.plan, &r.outputs, e).unwrap()).collect();
		assert_eq!(check_model_data_answer(&r.plan, &root, &demanded, &leaves), Ok(()));
		// Out of order, missing, another row's, a changed value, another kind's leaf.
		assert_eq!(
			check_model_data_answer(&r.plan, &root, &[(4, 1), (0, 5)], &leaves[..2]),
			Err(0)
		);
		assert_eq!(check_model_data_answer(&r.plan, &root, &demanded, &leaves[..2]), Err(2));
		let mut doctored = leaves.clone();
		if let PublishedLeaf::LayerRow { values, .. } = &mut doctored[1] {
			values[0] ^= 1;
		}
		assert_eq!(check_model_data_answer(&r.plan, &root, &demanded, &doctored), Err(1));
		let row = PublishedLeaf::Row { values: Default::default(), path: Default::default() };
		assert_eq!(check_model_data_answer(&r.plan, &root, &[(0, 5)], &[row]), Err(0));
		// Outside the outputs: nothing to publish, nothing proves it.
		assert_eq!(published_row(&r.plan, &r.outputs, (5, 0)), None);
		assert_eq!(published_row(&r.plan, &r.outputs, (4, r.plan[4].rows())), None);
		assert_eq!(check_model_data_answer(&r.plan, &root, &[(5, 0)], &leaves[..1]), Err(0));
	}

	#[test]
	fn one_wrong_element_of_an_inner_layer_is_caught_and_proven_wrong() {
		let mut r = run(2);
		// The faking device: one element of the pooled layer (layer 1) off by one.
		let victim = (1u32, 13u32, 2u32);
		let at = (victim.1 * r.plan[1].output.channels + victim.2) as usize;
		r.outputs[1][at] = r.outputs[1][at].wrapping_add(1);
		let prover = ModelProver::new(&r.plan, &r.input, &r.outputs, &r.weights).unwrap();
		let (input, weights, root) =
			(prover.input_commitment(), prover.weights_commitments(), prover.root());
		let job = ModelCommitments { plan: &r.plan, input: &input, weights: &weights, root: &root };
		let mut wrong = Vec::new();
		for element in every_element(&r.plan) {
			if verify_model_sample(&job, element, &prover.sample(element)).is_err() {
				wrong.push(element);
			}
		}
		// The faked element, and elements of layer 2 that read it and come out different.
		assert_eq!(wrong[0], victim);
		assert!(wrong.iter().all(|(l, ..)| *l == 1 || *l == 2), "{wrong:?}");
		let proof = ModelFraudProof { element: victim, sample: prover.sample(victim) };
		assert_eq!(model_fraud_proven(&job, &proof), Ok(()));
		// The proof is about the commitments: against another root it proves nothing.
		let other = H256([9; 32]);
		let elsewhere = ModelCommitments { root: &other, ..job };
		assert_eq!(
			model_fraud_proven(&elsewhere, &proof),
			Err(ModelFraudRefused::Invalid(ModelSampleError::LayerRoot(ProofError::RootMismatch)))
		);
	}

	#[test]
	fn a_sample_that_does_not_prove_its_parts_is_refused_by_part() {
		let r = run(1);
		let prover = ModelProver::new(&r.plan, &r.input, &r.outputs, &r.weights).unwrap();
		let (input, weights, root) =
			(prover.input_commitment(), prover.weights_commitments(), prover.root());
		let job = ModelCommitments { plan: &r.plan, input: &input, weights: &weights, root: &root };
		let element = (2u32, 4u32, 1u32);
		let good = prover.sample(element);
		assert_eq!(verify_model_sample(&job, element, &good), Ok(()));
		let check = |sample: &ModelSample| verify_model_sample(&job, element, sample);

		// Another pixel's row with its own (valid) path, in place of a tap.
		let mut swapped = good.clone();
		swapped.taps[0] = prover.sample((2, 5, 1)).taps[0].clone();
		assert!(matches!(check(&swapped), Err(ModelSampleError::Tap { tap: 0, .. })));
		let mut short = good.clone();
		short.taps.pop();
		assert_eq!(check(&short), Err(ModelSampleError::TapCount));
		// Filter 2's weights for element 1's.
		let mut other_filter = good.clone();
		other_filter.weights = prover.sample((2, 4, 2)).weights;
		assert!(matches!(check(&other_filter), Err(ModelSampleError::WeightLane(_))));
		let mut no_weights = good.clone();
		no_weights.weights = None;
		assert_eq!(check(&no_weights), Err(ModelSampleError::Weights));
		let mut bias = good.clone();
		bias.weights.as_mut().unwrap().bias += 1;
		assert!(matches!(check(&bias), Err(ModelSampleError::Bias(_))));
		// Layer 1's root offered as layer 2's, or as its input's.
		let mut layer = good.clone();
		layer.layer_root = good.previous_root;
		assert!(matches!(check(&layer), Err(ModelSampleError::LayerRoot(_))));
		let mut previous = good.clone();
		previous.previous_root = good.layer_root;
		assert!(matches!(check(&previous), Err(ModelSampleError::PreviousRoot(_))));
		let mut output = good.clone();
		output.output.values[0] ^= 1;
		assert!(matches!(check(&output), Err(ModelSampleError::Output(_))));
		// Commitments of another shape prove nothing, whatever the sample.
		let short_input = MatrixCommitment { lane_len: input.lane_len - 1, ..input };
		let bad = ModelCommitments { input: &short_input, ..job };
		assert_eq!(verify_model_sample(&bad, element, &good), Err(ModelSampleError::Commitments));
		let bad = ModelCommitments { weights: &weights[1..], ..job };
		assert_eq!(verify_model_sample(&bad, element, &good), Err(ModelSampleError::Commitments));
		// The prover refuses weights or inputs of the wrong size instead of panicking later.
		assert!(ModelProver::new(&r.plan, &r.input, &r.outputs, &r.weights[1..]).is_none());
		assert!(ModelProver::new(&r.plan, &r.input[1..], &r.outputs, &r.weights).is_none());
		// Pooling takes no weights; elements beyond the outputs are refused.
		let mut pooled = prover.sample((1, 0, 0));
		pooled.weights = good.weights.clone();
		assert_eq!(verify_model_sample(&job, (1, 0, 0), &pooled), Err(ModelSampleError::Weights));
		for outside in [(5, 0, 0), (4, 1, 0), (4, 0, 5), (3, 4, 0)] {
			assert_eq!(
				verify_model_sample(&job, outside, &good),
				Err(ModelSampleError::OutsideOutput)
			);
		}
	}

	#[test]
	fn the_challenge_checks_every_layer_and_a_cheater_passes_as_stated() {
		let r = run(2);
		let layers = r.plan.len() as u32;
		for samples in [0u32, 3, 4, 64, 65] {
			let total: u32 = (0..layers).map(|l| draws_of_layer(layers, samples, l)).sum();
			assert_eq!(total, samples);
		}
		assert_eq!((draws_of_layer(4, 65, 0), draws_of_layer(4, 65, 1)), (17, 16));
		let seed = challenge_seed(3, &[1; 32], &[2; 32]);
		let drawn = model_challenge(&r.plan, &seed, 64);
		assert_eq!(drawn, model_challenge(&r.plan, &seed, 64));
		for (l, p) in r.plan.iter().enumerate() {
			let of_layer: Vec<_> = drawn.iter().filter(|d| d.0 == l as u32).collect();
			assert!(!of_layer.is_empty(), "layer {l} unchecked");
			assert!(of_layer.iter().all(|d| d.1 < p.rows() && d.2 < p.output.channels));
		}
		// A cheater faking a fraction f of layer 0's 288 elements passes with (1 − f)^13.
		let faked = |row: u32, ch: u32| blake2_256(&(row * 8 + ch).to_le_bytes())[0] < 26;
		let elements = r.plan[0].rows() * r.plan[0].output.channels;
		let fraction =
			(0..elements).filter(|e| faked(e / 4, e % 4)).count() as f64 / elements as f64;
		let trials = 3_000u64;
		let passes = (0..trials)
			.filter(|t| {
				let seed = challenge_seed(*t, &[7; 32], &[(*t % 251) as u8; 32]);
				model_challenge(&r.plan, &seed, 64)
					.iter()
					.all(|&(l, row, ch)| l != 0 || !faked(row, ch))
			})
			.count();
		let observed = passes as f64 / trials as f64;
		let expected = pass_probability(fraction, draws_of_layer(layers, 64, 0));
		let sigma = (expected * (1.0 - expected) / trials as f64).sqrt();
		let draws = draws_of_layer(layers, 64, 0);
		assert_eq!(draws, 13);
		println!(
			"f = {fraction:.3} of layer 0, {draws} draws: passes {observed:.4}, (1−f)^{draws} = {expected:.4}"
		);
		assert!((observed - expected).abs() < 5.0 * sigma, "{observed} vs {expected}");
	}
}
