//! The `linear-i8` kernel: one quantized layer, `Y = act(sat_i8(requant(A·W + bias)))`.
//!
//! `A` (m×k) and `W` (k×n) are int8 and multiplied exactly as by [`gemm`](crate::gemm) (int32
//! accumulation, [`dot`]); each output column `j` adds an int32 bias `bias[j]`; the sum is
//! requantized to int8 by a fixed-point multiplier and shift ([`Requant`]), saturated to
//! `[-128, 127]`, and optionally passed through ReLU. Every step is integer arithmetic, so the
//! CPU, every GPU and the runtime compute the same bytes, and the chain can check any element
//! bit for bit.
//!
//! **Requantization**, defined once here: with `z = acc + bias` (exact, as `i64`: never
//! overflows) and `p = z · multiplier` (exact, as `i128`), the result is `p / 2^shift` rounded
//! to the nearest integer, **ties away from zero** (as C's `round`, and as gemmlowp's
//! `RoundingDivideByPOT`), then saturated to `[-128, 127]`. That is the usual int8 inference
//! scheme (TFLite, gemmlowp): a real scale `s ∈ (0, 1)` is `multiplier / 2^shift` with
//! `multiplier` in `[2^30, 2^31)`.

//!
//! **Commitments.** A layer's output `Y` (m×n int8) is committed by its **rows as lanes**, as
//! a client commits `A` ([`MatrixCommitment`]: `m` lanes of `n` values): so the output of one
//! layer is, as it stands, the committed input `A` of the next. The bias vector is committed
//! by a Merkle root over its `n` values ([`bias_root`], leaves `blake2_256(0x03 ‖ value as
//! 4 little-endian bytes)`, domain-separated from output leaves `0x00`, inner nodes `0x01` and
//! lanes `0x02`). One element `Y[i][j]` is proven by a [`LayerSample`]: output row `i`, row `i`
//! of `A`, column `j` of `W` and `bias[j]`, each with its path ([`verify_layer_sample`]).

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::H256;
use sp_crypto_hashing::blake2_256;

use crate::{
	gemm::{dot, GemmShape},
	inputs::{Lane, LaneError, MatrixCommitment, SuppliedInputs},
	merkle::{self, Hash32, MerklePath, MerkleTree, ProofError},
};

/// Domain tag of bias leaves.
pub const BIAS_PREFIX: u8 = 0x03;

/// Hash of one column's bias.
pub fn hash_bias(value: i32) -> Hash32 {
	let mut data = [0u8; 5];
	data[0] = BIAS_PREFIX;
	data[1..].copy_from_slice(&value.to_le_bytes());
	blake2_256(&data)
}

/// The tree over a bias vector's leaves, in column order (`None` for an empty vector).
pub fn bias_tree(bias: &[i32]) -> Option<MerkleTree> {
	MerkleTree::from_leaf_hashes(bias.iter().map(|&b| hash_bias(b)).collect())
}

/// The commitment of a bias vector: the root of [`bias_tree`].
pub fn bias_root(bias: &[i32]) -> Option<H256> {
	bias_tree(bias).map(|tree| H256(tree.root()))
}

/// What a `linear-i8` job names beyond its inputs: the bias commitment (one value per output
/// column) and the requantization.
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
pub struct Layer {
	/// [`bias_root`] of the `n` biases.
	pub bias: H256,
	/// How accumulators become int8 outputs.
	pub requant: Requant,
}

/// The commitment of a layer's output of `shape`, given its root: `m` row lanes of `n` values.
pub fn output_commitment(shape: &GemmShape, root: H256) -> MatrixCommitment {
	MatrixCommitment { lanes: shape.m, lane_len: shape.n, root }
}

/// What proves one element `Y[i][j]` of a layer's output.
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct LayerSample {
	/// Row `i` of `Y` (`n` values).
	pub output_row: Lane,
	/// Its path to the output root.
	pub output_path: MerklePath,
	/// Row `i` of `A`.
	pub row: Lane,
	/// Its path to `A`'s root.
	pub row_path: MerklePath,
	/// Column `j` of `W`.
	pub col: Lane,
	/// Its path to `W`'s root.
	pub col_path: MerklePath,
	/// `bias[j]`.
	pub bias: i32,
	/// Its path to the bias root.
	pub bias_path: MerklePath,
}

