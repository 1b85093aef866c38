//! What a client asks for and what a provider reveals: shared by the jobs pallet, the compute
//! proof pallet, the client and the worker.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::ConstU32;
use sp_runtime::BoundedVec;

use crate::{
	device::{Kernel, Requirements},
	gemm::GemmShape,
	inputs::{FraudProof, SuppliedInputs, SuppliedSample},
	linear::{Layer, LayerFraudProof, LayerSample},
	model::ModelId,
	model_proof::{ModelFraudProof, ModelSample},
};

/// A job's on-chain identifier.
pub type JobId = u64;

/// Most leaves a reveal of a seeded job may open (the chain's challenge sample count is at most
/// this).
pub const MAX_CHALLENGE_SAMPLES: u32 = 64;

/// Most samples the client of a job on supplied inputs may ask for (each costs the client the
/// verification of one element; the chain sets the minimum).
pub const MAX_SUPPLIED_SAMPLES: u32 = 256;

pub use crate::merkle::{MerklePath, MAX_PROOF_DEPTH};

/// A reveal: the Merkle path of each challenged leaf, in increasing leaf-index order. The leaves
/// themselves are not sent: for seeded inputs the chain recomputes them.
pub type RevealPaths = BoundedVec<MerklePath, ConstU32<MAX_CHALLENGE_SAMPLES>>;

/// A reveal for supplied inputs: one [`SuppliedSample`] per challenged leaf, in increasing
/// leaf-index order.
pub type SuppliedReveal = BoundedVec<SuppliedSample, ConstU32<MAX_SUPPLIED_SAMPLES>>;

/// A reveal of a `linear-i8` job: one [`LayerSample`] per challenged element, in challenge
/// order.
pub type LayerReveal = BoundedVec<LayerSample, ConstU32<MAX_SUPPLIED_SAMPLES>>;

/// A reveal of a model job: one [`ModelSample`] per challenged element, in challenge order
/// ([`crate::model_proof::model_challenge`]).
pub type ModelReveal = BoundedVec<ModelSample, ConstU32<MAX_SUPPLIED_SAMPLES>>;

/// Most output elements one data-availability demand names.
pub const MAX_DEMANDED_ELEMENTS: u32 = 8;

/// The elements `(row, column)` of a verified job's output that its client demands the device
/// publish on chain; for a model job, the rows `(layer, row)` of its layers' outputs.
pub type DemandedElements = BoundedVec<(u32, u32), ConstU32<MAX_DEMANDED_ELEMENTS>>;

/// What holds a demanded element of a committed output, published on chain with its path to
/// the root. With it and its own inputs, a client can prove an element wrong (a fraud proof)
/// even if the device never served its output.
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub enum PublishedLeaf {
	/// A GEMM output's leaf ([`OutputKind::Supplied`]): its 16 values, row-major in its 4×4
	/// tile.
	Tile {
		/// The leaf's values.
		values: [i32; crate::gemm::LEAF_ELEMENTS],
		/// Its path to the output root.
		path: MerklePath,
	},
	/// A `linear-i8` output's row ([`OutputKind::Layer`]): the lane of `n` values holding the
	/// element.
	Row {
		/// The row's values.
		values: crate::inputs::Lane,
		/// Its path to the output root.
		path: MerklePath,
	},
	/// A row of one layer's output of a model job ([`OutputKind::Model`]; the demanded element
	/// `(layer, row)`): its values, its path to the layer's root, and the layer's root with its
	/// path to the output root.
	LayerRow {
		/// The layer's root.
		layer_root: sp_core::H256,
		/// Its path to the output root.
		layer_path: MerklePath,
		/// The row's values.
		values: crate::inputs::Lane,
		/// Its path to the layer's root.
		path: MerklePath,
	},
}

/// A device's answer to a data-availability demand: what holds each demanded element, in the
/// demand's order.
pub type DataAnswer = BoundedVec<PublishedLeaf, ConstU32<MAX_DEMANDED_ELEMENTS>>;

