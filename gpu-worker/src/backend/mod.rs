//! Compute backends. A backend turns a job's seeded GEMM-i8 into the hashes of its output's
//! Merkle leaves, exactly as `proofgrid-primitives` defines them; the CPU backend is the
//! reference every other backend is tested against.

pub mod cpu;
pub mod cublaslt;
pub mod cuda;
pub mod dot;
pub mod hashing;
pub mod onednn;

use anyhow::{Context, Result};
use proofgrid_primitives::{device::DeviceSpec, gemm::GemmShape, gemm::LEAF_ELEMENTS};

/// A Merkle leaf hash.
pub type LeafHash = [u8; 32];

/// Seconds a job spends in each phase (see `CudaBackend::profile`, `CpuBackend::profile`).
#[derive(Clone, Debug, Default)]
pub struct Phases {
	/// Generating the seeded inputs.
	pub generate: f64,
	/// The GEMM alone.
	pub gemm: f64,
	/// The GEMM with the leaf hashes (what a job really runs).
	pub gemm_and_hash: f64,
	/// Copying the leaf hashes to the host.
	pub download: f64,
	/// Building the Merkle tree over the leaf hashes (on the host, as a job does).
	pub tree: f64,
	/// The same tree built on the device (GPUs, where the leaves fit twice), and its root,
	/// equal to the host's.
	pub device_tree: Option<(f64, LeafHash)>,
	/// A GEMM library's own time for the same product (no leaves, no hashes), and its name:
	/// what a provider's hardware does with the best library, against which the whole job is
	/// measured.
	pub library_gemm: Option<(String, f64)>,
}

impl Phases {
	/// Seconds of the job with everything on the device (inputs, GEMM, leaf hashes, the tree
	/// built there; only the root would cross PCIe), where the tree was built on the device.
	pub fn on_device(&self) -> Option<f64> {
		self.device_tree.map(|(tree, _)| self.generate + self.gemm_and_hash + tree)
	}
}

/// Leaf hashes a backend hands over at once, about (whole tile rows, at least one): what a
/// job's output takes in host memory however large it is (the rest streams to disk).
pub const STREAM_LEAVES: u64 = 1 << 20;

/// Tile rows per batch of a job's output (see [`STREAM_LEAVES`]).
pub fn rows_per_batch(shape: &GemmShape) -> u32 {
	let rows = (STREAM_LEAVES / shape.tile_cols().max(1) as u64).max(1);
	rows.min(shape.tile_rows() as u64) as u32
}

/// Host memory a [`LeafSink`] may take beside the batch it is handed: the output tree's
/// build (a level piece and the level above it, and the leaf stream's write buffer) fits in
/// it, which `store::output` checks at compile time.
pub const SINK_MEMORY: u64 = 13 << 20;

/// Host memory a job's output takes on any backend: one batch of leaf hashes, and the buffers
/// of the tree built from them on disk.
pub fn host_bytes_for_output(shape: &GemmShape) -> u64 {
	let batch = rows_per_batch(shape) as u64 * shape.tile_cols() as u64;
	batch * 32 + SINK_MEMORY
}

/// A job's `A` and `B`.
#[derive(Clone, Copy)]
pub enum Inputs<'a> {
	/// Generated from this seed.
	Seeded(&'a [u8; 32]),
	/// The client's own: `A`'s `m` rows and `B`'s `n` columns, `k` elements each, lane after
	/// lane.
	Supplied {
		/// `A`, row-major (m × k).
		rows: &'a [i8],
		/// `B`, column after column (n × k).
		cols: &'a [i8],
	},
}

/// Receives a job's leaf hashes in leaf-index order, a batch at a time.
pub trait LeafSink {
	/// The next `hashes`.
	fn append(&mut self, hashes: &[LeafHash]) -> Result<()>;

	/// The values of the leaves whose hashes come next (supplied inputs only: their output is
	/// delivered to the client). Ignored by default.
	fn append_values(&mut self, _values: &[[i32; LEAF_ELEMENTS]]) -> Result<()> {
		Ok(())
	}
}

/// Tests: a sink that keeps the values and the hashes it is given, in order.
#[cfg(test)]
pub(crate) struct Collect(pub Vec<[i32; LEAF_ELEMENTS]>, pub Vec<LeafHash>);

#[cfg(test)]
impl LeafSink for Collect {
	fn append(&mut self, hashes: &[LeafHash]) -> Result<()> {
		self.1.extend_from_slice(hashes);
		Ok(())
	}

	fn append_values(&mut self, values: &[[i32; LEAF_ELEMENTS]]) -> Result<()> {
		self.0.extend_from_slice(values);
		Ok(())
	}
}

impl LeafSink for Vec<LeafHash> {
	fn append(&mut self, hashes: &[LeafHash]) -> Result<()> {
		self.try_reserve(hashes.len()).context("host memory for the leaf hashes")?;
		self.extend_from_slice(hashes);
		Ok(())
	}
}

