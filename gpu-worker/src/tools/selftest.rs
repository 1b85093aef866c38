//! `proofgrid-worker gpu-selftest`: what a GPU run must show, in one command, printed as it goes
//! and written as JSON (`--out`):
//!
//! 1. the CUDA driver and its GPUs (model, compute capability, memory);
//! 2. the kernels compiled by NVRTC for each GPU's architecture (for sm_80 and sm_90 when there
//!    is no GPU), every kernel present in the PTX, and `ptxas`' registers and spills for each
//!    (none may spill); whether cuBLASLt loads;
//! 3. the CPU reference against the golden roots (`gpu-worker/golden/roots.json`: seeded jobs
//!    on ragged shapes and a long inner dimension, and the extremes: all −128 at k = 65 536;
//!    roots computed by the CPU reference and checked by a unit test), so the file itself is
//!    known good on this host;
//! 4. every GPU against the golden roots, bit for bit, and the cuBLASLt algorithms it chose
//!    (each checked on the device against an all −128 product first);
//! 5. a bench: the whole verified job (inputs, GEMM, leaf hashes, tree) on each GPU and on the
//!    CPU backend, GOPS and the speed-up; for each GPU also cuBLASLt's GEMM alone on the same
//!    product and the whole job's share of it.
//!
//! Without a GPU it says so, runs what needs none (2, 3, and the CPU's bench) and passes; any
//! failed check fails the command (exit 1), after the report is written.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use proofgrid_primitives::{gemm::GemmShape, merkle::MerkleTree};
use serde::{Deserialize, Serialize};

use crate::backend::{
	cpu::CpuBackend,
	cublaslt,
	cuda::{self, CudaBackend},
	Backend, Inputs,
};

/// The golden roots: seeded jobs and their Merkle roots by the CPU reference.
pub const GOLDEN: &str = include_str!("../../golden/roots.json");

#[derive(Args)]
pub struct SelftestArgs {
	/// Where the JSON report goes.
	#[arg(long, default_value = "gpu-selftest.json")]
	out: PathBuf,
	/// Square bench sizes m = n = k for the GPUs, comma separated (each only if it fits).
	#[arg(long, value_delimiter = ',', default_value = "1024,4096,8192,16384")]
	sizes: Vec<u32>,
	/// The largest bench size the CPU backend also runs (its time grows as the cube).
	#[arg(long, default_value_t = 4096)]
	cpu_max_size: u32,
	/// CPU backend threads (0: one per core).
	#[arg(long, default_value_t = 0)]
	threads: usize,
	/// Repetitions per bench size (the best is reported).
	#[arg(long, default_value_t = 2)]
	repeat: u32,
}

/// One golden job: seeded, or with supplied inputs whose every element is the same (the
/// extremes a GEMM gets wrong when it saturates or sums through floats).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoldenRoot {
	/// Its shape.
	pub m: u32,
	/// Its shape.
	pub n: u32,
	/// Its shape.
	pub k: u32,
	/// The job's seed, hex (seeded jobs).
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub seed: Option<String>,
	/// Every element of `A`, then of `B` (supplied jobs).
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub fill: Option<[i8; 2]>,
	/// The Merkle root of its output, hex.
	pub root: String,
}

impl GoldenRoot {
	fn shape(&self) -> GemmShape {
		GemmShape { m: self.m, n: self.n, k: self.k }
	}

	/// Its name in reports, e.g. `13×9×65536` or `16×16×65536 of -128 by -128`.
	fn what(&self) -> String {
		let shape = format!("{}×{}×{}", self.m, self.n, self.k);
		match self.fill {
			Some([a, b]) => format!("{shape} of {a} by {b}"),
			None => shape,
		}
	}

	/// The Merkle root of this job's output on `backend`.
	pub fn root_on(&self, backend: &dyn Backend) -> Result<[u8; 32]> {
		let shape = self.shape();
		match (&self.seed, self.fill) {
			(Some(seed), None) => {
				let bytes = hex::decode(seed).context("golden seed")?;
				let seed: [u8; 32] = bytes
					.try_into()
					.map_err(|_| anyhow::anyhow!("a golden seed is not 32 bytes"))?;
				root_of(backend, &shape, &seed)
			}
			(None, Some([a, b])) => {
				let rows = vec![a; shape.m as usize * shape.k as usize];
				let cols = vec![b; shape.n as usize * shape.k as usize];
				let mut leaves = Vec::new();
				let inputs = Inputs::Supplied { rows: &rows, cols: &cols };
				backend.write_leaf_hashes(&shape, inputs, &mut leaves)?;
				Ok(MerkleTree::from_leaf_hashes(leaves).context("an empty output")?.root())
			}
			_ => anyhow::bail!("a golden job has a seed or a fill, not both or neither"),
		}
	}
}

