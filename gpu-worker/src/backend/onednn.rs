//! oneDNN's int8 matmul (s8 · s8 → s32) as the CPU backend's GEMM, behind a thin safe wrapper.
//!
//! The library is loaded at run time (`dlopen`), so the worker runs without it: `scripts/setup.sh`
//! unpacks PyPI's `onednn-cpu-gomp` wheel (oneDNN 3.2, OpenMP threads) into ProofGrid's cache,
//! and [`OneDnn::shared`] looks there, in `$PROOFGRID_ONEDNN_LIB`, and on the system's library
//! path. Only oneDNN's VNNI and AMX paths are exact: its older paths (AVX-512 without VNNI,
//! AVX2, SSE4.1) multiply through saturating int16 pairs. So [`OneDnn::shared`] refuses a CPU
//! without AVX-512 VNNI, and then proves exactness on the values that would saturate (127 ·
//! 127 and −128 · −128 over a long inner dimension) before it is used: a wrong GEMM would be
//! slashed on chain.
//!
//! Even on VNNI, oneDNN 3.2's fast int8 matmul (`brg:avx512_core_vnni`, or its AMX variant)
//! hands its int32 accumulators to the destination through `f32` (measured here: 127 · 127 over
//! k = 4099 came out as 66 112 772, one more than the exact 66 112 771, the nearest `f32`). A
//! float holds every integer up to 2²⁴ exactly, and a product of two int8 values is at most 2¹⁴
//! in size, so the GEMM runs in slices of [`EXACT_K`] = 2¹⁰ of the inner dimension, each exact,
//! summed here in int32. (A job with k ≤ 1024 is one dense call on that fast kernel; the slices
//! of a longer k are strided, which oneDNN runs on its integer `gemm:jit` instead — exact
//! either way, and the load-time probe runs both.)
//!
//! The library is loaded once per process ([`OneDnn::shared`]) and never unloaded: its OpenMP
//! threads outlive any one backend.

use std::{
	ffi::c_void,
	path::PathBuf,
	sync::{Arc, Mutex, OnceLock},
};

use anyhow::{anyhow, bail, Context, Result};

type Status = i32;
type Handle = *mut c_void;

const SUCCESS: Status = 0;
const ENGINE_CPU: i32 = 1;
const STREAM_IN_ORDER: u32 = 1;
const DATA_S32: i32 = 4;
const DATA_S8: i32 = 5;
const ARG_SRC: i32 = 1;
const ARG_DST: i32 = 17;
const ARG_WEIGHTS: i32 = 33;
/// `DNNL_MAX_NDIMS`: a dims array's length in the C API.
const MAX_NDIMS: usize = 12;

/// The longest slice of the inner dimension one oneDNN call takes: its sums stay within
/// ±2¹⁴·2¹⁰ = ±2²⁴, which the library's `f32` conversion keeps exact.
pub const EXACT_K: usize = 1 << 10;

#[repr(C)]
struct ExecArg {
	arg: i32,
	memory: Handle,
}

#[repr(C)]
struct Version {
	major: i32,
	minor: i32,
	patch: i32,
	hash: *const std::ffi::c_char,
	cpu_runtime: u32,
	gpu_runtime: u32,
}

/// The C functions used, resolved from the library.
struct Api {
	engine_create: unsafe extern "C" fn(*mut Handle, i32, usize) -> Status,
	engine_destroy: unsafe extern "C" fn(Handle) -> Status,
	stream_create: unsafe extern "C" fn(*mut Handle, Handle, u32) -> Status,
	stream_wait: unsafe extern "C" fn(Handle) -> Status,
	stream_destroy: unsafe extern "C" fn(Handle) -> Status,
	memory_desc_create_with_strides:
		unsafe extern "C" fn(*mut Handle, i32, *const i64, i32, *const i64) -> Status,
	memory_desc_destroy: unsafe extern "C" fn(Handle) -> Status,
	matmul_primitive_desc_create:
		unsafe extern "C" fn(*mut Handle, Handle, Handle, Handle, Handle, Handle, Handle) -> Status,
	primitive_desc_destroy: unsafe extern "C" fn(Handle) -> Status,
	primitive_create: unsafe extern "C" fn(*mut Handle, Handle) -> Status,
	primitive_execute: unsafe extern "C" fn(Handle, Handle, i32, *const ExecArg) -> Status,
	primitive_destroy: unsafe extern "C" fn(Handle) -> Status,
	memory_create: unsafe extern "C" fn(*mut Handle, Handle, Handle, *mut c_void) -> Status,
	memory_destroy: unsafe extern "C" fn(Handle) -> Status,
	version: unsafe extern "C" fn() -> *const Version,
	/// libgomp's: OpenMP's thread count is per calling thread, so it is set before each run.
	omp_set_num_threads: unsafe extern "C" fn(i32),
}

