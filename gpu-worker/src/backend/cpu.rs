//! The CPU backend: the reference implementation, multithreaded with rayon.
//!
//! `B` is generated once as `n` lanes of `k` elements (its columns, contiguous). The GEMM is
//! oneDNN's exact int8 matmul where it loads and proves exact (`onednn.rs`: CPUs with AVX-512
//! VNNI or AMX), a batch of `A`'s rows at a time; otherwise each thread takes a group of tile
//! rows, generates their rows of `A`, and computes every 4×4 tile against `B`'s lanes with the
//! best dot product this CPU has (`dot.rs`). Then the leaves are hashed, multi-buffer. Memory:
//! `n·k` bytes for `B`, a batch of `A`'s rows and of `C`.

use anyhow::{bail, Context, Result};
use proofgrid_primitives::{
	device::{ComputeCapability, DeviceSpec, Kernel, KernelSet},
	gemm::{lane_element, lane_key, seed_key, GemmShape, LEAF_ELEMENTS, MATRIX_A, MATRIX_B, TILE},
};
use rayon::prelude::*;
use std::sync::Arc;

use super::{
	dot::{DotFn, DotPath},
	onednn::OneDnn,
	Backend, Inputs, LeafHash, LeafSink, Phases,
};

const TILE_USIZE: usize = TILE as usize;

/// The CPU as a compute device.
pub struct CpuBackend {
	pool: rayon::ThreadPool,
	threads: usize,
	memory_mib: u64,
	dot: DotPath,
	/// oneDNN's GEMM, when it loaded and proved exact here; else the tiles on `dot`.
	onednn: Option<Arc<OneDnn>>,
}

impl CpuBackend {
	/// A backend with `threads` worker threads (0: one per core) that takes jobs needing at
	/// most `memory_mib` MiB.
	pub fn new(threads: usize, memory_mib: u64) -> Result<Self> {
		let pool = rayon::ThreadPoolBuilder::new()
			.num_threads(threads)
			.thread_name(|i| format!("cpu-backend-{i}"))
			.build()
			.context("starting the CPU backend's threads")?;
		let threads = pool.current_num_threads();
		let onednn = match OneDnn::shared() {
			Ok(dnnl) => {
				tracing::info!("CPU GEMM: {}", dnnl.version());
				Some(dnnl)
			}
			Err(reason) => {
				tracing::info!("CPU GEMM: own tiles ({reason:#})");
				None
			}
		};
		Ok(Self { pool, threads, memory_mib, dot: DotPath::best(), onednn })
	}

	/// The same backend with its dot product on `path` and without oneDNN; `None` if this CPU
	/// lacks the path (tests force each path this way).
	pub fn with_dot(mut self, path: DotPath) -> Option<Self> {
		path.function()?;
		self.dot = path;
		self.onednn = None;
		Some(self)
	}

	/// The same backend with oneDNN as its GEMM; `None` if oneDNN is not usable here.
	pub fn with_onednn(mut self) -> Option<Self> {
		self.onednn = Some(OneDnn::shared().ok()?);
		Some(self)
	}

	/// Which GEMM this backend runs: `oneDNN 3.2.0` or its dot product path.
	pub fn gemm_name(&self) -> String {
		match &self.onednn {
			Some(dnnl) => dnnl.version().to_string(),
			None => self.dot.name().to_string(),
		}
	}

	/// Bytes a job needs: `B`'s lanes, `A`'s rows per thread, and a batch of the output (the
	/// rest of it streams to disk).
	pub fn memory_needed(&self, shape: &GemmShape) -> u64 {
		let b = shape.n as u64 * shape.k as u64;
		// A batch's leaf values (their hashes are counted as output).
		let leaves = super::rows_per_batch(shape) as u64 * shape.tile_cols() as u64 * LEAF_BYTES;
		let work = match self.onednn {
			// One oneDNN call's rows of `A`, `C` (and a slice's partial sums) and its leaves.
			Some(_) => {
				let tile_rows = tile_rows_per_library_call(shape) as u64;
				tile_rows * TILE as u64 * (shape.k as u64 + 2 * 4 * shape.n as u64)
					+ tile_rows * shape.tile_cols() as u64 * LEAF_BYTES
			}
			// Each task's rows of `A`.
			None => self.threads as u64 * TILE_ROWS_PER_TASK as u64 * TILE as u64 * shape.k as u64,
		};
		b + leaves + work + super::host_bytes_for_output(shape)
	}
}

