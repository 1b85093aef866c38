//! The CUDA backend: every GPU is its own device, with its own context and streams.
//!
//! The kernels (`kernels/gemm_i8.cu`) are CUDA C compiled at start-up by NVRTC for the GPU's
//! own architecture; CUDA itself is loaded at run time (cudarc's dynamic loading), so the worker
//! builds and runs on machines without CUDA and says so instead of panicking.
//!
//! A job runs as a pipeline of tile-row blocks over two slots, each with its own stream and
//! buffers. `B`'s lanes go to the device once (generated there, or uploaded); then, block by
//! block, `A`'s lanes are generated (or uploaded), multiplied by cuBLASLt (`cublaslt.rs`; the
//! worker's `dp4a` kernel where cuBLASLt cannot be loaded or has no exact algorithm), and every
//! 4×4 tile of the block's `C` is hashed on the device, in registers. Only the leaf hashes
//! (32 bytes per 16 outputs) cross PCIe, into pinned memory, while the other slot computes; the
//! worker writes them to disk and builds the Merkle tree there in parallel (`output.rs`), which
//! is what a reveal reads, also after a crash. Blocks are sized to the device's free memory, so
//! no job needs more than it has; a job whose `B` alone does not fit is refused.

use std::{
	collections::HashMap,
	sync::{Arc, Mutex},
};

use anyhow::{anyhow, bail, ensure, Context, Result};
use cudarc::{
	driver::{
		sys::CUevent_flags, CudaContext, CudaEvent, CudaFunction, CudaSlice, CudaStream,
		LaunchConfig, PinnedHostSlice, PushKernelArg,
	},
	nvrtc::{compile_ptx_with_opts, CompileOptions, Ptx},
};
use proofgrid_primitives::{
	device::{ComputeCapability, DeviceSpec, Kernel, KernelSet},
	gemm::{seed_key, GemmShape, LEAF_ELEMENTS, MATRIX_A, MATRIX_B, TILE},
};

use super::{
	cublaslt::{self, TnShape},
	Backend, Inputs, LeafHash, LeafHook, LeafSink, Phases,
};

/// The kernels' CUDA C source.
pub const KERNELS: &str = include_str!("../../kernels/gemm_i8.cu");
/// The kernels the worker calls.
pub const KERNEL_NAMES: [&str; 5] =
	["pg_gen_lanes", "pg_fill", "pg_gemm_tiles", "pg_hash_tiles", "pg_tree_level"];
/// The `linear-i8` epilogue (`Y = act(sat_i8(requant(acc + bias)))` on the GEMM's
/// accumulators): compiled and checked against the definition, not yet run by a job.
pub const LINEAR_EPILOGUE: &str = "pg_linear_epilogue";
const THREADS_PER_BLOCK: u32 = 256;
/// Blocks in flight: one computing while the other's hashes come back and go to disk.
const SLOTS: usize = 2;
/// Device memory left to the driver and other users: a quarter.
const RESERVED_FRACTION: u64 = 4;
/// Leaf hashes a profile (`bench`) keeps in host memory to time the tree: 4 GiB, 2²⁷ leaves
/// (m = n = 46 341).
const PROFILE_LEAF_BYTES: u64 = 4 << 30;

/// Why the GPUs of this host could not be opened. Only [`CudaError::NoDriver`] and
/// [`CudaError::NoDevice`] mean "no GPU here"; anything else is a GPU that is present but
/// broken (a kernel that does not compile for it, a driver error) and must not be hidden.
#[derive(Debug, thiserror::Error)]
pub enum CudaError {
	/// The CUDA driver library (`libcuda.so`) cannot be loaded.
	#[error("no CUDA driver (libcuda.so) on this host")]
	NoDriver,
	/// The driver loads but sees no GPU.
	#[error("the CUDA driver sees no GPU")]
	NoDevice,
	/// The driver failed while counting GPUs.
	#[error("counting CUDA devices: {0}")]
	Driver(cudarc::driver::DriverError),
	/// GPU `ordinal` is present but could not be opened.
	#[error("GPU {ordinal}: {source:#}")]
	Open {
		/// Which GPU.
		ordinal: usize,
		/// What failed: context, NVRTC compile, module load, attributes.
		source: anyhow::Error,
	},
}

impl CudaError {
	/// Whether this host simply has no GPU (so the CPU backend is the right choice), as opposed
	/// to a GPU that failed.
	pub fn no_gpu(&self) -> bool {
		matches!(self, Self::NoDriver | Self::NoDevice)
	}
}

/// Whether the CUDA driver library (`libcuda`) can be loaded.
pub fn driver_present() -> bool {
	// SAFETY: only tries to open the library; nothing is called.
	unsafe { cudarc::driver::sys::is_culib_present() }
}

/// Whether the NVRTC library can be loaded.
pub fn nvrtc_present() -> bool {
	// SAFETY: only tries to open the library; nothing is called.
	unsafe { cudarc::nvrtc::sys::is_culib_present() }
}

/// Compiles the kernels to PTX for `arch`, e.g. `compute_90`.
pub fn compile(arch: &'static str) -> Result<Ptx> {
	if !nvrtc_present() {
		bail!("the NVRTC library (libnvrtc.so.13) cannot be loaded; see scripts/setup.sh");
	}
	let options = CompileOptions {
		arch: Some(arch),
		name: Some("gemm_i8.cu".into()),
		options: vec!["--std=c++17".into()],
		..Default::default()
	};
	compile_ptx_with_opts(KERNELS, options).map_err(|e| anyhow!("NVRTC ({arch}): {e:?}"))
}

/// What `ptxas` reports for each kernel compiled for the real architecture `sm` (e.g.
/// `sm_90`), through NVRTC: registers, and the bytes of local memory and spills, per kernel.
/// This is how the tests and the self-test show that hashing stays in registers.
pub fn ptxas_report(sm: &str) -> Result<Vec<KernelResources>> {
	use cudarc::nvrtc::result;
	use std::ffi::CString;
	if !nvrtc_present() {
		bail!("the NVRTC library (libnvrtc.so.13) cannot be loaded; see scripts/setup.sh");
	}
	let src = CString::new(KERNELS)?;
	let name = CString::new("gemm_i8.cu")?;
	let prog = result::create_program(&src, Some(&name)).map_err(|e| anyhow!("NVRTC: {e:?}"))?;
	let options =
		[format!("--gpu-architecture={sm}"), "--std=c++17".into(), "--ptxas-options=-v".into()];
	// SAFETY: `prog` is live until destroyed below; the log is read after compiling.
	let (compiled, log) = unsafe {
		let compiled = result::compile_program(prog, &options);
		let log = result::get_program_log(prog);
		let _ = result::destroy_program(prog);
		(compiled, log)
	};
	let log = log.map_err(|e| anyhow!("NVRTC log: {e:?}"))?;
	let log: String = log.iter().take_while(|&&c| c != 0).map(|&c| c as u8 as char).collect();
	compiled.map_err(|e| anyhow!("NVRTC ({sm}): {e:?}: {log}"))?;
	Ok(KernelResources::parse(&log))
}

/// One kernel's resources as `ptxas -v` reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct KernelResources {
	/// The kernel's name.
	pub kernel: String,
	/// Registers per thread.
	pub registers: u32,
	/// Bytes of local memory per thread (the stack frame).
	pub stack_bytes: u32,
	/// Bytes stored to and loaded from local memory because registers ran out.
	pub spill_bytes: u32,
}

