//! A CPU spot check of an accelerator's output before it is committed: a few leaves, picked
//! where the backend cannot predict them, recomputed with the reference kernel of
//! `proofgrid-primitives`. A wrong output caught here costs a recompute, not the collateral
//! (a known cuBLAS int8 bug, a flaky GPU or a miscompiled kernel would otherwise be slashed).

use codec::Encode;
use proofgrid_primitives::{
	gemm::{encode_leaf, leaf_of_lanes, seeded_leaf, GemmShape, LEAF_ELEMENTS},
	merkle::hash_leaf,
};
use sp_crypto_hashing::blake2_256;

use crate::backend::Inputs;

/// Leaves checked per output.
pub const SPOT_CHECKS: u64 = 8;

/// Why an output fails its spot check.
#[derive(Debug, thiserror::Error)]
pub enum SpotCheckError {
	/// A leaf the reference kernel computes differently.
	#[error("leaf {index} of the output differs from the CPU reference")]
	Mismatch {
		/// The leaf's index.
		index: u64,
	},
	/// A leaf whose values, as delivered to the client, are not the reference's.
	#[error("the values of leaf {index} differ from the CPU reference")]
	ValuesMismatch {
		/// The leaf's index.
		index: u64,
	},
	/// A leaf could not be read back.
	#[error("reading leaf {index} of the output: {source:#}")]
	Unreadable {
		/// The leaf's index.
		index: u64,
		source: anyhow::Error,
	},
}

/// The 16 values of leaf `index` of the job (`shape`, `inputs`) by the definition (zero past the
/// edges of `C`).
pub fn reference_leaf(inputs: Inputs, shape: &GemmShape, index: u64) -> [i32; LEAF_ELEMENTS] {
	match inputs {
		Inputs::Seeded(seed) => seeded_leaf(shape, seed, index),
		Inputs::Supplied { rows, cols } => {
			let k = shape.k as usize;
			// A short input (never stored: inputs are checked against their commitment)
			// counts as zeros.
			let lane = |i: u32| i as usize * k..(i as usize + 1) * k;
			let row = |r| rows.get(lane(r)).unwrap_or_default();
			let col = |c| cols.get(lane(c)).unwrap_or_default();
			leaf_of_lanes(shape, index, row, col)
		}
	}
}

/// The values of an output's leaves, where they are delivered to a client.
pub type LeafValues<'a> = &'a dyn Fn(u64) -> anyhow::Result<[i32; LEAF_ELEMENTS]>;