/// The golden roots file, parsed.
pub fn golden() -> Result<Vec<GoldenRoot>> {
	serde_json::from_str(GOLDEN).context("golden/roots.json")
}

/// The Merkle root of seeded job (`shape`, `seed`) on `backend`.
pub fn root_of(backend: &dyn Backend, shape: &GemmShape, seed: &[u8; 32]) -> Result<[u8; 32]> {
	let leaves = backend.leaf_hashes(shape, seed)?;
	Ok(MerkleTree::from_leaf_hashes(leaves).context("an empty output")?.root())
}

/// The report, as written to `--out`.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
	/// This worker's version.
	pub worker: String,
	/// The CPU backend, e.g. `cpu(16 threads, oneDNN 3.2.0)`.
	pub cpu_backend: String,
	/// Why no GPU was found, when none was.
	pub no_gpu: Option<String>,
	/// The GPUs found.
	pub gpus: Vec<Gpu>,
	/// NVRTC compiles.
	pub nvrtc: Vec<Check>,
	/// `ptxas`' resources per kernel and architecture.
	pub kernels: Vec<cuda::KernelResources>,
	/// Whether cuBLASLt (`libcublasLt.so.13`) loads here.
	pub cublaslt: String,
	/// Golden roots on the CPU reference.
	pub golden_cpu: Vec<Check>,
	/// Golden roots on each GPU.
	pub golden_gpu: Vec<Check>,
	/// Bench rows.
	pub bench: Vec<BenchRow>,
	/// Bench sizes that failed, and why.
	pub bench_errors: Vec<Check>,
	/// The CUDA, NVRTC, cuBLASLt and oneDNN libraries this process loaded (from
	/// `/proc/self/maps`), so the log says which copies ran.
	pub loaded_libraries: Vec<String>,
	/// Whether every check passed.
	pub passed: bool,
}

/// A GPU.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Gpu {
	/// The backend's name (model and ordinal).
	pub name: String,
	/// Compute capability, e.g. `9.0`.
	pub compute_capability: String,
	/// Memory, MiB.
	pub memory_mib: u32,
	/// What multiplies on it, after the golden jobs: cuBLASLt and the algorithm checked and
	/// chosen per block shape, or the worker's kernel and why.
	pub gemm: String,
}

/// One check and its outcome.
#[derive(Debug, Serialize)]
pub struct Check {
	/// What was checked.
	pub what: String,
	/// Whether it passed.
	pub ok: bool,
	/// Details: sizes, or why it failed.
	pub detail: String,
}

/// One bench measurement.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BenchRow {
	/// The backend.
	pub backend: String,
	/// m = n = k.
	pub size: u32,
	/// Best wall time of the whole job, seconds.
	pub seconds: f64,
	/// Operations (2·m·n·k) per second, 10⁹.
	pub gops: f64,
	/// The root, hex (equal across backends for a size).
	pub root: String,
	/// The GEMM library's own time on the same product (GPUs: cuBLASLt, one call), and GOPS.
	pub library: Option<String>,
	/// The library's GEMM alone, 10⁹ operations per second.
	pub library_gops: Option<f64>,
	/// The whole job's speed as a share of the library's GEMM alone.
	pub job_vs_library: Option<f64>,
	/// The job with everything on the device (inputs, GEMM, leaf hashes, tree; only the root
	/// would cross PCIe), 10⁹ operations per second, from the CUDA-event profile.
	pub on_device_gops: Option<f64>,
	/// That job's speed as a share of the library's GEMM alone (the goal: ≥ 50% at 8192).
	pub on_device_vs_library: Option<f64>,
}

fn check(report: &mut Vec<Check>, what: String, result: Result<String>) -> bool {
	let (ok, detail) = match result {
		Ok(detail) => (true, detail),
		Err(e) => (false, format!("{e:#}")),
	};
	println!("  {} {what}: {detail}", if ok { "ok  " } else { "FAIL" });
	report.push(Check { what, ok, detail });
	ok
}

