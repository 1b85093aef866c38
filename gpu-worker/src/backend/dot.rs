//! The exact int8 dot product of the CPU backend, with the widest instructions the CPU it runs
//! on has, chosen once at run time (one binary serves every x86-64 machine; never
//! `target-cpu=native`). Every path equals `proofgrid_primitives::gemm::dot` bit for bit.
//!
//! - **AVX-512 VNNI**: a whole 4×4 output tile at once (16 dot products sharing their loads),
//!   64 bytes per step with `vpdpbusd`, which multiplies *unsigned* by signed bytes and adds
//!   each 4 products into a 32-bit sum without saturation. The signed row is made unsigned by
//!   flipping its top bit (`a ^ 0x80 = a + 128`), and the excess `128·Σb` is subtracted at the
//!   end. Exact: a 32-bit lane gathers at most `k/16` groups of four products of at most
//!   255·128, 255·128·k < 2³¹ at `MAX_K` (2 139 095 040), and the result, `A·B`, is at most 2³⁰.
//! - **AVX2**: sign-extends 16 bytes of each lane to 16-bit values and multiplies-adds pairs
//!   into 32-bit sums (`vpmaddwd`). Exact: a product is at most 2¹⁴ in magnitude, a pair 2¹⁵,
//!   and each 32-bit sum gathers at most `k / 8` pairs (2²⁸ at `MAX_K`).
//! - **Portable**: the plain loop (what a baseline x86-64 build compiles to `pmullw` steps).

/// A dot product of two int8 lanes of one length.
pub type DotFn = fn(&[i8], &[i8]) -> i32;

/// The 16 dot products of 4 rows and 4 columns (all lanes of one length), row-major: one
/// output tile. The third argument is each column's sum ([`column_sum`]), computed once per
/// column rather than once per tile.
pub type TileFn = fn([&[i8]; 4], [&[i8]; 4], [i32; 4]) -> [i32; 16];

/// The sum of a lane's values (what [`TileFn`]s take for each column).
pub fn column_sum(lane: &[i8]) -> i32 {
	lane.iter().map(|&x| i32::from(x)).sum()
}

/// The instruction sets the backend can use for its dot product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DotPath {
	/// The plain loop.
	Portable,
	/// AVX2 `vpmaddwd` on sign-extended bytes.
	Avx2,
	/// AVX-512 VNNI `vpdpbusd`, a 4×4 tile at once.
	Avx512Vnni,
}