impl KernelResources {
	/// Parses `ptxas -v`'s lines: "Compiling entry function 'NAME'", "N bytes stack frame, N
	/// bytes spill stores, N bytes spill loads", "Used N registers".
	fn parse(log: &str) -> Vec<Self> {
		let number_before = |line: &str, what: &str| -> u32 {
			line.find(what)
				.and_then(|at| line[..at].split_whitespace().last())
				.and_then(|n| n.parse().ok())
				.unwrap_or(0)
		};
		let mut kernels: Vec<Self> = Vec::new();
		for line in log.lines() {
			if let Some(rest) = line.split("entry function '").nth(1) {
				let kernel = rest.split('\'').next().unwrap_or_default().to_string();
				kernels.push(Self { kernel, ..Default::default() });
			} else if let Some(k) = kernels.last_mut() {
				if line.contains("stack frame") {
					k.stack_bytes = number_before(line, "bytes stack frame");
					k.spill_bytes = number_before(line, "bytes spill stores")
						+ number_before(line, "bytes spill loads");
				} else if line.contains("Used") && line.contains("registers") {
					k.registers = line
						.split("Used ")
						.nth(1)
						.and_then(|r| r.split_whitespace().next())
						.and_then(|n| n.parse().ok())
						.unwrap_or(0);
				}
			}
		}
		kernels
	}
}

/// NVRTC's name of a compute capability (a static string, as cudarc wants).
fn arch_of(major: i32, minor: i32) -> Result<&'static str> {
	Ok(match (major, minor) {
		(7, 5) => "compute_75",
		(8, 0) => "compute_80",
		(8, 6) => "compute_86",
		(8, 7) => "compute_87",
		(8, 9) => "compute_89",
		(9, 0) => "compute_90",
		(10, 0) => "compute_100",
		(12, 0) => "compute_120",
		(major, minor) => bail!("unsupported compute capability {major}.{minor}"),
	})
}

/// How a GPU multiplies.
pub enum GemmPath {
	/// cuBLASLt, with the algorithms checked so far.
	CublasLt(Mutex<Lt>),
	/// The worker's own `dp4a` kernel, and why cuBLASLt is not used.
	Kernel(String),
}

/// A GPU's cuBLASLt handle and, per block shape, the algorithm that computed the all −128
/// product exactly (`None`: none did, so that shape runs on the worker's kernel).
pub struct Lt {
	handle: cublaslt::Handle,
	plans: HashMap<TnShape, Option<cublaslt::Plan>>,
	/// Set when an output failed its spot check: no algorithm is used from then on.
	distrusted: bool,
}

/// A job's geometry on the device (see `kernels/gemm_i8.cu`): lanes of `kp` bytes, `np` lanes
/// of `B`, blocks of `A` rounded up to 16 lanes, all padding zero.
#[derive(Clone, Copy, Debug)]
struct Padded {
	shape: GemmShape,
	kp: u32,
	np: u32,
	tile_cols: u32,
}

impl Padded {
	fn new(shape: &GemmShape) -> Self {
		Self {
			shape: *shape,
			kp: shape.k.next_multiple_of(16),
			np: shape.n.next_multiple_of(16),
			tile_cols: shape.tile_cols(),
		}
	}

	/// Lanes of `A` a block of `rows` tile rows holds.
	fn a_rows(rows: u32) -> u32 {
		(rows * TILE).next_multiple_of(16)
	}

	/// Device bytes of `B`'s lanes.
	fn b_bytes(&self) -> u64 {
		self.np as u64 * self.kp as u64
	}

	/// Device bytes of one slot for blocks of `rows` tile rows: `A`'s lanes, `C`, the hashes,
	/// cuBLASLt's workspace.
	fn slot_bytes(&self, rows: u32) -> u64 {
		let a_rows = Self::a_rows(rows) as u64;
		a_rows * self.kp as u64
			+ a_rows * self.np as u64 * 4
			+ rows as u64 * self.tile_cols as u64 * 32
			+ cublaslt::WORKSPACE as u64
	}

	/// The most tile rows a block may have with `free` bytes for [`SLOTS`] slots (a multiple
	/// of 4 unless the whole job has fewer), at most a host batch; 0 if not even one fits.
	fn block_rows(&self, free: u64) -> u32 {
		let tile_rows = self.shape.tile_rows();
		if tile_rows <= 4 {
			return if SLOTS as u64 * self.slot_bytes(tile_rows) <= free { tile_rows } else { 0 };
		}
		// A slot's bytes grow by the same amount per 4 tile rows (16 lanes of `A`).
		let per_four = self.slot_bytes(4) - self.slot_bytes(0);
		let fours = (free / SLOTS as u64).saturating_sub(self.slot_bytes(0)) / per_four;
		let batch = (super::rows_per_batch(&self.shape) / 4).max(1);
		(fours.min(batch as u64).min(tile_rows as u64 / 4) * 4) as u32
	}

	/// cuBLASLt's shape for a block of `rows` tile rows.
	fn tn(&self, rows: u32) -> Result<TnShape> {
		TnShape::new(self.np as u64, Self::a_rows(rows) as u64, self.kp as u64)
	}
}

/// `count` lanes of `k` bytes from `lanes` (lane `first` first; lanes past its end are zero),
/// each padded to `kp` bytes: a supplied matrix laid out as the device wants it.
fn pad_lanes(lanes: &[i8], k: usize, first: usize, count: usize, kp: usize) -> Vec<i8> {
	let mut out = vec![0i8; count * kp];
	for (dst, src) in out.chunks_exact_mut(kp).zip(lanes.chunks_exact(k).skip(first)) {
		dst[..k].copy_from_slice(src);
	}
	out
}

/// One slot of the pipeline: a stream and the buffers of one block.
struct Slot {
	stream: Arc<CudaStream>,
	a: CudaSlice<i8>,
	c: CudaSlice<i32>,
	hashes: CudaSlice<u8>,
	host: PinnedHostSlice<u8>,
	workspace: CudaSlice<u8>,
	/// The block queued on it and not yet handed to the sink: `(row0, rows)`.
	pending: Option<(u32, u32)>,
}

/// The buffers an algorithm check multiplies in (see `CudaBackend::check_shape`).
struct CheckBuffers<'a> {
	stream: &'a Arc<CudaStream>,
	bt: &'a mut CudaSlice<i8>,
	a: &'a mut CudaSlice<i8>,
	c: &'a mut CudaSlice<i32>,
	/// The `dp4a` kernel's product, to compare with.
	reference: &'a mut CudaSlice<i32>,
	workspace: &'a mut CudaSlice<u8>,
}

/// A job on one GPU: its geometry, `B` on the device, and its tile-row blocks.
struct DeviceJob<'a> {
	padded: Padded,
	inputs: Inputs<'a>,
	bt: CudaSlice<i8>,
	blocks: Vec<(u32, u32)>,
}

/// One GPU.
pub struct CudaBackend {
	/// First, so that cuBLASLt's handle is destroyed while the context still lives.
	gemm: GemmPath,
	/// Held while a job or a profile runs: one at a time per GPU (memory is sized per job).
	running: Mutex<()>,
	ordinal: usize,
	model: String,
	capability: (i32, i32),
	multiprocessors: u16,
	total_mem: usize,
	/// Host memory a job's output may take (leaf hashes and tree), bytes.
	host_memory: u64,
	ctx: Arc<CudaContext>,
	streams: [Arc<CudaStream>; SLOTS],
	gen_lanes: CudaFunction,
	fill: CudaFunction,
	gemm_tiles: CudaFunction,
	hash_tiles: CudaFunction,
	tree_level: CudaFunction,
}