/// One compute device.
pub trait Backend: Send + Sync {
	/// A short name for logs, e.g. `cpu` or `cuda:0`.
	fn name(&self) -> String;

	/// What the device advertises when it registers.
	fn spec(&self) -> DeviceSpec;

	/// Whether a job of this shape fits the device's memory.
	fn fits(&self, shape: &GemmShape) -> bool;

	/// Writes the leaf hashes of `C = A·B` to `sink`, in leaf-index order, in batches of about
	/// [`STREAM_LEAVES`] (with their values first, for supplied inputs).
	fn write_leaf_hashes(
		&self,
		shape: &GemmShape,
		inputs: Inputs,
		sink: &mut dyn LeafSink,
	) -> Result<()>;

	/// The leaf hashes of `C = A·B` for seeded inputs, in memory (tests, benchmarks).
	fn leaf_hashes(&self, shape: &GemmShape, seed: &[u8; 32]) -> Result<Vec<LeafHash>> {
		let mut leaves = Vec::new();
		self.write_leaf_hashes(shape, Inputs::Seeded(seed), &mut leaves)?;
		Ok(leaves)
	}

	/// Whether this is the reference kernel itself (the CPU backend), whose output needs no
	/// spot check against it.
	fn is_reference(&self) -> bool {
		false
	}

	/// Told that an output of this backend failed its spot check against the CPU reference:
	/// a backend with a faster, less proven path (a library's algorithms) stops using it, so
	/// that computing the job again does not repeat the same mistake until the job is lost.
	fn distrust_fast_path(&self) {}

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
	let gpus = || -> Result<Vec<Box<dyn Backend>>, cuda::CudaError> {
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
		// Only a host without a GPU falls back: a GPU that fails (a kernel that does not
		// compile for it, a driver error) stops the worker instead of selling CPU speed.
		BackendKind::Auto => match gpus() {
			Ok(gpus) => {
				tracing::info!("backend: cuda ({} GPU(s))", gpus.len());
				Ok(gpus)
			}
			Err(reason) if reason.no_gpu() => {
				tracing::info!("backend: cpu ({reason})");
				cpu()
			}
			Err(reason) => Err(anyhow::Error::new(reason).context(
				"--backend auto: a GPU is present but failed; fix it, or choose --backend cpu",
			)),
		},
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn an_output_takes_a_bounded_batch_of_host_memory_however_many_leaves_it_has() {
		// 2²⁰ × 2²⁰ × 1: 2³⁶ leaves (2 TiB of hashes) stream through one batch of 2¹⁸ leaves.
		let widest = GemmShape { m: 1 << 20, n: 1 << 20, k: 1 };
		assert_eq!(rows_per_batch(&widest), 4);
		assert_eq!(host_bytes_for_output(&widest), (1 << 20) * 32 + SINK_MEMORY);
		// A narrow output batches many rows, a small one all of its rows.
		assert_eq!(rows_per_batch(&GemmShape { m: 1 << 20, n: 4, k: 1 }), 1 << 18);
		assert_eq!(rows_per_batch(&GemmShape { m: 8, n: 8, k: 1 }), 2);
		let cpu = cpu::CpuBackend::new(1, 256).unwrap();
		assert!(cpu.fits(&widest), "the output is not what bounds it");
		assert!(cpu.fits(&GemmShape { m: 1024, n: 1024, k: 512 }));
		// B's lanes do: 2²⁰ columns of 2¹⁶ elements are 64 GiB.
		assert!(!cpu.fits(&GemmShape { m: 4, n: 1 << 20, k: 1 << 16 }));
	}

	#[test]
	fn auto_falls_back_only_when_the_host_has_no_gpu() {
		use cuda::CudaError;
		assert!(CudaError::NoDriver.no_gpu());
		assert!(CudaError::NoDevice.no_gpu());
		let broken = CudaError::Open { ordinal: 0, source: anyhow::anyhow!("NVRTC: bad kernel") };
		assert!(!broken.no_gpu(), "a failing GPU is not 'no GPU'");
		// On this host: a GPU opens, or there is none and the CPU backend is chosen; a
		// present but failing GPU is an error.
		match cuda::CudaBackend::all(256) {
			Ok(_) => println!("this host has a usable GPU"),
			Err(e) if e.no_gpu() => {
				let backends = select(BackendKind::Auto, 1, 256).expect("the CPU fallback");
				assert_eq!(backends.len(), 1);
				assert!(backends[0].name().starts_with("cpu"), "{}", backends[0].name());
				println!("no GPU here ({e}): auto chose {}", backends[0].name());
			}
			Err(e) => {
				let refused = select(BackendKind::Auto, 1, 256).err().expect("no silent fallback");
				println!("a failing GPU stops auto: {refused:#} ({e})");
			}
		}
	}
}
