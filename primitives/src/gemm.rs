//! The GEMM-i8 kernel's meaning: `C = A·B` with `A` m×k and `B` k×n of int8, accumulated exactly
//! in int32, and the layout of `C` into Merkle leaves.
//!
//! This is the one definition: the runtime recomputes revealed leaves with it, the worker's CPU
//! backend computes whole outputs with it, and the CUDA kernels are tested bit-for-bit against
//! it. Integer arithmetic makes the result identical on every machine whatever the summation
//! order.
//!
//! **Seeded inputs**: a counter-based hash, as cheap on a GPU thread as in wasm. With `mix` =
//! SplitMix64's finaliser, `γ` = [`GAMMA`] and wrapping arithmetic:
//! - `key` = the seed's four little-endian words folded as `key = mix(key + γ ⊕ word)`;
//! - a *lane* is a row of `A` or a column of `B`:
//!   `lane = mix(mix(key + γ ⊕ matrix) + γ ⊕ lane index)`;
//! - element `i` of a lane (`i` runs along the inner dimension `k`) is the top byte of
//!   `mix(lane + γ ⊕ i)` as `i8`.
//!
//! So `A[r][i]` = element `i` of lane `r` of `A`, and `B[i][c]` = element `i` of lane `c` of
//! `B`: one `mix` per element once a lane's key is known.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// Largest inner dimension: `k · 127 · 128 < 2^31`, so an int32 accumulator never overflows.
pub const MAX_K: u32 = 65_536;

/// Largest `m` or `n`.
pub const MAX_DIM: u32 = 1 << 20;

/// Output tile edge: a Merkle leaf is a `TILE`×`TILE` block of `C`.
pub const TILE: u32 = 4;

/// Elements in one leaf.
pub const LEAF_ELEMENTS: usize = (TILE * TILE) as usize;

/// Bytes of one encoded leaf: 16 little-endian `i32`.
pub const LEAF_BYTES: usize = LEAF_ELEMENTS * 4;

/// Operations in one work unit (a giga-operation).
pub const OPS_PER_UNIT: u128 = 1_000_000_000;

/// Index of matrix `A` in [`seeded_element`].
pub const MATRIX_A: u8 = 0;
/// Index of matrix `B` in [`seeded_element`].
pub const MATRIX_B: u8 = 1;

/// The shape of a GEMM: `A` is `m`×`k`, `B` is `k`×`n`, `C` is `m`×`n`.
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
pub struct GemmShape {
	/// Rows of `A` and `C`.
	pub m: u32,
	/// Columns of `B` and `C`.
	pub n: u32,
	/// Columns of `A`, rows of `B`: the inner dimension.
	pub k: u32,
}

/// Why a shape is refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ShapeError {
	/// A dimension is zero.
	Empty,
	/// `k` exceeds [`MAX_K`] (the int32 accumulator could overflow).
	InnerTooLarge,
	/// `m` or `n` exceeds [`MAX_DIM`].
	OuterTooLarge,
}

impl GemmShape {
	/// Checks the shape's bounds.
	pub fn validate(&self) -> Result<(), ShapeError> {
		if self.m == 0 || self.n == 0 || self.k == 0 {
			return Err(ShapeError::Empty);
		}
		if self.k > MAX_K {
			return Err(ShapeError::InnerTooLarge);
		}
		if self.m > MAX_DIM || self.n > MAX_DIM {
			return Err(ShapeError::OuterTooLarge);
		}
		Ok(())
	}

	/// Tile rows: `ceil(m / TILE)`.
	pub fn tile_rows(&self) -> u32 {
		self.m.div_ceil(TILE)
	}

	/// Tile columns: `ceil(n / TILE)`.
	pub fn tile_cols(&self) -> u32 {
		self.n.div_ceil(TILE)
	}

	/// Number of Merkle leaves of the output.
	pub fn leaf_count(&self) -> u64 {
		self.tile_rows() as u64 * self.tile_cols() as u64
	}

