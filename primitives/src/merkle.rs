//! The output commitment: a binary Merkle tree over blake2-256 with domain-separated leaves and
//! inner nodes.
//!
//! - leaf hash = `blake2_256(0x00 ‖ leaf bytes)`, node hash = `blake2_256(0x01 ‖ left ‖ right)`:
//!   a leaf can never be passed off as a node or the other way round;
//! - a level with an odd number of nodes carries its last node up unchanged (no duplication, so
//!   no two different leaf lists share a root);
//! - the verifier knows the leaf count, so the exact proof length for an index is known and any
//!   other length is refused, as is an index out of range.

use alloc::vec::Vec;
use sp_crypto_hashing::blake2_256;

/// A 32-byte hash.
pub type Hash32 = [u8; 32];

/// Deepest Merkle path accepted: trees of up to 2^40 leaves.
pub const MAX_PROOF_DEPTH: u32 = 40;

/// One Merkle path as the chain takes it: sibling hashes, bottom up.
pub type MerklePath = sp_runtime::BoundedVec<sp_core::H256, sp_core::ConstU32<MAX_PROOF_DEPTH>>;

/// Domain tag of leaf hashes.
pub const LEAF_PREFIX: u8 = 0x00;
/// Domain tag of inner-node hashes.
pub const NODE_PREFIX: u8 = 0x01;

/// Hash of a leaf's bytes.
pub fn hash_leaf(bytes: &[u8]) -> Hash32 {
	let mut data = Vec::with_capacity(bytes.len() + 1);
	data.push(LEAF_PREFIX);
	data.extend_from_slice(bytes);
	blake2_256(&data)
}

/// Hash of an inner node.
pub fn hash_node(left: &Hash32, right: &Hash32) -> Hash32 {
	let mut data = [0u8; 65];
	data[0] = NODE_PREFIX;
	data[1..33].copy_from_slice(left);
	data[33..].copy_from_slice(right);
	blake2_256(&data)
}

/// Why a proof is refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ProofError {
	/// The tree has no leaves.
	EmptyTree,
	/// The index is not below the leaf count.
	IndexOutOfRange,
	/// The proof has more or fewer siblings than the path of this index needs.
	WrongLength,
	/// The path does not lead to the root.
	RootMismatch,
}

/// Number of siblings on the path of leaf `index` in a tree of `leaf_count` leaves.
pub fn proof_len(leaf_count: u64, index: u64) -> Result<usize, ProofError> {
	if leaf_count == 0 {
		return Err(ProofError::EmptyTree);
	}
	if index >= leaf_count {
		return Err(ProofError::IndexOutOfRange);
	}
	let (mut width, mut i, mut len) = (leaf_count, index, 0);
	while width > 1 {
		// The last node of an odd level has no sibling: it moves up as it is.
		if !(i == width - 1 && width % 2 == 1) {
			len += 1;
		}
		i /= 2;
		width = width.div_ceil(2);
	}
	Ok(len)
}

/// Checks that `leaf_hash` is leaf `index` of the tree with `leaf_count` leaves and root `root`.
pub fn verify(
	root: &Hash32,
	leaf_count: u64,
	index: u64,
	leaf_hash: Hash32,
	proof: &[Hash32],
) -> Result<(), ProofError> {
	if proof.len() != proof_len(leaf_count, index)? {
		return Err(ProofError::WrongLength);
	}
	let (mut width, mut i, mut hash) = (leaf_count, index, leaf_hash);
	let mut siblings = proof.iter();
	while width > 1 {
		if !(i == width - 1 && width % 2 == 1) {
			let sibling = siblings.next().ok_or(ProofError::WrongLength)?;
			hash = if i % 2 == 0 { hash_node(&hash, sibling) } else { hash_node(sibling, &hash) };
		}
		i /= 2;
		width = width.div_ceil(2);
	}
	if &hash == root {
		Ok(())
	} else {
		Err(ProofError::RootMismatch)
	}
}

/// The level above `below`: each pair of nodes hashed, a lone last node carried up unchanged.
/// Provers that build a level in pieces pass pieces of even length (all but the last).
pub fn parent_level(below: &[Hash32]) -> Vec<Hash32> {
	below
		.chunks(2)
		.map(|pair| match pair {
			[left, right] => hash_node(left, right),
			[lone] => *lone,
			_ => unreachable!("chunks(2) yields one or two"),
		})
		.collect()
}

/// The width of each level of a tree of `leaf_count` leaves, from the leaves up to the root
/// (empty for no leaves).
pub fn level_widths(leaf_count: u64) -> Vec<u64> {
	let mut widths = Vec::new();
	let mut width = leaf_count;
	while width > 0 {
		widths.push(width);
		if width == 1 {
			break;
		}
		width = width.div_ceil(2);
	}
	widths
}

/// A whole tree kept in memory, level by level (level 0 = leaf hashes). For provers (the worker,
/// tests); the runtime only verifies.
#[derive(Clone, Debug)]
pub struct MerkleTree {
	levels: Vec<Vec<Hash32>>,
}

impl MerkleTree {
	/// Builds the tree over already-hashed leaves. `None` if there are none.
	pub fn from_leaf_hashes(leaves: Vec<Hash32>) -> Option<Self> {
		if leaves.is_empty() {
			return None;
		}
		let mut levels = alloc::vec![leaves];
		while levels.last().map_or(0, Vec::len) > 1 {
			let above = parent_level(levels.last().expect("levels is never empty"));
			levels.push(above);
		}
		Some(Self { levels })
	}

