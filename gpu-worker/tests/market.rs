//! Issue 39 on a real node, through the CLI a person runs: the market's devices listed
//! (`proofgrid market devices`, the `proofgrid_devices` RPC), and a job no device will take —
//! its price below every ask, or its own inputs and no data service — explained when it is
//! submitted and again when nobody claimed it.

mod common;

use std::process::Command;

use common::*;
use serde_json::Value;

/// `proofgrid` as `suri` with `args`: whether it succeeded, and its stdout and stderr.
fn cli(url: &str, suri: &str, args: &[&str]) -> (bool, String) {
	cli_as_is(url, &[], &[&["--suri", suri][..], args].concat())
}

/// `proofgrid` with `env` and `args` only (no `--suri`): whether it succeeded, and its output.
fn cli_as_is(url: &str, env: &[(&str, &str)], args: &[&str]) -> (bool, String) {
	let output = Command::new(target_dir().join("proofgrid"))
		.env_remove("PROOFGRID_SURI")
		.envs(env.iter().copied())
		.args(["--url", url])
		.args(args)
		.output()
		.unwrap();
	let text = format!(
		"{}{}",
		String::from_utf8_lossy(&output.stdout),
		String::from_utf8_lossy(&output.stderr)
	);
	(output.status.success(), text)
}

/// Issue 39: no silent default signer outside development chains. On a `local` chain the CLI
/// signs as nobody it was not told to; reading needs no signer.
#[tokio::test(flavor = "multi_thread")]
async fn a_chain_other_than_dev_has_no_default_signer() {
	let dir = tempfile::tempdir().unwrap();
	let listen = format!("/ip4/127.0.0.1/tcp/{}", free_port());
	let base = dir.path().join("local").display().to_string();
	let args = ["--chain", "local", "--rpc-port", "0", "--listen-addr", &listen];
	let args =
		[&args[..], &["--no-prometheus", "--no-telemetry", "--no-mdns", "--base-path", &base]]
			.concat()
			.iter()
			.map(|s| s.to_string())
			.collect::<Vec<_>>();
	let node =
		Process::spawn("local-node", &target_dir().join("proofgrid-node"), &args, dir.path());
	let started = std::time::Instant::now();
	let url = loop {
		if let Some(url) = logged_rpc_url(&node) {
			if proofgrid_client::Client::connect(&url).await.is_ok() {
				break url;
			}
		}
		assert!(started.elapsed().as_secs() < 60, "the local node's RPC did not come up");
		tokio::time::sleep(std::time::Duration::from_millis(200)).await;
	};
	let (ok, text) = cli_as_is(&url, &[], &["balance"]);
	assert!(!ok && text.contains("no signer: this is a Local chain"), "{text}");
	println!("$ proofgrid balance   # a local chain, no signer given\n{text}");
	let (ok, text) = cli_as_is(&url, &[], &["market"]);
	assert!(ok, "reading needs no signer\n{text}");
	let bob = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
	let (ok, text) = cli_as_is(&url, &[("PROOFGRID_SURI", "//Bob")], &["balance"]);
	assert!(ok && text.contains(bob), "{text}");
	let file = dir.path().join("suri");
	std::fs::write(&file, "//Bob\n").unwrap();
	let (ok, text) = cli_as_is(&url, &[], &["--suri-file", &file.display().to_string(), "balance"]);
	assert!(ok && text.contains(bob), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_lists_the_market_and_says_why_no_device_takes_a_job() {
	let dir = tempfile::tempdir().unwrap();
	let (_node, _client, url) = start_node(dir.path()).await;

	let (ok, text) = cli(&url, "//Eve", &["market", "devices"]);
	assert!(ok && text.contains("no device is registered"), "{text}");
	// A job with no device at all.
	let seeded = ["job", "submit", "--m", "1024", "--n", "1024", "--k", "1024"];
	let (ok, text) = cli(&url, "//Eve", &[&seeded[..], &["--price-cap", "1"]].concat());
	assert!(ok && text.contains("no device is registered on this chain"), "{text}");

	// One device, asking 0.1 GRID per unit, with no data service (no worker runs it).
	let register = ["device", "register", "--device-suri", "//ProofGridTestDevice"];
	let (ok, text) = cli(&url, "//Charlie", &[&register[..], &["--price", "0.1"]].concat());
	assert!(ok, "{text}");
	let (ok, text) = cli(&url, "//Eve", &["--json", "market", "devices"]);
	assert!(ok, "{text}");
	let devices: Value = serde_json::from_str(text.trim()).expect("JSON");
	let device = &devices[0];
	assert_eq!(devices.as_array().map(Vec::len), Some(1), "{text}");
	assert_eq!(device["pricePerUnit"], "100000000000", "planck, as a string: {text}");
	assert!(device["endpoint"].is_null(), "{text}");
	assert_eq!(device["kernels"][0], "gemm-i8", "{text}");
	let (_, listed) = cli(&url, "//Eve", &["market", "devices"]);
	println!("$ proofgrid market devices\n{listed}");

	// 1. A price below every ask: said at once.
	let (ok, text) = cli(&url, "//Eve", &[&seeded[..], &["--price-cap", "0.01"]].concat());
	assert!(ok, "{text}");
	assert!(text.contains("no device can take it"), "{text}");
	assert!(text.contains("asks 0.1 GRID/unit, above your cap of 0.01 GRID/unit"), "{text}");
	println!("$ proofgrid job submit --m 1024 --n 1024 --k 1024 --price-cap 0.01\n{text}");

	// 2. Its own inputs, and no device with a data service: said at once, and when the job's
	// wait ends.
	let (m, k, n) = (1024, 1024, 1024);
	let bytes =
		|rows, cols| proofgrid_client::data::npy_i8_bytes(rows, cols, &vec![1; rows * cols]);
	let (a, b) = (dir.path().join("A.npy"), dir.path().join("B.npy"));
	std::fs::write(&a, bytes(m, k)).unwrap();
	std::fs::write(&b, bytes(k, n)).unwrap();
	let (a, b) = (a.display().to_string(), b.display().to_string());
	let supplied = ["job", "submit", "--a", &a, "--b", &b, "--price-cap", "1", "--lifetime", "4"];
	let (ok, text) = cli(&url, "//Eve", &supplied);
	assert!(!ok, "nobody could claim it\n{text}");
	assert!(text.contains("publishes no data service"), "{text}");
	assert!(text.contains("was not claimed within 4 blocks"), "{text}");
	assert!(!text.contains("above your cap"), "its cap is above the ask\n{text}");
	println!("$ proofgrid job submit --a A.npy --b B.npy --price-cap 1 --lifetime 4\n{text}");
}