	/// Multiply-add operations counted as 2 each: `2·m·n·k`.
	pub fn ops(&self) -> u128 {
		2 * self.m as u128 * self.n as u128 * self.k as u128
	}

	/// Work units: whole giga-operations, rounded **down**, so no job is paid (or rewarded) for
	/// work it does not contain. A shape below one unit is not a job (the jobs pallet refuses
	/// it): the smallest jobs are about 2³⁰ operations, e.g. 1024×1024×512.
	pub fn work_units(&self) -> u64 {
		(self.ops() / OPS_PER_UNIT) as u64
	}

	/// The work a commit window is sized for: the operations plus `ops_per_leaf` for hashing each
	/// output leaf into the tree (a wide, shallow output costs more to hash than to compute).
	pub fn commit_work(&self, ops_per_leaf: u64) -> u128 {
		self.ops().saturating_add(u128::from(self.leaf_count()).saturating_mul(ops_per_leaf.into()))
	}

	/// The leaf holding element `(row, col)` of the output (its 4×4 tile, row-major).
	pub fn leaf_of(&self, row: u32, col: u32) -> u64 {
		u64::from(row / TILE) * u64::from(self.tile_cols()) + u64::from(col / TILE)
	}

	/// The tile (row, column) of leaf `index`.
	pub fn leaf_tile(&self, index: u64) -> (u32, u32) {
		let cols = self.tile_cols() as u64;
		((index / cols) as u32, (index % cols) as u32)
	}
}

/// SplitMix64's increment (the golden-ratio gamma). Added before each mix so that all-zero
/// inputs do not sit on the mixer's fixed point `mix64(0) = 0`.
pub const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// SplitMix64's finaliser: a cheap bijective mixer with good avalanche.
#[inline(always)]
pub const fn mix64(mut z: u64) -> u64 {
	z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
	z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
	z ^ (z >> 31)
}

/// The 64-bit key of a 32-byte seed: its four little-endian words folded through [`mix64`].
pub fn seed_key(seed: &[u8; 32]) -> u64 {
	let mut key = 0u64;
	for chunk in seed.chunks_exact(8) {
		let mut word = [0u8; 8];
		word.copy_from_slice(chunk);
		key = mix64(key.wrapping_add(GAMMA) ^ u64::from_le_bytes(word));
	}
	key
}

/// The key of one *lane* of a seeded matrix: a row of `A` or a column of `B`. Along a lane the
/// index runs over the inner dimension `k`, so a lane's key is computed once and each element
/// costs one [`mix64`].
#[inline(always)]
pub const fn lane_key(key: u64, matrix: u8, lane: u32) -> u64 {
	let x = mix64(key.wrapping_add(GAMMA) ^ matrix as u64);
	mix64(x.wrapping_add(GAMMA) ^ lane as u64)
}

/// Element `i` (along `k`) of a lane with key `lane_key`.
#[inline(always)]
pub const fn lane_element(lane_key: u64, i: u32) -> i8 {
	(mix64(lane_key.wrapping_add(GAMMA) ^ i as u64) >> 56) as u8 as i8
}

/// Element `(row, col)` of seeded matrix `matrix` (`MATRIX_A` or `MATRIX_B`) for a seed with
/// key `key` (see [`seed_key`]). `A[row][i]` lives on lane `row` of `A`, `B[i][col]` on lane
/// `col` of `B`.
pub fn seeded_element_with_key(key: u64, matrix: u8, row: u32, col: u32) -> i8 {
	if matrix == MATRIX_B {
		lane_element(lane_key(key, matrix, col), row)
	} else {
		lane_element(lane_key(key, matrix, row), col)
	}
}

/// Element `(row, col)` of seeded matrix `matrix` (`MATRIX_A` or `MATRIX_B`).
pub fn seeded_element(seed: &[u8; 32], matrix: u8, row: u32, col: u32) -> i8 {
	seeded_element_with_key(seed_key(seed), matrix, row, col)
}