impl CudaBackend {
	/// Every usable GPU of this host, or an error saying why there is none. A job's output
	/// may take at most `host_memory_mib` MiB of host memory.
	pub fn all(host_memory_mib: u64) -> Result<Vec<Self>, CudaError> {
		use cudarc::driver::{sys::CUresult, DriverError};
		if !driver_present() {
			return Err(CudaError::NoDriver);
		}
		let count = match CudaContext::device_count() {
			Ok(count) => count,
			Err(DriverError(CUresult::CUDA_ERROR_NO_DEVICE)) => 0,
			Err(e) => return Err(CudaError::Driver(e)),
		};
		if count == 0 {
			return Err(CudaError::NoDevice);
		}
		(0..count as usize)
			.map(|ordinal| {
				Self::open(ordinal, host_memory_mib)
					.map_err(|source| CudaError::Open { ordinal, source })
			})
			.collect()
	}

	/// Opens GPU `ordinal`: context, streams, kernels compiled for its architecture, and
	/// cuBLASLt where it loads (else the reason is logged and the worker's kernel multiplies).
	pub fn open(ordinal: usize, host_memory_mib: u64) -> Result<Self> {
		let ctx = CudaContext::new(ordinal).with_context(|| format!("opening GPU {ordinal}"))?;
		let capability = ctx.compute_capability()?;
		let ptx = compile(arch_of(capability.0, capability.1)?)?;
		let module = ctx.load_module(ptx)?;
		let sms = ctx.attribute(
			cudarc::driver::sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
		)?;
		let gemm = match cublaslt::Handle::new(&ctx) {
			Ok(handle) => GemmPath::CublasLt(Mutex::new(Lt {
				handle,
				plans: HashMap::new(),
				distrusted: false,
			})),
			Err(e) => {
				let reason = format!("{e:#}");
				tracing::warn!(
					gpu = ordinal,
					"cuBLASLt not used, the worker's dp4a kernel multiplies: {reason}"
				);
				GemmPath::Kernel(reason)
			}
		};
		Ok(Self {
			gemm,
			running: Mutex::new(()),
			ordinal,
			model: ctx.name()?,
			capability,
			multiprocessors: sms.clamp(0, u16::MAX as i32) as u16,
			total_mem: ctx.total_mem()?,
			host_memory: host_memory_mib.saturating_mul(1 << 20),
			streams: [ctx.new_stream()?, ctx.new_stream()?],
			gen_lanes: module.load_function("pg_gen_lanes")?,
			fill: module.load_function("pg_fill")?,
			gemm_tiles: module.load_function("pg_gemm_tiles")?,
			hash_tiles: module.load_function("pg_hash_tiles")?,
			tree_level: module.load_function("pg_tree_level")?,
			ctx,
		})
	}