/// `Ok` if `answer` publishes, for each of `elements` in order, the part of the output of kind
/// `kind` and `shape` committed as `root` that holds it (a leaf of a GEMM output, a row of a
/// layer's); the index of the first part that does not prove otherwise (or of the first
/// missing one). Seeded outputs are never demanded (the chain can recompute them).
pub fn check_data_answer(
	kind: OutputKind,
	shape: &GemmShape,
	root: &[u8; 32],
	elements: &[(u32, u32)],
	answer: &[PublishedLeaf],
) -> Result<(), usize> {
	use crate::merkle;
	let as_hashes =
		|path: &MerklePath| -> alloc::vec::Vec<[u8; 32]> { path.iter().map(|h| h.0).collect() };
	for (i, &(row, col)) in elements.iter().enumerate() {
		let proven = match (kind, answer.get(i).ok_or(i)?) {
			(OutputKind::Supplied, PublishedLeaf::Tile { values, path }) => merkle::verify(
				root,
				shape.leaf_count(),
				shape.leaf_of(row, col),
				merkle::hash_leaf(&crate::gemm::encode_leaf(values)),
				&as_hashes(path),
			)
			.is_ok(),
			(OutputKind::Layer, PublishedLeaf::Row { values, path }) => {
				values.len() == shape.n as usize
					&& merkle::verify(
						root,
						shape.m.into(),
						row.into(),
						crate::inputs::hash_lane(values),
						&as_hashes(path),
					)
					.is_ok()
			}
			_ => false,
		};
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

/// Longest URL an input may be fetched from.
pub const MAX_URL_LEN: u32 = 256;

/// Where a device gets a supplied matrix's bytes from.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub enum InputSource {
	/// The client uploads it to the assigned device's data service after the claim.
	Upload,
	/// The device fetches it from this `http://` or `https://` URL.
	Url(BoundedVec<u8, ConstU32<MAX_URL_LEN>>),
	/// The output of this earlier `linear-i8` job, settled: its rows are the lanes of `A`
	/// (the chain checks that `A`'s commitment is that job's output), and the device fetches
	/// them from the device that computed them. For `A` only.
	Job(JobId),
}

impl InputSource {
	/// Whether the source can be used: an upload, an [`is_http_url`] or an earlier job (which
	/// the chain checks further).
	pub fn is_valid(&self) -> bool {
		match self {
			Self::Upload | Self::Job(_) => true,
			Self::Url(url) => is_http_url(url),
		}
	}
}

/// Whether `url` is an `http://` or `https://` URL with a host and no spaces or control
/// characters (what inputs are fetched from and device endpoints are reached at).
pub fn is_http_url(url: &[u8]) -> bool {
	let rest = url.strip_prefix(b"https://").or_else(|| url.strip_prefix(b"http://"));
	rest.is_some_and(|rest| {
		!rest.is_empty() && !rest.starts_with(b"/") && rest.iter().all(|b| b.is_ascii_graphic())
	})
}

/// Where a job's `A` and `B` come from.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub enum JobInputs {
	/// Generated from a seed (see [`crate::gemm`]): benchmarks, demos, capability checks. A
	/// client chooses any seed; the chain stores the job's [`effective_seed`] (and from the
	/// claim on its [`claim_seed`]) instead, so one computed output never answers two jobs.
	Seeded {
		/// The seed.
		seed: [u8; 32],
	},
	/// The client's own matrices: their commitments, and where the device gets the bytes.
	Supplied {
		/// Shapes and lane roots of `A` and `B`.
		matrices: SuppliedInputs,
		/// Where `A` comes from.
		a: InputSource,
		/// Where `B` comes from.
		b: InputSource,
		/// Output elements the challenge draws, and the device reveals and the chain recomputes
		/// (the client pays for their verification): a device computing a fraction `f` of the
		/// output wrongly is caught with probability `1 − (1 − f)^samples`.
		samples: u32,
		/// Whether the device's data service serves the output to anyone. `false` (the
		/// default a client should choose): only to the client, to whoever holds a download
		/// grant the client signed, and to the device of a job of the same client chained
		/// from this one ([`crate::inputs::download_message`]).
		public_output: bool,
	},
	/// A `linear-i8` layer ([`Kernel::LinearI8`]) on the client's matrices: `A` (m×k, by rows)
	/// and `W` (k×n, by columns) as for [`Self::Supplied`], `n` int32 biases and the
	/// requantization. The output `Y` (m×n int8) is committed by its rows as lanes
	/// ([`crate::linear::output_commitment`]), so a later job can take it as its `A`.
	Layer {
		/// Shapes and lane roots of `A` and `W`.
		matrices: SuppliedInputs,
		/// Where `A` comes from (possibly an earlier layer's output: [`InputSource::Job`]).
		a: InputSource,
		/// Where `W` comes from.
		b: InputSource,
		/// Where the biases come from (`n` little-endian int32 values).
		bias: InputSource,
		/// The bias commitment and the requantization.
		layer: Layer,
		/// Output elements the challenge draws, as for [`Self::Supplied`].
		samples: u32,
		/// Whether the output is served to anyone, as for [`Self::Supplied`].
		public_output: bool,
	},
	/// A whole registered model ([`Kernel::ModelI8`], `pallet-models`) on the client's batch.
	/// The device commits one root over every layer's output
	/// ([`crate::model_proof::output_root`]); the spec's shape is
	/// [`crate::model_proof::model_job_shape`] of the model's plan on the batch.
	Model {
		/// The registered model.
		model: ModelId,
		/// Images in the batch.
		batch: u32,
		/// The batch's commitment: one lane per input pixel of `channels` values (NHWC).
		input: crate::inputs::MatrixCommitment,
		/// Where the batch comes from (an upload or a URL).
		source: InputSource,
		/// Output elements the challenge draws, split across the layers
		/// ([`crate::model_proof::draws_of_layer`]): at least one per layer.
		samples: u32,
		/// Its operations, [`crate::model_proof::model_ops`] of the plan: what it is priced by
		/// (the chain checks it).
		ops: u64,
		/// Every layer's output values, [`crate::model_proof::model_output_values`]: what the
		/// device hashes (the chain checks it).
		output_values: u64,
		/// Whether the output is served to anyone, as for [`Self::Supplied`].
		public_output: bool,
	},
}

