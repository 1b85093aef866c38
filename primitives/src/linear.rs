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

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

use crate::gemm::dot;

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
		let z = acc as i64 + bias as i64;
		let product = z as i128 * self.multiplier as i128;
		let rounded = round_shift(product, self.shift.min(MAX_SHIFT));
		let saturated = rounded.clamp(i8::MIN as i128, i8::MAX as i128) as i8;
		if self.relu {
			saturated.max(0)
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
}
