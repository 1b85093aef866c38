//! A whole quantized model: a chain of int8 layers, each defined once in this crate, that the
//! model kind runs on a batch as one job.
//!
//! ```text
//!  input (batch × H × W × C, int8, zero point z₀)
//!    │ Conv     im2col GEMM (conv.rs), padding reads the input's zero point,
//!    │          requant.apply_at(acc, bias, z₁)                       → zero point z₁
//!    │ MaxPool  largest value per window (pool.rs), padding not read  → zero point kept
//!    │ AvgPool  window sum less the zero point, requantized (pool.rs)  → zero point z₃
//!    │ Dense    the image flattened in NHWC order as one GEMM row     → zero point z₂
//!    ▼
//!  output (batch × 1 × 1 × N for a final Dense)
//! ```
//!
//! Every activation is NHWC per image, so an image's pixels are the rows (lanes) a layer's
//! output is committed by, and a `Dense` layer over an `H × W × C` input is the convolution
//! whose kernel is the whole image ([`Model::plan`] runs it so). A GEMM layer's weights are
//! `n` lanes of `k` values (filter `o`, `[ky][kx][c]` order; for `Dense`, output `o`'s
//! weights over the NHWC-flattened input) and `n` int32 biases in accumulator units.
//!
//! **Zero points.** ONNX's `QLinearConv` computes `Σ (x − z_x)(w − z_w) + bias`. Weights here
//! are symmetric (`z_w = 0`), and `−z_x · Σ w` is folded into the bias by whoever imports the
//! model, so a layer multiplies the raw int8 values: padding then reads `z_x` and adds nothing
//! once the fold is counted. The output zero point is added after rounding
//! ([`Requant::apply_at`]); ReLU keeps values at or above it.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::ConstU32;
use sp_runtime::BoundedVec;

use crate::{
	conv::{Conv2d, ConvError},
	gemm::{GemmShape, MAX_DIM, MAX_K},
	linear::{Requant, RequantError},
	pool::{MaxPool2d, PoolError},
};

/// A registered model's on-chain identifier.
pub type ModelId = u64;

/// Most layers a model has.
pub const MAX_LAYERS: u32 = 64;

/// Most input rows (pixels) one output element reads: a convolution's kernel taps, a pooling
/// window, a dense layer's image. One element's proof carries that many rows.
pub const MAX_TAPS: u32 = 4096;

/// One image's activation shape: height × width × channels (NHWC without the batch).
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
pub struct Shape {
	/// Height.
	pub height: u32,
	/// Width.
	pub width: u32,
	/// Channels.
	pub channels: u32,
}

impl Shape {
	/// Values per image.
	pub fn values(&self) -> u64 {
		u64::from(self.height) * u64::from(self.width) * u64::from(self.channels)
	}

	/// Pixels (rows) per image.
	pub fn pixels(&self) -> u64 {
		u64::from(self.height) * u64::from(self.width)
	}
}

/// How a GEMM layer's accumulators become its int8 output.
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
pub struct Epilogue {
	/// Multiplier, shift and ReLU.
	pub requant: Requant,
	/// The output's zero point.
	pub zero_point: i8,
}