/// The 16 output elements of leaf `index` of a seeded GEMM, row-major inside the tile; cells
/// past the edge of `C` (when `m` or `n` is not a multiple of [`TILE`]) are zero. Generates
/// the tile's 4 rows of `A` and 4 columns of `B` once each: `8·k` element draws and `16·k`
/// multiply-adds.
pub fn seeded_leaf(shape: &GemmShape, seed: &[u8; 32], index: u64) -> [i32; LEAF_ELEMENTS] {
	let key = seed_key(seed);
	let lane = |matrix: u8, at: u32| -> alloc::vec::Vec<i8> {
		let lane = lane_key(key, matrix, at);
		(0..shape.k).map(|i| lane_element(lane, i)).collect()
	};
	leaf_of_lanes(shape, index, |row| lane(MATRIX_A, row), |col| lane(MATRIX_B, col))
}

/// The 16 output elements of leaf `index`, row-major inside the tile, from the lanes behind
/// it: `row(r)` is row `r` of `A` and `col(c)` column `c` of `B`, each asked once, for the
/// tile's rows and columns inside `C` only; cells past the edge of `C` are zero.
pub fn leaf_of_lanes<L: AsRef<[i8]>>(
	shape: &GemmShape,
	index: u64,
	row: impl Fn(u32) -> L,
	col: impl Fn(u32) -> L,
) -> [i32; LEAF_ELEMENTS] {
	let (tile_row, tile_col) = shape.leaf_tile(index);
	let rows = (0..TILE).map(|r| tile_row * TILE + r).filter(|&r| r < shape.m);
	let cols = (0..TILE).map(|c| tile_col * TILE + c).filter(|&c| c < shape.n);
	let a_rows: alloc::vec::Vec<L> = rows.map(row).collect();
	let b_cols: alloc::vec::Vec<L> = cols.map(col).collect();
	let mut leaf = [0i32; LEAF_ELEMENTS];
	for (r, a_row) in a_rows.iter().enumerate() {
		for (c, b_col) in b_cols.iter().enumerate() {
			leaf[r * TILE as usize + c] = dot(a_row.as_ref(), b_col.as_ref());
		}
	}
	leaf
}

/// One element of `C`: the exact dot product of a row of `A` and a column of `B` (over their
/// common length). |sum| ≤ 65 536 · 128² = 2³⁰ for k ≤ [`MAX_K`], so it never overflows; the
/// sum wraps rather than panics on longer input.
pub fn dot(a: &[i8], b: &[i8]) -> i32 {
	a.iter().zip(b).fold(0i32, |acc, (&x, &y)| acc.wrapping_add(x as i32 * y as i32))
}

/// The leaf's bytes as hashed into the Merkle tree: 16 little-endian `i32`.
pub fn encode_leaf(leaf: &[i32; LEAF_ELEMENTS]) -> [u8; LEAF_BYTES] {
	let mut bytes = [0u8; LEAF_BYTES];
	for (i, v) in leaf.iter().enumerate() {
		bytes[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
	}
	bytes
}

/// Lays a full row-major `m`×`n` output out as leaves, in leaf-index order. For the CPU
/// backend and tests; the runtime only ever builds single leaves.
pub fn leaves_of(shape: &GemmShape, c: &[i32]) -> alloc::vec::Vec<[i32; LEAF_ELEMENTS]> {
	let mut leaves = alloc::vec::Vec::with_capacity(shape.leaf_count() as usize);
	for tile_row in 0..shape.tile_rows() {
		for tile_col in 0..shape.tile_cols() {
			let mut leaf = [0i32; LEAF_ELEMENTS];
			for r in 0..TILE {
				for col_in in 0..TILE {
					let (row, col) = (tile_row * TILE + r, tile_col * TILE + col_in);
					if row < shape.m && col < shape.n {
						leaf[(r * TILE + col_in) as usize] =
							c[row as usize * shape.n as usize + col as usize];
					}
				}
			}
			leaves.push(leaf);
		}
	}
	leaves
}

/// `B`'s columns, lane after lane, from a row-major `rows × cols` matrix: the layout `B` is
/// committed, uploaded and checked in (`lanes[c·rows + r] = B[r][c]`).
pub fn columns_of(values: &[i8], rows: usize, cols: usize) -> alloc::vec::Vec<i8> {
	let mut lanes = alloc::vec![0i8; rows * cols];
	for r in 0..rows {
		for c in 0..cols {
			lanes[c * rows + r] = values[r * cols + c];
		}
	}
	lanes
}

/// Why an output's leaf bytes are not the output committed to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OutputError {
	/// Not `leaf_count × LEAF_BYTES` bytes: `(found, expected)`.
	Length(u64, u64),
	/// The leaves' Merkle root is not the committed root.
	Root,
}