/// A loaded oneDNN with a CPU engine and stream.
pub struct OneDnn {
	api: Api,
	engine: Handle,
	/// oneDNN streams are not for concurrent use: one GEMM at a time.
	stream: Mutex<Handle>,
	version: String,
	// Kept last: dropped after everything that points into them.
	_gomp: libloading::Library,
	_lib: libloading::Library,
}

// SAFETY: the engine is thread-safe in oneDNN; the stream is only used under its mutex.
unsafe impl Send for OneDnn {}
// SAFETY: as above.
unsafe impl Sync for OneDnn {}

fn check(status: Status, what: &str) -> Result<()> {
	if status == SUCCESS {
		Ok(())
	} else {
		Err(anyhow!("oneDNN {what} failed (status {status})"))
	}
}

/// Where [`OneDnn::shared`] looks for `libdnnl.so.3`, in order.
pub fn candidates() -> Vec<PathBuf> {
	let mut paths = Vec::new();
	if let Some(path) = std::env::var_os("PROOFGRID_ONEDNN_LIB") {
		paths.push(PathBuf::from(path));
	}
	let cache = std::env::var_os("PROOFGRID_CACHE")
		.map(PathBuf::from)
		.or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/proofgrid")));
	if let Some(cache) = cache {
		paths.push(cache.join(format!("onednn-{ONEDNN_VERSION}/lib/libdnnl.so.3")));
	}
	paths.push(PathBuf::from("libdnnl.so.3"));
	paths
}

/// The oneDNN release `scripts/setup.sh` installs.
pub const ONEDNN_VERSION: &str = "2023.2.0";

impl OneDnn {
	/// This process's oneDNN, loaded and proven exact on first use; the reason when it cannot be
	/// used (kept, so the probe runs once).
	pub fn shared() -> Result<Arc<Self>> {
		static SHARED: OnceLock<Result<Arc<OneDnn>, String>> = OnceLock::new();
		SHARED
			.get_or_init(|| Self::load().map(Arc::new).map_err(|e| format!("{e:#}")))
			.clone()
			.map_err(|reason| anyhow!(reason))
	}