/// The `k` elements of lane `lane` of `matrix`.
fn lane(key: u64, matrix: u8, index: u32, k: u32, out: &mut [i8]) {
	let lane = lane_key(key, matrix, index);
	for (i, x) in out.iter_mut().enumerate().take(k as usize) {
		*x = lane_element(lane, i as u32);
	}
}

impl Backend for CpuBackend {
	fn name(&self) -> String {
		format!("cpu({} threads, {})", self.threads, self.gemm_name())
	}

	fn is_reference(&self) -> bool {
		true
	}

	fn spec(&self) -> DeviceSpec {
		DeviceSpec {
			model: b"CPU reference backend".to_vec().try_into().expect("short name"),
			vram_mib: self.memory_mib.min(u32::MAX as u64) as u32,
			compute_capability: ComputeCapability { major: 0, minor: 0 },
			multiprocessors: self.threads.min(u16::MAX as usize) as u16,
			kernels: KernelSet::of(&[Kernel::GemmI8, Kernel::LinearI8]),
			// A conservative figure for a few cores; the chain trusts measurements, not this.
			advertised_gops: 2 * self.threads as u64,
		}
	}

	fn fits(&self, shape: &GemmShape) -> bool {
		shape.validate().is_ok() && self.memory_needed(shape) <= self.memory_mib << 20
	}

	fn phases(&self, shape: &GemmShape, seed: &[u8; 32]) -> Option<Result<Phases>> {
		Some(self.profile(shape, seed))
	}

	fn write_leaf_hashes(
		&self,
		shape: &GemmShape,
		inputs: Inputs,
		sink: &mut dyn LeafSink,
	) -> Result<()> {
		shape.validate().map_err(|e| anyhow::anyhow!("invalid shape {shape:?}: {e:?}"))?;
		let k = shape.k as usize;
		let (m, n) = (shape.m as usize, shape.n as usize);
		// `B`'s lanes: generated once for seeded inputs, the client's columns otherwise.
		let generated;
		let (b, a) = match inputs {
			Inputs::Seeded(seed) => {
				let key = seed_key(seed);
				generated = self.pool.install(|| -> Result<Vec<i8>> {
					let mut b = Vec::new();
					b.try_reserve_exact(n * k).context("host memory for B")?;
					b.resize(n * k, 0i8);
					b.par_chunks_mut(k)
						.enumerate()
						.for_each(|(col, out)| lane(key, MATRIX_B, col as u32, shape.k, out));
					Ok(b)
				})?;
				(&generated[..], RowsOfA::Seeded(key))
			}
			Inputs::Supplied { rows, cols } => {
				if rows.len() != m * k || cols.len() != n * k {
					bail!("the inputs are not {m}×{k} and {k}×{n}");
				}
				(cols, RowsOfA::Supplied(rows))
			}
		};
		let keep_values = matches!(inputs, Inputs::Supplied { .. });
		let batch = super::rows_per_batch(shape);
		let mut first = 0;
		while first < shape.tile_rows() {
			let rows = first..(first + batch).min(shape.tile_rows());
			first = rows.end;
			let leaves: Vec<[i32; LEAF_ELEMENTS]> = match &self.onednn {
				Some(dnnl) => self.library_leaves(dnnl, shape, &a, b, rows)?,
				None => self.pool.install(|| {
					let rows: Vec<u32> = rows.collect();
					rows.par_chunks(TILE_ROWS_PER_TASK)
						.flat_map_iter(|group| self.tile_rows(shape, &a, b, group))
						.collect()
				}),
			};
			if keep_values {
				sink.append_values(&leaves)?;
			}
			let hashes: Vec<LeafHash> = self.pool.install(|| {
				leaves
					.par_chunks(HASH_PIECE)
					.flat_map_iter(crate::backend::hashing::leaf_hashes)
					.collect()
			});
			sink.append(&hashes)?;
		}
		Ok(())
	}
}