/// `C` row-major from an output's leaf bytes (16 little-endian `i32` per leaf, leaf order), if
/// they are the output committed as `root`: what a client checks a downloaded output with.
pub fn output_of_leaf_bytes(
	shape: &GemmShape,
	bytes: &[u8],
	root: &[u8; 32],
) -> Result<alloc::vec::Vec<i32>, OutputError> {
	let expected = shape.leaf_count() * LEAF_BYTES as u64;
	if bytes.len() as u64 != expected || expected == 0 {
		return Err(OutputError::Length(bytes.len() as u64, expected));
	}
	let leaves: alloc::vec::Vec<[i32; LEAF_ELEMENTS]> = bytes
		.chunks_exact(LEAF_BYTES)
		.map(|leaf| {
			let mut values = [0i32; LEAF_ELEMENTS];
			for (v, b) in values.iter_mut().zip(leaf.chunks_exact(4)) {
				*v = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
			}
			values
		})
		.collect();
	let hashes = leaves.iter().map(|l| crate::merkle::hash_leaf(&encode_leaf(l))).collect();
	let tree = crate::merkle::MerkleTree::from_leaf_hashes(hashes)
		.ok_or(OutputError::Length(0, expected))?;
	if &tree.root() != root {
		return Err(OutputError::Root);
	}
	let (m, n) = (shape.m as usize, shape.n as usize);
	let mut c = alloc::vec![0i32; m * n];
	for (index, leaf) in leaves.iter().enumerate() {
		let (tile_row, tile_col) = shape.leaf_tile(index as u64);
		for r in 0..TILE {
			for col in 0..TILE {
				let (i, j) = ((tile_row * TILE + r) as usize, (tile_col * TILE + col) as usize);
				if i < m && j < n {
					c[i * n + j] = leaf[(r * TILE + col) as usize];
				}
			}
		}
	}
	Ok(c)
}

#[cfg(test)]
mod tests {
	use super::*;

	const SEED: [u8; 32] = [7u8; 32];

	/// Straightforward full GEMM over seeded inputs, independent of the leaf code.
	fn reference_gemm(shape: &GemmShape, seed: &[u8; 32]) -> alloc::vec::Vec<i32> {
		let a: alloc::vec::Vec<i8> = (0..shape.m)
			.flat_map(|r| (0..shape.k).map(move |i| seeded_element(seed, MATRIX_A, r, i)))
			.collect();
		let b: alloc::vec::Vec<i8> = (0..shape.k)
			.flat_map(|i| (0..shape.n).map(move |c| seeded_element(seed, MATRIX_B, i, c)))
			.collect();
		let mut c = alloc::vec![0i32; (shape.m * shape.n) as usize];
		for r in 0..shape.m as usize {
			for i in 0..shape.k as usize {
				let a = a[r * shape.k as usize + i] as i32;
				for col in 0..shape.n as usize {
					c[r * shape.n as usize + col] += a * b[i * shape.n as usize + col] as i32;
				}
			}
		}
		c
	}