pub fn run(args: SelftestArgs) -> Result<()> {
	let mut report = Report { worker: env!("CARGO_PKG_VERSION").to_string(), ..Default::default() };
	let cpu = CpuBackend::new(args.threads, u64::MAX >> 20)?;
	report.cpu_backend = cpu.name();
	let mut passed = true;

	println!("1. driver and GPUs");
	let gpus = match CudaBackend::all(u64::MAX >> 20) {
		Ok(gpus) => gpus,
		Err(e) if e.no_gpu() => {
			println!("  NO GPU: {e}; the GPU checks are skipped, the rest runs");
			report.no_gpu = Some(e.to_string());
			Vec::new()
		}
		Err(e) => {
			println!("  FAIL a GPU is present but failed: {e}");
			passed = false;
			Vec::new()
		}
	};
	for gpu in &gpus {
		let spec = gpu.spec();
		let cc = format!("{}.{}", spec.compute_capability.major, spec.compute_capability.minor);
		println!("  {} (compute {cc}, {} MiB)", gpu.name(), spec.vram_mib);
		report.gpus.push(Gpu {
			name: gpu.name(),
			compute_capability: cc,
			memory_mib: spec.vram_mib,
			gemm: String::new(),
		});
	}

	println!("2. NVRTC");
	let archs: Vec<&'static str> = if gpus.is_empty() {
		vec!["compute_80", "compute_90"]
	} else {
		gpus.iter().filter_map(|g| g.arch().ok()).collect()
	};
	for arch in archs {
		passed &= check(
			&mut report.nvrtc,
			format!("kernels for {arch}"),
			cuda::compile(arch).and_then(|ptx| {
				let text = ptx.to_src();
				let kernels: Vec<_> =
					cuda::KERNEL_NAMES.into_iter().chain([cuda::LINEAR_EPILOGUE]).collect();
				let missing: Vec<_> =
					kernels.iter().filter(|k| !text.contains(&format!(".entry {k}"))).collect();
				anyhow::ensure!(missing.is_empty(), "kernels missing from the PTX: {missing:?}");
				Ok(format!("{} bytes of PTX, all {} kernels", text.len(), kernels.len()))
			}),
		);
	}

	let sms: Vec<String> = if gpus.is_empty() {
		vec!["sm_80".into(), "sm_90".into()]
	} else {
		gpus.iter().filter_map(|g| g.arch().ok()).map(|a| a.replace("compute_", "sm_")).collect()
	};
	for sm in sms {
		let (result, resources) = match cuda::ptxas_report(&sm) {
			Ok(resources) => {
				let detail = resources
					.iter()
					.map(|k| {
						format!(
							"{} {} registers, {} B spilled",
							k.kernel, k.registers, k.spill_bytes
						)
					})
					.collect::<Vec<_>>()
					.join("; ");
				let spilled = resources.iter().any(|k| k.spill_bytes > 0);
				(
					if spilled { Err(anyhow::anyhow!("spills: {detail}")) } else { Ok(detail) },
					resources,
				)
			}
			Err(e) => (Err(e), Vec::new()),
		};
		passed &= check(&mut report.nvrtc, format!("ptxas for {sm}, no spills"), result);
		report.kernels.extend(resources);
	}
	report.cublaslt = if cublaslt::present() {
		format!("{} loads", cublaslt::LIBRARY)
	} else {
		format!(
			"{} does not load: the GPUs multiply with the worker's dp4a kernel",
			cublaslt::LIBRARY
		)
	};
	println!("  cuBLASLt: {}", report.cublaslt);

	println!("3. golden roots on the CPU reference ({})", cpu.name());
	let golden = golden()?;
	for job in &golden {
		passed &= check(&mut report.golden_cpu, job.what(), compare(&cpu, job));
	}

	println!("4. golden roots on the GPUs");
	for gpu in &gpus {
		for job in &golden {
			let what = format!("{} {}", gpu.name(), job.what());
			passed &= check(&mut report.golden_gpu, what, compare(gpu, job));
		}
		println!("  {}: {}", gpu.name(), gpu.gemm_name());
	}

	report.loaded_libraries = loaded_libraries();
	println!("  libraries loaded: {}", report.loaded_libraries.join(", "));

	println!("5. bench (whole verified job: inputs, GEMM, leaf hashes, tree)");
	for &size in &args.sizes {
		let shape = GemmShape { m: size, n: size, k: size };
		let mut roots = Vec::new();
		let backends: Vec<&dyn Backend> = gpus
			.iter()
			.map(|g| g as &dyn Backend)
			.chain((size <= args.cpu_max_size).then_some(&cpu as &dyn Backend))
			.collect();
		let mut cpu_seconds = None;
		for backend in backends {
			if !backend.fits(&shape) {
				println!("  {size:>6} {}: does not fit", backend.name());
				continue;
			}
			let (seconds, root) = match crate::tools::bench::time_job(backend, &shape, args.repeat)
			{
				Ok(timed) => timed,
				Err(e) => {
					// A failed size fails the self-test, and the rest still runs and is reported.
					let what = format!("bench {size} on {}", backend.name());
					passed &= check(&mut report.bench_errors, what, Err(e));
					continue;
				}
			};
			let gops = shape.ops() as f64 / 1e9 / seconds;
			if backend.is_reference() {
				cpu_seconds = Some(seconds);
			}
			println!("  {size:>6} {}: {seconds:.3} s, {gops:.1} GOPS", backend.name());
			roots.push(root);
			let mut row = BenchRow {
				backend: backend.name(),
				size,
				seconds,
				gops,
				root: hex::encode(root),
				library: None,
				library_gops: None,
				job_vs_library: None,
				on_device_gops: None,
				on_device_vs_library: None,
			};
			if !backend.is_reference() {
				let phases = match backend.phases(&shape, &[7; 32]).transpose() {
					Ok(phases) => phases,
					Err(e) => {
						let what = format!("profile {size} on {}", backend.name());
						passed &= check(&mut report.bench_errors, what, Err(e));
						None
					}
				};
				let to_gops = |seconds: f64| shape.ops() as f64 / 1e9 / seconds.max(1e-12);
				row.on_device_gops = phases.as_ref().and_then(|p| p.on_device()).map(to_gops);
				if let Some(on_device) = row.on_device_gops {
					println!("  {size:>6} on the device alone (inputs, GEMM, hashes, tree): {on_device:.1} GOPS");
				}
				if let Some((library, library_seconds)) = phases.and_then(|p| p.library_gemm) {
					let library_gops = to_gops(library_seconds);
					println!(
						"  {size:>6} {library}: {library_gops:.1} GOPS; the whole job runs at {:.0}% of it{}",
						100.0 * gops / library_gops,
						row.on_device_gops
							.map(|d| format!(", on the device alone at {:.0}%", 100.0 * d / library_gops))
							.unwrap_or_default()
					);
					row.on_device_vs_library = row.on_device_gops.map(|d| d / library_gops);
					row.library = Some(library);
					row.library_gops = Some(library_gops);
					row.job_vs_library = Some(gops / library_gops);
				}
			}
			report.bench.push(row);
		}
		if let Some(cpu_seconds) = cpu_seconds {
			for row in report.bench.iter().filter(|r| r.size == size && r.backend != cpu.name()) {
				println!(
					"  {size:>6} {}: {:.1}x the CPU backend",
					row.backend,
					cpu_seconds / row.seconds
				);
			}
		}
		if roots.windows(2).any(|w| w[0] != w[1]) {
			println!("  FAIL {size}: the backends' roots differ");
			passed = false;
		}
	}
	for (i, gpu) in gpus.iter().enumerate() {
		// The golden shapes' algorithms and the bench's.
		report.gpus[i].gemm = gpu.gemm_name();
		println!("  {}: {}", gpu.name(), report.gpus[i].gemm);
	}

	report.passed = passed;
	std::fs::write(&args.out, serde_json::to_string_pretty(&report)?)
		.with_context(|| format!("writing {}", args.out.display()))?;
	println!(
		"{}; report written to {}",
		if passed { "PASSED" } else { "FAILED" },
		args.out.display()
	);
	if !passed {
		anyhow::bail!("gpu-selftest failed (see above)");
	}
	Ok(())
}

