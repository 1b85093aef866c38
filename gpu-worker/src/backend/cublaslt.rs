//! The CUDA backend's GEMM through cuBLASLt: int8 × int8 → int32, exact.
//!
//! cudarc's safe `Matmul` takes one element type for A, B and C with a float scale, which for
//! int8 selects the saturating int8-output mode; so this module uses its `result` functions and
//! `sys` enums: compute type `CUBLAS_COMPUTE_32I`, scale type `CUDA_R_32I`, α = 1 and β = 0 as
//! `i32`. Every sum is exact: |Σ| ≤ 128² · 65 536 = 2³⁰ < 2³¹.
//!
//! **Layout.** cuBLASLt is column-major. The backend stores A's rows and B's columns as lanes
//! of `kp` bytes (`Padded` in `cuda/layout.rs`), so, read column-major with a leading dimension of
//! `kp`, B's lanes are the `kp × np` matrix B itself and A's lanes are the `kp × rows` matrix
//! Aᵀ. The product asked of cuBLASLt is `D = op(X)·Y` with X = B's lanes transposed and Y = A's
//! lanes as they are ("TN", the layout int8 wants on Hopper): D is `np × rows` column-major,
//! which is C (`rows × np`) row-major, exactly what `pg_hash_tiles` reads. `kp`, `np` and
//! `rows` are multiples of 16 and the buffers 256-byte aligned, above cuBLASLt's int8
//! requirement of 4.
//!
//! **Trust.** cuBLAS has had int8 bugs, so an algorithm is used only after it has computed a
//! product of all −128s of the same dimensions exactly on this GPU (`CudaBackend` checks it);
//! the worker also spot-checks leaves on the CPU before it commits.
//!
//! The library is loaded at run time; cudarc panics when it is missing, so nothing here is
//! called unless [`present`] says it loads.

use std::{ffi::c_void, mem::size_of, ptr};

use anyhow::{bail, Context, Result};
use cudarc::{
	cublaslt::{
		result::{self, CublasError},
		sys::{
			self, cublasComputeType_t, cublasLtMatmulDescAttributes_t as DescAttr,
			cublasLtMatmulHeuristicResult_t, cublasLtMatmulPreferenceAttributes_t as PrefAttr,
			cudaDataType,
		},
	},
	driver::{CudaContext, CudaSlice, CudaStream, DevicePtr, DevicePtrMut},
};

/// The library the worker loads.
pub const LIBRARY: &str = "libcublasLt.so.13";
/// Workspace an algorithm may use, bytes (per stream).
pub const WORKSPACE: usize = 32 << 20;
/// Algorithms asked of the heuristic, tried in its order until one is exact.
pub const CANDIDATES: usize = 8;

/// Whether cuBLASLt can be loaded on this host (no GPU needed).
pub fn present() -> bool {
	// SAFETY: only tries to open the library; nothing is called.
	unsafe { sys::is_culib_present() }
}

/// One block's product as cuBLASLt sees it: `np` lanes of B, `rows` lanes of A, `kp` bytes a
/// lane (see the module's documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TnShape {
	/// B's lanes: the rows of D, a multiple of 16.
	pub np: u64,
	/// A's lanes: the columns of D, a multiple of 16.
	pub rows: u64,
	/// Bytes of a lane: the inner dimension, a multiple of 16.
	pub kp: u64,
}

impl TnShape {
	/// The product of `rows` lanes of A by `np` lanes of B, `kp` bytes each.
	pub fn new(np: u64, rows: u64, kp: u64) -> Result<Self> {
		if [np, rows, kp].iter().any(|&d| d == 0 || d % 16 != 0) {
			bail!("cuBLASLt dimensions must be non-zero multiples of 16: {np} × {rows} × {kp}");
		}
		Ok(Self { np, rows, kp })
	}

	/// `(rows, cols, leading dimension)` of cuBLASLt's A (B's lanes, transposed by the op), B
	/// (A's lanes) and D (C, row-major), column-major.
	pub fn layouts(&self) -> [(u64, u64, i64); 3] {
		let Self { np, rows, kp } = *self;
		[(kp, np, kp as i64), (kp, rows, kp as i64), (np, rows, np as i64)]
	}