/// One layer.
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
pub enum Op {
	/// A 2-D convolution ([`Conv2d`]); its padding reads the input's zero point.
	Conv {
		/// Output channels.
		filters: u32,
		/// Kernel height and width.
		kernel: (u32, u32),
		/// Vertical and horizontal stride.
		stride: (u32, u32),
		/// Padding: top, left, bottom, right.
		padding: [u32; 4],
		/// Vertical and horizontal dilation.
		dilation: (u32, u32),
		/// Requantization and output zero point.
		epilogue: Epilogue,
	},
	/// A fully connected layer over the NHWC-flattened image: output `1 × 1 × outputs`.
	Dense {
		/// Outputs.
		outputs: u32,
		/// Requantization and output zero point.
		epilogue: Epilogue,
	},
	/// 2-D max pooling ([`MaxPool2d`]).
	MaxPool {
		/// Window height and width.
		kernel: (u32, u32),
		/// Vertical and horizontal stride.
		stride: (u32, u32),
		/// Padding: top, left, bottom, right.
		padding: [u32; 4],
	},
	/// 2-D average pooling without padding ([`crate::pool::average`]): the window's sum less
	/// the input zero point, requantized (the division by the window's size folded into the
	/// scale). `kernel` the whole image is a global average pooling.
	AvgPool {
		/// Window height and width.
		kernel: (u32, u32),
		/// Vertical and horizontal stride.
		stride: (u32, u32),
		/// Requantization and output zero point.
		epilogue: Epilogue,
	},
}

/// A model's layers, at most [`MAX_LAYERS`].
pub type Layers = BoundedVec<Op, ConstU32<MAX_LAYERS>>;

/// A model: its input and its layers, in order. Weights are not part of it (a model names
/// their commitments; [`Model::run`] takes the values).
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub struct Model {
	/// One image's shape.
	pub input: Shape,
	/// The input's zero point.
	pub input_zero_point: i8,
	/// The layers, first to last.
	pub layers: Layers,
}

/// A GEMM layer's weights: `n` lanes of `k` values and `n` biases.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Weights {
	/// `n × k`, lane by lane.
	pub lanes: Vec<i8>,
	/// One per lane.
	pub bias: Vec<i32>,
}

/// How one layer runs on a batch, as [`Model::plan`] lays it out.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Step {
	/// A GEMM layer: its convolution (a `Dense` layer as the whole-image kernel) and epilogue.
	Gemm(Conv2d, Epilogue),
	/// A max pooling layer.
	MaxPool(MaxPool2d),
	/// An average pooling layer (its geometry has no padding), its epilogue and its input's
	/// zero point.
	AvgPool(MaxPool2d, Epilogue, i8),
}

/// One planned layer: what it reads and writes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Planned {
	/// How it runs.
	pub step: Step,
	/// One input image's shape.
	pub input: Shape,
	/// One output image's shape.
	pub output: Shape,
	/// The output's zero point.
	pub zero_point: i8,
}

impl Planned {
	/// The GEMM form of a GEMM layer (`m` output pixels of the batch, `n` outputs, `k` per
	/// patch), `None` for pooling.
	pub fn gemm_shape(&self) -> Option<GemmShape> {
		match self.step {
			Step::Gemm(conv, _) => Some(conv.gemm_shape()),
			Step::MaxPool(_) | Step::AvgPool(..) => None,
		}
	}
}

/// Why a model cannot run.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ModelError {
	/// No layers.
	LayerCount,
	/// The batch or the input shape is empty.
	EmptyInput,
	/// Layer `layer`'s convolution (or dense layer) cannot run.
	Conv { layer: u32, error: ConvError },
	/// Layer `layer`'s pooling cannot run.
	Pool { layer: u32, error: PoolError },
	/// Layer `layer`'s requantization is invalid.
	Requant { layer: u32, error: RequantError },
	/// The input does not hold `batch` images of the input shape.
	InputLength { expected: u64, got: u64 },
	/// Layer `layer`'s elements each read more than [`MAX_TAPS`] input rows.
	TooManyTaps { layer: u32 },
	/// The input (`layer` `None`) or layer `layer`'s output has more than [`MAX_DIM`] rows
	/// (pixels of the batch) or more than [`MAX_K`] channels (a row is a lane), or a pooling
	/// window more than [`MAX_K`] values: too large to commit or to prove an element of.
	TooLarge { layer: Option<u32> },
	/// Not one [`Weights`] per GEMM layer.
	WeightCount { expected: u32, got: u32 },
	/// Layer `layer`'s weights or biases are not `n × k` and `n` long.
	WeightLength { layer: u32 },
}

