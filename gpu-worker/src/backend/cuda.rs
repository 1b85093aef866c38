//! The CUDA backend: every GPU is its own device, with its own context and stream.
//!
//! The kernels (`kernels/gemm_i8.cu`) are CUDA C compiled at start-up by NVRTC for the GPU's
//! own architecture; CUDA itself is loaded at run time (cudarc's dynamic loading), so the worker
//! builds and runs on machines without CUDA and says so instead of panicking.
//!
//! Per job: `B`'s columns are generated on the device once (`n·k` bytes); then, tile-row block
//! by block, `A`'s rows are generated and every leaf of the block is computed (int8 `dp4a`,
//! exact int32) and hashed (BLAKE2b-256) on the device. Only the leaf hashes (32 bytes per 16
//! outputs) come back; the worker keeps them to build the Merkle tree and to reveal after a
//! crash. Blocks are sized to the device's free memory, so no job needs more than it has; a job
//! whose `B` alone does not fit is refused.

use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use cudarc::{
	driver::{CudaContext, CudaFunction, CudaSlice, CudaStream, LaunchConfig, PushKernelArg},
	nvrtc::{compile_ptx_with_opts, CompileOptions, Ptx},
};
use proofgrid_primitives::{
	device::{ComputeCapability, DeviceSpec, Kernel, KernelSet},
	gemm::{seed_key, GemmShape, MATRIX_A, MATRIX_B, TILE},
};

use super::{Backend, Inputs, LeafHash, LeafHook, LeafSink, Phases};

/// The kernels' CUDA C source.
pub const KERNELS: &str = include_str!("../../kernels/gemm_i8.cu");
/// The kernels the worker calls.
pub const KERNEL_NAMES: [&str; 3] = ["pg_gen_lanes", "pg_leaf_hashes", "pg_gemm_fold"];
/// The `linear-i8` epilogue (`Y = act(sat_i8(requant(acc + bias)))` on the GEMM's
/// accumulators): compiled and checked against the definition, not yet run by a job.
pub const LINEAR_EPILOGUE: &str = "pg_linear_epilogue";
const THREADS_PER_BLOCK: u32 = 256;

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

/// One GPU.
pub struct CudaBackend {
	ordinal: usize,
	model: String,
	capability: (i32, i32),
	multiprocessors: u16,
	total_mem: usize,
	/// Host memory a job's output may take (leaf hashes and tree), bytes.
	host_memory: u64,
	ctx: Arc<CudaContext>,
	stream: Arc<CudaStream>,
	gen_lanes: CudaFunction,
	leaf_hashes: CudaFunction,
	gemm_fold: CudaFunction,
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

	/// Opens GPU `ordinal`: context, stream, kernels compiled for its architecture.
	pub fn open(ordinal: usize, host_memory_mib: u64) -> Result<Self> {
		let ctx = CudaContext::new(ordinal).with_context(|| format!("opening GPU {ordinal}"))?;
		let capability = ctx.compute_capability()?;
		let ptx = compile(arch_of(capability.0, capability.1)?)?;
		let module = ctx.load_module(ptx)?;
		let sms = ctx.attribute(
			cudarc::driver::sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
		)?;
		Ok(Self {
			ordinal,
			model: ctx.name()?,
			capability,
			multiprocessors: sms.clamp(0, u16::MAX as i32) as u16,
			total_mem: ctx.total_mem()?,
			host_memory: host_memory_mib.saturating_mul(1 << 20),
			stream: ctx.new_stream()?,
			gen_lanes: module.load_function(KERNEL_NAMES[0])?,
			leaf_hashes: module.load_function(KERNEL_NAMES[1])?,
			gemm_fold: module.load_function(KERNEL_NAMES[2])?,
			ctx,
		})
	}

