//! The CPU backend's choice of GEMM, on the real binary: oneDNN where it is exact, and never an
//! inexact path. oneDNN's kernels below AVX-512 VNNI saturate int16 sums; capping its
//! instruction set there (`ONEDNN_MAX_CPU_ISA`) must make the worker's exactness probe refuse it
//! and fall back to its own tiles, with the reason logged and the same root.

use std::process::Command;

/// `proofgrid-worker bench --verify` on a ragged size, with `ONEDNN_MAX_CPU_ISA` set to `isa`
/// when given: (the backend's line, the whole output).
fn bench(isa: Option<&str>) -> (String, String) {
	let mut command = Command::new(env!("CARGO_BIN_EXE_proofgrid-worker"));
	command.args(["bench", "--backend", "cpu", "--threads", "2", "--sizes", "67,200"]);
	command.args(["--repeat", "1", "--verify"]).env("RUST_LOG", "info");
	if let Some(isa) = isa {
		command.env("ONEDNN_MAX_CPU_ISA", isa);
	}
	let output = command.output().unwrap();
	let text = format!(
		"{}{}",
		String::from_utf8_lossy(&output.stdout),
		String::from_utf8_lossy(&output.stderr)
	);
	assert!(output.status.success(), "{text}");
	assert_eq!(text.matches("root equal").count(), 2, "{text}");
	assert!(!text.contains("ROOT DIFFERS"), "{text}");
	let backend = text.lines().find(|l| l.starts_with("backend: ")).unwrap_or_default().to_string();
	(backend, text)
}

#[test]
fn an_inexact_onednn_is_refused_and_the_root_stays_the_reference() {
	let (backend, text) = bench(None);
	if !backend.contains("oneDNN") {
		println!(
			"SKIPPED: oneDNN is not used on this host ({backend}); its own tiles ran:\n{text}"
		);
		return;
	}
	for isa in ["AVX2", "AVX512_CORE"] {
		let (capped, text) = bench(Some(isa));
		assert!(!capped.contains("oneDNN"), "{isa}: {capped}\n{text}");
		assert!(text.contains("is not exact on this CPU"), "{isa}: the reason is logged\n{text}");
		println!("ONEDNN_MAX_CPU_ISA={isa}: {capped}, oneDNN refused, roots equal");
	}
}