impl CpuBackend {
	/// A seeded job phase by phase, for `bench`: generating `A` and `B` whole, the GEMM alone
	/// (every leaf's values), then hashing the leaves. Needs `A` and all leaves in memory, which
	/// a real job never holds.
	pub fn profile(&self, shape: &GemmShape, seed: &[u8; 32]) -> Result<Phases> {
		use std::time::Instant;
		let (m, n, k) = (shape.m as usize, shape.n as usize, shape.k as usize);
		let key = seed_key(seed);
		let started = Instant::now();
		let (a, b) = self.pool.install(|| {
			let generate = |count: usize, matrix: u8| {
				let mut lanes = vec![0i8; count * k];
				lanes.par_chunks_mut(k).enumerate().for_each(|(i, out)| {
					lane(key, matrix, i as u32, shape.k, out);
				});
				lanes
			};
			(generate(m, MATRIX_A), generate(n, MATRIX_B))
		});
		let generate = started.elapsed().as_secs_f64();
		let started = Instant::now();
		let rows = RowsOfA::Supplied(&a);
		let leaves: Vec<[i32; LEAF_ELEMENTS]> = match &self.onednn {
			Some(dnnl) => self.library_leaves(dnnl, shape, &rows, &b, 0..shape.tile_rows())?,
			None => self.pool.install(|| {
				let tile_rows: Vec<u32> = (0..shape.tile_rows()).collect();
				tile_rows
					.par_chunks(TILE_ROWS_PER_TASK)
					.flat_map_iter(|group| self.tile_rows(shape, &rows, &b, group))
					.collect()
			}),
		};
		let gemm = started.elapsed().as_secs_f64();
		let started = Instant::now();
		let hashes: Vec<LeafHash> = self.pool.install(|| {
			leaves
				.par_chunks(HASH_PIECE)
				.flat_map_iter(crate::backend::hashing::leaf_hashes)
				.collect()
		});
		let hash = started.elapsed().as_secs_f64();
		drop(leaves);
		let started = Instant::now();
		let mut level = hashes;
		self.pool.install(|| {
			while level.len() > 1 {
				level = level
					.par_chunks(1 << 12)
					.flat_map_iter(crate::backend::hashing::parent_level)
					.collect();
			}
		});
		std::hint::black_box(&level);
		let tree = started.elapsed().as_secs_f64();
		// The library alone on the same product: the GEMM's ceiling on this CPU.
		let library_gemm = match &self.onednn {
			Some(dnnl) => {
				let mut c = vec![0i32; m * n];
				let started = Instant::now();
				dnnl.gemm(self.threads, &a, m, &b, n, k, &mut c)?;
				Some((dnnl.version().to_string(), started.elapsed().as_secs_f64()))
			}
			None => None,
		};
		let gemm_and_hash = gemm + hash;
		Ok(Phases {
			generate,
			gemm,
			gemm_and_hash,
			download: 0.0,
			tree,
			device_tree: None,
			library_gemm,
		})
	}
}

impl CpuBackend {
	/// The leaves of tile rows `tile_rows` through oneDNN, in leaf order, a bounded number of
	/// tile rows per call ([`tile_rows_per_library_call`]).
	fn library_leaves(
		&self,
		dnnl: &OneDnn,
		shape: &GemmShape,
		a_rows: &RowsOfA,
		b: &[i8],
		tile_rows: std::ops::Range<u32>,
	) -> Result<Vec<[i32; LEAF_ELEMENTS]>> {
		let mut leaves = Vec::new();
		leaves
			.try_reserve_exact(tile_rows.len() * shape.tile_cols() as usize)
			.context("host memory for the leaves")?;
		let step = tile_rows_per_library_call(shape);
		let mut first = tile_rows.start;
		while first < tile_rows.end {
			let part = first..(first + step).min(tile_rows.end);
			first = part.end;
			leaves.extend(self.library_call(dnnl, shape, a_rows, b, part)?);
		}
		Ok(leaves)
	}

