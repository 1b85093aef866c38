//! A CPU spot check of an accelerator's output before it is committed: a few leaves, picked
//! where the backend cannot predict them, recomputed with the reference kernel of
//! `proofgrid-primitives`. A wrong output caught here costs a recompute, not the collateral
//! (a known cuBLAS int8 bug, a flaky GPU or a miscompiled kernel would otherwise be slashed).

use codec::Encode;
use proofgrid_primitives::{
	gemm::{encode_leaf, seeded_leaf, GemmShape},
	merkle::hash_leaf,
};
use sp_crypto_hashing::blake2_256;

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
	/// A leaf could not be read back.
	#[error("reading leaf {index} of the output: {source:#}")]
	Unreadable {
		/// The leaf's index.
		index: u64,
		source: anyhow::Error,
	},
}

/// Checks [`SPOT_CHECKS`] of the `count` leaves of an output (of `shape` for seeded inputs
/// `seed`, read with `leaf`), drawn with `salt`, against the reference kernel.
pub fn spot_check(
	shape: &GemmShape,
	seed: &[u8; 32],
	count: u64,
	leaf: impl Fn(u64) -> anyhow::Result<[u8; 32]>,
	salt: &[u8],
) -> Result<(), SpotCheckError> {
	for n in 0..SPOT_CHECKS.min(count) {
		let draw = blake2_256(&(salt, n).encode());
		let index = u64::from_le_bytes(draw[..8].try_into().expect("8 bytes")) % count;
		let expected = hash_leaf(&encode_leaf(&seeded_leaf(shape, seed, index)));
		let got = leaf(index).map_err(|source| SpotCheckError::Unreadable { index, source })?;
		if got != expected {
			return Err(SpotCheckError::Mismatch { index });
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
		spot_check(shape, seed, leaves.len() as u64, |i| Ok(leaves[i as usize]), salt).is_ok()
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

	#[test]
	fn an_unreadable_leaf_fails_the_check() {
		let shape = GemmShape { m: 8, n: 8, k: 8 };
		let result = spot_check(&shape, &[1; 32], 4, |_| anyhow::bail!("disk gone"), b"s");
		assert!(matches!(result, Err(SpotCheckError::Unreadable { .. })), "{result:?}");
	}
}