	/// Bytes of D.
	pub fn d_bytes(&self) -> u64 {
		self.np * self.rows * 4
	}
}

/// The matmul descriptor and matrix layouts of one [`TnShape`]. Needs the library, not a GPU.
pub struct Descriptors {
	shape: TnShape,
	desc: sys::cublasLtMatmulDesc_t,
	/// A, B and D (C is D: β = 0).
	layouts: [sys::cublasLtMatrixLayout_t; 3],
}

// SAFETY: descriptors are plain host objects, used by one thread at a time (the backend keeps
// them under a `Mutex`).
unsafe impl Send for Descriptors {}

impl Descriptors {
	/// Creates the descriptors: int32 compute and scale, A transposed, int8 A and B, int32 D.
	pub fn new(shape: TnShape) -> Result<Self, CublasError> {
		let desc = result::create_matmul_desc(
			cublasComputeType_t::CUBLAS_COMPUTE_32I,
			cudaDataType::CUDA_R_32I,
		)?;
		let mut made = Self { shape, desc, layouts: [ptr::null_mut(); 3] };
		// CUBLAS_OP_T = 1, CUBLAS_OP_N = 0 (cublasOperation_t is an int32).
		for (attr, op) in [
			(DescAttr::CUBLASLT_MATMUL_DESC_TRANSA, 1i32),
			(DescAttr::CUBLASLT_MATMUL_DESC_TRANSB, 0),
		] {
			// SAFETY: `desc` is live; the attribute is an int32 read from `op`.
			unsafe {
				result::set_matmul_desc_attribute(
					made.desc,
					attr,
					&op as *const i32 as *const c_void,
					size_of::<i32>(),
				)?
			};
		}
		let types = [cudaDataType::CUDA_R_8I, cudaDataType::CUDA_R_8I, cudaDataType::CUDA_R_32I];
		for (i, ((rows, cols, ld), ty)) in shape.layouts().into_iter().zip(types).enumerate() {
			made.layouts[i] = result::create_matrix_layout(ty, rows, cols, ld)?;
		}
		Ok(made)
	}

	/// The shape these describe.
	pub fn shape(&self) -> TnShape {
		self.shape
	}
}

impl Drop for Descriptors {
	fn drop(&mut self) {
		// SAFETY: each was created by this value and is destroyed once; errors are moot here.
		unsafe {
			for layout in self.layouts {
				if !layout.is_null() {
					let _ = result::destroy_matrix_layout(layout);
				}
			}
			let _ = result::destroy_matmul_desc(self.desc);
		}
	}
}

/// A chosen algorithm for one shape, with its descriptors.
pub struct Plan {
	descriptors: Descriptors,
	algo: cublasLtMatmulHeuristicResult_t,
	/// Its rank in the heuristic's list (0 = the heuristic's first choice).
	pub rank: usize,
}

impl Plan {
	/// The shape it computes.
	pub fn shape(&self) -> TnShape {
		self.descriptors.shape
	}

	/// Workspace the algorithm needs, bytes.
	pub fn workspace(&self) -> usize {
		self.algo.workspaceSize
	}
}

/// A cuBLASLt handle on one GPU.
pub struct Handle(sys::cublasLtHandle_t);

// SAFETY: a cuBLASLt handle may be used from any thread; the backend serialises its use (a
// `Mutex` around the handle and its plans).
unsafe impl Send for Handle {}

impl Handle {
	/// A handle on `ctx`'s GPU. Fails where the library loads but there is no GPU.
	pub fn new(ctx: &CudaContext) -> Result<Self> {
		if !present() {
			bail!("{LIBRARY} cannot be loaded");
		}
		ctx.bind_to_thread()?;
		Ok(Self(result::create_handle().context("cublasLtCreate")?))
	}

