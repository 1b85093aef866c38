//! Which leaves a provider must reveal: derived from `hash(job, root, randomness)` where the
//! randomness is the VRF output of a block produced after the commitment (the *challenge
//! block*), so the provider cannot know the challenge when it commits, and the block's author
//! cannot re-roll it: a VRF output is fixed by the author's key and slot. See
//! `docs/PROTOCOL.md` (Challenge) for the bound when authors withhold blocks.
//!
//! Indices are drawn independently and uniformly (with replacement) and then deduplicated, so a
//! provider who faked a fraction `f` of the leaves passes with probability exactly `(1 − f)^k`:
//! `k = 64, f = 0.2` gives `6.3·10⁻⁷ < 2⁻²⁰`. The modulo reduction of a 64-bit draw biases an
//! index by at most `leaf_count / 2⁶⁴`, negligible for any real output.

use alloc::vec::Vec;
use sp_crypto_hashing::blake2_256;

use crate::merkle::Hash32;

/// Domain tag of challenge seeds.
pub const CHALLENGE_TAG: &[u8] = b"proofgrid/challenge";

/// The seed of job `job_id`'s challenge, for commitment `root` and the challenge block's
/// `randomness`.
pub fn challenge_seed(job_id: u64, root: &Hash32, randomness: &Hash32) -> Hash32 {
	let mut data = Vec::with_capacity(CHALLENGE_TAG.len() + 8 + 64);
	data.extend_from_slice(CHALLENGE_TAG);
	data.extend_from_slice(&job_id.to_le_bytes());
	data.extend_from_slice(root);
	data.extend_from_slice(randomness);
	blake2_256(&data)
}

/// `k` draws of a leaf index below `leaf_count` from `seed`, sorted and deduplicated. Empty if
/// the tree is empty.
pub fn challenge_indices(seed: &Hash32, leaf_count: u64, k: u32) -> Vec<u64> {
	if leaf_count == 0 {
		return Vec::new();
	}
	let mut indices: Vec<u64> = (0..k)
		.map(|draw| {
			let mut data = [0u8; 36];
			data[..32].copy_from_slice(seed);
			data[32..].copy_from_slice(&draw.to_le_bytes());
			let hash = blake2_256(&data);
			let mut word = [0u8; 8];
			word.copy_from_slice(&hash[..8]);
			u64::from_le_bytes(word) % leaf_count
		})
		.collect();
	indices.sort_unstable();
	indices.dedup();
	indices
}

/// Probability that a provider who faked a fraction `f` of the leaves passes `k` draws.
pub fn pass_probability(f: f64, k: u32) -> f64 {
	let mut p = 1.0;
	for _ in 0..k {
		p *= 1.0 - f;
	}
	p
}

#[cfg(test)]
mod tests {
	use super::*;
	use codec::Encode;

	#[test]
	fn indices_are_deterministic_in_range_sorted_and_distinct() {
		let seed = challenge_seed(7, &[1u8; 32], &[2u8; 32]);
		let a = challenge_indices(&seed, 1000, 64);
		assert_eq!(a, challenge_indices(&seed, 1000, 64));
		assert!(a.iter().all(|&i| i < 1000));
		assert!(a.windows(2).all(|w| w[0] < w[1]));
		assert!(!a.is_empty() && a.len() <= 64);
		assert!(challenge_indices(&seed, 0, 64).is_empty());
		assert_eq!(challenge_indices(&seed, 1, 64), vec![0]);
	}

	#[test]
	fn every_input_changes_the_seed() {
		let base = challenge_seed(1, &[1u8; 32], &[2u8; 32]);
		assert_ne!(base, challenge_seed(2, &[1u8; 32], &[2u8; 32]));
		assert_ne!(base, challenge_seed(1, &[3u8; 32], &[2u8; 32]));
		assert_ne!(base, challenge_seed(1, &[1u8; 32], &[3u8; 32]));
	}

	#[test]
	fn design_bound_holds() {
		let p = pass_probability(0.2, 64);
		assert!(p < 1.0 / (1u64 << 20) as f64, "{p}");
		assert!((p - 6.3e-7).abs() < 0.1e-7, "{p}");
	}

	/// A cheater who faked a fraction `f` of the leaves is caught as often as `(1 − f)^k` says:
	/// over many challenge blocks, count how often no challenged leaf is a faked one.
	#[test]
	fn observed_pass_rate_matches_the_formula() {
		let leaf_count = 10_000u64;
		let trials = 4_000u32;
		for (f, k) in [(0.2, 8u32), (0.3, 4), (0.05, 16)] {
			// Faked leaves: every index whose hash lands below f (a fixed, spread-out set).
			let faked = |i: u64| (blake2_256(&i.to_le_bytes())[0] as f64) < f * 256.0;
			let fraction = (0..leaf_count).filter(|&i| faked(i)).count() as f64 / leaf_count as f64;
			let passes = (0..trials)
				.filter(|t| {
					let seed = challenge_seed(*t as u64, &[9u8; 32], &[*t as u8; 32]);
					challenge_indices(&seed, leaf_count, k).iter().all(|&i| !faked(i))
				})
				.count();
			let observed = passes as f64 / trials as f64;
			let expected = pass_probability(fraction, k);
			let sigma = (expected * (1.0 - expected) / trials as f64).sqrt();
			println!(
				"f = {fraction:.3}, k = {k}: observed pass rate {observed:.4}, (1-f)^k = {expected:.4}"
			);
			assert!((observed - expected).abs() < 5.0 * sigma, "{observed} vs {expected}");
		}
	}

	/// An author who controls `a` of the blocks that could feed a challenge can withhold its
	/// blocks and so choose among at most `2^a` challenges: the cheater passes if any of them
	/// misses every faked leaf, which happens at most `2^a` times as often as with one.
	#[test]
	fn withholding_multiplies_the_pass_rate_by_at_most_two_to_the_a() {
		let leaf_count = 10_000u64;
		let trials = 4_000u32;
		let k = 8u32;
		let faked = |i: u64| (blake2_256(&i.to_le_bytes())[0] as f64) < 0.3 * 256.0;
		let fraction = (0..leaf_count).filter(|&i| faked(i)).count() as f64 / leaf_count as f64;
		let single = pass_probability(fraction, k);
		for a in [1u32, 2, 3] {
			let choices = 1u64 << a;
			let passes = (0..trials)
				.filter(|t| {
					(0..choices).any(|c| {
						let randomness = blake2_256(&(*t as u64, c).encode());
						let seed = challenge_seed(*t as u64, &[9u8; 32], &randomness);
						challenge_indices(&seed, leaf_count, k).iter().all(|&i| !faked(i))
					})
				})
				.count();
			let observed = passes as f64 / trials as f64;
			let bound = choices as f64 * single;
			let sigma = (bound * (1.0 - bound.min(1.0)) / trials as f64).sqrt().max(1e-3);
			println!(
				"a = {a}: best of {choices} challenges passes {observed:.4}; 2^a·(1-f)^k = {bound:.4}, one challenge {single:.4}"
			);
			assert!(observed <= bound + 5.0 * sigma, "{observed} > {bound}");
			assert!(observed > single, "choosing among challenges helps the cheater");
		}
	}
}
