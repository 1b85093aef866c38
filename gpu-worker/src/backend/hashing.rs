//! Many BLAKE2b-256 hashes at once, giving exactly the hashes of
//! `proofgrid_primitives::merkle::{hash_leaf, hash_node}`. The leaf hashes and the upper
//! levels of a job's Merkle tree are most of a job's hashing, and every one of them is a
//! 65-byte message (a domain byte and 64 bytes): one BLAKE2b block. With AVX-512 they are
//! compressed 8 at a time, a message per 64-bit lane (`avx512`, chosen at run time); otherwise
//! with `blake2b_simd`'s multi-buffer `hash_many`.

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

/// BLAKE2b-256 of 65-byte messages, 8 at a time where the CPU has AVX-512.
#[cfg(test)]
fn hash_65(messages: &[[u8; 65]]) -> Vec<Hash32> {
	hash_65_with(messages.len(), |i| messages[i])
}

/// BLAKE2b-256 of the `count` 65-byte messages `message(0..count)`, made 8 at a time on the
/// stack (no buffer of every message) where the CPU has AVX-512.
fn hash_65_with(count: usize, message: impl Fn(usize) -> [u8; 65]) -> Vec<Hash32> {
	#[cfg(target_arch = "x86_64")]
	if std::arch::is_x86_feature_detected!("avx512f") {
		let mut out = Vec::with_capacity(count);
		let whole = count - count % 8;
		for first in (0..whole).step_by(8) {
			let group: [[u8; 65]; 8] = std::array::from_fn(|j| message(first + j));
			// SAFETY: the CPU has AVX-512F (checked above).
			out.extend_from_slice(&unsafe { avx512::hash8(&group) });
		}
		let rest: Vec<[u8; 65]> = (whole..count).map(&message).collect();
		out.extend(hash_all(&rest));
		return out;
	}
	let messages: Vec<[u8; 65]> = (0..count).map(message).collect();
	hash_all(&messages)
}

/// BLAKE2b-256 of one-block messages, a message per 64-bit lane of AVX-512 registers.
#[cfg(target_arch = "x86_64")]
mod avx512 {
	use core::arch::x86_64::*;

	use proofgrid_primitives::merkle::Hash32;

	const IV: [u64; 8] = [
		0x6a09e667f3bcc908,
		0xbb67ae8584caa73b,
		0x3c6ef372fe94f82b,
		0xa54ff53a5f1d36f1,
		0x510e527fade682d1,
		0x9b05688c2b3e6c1f,
		0x1f83d9abfb41bd6b,
		0x5be0cd19137e2179,
	];

