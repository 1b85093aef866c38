//! A whole registered model as one job, end to end with real binaries on loopback: a dev node
//! (a block every 500 ms), a worker that fetches the example CNN's files from the weights URL
//! its registration names (a local HTTP server), a worker of the `fault-injection` build given
//! the files (`--models`) that fakes one element of the CNN's middle layer, and a dApp using the
//! SDK (`Client::submit_model`, `Client::follow_model`).
//!
//! 1. The CNN of `examples/cnn` is registered, and a batch of 48 images runs as one job: the
//!    worker fetches and checks the weights, the dApp checks every layer's output, which equals
//!    its own run of the model byte for byte, has rows of two layers published on chain, and
//!    the job settles.
//!    The CLI does the same in one command (`proofgrid model run DIR --id ID --x-url URL`),
//!    the batch fetched by the worker from the URL.
//! 2. The cheater takes the next batch. The chain's draws in the faked layer almost always miss
//!    its one wrong element; the dApp's check finds it, and the device is slashed (by the
//!    dApp's fraud proof, or by the reveal when a draw hit it).
//!
//! The cheater binary comes from `PROOFGRID_FAULTY_WORKER` (set by `scripts/test.sh`).

mod common;

use std::path::Path;

use common::*;
use proofgrid_client::{
	disputes::DisputeOutcome, jobs::JobOutcome, model::ModelFile, own::MatmulOptions, Error,
	Keypair, GRID,
};

