//! Client-side checking of a whole output: Freivalds' algorithm.
//!
//! A client that holds `A` (as its rows) and `B` (as its columns) checks a downloaded
//! `C = A·B` in `O(m·k + k·n + m·n)` instead of the `O(m·n·k)` of recomputing it: for a random
//! vector `r`, `C·r` must equal `A·(B·r)`. Arithmetic is in ℤ/2⁶⁴ (wrapping `u64`), which is
//! exact for what is compared and needs no big integers.
//!
//! **Error bound.** If `C ≠ A·B`, some row `i` of `D = C − A·B` has an element `d_j ≠ 0`, and
//! `|d_j| < 2³³`, so `d_j = 2^t·odd` with `t ≤ 32`. Whatever the other entries of `r`, the
//! row's check `Σ d_j·r_j ≡ 0 (mod 2⁶⁴)` holds for at most `2^t` of the `2⁶⁴` values of `r_j`:
//! a wrong output passes one round with probability at most `2⁻³²`, and `rounds` independent
//! rounds with at most `2^(−32·rounds)`. `r` is drawn from a seed the checker picks *after*
//! receiving `C`, so the provider cannot aim at it. (The entries of `r` come from one 64-bit
//! seed through SplitMix64, so the bound assumes that mixer behaves as a random function over
//! the few entries that matter: the standard assumption for a seeded generator.)

use alloc::vec::Vec;

use crate::{
	gemm::{dot, mix64, MAX_K},
	linear::Requant,
	model::{Planned, Step, Weights},
};

/// Rounds [`freivalds`] runs by default: a wrong output passes with probability ≤ 2⁻⁶⁴.
pub const DEFAULT_ROUNDS: u32 = 2;

/// Where `C` differs from `A·B`: the row and column of one wrong element, and its correct value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct WrongElement {
	/// Row of `C`.
	pub row: usize,
	/// Column of `C`.
	pub column: usize,
	/// `A`'s row times `B`'s column.
	pub expected: i32,
	/// What `C` holds there.
	pub found: i32,
}

/// Checks that `c` (m×n, row-major) is `A·B`, given `A`'s `m` rows and `B`'s `n` columns of `k`
/// values each (lane after lane), with `rounds` random vectors drawn from `seed`. On a
/// mismatch, finds one wrong element (one row recomputed: `O(n·k)`).
pub fn freivalds(
	rows: &[i8],
	columns: &[i8],
	c: &[i32],
	k: usize,
	seed: u64,
	rounds: u32,
) -> Result<(), WrongElement> {
	let (m, n) = (rows.len() / k.max(1), columns.len() / k.max(1));
	assert!(k > 0 && rows.len() == m * k && columns.len() == n * k && c.len() == m * n);
	// Beyond MAX_K an int32 element could overflow and the locator would not be exact.
	assert!(k <= MAX_K as usize, "k = {k} is larger than MAX_K");
	for round in 0..rounds as u64 {
		// SplitMix64 over a counter: `mix64` is a bijection with `mix64(0) = 0`, so the counter
		// is offset by the golden gamma (a zero entry would leave its column unchecked).
		let r: Vec<u64> = (0..n as u64)
			.map(|j| mix64(seed ^ mix64((round << 40 | j).wrapping_add(0x9E37_79B9_7F4A_7C15))))
			.collect();
		// B·r: for each of the k inner indices, Σ_j B[x][j]·r_j (B held as columns).
		let mut br = alloc::vec![0u64; k];
		for (column, &rj) in columns.chunks_exact(k).zip(&r) {
			for (acc, &b) in br.iter_mut().zip(column) {
				*acc = acc.wrapping_add((b as i64 as u64).wrapping_mul(rj));
			}
		}
		for (i, row) in rows.chunks_exact(k).enumerate() {
			let abr = row
				.iter()
				.zip(&br)
				.fold(0u64, |acc, (&a, &x)| acc.wrapping_add((a as i64 as u64).wrapping_mul(x)));
			let cr = c[i * n..(i + 1) * n]
				.iter()
				.zip(&r)
				.fold(0u64, |acc, (&v, &rj)| acc.wrapping_add((v as i64 as u64).wrapping_mul(rj)));
			if abr != cr {
				return Err(wrong_in_row(row, columns, &c[i * n..(i + 1) * n], i, k));
			}
		}
	}
	Ok(())
}