/// The work a client buys.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub struct JobSpec {
	/// The GEMM to compute (for supplied inputs, the shape their commitments make).
	pub shape: GemmShape,
	/// Where `A` and `B` come from.
	pub inputs: JobInputs,
	/// What the device must offer; `requirements.kernel` is the kernel to run.
	pub requirements: Requirements,
}

impl JobSpec {
	/// A job on seeded inputs.
	pub fn seeded(shape: GemmShape, seed: [u8; 32], requirements: Requirements) -> Self {
		Self { shape, inputs: JobInputs::Seeded { seed }, requirements }
	}

	/// The seed of a job on seeded inputs.
	pub fn seed(&self) -> Option<&[u8; 32]> {
		match &self.inputs {
			JobInputs::Seeded { seed } => Some(seed),
			JobInputs::Supplied { .. } | JobInputs::Layer { .. } | JobInputs::Model { .. } => None,
		}
	}

	/// The sample count a job on the client's inputs (a GEMM, a layer or a model) asked for.
	pub fn supplied_samples(&self) -> Option<u32> {
		match &self.inputs {
			JobInputs::Seeded { .. } => None,
			JobInputs::Supplied { samples, .. }
			| JobInputs::Layer { samples, .. }
			| JobInputs::Model { samples, .. } => Some(*samples),
		}
	}

	/// Whether the device receives inputs from the client (an upload or a URL) before it can
	/// compute: every kind but seeded.
	pub fn has_client_inputs(&self) -> bool {
		!matches!(self.inputs, JobInputs::Seeded { .. })
	}

	/// The model and batch of a model job.
	pub fn model(&self) -> Option<(ModelId, u32)> {
		match &self.inputs {
			JobInputs::Model { model, batch, .. } => Some((*model, *batch)),
			_ => None,
		}
	}

	/// Its operations (2 per multiply-add): the GEMM's, or a model's whole plan's.
	pub fn ops(&self) -> u128 {
		match &self.inputs {
			JobInputs::Model { ops, .. } => (*ops).into(),
			_ => self.shape.ops(),
		}
	}

	/// The work a commit window is sized for: its [`Self::ops`] plus `ops_per_leaf` per 16
	/// output values hashed (a GEMM's leaf; a model hashes every layer's output).
	pub fn commit_work(&self, ops_per_leaf: u64) -> u128 {
		match &self.inputs {
			JobInputs::Model { ops, output_values, .. } => u128::from(*ops).saturating_add(
				u128::from(output_values.div_ceil(crate::gemm::LEAF_ELEMENTS as u64))
					.saturating_mul(ops_per_leaf.into()),
			),
			_ => self.shape.commit_work(ops_per_leaf),
		}
	}