impl Model {
	/// The layers as they run on `batch` images, each with its input and output shapes;
	/// `Err` names the first layer that cannot run.
	pub fn plan(&self, batch: u32) -> Result<Vec<Planned>, ModelError> {
		if self.layers.is_empty() {
			return Err(ModelError::LayerCount);
		}
		if batch == 0 || self.input.values() == 0 {
			return Err(ModelError::EmptyInput);
		}
		let too_large = |shape: &Shape| {
			u64::from(batch) * shape.pixels() > u64::from(MAX_DIM) || shape.channels > MAX_K
		};
		if too_large(&self.input) {
			return Err(ModelError::TooLarge { layer: None });
		}
		let mut shape = self.input;
		let mut zero_point = self.input_zero_point;
		let mut plan = Vec::with_capacity(self.layers.len());
		for (index, op) in self.layers.iter().enumerate() {
			let layer = index as u32;
			let geometry = |filters, kernel, stride, padding, dilation| Conv2d {
				batch,
				height: shape.height,
				width: shape.width,
				channels: shape.channels,
				filters,
				kernel,
				stride,
				padding,
				dilation,
				pad: zero_point,
			};
			let window = |kernel, stride, padding| MaxPool2d {
				batch,
				height: shape.height,
				width: shape.width,
				channels: shape.channels,
				kernel,
				stride,
				padding,
			};
			let (step, output, out_zero) = match *op {
				Op::Conv { filters, kernel, stride, padding, dilation, epilogue } => {
					let conv = geometry(filters, kernel, stride, padding, dilation);
					epilogue
						.requant
						.validate()
						.map_err(|error| ModelError::Requant { layer, error })?;
					conv.validate().map_err(|error| ModelError::Conv { layer, error })?;
					let output = Shape {
						height: conv.out_height(),
						width: conv.out_width(),
						channels: filters,
					};
					(Step::Gemm(conv, epilogue), output, epilogue.zero_point)
				}
				Op::Dense { outputs, epilogue } => {
					let whole = (shape.height, shape.width);
					let conv = geometry(outputs, whole, (1, 1), [0; 4], (1, 1));
					epilogue
						.requant
						.validate()
						.map_err(|error| ModelError::Requant { layer, error })?;
					conv.validate().map_err(|error| ModelError::Conv { layer, error })?;
					let output = Shape { height: 1, width: 1, channels: outputs };
					(Step::Gemm(conv, epilogue), output, epilogue.zero_point)
				}
				Op::MaxPool { kernel, stride, padding } => {
					let pool = window(kernel, stride, padding);
					pool.validate().map_err(|error| ModelError::Pool { layer, error })?;
					let output = Shape {
						height: pool.out_height(),
						width: pool.out_width(),
						channels: shape.channels,
					};
					(Step::MaxPool(pool), output, zero_point)
				}
				Op::AvgPool { kernel, stride, epilogue } => {
					let pool = window(kernel, stride, [0; 4]);
					epilogue
						.requant
						.validate()
						.map_err(|error| ModelError::Requant { layer, error })?;
					pool.validate().map_err(|error| ModelError::Pool { layer, error })?;
					let output = Shape {
						height: pool.out_height(),
						width: pool.out_width(),
						channels: shape.channels,
					};
					(Step::AvgPool(pool, epilogue, zero_point), output, epilogue.zero_point)
				}
			};
			let (kh, kw) = match step {
				Step::Gemm(conv, _) => conv.kernel,
				Step::MaxPool(pool) | Step::AvgPool(pool, ..) => pool.kernel,
			};
			if u64::from(kh) * u64::from(kw) > u64::from(MAX_TAPS) {
				return Err(ModelError::TooManyTaps { layer });
			}
			let pooled_values = u64::from(kh) * u64::from(kw) * u64::from(shape.channels);
			let pooling = !matches!(step, Step::Gemm(..));
			if too_large(&output) || (pooling && pooled_values > u64::from(MAX_K)) {
				return Err(ModelError::TooLarge { layer: Some(layer) });
			}
			plan.push(Planned { step, input: shape, output, zero_point: out_zero });
			shape = output;
			zero_point = out_zero;
		}
		Ok(plan)
	}