	/// NVRTC's name of this GPU's architecture, e.g. `compute_90`.
	pub fn arch(&self) -> Result<&'static str> {
		arch_of(self.capability.0, self.capability.1)
	}

	/// Row stride of a lane: `k` rounded up to whole 32-bit words.
	fn stride(shape: &GemmShape) -> u64 {
		(shape.k as u64).div_ceil(4) * 4
	}

	/// Tile rows per block so that a block's `A` rows and hashes fit in `free` bytes.
	fn block_rows(shape: &GemmShape, free: u64) -> u64 {
		let per_tile_row = TILE as u64 * Self::stride(shape) + shape.tile_cols() as u64 * 32;
		(free / per_tile_row.max(1)).clamp(0, shape.tile_rows() as u64)
	}

	fn launch_config(threads: u64) -> Result<LaunchConfig> {
		let blocks = threads.div_ceil(THREADS_PER_BLOCK as u64);
		Ok(LaunchConfig {
			grid_dim: (u32::try_from(blocks).context("grid too large")?, 1, 1),
			block_dim: (THREADS_PER_BLOCK, 1, 1),
			shared_mem_bytes: 0,
		})
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
			advertised_gops: 100_000 * self.multiprocessors as u64 / 10,
		}
	}

	fn fits(&self, shape: &GemmShape) -> bool {
		let b = shape.n as u64 * Self::stride(shape);
		// Leave a quarter of the memory to the driver and other users.
		let usable = self.total_mem as u64 / 4 * 3;
		// The output comes back to the host a batch at a time, on its way to disk.
		shape.validate().is_ok()
			&& super::host_bytes_for_output(shape) <= self.host_memory
			&& b < usable
			&& Self::block_rows(shape, usable - b) > 0
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
		let Inputs::Seeded(seed) = inputs else {
			bail!("supplied inputs are computed on the CPU backend only, for now");
		};
		let job = self.prepare(shape, seed)?;
		let mut batch: Vec<LeafHash> = Vec::new();
		for &(row0, rows) in &job.blocks {
			let a = self.rows_of_a(&job, row0, rows)?;
			let out = self.hash_block(&job, &a, row0, rows)?;
			// Fallible: a failed allocation is an error for this job, not an abort.
			batch.clear();
			batch.try_reserve_exact(out.len() / 32).context("host memory for the leaf hashes")?;
			batch.resize(out.len() / 32, [0u8; 32]);
			self.stream.memcpy_dtoh(&out, batch.as_flattened_mut())?;
			// Pageable host memory: the copy is complete once the stream is.
			self.stream.synchronize()?;
			sink.append(&batch)?;
		}
		Ok(())
	}

	fn phases(&self, shape: &GemmShape, seed: &[u8; 32]) -> Option<Result<Phases>> {
		Some(self.profile(shape, seed))
	}
}

/// A job being computed: its shape, key, `B` on the device, and its tile-row blocks.
struct DeviceJob {
	shape: GemmShape,
	key: u64,
	stride: u32,
	bt: CudaSlice<i8>,
	blocks: Vec<(u32, u32)>,
}

impl CudaBackend {
	/// Lanes `first .. first + count` of `matrix`, generated on the device.
	fn lanes(
		&self,
		key: u64,
		matrix: u8,
		first: u32,
		count: u32,
		k: u32,
		stride: u32,
	) -> Result<CudaSlice<i8>> {
		let mut out = self.stream.alloc_zeros::<i8>(count as usize * stride as usize)?;
		let matrix = matrix as u32;
		let mut launch = self.stream.launch_builder(&self.gen_lanes);
		launch.arg(&key).arg(&matrix).arg(&first).arg(&count).arg(&k).arg(&stride).arg(&mut out);
		// SAFETY: the arguments match `pg_gen_lanes`; `out` holds `count·stride` bytes.
		unsafe { launch.launch(Self::launch_config(count as u64 * stride as u64)?)? };
		Ok(out)
	}

	/// Generates `B` and splits the job into tile-row blocks that fit the free memory.
	fn prepare(&self, shape: &GemmShape, seed: &[u8; 32]) -> Result<DeviceJob> {
		shape.validate().map_err(|e| anyhow!("invalid shape {shape:?}: {e:?}"))?;
		self.ctx.bind_to_thread()?;
		let (key, stride) = (seed_key(seed), Self::stride(shape) as u32);
		let bt = self.lanes(key, MATRIX_B, 0, shape.n, shape.k, stride)?;
		let (free, _) = self.ctx.mem_get_info()?;
		// Blocks also stream through the host: at most a batch of leaves each.
		let per_block =
			Self::block_rows(shape, free as u64 / 4 * 3).min(super::rows_per_batch(shape) as u64);
		if per_block == 0 {
			bail!("{shape:?} does not fit the free memory of {}", self.name());
		}
		let mut blocks = Vec::new();
		let mut row0 = 0u32;
		while row0 < shape.tile_rows() {
			let rows = (shape.tile_rows() - row0).min(per_block as u32);
			blocks.push((row0, rows));
			row0 += rows;
		}
		Ok(DeviceJob { shape: *shape, key, stride, bt, blocks })
	}

	/// The live rows of `A` for a block.
	fn rows_of_a(&self, job: &DeviceJob, row0: u32, rows: u32) -> Result<CudaSlice<i8>> {
		let first = row0 * TILE;
		let live = (job.shape.m - first).min(rows * TILE);
		self.lanes(job.key, MATRIX_A, first, live, job.shape.k, job.stride)
	}