/// The paths of the CUDA, NVRTC, cuBLASLt and oneDNN libraries mapped into this process.
fn loaded_libraries() -> Vec<String> {
	let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
	let mut paths: Vec<String> = maps
		.lines()
		.filter_map(|line| line.split_whitespace().nth(5))
		.filter(|path| {
			["libcuda", "libnvrtc", "libcublasLt", "libdnnl"].iter().any(|l| path.contains(l))
		})
		.map(String::from)
		.collect();
	paths.sort();
	paths.dedup();
	paths
}

fn compare(backend: &dyn Backend, job: &GoldenRoot) -> Result<String> {
	let started = std::time::Instant::now();
	let root = hex::encode(job.root_on(backend)?);
	anyhow::ensure!(root == job.root, "root {root}, golden {}", job.root);
	Ok(format!("root equal ({:.3} s)", started.elapsed().as_secs_f64()))
}

#[cfg(test)]
mod tests {
	use super::*;

	/// The golden file is what the CPU reference computes: every root, on the reference's
	/// portable path (the plain loop) and on this host's best GEMM.
	#[test]
	fn the_golden_roots_are_the_cpu_references() {
		let portable = CpuBackend::new(2, 1024)
			.unwrap()
			.with_dot(crate::backend::dot::DotPath::Portable)
			.unwrap();
		let best = CpuBackend::new(2, 1024).unwrap();
		let golden = golden().unwrap();
		assert!(golden.len() >= 6);
		let max_k = proofgrid_primitives::gemm::MAX_K;
		assert!(golden.iter().any(|j| j.k == max_k && j.seed.is_some()));
		assert!(golden.iter().any(|j| j.k == max_k && j.fill == Some([-128, -128])));
		for job in &golden {
			compare(&portable, job).unwrap();
			compare(&best, job).unwrap();
		}
	}
}
