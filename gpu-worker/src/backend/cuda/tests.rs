use super::*;
use crate::backend::cpu::CpuBackend;
use std::{path::Path, process::Command};

/// Shapes that are not multiples of the 4×4 tile, of 4-byte words, or of a thread block.
const SHAPES: [(u32, u32, u32); 6] =
	[(1, 1, 1), (4, 4, 4), (5, 7, 3), (33, 17, 65), (64, 3, 200), (130, 66, 257)];

fn required(what: &str) -> bool {
	let required = std::env::var("PROOFGRID_REQUIRE_NVRTC").is_ok_and(|v| v == "1");
	if !required {
		println!(
			"SKIPPED: {what} (set PROOFGRID_REQUIRE_NVRTC=1 to require it; scripts/test.sh does)"
		);
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
			cpu.leaf_hashes(&shape, &seed).unwrap().iter().map(hex::encode).collect();
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
		let emulated = emulated_lines(&exe, &[&args[..], &[a.to_string(), b.to_string()]].concat());
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
				gpu.leaf_hashes(&shape, &seed).unwrap(),
				cpu.leaf_hashes(&shape, &seed).unwrap(),
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
				&mut leaves,
			)
			.unwrap();
			assert_eq!(leaves, filled_reference(shape.m, shape.n, shape.k, a, b), "{shape:?}");
		}
		println!("{}: {}", gpu.name(), gpu.gemm_name());
	}
}