	/// Loads oneDNN and proves its int8 GEMM exact on this CPU; the reason when it cannot be
	/// used.
	fn load() -> Result<Self> {
		if !std::arch::is_x86_feature_detected!("avx512vnni") {
			bail!("this CPU has no AVX-512 VNNI: oneDNN's int8 paths without it are not exact");
		}
		let mut tried = Vec::new();
		let lib = candidates()
			.into_iter()
			.find_map(|path| {
				// SAFETY: loading oneDNN runs its initialisers only, which have no preconditions.
				match unsafe { libloading::Library::new(&path) } {
					Ok(lib) => Some(lib),
					Err(e) => {
						tried.push(format!("{}: {e}", path.display()));
						None
					}
				}
			})
			.ok_or_else(|| anyhow!("oneDNN not found ({})", tried.join("; ")))?;
		// SAFETY: libgomp is oneDNN's dependency, already loaded with it.
		let gomp = unsafe { libloading::Library::new("libgomp.so.1") }.context("libgomp")?;
		// SAFETY: each symbol is declared with its C signature from oneDNN 3's `dnnl.h`.
		let api = unsafe {
			macro_rules! sym {
				($lib:expr, $name:literal) => {
					*$lib.get($name).with_context(|| {
						format!("symbol {}", String::from_utf8_lossy(&$name[..$name.len() - 1]))
					})?
				};
			}
			Api {
				engine_create: sym!(lib, b"dnnl_engine_create\0"),
				engine_destroy: sym!(lib, b"dnnl_engine_destroy\0"),
				stream_create: sym!(lib, b"dnnl_stream_create\0"),
				stream_wait: sym!(lib, b"dnnl_stream_wait\0"),
				stream_destroy: sym!(lib, b"dnnl_stream_destroy\0"),
				memory_desc_create_with_strides: sym!(
					lib,
					b"dnnl_memory_desc_create_with_strides\0"
				),
				memory_desc_destroy: sym!(lib, b"dnnl_memory_desc_destroy\0"),
				matmul_primitive_desc_create: sym!(lib, b"dnnl_matmul_primitive_desc_create\0"),
				primitive_desc_destroy: sym!(lib, b"dnnl_primitive_desc_destroy\0"),
				primitive_create: sym!(lib, b"dnnl_primitive_create\0"),
				primitive_execute: sym!(lib, b"dnnl_primitive_execute\0"),
				primitive_destroy: sym!(lib, b"dnnl_primitive_destroy\0"),
				memory_create: sym!(lib, b"dnnl_memory_create\0"),
				memory_destroy: sym!(lib, b"dnnl_memory_destroy\0"),
				version: sym!(lib, b"dnnl_version\0"),
				omp_set_num_threads: sym!(gomp, b"omp_set_num_threads\0"),
			}
		};
		// SAFETY: `dnnl_version` returns a pointer to a static struct.
		let version = unsafe {
			let v = &*(api.version)();
			format!("oneDNN {}.{}.{}", v.major, v.minor, v.patch)
		};
		let mut engine: Handle = std::ptr::null_mut();
		// SAFETY: out-pointer to a local; CPU engine 0 always exists.
		check(unsafe { (api.engine_create)(&mut engine, ENGINE_CPU, 0) }, "engine")?;
		let mut stream: Handle = std::ptr::null_mut();
		// SAFETY: a valid engine; out-pointer to a local.
		let created =
			check(unsafe { (api.stream_create)(&mut stream, engine, STREAM_IN_ORDER) }, "stream");
		if let Err(e) = created {
			// SAFETY: created above, used by nothing else.
			unsafe { (api.engine_destroy)(engine) };
			return Err(e);
		}
		let dnnl =
			Self { api, engine, stream: Mutex::new(stream), version, _gomp: gomp, _lib: lib };
		dnnl.prove_exact()?;
		Ok(dnnl)
	}

	/// The library's name and version, e.g. `oneDNN 3.2.0`.
	pub fn version(&self) -> &str {
		&self.version
	}

	/// `C = A·B` on `threads` threads: `a` holds `rows` rows of `k` values, `b_cols` holds `n`
	/// columns of `k` values (ProofGrid's lanes), `c` gets `rows × n` values row-major.
	#[allow(clippy::too_many_arguments)]
	pub fn gemm(
		&self,
		threads: usize,
		a: &[i8],
		rows: usize,
		b_cols: &[i8],
		n: usize,
		k: usize,
		c: &mut [i32],
	) -> Result<()> {
		if a.len() != rows * k || b_cols.len() != n * k || c.len() != rows * n {
			bail!("oneDNN GEMM: {rows}×{k} by {k}×{n} does not match the buffers");
		}
		c.fill(0);
		if rows == 0 || n == 0 || k == 0 {
			return Ok(());
		}
		// Slices of the inner dimension, each exact, summed in int32 (wrapping is exact: the
		// whole sum fits).
		let mut part = Vec::new();
		let mut first = 0;
		while first < k {
			let len = EXACT_K.min(k - first);
			if first == 0 {
				self.gemm_slice(threads, a, rows, b_cols, n, k, first, len, c)?;
			} else {
				part.resize(rows * n, 0i32);
				self.gemm_slice(threads, a, rows, b_cols, n, k, first, len, &mut part)?;
				for (sum, x) in c.iter_mut().zip(&part) {
					*sum = sum.wrapping_add(*x);
				}
			}
			first += len;
		}
		Ok(())
	}