	/// The input commitments of a job on supplied inputs: a GEMM's `A` and `B`, or a layer's
	/// `A` and `W`.
	pub fn supplied(&self) -> Option<&SuppliedInputs> {
		match &self.inputs {
			JobInputs::Seeded { .. } | JobInputs::Model { .. } => None,
			JobInputs::Supplied { matrices, .. } | JobInputs::Layer { matrices, .. } => {
				Some(matrices)
			}
		}
	}

	/// The bias commitment and requantization of a `linear-i8` job.
	pub fn layer(&self) -> Option<&Layer> {
		match &self.inputs {
			JobInputs::Layer { layer, .. } => Some(layer),
			_ => None,
		}
	}

	/// Bytes of the inputs its device receives (`A`, `B` and a layer's biases), zero for
	/// seeded inputs: what the chain's input windows are sized by.
	pub fn input_bytes(&self) -> u64 {
		if let JobInputs::Model { input, .. } = &self.inputs {
			return u64::from(input.lanes).saturating_mul(input.lane_len.into());
		}
		if self.supplied().is_none() {
			return 0;
		}
		let shape = &self.shape;
		let matrices = (u64::from(shape.m) + u64::from(shape.n)).saturating_mul(shape.k.into());
		let bias = if self.layer().is_some() { 4 * u64::from(shape.n) } else { 0 };
		matrices.saturating_add(bias)
	}

	/// How the job's output is committed and revealed, which its kernel and inputs decide
	/// together; `None` for a combination the chain does not accept.
	pub fn output_kind(&self) -> Option<OutputKind> {
		match (&self.inputs, self.requirements.kernel) {
			(JobInputs::Seeded { .. }, Kernel::GemmI8) => Some(OutputKind::Seeded),
			(JobInputs::Supplied { .. }, Kernel::GemmI8) => Some(OutputKind::Supplied),
			(JobInputs::Layer { .. }, Kernel::LinearI8) => Some(OutputKind::Layer),
			(JobInputs::Model { .. }, Kernel::ModelI8) => Some(OutputKind::Model),
			_ => None,
		}
	}

	/// Whether its device serves its output to anyone: a client's choice for its own inputs;
	/// always for seeded inputs (anyone can compute that output from the public seed).
	pub fn public_output(&self) -> bool {
		match &self.inputs {
			JobInputs::Seeded { .. } => true,
			JobInputs::Supplied { public_output, .. }
			| JobInputs::Layer { public_output, .. }
			| JobInputs::Model { public_output, .. } => *public_output,
		}
	}

	/// The job whose output is this job's `A`, if any.
	pub fn chained_from(&self) -> Option<JobId> {
		match &self.inputs {
			JobInputs::Supplied { a: InputSource::Job(job), .. }
			| JobInputs::Layer { a: InputSource::Job(job), .. } => Some(*job),
			_ => None,
		}
	}
}

/// How a job's output is committed, and so which [`Reveal`] answers its challenge and which
/// [`Accusation`] can prove it wrong. Adding a kind of job starts here: see the checklist in
/// `docs/ARCHITECTURE.md`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum OutputKind {
	/// GEMM leaves of 4×4 int32 values, recomputed from the seed ([`Reveal::Seeded`]).
	Seeded,
	/// GEMM leaves, proven with the input lanes behind each challenged element
	/// ([`Reveal::Supplied`], [`Accusation::Gemm`]).
	Supplied,
	/// Rows of the layer's int8 output as lanes, proven with the inputs and bias behind each
	/// challenged element ([`Reveal::Layer`], [`Accusation::Layer`]).
	Layer,
	/// One root over every layer's rows of a whole model, proven element by element from the
	/// previous layer's rows and the registered weights ([`Reveal::Model`],
	/// [`Accusation::Model`]).
	Model,
}

/// What a device reveals to answer its job's challenge, one variant per [`OutputKind`]: the
/// argument of the chain's one `reveal` call.
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub enum Reveal {
	/// The Merkle path of each challenged leaf; the chain recomputes the leaves from the seed.
	Seeded(RevealPaths),
	/// Each challenged leaf with the row of `A` and column of `B` behind its element.
	Supplied(SuppliedReveal),
	/// Each challenged element's output row, row of `A`, column of `W` and bias.
	Layer(LayerReveal),
	/// Each challenged element of a model job with what it reads ([`ModelSample`]).
	Model(ModelReveal),
}

