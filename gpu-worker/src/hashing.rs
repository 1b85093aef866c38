//! Many BLAKE2b-256 hashes at once: `blake2b_simd`'s multi-buffer `hash_many` (4 messages per
//! AVX2 pass, chosen at run time), giving exactly the hashes of
//! `proofgrid_primitives::merkle::{hash_leaf, hash_node}`. The leaf hashes and the upper
//! levels of a job's Merkle tree are most of a job's hashing.

use blake2b_simd::{
	many::{hash_many, HashManyJob},
	Params,
};
use proofgrid_primitives::{
	gemm::{encode_leaf, LEAF_ELEMENTS},
	merkle::Hash32,
};

/// Messages hashed per `hash_many` call (its buffers stay in cache).
const BATCH: usize = 256;

/// BLAKE2b-256 of each message, in order.
fn hash_all<const N: usize>(messages: &[[u8; N]]) -> Vec<Hash32> {
	let params = Params::new().hash_length(32).clone();
	let mut out = Vec::with_capacity(messages.len());
	for batch in messages.chunks(BATCH) {
		let mut jobs: Vec<HashManyJob> =
			batch.iter().map(|m| HashManyJob::new(&params, &m[..])).collect();
		hash_many(jobs.iter_mut());
		out.extend(jobs.iter().map(|job| {
			let mut hash = [0u8; 32];
			hash.copy_from_slice(job.to_hash().as_bytes());
			hash
		}));
	}
	out
}

/// The leaf hashes of `leaves`: `merkle::hash_leaf(&encode_leaf(leaf))` of each.
pub fn leaf_hashes(leaves: &[[i32; LEAF_ELEMENTS]]) -> Vec<Hash32> {
	let messages: Vec<[u8; 65]> = leaves
		.iter()
		.map(|leaf| {
			let mut message = [0u8; 65];
			message[1..].copy_from_slice(&encode_leaf(leaf));
			message
		})
		.collect();
	hash_all(&messages)
}

/// The level above `below`, as `merkle::parent_level` builds it: pairs hashed with
/// `merkle::hash_node`, a lone last node carried up.
pub fn parent_level(below: &[Hash32]) -> Vec<Hash32> {
	let pairs: Vec<[u8; 65]> = below
		.chunks_exact(2)
		.map(|pair| {
			let mut message = [1u8; 65];
			message[1..33].copy_from_slice(&pair[0]);
			message[33..].copy_from_slice(&pair[1]);
			message
		})
		.collect();
	let mut level = hash_all(&pairs);
	if let [.., lone] = below {
		if below.len() % 2 == 1 {
			level.push(*lone);
		}
	}
	level
}

#[cfg(test)]
mod tests {
	use super::*;
	use proofgrid_primitives::{gemm::mix64, merkle};

	#[test]
	fn the_hashes_are_the_definitions() {
		let leaves: Vec<[i32; LEAF_ELEMENTS]> = (0..1000u64)
			.map(|i| std::array::from_fn(|e| mix64(i * 16 + e as u64) as i32))
			.collect();
		let hashes = leaf_hashes(&leaves);
		for (leaf, hash) in leaves.iter().zip(&hashes) {
			assert_eq!(*hash, merkle::hash_leaf(&encode_leaf(leaf)));
		}
		// Every width around the batch size, odd and even.
		for width in [0, 1, 2, 3, 255, 256, 257, 511, 512, 513, 1000] {
			assert_eq!(
				parent_level(&hashes[..width]),
				merkle::parent_level(&hashes[..width]),
				"width {width}"
			);
		}
	}
}
