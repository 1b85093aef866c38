//! A job's geometry on the device: lanes padded to 16 bytes, blocks of whole tile rows sized
//! to the free memory.

use super::*;

/// A job's geometry on the device (see `kernels/gemm_i8.cu`): lanes of `kp` bytes, `np` lanes
/// of `B`, blocks of `A` rounded up to 16 lanes, all padding zero.
#[derive(Clone, Copy, Debug)]
pub(super) struct Padded {
	pub(super) shape: GemmShape,
	pub(super) kp: u32,
	pub(super) np: u32,
	pub(super) tile_cols: u32,
}

impl Padded {
	pub(super) fn new(shape: &GemmShape) -> Self {
		Self {
			shape: *shape,
			kp: shape.k.next_multiple_of(16),
			np: shape.n.next_multiple_of(16),
			tile_cols: shape.tile_cols(),
		}
	}

	/// Lanes of `A` a block of `rows` tile rows holds.
	pub(super) fn a_rows(rows: u32) -> u32 {
		(rows * TILE).next_multiple_of(16)
	}

	/// Device bytes of `B`'s lanes.
	pub(super) fn b_bytes(&self) -> u64 {
		self.np as u64 * self.kp as u64
	}

	/// Device bytes of one slot for blocks of `rows` tile rows: `A`'s lanes, `C`, the hashes,
	/// cuBLASLt's workspace.
	pub(super) fn slot_bytes(&self, rows: u32) -> u64 {
		let a_rows = Self::a_rows(rows) as u64;
		a_rows * self.kp as u64
			+ a_rows * self.np as u64 * 4
			+ rows as u64 * self.tile_cols as u64 * 32
			+ cublaslt::WORKSPACE as u64
	}

	/// The most tile rows a block may have with `free` bytes for [`SLOTS`] slots (a multiple
	/// of 4 unless the whole job has fewer), at most a host batch; 0 if not even one fits.
	pub(super) fn block_rows(&self, free: u64) -> u32 {
		let tile_rows = self.shape.tile_rows();
		if tile_rows <= 4 {
			return if SLOTS as u64 * self.slot_bytes(tile_rows) <= free { tile_rows } else { 0 };
		}
		// A slot's bytes grow by the same amount per 4 tile rows (16 lanes of `A`).
		let per_four = self.slot_bytes(4) - self.slot_bytes(0);
		let fours = (free / SLOTS as u64).saturating_sub(self.slot_bytes(0)) / per_four;
		let batch = (crate::backend::rows_per_batch(&self.shape) / 4).max(1);
		(fours.min(batch as u64).min(tile_rows as u64 / 4) * 4) as u32
	}

	/// cuBLASLt's shape for a block of `rows` tile rows.
	pub(super) fn tn(&self, rows: u32) -> Result<TnShape> {
		TnShape::new(self.np as u64, Self::a_rows(rows) as u64, self.kp as u64)
	}
}

/// `count` lanes of `k` bytes from `lanes` (lane `first` first; lanes past its end are zero),
/// each padded to `kp` bytes: a supplied matrix laid out as the device wants it.
pub(super) fn pad_lanes(lanes: &[i8], k: usize, first: usize, count: usize, kp: usize) -> Vec<i8> {
	let mut out = vec![0i8; count * kp];
	for (dst, src) in out.chunks_exact_mut(kp).zip(lanes.chunks_exact(k).skip(first)) {
		dst[..k].copy_from_slice(src);
	}
	out
}