/// Why a layer sample is refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LayerSampleError {
	/// The output row is not the committed one.
	Output(LaneError),
	/// The row of `A` is not the committed one.
	Row(LaneError),
	/// The column of `W` is not the committed one.
	Column(LaneError),
	/// The bias is not the committed one.
	Bias(ProofError),
	/// The element is outside the output.
	OutsideOutput,
	/// The recomputed element differs from the committed output's: the output is wrong.
	WrongElement,
}

/// Checks `sample` as the proof of element `(i, j)` of the output committed as `output_root`
/// for `inputs` (of shape `shape`) and `layer`: the four paths, then the element recomputed by
/// [`linear_element`].
pub fn verify_layer_sample(
	inputs: &SuppliedInputs,
	layer: &Layer,
	shape: &GemmShape,
	output_root: &H256,
	(i, j): (u32, u32),
	sample: &LayerSample,
) -> Result<(), LayerSampleError> {
	if i >= shape.m || j >= shape.n {
		return Err(LayerSampleError::OutsideOutput);
	}
	let siblings = |path: &MerklePath| path.iter().map(|h| h.0).collect::<Vec<_>>();
	output_commitment(shape, *output_root)
		.verify_lane(i, &sample.output_row, &siblings(&sample.output_path))
		.map_err(LayerSampleError::Output)?;
	inputs
		.a
		.verify_lane(i, &sample.row, &siblings(&sample.row_path))
		.map_err(LayerSampleError::Row)?;
	inputs
		.b
		.verify_lane(j, &sample.col, &siblings(&sample.col_path))
		.map_err(LayerSampleError::Column)?;
	merkle::verify(
		&layer.bias.0,
		shape.n.into(),
		j.into(),
		hash_bias(sample.bias),
		&siblings(&sample.bias_path),
	)
	.map_err(LayerSampleError::Bias)?;
	let expected = linear_element(&sample.row, &sample.col, sample.bias, &layer.requant);
	if sample.output_row[j as usize] != expected {
		return Err(LayerSampleError::WrongElement);
	}
	Ok(())
}

/// A fraud proof against a `linear-i8` job: one element of its committed output, chosen by the
/// accuser, with what the chain needs to recompute it (as a reveal's [`LayerSample`]).
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct LayerFraudProof {
	/// The element's row and column in `Y`.
	pub element: (u32, u32),
	/// Its output row, row of `A`, column of `W` and bias, with their paths.
	pub sample: LayerSample,
}

/// Why a layer fraud proof does not show the output wrong.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LayerFraudRefused {
	/// The element is not in `Y`.
	OutsideOutput,
	/// A path does not prove its part against the committed roots: the proof shows nothing.
	Invalid(LayerSampleError),
	/// The element is right.
	ElementCorrect,
}

/// `Ok` if `proof` shows that the output committed as `output_root` for `inputs`, `layer` (of
/// shape `shape`) is wrong: a proven element differs from what its proven row, column and bias
/// give. The cost of one sample of a reveal.
pub fn layer_fraud_proven(
	inputs: &SuppliedInputs,
	layer: &Layer,
	shape: &GemmShape,
	output_root: &H256,
	proof: &LayerFraudProof,
) -> Result<(), LayerFraudRefused> {
	match verify_layer_sample(inputs, layer, shape, output_root, proof.element, &proof.sample) {
		Err(LayerSampleError::WrongElement) => Ok(()),
		Err(LayerSampleError::OutsideOutput) => Err(LayerFraudRefused::OutsideOutput),
		Ok(()) => Err(LayerFraudRefused::ElementCorrect),
		Err(error) => Err(LayerFraudRefused::Invalid(error)),
	}
}