	/// NVRTC's name of this GPU's architecture, e.g. `compute_90`.
	pub fn arch(&self) -> Result<&'static str> {
		arch_of(self.capability.0, self.capability.1)
	}

	/// What multiplies on this GPU, for logs and the self-test: cuBLASLt with the algorithms
	/// chosen so far, or the worker's kernel and why.
	pub fn gemm_name(&self) -> String {
		match &self.gemm {
			GemmPath::Kernel(reason) => format!("dp4a kernel (cuBLASLt not used: {reason})"),
			GemmPath::CublasLt(lt) => {
				let lt = lt.lock().unwrap_or_else(|e| e.into_inner());
				let mut chosen: Vec<String> = lt
					.plans
					.iter()
					.map(|(s, p)| match p {
						Some(p) => format!("{}x{}x{}: algorithm #{}", s.rows, s.np, s.kp, p.rank),
						None => format!("{}x{}x{}: none exact, dp4a kernel", s.rows, s.np, s.kp),
					})
					.collect();
				chosen.sort();
				format!(
					"cuBLASLt ({})",
					if chosen.is_empty() { "no shape yet".into() } else { chosen.join(", ") }
				)
			}
		}
	}

	fn launch_config(threads: u64) -> Result<LaunchConfig> {
		let blocks = threads.div_ceil(THREADS_PER_BLOCK as u64);
		Ok(LaunchConfig {
			// The hardware's limit on `gridDim.x` is 2³¹ − 1.
			grid_dim: (
				u32::try_from(blocks)
					.ok()
					.filter(|&b| b <= i32::MAX as u32)
					.context("grid too large")?,
				1,
				1,
			),
			block_dim: (THREADS_PER_BLOCK, 1, 1),
			shared_mem_bytes: 0,
		})
	}

	/// Every byte of `out` set to `value`, on `stream`.
	fn fill(&self, stream: &CudaStream, out: &mut CudaSlice<i8>, value: i8) -> Result<()> {
		let (len, value) = (out.len() as u64, value as u8 as u32);
		let mut launch = stream.launch_builder(&self.fill);
		launch.arg(out).arg(&len).arg(&value);
		// SAFETY: the arguments match `pg_fill`; `out` holds `len` bytes.
		unsafe { launch.launch(Self::launch_config(len)?)? };
		Ok(())
	}

	/// `count` lanes (`first` first, those past `live` zero) of seeded `matrix` into `out`.
	#[allow(clippy::too_many_arguments)]
	fn gen_lanes(
		&self,
		stream: &CudaStream,
		key: u64,
		matrix: u8,
		first: u32,
		live: u32,
		count: u32,
		p: &Padded,
		out: &mut CudaSlice<i8>,
	) -> Result<()> {
		let words = count as u64 * p.kp as u64 / 4;
		if (out.len() as u64) < words * 4 {
			bail!("lane buffer too small");
		}
		let (matrix, k) = (matrix as u32, p.shape.k);
		let mut launch = stream.launch_builder(&self.gen_lanes);
		launch
			.arg(&key)
			.arg(&matrix)
			.arg(&first)
			.arg(&live)
			.arg(&count)
			.arg(&k)
			.arg(&p.kp)
			.arg(out);
		// SAFETY: the arguments match `pg_gen_lanes`; `out` holds `count·kp` bytes.
		unsafe { launch.launch(Self::launch_config(words)?)? };
		Ok(())
	}

	/// `C` of a block of `rows` tile rows: `slot.c` = `slot.a` × `bt`, on the slot's stream,
	/// by cuBLASLt's checked algorithm for the shape or else the worker's kernel.
	fn multiply(&self, p: &Padded, rows: u32, bt: &CudaSlice<i8>, slot: &mut Slot) -> Result<()> {
		let tn = p.tn(rows)?;
		if let GemmPath::CublasLt(lt) = &self.gemm {
			let lt = lt.lock().map_err(|_| anyhow!("cuBLASLt state poisoned"))?;
			if let Some(Some(plan)) = lt.plans.get(&tn) {
				let (a, c, workspace) = (&slot.a, &mut slot.c, &mut slot.workspace);
				return lt.handle.run(plan, &slot.stream, a, bt, c, workspace);
			}
		}
		self.gemm_kernel(&slot.stream, tn, &slot.a, bt, &mut slot.c)
	}

	/// `c` = `a` × `bt` for `tn` by the worker's `dp4a` kernel, on `stream`.
	fn gemm_kernel(
		&self,
		stream: &CudaStream,
		tn: TnShape,
		a: &CudaSlice<i8>,
		bt: &CudaSlice<i8>,
		c: &mut CudaSlice<i32>,
	) -> Result<()> {
		ensure!(
			a.len() as u64 >= tn.rows * tn.kp
				&& bt.len() as u64 >= tn.np * tn.kp
				&& c.len() as u64 >= tn.rows * tn.np,
			"buffers too small for {tn:?}"
		);
		let (kp, a_rows, np) = (tn.kp as u32, tn.rows as u32, tn.np as u32);
		let mut launch = stream.launch_builder(&self.gemm_tiles);
		launch.arg(a).arg(bt).arg(&kp).arg(&a_rows).arg(&np).arg(c);
		// SAFETY: the arguments match `pg_gemm_tiles`; the buffers hold `a_rows` and `np`
		// lanes of `kp` bytes and `a_rows·np` int32 (checked above).
		unsafe { launch.launch(Self::launch_config(tn.rows * tn.np / 16)?)? };
		Ok(())
	}

	/// The leaf hashes of a block of `rows` tile rows from its `C`, into `slot.hashes`.
	fn hash(&self, p: &Padded, rows: u32, slot: &mut Slot) -> Result<()> {
		let (c_rows, leaves) = (rows * TILE, rows as u64 * p.tile_cols as u64);
		let mut launch = slot.stream.launch_builder(&self.hash_tiles);
		launch.arg(&slot.c).arg(&c_rows).arg(&p.np).arg(&p.tile_cols).arg(&mut slot.hashes);
		// SAFETY: the arguments match `pg_hash_tiles`; `c` holds the block's `C`, `hashes`
		// 32 bytes per leaf.
		unsafe { launch.launch(Self::launch_config(leaves)?)? };
		Ok(())
	}

	/// Makes sure every block shape of `job` has a checked cuBLASLt algorithm (or is known to
	/// have none). Uses the job's buffers (both slots), before `B` is loaded.
	fn check_algorithms(&self, job: &mut DeviceJob, slots: &mut [Slot]) -> Result<()> {
		let GemmPath::CublasLt(lt) = &self.gemm else { return Ok(()) };
		let mut lt = lt.lock().map_err(|_| anyhow!("cuBLASLt state poisoned"))?;
		let [first, second] = slots else { bail!("{SLOTS} slots expected") };
		for &(_, rows) in &job.blocks.clone() {
			let tn = job.padded.tn(rows)?;
			let buffers = CheckBuffers {
				stream: &first.stream,
				bt: &mut job.bt,
				a: &mut first.a,
				c: &mut first.c,
				reference: &mut second.c,
				workspace: &mut first.workspace,
			};
			self.check_shape(&mut lt, tn, buffers)?;
		}
		Ok(())
	}

	/// Chooses cuBLASLt's algorithm for `tn`, once per shape: the heuristic's candidates, in its
	/// order, each trusted only if it computes three products exactly on this GPU — all −128
	/// (every sum 2¹⁴·kp: saturation, lost terms), all 127 (16 129·kp, odd: an f32 sum is wrong
	/// past 2²⁴) and seeded lanes (against the `dp4a` kernel on the same buffers: data in the
	/// wrong place). None exact, or no candidate: `None`, and the `dp4a` kernel multiplies it.
	/// Overwrites the buffers.
	fn check_shape(&self, lt: &mut Lt, tn: TnShape, buf: CheckBuffers) -> Result<()> {
		if lt.plans.contains_key(&tn) {
			return Ok(());
		}
		if lt.distrusted {
			lt.plans.insert(tn, None);
			return Ok(());
		}
		let candidates = match lt.handle.candidates(tn) {
			Ok(candidates) => candidates,
			Err(e) => {
				tracing::warn!(gpu = self.ordinal, "no cuBLASLt algorithm for {tn:?}: {e:#}");
				Vec::new()
			}
		};
		let want = |value: i64| value * value * tn.kp as i64;
		let mut chosen = None;
		// The dp4a kernel's product of the seeded lanes, computed once for all candidates.
		let mut expected: Vec<i32> = Vec::new();
		'candidates: for plan in candidates {
			for fill in [Some(-128i8), Some(127), None] {
				match fill {
					Some(value) => {
						self.fill(buf.stream, buf.bt, value)?;
						self.fill(buf.stream, buf.a, value)?;
					}
					None => {
						let (np, rows) = (tn.np as u32, tn.rows as u32);
						let whole = Padded {
							kp: tn.kp as u32,
							..Padded::new(&GemmShape { m: rows, n: np, k: tn.kp as u32 })
						};
						self.gen_lanes(buf.stream, 0x5eed, MATRIX_B, 0, np, np, &whole, buf.bt)?;
						self.gen_lanes(buf.stream, 0x5eed, MATRIX_A, 0, rows, rows, &whole, buf.a)?;
						if expected.is_empty() {
							self.gemm_kernel(buf.stream, tn, buf.a, buf.bt, buf.reference)?;
							let product = buf.reference.slice(..(tn.rows * tn.np) as usize);
							expected = buf.stream.clone_dtoh(&product)?;
						}
					}
				}
				buf.stream.memset_zeros(buf.c)?;
				if let Err(e) =
					lt.handle.run(&plan, buf.stream, buf.a, buf.bt, buf.c, buf.workspace)
				{
					tracing::warn!(
						gpu = self.ordinal,
						"cuBLASLt algorithm #{} failed on {tn:?}: {e:#}",
						plan.rank
					);
					continue 'candidates;
				}
				let c = buf.stream.clone_dtoh(&buf.c.slice(..(tn.rows * tn.np) as usize))?;
				let wrong = match fill {
					Some(value) => c.iter().position(|&v| v as i64 != want(value as i64)),
					None => c.iter().zip(&expected).position(|(x, y)| x != y),
				};
				if let Some(at) = wrong {
					tracing::warn!(
						gpu = self.ordinal,
						"cuBLASLt algorithm #{} is not exact on {tn:?} ({}): C[{at}] = {}",
						plan.rank,
						fill.map_or("seeded lanes".into(), |v| format!("all {v}")),
						c[at]
					);
					continue 'candidates;
				}
			}
			chosen = Some(plan);
			break;
		}
		if chosen.is_none() {
			tracing::warn!(
				gpu = self.ordinal,
				"no exact cuBLASLt algorithm for {tn:?}: the dp4a kernel multiplies it"
			);
		}
		lt.plans.insert(tn, chosen);
		Ok(())
	}

	/// Sets a job up: its geometry and blocks, `B`'s lanes and the slots allocated (sized to
	/// the free memory), cuBLASLt's algorithms checked. `B` is not loaded yet.
	fn prepare<'a>(
		&self,
		shape: &GemmShape,
		inputs: Inputs<'a>,
	) -> Result<(DeviceJob<'a>, Vec<Slot>)> {
		shape.validate().map_err(|e| anyhow!("invalid shape {shape:?}: {e:?}"))?;
		self.ctx.bind_to_thread()?;
		let p = Padded::new(shape);
		if let Inputs::Supplied { rows, cols } = inputs {
			let k = shape.k as usize;
			ensure!(
				rows.len() == shape.m as usize * k && cols.len() == shape.n as usize * k,
				"supplied inputs do not match {shape:?}"
			);
		}
		// Memory freed asynchronously by the last job is free once the device is idle.
		self.ctx.synchronize()?;
		let bt = self.streams[0].alloc_zeros::<i8>(p.b_bytes() as usize)?;
		let (free, _) = self.ctx.mem_get_info()?;
		let per_block = p.block_rows(free as u64 / RESERVED_FRACTION * (RESERVED_FRACTION - 1));
		if per_block == 0 {
			bail!("{shape:?} does not fit the free memory of {}", self.name());
		}
		let mut blocks = Vec::new();
		let mut row0 = 0u32;
		while row0 < shape.tile_rows() {
			let rows = (shape.tile_rows() - row0).min(per_block);
			blocks.push((row0, rows));
			row0 += rows;
		}
		let a_rows = Padded::a_rows(per_block) as usize;
		let leaves = per_block as usize * p.tile_cols as usize;
		let mut slots = Vec::with_capacity(SLOTS);
		for stream in &self.streams {
			slots.push(Slot {
				stream: stream.clone(),
				a: stream.alloc_zeros::<i8>(a_rows * p.kp as usize)?,
				c: stream.alloc_zeros::<i32>(a_rows * p.np as usize)?,
				hashes: stream.alloc_zeros::<u8>(leaves * 32)?,
				// SAFETY: only read after a copy has filled it (`finish`). Not write-combined:
				// the host reads it.
				host: unsafe { self.ctx.alloc_pinned_with_flags::<u8>(leaves * 32, 0)? },
				workspace: stream.alloc_zeros::<u8>(cublaslt::WORKSPACE)?,
				pending: None,
			});
		}
		let mut job = DeviceJob { padded: p, inputs, bt, blocks };
		self.check_algorithms(&mut job, &mut slots)?;
		Ok((job, slots))
	}

	/// Loads `B`'s lanes: generated on the device, or the client's uploaded.
	fn load_b(&self, job: &mut DeviceJob, stream: &Arc<CudaStream>) -> Result<()> {
		let p = job.padded;
		match job.inputs {
			Inputs::Seeded(seed) => {
				let key = seed_key(seed);
				self.gen_lanes(stream, key, MATRIX_B, 0, p.shape.n, p.np, &p, &mut job.bt)
			}
			Inputs::Supplied { cols, .. } => {
				let host = pad_lanes(cols, p.shape.k as usize, 0, p.np as usize, p.kp as usize);
				Ok(stream.memcpy_htod(&host, &mut job.bt)?)
			}
		}
	}

	/// Loads the lanes of `A` of the block at `row0` (`rows` tile rows) into `slot.a`.
	fn load_a(&self, job: &DeviceJob, row0: u32, rows: u32, slot: &mut Slot) -> Result<()> {
		let p = job.padded;
		let (first, count) = (row0 * TILE, Padded::a_rows(rows));
		let live = (p.shape.m - first).min(count);
		match job.inputs {
			Inputs::Seeded(seed) => {
				let key = seed_key(seed);
				self.gen_lanes(&slot.stream, key, MATRIX_A, first, live, count, &p, &mut slot.a)
			}
			Inputs::Supplied { rows: a, .. } => {
				let host =
					pad_lanes(a, p.shape.k as usize, first as usize, count as usize, p.kp as usize);
				Ok(slot.stream.memcpy_htod(&host, &mut slot.a)?)
			}
		}
	}

	/// Queues a block on `slot`: `A`, the GEMM, the hashes, and their copy to the host.
	fn enqueue(&self, job: &DeviceJob, row0: u32, rows: u32, slot: &mut Slot) -> Result<()> {
		self.load_a(job, row0, rows, slot)?;
		self.multiply(&job.padded, rows, &job.bt, slot)?;
		self.hash(&job.padded, rows, slot)?;
		let bytes = rows as usize * job.padded.tile_cols as usize * 32;
		slot.stream.memcpy_dtoh(&slot.hashes.slice(..bytes), &mut slot.host)?;
		slot.pending = Some((row0, rows));
		Ok(())
	}

	/// Waits for the block queued on `slot` and hands its leaves to `sink` (with their values
	/// first, for supplied inputs).
	fn finish(&self, job: &DeviceJob, slot: &mut Slot, sink: &mut dyn LeafSink) -> Result<()> {
		let Some((_, rows)) = slot.pending.take() else { return Ok(()) };
		let p = job.padded;
		let leaves = rows as usize * p.tile_cols as usize;
		if let Inputs::Supplied { .. } = job.inputs {
			let np = p.np as usize;
			let c = slot.stream.clone_dtoh(&slot.c.slice(..rows as usize * TILE as usize * np))?;
			let mut values = vec![[0i32; LEAF_ELEMENTS]; leaves];
			for (j, leaf) in values.iter_mut().enumerate() {
				let (row, col) = (j / p.tile_cols as usize * 4, j % p.tile_cols as usize * 4);
				for (r, four) in leaf.chunks_exact_mut(4).enumerate() {
					four.copy_from_slice(&c[(row + r) * np + col..][..4]);
				}
			}
			sink.append_values(&values)?;
		}
		// The block's stream is done with the copy (whatever cudarc's event tracking does).
		slot.stream.synchronize()?;
		let bytes = &slot.host.as_slice()?[..leaves * 32];
		let (hashes, _): (&[LeafHash], _) = bytes.as_chunks::<32>();
		sink.append(hashes)
	}

	/// Times a job phase by phase on one stream, with CUDA events: loading `B` and `A`, the
	/// GEMM, the leaf hashes, their copy to the host; the Merkle tree on the host (wall
	/// clock); and cuBLASLt alone on the whole product
	/// in one call (best of three), where it is used and the product fits.
	pub fn profile(&self, shape: &GemmShape, seed: &[u8; 32]) -> Result<Phases> {
		let _running = self.running.lock().map_err(|_| anyhow!("GPU state poisoned"))?;
		let leaf_bytes = shape.leaf_count() as usize * 32;
		ensure!(
			leaf_bytes as u64 <= PROFILE_LEAF_BYTES,
			"a profile keeps every leaf hash in memory: {shape:?} needs {} MiB, more than {} MiB",
			leaf_bytes >> 20,
			PROFILE_LEAF_BYTES >> 20
		);
		let (mut job, mut slots) = self.prepare(shape, Inputs::Seeded(seed))?;
		let slot = &mut slots[0];
		let stream = slot.stream.clone();
		let event = || stream.record_event(Some(CUevent_flags::CU_EVENT_DEFAULT));
		let seconds = |from: &CudaEvent, to: &CudaEvent| -> Result<f64> {
			Ok(from.elapsed_ms(to)? as f64 / 1e3)
		};
		let mut phases = Phases::default();
		let start = event()?;
		self.load_b(&mut job, &stream)?;
		phases.generate += seconds(&start, &event()?)?;
		let blocks = job.blocks.clone();
		let (mut gemm, mut hash) = (0.0, 0.0);
		let mut leaves: Vec<LeafHash> = Vec::new();
		// Every leaf hash also kept on the device, where it fits, to time the tree there.
		let (free, _) = self.ctx.mem_get_info()?;
		let mut on_device = match leaf_bytes as u64 * 2 < free as u64 / 2 {
			true => Some(stream.alloc_zeros::<u8>(leaf_bytes)?),
			false => None,
		};
		for (row0, rows) in blocks {
			let e0 = event()?;
			self.load_a(&job, row0, rows, slot)?;
			let e1 = event()?;
			self.multiply(&job.padded, rows, &job.bt, slot)?;
			let e2 = event()?;
			self.hash(&job.padded, rows, slot)?;
			let e3 = event()?;
			let bytes = rows as usize * job.padded.tile_cols as usize * 32;
			stream.memcpy_dtoh(&slot.hashes.slice(..bytes), &mut slot.host)?;
			let e4 = event()?;
			phases.generate += seconds(&e0, &e1)?;
			gemm += seconds(&e1, &e2)?;
			hash += seconds(&e2, &e3)?;
			phases.download += seconds(&e3, &e4)?;
			leaves.extend_from_slice(slot.host.as_slice()?[..bytes].as_chunks::<32>().0);
			if let Some(all) = on_device.as_mut() {
				let at = (row0 as usize * job.padded.tile_cols as usize) * 32;
				stream
					.memcpy_dtod(&slot.hashes.slice(..bytes), &mut all.slice_mut(at..at + bytes))?;
			}
		}
		if let Some(all) = on_device {
			let (root, seconds) = self.device_root(&stream, all, shape.leaf_count())?;
			phases.device_tree = Some((seconds, root));
		}
		// The tree as a job builds it (`output.rs`): on the host, levels in parallel pieces.
		let started = std::time::Instant::now();
		while leaves.len() > 1 {
			use rayon::prelude::*;
			leaves = leaves
				.par_chunks(1 << 12)
				.flat_map_iter(crate::backend::hashing::parent_level)
				.collect();
		}
		phases.tree = started.elapsed().as_secs_f64();
		if let Some((_, root)) = phases.device_tree {
			ensure!(
				leaves.first() == Some(&root),
				"the device's Merkle root differs from the host's"
			);
		}
		phases.gemm = gemm;
		phases.gemm_and_hash = gemm + hash;
		drop(slots);
		phases.library_gemm = self.library_gemm(&mut job);
		Ok(phases)
	}

	/// The Merkle root of the `count` leaf hashes in `leaves`, built on the device level by
	/// level (`pg_tree_level`), and the seconds it took (CUDA events).
	fn device_root(
		&self,
		stream: &Arc<CudaStream>,
		leaves: CudaSlice<u8>,
		count: u64,
	) -> Result<(LeafHash, f64)> {
		let mut above = stream.alloc_zeros::<u8>((count.div_ceil(2) * 32).max(32) as usize)?;
		let mut below = leaves;
		let mut width = count;
		let start = stream.record_event(Some(CUevent_flags::CU_EVENT_DEFAULT))?;
		while width > 1 {
			let mut launch = stream.launch_builder(&self.tree_level);
			launch.arg(&below).arg(&width).arg(&mut above);
			// SAFETY: the arguments match `pg_tree_level`; `below` holds `width` nodes and
			// `above` at least `ceil(width / 2)`.
			unsafe { launch.launch(Self::launch_config(width.div_ceil(2))?)? };
			std::mem::swap(&mut below, &mut above);
			width = width.div_ceil(2);
		}
		let end = stream.record_event(Some(CUevent_flags::CU_EVENT_DEFAULT))?;
		let seconds = start.elapsed_ms(&end)? as f64 / 1e3;
		let root = stream.clone_dtoh(&below.slice(..32))?;
		Ok((root.try_into().map_err(|_| anyhow!("a root of 32 bytes"))?, seconds))
	}

	/// cuBLASLt alone on the job's whole product in one call, best of three, with its name:
	/// the algorithm checked for that shape (as a job's blocks are), on the job's seeded lanes.
	/// `None` where the worker's kernel multiplies, the product does not fit, or it fails (a
	/// benchmark is optional: the reason is logged).
	fn library_gemm(&self, job: &mut DeviceJob) -> Option<(String, f64)> {
		let GemmPath::CublasLt(lt) = &self.gemm else { return None };
		match self.try_library_gemm(lt, job) {
			Ok(timed) => timed,
			Err(e) => {
				tracing::warn!(gpu = self.ordinal, "cuBLASLt alone not measured: {e:#}");
				None
			}
		}
	}

	fn try_library_gemm(
		&self,
		lt: &Mutex<Lt>,
		job: &mut DeviceJob,
	) -> Result<Option<(String, f64)>> {
		let p = job.padded;
		let tn = TnShape::new(p.np as u64, p.shape.m.next_multiple_of(16) as u64, p.kp as u64)?;
		self.ctx.synchronize()?;
		let (free, _) = self.ctx.mem_get_info()?;
		let needed = tn.rows * tn.kp + 2 * tn.d_bytes() + cublaslt::WORKSPACE as u64;
		if needed > free as u64 / RESERVED_FRACTION * (RESERVED_FRACTION - 1) {
			return Ok(None);
		}
		let stream = &self.streams[0];
		let mut a = stream.alloc_zeros::<i8>((tn.rows * tn.kp) as usize)?;
		let mut c = stream.alloc_zeros::<i32>((tn.rows * tn.np) as usize)?;
		let mut reference = stream.alloc_zeros::<i32>((tn.rows * tn.np) as usize)?;
		let mut workspace = stream.alloc_zeros::<u8>(cublaslt::WORKSPACE)?;
		let mut lt = lt.lock().map_err(|_| anyhow!("cuBLASLt state poisoned"))?;
		let buffers = CheckBuffers {
			stream,
			bt: &mut job.bt,
			a: &mut a,
			c: &mut c,
			reference: &mut reference,
			workspace: &mut workspace,
		};
		self.check_shape(&mut lt, tn, buffers)?;
		let Some(Some(plan)) = lt.plans.get(&tn) else { return Ok(None) };
		// The job's own lanes, as the pipeline multiplies them.
		self.load_b(job, stream)?;
		if let Inputs::Seeded(seed) = job.inputs {
			let key = seed_key(seed);
			self.gen_lanes(stream, key, MATRIX_A, 0, p.shape.m, tn.rows as u32, &p, &mut a)?;
		}
		let mut best = f64::MAX;
		for _ in 0..3 {
			let start = stream.record_event(Some(CUevent_flags::CU_EVENT_DEFAULT))?;
			lt.handle.run(plan, stream, &a, &job.bt, &mut c, &mut workspace)?;
			let end = stream.record_event(Some(CUevent_flags::CU_EVENT_DEFAULT))?;
			best = best.min(start.elapsed_ms(&end)? as f64 / 1e3);
		}
		Ok(Some((format!("cuBLASLt (algorithm #{}, one call)", plan.rank), best)))
	}
}