/// Checks [`SPOT_CHECKS`] of the `count` leaves of an output (of `shape` on `inputs`, read
/// with `leaf`, and with `values` where the output's values are delivered),
/// drawn with `salt`, against the reference kernel.
pub fn spot_check(
	shape: &GemmShape,
	inputs: Inputs,
	count: u64,
	leaf: impl Fn(u64) -> anyhow::Result<[u8; 32]>,
	values: Option<LeafValues>,
	salt: &[u8],
) -> Result<(), SpotCheckError> {
	for n in 0..SPOT_CHECKS.min(count) {
		let draw = blake2_256(&(salt, n).encode());
		let index = u64::from_le_bytes(draw[..8].try_into().expect("8 bytes")) % count;
		let expected_values = reference_leaf(inputs, shape, index);
		let expected = hash_leaf(&encode_leaf(&expected_values));
		let got = leaf(index).map_err(|source| SpotCheckError::Unreadable { index, source })?;
		if got != expected {
			return Err(SpotCheckError::Mismatch { index });
		}
		if let Some(values) = values {
			let got =
				values(index).map_err(|source| SpotCheckError::Unreadable { index, source })?;
			if got != expected_values {
				return Err(SpotCheckError::ValuesMismatch { index });
			}
		}
	}
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;

	fn output(shape: &GemmShape, seed: &[u8; 32]) -> Vec<[u8; 32]> {
		(0..shape.leaf_count())
			.map(|i| hash_leaf(&encode_leaf(&seeded_leaf(shape, seed, i))))
			.collect()
	}

	fn check(shape: &GemmShape, seed: &[u8; 32], leaves: &[[u8; 32]], salt: &[u8]) -> bool {
		let reference = Inputs::Seeded(seed);
		spot_check(shape, reference, leaves.len() as u64, |i| Ok(leaves[i as usize]), None, salt)
			.is_ok()
	}

	#[test]
	fn a_correct_output_passes_and_a_wrong_one_is_caught() {
		let shape = GemmShape { m: 64, n: 64, k: 32 };
		let seed = [3u8; 32];
		let good = output(&shape, &seed);
		for salt in 0u8..20 {
			assert!(check(&shape, &seed, &good, &[salt]));
		}
		// Another job's output (other inputs): every leaf differs, the first draw catches it.
		let other = output(&shape, &[4u8; 32]);
		assert!(!check(&shape, &seed, &other, b"salt"));
		// One leaf in four wrong: caught by one of the eight draws almost always.
		let mut quarter = good.clone();
		for leaf in quarter.iter_mut().step_by(4) {
			leaf[0] ^= 1;
		}
		let caught = (0u8..50).filter(|salt| !check(&shape, &seed, &quarter, &[*salt])).count();
		assert!(caught >= 40, "caught {caught} of 50");
	}

	/// Supplied inputs: the reference leaves are the definition's, so a right output passes
	/// and one leaf wrong in every other is caught.
	#[test]
	fn supplied_outputs_are_checked_against_their_inputs() {
		use crate::backend::{cpu::CpuBackend, Backend};
		let shape = GemmShape { m: 13, n: 10, k: 7 };
		let rows: Vec<i8> = (0..13 * 7).map(|i| (i * 37 % 256) as u8 as i8).collect();
		let cols: Vec<i8> = (0..10 * 7).map(|i| (i * 91 % 256) as u8 as i8).collect();
		/// The leaf hashes and the values delivered, as a backend writes them.
		#[derive(Default)]
		struct Output(Vec<[u8; 32]>, Vec<[i32; LEAF_ELEMENTS]>);
		impl crate::backend::LeafSink for Output {
			fn append(&mut self, hashes: &[[u8; 32]]) -> anyhow::Result<()> {
				self.0.extend_from_slice(hashes);
				Ok(())
			}
			fn append_values(&mut self, values: &[[i32; LEAF_ELEMENTS]]) -> anyhow::Result<()> {
				self.1.extend_from_slice(values);
				Ok(())
			}
		}
		let mut out = Output::default();
		let inputs = Inputs::Supplied { rows: &rows, cols: &cols };
		CpuBackend::new(1, 64).unwrap().write_leaf_hashes(&shape, inputs, &mut out).unwrap();
		let Output(good, values) = out;
		let reference = inputs;
		for index in 0..shape.leaf_count() {
			assert_eq!(
				hash_leaf(&encode_leaf(&reference_leaf(reference, &shape, index))),
				good[index as usize]
			);
		}
		let count = good.len() as u64;
		let right = |i: u64| Ok(values[i as usize]);
		let check = |hashes: &[[u8; 32]], values: LeafValues, salt: &[u8]| {
			spot_check(&shape, reference, count, |i| Ok(hashes[i as usize]), Some(values), salt)
		};
		assert!(check(&good, &right, b"s").is_ok());
		// Wrong hashes, or right hashes with wrong values delivered: caught.
		let mut bad = good.clone();
		bad.iter_mut().step_by(2).for_each(|leaf| leaf[0] ^= 1);
		let wrong = |i: u64| {
			let mut leaf = values[i as usize];
			leaf[3] = leaf[3].wrapping_add(i.is_multiple_of(2) as i32);
			Ok(leaf)
		};
		let (mut caught, mut caught_values) = (0, 0);
		for salt in 0u8..20 {
			caught += usize::from(matches!(
				check(&bad, &right, &[salt]),
				Err(SpotCheckError::Mismatch { .. })
			));
			caught_values += usize::from(matches!(
				check(&good, &wrong, &[salt]),
				Err(SpotCheckError::ValuesMismatch { .. })
			));
		}
		assert!(caught >= 18 && caught_values >= 18, "caught {caught} and {caught_values} of 20");
	}

	#[test]
	fn an_unreadable_leaf_fails_the_check() {
		let shape = GemmShape { m: 8, n: 8, k: 8 };
		let result = spot_check(
			&shape,
			Inputs::Seeded(&[1; 32]),
			4,
			|_| anyhow::bail!("disk gone"),
			None,
			b"s",
		);
		assert!(matches!(result, Err(SpotCheckError::Unreadable { .. })), "{result:?}");
	}
}
