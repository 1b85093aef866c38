//! The exact int8 dot product of the CPU backend, with the widest instructions the CPU it runs
//! on has, chosen once at run time (one binary serves every x86-64 machine; never
//! `target-cpu=native`). Every path equals `proofgrid_primitives::gemm::dot` bit for bit.
//!
//! - **AVX2**: sign-extends 16 bytes of each lane to 16-bit values and multiplies-adds pairs
//!   into 32-bit sums (`vpmaddwd`). Exact: a product is at most 2¹⁴ in magnitude, a pair 2¹⁵,
//!   and each 32-bit sum gathers at most `k / 8` pairs (2²⁸ at `MAX_K`).
//! - **Portable**: the plain loop (what a baseline x86-64 build compiles to `pmullw` steps).

/// A dot product of two int8 lanes of one length.
pub type DotFn = fn(&[i8], &[i8]) -> i32;

/// The instruction sets the backend can use for its dot product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DotPath {
	/// The plain loop.
	Portable,
	/// AVX2 `vpmaddwd` on sign-extended bytes.
	Avx2,
}

impl DotPath {
	/// Every path, most capable last.
	pub const ALL: [DotPath; 2] = [DotPath::Portable, DotPath::Avx2];

	/// The best path this CPU runs.
	pub fn best() -> DotPath {
		Self::ALL.into_iter().rev().find(|p| p.function().is_some()).unwrap_or(DotPath::Portable)
	}

	/// The path's function, if this CPU can run it.
	pub fn function(self) -> Option<DotFn> {
		match self {
			DotPath::Portable => Some(portable),
			#[cfg(target_arch = "x86_64")]
			DotPath::Avx2 if std::arch::is_x86_feature_detected!("avx2") => Some(avx2),
			DotPath::Avx2 => None,
		}
	}

	/// A short name for logs and `bench`.
	pub fn name(self) -> &'static str {
		match self {
			DotPath::Portable => "portable",
			DotPath::Avx2 => "avx2",
		}
	}
}

/// Exact int8 dot product: |sum| ≤ 65 536 · 128² = 2³⁰ for k ≤ MAX_K, so i32 never overflows.
pub fn portable(a: &[i8], b: &[i8]) -> i32 {
	a.iter().zip(b).map(|(&x, &y)| x as i32 * y as i32).sum()
}

#[cfg(target_arch = "x86_64")]
fn avx2(a: &[i8], b: &[i8]) -> i32 {
	// Only handed out by `DotPath::function` after the CPU was seen to support AVX2.
	unsafe { avx2_unchecked(a, b) }
}

/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn avx2_unchecked(a: &[i8], b: &[i8]) -> i32 {
	use std::arch::x86_64::*;
	let len = a.len().min(b.len());
	let whole = len / 16 * 16;
	unsafe {
		let mut sums = _mm256_setzero_si256();
		let mut i = 0;
		while i < whole {
			// In bounds: i + 16 ≤ whole ≤ len of both.
			let x = _mm_loadu_si128(a.as_ptr().add(i) as *const __m128i);
			let y = _mm_loadu_si128(b.as_ptr().add(i) as *const __m128i);
			let products = _mm256_madd_epi16(_mm256_cvtepi8_epi16(x), _mm256_cvtepi8_epi16(y));
			sums = _mm256_add_epi32(sums, products);
			i += 16;
		}
		let half = _mm_add_epi32(_mm256_castsi256_si128(sums), _mm256_extracti128_si256(sums, 1));
		let quarter = _mm_add_epi32(half, _mm_shuffle_epi32(half, 0b01_00_11_10));
		let total = _mm_add_epi32(quarter, _mm_shuffle_epi32(quarter, 0b10_11_00_01));
		_mm_cvtsi128_si32(total) + portable(&a[whole..len], &b[whole..len])
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use proofgrid_primitives::gemm::{dot, mix64, MAX_K};

	#[test]
	fn every_path_this_cpu_has_equals_the_definition() {
		let lane = |len: usize, salt: u64| -> Vec<i8> {
			(0..len as u64).map(|i| (mix64(i ^ salt) >> 56) as i8).collect()
		};
		let mut tested = Vec::new();
		for path in DotPath::ALL {
			let Some(f) = path.function() else {
				println!("SKIPPED: this CPU has no {} path", path.name());
				continue;
			};
			// Every length around the 16-byte steps, and long lanes.
			for len in (0..70).chain([255, 256, 257, 4096, 4099]) {
				let (a, b) = (lane(len, 1), lane(len, 2));
				assert_eq!(f(&a, &b), dot(&a, &b), "{} at k = {len}", path.name());
			}
			// The extremes at the largest k: all −128 (2³⁰), and −128 against 127.
			let (low, high) = (vec![-128i8; MAX_K as usize], vec![127i8; MAX_K as usize]);
			assert_eq!(f(&low, &low), 1 << 30, "{}", path.name());
			assert_eq!(f(&low, &high), dot(&low, &high), "{}", path.name());
			tested.push(path.name());
		}
		println!(
			"dot paths equal to the definition: {tested:?}; best here: {}",
			DotPath::best().name()
		);
	}
}