impl Backend for CudaBackend {
	fn name(&self) -> String {
		format!("cuda:{} ({})", self.ordinal, self.model)
	}

	fn spec(&self) -> DeviceSpec {
		let mut model = self.model.clone().into_bytes();
		model.truncate(64);
		DeviceSpec {
			model: model.try_into().unwrap_or_default(),
			vram_mib: (self.total_mem >> 20).min(u32::MAX as usize) as u32,
			compute_capability: ComputeCapability {
				major: self.capability.0.clamp(0, 255) as u8,
				minor: self.capability.1.clamp(0, 255) as u8,
			},
			multiprocessors: self.multiprocessors,
			kernels: KernelSet::of(&[Kernel::GemmI8]),
			// Conservative until capability proofs measure it: ~1 TOPS of int8 per 10 SMs.
			advertised_gops: 1_000 * self.multiprocessors as u64 / 10,
		}
	}

	fn fits(&self, shape: &GemmShape) -> bool {
		let p = Padded::new(shape);
		let usable = self.total_mem as u64 / RESERVED_FRACTION * (RESERVED_FRACTION - 1);
		// The output comes back to the host a batch at a time, on its way to disk.
		shape.validate().is_ok()
			&& super::host_bytes_for_output(shape) <= self.host_memory
			&& p.b_bytes() < usable
			&& p.block_rows(usable - p.b_bytes()) > 0
	}