	/// Runs `kernel` (`pg_leaf_hashes` or `pg_gemm_fold`) over a block into `out`.
	fn block_kernel<T>(
		&self,
		kernel: &CudaFunction,
		job: &DeviceJob,
		a: &CudaSlice<i8>,
		row0: u32,
		rows: u32,
		out: &mut CudaSlice<T>,
	) -> Result<()> {
		let (m, n, tile_cols) = (job.shape.m, job.shape.n, job.shape.tile_cols());
		let mut launch = self.stream.launch_builder(kernel);
		launch
			.arg(a)
			.arg(&job.bt)
			.arg(&m)
			.arg(&n)
			.arg(&job.stride)
			.arg(&row0)
			.arg(&rows)
			.arg(&tile_cols)
			.arg(out);
		// SAFETY: `a` holds the block's live rows, `bt` all columns, `out` one item per leaf.
		unsafe { launch.launch(Self::launch_config(rows as u64 * tile_cols as u64)?)? };
		Ok(())
	}

	/// The block's leaf hashes, on the device.
	fn hash_block(
		&self,
		job: &DeviceJob,
		a: &CudaSlice<i8>,
		row0: u32,
		rows: u32,
	) -> Result<CudaSlice<u8>> {
		let leaves = rows as usize * job.shape.tile_cols() as usize;
		let mut out = self.stream.alloc_zeros::<u8>(leaves * 32)?;
		self.block_kernel(&self.leaf_hashes, job, a, row0, rows, &mut out)?;
		Ok(out)
	}

	/// Times a job phase by phase (each phase synchronised): input generation, the GEMM alone
	/// (`pg_gemm_fold`), GEMM + leaf hashes, and the hashes' trip back to the host.
	pub fn profile(&self, shape: &GemmShape, seed: &[u8; 32]) -> Result<Phases> {
		let timed = |f: &mut dyn FnMut() -> Result<()>| -> Result<f64> {
			let started = std::time::Instant::now();
			f()?;
			self.stream.synchronize()?;
			Ok(started.elapsed().as_secs_f64())
		};
		let mut phases = Phases::default();
		let mut job = None;
		phases.generate += timed(&mut || {
			job = Some(self.prepare(shape, seed)?);
			Ok(())
		})?;
		let job = job.expect("prepared");
		for &(row0, rows) in &job.blocks {
			let mut a = None;
			phases.generate += timed(&mut || {
				a = Some(self.rows_of_a(&job, row0, rows)?);
				Ok(())
			})?;
			let a = a.expect("generated");
			let leaves = rows as usize * shape.tile_cols() as usize;
			let mut folds = self.stream.alloc_zeros::<u32>(leaves)?;
			phases.gemm += timed(&mut || {
				self.block_kernel(&self.gemm_fold, &job, &a, row0, rows, &mut folds)
			})?;
			let mut hashes = None;
			phases.gemm_and_hash += timed(&mut || {
				hashes = Some(self.hash_block(&job, &a, row0, rows)?);
				Ok(())
			})?;
			let hashes = hashes.expect("hashed");
			phases.download += timed(&mut || {
				self.stream.clone_dtoh(&hashes)?;
				Ok(())
			})?;
		}
		Ok(phases)
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

	#[test]
	fn every_kernel_compiles_to_ptx_for_sm80_and_sm90() {
		if !nvrtc_present() && !required("NVRTC is not installed") {
			return;
		}
		for arch in ["compute_80", "compute_90"] {
			let ptx = compile(arch).unwrap_or_else(|e| panic!("{e:#}"));
			let text = ptx.to_src();
			let target = arch.replace("compute_", "sm_");
			assert!(text.contains(&format!(".target {target}")), "{arch}: no .target {target}");
			for kernel in KERNEL_NAMES.into_iter().chain([LINEAR_EPILOGUE]) {
				assert!(text.contains(&format!(".entry {kernel}")), "{arch}: no kernel {kernel}");
			}
			println!("{arch}: {} bytes of PTX, kernels {:?}", text.len(), KERNEL_NAMES);
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

	/// Runs the kernel source on the CPU, so that its arithmetic is checked against the
	/// reference without a GPU.
	#[test]
	fn kernels_match_the_reference_when_emulated_on_the_host() {
		let Some(exe) = emulator("kernel-emulation") else { return };
		let cpu = CpuBackend::new(2, 1024).unwrap();
		for (m, n, k) in SHAPES {
			let shape = GemmShape { m, n, k };
			let seed = [(m ^ k) as u8; 32];
			let out = Command::new(&exe)
				.args([m, n, k].map(|v| v.to_string()))
				.arg(seed_key(&seed).to_string())
				.output()
				.unwrap();
			assert!(out.status.success());
			let emulated: Vec<String> =
				String::from_utf8(out.stdout).unwrap().lines().map(String::from).collect();
			let reference: Vec<String> =
				cpu.leaf_hashes(&shape, &seed, None).unwrap().iter().map(hex::encode).collect();
			assert_eq!(emulated, reference, "{shape:?}");
		}
		let _ = std::fs::remove_file(&exe);
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
		}
	}
}