/// A pseudo-random batch of `batch` images in the model's input shape.
fn batch_of(file: &ModelFile, batch: u32, salt: u64) -> Vec<i8> {
	let len = batch as u64 * file.model.input.values();
	(0..len).map(|i| proofgrid_primitives::gemm::mix64(i ^ salt << 40) as i8).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cnn_batch_settles_as_one_job_and_a_worker_faking_an_inner_layer_is_slashed() {
	let faulty = faulty_worker();
	let dir = tempfile::tempdir().unwrap();
	let (_node, client, url) = start_node(dir.path()).await;
	let cnn = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/cnn/model");
	let models = dir.path().join("models");
	std::fs::create_dir_all(&models).unwrap();
	std::os::unix::fs::symlink(&cnn, models.join("cnn")).unwrap();
	let models = models.display().to_string();
	let file = ModelFile::load(&cnn).unwrap();
	// The weights at a URL, as their registrant serves them.
	let mut served = std::collections::HashMap::new();
	for entry in std::fs::read_dir(&cnn).unwrap() {
		let path = entry.unwrap().path();
		let name = path.file_name().unwrap().to_string_lossy().to_string();
		served.insert(format!("/cnn/{name}"), std::fs::read(&path).unwrap());
	}
	// The CLI's batch, served too: its device fetches it (`--x-url`).
	let cli_batch = batch_of(&file, 16, 3);
	let values = file.model.input.values() as usize;
	let npy = proofgrid_client::data::npy_i8_bytes(16, values, &cli_batch);
	served.insert("/batches/x.npy".to_string(), npy);
	let served = std::sync::Arc::new(served);
	let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
	let server = format!("http://{}", listener.local_addr().unwrap());
	let weights_url = format!("{server}/cnn");
	let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
		let served = served.clone();
		async move { served.get(uri.path()).cloned().unwrap_or_default() }
	});
	tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
	let dapp = Keypair::from_suri("//Eve").unwrap();
	let model = client.register_model(&dapp, &file, Some(&weights_url)).await.unwrap();
	let options = MatmulOptions {
		price_cap: GRID,
		samples: None,
		lifetime: 100,
		public_output: false,
		min_vram_mib: 0,
		min_gops: 0,
	};
	let program = Path::new(env!("CARGO_BIN_EXE_proofgrid-worker"));

	// 1. An honest worker, which has no model yet, runs the batch as one job.
	let addr = format!("127.0.0.1:{}", free_port());
	let fetched = dir.path().join("fetched");
	std::fs::create_dir_all(&fetched).unwrap();
	let fetched = fetched.display().to_string();
	let honest = worker(
		program,
		"honest",
		&url,
		"//Charlie",
		dir.path(),
		&["--data-addr", &addr, "--models", &fetched, "--fetch-private-urls"],
	);
	let charlie = Keypair::from_suri("//Charlie").unwrap();
	wait_for_device(&client, &charlie.account(), &honest).await;
	let input = batch_of(&file, 48, 1);
	let job = client.submit_model(&dapp, model, &file, 48, input.clone(), &options).await.unwrap();
	let outputs = client
		.follow_model(&dapp, &job, &file, |_| {})
		.await
		.unwrap_or_else(|e| panic!("{e}\n{}", honest.log_tail()));
	assert_eq!(outputs, file.run(48, &input).unwrap(), "every layer, byte for byte");
	let log = std::fs::read_to_string(&honest.log).unwrap();
	assert!(log.contains("model fetched and checked against its registration"), "{log}");
	// Data availability, once the reveal is verified: rows of the first and last layers,
	// published on chain by the worker and proven against the committed root.
	let verified = outcome(&client, job.id, job.submitted_at + 1, &honest).await;
	assert!(matches!(verified, JobOutcome::Verified { .. }), "{verified:?}");
	let spec = client.job(job.id).await.unwrap().unwrap().spec.0;
	let witness = spec.shape.k.max(spec.shape.n);
	let demanded = vec![(0, 100), (4, 47)];
	let demanded_from = client.best_number().await.unwrap();
	let answer_by = client.demand_data(&dapp, job.id, demanded.clone(), witness).await.unwrap();
	let published = published_leaves(&client, job.id, demanded_from, answer_by, &honest).await;
	let plan = file.model.plan(48).unwrap();
	let root = proofgrid_client::model_jobs::outputs_root(&plan, &outputs).unwrap();
	assert_eq!(
		proofgrid_primitives::model_proof::check_model_data_answer(
			&plan, &root, &demanded, &published
		),
		Ok(())
	);
	println!("data demand: rows {demanded:?} published by the worker and proven");
	let end = client
		.until_settled(job.id, job.submitted_at + 1, JOB_TIMEOUT, |_| {})
		.await
		.unwrap_or_else(|e| panic!("{e}\n{}", honest.log_tail()));
	let JobOutcome::Settled { payment, .. } = end else { panic!("{end:?}") };
	let logits = outputs.last().unwrap();
	println!(
		"model job {}: 48 images, {} layers, {} samples, {} logits checked, settled, {} planck paid",
		job.id,
		outputs.len(),
		job.samples,
		logits.len(),
		payment
	);

	// The CLI: one command, the same job, the batch from a URL the worker fetches it from.
	let x_url = format!("{server}/batches/x.npy");
	let output = std::process::Command::new(target_dir().join("proofgrid"))
		.env(proofgrid_client::endpoint::ALLOW_PRIVATE_ENV, "1")
		.args(["--url", &url, "--suri", "//Eve", "--json", "model", "run"])
		.arg(&cnn)
		.args(["--id", &model.to_string(), "--x-url", &x_url])
		.output()
		.unwrap();
	let stdout = String::from_utf8_lossy(&output.stdout).to_string();
	let text = format!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
	assert!(output.status.success(), "model run --id\n{text}\n{}", honest.log_tail());
	let lines: Vec<serde_json::Value> =
		stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
	assert_eq!(lines.iter().filter(|v| v.get("submitted").is_some()).count(), 1, "{text}");
	assert!(lines.iter().any(|v| v["end"]["outcome"] == "settled"), "{text}");
	let classes = lines.iter().find_map(|v| v.get("classes")).expect("classes");
	let log = std::fs::read_to_string(&honest.log).unwrap();
	assert!(log.contains("input fetched") && log.contains(&x_url), "{log}");
	let logits = file.run(16, &cli_batch).unwrap().pop().unwrap();
	let expected: Vec<usize> = logits
		.chunks_exact(10)
		.map(|row| (0..10).max_by_key(|&j| (row[j], std::cmp::Reverse(j))).unwrap())
		.collect();
	assert_eq!(classes, &serde_json::json!(expected));
	println!(
		"proofgrid model run --id {model} --x-url: 16 images as one job, fetched by the worker, \
		 settled, classes {classes}"
	);
	honest.stop();

	// 2. The cheater: one wrong element of the middle layer.
	let addr = format!("127.0.0.1:{}", free_port());
	let cheat = worker(
		&faulty,
		"cheat",
		&url,
		"//Dave",
		dir.path(),
		&["--data-addr", &addr, "--models", &models, "--corrupt-fraction", "0.01"],
	);
	let dave = Keypair::from_suri("//Dave").unwrap();
	let device = wait_for_device(&client, &dave.account(), &cheat).await;
	let bond = client.device(&device).await.unwrap().unwrap().bond;
	let input = batch_of(&file, 48, 2);
	let job = client.submit_model(&dapp, model, &file, 48, input, &options).await.unwrap();
	let error = client.follow_model(&dapp, &job, &file, |_| {}).await.unwrap_err();
	let Error::WrongOutput { outcome, dispute, row, column, .. } = error else {
		panic!("{error}\n{}", cheat.log_tail())
	};
	let slashed = match (*outcome, dispute) {
		(JobOutcome::Failed { slashed, .. }, None) => {
			println!("the reveal hit the wrong element: slashed {slashed}");
			slashed
		}
		(JobOutcome::Verified { .. }, Some(DisputeOutcome::Upheld { slashed, .. })) => {
			println!("the chain's draws missed it; the fraud proof of ({row}, {column}) slashed {slashed}");
			slashed
		}
		other => panic!("not slashed: {other:?}\n{}", cheat.log_tail()),
	};
	assert!(slashed > 0);
	let after = client.device(&device).await.unwrap().unwrap().bond;
	assert!(after < bond, "the bond went from {bond} to {after}");
	cheat.stop();
}