	/// The heuristic's algorithms for `shape` within [`WORKSPACE`], best first, as plans (none
	/// where cuBLASLt supports no algorithm for it).
	pub fn candidates(&self, shape: TnShape) -> Result<Vec<Plan>> {
		let pref = result::create_matmul_pref()?;
		let found = (|| {
			// SAFETY: `pref` is live; the attribute is a u64 (size_t) read from `WORKSPACE`.
			let max = WORKSPACE as u64;
			unsafe {
				result::set_matmul_pref_attribute(
					pref,
					PrefAttr::CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
					&max as *const u64 as *const c_void,
					size_of::<u64>(),
				)?
			};
			let probe = Descriptors::new(shape)?;
			// SAFETY: all-zero bytes are a valid (empty) heuristic result, overwritten below.
			let mut results: Vec<cublasLtMatmulHeuristicResult_t> =
				vec![unsafe { std::mem::zeroed() }; CANDIDATES];
			let mut count = 0i32;
			let [a, b, d] = probe.layouts;
			// SAFETY: live handle, descriptor, layouts and preference; `results` holds
			// CANDIDATES entries and `count` receives how many were written.
			let status = unsafe {
				sys::cublasLtMatmulAlgoGetHeuristic(
					self.0,
					probe.desc,
					a,
					b,
					d,
					d,
					pref,
					CANDIDATES as i32,
					results.as_mut_ptr(),
					&mut count,
				)
			};
			// "Not supported" is the answer for a configuration no algorithm takes: none.
			if status == sys::cublasStatus_t::CUBLAS_STATUS_NOT_SUPPORTED {
				count = 0;
			} else {
				status.result()?;
			}
			results.truncate(count.clamp(0, CANDIDATES as i32) as usize);
			Ok::<_, CublasError>(results)
		})();
		// SAFETY: created above, destroyed once.
		unsafe { result::destroy_matmul_pref(pref) }?;
		let mut plans = Vec::new();
		for (rank, algo) in found?.into_iter().enumerate() {
			if algo.state == sys::cublasStatus_t::CUBLAS_STATUS_SUCCESS
				&& algo.workspaceSize <= WORKSPACE
			{
				plans.push(Plan { descriptors: Descriptors::new(shape)?, algo, rank });
			}
		}
		Ok(plans)
	}

	/// `c` (C, `rows × np` int32 row-major) = the product of `a` (`rows` lanes of A) and `bt`
	/// (`np` lanes of B), on `stream`.
	pub fn run(
		&self,
		plan: &Plan,
		stream: &CudaStream,
		a: &CudaSlice<i8>,
		bt: &CudaSlice<i8>,
		c: &mut CudaSlice<i32>,
		workspace: &mut CudaSlice<u8>,
	) -> Result<()> {
		let shape = plan.shape();
		if (a.len() as u64) < shape.rows * shape.kp
			|| (bt.len() as u64) < shape.np * shape.kp
			|| (c.len() as u64) < shape.np * shape.rows
			|| workspace.len() < plan.workspace()
		{
			bail!("buffers too small for {shape:?}");
		}
		let (alpha, beta) = (1i32, 0i32);
		let [la, lb, ld] = plan.descriptors.layouts;
		// The guards record the reads and writes on `stream`, so that other streams wait.
		let (a_ptr, _a) = a.device_ptr(stream);
		let (b_ptr, _b) = bt.device_ptr(stream);
		let (c_ptr, _c) = c.device_ptr_mut(stream);
		let (w_ptr, _w) = workspace.device_ptr_mut(stream);
		// SAFETY: every buffer is at least as large as its layout (checked above) and lives
		// until the guards drop after the call is queued; α and β are int32 as the scale type.
		unsafe {
			result::matmul(
				self.0,
				plan.descriptors.desc,
				&alpha as *const i32 as *const c_void,
				&beta as *const i32 as *const c_void,
				b_ptr as *const c_void,
				la,
				a_ptr as *const c_void,
				lb,
				c_ptr as *const c_void,
				ld,
				c_ptr as *mut c_void,
				ld,
				&plan.algo.algo,
				w_ptr as *mut c_void,
				plan.workspace(),
				stream.cu_stream() as sys::cudaStream_t,
			)
		}
		.with_context(|| format!("cublasLtMatmul {shape:?}"))
	}
}