impl Reveal {
	/// The kind of output this reveal answers for.
	pub fn kind(&self) -> OutputKind {
		match self {
			Reveal::Seeded(_) => OutputKind::Seeded,
			Reveal::Supplied(_) => OutputKind::Supplied,
			Reveal::Layer(_) => OutputKind::Layer,
			Reveal::Model(_) => OutputKind::Model,
		}
	}

	/// How many samples it carries.
	pub fn samples(&self) -> u32 {
		match self {
			Reveal::Seeded(paths) => paths.len() as u32,
			Reveal::Supplied(samples) => samples.len() as u32,
			Reveal::Layer(samples) => samples.len() as u32,
			Reveal::Model(samples) => samples.len() as u32,
		}
	}

	/// The longest output row it carries (a layer's rows are hashed whole; 0 for GEMM leaves):
	/// with the samples and `k`, what its verification costs.
	pub fn row_len(&self) -> u32 {
		match self {
			Reveal::Layer(samples) => {
				samples.iter().map(|s| s.output_row.len() as u32).max().unwrap_or(0)
			}
			Reveal::Model(samples) => {
				samples.iter().map(|s| s.output.values.len() as u32).max().unwrap_or(0)
			}
			Reveal::Seeded(_) | Reveal::Supplied(_) => 0,
		}
	}

	/// The most input rows one of its samples carries (a model's taps; 0 for other kinds):
	/// each costs a path's check.
	pub fn taps(&self) -> u32 {
		match self {
			Reveal::Model(samples) => {
				samples.iter().map(|s| s.taps.len() as u32).max().unwrap_or(0)
			}
			Reveal::Seeded(_) | Reveal::Supplied(_) | Reveal::Layer(_) => 0,
		}
	}
}

/// A claim that one element of a verified job's output is wrong, with what lets the chain
/// recompute it: the argument of the chain's one `dispute` call. Seeded jobs have none (their
/// inputs are public, so the reveal's samples already stand for any element).
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub enum Accusation {
	/// Against a GEMM on supplied inputs ([`OutputKind::Supplied`]).
	Gemm(FraudProof),
	/// Against a `linear-i8` layer ([`OutputKind::Layer`]).
	Layer(LayerFraudProof),
	/// Against a model job ([`OutputKind::Model`]).
	Model(ModelFraudProof),
}

impl Accusation {
	/// The kind of output it accuses.
	pub fn kind(&self) -> OutputKind {
		match self {
			Accusation::Gemm(_) => OutputKind::Supplied,
			Accusation::Layer(_) => OutputKind::Layer,
			Accusation::Model(_) => OutputKind::Model,
		}
	}

	/// The accused element's row and column (a model's: its row and channel in its layer).
	pub fn element(&self) -> (u32, u32) {
		match self {
			Accusation::Gemm(proof) => proof.element,
			Accusation::Layer(proof) => proof.element,
			Accusation::Model(proof) => (proof.element.1, proof.element.2),
		}
	}

	/// The length of the output row it carries (0 for a GEMM leaf), as [`Reveal::row_len`].
	pub fn row_len(&self) -> u32 {
		match self {
			Accusation::Gemm(_) => 0,
			Accusation::Layer(proof) => proof.sample.output_row.len() as u32,
			Accusation::Model(proof) => proof.sample.output.values.len() as u32,
		}
	}

	/// The input rows it carries, as [`Reveal::taps`].
	pub fn taps(&self) -> u32 {
		match self {
			Accusation::Model(proof) => proof.sample.taps.len() as u32,
			Accusation::Gemm(_) | Accusation::Layer(_) => 0,
		}
	}
}

impl From<FraudProof> for Accusation {
	fn from(proof: FraudProof) -> Self {
		Accusation::Gemm(proof)
	}
}

impl From<LayerFraudProof> for Accusation {
	fn from(proof: LayerFraudProof) -> Self {
		Accusation::Layer(proof)
	}
}

impl From<ModelFraudProof> for Accusation {
	fn from(proof: ModelFraudProof) -> Self {
		Accusation::Model(proof)
	}
}

/// Blocks of `millisecs_per_block` a device of `gops` giga-operations per second needs for
/// `work` operations (rounded up): the compute part of a commit window, used alike by the
/// chain (to set it), the worker (to decide what it can take) and the SDK.
pub fn compute_blocks(work: u128, gops: u64, millisecs_per_block: u64) -> u128 {
	let per_block =
		u128::from(gops).saturating_mul(1_000_000).saturating_mul(millisecs_per_block.into());
	work.div_ceil(per_block.max(1))
}

