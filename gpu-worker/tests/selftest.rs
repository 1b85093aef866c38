//! `proofgrid-worker gpu-selftest`, the real binary: on a host without a GPU it says so, checks
//! what needs none (NVRTC where installed, the golden roots on the CPU reference, the CPU's
//! bench) and passes, writing its JSON report; with a GPU, every GPU must match the golden
//! roots too.

use std::process::Command;

#[test]
fn the_selftest_says_what_it_found_and_writes_its_report() {
	let dir = tempfile::tempdir().unwrap();
	let out = dir.path().join("report.json");
	let output = Command::new(env!("CARGO_BIN_EXE_proofgrid-worker"))
		.args(["gpu-selftest", "--sizes", "64", "--cpu-max-size", "64", "--threads", "2"])
		.arg("--out")
		.arg(&out)
		.output()
		.unwrap();
	let stdout = String::from_utf8_lossy(&output.stdout);
	println!("{stdout}");
	assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
	let report: serde_json::Value =
		serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
	assert_eq!(report["passed"], true);
	let golden = report["goldenCpu"].as_array().unwrap();
	assert!(golden.len() >= 6 && golden.iter().all(|c| c["ok"] == true), "{report}");
	match report["noGpu"].as_str() {
		Some(reason) => {
			assert!(stdout.contains(&format!("NO GPU: {reason}")), "{stdout}");
			assert!(report["gpus"].as_array().unwrap().is_empty());
		}
		None => {
			let gpus = report["gpus"].as_array().unwrap().len();
			assert!(gpus > 0);
			assert_eq!(report["goldenGpu"].as_array().unwrap().len(), gpus * golden.len());
		}
	}
	// The CPU bench ran at the one size asked for.
	assert_eq!(report["bench"][0]["size"], 64, "{report}");
}
