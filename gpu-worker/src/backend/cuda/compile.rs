//! The kernels' source, compiled by NVRTC for each GPU's architecture, and `ptxas`'s
//! report of their registers and spills (the self-test's).

use super::*;

/// The kernels' CUDA C source.
pub const KERNELS: &str = include_str!("../../../kernels/gemm_i8.cu");
/// The kernels the worker calls.
pub const KERNEL_NAMES: [&str; 5] =
	["pg_gen_lanes", "pg_fill", "pg_gemm_tiles", "pg_hash_tiles", "pg_tree_level"];
/// The `linear-i8` epilogue (`Y = act(sat_i8(requant(acc + bias)))` on the GEMM's
/// accumulators): compiled and checked against the definition, not yet run by a job.
pub const LINEAR_EPILOGUE: &str = "pg_linear_epilogue";

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
	pub(super) fn parse(log: &str) -> Vec<Self> {
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
pub(super) fn arch_of(major: i32, minor: i32) -> Result<&'static str> {
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