	const SIGMA: [[usize; 16]; 10] = [
		[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
		[14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
		[11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
		[7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
		[9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
		[2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
		[12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
		[13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
		[6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
		[10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
	];

	/// Word `w` (little-endian) of a message zero-padded to a 128-byte block: bytes
	/// `8w..8w + 8`, of which word 8 has only the message's last byte.
	#[inline(always)]
	fn word(message: &[u8; 65], w: usize) -> u64 {
		match message.get(8 * w..8 * w + 8) {
			Some(bytes) => u64::from_le_bytes(bytes.try_into().expect("8 bytes")),
			None => u64::from(message[64]),
		}
	}

	#[inline]
	#[target_feature(enable = "avx512f")]
	unsafe fn g(
		v: &mut [__m512i; 16],
		a: usize,
		b: usize,
		c: usize,
		d: usize,
		x: __m512i,
		y: __m512i,
	) {
		v[a] = _mm512_add_epi64(_mm512_add_epi64(v[a], v[b]), x);
		v[d] = _mm512_ror_epi64::<32>(_mm512_xor_si512(v[d], v[a]));
		v[c] = _mm512_add_epi64(v[c], v[d]);
		v[b] = _mm512_ror_epi64::<24>(_mm512_xor_si512(v[b], v[c]));
		v[a] = _mm512_add_epi64(_mm512_add_epi64(v[a], v[b]), y);
		v[d] = _mm512_ror_epi64::<16>(_mm512_xor_si512(v[d], v[a]));
		v[c] = _mm512_add_epi64(v[c], v[d]);
		v[b] = _mm512_ror_epi64::<63>(_mm512_xor_si512(v[b], v[c]));
	}

	/// BLAKE2b-256 (no key) of 8 messages of 65 bytes.
	#[target_feature(enable = "avx512f")]
	pub unsafe fn hash8(messages: &[[u8; 65]; 8]) -> [Hash32; 8] {
		// Message words, a message per lane; words 9..16 of a 65-byte message are 0.
		let mut m = [_mm512_setzero_si512(); 16];
		for (w, word_vector) in m.iter_mut().enumerate().take(9) {
			let mut lanes = [0u64; 8];
			for (lane, message) in lanes.iter_mut().zip(messages) {
				*lane = word(message, w);
			}
			*word_vector = _mm512_loadu_si512(lanes.as_ptr() as *const _);
		}
		// The parameter block: a 32-byte digest, no key, fanout 1, depth 1.
		let mut h = [_mm512_setzero_si512(); 8];
		for (i, word) in h.iter_mut().enumerate() {
			let iv = if i == 0 { IV[0] ^ 0x0101_0020 } else { IV[i] };
			*word = _mm512_set1_epi64(iv as i64);
		}
		let mut v = [_mm512_setzero_si512(); 16];
		v[..8].copy_from_slice(&h);
		for i in 0..4 {
			v[8 + i] = _mm512_set1_epi64(IV[i] as i64);
		}
		v[12] = _mm512_set1_epi64((IV[4] ^ 65) as i64); // bytes hashed: the whole message
		v[13] = _mm512_set1_epi64(IV[5] as i64);
		v[14] = _mm512_set1_epi64(!IV[6] as i64); // the last block
		v[15] = _mm512_set1_epi64(IV[7] as i64);
		for round in 0..12 {
			let s = &SIGMA[round % 10];
			g(&mut v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
			g(&mut v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
			g(&mut v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
			g(&mut v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
			g(&mut v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
			g(&mut v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
			g(&mut v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
			g(&mut v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
		}
		let mut out = [[0u8; 32]; 8];
		for i in 0..4 {
			let word = _mm512_xor_si512(h[i], _mm512_xor_si512(v[i], v[i + 8]));
			let mut lanes = [0u64; 8];
			_mm512_storeu_si512(lanes.as_mut_ptr() as *mut _, word);
			for (j, hash) in out.iter_mut().enumerate() {
				hash[8 * i..8 * i + 8].copy_from_slice(&lanes[j].to_le_bytes());
			}
		}
		out
	}
}

/// The leaf hashes of `leaves`: `merkle::hash_leaf(&encode_leaf(leaf))` of each.
pub fn leaf_hashes(leaves: &[[i32; LEAF_ELEMENTS]]) -> Vec<Hash32> {
	hash_65_with(leaves.len(), |i| {
		let mut message = [0u8; 65];
		message[1..].copy_from_slice(&encode_leaf(&leaves[i]));
		message
	})
}

/// The level above `below`, as `merkle::parent_level` builds it: pairs hashed with
/// `merkle::hash_node`, a lone last node carried up.
pub fn parent_level(below: &[Hash32]) -> Vec<Hash32> {
	let mut level = hash_65_with(below.len() / 2, |i| {
		let mut message = [1u8; 65];
		message[1..33].copy_from_slice(&below[2 * i]);
		message[33..].copy_from_slice(&below[2 * i + 1]);
		message
	});
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
	fn every_path_gives_the_definitions_hashes() {
		let messages: Vec<[u8; 65]> = (0..67u64)
			.map(|i| std::array::from_fn(|b| (mix64(i * 65 + b as u64) >> 7) as u8))
			.collect();
		// A leaf's or a node's hash is BLAKE2b-256 of its domain byte and 64 bytes.
		let definition: Vec<Hash32> =
			messages.iter().map(|m| sp_crypto_hashing::blake2_256(m)).collect();
		assert_eq!(hash_all(&messages), definition, "blake2b_simd");
		assert_eq!(hash_65(&messages), definition, "the best path here");
		#[cfg(target_arch = "x86_64")]
		if std::arch::is_x86_feature_detected!("avx512f") {
			for group in messages.chunks_exact(8) {
				// SAFETY: the CPU has AVX-512F.
				let eight = unsafe { avx512::hash8(group.try_into().unwrap()) };
				let expected: Vec<Hash32> =
					group.iter().map(|m| sp_crypto_hashing::blake2_256(m)).collect();
				assert_eq!(eight.to_vec(), expected);
			}
			println!("AVX-512: 8 hashes a pass, equal to the definition");
		} else {
			println!("SKIPPED: no AVX-512F here (the 8-lane path)");
		}
	}

	#[test]
	fn the_hashes_are_the_definitions() {
		let leaves: Vec<[i32; LEAF_ELEMENTS]> = (0..1000u64)
			.map(|i| std::array::from_fn(|e| mix64(i * 16 + e as u64) as i32))
			.collect();
		let hashes = leaf_hashes(&leaves);
		for (leaf, hash) in leaves.iter().zip(&hashes) {
			assert_eq!(*hash, merkle::hash_leaf(&encode_leaf(leaf)));
		}
		// Every width around the batch size and the 8 lanes, odd and even.
		for width in [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 255, 256, 257, 511, 512, 513, 1000] {
			assert_eq!(
				parent_level(&hashes[..width]),
				merkle::parent_level(&hashes[..width]),
				"width {width}"
			);
		}
	}
}