impl DotPath {
	/// Every path, most capable last.
	pub const ALL: [DotPath; 3] = [DotPath::Portable, DotPath::Avx2, DotPath::Avx512Vnni];

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
			#[cfg(target_arch = "x86_64")]
			DotPath::Avx512Vnni if has_avx512_vnni() => Some(|a, b| {
				let zero = vec![0i8; a.len()];
				vnni_tile(
					[a, &zero, &zero, &zero],
					[b, &zero, &zero, &zero],
					[column_sum(b), 0, 0, 0],
				)[0]
			}),
			DotPath::Avx2 | DotPath::Avx512Vnni => None,
		}
	}

	/// The path's whole-tile function, if it has one and this CPU can run it (the others
	/// compute a tile dot product by dot product).
	pub fn tile(self) -> Option<TileFn> {
		match self {
			#[cfg(target_arch = "x86_64")]
			DotPath::Avx512Vnni if has_avx512_vnni() => Some(vnni_tile),
			_ => None,
		}
	}

	/// A short name for logs and `bench`.
	pub fn name(self) -> &'static str {
		match self {
			DotPath::Portable => "portable",
			DotPath::Avx2 => "avx2",
			DotPath::Avx512Vnni => "avx512-vnni",
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

#[cfg(target_arch = "x86_64")]
fn has_avx512_vnni() -> bool {
	std::arch::is_x86_feature_detected!("avx512f")
		&& std::arch::is_x86_feature_detected!("avx512bw")
		&& std::arch::is_x86_feature_detected!("avx512vnni")
}

#[cfg(target_arch = "x86_64")]
fn vnni_tile(rows: [&[i8]; 4], cols: [&[i8]; 4], col_sums: [i32; 4]) -> [i32; 16] {
	// Only handed out by `DotPath::tile` after the CPU was seen to support AVX-512 VNNI.
	unsafe { vnni_tile_unchecked(rows, cols, col_sums) }
}

/// # Safety
/// The CPU must support AVX-512 F, BW and VNNI.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn vnni_tile_unchecked(rows: [&[i8]; 4], cols: [&[i8]; 4], col_sums: [i32; 4]) -> [i32; 16] {
	use std::arch::x86_64::*;
	let len = rows.iter().chain(&cols).map(|l| l.len()).min().unwrap_or(0);
	let mut out = [0i32; 16];
	unsafe {
		let flip = _mm512_set1_epi8(i8::MIN);
		let mut acc = [_mm512_setzero_si512(); 16];
		let mut i = 0;
		while i < len {
			// The last step loads only the bytes left (the rest read as 0: no products).
			let mask: __mmask64 = if len - i >= 64 { !0 } else { (1u64 << (len - i)) - 1 };
			let load = |lane: &[i8]| _mm512_maskz_loadu_epi8(mask, lane.as_ptr().add(i));
			let r = [0, 1, 2, 3].map(|x| _mm512_xor_si512(load(rows[x]), flip));
			let c = [0, 1, 2, 3].map(|x| load(cols[x]));
			for (y, col) in c.iter().enumerate() {
				for (x, row) in r.iter().enumerate() {
					acc[x * 4 + y] = _mm512_dpbusd_epi32(acc[x * 4 + y], *row, *col);
				}
			}
			i += 64;
		}
		for (cell, value) in out.iter_mut().enumerate() {
			// Σ (a + 128)·b − 128·Σ b, in wrapping arithmetic: exact, since the result fits.
			*value = _mm512_reduce_add_epi32(acc[cell])
				.wrapping_sub(col_sums[cell % 4].wrapping_mul(128));
		}
	}
	out
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

	#[test]
	fn every_tile_path_this_cpu_has_equals_the_definition() {
		let lane = |len: usize, salt: u64| -> Vec<i8> {
			(0..len as u64).map(|i| (mix64(i ^ salt) >> 56) as i8).collect()
		};
		for path in DotPath::ALL {
			let Some(tile) = path.tile() else {
				println!(
					"SKIPPED: no {} tile path (the CPU lacks it, or the path has none)",
					path.name()
				);
				continue;
			};
			// Every length around the 64-byte steps, and long lanes.
			for len in (0..140).chain([255, 256, 257, 4096, 4099]) {
				let rows: Vec<Vec<i8>> = (0..4).map(|x| lane(len, x)).collect();
				let cols: Vec<Vec<i8>> = (4..8).map(|y| lane(len, y)).collect();
				let tile_of = |r: &[Vec<i8>], c: &[Vec<i8>]| {
					let sums = [0, 1, 2, 3].map(|y| column_sum(&c[y]));
					tile([&r[0], &r[1], &r[2], &r[3]], [&c[0], &c[1], &c[2], &c[3]], sums)
				};
				let expected: Vec<i32> =
					(0..16).map(|cell| dot(&rows[cell / 4], &cols[cell % 4])).collect();
				assert_eq!(
					tile_of(&rows, &cols).to_vec(),
					expected,
					"{} at k = {len}",
					path.name()
				);
			}
			// The extremes at the largest k: all −128 (2³⁰ each), −128 against 127, 127 against
			// −128 and 127 against 127.
			let (low, high) = (vec![-128i8; MAX_K as usize], vec![127i8; MAX_K as usize]);
			let cols: [&[i8]; 4] = [&low, &low, &high, &high];
			let got = tile([&low, &high, &low, &high], cols, cols.map(column_sum));
			for (cell, value) in got.iter().enumerate() {
				let (r, c) =
					([&low, &high, &low, &high][cell / 4], [&low, &low, &high, &high][cell % 4]);
				assert_eq!(*value, dot(r, c), "{} cell {cell}", path.name());
			}
			assert_eq!(got[0], 1 << 30);
		}
	}
}