	/// How many layers take weights (convolutions and dense layers).
	pub fn gemm_layers(&self) -> u32 {
		let gemm = |op: &&Op| matches!(op, Op::Conv { .. } | Op::Dense { .. });
		self.layers.iter().filter(gemm).count() as u32
	}

	/// Every layer's output on `batch` images of `input` (NHWC, image after image), with one
	/// [`Weights`] per GEMM layer in order: the definition the chain checks a model job's
	/// samples against. The last entry is the model's output.
	pub fn run(
		&self,
		batch: u32,
		input: &[i8],
		weights: &[Weights],
	) -> Result<Vec<Vec<i8>>, ModelError> {
		let plan = self.plan(batch)?;
		let expected = u64::from(batch) * self.input.values();
		if input.len() as u64 != expected {
			return Err(ModelError::InputLength { expected, got: input.len() as u64 });
		}
		let gemms = self.gemm_layers();
		if weights.len() != gemms as usize {
			return Err(ModelError::WeightCount { expected: gemms, got: weights.len() as u32 });
		}
		let mut weights = weights.iter();
		let mut outputs: Vec<Vec<i8>> = Vec::with_capacity(plan.len());
		for (layer, planned) in plan.iter().enumerate() {
			let previous = outputs.last().map_or(input, |v| v.as_slice());
			let output = match planned.step {
				Step::Gemm(conv, epilogue) => {
					let w = weights.next().expect("counted above");
					let shape = conv.gemm_shape();
					if w.lanes.len() as u64 != u64::from(shape.n) * u64::from(shape.k)
						|| w.bias.len() != shape.n as usize
					{
						return Err(ModelError::WeightLength { layer: layer as u32 });
					}
					conv.output(previous, &w.lanes, &w.bias, &epilogue.requant, epilogue.zero_point)
				}
				Step::MaxPool(pool) => pool.output(previous),
				Step::AvgPool(pool, epilogue, zero_in) => {
					pool.average_output(previous, zero_in, &epilogue.requant, epilogue.zero_point)
				}
			};
			outputs.push(output);
		}
		Ok(outputs)
	}
}

#[cfg(test)]
pub(crate) mod tests {
	use super::*;

	pub(crate) use crate::testing::model::{bounded, cnn, epilogue, values, weights_for};