/// A whole layer on the CPU, the plain way: `Y` (m×n, row-major) from `A`'s rows and `W`'s
/// columns (each `k` values, lane after lane). The reference every backend is checked against.
pub fn layer_output(
	rows: &[i8],
	cols: &[i8],
	k: usize,
	bias: &[i32],
	requant: &Requant,
) -> Vec<i8> {
	let mut y = Vec::with_capacity(rows.len() / k.max(1) * bias.len());
	for row in rows.chunks_exact(k) {
		for (col, &b) in cols.chunks_exact(k).zip(bias) {
			y.push(linear_element(row, col, b, requant));
		}
	}
	y
}

/// Most bytes a layer sample takes (SCALE-encoded) for `shape`: two lanes of `k`, the output
/// row of `n`, the bias and four full-depth paths.
pub fn layer_sample_bytes(shape: &GemmShape) -> u64 {
	use crate::inputs::{lane_bytes, path_bytes};
	lane_bytes(shape.n)
		+ 2 * lane_bytes(shape.k)
		+ 4 + path_bytes(shape.m.into()) * 2
		+ path_bytes(shape.n.into()) * 2
}

/// Largest shift a [`Requant`] may use.
pub const MAX_SHIFT: u8 = 62;

/// How an int32 accumulator becomes an int8 output: `act(sat_i8(round((acc + bias) ·
/// multiplier / 2^shift)))`, rounding ties away from zero.
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
pub struct Requant {
	/// Fixed-point multiplier (positive).
	pub multiplier: i32,
	/// Right shift after the multiplication, at most [`MAX_SHIFT`].
	pub shift: u8,
	/// Whether negative outputs become 0 (ReLU).
	pub relu: bool,
}

/// Why a [`Requant`] cannot be used.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RequantError {
	/// The multiplier is zero or negative.
	NonPositiveMultiplier,
	/// The shift is larger than [`MAX_SHIFT`].
	ShiftTooLarge,
}

impl Requant {
	/// `Ok` if the parameters are usable.
	pub fn validate(&self) -> Result<(), RequantError> {
		if self.multiplier <= 0 {
			return Err(RequantError::NonPositiveMultiplier);
		}
		if self.shift > MAX_SHIFT {
			return Err(RequantError::ShiftTooLarge);
		}
		Ok(())
	}

	/// The int8 output of accumulator `acc` (a row of `A` times a column of `W`) in a column
	/// whose bias is `bias`. For parameters that pass [`Self::validate`]; others never panic
	/// (the shift is capped at [`MAX_SHIFT`]) but are not a defined layer.
	pub fn apply(&self, acc: i32, bias: i32) -> i8 {
		self.apply_at(acc, bias, 0)
	}

	/// [`Self::apply`] for an output whose **zero point** is `zero_point` (the int8 value
	/// that stands for a real 0, as in ONNX's `QLinearConv`): the rounded value plus
	/// `zero_point`, saturated, and with ReLU no smaller than `zero_point`. `apply` is this at
	/// zero point 0.
	pub fn apply_at(&self, acc: i32, bias: i32, zero_point: i8) -> i8 {
		let z = acc as i64 + bias as i64;
		let product = z as i128 * self.multiplier as i128;
		let rounded = round_shift(product, self.shift.min(MAX_SHIFT)) + zero_point as i128;
		let saturated = rounded.clamp(i8::MIN as i128, i8::MAX as i128) as i8;
		if self.relu {
			saturated.max(zero_point)
		} else {
			saturated
		}
	}
}

/// `value / 2^shift` rounded to the nearest integer, ties away from zero.
fn round_shift(value: i128, shift: u8) -> i128 {
	if shift == 0 {
		return value;
	}
	let half = 1i128 << (shift - 1);
	let magnitude = (value.unsigned_abs() + half as u128) >> shift;
	if value < 0 {
		-(magnitude as i128)
	} else {
		magnitude as i128
	}
}