	/// The leaves of tile rows `tile_rows` in one oneDNN call: their rows of `A` (generated in
	/// parallel for seeded inputs) times `B`'s lanes `b` into `C`, then cut into 4×4 leaves
	/// (cells past the edge are 0), in leaf order.
	fn library_call(
		&self,
		dnnl: &OneDnn,
		shape: &GemmShape,
		a_rows: &RowsOfA,
		b: &[i8],
		tile_rows: std::ops::Range<u32>,
	) -> Result<Vec<[i32; LEAF_ELEMENTS]>> {
		let (n, k) = (shape.n as usize, shape.k as usize);
		let first_row = (tile_rows.start * TILE) as usize;
		let end_row = (tile_rows.end * TILE).min(shape.m) as usize;
		let rows = end_row.saturating_sub(first_row);
		let generated;
		let a: &[i8] = match a_rows {
			RowsOfA::Seeded(key) => {
				generated = self.pool.install(|| {
					let mut a = vec![0i8; rows * k];
					a.par_chunks_mut(k.max(1)).enumerate().for_each(|(r, out)| {
						lane(*key, MATRIX_A, (first_row + r) as u32, shape.k, out)
					});
					a
				});
				&generated
			}
			RowsOfA::Supplied(all) => &all[first_row * k..end_row * k],
		};
		let mut c = Vec::new();
		c.try_reserve_exact(rows * n).context("host memory for C")?;
		c.resize(rows * n, 0i32);
		dnnl.gemm(self.threads, a, rows, b, n, k, &mut c)?;
		let tile_cols = shape.tile_cols() as usize;
		let mut leaves = vec![[0i32; LEAF_ELEMENTS]; tile_rows.len() * tile_cols];
		self.pool.install(|| {
			leaves.par_chunks_mut(tile_cols.max(1)).enumerate().for_each(|(t, row_of_leaves)| {
				let top = t * TILE_USIZE;
				for (tile_col, leaf) in row_of_leaves.iter_mut().enumerate() {
					let left = tile_col * TILE_USIZE;
					for r in 0..TILE_USIZE.min(rows.saturating_sub(top)) {
						let row = &c[(top + r) * n..(top + r + 1) * n];
						for col in 0..TILE_USIZE.min(n - left) {
							leaf[r * TILE_USIZE + col] = row[left + col];
						}
					}
				}
			})
		});
		Ok(leaves)
	}
}

/// Bytes of `A` and `C` one oneDNN call takes at most: enough rows for the library to run at
/// full speed (hundreds at k = 4096), few enough that a long `k` does not take the memory a
/// job's output batch was sized for.
const LIBRARY_CALL_BYTES: u64 = 16 << 20;

/// Bytes of one output row's `A` row (`k`) and `C` row (`4·n`).
fn lane_bytes(shape: &GemmShape) -> u64 {
	shape.k as u64 + 4 * shape.n as u64
}

/// Bytes of one leaf's values.
const LEAF_BYTES: u64 = 4 * LEAF_ELEMENTS as u64;

/// Tile rows per oneDNN call (see [`LIBRARY_CALL_BYTES`]), at least one.
fn tile_rows_per_library_call(shape: &GemmShape) -> u32 {
	let rows = LIBRARY_CALL_BYTES / (TILE as u64 * lane_bytes(shape)).max(1);
	rows.min(super::rows_per_batch(shape) as u64).max(1) as u32
}

/// Where a tile row's rows of `A` come from.
enum RowsOfA<'a> {
	/// Generated from the seed's key.
	Seeded(u64),
	/// The client's rows, row-major.
	Supplied(&'a [i8]),
}

/// Leaves one task hashes (multi-buffer, in batches).
const HASH_PIECE: usize = 4096;

/// Tile rows one task computes together: each column of `B` is loaded once for all of them
/// (32 rows of `A` stay in the core's cache), not once per tile row.
const TILE_ROWS_PER_TASK: usize = 8;