	/// `C = A[:, first..first + len] · B[first..first + len, :]` in one oneDNN call.
	#[allow(clippy::too_many_arguments)]
	fn gemm_slice(
		&self,
		threads: usize,
		a: &[i8],
		rows: usize,
		b_cols: &[i8],
		n: usize,
		k: usize,
		first: usize,
		len: usize,
		c: &mut [i32],
	) -> Result<()> {
		let dim = |v: usize| i64::try_from(v).map_err(|_| anyhow!("dimension {v} too large"));
		let (r, n64, k64, len64) = (dim(rows)?, dim(n)?, dim(k)?, dim(len)?);
		let api = &self.api;
		// Descriptors, freed on every path by `Owned`. Rows of `A` keep their stride `k`.
		let src = self.desc([r, len64], [k64, 1], DATA_S8)?;
		// `B`'s lanes are its columns: element (i, j) at j·k + i.
		let weights = self.desc([len64, n64], [1, k64], DATA_S8)?;
		let dst = self.desc([r, n64], [n64, 1], DATA_S32)?;
		// oneDNN fixes a primitive's thread count when its descriptor is made, from the calling
		// thread's OpenMP setting: set it first.
		// SAFETY: libgomp's setter for the calling thread; no other precondition.
		unsafe { (api.omp_set_num_threads)(threads.clamp(1, i32::MAX as usize) as i32) };
		let mut pd: Handle = std::ptr::null_mut();
		// SAFETY: valid engine and descriptors; no bias, default attributes.
		check(
			unsafe {
				(api.matmul_primitive_desc_create)(
					&mut pd,
					self.engine,
					src.0,
					weights.0,
					std::ptr::null_mut(),
					dst.0,
					std::ptr::null_mut(),
				)
			},
			"matmul descriptor",
		)?;
		let pd = Owned(pd, api.primitive_desc_destroy);
		let mut primitive: Handle = std::ptr::null_mut();
		// SAFETY: a valid primitive descriptor (oneDNN caches the compiled kernel per shape).
		check(unsafe { (api.primitive_create)(&mut primitive, pd.0) }, "matmul primitive")?;
		let primitive = Owned(primitive, api.primitive_destroy);
		// The buffers are the user's: oneDNN reads `a`, `b_cols` and writes `c` in place. The
		// slice starts `first` values into each row of `A` and each lane of `B`; the
		// descriptors' strides reach the rest (checked against the lengths in `gemm`).
		let a_mem = self.memory(&src, a[first..].as_ptr() as *mut c_void)?;
		let b_mem = self.memory(&weights, b_cols[first..].as_ptr() as *mut c_void)?;
		let c_mem = self.memory(&dst, c.as_mut_ptr() as *mut c_void)?;
		let args = [
			ExecArg { arg: ARG_SRC, memory: a_mem.0 },
			ExecArg { arg: ARG_WEIGHTS, memory: b_mem.0 },
			ExecArg { arg: ARG_DST, memory: c_mem.0 },
		];
		let stream = self.stream.lock().map_err(|_| anyhow!("oneDNN stream poisoned"))?;
		// SAFETY: every handle is valid; the buffers outlive the call (it waits below) and
		// match the descriptors (checked above); sources are only read.
		unsafe {
			check((api.primitive_execute)(primitive.0, *stream, 3, args.as_ptr()), "matmul")?;
			check((api.stream_wait)(*stream), "stream wait")?;
		}
		Ok(())
	}

	fn desc(&self, dims: [i64; 2], strides: [i64; 2], data_type: i32) -> Result<Owned> {
		let mut d = [0i64; MAX_NDIMS];
		let mut s = [0i64; MAX_NDIMS];
		d[..2].copy_from_slice(&dims);
		s[..2].copy_from_slice(&strides);
		let mut desc: Handle = std::ptr::null_mut();
		// SAFETY: 2 dimensions read from arrays of `DNNL_MAX_NDIMS`.
		check(
			unsafe {
				(self.api.memory_desc_create_with_strides)(
					&mut desc,
					2,
					d.as_ptr(),
					data_type,
					s.as_ptr(),
				)
			},
			"memory descriptor",
		)?;
		Ok(Owned(desc, self.api.memory_desc_destroy))
	}

	fn memory(&self, desc: &Owned, buffer: *mut c_void) -> Result<Owned> {
		let mut memory: Handle = std::ptr::null_mut();
		// SAFETY: a valid descriptor and engine; the buffer is the caller's and outlives the
		// memory object (both are local to `gemm`).
		check(
			unsafe { (self.api.memory_create)(&mut memory, desc.0, self.engine, buffer) },
			"memory",
		)?;
		Ok(Owned(memory, self.api.memory_destroy))
	}

	/// Refuses a library whose int8 GEMM is not exact here: values whose products would
	/// saturate an int16 pair sum, over inner dimensions that reach each kernel the GEMM uses
	/// (one dense call at [`EXACT_K`], strided slices beyond it).
	fn prove_exact(&self) -> Result<()> {
		for k in [EXACT_K, EXACT_K + 1, 4099] {
			self.prove_exact_at(k)?;
		}
		Ok(())
	}