	fn write_leaf_hashes(
		&self,
		shape: &GemmShape,
		inputs: Inputs,
		hook: Option<&LeafHook>,
		sink: &mut dyn LeafSink,
	) -> Result<()> {
		if hook.is_some() {
			bail!("fault injection is a CPU-backend test feature");
		}
		let _running = self.running.lock().map_err(|_| anyhow!("GPU state poisoned"))?;
		let (mut job, mut slots) = self.prepare(shape, inputs)?;
		self.load_b(&mut job, &self.streams[0])?;
		let blocks = job.blocks.clone();
		// Block i runs on slot i % 2: queuing it first hands block i - 2 (that slot's last)
		// to the sink, while block i - 1 computes on the other slot.
		for (i, &(row0, rows)) in blocks.iter().enumerate() {
			let slot = &mut slots[i % SLOTS];
			self.finish(&job, slot, sink)?;
			self.enqueue(&job, row0, rows, slot)?;
		}
		for i in blocks.len()..blocks.len() + SLOTS {
			self.finish(&job, &mut slots[i % SLOTS], sink)?;
		}
		Ok(())
	}

	fn phases(&self, shape: &GemmShape, seed: &[u8; 32]) -> Option<Result<Phases>> {
		Some(self.profile(shape, seed))
	}