	/// Textbook NCHW loops for one image: each layer from its ONNX meaning (zero points
	/// subtracted, padding as a real 0 for convolutions and −∞ for pooling, NCHW flatten for the
	/// dense layer, its weights permuted to match) and one rounding, independent of im2col.
	fn textbook(model: &Model, image: &[i8], weights: &[Weights]) -> Vec<i8> {
		let s = model.input;
		// NHWC → NCHW, values minus the zero point (a real value in units of the scale).
		let (mut h, mut w, mut c) = (s.height as i64, s.width as i64, s.channels as i64);
		let mut x: Vec<i32> = alloc::vec![0; (h * w * c) as usize];
		for y in 0..h {
			for xx in 0..w {
				for ch in 0..c {
					x[((ch * h + y) * w + xx) as usize] =
						image[((y * w + xx) * c + ch) as usize] as i32;
				}
			}
		}
		let mut z = model.input_zero_point as i32;
		let mut weights = weights.iter();
		for op in &model.layers {
			match *op {
				Op::Conv { filters, kernel, stride, padding, dilation, epilogue } => {
					let wts = weights.next().unwrap();
					let (kh, kw) = (kernel.0 as i64, kernel.1 as i64);
					let oh =
						(h + (padding[0] + padding[2]) as i64 - dilation.0 as i64 * (kh - 1) - 1)
							/ stride.0 as i64 + 1;
					let ow =
						(w + (padding[1] + padding[3]) as i64 - dilation.1 as i64 * (kw - 1) - 1)
							/ stride.1 as i64 + 1;
					let mut out = alloc::vec![0i32; (filters as i64 * oh * ow) as usize];
					for o in 0..filters as i64 {
						// The bias as ONNX has it: the importer's fold of −z·Σw undone.
						let sum_w: i64 = wts.lanes
							[(o * kh * kw * c) as usize..((o + 1) * kh * kw * c) as usize]
							.iter()
							.map(|&v| v as i64)
							.sum();
						let onnx_bias = wts.bias[o as usize] as i64 + z as i64 * sum_w;
						for y in 0..oh {
							for xx in 0..ow {
								let mut acc = onnx_bias;
								for ch in 0..c {
									for ky in 0..kh {
										for kx in 0..kw {
											let iy = y * stride.0 as i64 - padding[0] as i64
												+ ky * dilation.0 as i64;
											let ix = xx * stride.1 as i64 - padding[1] as i64
												+ kx * dilation.1 as i64;
											let real = if iy < 0 || ix < 0 || iy >= h || ix >= w {
												0
											} else {
												x[((ch * h + iy) * w + ix) as usize] - z
											};
											let wv = wts.lanes
												[(((o * kh + ky) * kw + kx) * c + ch) as usize];
											acc += real as i64 * wv as i64;
										}
									}
								}
								out[((o * oh + y) * ow + xx) as usize] = requantize(acc, &epilogue);
							}
						}
					}
					(x, h, w, c, z) = (out, oh, ow, filters as i64, epilogue.zero_point as i32);
				}
				Op::MaxPool { kernel, stride, padding } => {
					let oh = (h + (padding[0] + padding[2]) as i64 - kernel.0 as i64)
						/ stride.0 as i64 + 1;
					let ow = (w + (padding[1] + padding[3]) as i64 - kernel.1 as i64)
						/ stride.1 as i64 + 1;
					let mut out = alloc::vec![i32::MIN; (c * oh * ow) as usize];
					for ch in 0..c {
						for y in 0..oh {
							for xx in 0..ow {
								for ky in 0..kernel.0 as i64 {
									for kx in 0..kernel.1 as i64 {
										let iy = y * stride.0 as i64 + ky - padding[0] as i64;
										let ix = xx * stride.1 as i64 + kx - padding[1] as i64;
										if iy >= 0 && ix >= 0 && iy < h && ix < w {
											let o = &mut out[((ch * oh + y) * ow + xx) as usize];
											*o = (*o).max(x[((ch * h + iy) * w + ix) as usize]);
										}
									}
								}
							}
						}
					}
					(x, h, w) = (out, oh, ow);
				}
				Op::AvgPool { kernel, stride, epilogue } => {
					let oh = (h - kernel.0 as i64) / stride.0 as i64 + 1;
					let ow = (w - kernel.1 as i64) / stride.1 as i64 + 1;
					let mut out = alloc::vec![0i32; (c * oh * ow) as usize];
					for ch in 0..c {
						for y in 0..oh {
							for xx in 0..ow {
								let mut sum = 0i64;
								for ky in 0..kernel.0 as i64 {
									for kx in 0..kernel.1 as i64 {
										let (iy, ix) =
											(y * stride.0 as i64 + ky, xx * stride.1 as i64 + kx);
										sum += (x[((ch * h + iy) * w + ix) as usize] - z) as i64;
									}
								}
								out[((ch * oh + y) * ow + xx) as usize] =
									requantize(sum, &epilogue);
							}
						}
					}
					(x, h, w, z) = (out, oh, ow, epilogue.zero_point as i32);
				}
				Op::Dense { outputs, epilogue } => {
					let wts = weights.next().unwrap();
					let k = h * w * c;
					let mut out = alloc::vec![0i32; outputs as usize];
					for o in 0..outputs as i64 {
						let lane = &wts.lanes[(o * k) as usize..((o + 1) * k) as usize];
						let sum_w: i64 = lane.iter().map(|&v| v as i64).sum();
						let mut acc = wts.bias[o as usize] as i64 + z as i64 * sum_w;
						// ONNX flattens NCHW; the lane is NHWC: index the lane by (y, x, ch).
						for ch in 0..c {
							for y in 0..h {
								for xx in 0..w {
									let real = x[((ch * h + y) * w + xx) as usize] - z;
									acc +=
										real as i64 * lane[((y * w + xx) * c + ch) as usize] as i64;
								}
							}
						}
						out[o as usize] = requantize(acc, &epilogue);
					}
					(x, h, w, c, z) = (out, 1, 1, outputs as i64, epilogue.zero_point as i32);
				}
			}
		}
		let _ = z;
		// NCHW → NHWC.
		let mut nhwc = alloc::vec![0i8; x.len()];
		for ch in 0..c {
			for y in 0..h {
				for xx in 0..w {
					nhwc[((y * w + xx) * c + ch) as usize] =
						x[((ch * h + y) * w + xx) as usize] as i8;
				}
			}
		}
		nhwc
	}