impl Drop for Handle {
	fn drop(&mut self) {
		// SAFETY: created by `new`, destroyed once.
		let _ = unsafe { result::destroy_handle(self.0) };
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn shapes_must_be_multiples_of_16() {
		assert!(TnShape::new(16, 32, 64).is_ok());
		for (np, rows, kp) in [(0, 16, 16), (16, 8, 16), (17, 16, 16), (16, 16, 4)] {
			assert!(TnShape::new(np, rows, kp).is_err(), "{np} {rows} {kp}");
		}
	}

	/// cuBLASLt's definition of `D = op(A)·B` with op = transpose, column-major, applied to the
	/// layouts `TnShape` gives, on the backend's buffers: it must be C = A·B, row-major.
	#[test]
	fn the_tn_layouts_compute_c_row_major_from_the_lanes() {
		let (m, n, k) = (5usize, 7usize, 9usize);
		let shape = TnShape::new(16, 16, 16).unwrap();
		let (np, rows, kp) = (shape.np as usize, shape.rows as usize, shape.kp as usize);
		let a = |i: usize, l: usize| ((i * 31 + l * 7) % 255) as i32 - 127;
		let b = |l: usize, j: usize| ((l * 13 + j * 5) % 251) as i32 - 125;
		// The backend's buffers: lanes of kp bytes, zero past k and past m or n.
		let mut a_lanes = vec![0i8; rows * kp];
		let mut b_lanes = vec![0i8; np * kp];
		for l in 0..k {
			for i in 0..m {
				a_lanes[i * kp + l] = a(i, l) as i8;
			}
			for j in 0..n {
				b_lanes[j * kp + l] = b(l, j) as i8;
			}
		}
		// cuBLASLt's A is B's lanes (transposed by the op), its B is A's lanes.
		let [(ar, ac, lda), (br, bc, ldb), (dr, dc, ldd)] = shape.layouts();
		assert_eq!((ar, br), (shape.kp, shape.kp), "the inner dimension is the lanes'");
		let mut d = vec![0i32; np * rows];
		for col in 0..dc as usize {
			for row in 0..dr as usize {
				// op(A)(row, l) = A(l, row) = a_mem[l + row·lda]; B(l, col) = b_mem[l + col·ldb].
				d[row + col * ldd as usize] = (0..ar as usize)
					.map(|l| {
						b_lanes[l + row * lda as usize] as i32
							* a_lanes[l + col * ldb as usize] as i32
					})
					.sum();
			}
		}
		assert_eq!((ac, bc), (shape.np, shape.rows));
		for i in 0..rows {
			for j in 0..np {
				let want = if i < m && j < n { (0..k).map(|l| a(i, l) * b(l, j)).sum() } else { 0 };
				assert_eq!(d[i * np + j], want, "C[{i}][{j}]");
			}
		}
	}

	/// Where the library loads (scripts/setup.sh installs it): the descriptors and layouts of
	/// the int8 → int32 product are accepted; without a GPU `cublasLtCreate` fails, and says so.
	#[test]
	fn descriptors_are_made_where_the_library_loads() {
		if !present() {
			println!("SKIPPED: {LIBRARY} does not load here (scripts/setup.sh installs it)");
			return;
		}
		for (np, rows, kp) in [(16, 16, 16), (8192, 2048, 8192), (1 << 20, 16, 65_536)] {
			let shape = TnShape::new(np, rows, kp).unwrap();
			let made = Descriptors::new(shape).unwrap_or_else(|e| panic!("{shape:?}: {e}"));
			assert_eq!(made.shape(), shape);
			assert!(made.layouts.iter().all(|l| !l.is_null()));
		}
		if crate::backend::cuda::driver_present() {
			println!("a CUDA driver is present: the handle is tested with the GPU tests");
		} else {
			let e = result::create_handle().expect_err("no GPU, no handle");
			println!("without a GPU, cublasLtCreate fails as expected: {e}");
		}
	}
}
