//! `linear-i8` layers end to end with real binaries on loopback: a dev node (a block every
//! 500 ms), workers of the normal build and of the `fault-injection` build, and a dApp using
//! the `proofgrid` CLI.
//!
//! 1. The int8 MLP of `examples/mlp` (784-256-10, 64 inputs) runs as two chained layer jobs
//!    (`proofgrid model run`) on one worker: each checked by the CLI and settled; the logits are
//!    byte for byte those of the model's own NumPy pipeline.
//! 2. Layer 2 again (`proofgrid job layer --a-job`), on another worker: it fetches layer 1's
//!    output from the first worker's data service (the chain checks it is layer 1's), and the
//!    logits are again the model's. Then the first worker stops: the dApp gives layer 1's
//!    output itself (`--a` with `--a-job`), and layer 2 runs a third time.
//! 3. A cheater (1% of each layer output's elements falsified) takes layer jobs with the
//!    chain's minimum of 32 samples, which miss 1% of wrong elements 72% of the time. Every
//!    time, the CLI's own check finds a wrong element, writes no output and fails; the device
//!    is slashed, by the chain's spot check or, when that passed, by the CLI's fraud proof.
//!    It runs until a fraud proof has been upheld (expected 1.4 rounds).
//!
//! The cheater binary comes from `PROOFGRID_FAULTY_WORKER` (set by `scripts/test.sh`).

mod common;

use std::{
	path::{Path, PathBuf},
	process::Command,
};

use common::*;
use proofgrid_client::{
	data::{columns_of, npy_i8_bytes, read_npy_i32_vector, read_npy_i8, Matrix},
	grants::DownloadGrant,
	jobs::JobOutcome,
	Keypair, GRID,
};
use proofgrid_primitives::{
	inputs::Download,
	job::{InputSource, PublishedLeaf},
	linear::{layer_output, output_commitment, Requant},
};
use serde_json::{json, Value};
use sp_core::H256;

/// A layer of the model, as `model.json` describes it.
struct ModelLayer {
	weights: PathBuf,
	bias: PathBuf,
	requant: Requant,
}

fn model() -> (PathBuf, Vec<ModelLayer>, Vec<i8>) {
	let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/mlp");
	let json: Value = serde_json::from_slice(&std::fs::read(dir.join("model.json")).unwrap())
		.expect("model.json");
	let layers = json["layers"]
		.as_array()
		.unwrap()
		.iter()
		.map(|l| ModelLayer {
			weights: dir.join(l["weights"].as_str().unwrap()),
			bias: dir.join(l["bias"].as_str().unwrap()),
			requant: Requant {
				multiplier: l["multiplier"].as_i64().unwrap() as i32,
				shift: l["shift"].as_u64().unwrap() as u8,
				relu: l["relu"].as_bool().unwrap(),
			},
		})
		.collect();
	let logits = json["logits"]
		.as_array()
		.unwrap()
		.iter()
		.flat_map(|row| row.as_array().unwrap().iter().map(|v| v.as_i64().unwrap() as i8))
		.collect();
	(dir.join("x.npy"), layers, logits)
}

/// `proofgrid job layer` for the dApp: whether it succeeded, its JSON lines, its whole output.
fn job_layer(url: &str, layer: &ModelLayer, args: &[&str]) -> (bool, Vec<Value>, String) {
	let q = &layer.requant;
	let (multiplier, shift) = (q.multiplier.to_string(), q.shift.to_string());
	let mut command = Command::new(target_dir().join("proofgrid"));
	command
		.env(proofgrid_client::endpoint::ALLOW_PRIVATE_ENV, "1")
		.args(["--url", url, "--suri", "//Eve", "--json", "job", "layer", "--w"])
		.arg(&layer.weights)
		.arg("--bias")
		.arg(&layer.bias)
		.args(["--multiplier", &multiplier, "--shift", &shift, "--price-cap", "1"])
		.args(args);
	if q.relu {
		command.arg("--relu");
	}
	let output = command.output().unwrap();
	let stdout = String::from_utf8_lossy(&output.stdout).to_string();
	let lines = stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
	(output.status.success(), lines, stdout + &String::from_utf8_lossy(&output.stderr))
}

/// The first JSON line holding `key`.
fn line<'a>(lines: &'a [Value], key: &str) -> Option<&'a Value> {
	lines.iter().find(|v| v.get(key).is_some())
}

