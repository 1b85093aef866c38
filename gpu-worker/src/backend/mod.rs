//! Compute backends. A backend turns a job's seeded GEMM-i8 into the hashes of its output's
//! Merkle leaves, exactly as `proofgrid-primitives` defines them; the CPU backend is the
//! reference every other backend is tested against.

pub mod cpu;
pub mod cuda;

use anyhow::{Context, Result};
use proofgrid_primitives::{device::DeviceSpec, gemm::GemmShape, gemm::LEAF_ELEMENTS};

/// A Merkle leaf hash.
pub type LeafHash = [u8; 32];

/// Called on each output leaf (index, values) before it is hashed. Only the fault-injection
/// build uses it, to falsify leaves on purpose.
pub type LeafHook = dyn Fn(u64, &mut [i32; LEAF_ELEMENTS]) + Send + Sync;

/// Seconds a job spends in each phase (see `CudaBackend::profile`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Phases {
	/// Generating the seeded inputs.
	pub generate: f64,
	/// The GEMM alone.
	pub gemm: f64,
	/// The GEMM with the leaf hashes (what a job really runs).
	pub gemm_and_hash: f64,
	/// Copying the leaf hashes to the host.
	pub download: f64,
}

/// Host memory a job's output takes on any backend: its leaf hashes (32 bytes each) and the
/// Merkle tree built over them (about twice as much again).
pub fn host_bytes_for_output(shape: &GemmShape) -> u64 {
	shape.leaf_count().saturating_mul(32 * 3)
}

/// One compute device.
pub trait Backend: Send + Sync {
	/// A short name for logs, e.g. `cpu` or `cuda:0`.
	fn name(&self) -> String;

	/// What the device advertises when it registers.
	fn spec(&self) -> DeviceSpec;

	/// Whether a job of this shape fits the device's memory.
	fn fits(&self, shape: &GemmShape) -> bool;

	/// The leaf hashes of `C = A·B` for seeded inputs, in leaf-index order.
	fn leaf_hashes(
		&self,
		shape: &GemmShape,
		seed: &[u8; 32],
		hook: Option<&LeafHook>,
	) -> Result<Vec<LeafHash>>;

	/// Whether this is the reference kernel itself (the CPU backend), whose output needs no
	/// spot check against it.
	fn is_reference(&self) -> bool {
		false
	}

	/// Phase-by-phase timing of a job, for backends that can measure it (`bench`).
	fn phases(&self, _shape: &GemmShape, _seed: &[u8; 32]) -> Option<Result<Phases>> {
		None
	}
}

/// Which backend to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
	/// CUDA when a usable GPU is found, else CPU.
	Auto,
	/// NVIDIA GPUs through CUDA.
	Cuda,
	/// The multithreaded CPU reference.
	Cpu,
}

/// The devices of this host for `kind`: one per GPU, or one CPU device.
pub fn select(kind: BackendKind, threads: usize, memory_mib: u64) -> Result<Vec<Box<dyn Backend>>> {
	let cpu = || -> Result<Vec<Box<dyn Backend>>> {
		Ok(vec![Box::new(cpu::CpuBackend::new(threads, memory_mib)?)])
	};
	let gpus = || -> Result<Vec<Box<dyn Backend>>> {
		Ok(cuda::CudaBackend::all(memory_mib)?
			.into_iter()
			.map(|g| Box::new(g) as Box<dyn Backend>)
			.collect())
	};
	match kind {
		BackendKind::Cpu => {
			tracing::info!("backend: cpu");
			cpu()
		}
		BackendKind::Cuda => gpus().context("--backend cuda"),
		BackendKind::Auto => match gpus() {
			Ok(gpus) => {
				tracing::info!("backend: cuda ({} GPU(s))", gpus.len());
				Ok(gpus)
			}
			Err(reason) => {
				tracing::info!("backend: cpu (no usable GPU: {reason:#})");
				cpu()
			}
		},
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_poison_job_needs_more_host_memory_than_a_worker_gives_it() {
		// 65 536 × 65 536 × 1: almost no work, but 2²⁸ leaves: 24 GiB of hashes and tree.
		let poison = GemmShape { m: 65_536, n: 65_536, k: 1 };
		assert_eq!(host_bytes_for_output(&poison), 24 << 30);
		let cpu = cpu::CpuBackend::new(1, 4096).unwrap();
		assert!(!cpu.fits(&poison));
		assert!(cpu.fits(&GemmShape { m: 1024, n: 1024, k: 512 }));
	}
}
