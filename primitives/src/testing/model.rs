//! A whole-model job with its honest (or doctored) outputs, for tests of every crate that
//! verifies or produces model reveals: the textbook CNN (every layer kind on ragged sizes), its
//! pseudo-random weights and batch, and the device's trees.

use alloc::vec::Vec;
use sp_core::H256;

use crate::{
	challenge::challenge_seed,
	device::{Kernel, Requirements},
	gemm::mix64,
	inputs::MatrixCommitment,
	job::{InputSource, JobInputs, JobSpec, ModelReveal},
	linear::Requant,
	model::{Epilogue, Layers, Model, Op, Planned, Shape, Weights},
	model_proof::{
		model_challenge, model_job_shape, model_ops, model_output_values, ModelCommitments,
		ModelFraudProof, ModelProver, WeightsCommitment,
	},
};

/// `n` pseudo-random int8 values, different for each `salt`.
pub fn values(n: usize, salt: u64) -> Vec<i8> {
	(0..n as u64).map(|i| mix64(i ^ salt << 32) as i8).collect()
}

/// A GEMM or pooling layer's epilogue.
pub fn epilogue(multiplier: i32, shift: u8, relu: bool, zero_point: i8) -> Epilogue {
	Epilogue { requant: Requant { multiplier, shift, relu }, zero_point }
}

/// Layers as a model holds them.
pub fn bounded(layers: Vec<Op>) -> Layers {
	layers.try_into().expect("at most MAX_LAYERS")
}

/// A small CNN on ragged sizes: a strided, padded convolution with ReLU at zero point −128,
/// max pooling with padding, a dilated convolution, average pooling to zero point −7, and a
/// dense layer at zero point 3.
pub fn cnn() -> Model {
	Model {
		input: Shape { height: 9, width: 7, channels: 2 },
		input_zero_point: -5,
		layers: bounded(alloc::vec![
			Op::Conv {
				filters: 4,
				kernel: (3, 3),
				stride: (1, 2),
				padding: [1, 1, 1, 1],
				dilation: (1, 1),
				epilogue: epilogue(1 << 30, 38, true, -128),
			},
			Op::MaxPool { kernel: (2, 2), stride: (2, 1), padding: [1, 0, 0, 1] },
			Op::Conv {
				filters: 3,
				kernel: (2, 2),
				stride: (1, 1),
				padding: [0, 0, 0, 0],
				dilation: (2, 1),
				epilogue: epilogue(1_500_000_000, 39, false, 0),
			},
			// A mean over 2×2 windows (×¼: 2³⁰ / 2³²) to zero point −7.
			Op::AvgPool {
				kernel: (2, 2),
				stride: (1, 1),
				epilogue: epilogue(1 << 30, 32, false, -7)
			},
			Op::Dense { outputs: 5, epilogue: epilogue(1_300_000_000, 37, false, 3) },
		]),
	}
}

/// Pseudo-random weights and biases for every GEMM layer of `model`.
pub fn weights_for(model: &Model, salt: u64) -> Vec<Weights> {
	let plan = model.plan(1).expect("a model that plans");
	plan.iter()
		.filter_map(Planned::gemm_shape)
		.enumerate()
		.map(|(i, shape)| Weights {
			lanes: values((shape.n * shape.k) as usize, salt + i as u64),
			bias: (0..shape.n as i32).map(|o| o * 911 - 2_000 + i as i32).collect(),
		})
		.collect()
}

/// The textbook [`cnn`] on a pseudo-random batch, run honestly (or with elements changed by
/// [`ModelJob::fake`]), with what the chain and the device know of it.
pub struct ModelJob {
	/// The model.
	pub model: Model,
	/// Its weights.
	pub weights: Vec<Weights>,
	/// Their commitments, as the model's registration names them.
	pub commitments: Vec<WeightsCommitment>,
	/// Images in the batch.
	pub batch: u32,
	/// The batch, NHWC.
	pub input: Vec<i8>,
	/// The batch's commitment.
	pub input_commitment: MatrixCommitment,
	/// The plan on the batch.
	pub plan: Vec<Planned>,
	/// Every layer's output, as the device committed them.
	pub outputs: Vec<Vec<i8>>,
}

impl ModelJob {
	/// The textbook CNN, honestly run on a batch of `batch` images.
	pub fn new(batch: u32) -> Self {
		let model = cnn();
		let weights = weights_for(&model, 40);
		let input = values((u64::from(batch) * model.input.values()) as usize, 4);
		let outputs = model.run(batch, &input, &weights).expect("the fixture runs");
		let plan = model.plan(batch).expect("the fixture plans");
		let prover = ModelProver::new(&plan, &input, &outputs, &weights).expect("sizes fit");
		let (commitments, input_commitment) =
			(prover.weights_commitments(), prover.input_commitment());
		Self { model, weights, commitments, batch, input, input_commitment, plan, outputs }
	}

	/// The same job with output element `(layer, row, channel)` off by one, as a faking device
	/// commits it (the later layers computed from the honest outputs).
	pub fn fake(mut self, (layer, row, channel): (u32, u32, u32)) -> Self {
		let at = (row * self.plan[layer as usize].output.channels + channel) as usize;
		let value = &mut self.outputs[layer as usize][at];
		*value = value.wrapping_add(1);
		self
	}

	/// The device's prover over the (possibly doctored) outputs.
	pub fn prover(&self) -> ModelProver<'_> {
		ModelProver::new(&self.plan, &self.input, &self.outputs, &self.weights).expect("sizes fit")
	}

	/// The output root the device commits.
	pub fn root(&self) -> H256 {
		self.prover().root()
	}

	/// The chain's view: plan, input and weights commitments and the root.
	pub fn check<R>(&self, check: impl FnOnce(&ModelCommitments) -> R) -> R {
		let root = self.root();
		check(&ModelCommitments {
			plan: &self.plan,
			input: &self.input_commitment,
			weights: &self.commitments,
			root: &root,
		})
	}

	/// The spec of this job on registered model `model`, uploaded, with `samples` samples.
	pub fn spec(&self, model: u64, samples: u32) -> JobSpec {
		JobSpec {
			shape: model_job_shape(&self.plan, self.batch),
			inputs: JobInputs::Model {
				model,
				batch: self.batch,
				input: self.input_commitment,
				source: InputSource::Upload,
				samples,
				ops: model_ops(&self.plan) as u64,
				output_values: model_output_values(&self.plan),
				public_output: false,
			},
			requirements: Requirements { kernel: Kernel::ModelI8, min_vram_mib: 0, min_gops: 0 },
		}
	}

	/// The elements the challenge of job `id` with `samples` draws from `randomness`.
	pub fn challenged(&self, id: u64, samples: u32, randomness: &H256) -> Vec<(u32, u32, u32)> {
		let seed = challenge_seed(id, &self.root().0, &randomness.0);
		model_challenge(&self.plan, &seed, samples)
	}

	/// The device's reveal for that challenge.
	pub fn reveal(&self, id: u64, samples: u32, randomness: &H256) -> ModelReveal {
		let prover = self.prover();
		let samples: Vec<_> = self
			.challenged(id, samples, randomness)
			.into_iter()
			.map(|element| prover.sample(element))
			.collect();
		samples.try_into().expect("at most MAX_SUPPLIED_SAMPLES")
	}

	/// A fraud proof naming `element`.
	pub fn accuse(&self, element: (u32, u32, u32)) -> ModelFraudProof {
		ModelFraudProof { element, sample: self.prover().sample(element) }
	}
}