/// The local reference: the layer of `rows` (m×k row-major) and `layer`.
fn reference(rows: &[i8], layer: &ModelLayer) -> Vec<i8> {
	let (k, n, w) = read_npy_i8(&layer.weights).unwrap();
	let bias = read_npy_i32_vector(&layer.bias).unwrap();
	layer_output(rows, &columns_of(&w, k, n), k, &bias, &layer.requant)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_mlp_runs_as_chained_verified_layers_and_a_cheating_layer_is_slashed() {
	let faulty = faulty_worker();
	let dir = tempfile::tempdir().unwrap();
	let (node, client, url) = start_node(dir.path()).await;
	let (x, layers, logits) = model();
	let program = Path::new(env!("CARGO_BIN_EXE_proofgrid-worker"));

	// 1. The whole network on the first worker: `proofgrid model run`.
	let first_addr = format!("127.0.0.1:{}", free_port());
	let first =
		worker(program, "first", &url, "//Charlie", dir.path(), &["--data-addr", &first_addr]);
	let first_owner = Keypair::from_suri("//Charlie").unwrap();
	let first_device = wait_for_device(&client, &first_owner.account(), &first).await;
	let model_dir = x.parent().unwrap().display().to_string();
	let output = Command::new(target_dir().join("proofgrid"))
		.env(proofgrid_client::endpoint::ALLOW_PRIVATE_ENV, "1")
		.args(["--url", &url, "--suri", "//Eve", "--json", "model", "run", &model_dir])
		.output()
		.unwrap();
	let stdout = String::from_utf8_lossy(&output.stdout);
	let text = format!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
	assert!(output.status.success(), "model run\n{text}\n{}", first.log_tail());
	let lines: Vec<Value> = stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
	let jobs: Vec<u64> = lines.iter().filter_map(|v| v["submitted"].as_u64()).collect();
	assert_eq!(jobs.len(), 2, "one job per layer\n{text}");
	let settled = lines.iter().filter(|v| v["end"]["outcome"] == "settled").count();
	assert_eq!(settled, 2, "both layers settled\n{text}");
	assert_eq!(lines.iter().filter(|v| v.get("checked").is_some()).count(), 2, "{text}");
	let result = line(&lines, "classes").unwrap_or_else(|| panic!("no classes\n{text}"));
	assert_eq!(result["sameAsModel"], true, "{result}");
	println!("model run: jobs {jobs:?}, {result}");
	let id1 = jobs[0];

	// 1b. The biases' upload, by hand (the SDK): only the job's client, only the committed values.
	let (_, _, inputs) = read_npy_i8(&x).unwrap();
	let (k, n, w) = read_npy_i8(&layers[0].weights).unwrap();
	let cols = columns_of(&w, k, n);
	let bias = read_npy_i32_vector(&layers[0].bias).unwrap();
	let spec = proofgrid_client::layers::layer_spec(
		&inputs,
		&cols,
		k,
		&bias,
		layers[0].requant,
		InputSource::Upload,
		32,
	)
	.unwrap();
	let dapp = Keypair::from_suri("//Eve").unwrap();
	let job = client.submit_job(&dapp, spec, GRID, 100).await.unwrap();
	wait_assigned(&client, job, &first).await;
	let stranger = Keypair::from_suri("//Bob").unwrap();
	// The service's refusals, by their status.
	let status = |e: proofgrid_client::Error| match e {
		proofgrid_client::Error::Data(proofgrid_client::DataError::Refused { status, .. }) => {
			status
		}
		other => panic!("not a refusal: {other}"),
	};
	assert_eq!(status(client.upload_bias(&stranger, job, &bias).await.unwrap_err()), 401);
	let mut wrong = bias.clone();
	wrong[7] += 1;
	assert_eq!(status(client.upload_bias(&dapp, job, &wrong).await.unwrap_err()), 422);
	assert_eq!(status(client.upload_bias(&dapp, job, &bias[1..]).await.unwrap_err()), 400);
	client.upload_bias(&dapp, job, &bias).await.unwrap();
	// Once received, an input is never rewritten, and another upload of it is answered at
	// once without its body being read (the same bytes, or any: the device holds the
	// committed ones; the job below verifies with them).
	client.upload_bias(&dapp, job, &bias).await.unwrap();
	client.upload_bias(&dapp, job, &wrong).await.unwrap();
	client.upload_input(&dapp, job, Matrix::A, &inputs).await.unwrap();
	client.upload_input(&dapp, job, Matrix::B, &cols).await.unwrap();
	let from = client.best_number().await.unwrap();
	let end = outcome(&client, job, from, &first).await;
	assert!(matches!(end, JobOutcome::Verified { .. }), "{end:?}");
	println!(
		"bias upload: a stranger's, wrong and short uploads refused, a repeated one answered unread; the job verified"
	);
	// Issue 32: the layer's rows and accumulators are its client's. A stranger — without a
	// grant, with one it signed itself, or posing as the device of a chained job — gets 403;
	// the client's grant gets them.
	let output = client.committed_output(job).await.unwrap();
	let endpoint = client.endpoint(&first_device).await.unwrap().expect("published");
	let commitment = output_commitment(&output.shape, H256(output.root));
	let forbidden = |e: proofgrid_client::Error| {
		assert!(
			matches!(
				e,
				proofgrid_client::Error::Data(proofgrid_client::DataError::Refused {
					status: 403,
					..
				})
			),
			"{e}"
		);
		e.to_string()
	};
	let minute = std::time::Duration::from_secs(60);
	let genesis = client.genesis_hash().0;
	let grant = |key, what| client.grant_download(key, first_device.0, job, what, minute).unwrap();
	let (own, by_client, acc_by_client) = (
		grant(&stranger, Download::Output),
		grant(&dapp, Download::Output),
		grant(&dapp, Download::Accumulators),
	);
	let posing = DownloadGrant::by_chained_device(&stranger, &genesis, first_device.0, job, job);
	let rows = |grant| client.download_layer_rows(&endpoint, job, &commitment, grant);
	let acc = |grant| client.download_accumulators(&endpoint, job, &output.shape, grant);
	forbidden(rows(None).await.unwrap_err());
	forbidden(rows(Some(&own)).await.unwrap_err());
	let posed = forbidden(rows(Some(&posing)).await.unwrap_err());
	forbidden(acc(None).await.unwrap_err());
	let y = rows(Some(&by_client)).await.unwrap();
	assert_eq!(y, reference(&inputs, &layers[0]), "the client's grant gets Y");
	assert_eq!(acc(Some(&acc_by_client)).await.unwrap().len(), y.len());
	println!("layer job {job}: Y and its accumulators refused to a stranger ({posed}), served to the client");
	// A data demand on the verified layer: the worker publishes row 1 of `Y` on chain, the
	// row the reference computes (the chain checked it against the committed root).
	let demanded_from = client.best_number().await.unwrap();
	let witness = (k as u32).max(n as u32);
	let answer_by = client.demand_data(&dapp, job, vec![(1, 3)], witness).await.unwrap();
	let published = published_leaves(&client, job, demanded_from, answer_by, &first).await;
	let [PublishedLeaf::Row { values, .. }] = &published[..] else {
		panic!("one row published: {published:?}")
	};
	let expected = reference(&inputs, &layers[0]);
	assert_eq!(values.to_vec(), expected[n..2 * n].to_vec(), "the published row is Y's");
	println!("layer job {job}: demanded row 1 published on chain ({} values)", values.len());

	// 2. Layer 2, chained, on a second worker: the first one's device is paused (its data
	// service still serves layer 1's output).
	client.pause_device(&first_owner, &first_device).await.expect("paused");
	let second_addr = format!("127.0.0.1:{}", free_port());
	// The first worker's data service is on loopback.
	let second_args = ["--data-addr", &second_addr, "--fetch-private-urls"];
	let second = worker(program, "second", &url, "//Ferdie", dir.path(), &second_args);
	wait_for_device(&client, &Keypair::from_suri("//Ferdie").unwrap().account(), &second).await;
	let logits_path = dir.path().join("logits.npy");
	let logits_out = logits_path.display().to_string();
	let a_job = id1.to_string();
	let (ok, lines, output) =
		job_layer(&url, &layers[1], &["--a-job", &a_job, "--out", &logits_out, "--wait"]);
	assert!(ok, "layer 2\n{output}\n{}", second.log_tail());
	let id2 = line(&lines, "submitted").and_then(|v| v["submitted"].as_u64()).unwrap();
	let fetched = std::fs::read_to_string(&second.log).unwrap();
	assert!(
		fetched.lines().any(|l| l.contains("input fetched")
			&& l.contains(&format!("job={id2} "))
			&& l.contains(&format!("https://{first_addr}/v1/jobs/{id1}/output"))),
		"layer 2's A came from the first worker\n{}",
		second.log_tail()
	);
	let (_, classes, out) = read_npy_i8(&logits_path).unwrap();
	assert_eq!(classes, 10);
	let (_, _, inputs) = read_npy_i8(&x).unwrap();
	let local = reference(&reference(&inputs, &layers[0]), &layers[1]);
	assert_eq!(out, local, "the logits are the local reference's");
	assert_eq!(out, logits, "the logits are the model's own pipeline's, byte for byte");
	let predicted: Vec<usize> = out
		.chunks_exact(10)
		.map(|row| (0..10).max_by_key(|&j| (row[j], std::cmp::Reverse(j))).unwrap())
		.collect();
	assert_eq!(json!(predicted), result["classes"]);
	println!("layer 2 again (job {id2}, A = job {id1}'s output): predicted classes {predicted:?}");

	// 2b. The first worker stops, and its data service with it: the second device cannot fetch
	// layer 1's output any more, so the dApp gives it (`--a` with `--a-job`: the rows it saved,
	// checked here against the chain's commitment and uploaded).
	first.stop();
	let hidden_path = dir.path().join("hidden.npy");
	let hidden = reference(&inputs, &layers[0]);
	std::fs::write(&hidden_path, npy_i8_bytes(inputs.len() / 784, 256, &hidden)).unwrap();
	let again_path = dir.path().join("logits-again.npy");
	let (hidden_arg, again_arg) =
		(hidden_path.display().to_string(), again_path.display().to_string());
	let args = ["--a-job", &a_job, "--a", &hidden_arg, "--out", &again_arg];
	let (ok, _, output) = job_layer(&url, &layers[1], &args);
	assert!(ok, "layer 2 with A uploaded\n{output}\n{}", second.log_tail());
	assert_eq!(read_npy_i8(&again_path).unwrap().2, logits, "the same logits");
	println!("layer 2 once more, A uploaded by the dApp (its first device gone): the same logits");
	second.stop();

	// 3. The cheater, alone in the market (the first device is paused, the second stopped).
	let cheater_args = ["--corrupt-fraction", "0.01", "--data-addr", &first_addr];
	let cheater = worker(&faulty, "cheater", &url, "//Dave", dir.path(), &cheater_args);
	let cheater_owner = Keypair::from_suri("//Dave").unwrap();
	let cheater_device = wait_for_device(&client, &cheater_owner.account(), &cheater).await;
	let mut proven = 0;
	for round in 1..=8 {
		let from = client.best_number().await.unwrap();
		let bond_before = client.device(&cheater_device).await.unwrap().unwrap().bond;
		let out = dir.path().join(format!("cheated-{round}.npy"));
		let out_arg = out.display().to_string();
		let x_arg = x.display().to_string();
		let args = ["--a", &x_arg, "--samples", "32", "--out", &out_arg];
		let (ok, lines, output) = job_layer(&url, &layers[0], &args);
		assert!(!ok, "a wrong Y is not accepted\n{output}");
		assert!(!out.exists(), "a wrong Y is not written");
		let wrong = line(&lines, "wrongElement").unwrap_or_else(|| panic!("no check\n{output}"));
		let job = line(&lines, "submitted").and_then(|v| v["submitted"].as_u64()).unwrap();
		let mut end = outcome(&client, job, from, &cheater).await;
		if let JobOutcome::Verified { block, .. } = end {
			end = outcome(&client, job, block + 1, &cheater).await;
		}
		let JobOutcome::Failed { reason, slashed, compensation, .. } = end else {
			panic!("round {round}: job {job} of the cheater: {end:?}\n{output}");
		};
		assert!(slashed > 0 && compensation > 0, "{reason}: {slashed} slashed");
		let bond = client.device(&cheater_device).await.unwrap().unwrap().bond;
		let topped = bond + slashed - bond_before;
		assert!(bond + slashed >= bond_before, "the bond lost at least the collateral");
		match line(&lines, "dispute") {
			Some(verdict) => {
				assert!(reason.contains("FraudProven"), "{reason}");
				assert_eq!(verdict["dispute"]["verdict"], "upheld", "{verdict}");
				println!(
					"round {round}: the spot check passed; the CLI found {} and its fraud proof slashed {slashed} (bond topped up {topped} since)",
					wrong["wrongElement"]
				);
				proven += 1;
				break;
			}
			None => println!("round {round}: the chain's spot check caught it ({reason})"),
		}
	}
	assert_eq!(proven, 1, "no round passed the spot check in 8 (probability 0.28⁸ = 4·10⁻⁵)");
	cheater.stop();
	drop(node);
}