impl CpuBackend {
	/// The leaves of consecutive tile rows `group` of the output, against `B`'s lanes `b`, in
	/// leaf order.
	fn tile_rows(
		&self,
		shape: &GemmShape,
		a_rows: &RowsOfA,
		b: &[i8],
		group: &[u32],
	) -> Vec<[i32; LEAF_ELEMENTS]> {
		let (Some(&first_tile_row), Some(&last_tile_row)) = (group.first(), group.last()) else {
			return Vec::new();
		};
		let k = shape.k as usize;
		let dot: DotFn = self.dot.function().unwrap_or(super::dot::portable);
		let tile = self.dot.tile();
		let sum_of = |first_col: usize, c: usize| match tile {
			Some(_) if first_col + c < shape.n as usize => {
				let col = first_col + c;
				super::dot::column_sum(&b[col * k..(col + 1) * k])
			}
			_ => 0,
		};
		let first_row = (first_tile_row * TILE) as usize;
		let end_row = ((last_tile_row + 1) * TILE).min(shape.m) as usize;
		let mut generated = Vec::new();
		let a: &[i8] = match a_rows {
			RowsOfA::Seeded(key) => {
				generated.resize((end_row - first_row) * k, 0i8);
				for (r, out) in generated.chunks_exact_mut(k).enumerate() {
					lane(*key, MATRIX_A, (first_row + r) as u32, shape.k, out);
				}
				&generated
			}
			RowsOfA::Supplied(rows) => &rows[first_row * k..end_row * k],
		};
		// Rows and columns past the output's edge are lanes of zeros: cells of 0.
		let zero = vec![0i8; if tile.is_some() { k } else { 0 }];
		let rows = end_row - first_row;
		let row_of = |r: usize| if r < rows { &a[r * k..(r + 1) * k] } else { &zero[..] };
		let tile_cols = shape.tile_cols() as usize;
		let mut leaves = vec![[0i32; LEAF_ELEMENTS]; group.len() * tile_cols];
		// Column-major over the group: a tile column's lanes are reused by every tile row.
		for tile_col in 0..tile_cols {
			let first_col = tile_col * TILE_USIZE;
			let live_cols = (shape.n as usize - first_col).min(TILE_USIZE);
			let col_of = |c: usize| {
				if c < live_cols {
					&b[(first_col + c) * k..(first_col + c + 1) * k]
				} else {
					&zero[..]
				}
			};
			let sums = [0, 1, 2, 3].map(|c| sum_of(first_col, c));
			for local in 0..group.len() {
				let leaf = &mut leaves[local * tile_cols + tile_col];
				let top = local * TILE_USIZE;
				match tile {
					Some(tile) => {
						let rows = [0, 1, 2, 3].map(|r| row_of(top + r));
						*leaf = tile(rows, [0, 1, 2, 3].map(col_of), sums)
					}
					None => {
						for r in 0..rows.saturating_sub(top).min(TILE_USIZE) {
							let a_row = row_of(top + r);
							for c in 0..live_cols {
								leaf[r * TILE_USIZE + c] = dot(a_row, col_of(c));
							}
						}
					}
				}
			}
		}
		leaves
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::backend::Collect;
	use proofgrid_primitives::{
		gemm::{encode_leaf, seeded_leaf},
		merkle::hash_leaf,
	};

	/// Shapes that are and are not multiples of the tile, including a single partial tile.
	const SHAPES: [(u32, u32, u32); 6] =
		[(4, 4, 1), (8, 12, 16), (5, 7, 3), (1, 1, 1), (33, 17, 65), (64, 3, 200)];

	#[test]
	fn matches_the_primitives_definition_leaf_for_leaf() {
		let backend = CpuBackend::new(2, 1024).unwrap();
		for (m, n, k) in SHAPES {
			let shape = GemmShape { m, n, k };
			let seed = [m as u8 ^ 0x5a; 32];
			let expected: Vec<LeafHash> = (0..shape.leaf_count())
				.map(|i| hash_leaf(&encode_leaf(&seeded_leaf(&shape, &seed, i))))
				.collect();
			assert_eq!(backend.leaf_hashes(&shape, &seed).unwrap(), expected, "{shape:?}");
		}
	}

	#[test]
	fn every_dot_path_gives_the_definitions_leaves() {
		let shape = GemmShape { m: 33, n: 17, k: 65 };
		let reference = CpuBackend::new(2, 64)
			.unwrap()
			.with_dot(DotPath::Portable)
			.unwrap()
			.leaf_hashes(&shape, &[3; 32])
			.unwrap();
		for path in DotPath::ALL {
			match CpuBackend::new(2, 64).unwrap().with_dot(path) {
				Some(backend) => assert_eq!(
					backend.leaf_hashes(&shape, &[3; 32]).unwrap(),
					reference,
					"{}",
					path.name()
				),
				None => println!("SKIPPED: this CPU has no {} path", path.name()),
			}
		}
	}

	#[test]
	fn the_onednn_gemm_gives_the_definitions_leaves_and_values() {
		let Some(library) = CpuBackend::new(2, 64).unwrap().with_onednn() else {
			println!("SKIPPED: oneDNN unavailable here ({:#})", OneDnn::shared().err().unwrap());
			return;
		};
		let tiles = CpuBackend::new(2, 64).unwrap().with_dot(DotPath::Portable).unwrap();
		println!("{} against {}", library.name(), tiles.name());
		for (m, n, k) in SHAPES.into_iter().chain([(129, 67, 1000)]) {
			let shape = GemmShape { m, n, k };
			let seed = [k as u8; 32];
			let expected = tiles.leaf_hashes(&shape, &seed).unwrap();
			assert_eq!(library.leaf_hashes(&shape, &seed).unwrap(), expected, "{shape:?}");
		}
	}

	#[test]
	fn the_profile_times_every_phase() {
		let backend = CpuBackend::new(2, 64).unwrap();
		let phases = backend.profile(&GemmShape { m: 64, n: 64, k: 64 }, &[1; 32]).unwrap();
		assert!(phases.generate > 0.0 && phases.gemm > 0.0 && phases.gemm_and_hash > phases.gemm);
		assert!(phases.tree > 0.0);
		assert_eq!(phases.download, 0.0);
		assert_eq!(phases.library_gemm.is_some(), backend.onednn.is_some());
	}

	#[test]
	fn thread_count_does_not_change_the_result() {
		let shape = GemmShape { m: 37, n: 29, k: 41 };
		let one = CpuBackend::new(1, 64).unwrap().leaf_hashes(&shape, &[1; 32]).unwrap();
		let two = CpuBackend::new(2, 64).unwrap().leaf_hashes(&shape, &[1; 32]).unwrap();
		assert_eq!(one, two);
	}

	#[test]
	fn refuses_jobs_that_do_not_fit_and_invalid_shapes() {
		let backend = CpuBackend::new(1, 32).unwrap();
		assert!(backend.fits(&GemmShape { m: 64, n: 64, k: 64 }));
		assert!(!backend.fits(&GemmShape { m: 4096, n: 4096, k: 4096 }));
		assert!(!backend.fits(&GemmShape { m: 0, n: 4, k: 4 }));
		assert!(backend.leaf_hashes(&GemmShape { m: 0, n: 4, k: 4 }, &[0; 32]).is_err());
	}

	#[test]
	fn supplied_inputs_give_the_reference_product_and_their_values() {
		use proofgrid_primitives::testing::supplied::SuppliedJob;
		let backend = CpuBackend::new(2, 64).unwrap();
		for (m, n, k) in SHAPES {
			let job = SuppliedJob::new(m, n, k, 3);
			let (rows, cols) = (job.rows.concat(), job.cols.concat());
			let mut out = Collect(Vec::new(), Vec::new());
			let inputs = Inputs::Supplied { rows: &rows, cols: &cols };
			backend.write_leaf_hashes(&job.shape, inputs, &mut out).unwrap();
			assert_eq!(out.0, job.leaves, "{m}×{n}×{k}");
			let hashes: Vec<LeafHash> =
				job.leaves.iter().map(|l| hash_leaf(&encode_leaf(l))).collect();
			assert_eq!(out.1, hashes);
		}
		let job = SuppliedJob::new(8, 8, 4, 3);
		let short = Inputs::Supplied { rows: &[0; 31], cols: &[0; 32] };
		assert!(backend.write_leaf_hashes(&job.shape, short, &mut Vec::new()).is_err());
	}
}