	fn distrust_fast_path(&self) {
		if let GemmPath::CublasLt(lt) = &self.gemm {
			let mut lt = lt.lock().unwrap_or_else(|e| e.into_inner());
			lt.distrusted = true;
			lt.plans.values_mut().for_each(|plan| *plan = None);
			tracing::warn!(gpu = self.ordinal, "an output failed its spot check: cuBLASLt is no longer used, the dp4a kernel multiplies");
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::backend::cpu::CpuBackend;
	use std::{path::Path, process::Command};

	/// Shapes that are not multiples of the 4×4 tile, of 4-byte words, or of a thread block.
	const SHAPES: [(u32, u32, u32); 6] =
		[(1, 1, 1), (4, 4, 4), (5, 7, 3), (33, 17, 65), (64, 3, 200), (130, 66, 257)];

	fn required(what: &str) -> bool {
		let required = std::env::var("PROOFGRID_REQUIRE_NVRTC").is_ok_and(|v| v == "1");
		if !required {
			println!("SKIPPED: {what} (set PROOFGRID_REQUIRE_NVRTC=1 to require it; scripts/test.sh does)");
		}
		required
	}

	/// Every kernel compiles to PTX for sm_80 and sm_90, and, built for those real architectures
	/// by ptxas (through NVRTC), keeps its state in registers: no spills, and no stack frame in
	/// the hashing kernel.
	#[test]
	fn every_kernel_compiles_for_sm80_and_sm90_without_spills() {
		if !nvrtc_present() && !required("NVRTC is not installed") {
			return;
		}
		for arch in ["compute_80", "compute_90"] {
			let ptx = compile(arch).unwrap_or_else(|e| panic!("{e:#}"));
			let text = ptx.to_src();
			let sm = arch.replace("compute_", "sm_");
			assert!(text.contains(&format!(".target {sm}")), "{arch}: no .target {sm}");
			let report = ptxas_report(&sm).unwrap_or_else(|e| panic!("{e:#}"));
			for kernel in KERNEL_NAMES.into_iter().chain([LINEAR_EPILOGUE]) {
				assert!(text.contains(&format!(".entry {kernel}")), "{arch}: no kernel {kernel}");
				let k = report
					.iter()
					.find(|k| k.kernel == kernel)
					.unwrap_or_else(|| panic!("{sm}: ptxas says nothing of {kernel}: {report:?}"));
				assert!(k.registers > 0, "{sm}: {k:?}");
				assert_eq!(k.spill_bytes, 0, "{sm}: {k:?}");
				println!("{sm}: {k:?}");
			}
			let hash = report.iter().find(|k| k.kernel == "pg_hash_tiles").unwrap();
			assert_eq!(hash.stack_bytes, 0, "{sm}: the hash's message and state in local memory");
			println!("{arch}: {} bytes of PTX", text.len());
		}
	}

	/// The kernel source built for the CPU (`kernels/host_emulation.cpp`, with the host's C++
	/// compiler) as `name`, or `None` (printed) without a compiler.
	fn emulator(name: &str) -> Option<std::path::PathBuf> {
		let kernels = Path::new(env!("CARGO_MANIFEST_DIR")).join("kernels");
		let exe = std::env::temp_dir().join(format!("pg-{name}-{}", std::process::id()));
		let compiler = ["c++", "clang++", "g++"]
			.into_iter()
			.find(|c| Command::new(c).arg("--version").output().is_ok());
		let Some(compiler) = compiler else {
			println!("SKIPPED: no C++ compiler to emulate the kernels with");
			return None;
		};
		let built = Command::new(compiler)
			.args(["-O1", "-std=c++17", "-o"])
			.arg(&exe)
			.arg(kernels.join("host_emulation.cpp"))
			.output()
			.unwrap();
		assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
		Some(exe)
	}

	/// The lines the emulator prints for `args`.
	fn emulated_lines(exe: &Path, args: &[String]) -> Vec<String> {
		let out = Command::new(exe).args(args).output().unwrap();
		assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
		String::from_utf8(out.stdout).unwrap().lines().map(String::from).collect()
	}

	/// Runs the kernel source on the CPU, so that its arithmetic is checked against the
	/// reference without a GPU.
	#[test]
	fn kernels_match_the_reference_when_emulated_on_the_host() {
		let Some(exe) = emulator("kernel-emulation") else { return };
		let cpu = CpuBackend::new(2, 1024).unwrap();
		for (m, n, k) in SHAPES {
			let shape = GemmShape { m, n, k };
			let seed = [(m ^ k) as u8; 32];
			let args = [m as u64, n as u64, k as u64, seed_key(&seed)].map(|v| v.to_string());
			let emulated = emulated_lines(&exe, &args);
			let reference: Vec<String> =
				cpu.leaf_hashes(&shape, &seed, None).unwrap().iter().map(hex::encode).collect();
			assert_eq!(emulated, reference, "{shape:?}");
		}
		let _ = std::fs::remove_file(&exe);
	}

	/// The tree kernel, run on the CPU, builds the root `primitives` defines, for widths that
	/// are odd and even at every level.
	#[test]
	fn the_tree_kernel_matches_the_definition_when_emulated_on_the_host() {
		use proofgrid_primitives::merkle::MerkleTree;
		use std::io::Write;
		let Some(exe) = emulator("tree-emulation") else { return };
		for count in [1u64, 2, 3, 5, 8, 13, 64, 1000] {
			let leaves: Vec<LeafHash> =
				(0..count).map(|i| sp_crypto_hashing::blake2_256(&i.to_le_bytes())).collect();
			let mut child = Command::new(&exe)
				.arg("tree")
				.stdin(std::process::Stdio::piped())
				.stdout(std::process::Stdio::piped())
				.spawn()
				.unwrap();
			let input: String = leaves.iter().map(|l| hex::encode(l) + "\n").collect();
			child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
			let out = child.wait_with_output().unwrap();
			assert!(out.status.success());
			let root = MerkleTree::from_leaf_hashes(leaves).unwrap().root();
			assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), hex::encode(root), "{count}");
		}
		let _ = std::fs::remove_file(&exe);
	}

	/// The supplied-input leaves of constant `A` and `B` by the CPU reference.
	fn filled_reference(m: u32, n: u32, k: u32, a: i8, b: i8) -> Vec<LeafHash> {
		let cpu = CpuBackend::new(2, 4096).unwrap();
		let (rows, cols) = (vec![a; (m * k) as usize], vec![b; (n * k) as usize]);
		let mut leaves = Vec::new();
		cpu.write_leaf_hashes(
			&GemmShape { m, n, k },
			Inputs::Supplied { rows: &rows, cols: &cols },
			None,
			&mut leaves,
		)
		.unwrap();
		leaves
	}