	fn prove_exact_at(&self, k: usize) -> Result<()> {
		let (rows, n) = (3, 3);
		let lane = |i: usize, which: u8| -> Vec<i8> {
			(0..k)
				.map(|x| match (i, which) {
					(0, _) => 127,
					(1, _) => -128,
					(_, 0) => {
						if x % 2 == 0 {
							127
						} else {
							-128
						}
					}
					_ => ((x * 37 + 11) % 256) as u8 as i8,
				})
				.collect()
		};
		let a: Vec<i8> = (0..rows).flat_map(|i| lane(i, 0)).collect();
		let b: Vec<i8> = (0..n).flat_map(|j| lane(j, 1)).collect();
		let mut c = vec![0i32; rows * n];
		self.gemm(1, &a, rows, &b, n, k, &mut c)?;
		for i in 0..rows {
			for j in 0..n {
				let exact: i32 = (0..k).map(|x| a[i * k + x] as i32 * b[j * k + x] as i32).sum();
				if c[i * n + j] != exact {
					bail!(
						"{} is not exact on this CPU: C[{i}][{j}] = {} instead of {exact} (k = {k})",
						self.version,
						c[i * n + j]
					);
				}
			}
		}
		Ok(())
	}
}

impl Drop for OneDnn {
	fn drop(&mut self) {
		// SAFETY: created in `load`, destroyed once; nothing uses them after this.
		unsafe {
			if let Ok(stream) = self.stream.get_mut() {
				(self.api.stream_destroy)(*stream);
			}
			(self.api.engine_destroy)(self.engine);
		}
	}
}

/// A oneDNN object destroyed with its destructor when dropped.
struct Owned(Handle, unsafe extern "C" fn(Handle) -> Status);

impl Drop for Owned {
	fn drop(&mut self) {
		if !self.0.is_null() {
			// SAFETY: created by the matching oneDNN constructor, destroyed once.
			unsafe { (self.1)(self.0) };
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn loaded() -> Option<Arc<OneDnn>> {
		match OneDnn::shared() {
			Ok(dnnl) => Some(dnnl),
			Err(e) => {
				println!("SKIPPED: oneDNN unavailable here: {e:#}");
				None
			}
		}
	}

	#[test]
	fn the_gemm_equals_the_definition_on_ragged_shapes() {
		let Some(dnnl) = loaded() else { return };
		println!("{}", dnnl.version());
		for (rows, n, k) in
			[(1, 1, 1), (5, 7, 3), (33, 17, 65), (64, 3, 200), (16, 16, 4096), (3, 5, 3000)]
		{
			let a: Vec<i8> = (0..rows * k).map(|x| (x * 31 + 7) as u8 as i8).collect();
			let b: Vec<i8> = (0..n * k).map(|x| (x * 17 + 3) as u8 as i8).collect();
			let mut c = vec![0i32; rows * n];
			dnnl.gemm(2, &a, rows, &b, n, k, &mut c).unwrap();
			for i in 0..rows {
				for j in 0..n {
					let exact = proofgrid_primitives::gemm::dot(
						&a[i * k..(i + 1) * k],
						&b[j * k..(j + 1) * k],
					);
					assert_eq!(c[i * n + j], exact, "{rows}×{n}×{k} at ({i}, {j})");
				}
			}
		}
	}

	#[test]
	fn the_extremes_are_exact_at_the_longest_inner_dimension() {
		let Some(dnnl) = loaded() else { return };
		let k = proofgrid_primitives::gemm::MAX_K as usize;
		for (x, y) in [(-128i8, -128i8), (127, 127), (-128, 127)] {
			let mut c = vec![0i32; 2 * 2];
			dnnl.gemm(2, &vec![x; 2 * k], 2, &vec![y; 2 * k], 2, k, &mut c).unwrap();
			assert_eq!(c, vec![x as i32 * y as i32 * k as i32; 4], "{x}·{y} over k = {k}");
		}
	}

	#[test]
	fn mismatched_buffers_are_refused() {
		let Some(dnnl) = loaded() else { return };
		let mut c = [0i32; 4];
		assert!(dnnl.gemm(1, &[0; 6], 2, &[0; 6], 2, 3, &mut c[..3]).is_err());
	}
}