/// Domain tag of effective seeds.
const EFFECTIVE_SEED_DOMAIN: &[u8] = b"proofgrid/effective-seed/v1";

/// The seed a job's inputs are really generated from: the client's seed bound to the job's id
/// and its client's account (SCALE-encoded), so that equal client seeds give different inputs
/// for different jobs and a stored output cannot be replayed.
pub fn effective_seed(client_seed: &[u8; 32], job: JobId, client: &[u8]) -> [u8; 32] {
	let mut data = alloc::vec::Vec::with_capacity(EFFECTIVE_SEED_DOMAIN.len() + 40 + client.len());
	data.extend_from_slice(EFFECTIVE_SEED_DOMAIN);
	data.extend_from_slice(client_seed);
	data.extend_from_slice(&job.to_le_bytes());
	data.extend_from_slice(client);
	sp_crypto_hashing::blake2_256(&data)
}

/// Domain tag of claim seeds.
const CLAIM_SEED_DOMAIN: &[u8] = b"proofgrid/claim-seed/v1";

/// The seed a claimed job's inputs are generated from: its effective seed bound to the hash of
/// the block before the claim's block. Nobody knows the inputs before that block exists, so a
/// device cannot compute a job before claiming it, and the time from claim to commit (plus a
/// block) bounds how fast it really worked.
pub fn claim_seed(seed: &[u8; 32], parent_hash: &[u8; 32]) -> [u8; 32] {
	let mut data = alloc::vec::Vec::with_capacity(CLAIM_SEED_DOMAIN.len() + 64);
	data.extend_from_slice(CLAIM_SEED_DOMAIN);
	data.extend_from_slice(seed);
	data.extend_from_slice(parent_hash);
	sp_crypto_hashing::blake2_256(&data)
}