/// A wrong element of row `i` of `C`, which Freivalds' check found wrong.
fn wrong_in_row(row: &[i8], columns: &[i8], c_row: &[i32], i: usize, k: usize) -> WrongElement {
	columns
		.chunks_exact(k)
		.zip(c_row)
		.enumerate()
		.find_map(|(j, (column, &found))| {
			let expected = dot(row, column);
			(expected != found).then_some(WrongElement { row: i, column: j, expected, found })
		})
		// The row's sums differ, so some element does.
		.expect("a row whose check failed has a wrong element")
}

/// Rows of a wrong accumulator hint [`check_layer`] repairs one by one before it recomputes
/// them all.
const MAX_REPAIRED_ROWS: usize = 4;

/// Where a layer's output `Y` differs from `act(sat(requant(A·W + bias)))`: one wrong element and
/// its correct value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct WrongLayerElement {
	/// Row of `Y`.
	pub row: usize,
	/// Column of `Y`.
	pub column: usize,
	/// The layer's value there.
	pub expected: i8,
	/// What `Y` holds there.
	pub found: i8,
}

/// Checks that `y` (m×n int8, row-major) is the `linear-i8` layer of `A`'s `m` rows, `W`'s `n`
/// columns (`k` values each, lane after lane), `bias` and `requant`, using the device's int32
/// accumulators `acc` (m×n, meant to be `A·W`) as a hint: Freivalds' check of `acc` (as
/// [`freivalds`], same bound), then every element of `y` against `requant` of its accumulator.
/// `O(m·k + k·n + m·n)` when the device is honest. The hint proves nothing by itself: where it
/// is wrong the client recomputes (a row of `acc` that fails the check, or an element of `y`
/// that disagrees with it), so a wrong hint costs the client time, never a wrong verdict. On a
/// mismatch, one wrong element of `y`.
#[allow(clippy::too_many_arguments)]
pub fn check_layer(
	rows: &[i8],
	columns: &[i8],
	bias: &[i32],
	requant: &Requant,
	acc: &[i32],
	y: &[i8],
	k: usize,
	seed: u64,
	rounds: u32,
) -> Result<(), WrongLayerElement> {
	check_layer_at(rows, columns, bias, requant, 0, acc, y, k, seed, rounds)
}

/// [`check_layer`] for an output whose zero point is `zero_point` ([`Requant::apply_at`]): a
/// model's convolution (its im2col rows) or dense layer.
#[allow(clippy::too_many_arguments)]
pub fn check_layer_at(
	rows: &[i8],
	columns: &[i8],
	bias: &[i32],
	requant: &Requant,
	zero_point: i8,
	acc: &[i32],
	y: &[i8],
	k: usize,
	seed: u64,
	rounds: u32,
) -> Result<(), WrongLayerElement> {
	let n = bias.len();
	assert!(k > 0 && n > 0 && columns.len() == n * k && acc.len() == y.len());
	assert!(rows.len() / k * n == y.len(), "y is m×n");
	let element = |i: usize, j: usize| {
		let (row, column) = (&rows[i * k..(i + 1) * k], &columns[j * k..(j + 1) * k]);
		requant.apply_at(dot(row, column), bias[j], zero_point)
	};
	let mismatch = |i: usize, j: usize, expected: i8| {
		(expected != y[i * n + j]).then_some(WrongLayerElement {
			row: i,
			column: j,
			expected,
			found: y[i * n + j],
		})
	};
	let mut acc = acc.to_vec();
	// Until the accumulators pass: a failing row is recomputed, its outputs checked, and the
	// row repaired. A hint wrong in more than a few rows is dropped: every row is recomputed
	// (the layer's own cost), never one Freivalds pass per wrong row.
	let mut repaired = 0;
	while let Err(wrong) = freivalds(rows, columns, &acc, k, seed, rounds) {
		let failing = if repaired < MAX_REPAIRED_ROWS {
			repaired += 1;
			wrong.row..wrong.row + 1
		} else {
			0..y.len() / n
		};
		for i in failing {
			for j in 0..n {
				let exact = dot(&rows[i * k..(i + 1) * k], &columns[j * k..(j + 1) * k]);
				if let Some(found) = mismatch(i, j, requant.apply_at(exact, bias[j], zero_point)) {
					return Err(found);
				}
				acc[i * n + j] = exact;
			}
		}
	}
	// The accumulators are `A·W` (but for a 2^(−32·rounds) chance): check `y` against them.
	for (index, (&a, &value)) in acc.iter().zip(y).enumerate() {
		let (i, j) = (index / n, index % n);
		if requant.apply_at(a, bias[j], zero_point) != value {
			return Err(mismatch(i, j, element(i, j)).expect("y disagrees with its exact sum"));
		}
	}
	Ok(())
}