	/// `acc · m / 2^s`, nearest, ties away from zero, plus the zero point, saturated, ReLU at
	/// the zero point: by exact rational comparison.
	fn requantize(acc: i64, e: &Epilogue) -> i32 {
		let p = acc as i128 * e.requant.multiplier as i128;
		let d = 1i128 << e.requant.shift;
		let floor = p.div_euclid(d);
		let twice_rem = 2 * (p - floor * d);
		let rounded = if twice_rem > d || (twice_rem == d && p > 0) { floor + 1 } else { floor };
		let z = e.zero_point as i128;
		let v = (rounded + z).clamp(-128, 127);
		(if e.requant.relu { v.max(z) } else { v }) as i32
	}

	#[test]
	fn a_model_runs_as_its_layers_textbook_definitions_with_zero_points() {
		let model = cnn();
		let plan = model.plan(3).unwrap();
		let shapes: Vec<_> =
			plan.iter().map(|p| (p.output.height, p.output.width, p.output.channels)).collect();
		assert_eq!(shapes, [(9, 4, 4), (5, 4, 4), (3, 3, 3), (2, 2, 3), (1, 1, 5)]);
		for salt in [1u64, 2, 3] {
			let weights = weights_for(&model, salt * 10);
			let batch = 3u32;
			let input = values((batch as u64 * model.input.values()) as usize, salt);
			let outputs = model.run(batch, &input, &weights).unwrap();
			assert_eq!(outputs.len(), 5);
			let per_image = model.input.values() as usize;
			let last = outputs.last().unwrap();
			for (b, image) in input.chunks(per_image).enumerate() {
				assert_eq!(&last[b * 5..b * 5 + 5], textbook(&model, image, &weights).as_slice());
			}
			// ReLU at zero point −128 is the saturation floor: the first layer's minimum.
			assert!(outputs[0].iter().all(|&v| v >= -128));
			assert!(
				outputs[4].iter().any(|&v| v != 3),
				"a dense output that is not its zero point"
			);
			assert!(outputs[3].iter().any(|&v| v != -7), "an average that is not its zero point");
		}
	}