/// The bucket of the chain's open-job index a price cap (planck per work unit) falls in: its
/// bit length, so bucket `b ≥ 1` holds caps in `[2^(b−1), 2^b)`. A device asking `p` finds every
/// job that pays `p` in the buckets above `price_bucket(p)`, and checks the jobs of its own.
pub fn price_bucket(price: u128) -> u8 {
	(u128::BITS - price.leading_zeros()) as u8
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_core::H256;

	#[test]
	fn input_urls_need_an_http_scheme_and_a_host() {
		let url = |s: &str| InputSource::Url(s.as_bytes().to_vec().try_into().unwrap());
		assert!(url("https://data.example/a.npy").is_valid());
		assert!(url("http://127.0.0.1:8000/a.npy").is_valid());
		assert!(InputSource::Upload.is_valid());
		for bad in ["ftp://x/a", "https://", "https:///a", "file:///etc/passwd", "http://a b", ""] {
			assert!(!url(bad).is_valid(), "{bad}");
		}
	}

	#[test]
	fn the_kernel_and_the_inputs_decide_the_output_kind_together() {
		use crate::{
			inputs::{MatrixCommitment, SuppliedInputs},
			linear::{Layer, Requant},
		};
		let shape = GemmShape { m: 4, n: 4, k: 4 };
		let lanes = MatrixCommitment { lanes: 4, lane_len: 4, root: H256([1; 32]) };
		let matrices = SuppliedInputs { a: lanes, b: lanes };
		let layer = Layer {
			bias: H256([2; 32]),
			requant: Requant { multiplier: 1 << 30, shift: 31, relu: true },
		};
		let spec = |inputs, kernel| JobSpec {
			shape,
			inputs,
			requirements: Requirements { kernel, min_vram_mib: 0, min_gops: 0 },
		};
		let supplied = |a| JobInputs::Supplied {
			matrices,
			a,
			b: InputSource::Upload,
			samples: 32,
			public_output: false,
		};
		let layered = |a| JobInputs::Layer {
			matrices,
			a,
			b: InputSource::Upload,
			bias: InputSource::Upload,
			layer,
			samples: 32,
			public_output: false,
		};
		let seeded = JobInputs::Seeded { seed: [0; 32] };
		assert_eq!(spec(seeded.clone(), Kernel::GemmI8).output_kind(), Some(OutputKind::Seeded));
		assert_eq!(spec(seeded, Kernel::LinearI8).output_kind(), None);
		let gemm = spec(supplied(InputSource::Upload), Kernel::GemmI8);
		assert_eq!(gemm.output_kind(), Some(OutputKind::Supplied));
		assert_eq!(spec(supplied(InputSource::Upload), Kernel::LinearI8).output_kind(), None);
		let linear = spec(layered(InputSource::Job(7)), Kernel::LinearI8);
		assert_eq!(linear.output_kind(), Some(OutputKind::Layer));
		assert_eq!(spec(layered(InputSource::Upload), Kernel::GemmI8).output_kind(), None);
		assert_eq!((linear.chained_from(), gemm.chained_from()), (Some(7), None));
		assert_eq!((linear.layer(), gemm.layer()), (Some(&layer), None));
		assert_eq!((linear.supplied(), linear.supplied_samples()), (Some(&matrices), Some(32)));

		// A model job: its own kernel, its own sizes, no chaining and no GEMM commitments.
		let modelled = JobInputs::Model {
			model: 3,
			batch: 2,
			input: MatrixCommitment { lanes: 128, lane_len: 3, root: H256([3; 32]) },
			source: InputSource::Upload,
			samples: 20,
			ops: 5_000_000,
			output_values: 1_000,
			public_output: true,
		};
		assert_eq!(spec(modelled.clone(), Kernel::GemmI8).output_kind(), None);
		assert_eq!(spec(layered(InputSource::Upload), Kernel::ModelI8).output_kind(), None);
		let model = spec(modelled, Kernel::ModelI8);
		assert_eq!(model.output_kind(), Some(OutputKind::Model));
		assert_eq!((model.model(), linear.model()), (Some((3, 2)), None));
		assert_eq!((model.supplied(), model.supplied_samples()), (None, Some(20)));
		assert_eq!((model.chained_from(), model.seed(), model.public_output()), (None, None, true));
		assert!(
			model.has_client_inputs() && !spec(seeded_again(), Kernel::GemmI8).has_client_inputs()
		);
		// Priced by its own operations, not by its shape's; its window counts every value hashed.
		assert_eq!((model.ops(), gemm.ops()), (5_000_000, shape.ops()));
		assert_eq!(model.commit_work(4096), 5_000_000 + 63 * 4096);
		assert_eq!(model.input_bytes(), 128 * 3);
	}

	fn seeded_again() -> JobInputs {
		JobInputs::Seeded { seed: [0; 32] }
	}

	#[test]
	fn price_buckets_are_bit_lengths() {
		assert_eq!(price_bucket(0), 0);
		assert_eq!(price_bucket(1), 1);
		assert_eq!((price_bucket(2), price_bucket(3), price_bucket(4)), (2, 2, 3));
		assert_eq!(price_bucket(u128::MAX), 128);
		// Everything in a higher bucket pays more than anything in a lower one.
		assert!(price_bucket(1 << 20) > price_bucket((1 << 20) - 1));
	}

	#[test]
	fn compute_blocks_round_up_and_count_leaf_hashing() {
		use crate::gemm::GemmShape;
		// 100 GOPS for 6 s: 6·10¹¹ operations a block.
		assert_eq!(compute_blocks(6 * 10u128.pow(11), 100, 6_000), 1);
		assert_eq!(compute_blocks(6 * 10u128.pow(11) + 1, 100, 6_000), 2);
		assert_eq!(compute_blocks(0, 100, 6_000), 0);
		let wide = GemmShape { m: 1024, n: 1024, k: 1 };
		assert_eq!(wide.commit_work(0), wide.ops());
		assert_eq!(wide.commit_work(4096), wide.ops() + 65_536 * 4096);
	}

	#[test]
	fn effective_seeds_differ_per_job_and_client() {
		let seed = [7u8; 32];
		let base = effective_seed(&seed, 1, &[1u8; 32]);
		assert_eq!(base, effective_seed(&seed, 1, &[1u8; 32]));
		assert_ne!(base, effective_seed(&seed, 2, &[1u8; 32]));
		assert_ne!(base, effective_seed(&seed, 1, &[2u8; 32]));
		assert_ne!(base, effective_seed(&[8u8; 32], 1, &[1u8; 32]));
		assert_ne!(base, seed);
		assert_ne!(claim_seed(&base, &[1u8; 32]), claim_seed(&base, &[2u8; 32]));
		assert_ne!(claim_seed(&base, &[1u8; 32]), base);
	}
}