/// Where a model's committed outputs go wrong: the first layer (in order) with an element that
/// differs from the layer applied to the previous layer's *committed* output, so the element is
/// provable on chain by a fraud proof (`model_proof`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct WrongModelElement {
	/// The layer.
	pub layer: usize,
	/// Its row (output pixel of the batch).
	pub row: usize,
	/// Its channel.
	pub column: usize,
	/// The layer's value there.
	pub expected: i8,
	/// What the output holds there.
	pub found: i8,
}

/// Why a model's outputs fail [`check_model`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ModelCheckError {
	/// Layer `layer`'s output (or the input, or the weights of its GEMM layer, or its hint) is
	/// not the size the plan gives: nothing to check element by element.
	Shape {
		/// The layer.
		layer: usize,
	},
	/// An element is wrong.
	Wrong(WrongModelElement),
}

/// Checks every layer of a model job's outputs against its definition applied to the previous
/// layer's output as committed (the input for layer 0): a GEMM layer by [`check_layer_at`] on
/// its im2col rows with `hints[g]` (the device's int32 accumulators of GEMM layer `g`, `m × n`)
/// as the hint, or with exact accumulators computed here when there are none (the layer's own
/// cost); a pooling layer recomputed (it is cheap). Returns the first wrong element in layer
/// order.
pub fn check_model(
	plan: &[Planned],
	weights: &[Weights],
	input: &[i8],
	outputs: &[Vec<i8>],
	hints: Option<&[Vec<i32>]>,
	seed: u64,
	rounds: u32,
) -> Result<(), ModelCheckError> {
	let size = |p: &Planned| p.rows() as usize * p.output.channels as usize;
	if outputs.len() != plan.len() {
		return Err(ModelCheckError::Shape { layer: outputs.len().min(plan.len()) });
	}
	let mut gemm = 0;
	for (layer, planned) in plan.iter().enumerate() {
		let shape_error = ModelCheckError::Shape { layer };
		let previous = if layer == 0 { input } else { &outputs[layer - 1] };
		let expected_input = u64::from(planned.input_rows()) * u64::from(planned.input.channels);
		if previous.len() as u64 != expected_input || outputs[layer].len() != size(planned) {
			return Err(shape_error);
		}
		let y = &outputs[layer];
		let wrong = |row: usize, column: usize, expected: i8| {
			let found = y[row * planned.output.channels as usize + column];
			ModelCheckError::Wrong(WrongModelElement { layer, row, column, expected, found })
		};
		match planned.step {
			Step::Gemm(conv, epilogue) => {
				let w = weights.get(gemm).ok_or(shape_error)?;
				let shape = conv.gemm_shape();
				let (n, k) = (shape.n as usize, shape.k as usize);
				if w.lanes.len() != n * k || w.bias.len() != n {
					return Err(shape_error);
				}
				let rows = conv.im2col(previous);
				let exact;
				// A hint of the wrong size is the device's: ignored, the client computes the
				// accumulators (a bad hint must never hide a wrong element).
				let acc = match hints.and_then(|h| h.get(gemm)) {
					Some(hint) if hint.len() == y.len() => hint.as_slice(),
					_ => {
						exact = rows
							.chunks_exact(k)
							.flat_map(|row| w.lanes.chunks_exact(k).map(move |col| dot(row, col)))
							.collect::<Vec<i32>>();
						&exact
					}
				};
				check_layer_at(
					&rows,
					&w.lanes,
					&w.bias,
					&epilogue.requant,
					epilogue.zero_point,
					acc,
					y,
					k,
					seed ^ gemm as u64,
					rounds,
				)
				.map_err(|e| wrong(e.row, e.column, e.expected))?;
				gemm += 1;
			}
			Step::MaxPool(_) | Step::AvgPool(..) => {
				let c = planned.output.channels as usize;
				let pooled = match planned.step {
					Step::AvgPool(pool, e, zero_in) => {
						pool.average_output(previous, zero_in, &e.requant, e.zero_point)
					}
					Step::MaxPool(pool) => pool.output(previous),
					Step::Gemm(..) => unreachable!("matched above"),
				};
				if let Some(at) = pooled.iter().zip(y).position(|(a, b)| a != b) {
					return Err(wrong(at / c, at % c, pooled[at]));
				}
			}
		}
	}
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;

	fn lanes(count: usize, k: usize, salt: u64) -> Vec<i8> {
		(0..(count * k) as u64).map(|i| (mix64(i ^ salt) >> 56) as i8).collect()
	}

	fn product(rows: &[i8], columns: &[i8], k: usize) -> Vec<i32> {
		rows.chunks(k).flat_map(|row| columns.chunks(k).map(move |col| dot(row, col))).collect()
	}

	#[test]
	fn a_correct_product_passes_and_any_single_wrong_element_is_found() {
		let (m, n, k) = (37, 29, 41);
		let (rows, columns) = (lanes(m, k, 1), lanes(n, k, 2));
		let c = product(&rows, &columns, k);
		for seed in 0..20 {
			assert_eq!(freivalds(&rows, &columns, &c, k, seed, DEFAULT_ROUNDS), Ok(()));
		}
		// Off by one, by 2³¹ (only the top bit of a difference), at the edges and inside.
		for (index, delta) in [(0, 1), (m * n - 1, -1), (17 * n + 3, i32::MIN), (5, 1 << 20)] {
			let mut wrong = c.clone();
			wrong[index] = wrong[index].wrapping_add(delta);
			for seed in 0..20 {
				let found = freivalds(&rows, &columns, &wrong, k, seed, 1).unwrap_err();
				assert_eq!((found.row, found.column), (index / n, index % n));
				assert_eq!((found.expected, found.found), (c[index], wrong[index]));
			}
		}
	}

	#[test]
	fn a_layer_is_checked_with_its_accumulators_and_a_wrong_hint_changes_no_verdict() {
		use crate::linear::layer_output;
		let (m, n, k) = (23, 17, 40);
		let (rows, columns) = (lanes(m, k, 3), lanes(n, k, 4));
		let bias: Vec<i32> = (0..n as i32).map(|j| (j - 8) * 3000).collect();
		let requant = Requant { multiplier: 1 << 30, shift: 40, relu: true };
		let acc = product(&rows, &columns, k);
		let y = layer_output(&rows, &columns, k, &bias, &requant);
		let check = |acc: &[i32], y: &[i8]| {
			check_layer(&rows, &columns, &bias, &requant, acc, y, k, 11, DEFAULT_ROUNDS)
		};
		assert_eq!(check(&acc, &y), Ok(()));
		// A wrong output element, with honest accumulators or with accumulators that agree
		// with the lie: found, with its right value.
		let mut wrong_y = y.clone();
		wrong_y[5 * n + 9] = wrong_y[5 * n + 9].wrapping_add(1);
		let found = check(&acc, &wrong_y).unwrap_err();
		assert_eq!((found.row, found.column, found.expected), (5, 9, y[5 * n + 9]));
		let mut lying_acc = acc.clone();
		lying_acc[5 * n + 9] += 1 << 20;
		let mut lie = y.clone();
		lie[5 * n + 9] = requant.apply(lying_acc[5 * n + 9], bias[9]);
		assert_ne!(lie, y, "the lie changes the output");
		let found = check(&lying_acc, &lie).unwrap_err();
		assert_eq!((found.row, found.column, found.expected), (5, 9, y[5 * n + 9]));
		// A wrong hint with a right output: still accepted.
		let mut bad_hint = acc.clone();
		bad_hint[3] -= 7;
		bad_hint[20 * n + 16] = 0;
		assert_eq!(check(&bad_hint, &y), Ok(()));
		assert_eq!(check(&vec![0; m * n], &y), Ok(()));
		// No hint at all (every row fails, so all are recomputed at once): the lie is found.
		let found = check(&vec![0; m * n], &wrong_y).unwrap_err();
		assert_eq!((found.row, found.column, found.expected), (5, 9, y[5 * n + 9]));
	}

	#[test]
	fn extreme_values_stay_exact() {
		// All −128 at k = 4096: every element is 2²⁶, and B·r wraps many times.
		let k = 4096;
		let (rows, columns) = (alloc::vec![-128i8; 3 * k], alloc::vec![-128i8; 2 * k]);
		let c = alloc::vec![1i32 << 26; 6];
		assert_eq!(freivalds(&rows, &columns, &c, k, 7, 4), Ok(()));
		let mut wrong = c.clone();
		wrong[4] += 1;
		assert_eq!(freivalds(&rows, &columns, &wrong, k, 7, 1).unwrap_err().column, 0);
	}

	mod models {
		use super::*;
		use crate::{
			model::tests::{cnn, values, weights_for},
			model_proof::{model_fraud_proven, ModelCommitments, ModelFraudProof, ModelProver},
		};

		struct Run {
			plan: Vec<Planned>,
			input: Vec<i8>,
			outputs: Vec<Vec<i8>>,
			weights: Vec<Weights>,
		}

		fn run() -> Run {
			let model = cnn();
			let weights = weights_for(&model, 70);
			let input = values(2 * model.input.values() as usize, 8);
			let outputs = model.run(2, &input, &weights).unwrap();
			Run { plan: model.plan(2).unwrap(), input, outputs, weights }
		}

		/// The device's accumulators: what an honest device serves as the hint.
		fn hints(r: &Run) -> Vec<Vec<i32>> {
			let mut hints = Vec::new();
			for (l, p) in r.plan.iter().enumerate() {
				if let Step::Gemm(conv, _) = p.step {
					let previous = if l == 0 { &r.input } else { &r.outputs[l - 1] };
					let k = conv.gemm_shape().k as usize;
					let w = &r.weights[hints.len()];
					let rows = conv.im2col(previous);
					hints.push(
						rows.chunks_exact(k)
							.flat_map(|row| w.lanes.chunks_exact(k).map(move |col| dot(row, col)))
							.collect(),
					);
				}
			}
			hints
		}

		fn check(r: &Run, hints: Option<&[Vec<i32>]>) -> Result<(), ModelCheckError> {
			check_model(&r.plan, &r.weights, &r.input, &r.outputs, hints, 5, DEFAULT_ROUNDS)
		}

		#[test]
		fn an_honest_model_passes_with_or_without_the_devices_accumulators() {
			let r = run();
			let honest = hints(&r);
			assert_eq!(check(&r, None), Ok(()));
			assert_eq!(check(&r, Some(&honest)), Ok(()));
			// A wrong hint costs time, never a wrong verdict.
			let mut lying = honest.clone();
			lying[1][7] += 1;
			assert_eq!(check(&r, Some(&lying)), Ok(()));
			lying[1].pop();
			assert_eq!(check(&r, Some(&lying)), Ok(()));
			// Nor can a malformed hint hide a wrong element.
			let mut wrong = run();
			wrong.outputs[2][4] = wrong.outputs[2][4].wrapping_add(1);
			assert!(matches!(
				check(&wrong, Some(&lying)),
				Err(ModelCheckError::Wrong(WrongModelElement { layer: 2, row: 1, column: 1, .. }))
			));
		}

		#[test]
		fn the_first_wrong_layer_is_found_and_its_element_is_provable_on_chain() {
			let cases = [(2usize, 5usize, 1usize), (1, 9, 3), (0, 0, 0), (3, 6, 2), (4, 1, 4)];
			for (layer, row, column) in cases {
				let mut r = run();
				let c = r.plan[layer].output.channels as usize;
				let right = r.outputs[layer][row * c + column];
				r.outputs[layer][row * c + column] = right.wrapping_add(3);
				let honest = hints(&run());
				for hint in [None, Some(honest.as_slice())] {
					let Err(ModelCheckError::Wrong(found)) = check(&r, hint) else {
						panic!("layer {layer}: a wrong element passed");
					};
					assert_eq!((found.layer, found.row, found.column), (layer, row, column));
					assert_eq!((found.expected, found.found), (right, right.wrapping_add(3)));
				}
				// The element the client found is what the chain's fraud proof convicts.
				let prover = ModelProver::new(&r.plan, &r.input, &r.outputs, &r.weights).unwrap();
				let (input, weights, root) =
					(prover.input_commitment(), prover.weights_commitments(), prover.root());
				let job = ModelCommitments {
					plan: &r.plan,
					input: &input,
					weights: &weights,
					root: &root,
				};
				let element = (layer as u32, row as u32, column as u32);
				let proof = ModelFraudProof { element, sample: prover.sample(element) };
				assert_eq!(model_fraud_proven(&job, &proof), Ok(()));
			}
		}

		#[test]
		fn outputs_of_the_wrong_size_are_refused_before_any_element() {
			let mut r = run();
			r.outputs[3].pop();
			assert_eq!(check(&r, None), Err(ModelCheckError::Shape { layer: 3 }));
			let mut r = run();
			r.outputs.pop();
			assert_eq!(check(&r, None), Err(ModelCheckError::Shape { layer: 4 }));
			let mut r = run();
			r.input.push(0);
			assert_eq!(check(&r, None), Err(ModelCheckError::Shape { layer: 0 }));
		}
	}
}
