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
	Backend, Inputs, LeafHash, LeafSink, Phases,
};

mod compile;
mod error;
mod fast_path;
mod launch;
mod layout;
mod pipeline;
mod profile;
#[cfg(test)]
mod tests;

use compile::arch_of;
pub use compile::{compile, ptxas_report, KernelResources, KERNELS, KERNEL_NAMES, LINEAR_EPILOGUE};
pub use error::{driver_present, nvrtc_present, CudaError};
pub use fast_path::{GemmPath, Lt};
use layout::{pad_lanes, Padded};
use pipeline::{DeviceJob, Slot};

const THREADS_PER_BLOCK: u32 = 256;
/// Blocks in flight: one computing while the other's hashes come back and go to disk.
const SLOTS: usize = 2;
/// Device memory left to the driver and other users: a quarter.
const RESERVED_FRACTION: u64 = 4;
/// Leaf hashes a profile (`bench`) keeps in host memory to time the tree: 4 GiB, 2²⁷ leaves
/// (m = n = 46 341).
const PROFILE_LEAF_BYTES: u64 = 4 << 30;

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
		sink: &mut dyn LeafSink,
	) -> Result<()> {
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