	#[test]
	fn padding_reads_the_input_zero_point_so_a_blank_image_gives_the_bias_alone() {
		// An image that is all zero point is real zero: every output is requant(bias).
		let model = Model {
			input: Shape { height: 4, width: 4, channels: 1 },
			input_zero_point: 17,
			layers: bounded(alloc::vec![Op::Conv {
				filters: 2,
				kernel: (3, 3),
				stride: (1, 1),
				padding: [1, 1, 1, 1],
				dilation: (1, 1),
				epilogue: epilogue(1 << 30, 30, false, -4),
			}]),
		};
		let lanes = values(18, 5);
		// The importer's fold: bias − z·Σw.
		let bias: Vec<i32> = lanes
			.chunks(9)
			.zip([40, -7])
			.map(|(lane, b)| b - 17 * lane.iter().map(|&v| v as i32).sum::<i32>())
			.collect();
		let out = model.run(1, &[17; 16], &[Weights { lanes, bias }]).unwrap();
		assert!(out[0].chunks(2).all(|px| px == [40 - 4, -7 - 4]), "{:?}", out[0]);
	}

	#[test]
	fn a_model_that_cannot_run_names_its_layer() {
		let model = cnn();
		let mut bad = model.clone();
		bad.layers[1] = Op::MaxPool { kernel: (2, 2), stride: (2, 1), padding: [2, 0, 0, 0] };
		assert_eq!(
			bad.plan(1),
			Err(ModelError::Pool { layer: 1, error: PoolError::PaddingNotSmallerThanKernel })
		);
		let mut bad = model.clone();
		bad.layers[2] = Op::Conv {
			filters: 3,
			kernel: (9, 9),
			stride: (1, 1),
			padding: [0; 4],
			dilation: (1, 1),
			epilogue: epilogue(1 << 30, 30, false, 0),
		};
		assert_eq!(
			bad.plan(1),
			Err(ModelError::Conv { layer: 2, error: ConvError::KernelLargerThanInput })
		);
		let mut bad = model.clone();
		bad.layers[4] = Op::Dense { outputs: 5, epilogue: epilogue(0, 30, false, 0) };
		assert!(matches!(bad.plan(1), Err(ModelError::Requant { layer: 4, .. })));
		let mut bad = model.clone();
		bad.layers[3] =
			Op::AvgPool { kernel: (4, 2), stride: (1, 1), epilogue: epilogue(1, 3, false, 0) };
		assert_eq!(
			bad.plan(1),
			Err(ModelError::Pool { layer: 3, error: PoolError::KernelLargerThanInput })
		);
		assert_eq!(
			Model { layers: Layers::default(), ..model.clone() }.plan(1),
			Err(ModelError::LayerCount)
		);
		assert_eq!(model.plan(0), Err(ModelError::EmptyInput));
		// Rows past MAX_DIM, lanes past MAX_K, pooling windows past MAX_K values.
		assert_eq!(model.plan(1 << 20), Err(ModelError::TooLarge { layer: None }));
		let wide =
			Model { input: Shape { height: 1, width: 1, channels: MAX_K + 1 }, ..model.clone() };
		assert_eq!(wide.plan(1), Err(ModelError::TooLarge { layer: None }));
		let deep_pool = Model {
			input: Shape { height: 2, width: 2, channels: MAX_K / 2 },
			layers: bounded(alloc::vec![Op::MaxPool {
				kernel: (2, 2),
				stride: (1, 1),
				padding: [0; 4]
			}]),
			..model.clone()
		};
		assert_eq!(deep_pool.plan(1), Err(ModelError::TooLarge { layer: Some(0) }));

		let weights = weights_for(&model, 7);
		let input = values(model.input.values() as usize, 1);
		assert_eq!(
			model.run(1, &input[1..], &weights),
			Err(ModelError::InputLength { expected: 126, got: 125 })
		);
		assert_eq!(
			model.run(1, &input, &weights[..2]),
			Err(ModelError::WeightCount { expected: 3, got: 2 })
		);
		let mut short = weights.clone();
		short[2].bias.pop();
		assert_eq!(model.run(1, &input, &short), Err(ModelError::WeightLength { layer: 4 }));
	}

	#[test]
	fn a_model_encodes_and_decodes() {
		let model = cnn();
		assert_eq!(Model::decode(&mut &model.encode()[..]), Ok(model));
	}
}