	/// The root.
	pub fn root(&self) -> Hash32 {
		self.levels.last().and_then(|top| top.first()).copied().unwrap_or_default()
	}

	/// Number of leaves.
	pub fn leaf_count(&self) -> u64 {
		self.levels[0].len() as u64
	}

	/// The siblings on the path of leaf `index`, bottom up.
	pub fn proof(&self, index: u64) -> Result<Vec<Hash32>, ProofError> {
		if index >= self.leaf_count() {
			return Err(ProofError::IndexOutOfRange);
		}
		let mut proof = Vec::new();
		let mut i = index as usize;
		for level in &self.levels[..self.levels.len() - 1] {
			let sibling = i ^ 1;
			if sibling < level.len() {
				proof.push(level[sibling]);
			}
			i /= 2;
		}
		Ok(proof)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use proptest::prelude::*;

	fn tree(n: u64) -> (MerkleTree, Vec<Hash32>) {
		let leaves: Vec<Hash32> = (0..n).map(|i| hash_leaf(&i.to_le_bytes())).collect();
		(MerkleTree::from_leaf_hashes(leaves.clone()).expect("non-empty"), leaves)
	}

	#[test]
	fn single_leaf_tree_is_its_leaf() {
		let (t, leaves) = tree(1);
		assert_eq!(t.root(), leaves[0]);
		assert_eq!(t.proof(0).unwrap(), Vec::<Hash32>::new());
		assert_eq!(verify(&t.root(), 1, 0, leaves[0], &[]), Ok(()));
	}

	#[test]
	fn leaves_and_nodes_are_domain_separated() {
		let (a, b) = (hash_leaf(b"a"), hash_leaf(b"b"));
		let node = hash_node(&a, &b);
		let mut as_leaf = a.to_vec();
		as_leaf.extend_from_slice(&b);
		assert_ne!(node, hash_leaf(&as_leaf));
	}

	#[test]
	fn empty_tree_and_bad_indices_are_refused() {
		assert!(MerkleTree::from_leaf_hashes(Vec::new()).is_none());
		assert_eq!(proof_len(0, 0), Err(ProofError::EmptyTree));
		let (t, leaves) = tree(5);
		assert_eq!(t.proof(5), Err(ProofError::IndexOutOfRange));
		assert_eq!(verify(&t.root(), 5, 5, leaves[4], &[]), Err(ProofError::IndexOutOfRange));
	}

	#[test]
	fn odd_levels_carry_the_last_node_up() {
		// 3 leaves: root = node(node(l0, l1), l2), and l2's proof is one sibling.
		let (t, l) = tree(3);
		assert_eq!(t.root(), hash_node(&hash_node(&l[0], &l[1]), &l[2]));
		assert_eq!(t.proof(2).unwrap(), vec![hash_node(&l[0], &l[1])]);
		assert_eq!(proof_len(3, 2), Ok(1));
		assert_eq!(proof_len(3, 0), Ok(2));
	}

	#[test]
	fn level_widths_match_the_tree() {
		assert!(level_widths(0).is_empty());
		assert_eq!(level_widths(1), vec![1]);
		assert_eq!(level_widths(5), vec![5, 3, 2, 1]);
		for n in 1..40u64 {
			let (t, _) = tree(n);
			let widths: Vec<u64> = t.levels.iter().map(|l| l.len() as u64).collect();
			assert_eq!(level_widths(n), widths, "{n} leaves");
		}
	}

	proptest! {
		#![proptest_config(ProptestConfig::with_cases(64))]

		#[test]
		fn every_leaf_proves_and_verifies(n in 1u64..200, seed in any::<u64>()) {
			let (t, leaves) = tree(n);
			let index = seed % n;
			let proof = t.proof(index).unwrap();
			prop_assert_eq!(proof.len(), proof_len(n, index).unwrap());
			prop_assert_eq!(verify(&t.root(), n, index, leaves[index as usize], &proof), Ok(()));
		}

		#[test]
		fn tampered_leaf_path_or_index_is_refused(n in 2u64..200, seed in any::<u64>(), flip in any::<u8>()) {
			let (t, leaves) = tree(n);
			let index = seed % n;
			let proof = t.proof(index).unwrap();
			let root = t.root();

			// Another leaf's hash at this index.
			let other = leaves[((index + 1) % n) as usize];
			prop_assert_eq!(verify(&root, n, index, other, &proof), Err(ProofError::RootMismatch));

			// A flipped bit anywhere in the path.
			if !proof.is_empty() {
				let mut bad = proof.clone();
				let at = (seed as usize / 7) % bad.len();
				bad[at][flip as usize % 32] ^= 1 << (flip % 8);
				prop_assert_eq!(verify(&root, n, index, leaves[index as usize], &bad), Err(ProofError::RootMismatch));
			}

			// The right leaf claimed at another index.
			let moved = (index + 1) % n;
			let result = verify(&root, n, moved, leaves[index as usize], &proof);
			prop_assert!(result.is_err());

			// A proof one sibling too long or too short.
			let mut long = proof.clone();
			long.push([0u8; 32]);
			prop_assert_eq!(verify(&root, n, index, leaves[index as usize], &long), Err(ProofError::WrongLength));
			if !proof.is_empty() {
				let short = &proof[..proof.len() - 1];
				prop_assert_eq!(verify(&root, n, index, leaves[index as usize], short), Err(ProofError::WrongLength));
			}

			// (The leaf count is not checked against the root: the verifier takes it from the
			// job's shape on chain, never from the prover.)
		}
	}
}