/// One element of a `linear-i8` layer's output: `row` (a row of `A`, `k` values) times
/// `column` (a column of `W`, `k` values), with the column's `bias`, requantized by `q`.
pub fn linear_element(row: &[i8], column: &[i8], bias: i32, q: &Requant) -> i8 {
	q.apply(dot(row, column), bias)
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::gemm::mix64;
	use crate::testing::layer::LayerJob;

	/// The nearest integer to `p / 2^s`, ties away from zero, by exact rational comparison:
	/// the reference the definition is checked against.
	fn reference(p: i128, s: u8) -> i128 {
		let d = 1i128 << s;
		let floor = p.div_euclid(d);
		let remainder = p - floor * d; // 0 <= remainder < d
		match (2 * remainder).cmp(&d) {
			core::cmp::Ordering::Less => floor,
			core::cmp::Ordering::Greater => floor + 1,
			// A tie: away from zero.
			core::cmp::Ordering::Equal if p < 0 => floor,
			core::cmp::Ordering::Equal => floor + 1,
		}
	}

	fn q(multiplier: i32, shift: u8, relu: bool) -> Requant {
		Requant { multiplier, shift, relu }
	}

	#[test]
	fn rounding_is_to_nearest_with_ties_away_from_zero() {
		// 5/2 = 2.5 → 3, −5/2 → −3, 3/2 = 1.5 → 2, 7/4 = 1.75 → 2, 5/4 = 1.25 → 1.
		let half = q(1, 1, false);
		assert_eq!((half.apply(5, 0), half.apply(-5, 0), half.apply(3, 0)), (3, -3, 2));
		assert_eq!((q(1, 2, false).apply(7, 0), q(1, 2, false).apply(5, 0)), (2, 1));
		assert_eq!((q(1, 2, false).apply(-7, 0), q(1, 2, false).apply(-5, 0)), (-2, -1));
		// Shift 0 is the identity (then saturation).
		assert_eq!((q(1, 0, false).apply(-128, 0), q(1, 0, false).apply(127, 0)), (-128, 127));
	}

	#[test]
	fn saturation_and_relu_at_the_edges() {
		let one = q(1, 0, false);
		assert_eq!((one.apply(128, 0), one.apply(-129, 0)), (127, -128));
		assert_eq!((one.apply(i32::MAX, 0), one.apply(i32::MIN, 0)), (127, -128));
		// acc + bias past i32 is exact, not wrapped: ±2³¹ each way.
		assert_eq!(one.apply(i32::MAX, i32::MAX), 127);
		assert_eq!(one.apply(i32::MIN, i32::MIN), -128);
		assert_eq!(one.apply(i32::MIN, i32::MAX), -1);
		// The largest multiplier at shift 31 is just below 1: 127 stays 127, −128 stays −128.
		let near_one = q(i32::MAX, 31, false);
		assert_eq!((near_one.apply(127, 0), near_one.apply(-128, 0)), (127, -128));
		assert_eq!(near_one.apply(i32::MAX, i32::MAX), 127);
		// The most negative sum at the largest shift: −(2⁶³ − 2³²) / 2⁶² ≈ −1.9999999991 → −2.
		assert_eq!(q(i32::MAX, MAX_SHIFT, false).apply(i32::MIN, i32::MIN), -2);
		// ReLU: negatives become 0, the rest unchanged.
		let relu = q(1, 0, true);
		assert_eq!((relu.apply(-5, 0), relu.apply(-129, 0), relu.apply(5, 0)), (0, 0, 5));
		assert_eq!(relu.apply(1000, 0), 127);
	}

	#[test]
	fn requantization_matches_the_exact_reference_everywhere() {
		let edges = [i32::MIN, i32::MIN + 1, -(1 << 30), -129, -128, -1, 0, 1, 127, 128, i32::MAX];
		let mut cases: Vec<(i32, i32, i32, u8)> = vec![];
		for &acc in &edges {
			for &bias in &edges {
				for &(m, s) in &[(1, 0), (1 << 30, 31), (i32::MAX, 31), (3, 1), (1, MAX_SHIFT)] {
					cases.push((acc, bias, m, s));
				}
			}
		}
		for i in 0..20_000u64 {
			let r = mix64(i);
			let m = ((r >> 33) as i32).max(1);
			cases.push((r as i32, (r >> 16) as i32, m, (r >> 58) as u8 % (MAX_SHIFT + 1)));
			// Small sums and the usual scales (multiplier in [2^30, 2^31), shift 31..=40), so
			// that results land inside [-128, 127] rather than saturating.
			let small = (r as i32) >> 12;
			let usual = (1 << 30) | ((r >> 34) as i32 & ((1 << 30) - 1));
			cases.push((small, (r >> 40) as i32 >> 20, usual, 31 + (r >> 60) as u8 % 10));
		}
		for (acc, bias, multiplier, shift) in cases {
			let p = (acc as i128 + bias as i128) * multiplier as i128;
			let expected = reference(p, shift).clamp(-128, 127) as i8;
			let requant = q(multiplier, shift, false);
			assert_eq!(requant.apply(acc, bias), expected, "{acc} {bias} {multiplier} {shift}");
			assert_eq!(q(multiplier, shift, true).apply(acc, bias), expected.max(0));
		}
	}

	#[test]
	fn an_element_is_the_dot_product_requantized_and_bad_parameters_are_named() {
		let (row, column) = ([1i8, -2, 3], [4i8, 5, -6]); // dot = 4 − 10 − 18 = −24
		let half = q(1, 1, false);
		assert_eq!(linear_element(&row, &column, 0, &half), -12);
		assert_eq!(linear_element(&row, &column, 25, &half), 1); // 0.5 → 1
		assert_eq!(linear_element(&row, &column, 0, &q(1, 1, true)), 0);
		assert_eq!(q(0, 0, false).validate(), Err(RequantError::NonPositiveMultiplier));
		assert_eq!(q(-1, 0, false).validate(), Err(RequantError::NonPositiveMultiplier));
		assert_eq!(q(1, MAX_SHIFT + 1, false).validate(), Err(RequantError::ShiftTooLarge));
		assert_eq!(q(i32::MAX, MAX_SHIFT, true).validate(), Ok(()));
	}

	/// The usual scale: about 2⁻¹⁰, so that the outputs spread over int8 rather than saturate.
	const SCALE: Requant = Requant { multiplier: 1 << 30, shift: 40, relu: true };

	fn check(
		f: &LayerJob,
		root: &H256,
		element: (u32, u32),
		sample: &LayerSample,
	) -> Result<(), LayerSampleError> {
		verify_layer_sample(&f.inputs, &f.layer, &f.shape, root, element, sample)
	}

	#[test]
	fn the_reference_layer_is_the_element_definition_everywhere() {
		let f = LayerJob::new(5, 7, 33, 1, SCALE);
		let y = layer_output(&f.rows.concat(), &f.cols.concat(), 33, &f.bias, &SCALE);
		for i in 0..5usize {
			for j in 0..7usize {
				let (row, col) = (&f.rows[i], &f.cols[j]);
				let acc: i64 = row.iter().zip(col).map(|(&a, &b)| a as i64 * b as i64).sum();
				assert_eq!(y[i * 7 + j], SCALE.apply(acc as i32, f.bias[j]));
				assert_eq!(f.output[i][j], y[i * 7 + j]);
			}
		}
		// ReLU'd and not all zero: the scale spreads the outputs.
		assert!(y.iter().all(|&v| v >= 0) && y.iter().any(|&v| v > 0));
	}

	#[test]
	fn an_honest_layer_sample_passes_for_every_element_and_any_change_is_refused() {
		let f = LayerJob::new(6, 5, 9, 2, Requant { multiplier: 3 << 28, shift: 33, relu: false });
		let root = f.root();
		for i in 0..6 {
			for j in 0..5 {
				assert_eq!(check(&f, &root, (i, j), &f.sample((i, j))), Ok(()), "({i}, {j})");
			}
		}
		let honest = f.sample((4, 2));
		let mut wrong_bias = honest.clone();
		wrong_bias.bias += 1;
		assert!(matches!(check(&f, &root, (4, 2), &wrong_bias), Err(LayerSampleError::Bias(_))));
		let mut wrong_col = honest.clone();
		wrong_col.col[0] = wrong_col.col[0].wrapping_add(1);
		assert!(matches!(check(&f, &root, (4, 2), &wrong_col), Err(LayerSampleError::Column(_))));
		let mut wrong_out = honest.clone();
		wrong_out.output_row[2] = wrong_out.output_row[2].wrapping_add(1);
		assert!(matches!(check(&f, &root, (4, 2), &wrong_out), Err(LayerSampleError::Output(_))));
		assert_eq!(check(&f, &root, (6, 2), &honest), Err(LayerSampleError::OutsideOutput));
		// Another element's sample does not prove this one.
		assert!(check(&f, &root, (3, 2), &honest).is_err());
	}

	#[test]
	fn a_wrong_committed_element_is_caught() {
		let f = LayerJob::new(4, 4, 16, 3, SCALE).doctored(|i, j, v| {
			if (i, j) == (2, 3) {
				*v = v.wrapping_add(1)
			}
		});
		let root = f.root();
		assert_eq!(
			check(&f, &root, (2, 3), &f.sample((2, 3))),
			Err(LayerSampleError::WrongElement)
		);
		// The rest of the row is right.
		assert_eq!(check(&f, &root, (2, 1), &f.sample((2, 1))), Ok(()));
		// A layer's output is committed the way the next layer's input is.
		let next = MatrixCommitment::of_lanes(f.output.iter().map(|r| &r[..])).unwrap();
		assert_eq!(next, output_commitment(&f.shape, root));
		assert_eq!(next, f.output_commitment());
	}

	#[test]
	fn a_fraud_proof_shows_a_wrong_element_and_nothing_else() {
		let honest = LayerJob::new(8, 6, 20, 4, SCALE);
		let bad = LayerJob::new(8, 6, 20, 4, SCALE).doctored(|i, j, v| {
			if (i, j) == (5, 1) {
				*v = v.wrapping_add(3)
			}
		});
		let proven = |f: &LayerJob, proof: &LayerFraudProof| {
			layer_fraud_proven(&f.inputs, &f.layer, &f.shape, &f.root(), proof)
		};
		assert_eq!(proven(&bad, &bad.fraud_proof((5, 1))), Ok(()));
		// A right element of the same wrong output, or any element of the honest one: refused.
		assert_eq!(proven(&bad, &bad.fraud_proof((5, 2))), Err(LayerFraudRefused::ElementCorrect));
		assert_eq!(
			proven(&honest, &honest.fraud_proof((5, 1))),
			Err(LayerFraudRefused::ElementCorrect)
		);
		// A forged column does not make a right element wrong.
		let mut forged = honest.fraud_proof((2, 2));
		forged.sample.col[0] = forged.sample.col[0].wrapping_add(1);
		assert!(matches!(
			proven(&honest, &forged),
			Err(LayerFraudRefused::Invalid(LayerSampleError::Column(_)))
		));
		let mut outside = honest.fraud_proof((7, 5));
		outside.element = (8, 0);
		assert_eq!(proven(&honest, &outside), Err(LayerFraudRefused::OutsideOutput));
	}

	#[test]
	fn bias_leaves_are_their_own_domain() {
		assert_ne!(hash_bias(0), crate::inputs::hash_lane(&[0, 0, 0, 0]));
		assert_ne!(hash_bias(1), hash_bias(1 << 8));
		assert!(bias_root(&[]).is_none());
	}

	#[test]
	fn a_layer_sample_is_about_two_lanes_and_an_output_row() {
		let shape = GemmShape { m: 64, n: 10, k: 256 };
		let f = LayerJob::new(64, 10, 256, 5, SCALE);
		let encoded = f.sample((63, 9)).encode().len() as u64;
		assert!(encoded <= layer_sample_bytes(&shape), "{encoded}");
		assert!(layer_sample_bytes(&shape) < 2 * 256 + 10 + 4 + 4 * 8 * 33 + 8);
	}
}