	/// The extremes, emulated: every sum at or near ±2³⁰ (all −128, 127 by −128, all 127, at
	/// k = 65 536), which a GEMM that saturates gets wrong, and all 127 (16 129 is odd) one that
	/// sums in f32.
	#[test]
	fn kernels_are_exact_at_the_extremes_when_emulated_on_the_host() {
		let Some(exe) = emulator("kernel-extremes") else { return };
		for (m, n, k, a, b) in [
			(5, 7, 65_536, -128, -128),
			(17, 3, 65_536, 127, -128),
			(9, 6, 65_536, 127, 127),
			(4, 4, 65_535, -128, 127),
		] {
			let args = ["fill".to_string(), m.to_string(), n.to_string(), k.to_string()];
			let emulated =
				emulated_lines(&exe, &[&args[..], &[a.to_string(), b.to_string()]].concat());
			let reference: Vec<String> =
				filled_reference(m, n, k, a, b).iter().map(hex::encode).collect();
			assert_eq!(emulated, reference, "{m}x{n}x{k} of {a} by {b}");
		}
		let _ = std::fs::remove_file(&exe);
	}

	#[test]
	fn blocks_are_whole_tile_rows_that_fit_and_lanes_are_padded_to_16() {
		let p = Padded::new(&GemmShape { m: 130, n: 66, k: 257 });
		assert_eq!((p.kp, p.np, p.tile_cols), (272, 80, 17));
		assert_eq!(Padded::a_rows(1), 16);
		assert_eq!(Padded::a_rows(33), 144);
		// All of a small job in one block when memory allows; smaller blocks of 4-tile-row
		// multiples when it does not; none when not even 4 tile rows fit.
		assert_eq!(p.block_rows(u64::MAX), 32);
		let four = SLOTS as u64 * p.slot_bytes(4);
		assert_eq!(p.block_rows(four), 4);
		assert_eq!(p.block_rows(four - 1), 0);
		assert_eq!(Padded::new(&GemmShape { m: 3, n: 3, k: 3 }).block_rows(u64::MAX), 1);
		// A host batch bounds a block: 2²⁰ leaves of a 2¹⁶-wide output are 64 tile rows.
		let wide = Padded::new(&GemmShape { m: 1 << 16, n: 1 << 16, k: 16 });
		assert_eq!(wide.block_rows(u64::MAX), 64);
		assert_eq!(wide.tn(64).unwrap(), TnShape::new(1 << 16, 256, 16).unwrap());
	}

	#[test]
	fn supplied_lanes_are_padded_with_zeros() {
		let lanes: Vec<i8> = (1..=6).collect(); // two lanes of k = 3
		assert_eq!(pad_lanes(&lanes, 3, 0, 3, 4), [1, 2, 3, 0, 4, 5, 6, 0, 0, 0, 0, 0]);
		assert_eq!(pad_lanes(&lanes, 3, 1, 2, 4), [4, 5, 6, 0, 0, 0, 0, 0]);
	}

	#[test]
	fn ptxas_reports_are_parsed() {
		let log = "ptxas info    : Compiling entry function 'pg_hash_tiles' for 'sm_90'\n\
			ptxas info    : Function properties for pg_hash_tiles\n\
			    8 bytes stack frame, 4 bytes spill stores, 12 bytes spill loads\n\
			ptxas info    : Used 56 registers, used 0 barriers, 384 bytes cmem[0]\n";
		let parsed = KernelResources::parse(log);
		let want = KernelResources {
			kernel: "pg_hash_tiles".into(),
			registers: 56,
			stack_bytes: 8,
			spill_bytes: 16,
		};
		assert_eq!(parsed, [want]);
	}

	/// The `linear-i8` epilogue kernel, run on the CPU, against `linear::Requant::apply`: the
	/// edges (±2³¹ sums, shifts 0, 31 and 62, the largest multiplier, ReLU) and pseudo-random
	/// accumulators and biases, over a 37 × 29 output (so that each column's bias is its own).
	#[test]
	fn the_linear_epilogue_matches_the_definition_when_emulated_on_the_host() {
		use proofgrid_primitives::{gemm::mix64, linear::Requant};
		use std::io::Write;
		let Some(exe) = emulator("epilogue-emulation") else { return };
		let (m, n) = (37usize, 29usize);
		let edges = [i32::MIN, i32::MIN + 1, -65_536, -129, -128, -1, 0, 1, 127, 128, i32::MAX];
		let value = |i: u64| edges.get(i as usize).copied().unwrap_or((mix64(i) >> 32) as i32);
		let bias: Vec<i32> = (0..n as u64).map(|j| value((j * 7) % 40)).collect();
		let acc: Vec<i32> = (0..(m * n) as u64).map(|i| value(i % 97)).collect();
		let mut checked = 0;
		for multiplier in [1, 3, 1 << 30, i32::MAX] {
			for shift in [0u8, 1, 17, 31, 40, 62] {
				for relu in [false, true] {
					let mut child = Command::new(&exe)
						.args(["requant", &multiplier.to_string(), &shift.to_string()])
						.arg(if relu { "1" } else { "0" })
						.stdin(std::process::Stdio::piped())
						.stdout(std::process::Stdio::piped())
						.spawn()
						.unwrap();
					let mut input = format!("{m} {n}\n");
					for v in bias.iter().chain(&acc) {
						input.push_str(&format!("{v} "));
					}
					child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
					let out = child.wait_with_output().unwrap();
					assert!(out.status.success());
					let emulated: Vec<i8> = String::from_utf8(out.stdout)
						.unwrap()
						.lines()
						.map(|l| l.parse().unwrap())
						.collect();
					let q = Requant { multiplier, shift, relu };
					let reference: Vec<i8> =
						acc.iter().enumerate().map(|(i, &a)| q.apply(a, bias[i % n])).collect();
					assert_eq!(emulated, reference, "{q:?}");
					checked += reference.len();
				}
			}
		}
		println!("linear epilogue: {checked} elements equal to the definition");
		let _ = std::fs::remove_file(&exe);
	}

	/// On a machine with a GPU: the CUDA roots equal the CPU roots.
	#[test]
	fn cuda_equals_cpu_on_ragged_shapes() {
		let gpus = match CudaBackend::all(4096) {
			Ok(gpus) => gpus,
			Err(e) if e.no_gpu() => {
				println!("SKIPPED: no GPU: {e}");
				return;
			}
			Err(e) => panic!("a GPU is present but failed: {e}"),
		};
		let cpu = CpuBackend::new(2, 4096).unwrap();
		for gpu in &gpus {
			for (m, n, k) in SHAPES.into_iter().chain([(1000, 1000, 1000), (4096, 4100, 515)]) {
				let shape = GemmShape { m, n, k };
				let seed = [k as u8; 32];
				assert_eq!(
					gpu.leaf_hashes(&shape, &seed, None).unwrap(),
					cpu.leaf_hashes(&shape, &seed, None).unwrap(),
					"{} {shape:?}",
					gpu.name()
				);
			}
			for (m, n, k, a, b) in [(5, 7, 65_536, -128i8, -128i8), (4096, 64, 65_536, 127, 127)] {
				let (rows, cols) = (vec![a; m * k], vec![b; n * k]);
				let shape = GemmShape { m: m as u32, n: n as u32, k: k as u32 };
				let mut leaves: Vec<LeafHash> = Vec::new();
				gpu.write_leaf_hashes(
					&shape,
					Inputs::Supplied { rows: &rows, cols: &cols },
					None,
					&mut leaves,
				)
				.unwrap();
				assert_eq!(leaves, filled_reference(shape.m, shape.n, shape.k, a, b), "{shape:?}");
			}
			println!("{}: {}", gpu.name(), gpu.gemm_name());
		}
	}
}