	#[test]
	fn generator_is_deterministic_and_seed_dependent() {
		let a = seeded_element(&SEED, MATRIX_A, 3, 5);
		assert_eq!(a, seeded_element(&SEED, MATRIX_A, 3, 5));
		let differs = (0..64u32).any(|i| {
			seeded_element(&SEED, MATRIX_A, i, 0) != seeded_element(&[8u8; 32], MATRIX_A, i, 0)
		});
		assert!(differs);
		let a_vs_b = (0..64u32).any(|i| {
			seeded_element(&SEED, MATRIX_A, i, 1) != seeded_element(&SEED, MATRIX_B, i, 1)
		});
		assert!(a_vs_b);
	}

	#[test]
	fn generator_pins_known_values() {
		// Fixed vectors: a change here changes every commitment ever made. Bump with care.
		let key = seed_key(&[0u8; 32]);
		let got: alloc::vec::Vec<i8> =
			(0..8).map(|c| seeded_element_with_key(key, MATRIX_A, 0, c)).collect();
		assert_eq!(got, KNOWN_ROW0);
	}
	const KNOWN_ROW0: [i8; 8] = [9, 32, 81, -100, 0, -88, -35, 51];

	#[test]
	fn generator_covers_the_whole_i8_range_evenly() {
		let mut counts = [0u32; 256];
		for r in 0..256 {
			for c in 0..256 {
				counts[seeded_element(&SEED, MATRIX_B, r, c) as u8 as usize] += 1;
			}
		}
		// 65 536 draws over 256 values: 256 expected each; a bad mixer is far outside this.
		assert!(counts.iter().all(|&n| (160..=360).contains(&n)), "{counts:?}");
	}

	#[test]
	fn leaves_match_a_full_reference_gemm_for_ragged_shapes() {
		for shape in [
			GemmShape { m: 1, n: 1, k: 1 },
			GemmShape { m: 5, n: 7, k: 3 },
			GemmShape { m: 8, n: 4, k: 33 },
			GemmShape { m: 13, n: 9, k: 17 },
		] {
			let c = reference_gemm(&shape, &SEED);
			let leaves = leaves_of(&shape, &c);
			assert_eq!(leaves.len() as u64, shape.leaf_count());
			for (i, leaf) in leaves.iter().enumerate() {
				assert_eq!(&seeded_leaf(&shape, &SEED, i as u64), leaf, "{shape:?} leaf {i}");
			}
		}
	}

	#[test]
	fn extreme_inputs_do_not_overflow_at_max_k() {
		// Worst case: every product is (-128)·(-128) = 16384; 65536 of them = 2^30 < 2^31.
		let worst = (MAX_K as i64) * 128 * 128;
		assert!(worst < i32::MAX as i64);
	}

	#[test]
	fn shapes_are_validated_and_counted() {
		assert_eq!(GemmShape { m: 0, n: 1, k: 1 }.validate(), Err(ShapeError::Empty));
		assert_eq!(
			GemmShape { m: 1, n: 1, k: MAX_K + 1 }.validate(),
			Err(ShapeError::InnerTooLarge)
		);
		assert_eq!(
			GemmShape { m: MAX_DIM + 1, n: 1, k: 1 }.validate(),
			Err(ShapeError::OuterTooLarge)
		);
		let s = GemmShape { m: 4096, n: 4096, k: 4096 };
		assert_eq!(s.validate(), Ok(()));
		assert_eq!(s.leaf_count(), 1024 * 1024);
		assert_eq!(s.work_units(), 137); // 2·4096³ = 137.4e9 ops, rounded down
		assert_eq!(GemmShape { m: 1024, n: 1024, k: 512 }.work_units(), 1);
		assert_eq!(GemmShape { m: 1, n: 1, k: 1 }.work_units(), 0);
		assert_eq!(GemmShape { m: 5, n: 9, k: 1 }.leaf_tile(5), (1, 2));
	}
}
