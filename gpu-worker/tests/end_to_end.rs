//! The whole mission on one machine, with real binaries on loopback: a dev node (blocks every
//! 500 ms), a cheating worker (the `fault-injection` build, 30% of leaves falsified) and an
//! honest one (the normal build, CPU backend), and a dApp submitting GEMM-i8 jobs through the
//! SDK.
//!
//! 1. The cheater alone takes 3 jobs: all fail, each slashes the job's whole collateral, the
//!    dApp is compensated (less than half the job's value each time); the slashed device is
//!    below the minimum bond, so its worker tops the bond up before each new claim; SIGTERM
//!    stops it cleanly.
//! 2. Hostile jobs come first: a poison job (2²⁰ × 2²⁰ × 1: tiny work, 2³⁶ leaves) and
//!    one too slow for any commit window (16 384 × 16 384 × 65 536). The honest worker refuses
//!    both with a logged reason, stays up, and takes the 5 honest jobs posted after them: all
//!    settle, its owner is paid to the unit, and its device paid no fee for any claim, commit
//!    or reveal.
//!    Then a dApp's own matrices (1000×517 by 517×1029): only its client may upload them and
//!    only the committed bytes; the worker computes, the chain checks challenged elements
//!    against the uploaded rows and columns and pays, and the downloaded `C` equals a plain
//!    multiplication done here.
//! 3. The honest worker is SIGKILLed right after committing a job and restarted: the job still
//!    settles, exactly once. Then its device is paused on chain: within 10 blocks it claims
//!    nothing and no transaction fails.
//! 4. Rewards: each era with verified work mints ρ × the protocol fees its jobs burned (far
//!    below the schedule), all of the providers' pool to the honest owner, the cheater nothing.
//! 5. The money invariants `try_state` checks hold, read from outside: no budget or deposit
//!    held for finished jobs, bond holds equal device bonds, and issuance = genesis + minted −
//!    transaction fees − held funds burned (protocol fees and slashes).
//!
//! The cheater binary comes from `PROOFGRID_FAULTY_WORKER` (set by `scripts/test.sh`, which
//! builds it with `--features proofgrid-worker/fault-injection`).

mod common;

use std::{
	path::Path,
	process::Command,
	time::{Duration, Instant},
};

use common::*;

use proofgrid_client::{
	data::{npy_i8_bytes, Matrix},
	endpoint::{check_endpoint, AddressPolicy},
	jobs::{JobOutcome, JobStatus},
	runtime, AccountId32, Balance, Client, Keypair, GRID,
};
use proofgrid_primitives::{
	check::{freivalds, DEFAULT_ROUNDS},
	device::{Kernel, Requirements},
	gemm::{mix64, GemmShape},
	inputs::{download_message, Download, MatrixCommitment, SuppliedInputs},
	job::{InputSource, JobInputs, JobSpec, PublishedLeaf},
};
use subxt::utils::Static;

/// The smallest kind of job: a 1024×1024×(512 + i) GEMM, one work unit, seed from `i`.
fn spec(i: u8) -> JobSpec {
	JobSpec::seeded(
		GemmShape { m: 1024, n: 1024, k: 512 + i as u32 },
		[i; 32],
		Requirements { kernel: Kernel::GemmI8, min_vram_mib: 0, min_gops: 0 },
	)
}

/// Submits a job for the dApp; returns its id and the transaction fee.
async fn submit(client: &Client, dapp: &Keypair, spec: JobSpec) -> (u64, Balance) {
	let deadline = client.best_number().await.unwrap() + 400;
	let call = runtime::tx().jobs().submit_job(Static(spec), GRID, deadline);
	let events = client.submit(&call, dapp).await.expect("job submitted");
	let job = events
		.find_first::<runtime::jobs::events::JobSubmitted>()
		.expect("JobSubmitted")
		.unwrap()
		.job;
	(job, fee_of(&events))
}

fn fee_of(events: &subxt::extrinsics::ExtrinsicEvents<subxt::PolkadotConfig>) -> Balance {
	events
		.find::<runtime::transaction_payment::events::TransactionFeePaid>()
		.map(|e| e.unwrap().actual_fee)
		.sum()
}

/// Waits until `worker` has committed `job`'s output; returns the root.
async fn wait_committed(client: &Client, job: u64, worker: &Process) -> [u8; 32] {
	let started = Instant::now();
	loop {
		match client.job(job).await.unwrap().map(|j| j.status) {
			Some(JobStatus::Committed { root, .. }) => return root.0,
			Some(JobStatus::Submitted | JobStatus::Assigned { .. }) => {}
			other => panic!("job {job}: {other:?}\n{}", worker.log_tail()),
		}
		assert!(started.elapsed() < JOB_TIMEOUT, "job {job} not committed\n{}", worker.log_tail());
		tokio::time::sleep(Duration::from_millis(20)).await;
	}
}

/// The payment of supplied job `job`, verified in block `verified_at`, once its dispute window
/// has closed and it settled.
async fn settled_payment(client: &Client, job: u64, verified_at: u32, worker: &Process) -> Balance {
	let timeout = Duration::from_secs(180);
	match client.watch_job(job, verified_at + 1, timeout, |_, _| {}).await {
		Ok(JobOutcome::Settled { payment, .. }) => payment,
		Ok(other) => panic!("supplied job {job} after its dispute window: {other:?}"),
		Err(e) => panic!(
			"job {job}: {e}
{} log:
{}",
			worker.name,
			worker.log_tail()
		),
	}
}

/// Sends 16 uploads of a 1 GiB body (zeros, generated as sent) to each of job `job`'s inputs
/// at the data service on `address`, all under the client's one valid signature per input,
/// while sampling `worker`'s memory. Returns its RSS before and its peak during the flood.
async fn upload_flood(
	address: &str,
	job: u64,
	spec: &JobSpec,
	client: &Keypair,
	(genesis, device): ([u8; 32], [u8; 32]),
	cert_sha256: [u8; 32],
	worker: &Process,
) -> (u64, u64) {
	use tokio::io::{AsyncReadExt, AsyncWriteExt};
	// Over TLS, as every client speaks to the data service, with its pinned certificate.
	let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(
		proofgrid_client::endpoint::pinned_tls(cert_sha256),
	));
	let JobInputs::Supplied { matrices, .. } = &spec.inputs else { panic!("supplied") };
	let before = worker.rss();
	let mut uploads = Vec::new();
	for (name, root) in [("a", matrices.a.root), ("b", matrices.b.root)] {
		let signature = client.sign_bytes(&proofgrid_primitives::inputs::upload_message(
			&genesis, &device, job, &root.0,
		));
		for i in 0..16u8 {
			let address = address.to_string();
			// Each from its own loopback address: past the per-address connection limit.
			let source = std::net::SocketAddr::from(([127, 0, 2, 1 + i], 0));
			let head = format!(
				"PUT /v1/jobs/{job}/inputs/{name} HTTP/1.1\r\nhost: {address}\r\nx-proofgrid-signature: 0x{}\r\ncontent-length: {}\r\n\r\n",
				hex::encode(signature),
				1u64 << 30
			);
			let tls = tls.clone();
			uploads.push(tokio::spawn(async move {
				let socket = tokio::net::TcpSocket::new_v4().unwrap();
				socket.bind(source).unwrap();
				let tcp = socket.connect(address.parse().unwrap()).await.unwrap();
				let name =
					tokio_rustls::rustls::pki_types::ServerName::try_from("localhost").unwrap();
				let mut stream = tls.connect(name, tcp).await.unwrap();
				stream.write_all(head.as_bytes()).await.unwrap();
				let zeros = vec![0u8; 1 << 20];
				// Until the service answers and closes: it never reads 1 GiB.
				for _ in 0..1024 {
					if stream.write_all(&zeros).await.is_err() {
						break;
					}
				}
				let mut answer = Vec::new();
				let _ = stream.read_to_end(&mut answer).await;
				String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_string()
			}));
		}
	}
	let mut peak = before;
	while uploads.iter().any(|u| !u.is_finished()) {
		peak = peak.max(worker.rss());
		tokio::time::sleep(Duration::from_millis(20)).await;
	}
	let mut statuses = std::collections::BTreeMap::<String, usize>::new();
	for upload in uploads {
		*statuses.entry(upload.await.unwrap()).or_default() += 1;
	}
	println!("upload flood: answers {statuses:?}");
	(before, peak.max(worker.rss()))
}

/// Sum of a value over every block's events, 1..=best.
async fn sum_events<E, F>(client: &Client, best: u32, value: F) -> Balance
where
	E: subxt::events::DecodeAsEvent,
	F: Fn(E) -> Balance,
{
	let mut total = 0;
	for n in 1..=best {
		let events = client.at(n).await.unwrap().events().fetch().await.unwrap();
		total += events.find::<E>().map(|e| value(e.unwrap())).sum::<Balance>();
	}
	total
}

#[tokio::test(flavor = "multi_thread")]
async fn honest_work_is_paid_and_rewarded_and_cheating_is_slashed() {
	let faulty = faulty_worker();
	let dir = tempfile::tempdir().unwrap();
	let (node, client, url) = start_node(dir.path()).await;

	// 0. An owner without funds: the worker says what is missing and exits, at once (issue 39).
	let program = Path::new(env!("CARGO_BIN_EXE_proofgrid-worker"));
	let mut broke = worker(program, "broke", &url, "//NoFunds", dir.path(), &[]);
	let started = Instant::now();
	let status = broke.wait_exit(Duration::from_secs(60)).expect("the worker exits by itself");
	let log = std::fs::read_to_string(&broke.log).unwrap();
	assert!(!status.success(), "{log}");
	assert!(log.contains("GRID missing: send it to"), "{log}");
	let line = log.lines().find(|l| l.contains("GRID missing")).unwrap_or_default();
	println!(
		"unfunded owner: exited {status} after {:.1} s: {line}",
		started.elapsed().as_secs_f64()
	);
	let dapp = Keypair::from_suri("//Eve").unwrap();
	let honest_owner = Keypair::from_suri("//Charlie").unwrap();
	let cheater_owner = Keypair::from_suri("//Dave").unwrap();

	// A dApp's own matrices: ragged, 1000×517 by 517×1029 (one work unit).
	let (m, k, n) = (1_000u32, 517u32, 1_029u32);
	let random = |count: u32, salt: u64| -> Vec<i8> {
		(0..count as u64).map(|i| (mix64(i ^ salt.rotate_left(40)) >> 56) as i8).collect()
	};
	let (rows, cols) = (random(m * k, 1), random(n * k, 2));
	let commitment = |lanes: &[i8]| MatrixCommitment::of_lanes(lanes.chunks(k as usize)).unwrap();
	let shape = GemmShape { m, n, k };
	let supplied = JobSpec {
		shape,
		inputs: JobInputs::Supplied {
			matrices: SuppliedInputs { a: commitment(&rows), b: commitment(&cols) },
			a: InputSource::Upload,
			b: InputSource::Upload,
			samples: 64,
			public_output: false,
		},
		requirements: spec(0).requirements,
	};

	// 1. The cheater alone: three seeded jobs and one on the dApp's matrices.
	let cheater_addr = format!("127.0.0.1:{}", free_port());
	let cheater_args = ["--corrupt-fraction", "0.3", "--data-addr", &cheater_addr];
	let cheater = worker(&faulty, "cheater", &url, "//Dave", dir.path(), &cheater_args);
	let cheater_device = wait_for_device(&client, &cheater_owner.account(), &cheater).await;
	let bond_before = client.device(&cheater_device).await.unwrap().unwrap().bond;
	let dapp_before = client.free_balance(&dapp.account()).await.unwrap();
	let from = client.best_number().await.unwrap();
	let mut dapp_fees = 0;
	let mut cheated = vec![];
	for i in 0..3 {
		let (job, fee) = submit(&client, &dapp, spec(i)).await;
		dapp_fees += fee;
		cheated.push(job);
	}
	let (job, fee) = submit(&client, &dapp, supplied.clone()).await;
	dapp_fees += fee;
	cheated.push(job);
	wait_assigned(&client, job, &cheater).await;
	client.upload_input(&dapp, job, Matrix::A, &rows).await.unwrap();
	client.upload_input(&dapp, job, Matrix::B, &cols).await.unwrap();
	// The dApp's own check of the whole output (Freivalds) finds a wrong element of what the
	// cheater committed, whatever the chain's samples hit.
	let root = wait_committed(&client, job, &cheater).await;
	let endpoint = client.endpoint(&cheater_device).await.unwrap().expect("published");
	let grant = |device: &AccountId32, job, what| {
		client.grant_download(&dapp, device.0, job, what, Duration::from_secs(600)).unwrap()
	};
	let faked = client
		.download_output(
			&endpoint,
			job,
			&shape,
			&root,
			Some(&grant(&cheater_device, job, Download::Output)),
		)
		.await
		.unwrap();
	let wrong = freivalds(&rows, &cols, &faked, k as usize, 99, DEFAULT_ROUNDS).unwrap_err();
	assert_ne!(wrong.found, wrong.expected);
	let market = client.market_params().await.unwrap();
	let price = client.device(&cheater_device).await.unwrap().unwrap().price_per_unit;
	let (mut slashed, mut compensated) = (0, 0);
	for &job in &cheated {
		match outcome(&client, job, from, &cheater).await {
			JobOutcome::Failed { device, slashed: s, compensation, .. } => {
				assert_eq!(device, proofgrid_client::to_address(&cheater_device));
				// The whole collateral of a one-unit job; the client gets the call fee it paid
				// back (its loss, never more), the rest is burned.
				assert_eq!(s, market.collateral_for(price));
				let fee_paid = sum_events(
					&client,
					client.best_number().await.unwrap(),
					|e: runtime::jobs::events::JobAssigned| {
						if e.job == job {
							e.call_fee_burned
						} else {
							0
						}
					},
				)
				.await;
				assert!(compensation > 0 && compensation < s);
				assert_eq!(
					compensation, fee_paid,
					"job {job}: compensated with the call fee it paid"
				);
				slashed += s;
				compensated += compensation;
			}
			other => panic!("job {job} of the cheater: {other:?}"),
		}
	}
	cheater.stop();
	let bond_after = client.device(&cheater_device).await.unwrap().unwrap().bond;
	let best = client.best_number().await.unwrap();
	let topped_up =
		sum_events(&client, best, |e: runtime::devices::events::BondToppedUp| e.amount).await;
	assert!(topped_up > 0, "the slashed device fell below the minimum bond and was topped up");
	assert_eq!(
		bond_after,
		bond_before - slashed + topped_up,
		"the bond moved by what the events say"
	);
	let call_fees =
		sum_events(&client, best, |e: runtime::jobs::events::JobAssigned| e.call_fee_burned).await;
	assert!(call_fees > 0);
	assert_eq!(
		client.free_balance(&dapp.account()).await.unwrap(),
		dapp_before - dapp_fees - call_fees + compensated,
		"the dApp got every budget back plus compensation, and paid only its transaction and \
		 call fees"
	);
	println!(
		"cheater: 3 seeded jobs and 1 on supplied inputs failed, slashed {slashed}, dApp \
		 compensated {compensated}"
	);

	// 1b. A subtler cheater: ~0.01% of its leaves wrong, which 64 samples miss >99% of the
	// time. The spot check passes; the dApp's CLI checks the whole output (Freivalds), finds a
	// wrong element and proves it on chain within the dispute window: the cheater loses its
	// collateral all the same.
	let subtle_args = ["--corrupt-fraction", "0.0001", "--data-addr", &cheater_addr];
	let subtle = worker(&faulty, "cheater", &url, "//Dave", dir.path(), &subtle_args);
	let b_row_major: Vec<i8> = (0..k * n).map(|i| cols[((i % n) * k + i / n) as usize]).collect();
	std::fs::write(dir.path().join("A.npy"), npy_i8_bytes(m as usize, k as usize, &rows)).unwrap();
	std::fs::write(dir.path().join("B.npy"), npy_i8_bytes(k as usize, n as usize, &b_row_major))
		.unwrap();
	let bond_before = client.device(&cheater_device).await.unwrap().unwrap().bond;
	let from = client.best_number().await.unwrap();
	let cli = Command::new(target_dir().join("proofgrid"))
		.env(proofgrid_client::endpoint::ALLOW_PRIVATE_ENV, "1")
		.args(["--url", &url, "--suri", "//Eve", "--json", "job", "submit", "--samples", "64"])
		.args(["--price-cap", "1", "--wait", "--a"])
		.arg(dir.path().join("A.npy"))
		.arg("--b")
		.arg(dir.path().join("B.npy"))
		.arg("--out")
		.arg(dir.path().join("C.npy"))
		.output()
		.unwrap();
	let stdout = String::from_utf8_lossy(&cli.stdout);
	let stderr = String::from_utf8_lossy(&cli.stderr);
	assert!(!cli.status.success(), "a wrong C is not accepted\n{stdout}{stderr}");
	assert!(!dir.path().join("C.npy").exists(), "a wrong C is not written");
	let line = |key: &str| {
		stdout
			.lines()
			.filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
			.find(|v| v.get(key).is_some())
	};
	let job = line("submitted").and_then(|v| v["submitted"].as_u64()).expect("submitted");
	let mut end = outcome(&client, job, from, &subtle).await;
	if let JobOutcome::Verified { block, .. } = end {
		// The spot check passed: what came after is the dispute.
		end = outcome(&client, job, block + 1, &subtle).await;
	}
	match end {
		JobOutcome::Failed { reason, slashed, .. } => {
			assert_eq!(slashed, market.collateral_for(price));
			if reason.contains("FraudProven") {
				let verdict = line("dispute").expect("the CLI's dispute");
				assert_eq!(verdict["dispute"]["verdict"], "upheld", "{verdict}");
				println!(
					"subtle cheater: the spot check passed; the dApp's fraud proof: {verdict}"
				);
			} else {
				// 64 samples hit one of the few wrong leaves (<1% of runs): the chain's own
				// check caught it, and the CLI had nothing to prove.
				assert!(line("dispute").is_none());
				println!("subtle cheater: caught by the spot check this time ({reason})");
			}
		}
		other => panic!("job {job} of the subtle cheater: {other:?}\n{stdout}{stderr}"),
	}
	let best = client.best_number().await.unwrap();
	let topped =
		sum_events(&client, best, |e: runtime::devices::events::BondToppedUp| e.amount).await;
	assert_eq!(
		client.device(&cheater_device).await.unwrap().unwrap().bond,
		bond_before - market.collateral_for(price) + (topped - topped_up),
		"the collateral went"
	);
	subtle.stop();

	// 2. The honest worker (the normal build), started again after its crash in step 3.
	let data_addr = format!("127.0.0.1:{}", free_port());
	let start_honest = || {
		let program = Path::new(env!("CARGO_BIN_EXE_proofgrid-worker"));
		// The URL inputs below are served on loopback.
		let args = ["--data-addr", &data_addr, "--fetch-private-urls"];
		worker(program, "honest", &url, "//Charlie", dir.path(), &args)
	};
	let honest = start_honest();
	let honest_device = wait_for_device(&client, &honest_owner.account(), &honest).await;
	let owner_before = client.free_balance(&honest_owner.account()).await.unwrap();
	// Drained to near zero (a long run of fees, an operator's mistake): the worker tops the
	// device account up before the next call it signs.
	let device_key = std::fs::read_to_string(dir.path().join("honest/keys/device-0.key")).unwrap();
	let seed: [u8; 32] = hex::decode(device_key.trim()).unwrap().try_into().unwrap();
	let device_signer = Keypair::from_seed(&seed);
	assert_eq!(device_signer.account(), honest_device);
	let sink = Keypair::from_suri("//Ferdie").unwrap().account();
	let mut drained = false;
	for _ in 0..5 {
		let free = client.free_balance(&honest_device).await.unwrap();
		// The worker may sign at the same moment (same nonce): try again.
		if client.transfer(&device_signer, &sink, free - GRID / 10).await.is_ok() {
			drained = true;
			break;
		}
	}
	assert!(drained, "the device account could not be drained");
	let drained_to = client.free_balance(&honest_device).await.unwrap();
	let drained_at = client.best_number().await.unwrap();
	// What the device holds once topped up (the worker sends 10 GRID): its calls cost nothing
	// from there on.
	let device_before = drained_to.min(GRID / 10) + 10 * GRID;
	let from = client.best_number().await.unwrap();
	let hostile = |shape: GemmShape| JobSpec { shape, ..spec(0) };
	let (poison, _) =
		submit(&client, &dapp, hostile(GemmShape { m: 1 << 20, n: 1 << 20, k: 1 })).await;
	let (slow, _) =
		submit(&client, &dapp, hostile(GemmShape { m: 16_384, n: 16_384, k: 65_536 })).await;
	let mut honest_jobs = vec![];
	for i in 10..15 {
		honest_jobs.push(submit(&client, &dapp, spec(i)).await.0);
	}
	let mut paid = 0;
	for &job in &honest_jobs {
		match outcome(&client, job, from, &honest).await {
			JobOutcome::Settled { device, payment, .. } => {
				assert_eq!(device, proofgrid_client::to_address(&honest_device));
				paid += payment;
			}
			other => panic!("job {job} of the honest worker: {other:?}"),
		}
		// The worker forgets a job only once its settlement is final, and knows how it ended.
		let line = final_outcome_logged(&honest, job).await;
		assert!(line.contains("settled"), "job {job}: {line}");
	}
	let log = std::fs::read_to_string(&honest.log).unwrap();
	assert!(log.matches("GRID for fees").count() >= 2, "no top-up after the drain\n{log}");
	assert!(client.free_balance(&honest_device).await.unwrap() >= GRID, "topped up");
	println!("device account drained to {drained_to} planck, topped up before its next call");

	// The hostile jobs were refused, with a reason, and are still waiting.
	for job in [poison, slow] {
		let info = client.job(job).await.unwrap().expect("still open");
		assert!(matches!(info.status, JobStatus::Submitted), "job {job} was claimed");
		let log = std::fs::read_to_string(&honest.log).unwrap();
		let refusal = log
			.lines()
			.find(|l| l.contains("refused") && l.contains(&format!("job={job}")))
			.unwrap_or_else(|| panic!("no refusal logged for job {job}\n{}", honest.log_tail()));
		println!("{refusal}");
		client.cancel_job(&dapp, job).await.unwrap();
	}
	// What the worker would take at most on this chain: each family's largest job, and why the
	// next size is refused (the hostile jobs are far beyond both).
	let limits = Command::new(env!("CARGO_BIN_EXE_proofgrid-worker"))
		.args(["limits", "--backend", "cpu", "--threads", "1", "--url", &url, "--base-path"])
		.arg(dir.path().join("limits"))
		.output()
		.unwrap();
	let report = String::from_utf8_lossy(&limits.stdout);
	assert!(limits.status.success(), "{report}{}", String::from_utf8_lossy(&limits.stderr));
	for family in ["cube m = n = k: ", "widest m = n, k = 1: "] {
		assert!(report.contains(family), "{report}");
	}
	// A cube is bound by time (its inputs fit the default 4 GiB) or, on a machine with little
	// free disk, by its output tree; the widest output by time or by disk.
	let lines: Vec<&str> = report.lines().collect();
	let cube = lines.iter().position(|l| l.starts_with("cube")).expect("a cube line");
	let bound = lines[cube + 1];
	assert!(
		bound.starts_with("  next size refused: too slow") || bound.contains("MiB of disk"),
		"{report}"
	);
	assert_eq!(report.matches("next size refused: ").count(), 2, "{report}");
	println!("{report}");

	// 2b. The dApp's matrices uploaded to the honest device; the chain verifies the result and
	// the dApp downloads `C`.
	let from = client.best_number().await.unwrap();
	let (job, _) = submit(&client, &dapp, supplied.clone()).await;
	let started = Instant::now();
	wait_assigned(&client, job, &honest).await;
	// Only the job's client may upload, and only the committed bytes.
	let stranger = Keypair::from_suri("//Ferdie").unwrap();
	let refused = client.upload_input(&stranger, job, Matrix::A, &rows).await.unwrap_err();
	assert!(refused.to_string().contains("not signed by the job's client"), "{refused}");
	// Nor may anyone else cancel it: the pallet's error arrives decoded as the generated enum.
	let refused = client.cancel_job(&stranger, job).await.unwrap_err();
	assert!(
		matches!(
			refused.module_error(),
			Some(runtime::Error::Jobs(runtime::jobs::Error::NotClient))
		),
		"{refused:?}"
	);
	let mut wrong = rows.clone();
	wrong[0] = wrong[0].wrapping_add(1);
	let refused = client.upload_input(&dapp, job, Matrix::A, &wrong).await.unwrap_err();
	assert!(refused.to_string().contains("do not match the job's commitment"), "{refused}");
	// The device's receipt for the inputs comes once it holds both, and no sooner.
	assert_eq!(client.inputs_receipt(job).await.unwrap(), None);
	let upload_started = Instant::now();
	client.upload_input(&dapp, job, Matrix::A, &rows).await.unwrap();
	assert_eq!(client.inputs_receipt(job).await.unwrap(), None, "B is still missing");
	// Issue 32: one valid signature replayed by 16 uploads of 1 GiB each to the stored `A`, and
	// 16 to the missing `B`. A stored input is answered without reading the body; of `B`'s, one
	// is read (to the committed size, then refused) and the rest are refused at once. The
	// worker's memory stays put.
	let chain_and_device = (client.genesis_hash().0, honest_device.0);
	let endpoint = client.endpoint(&honest_device).await.unwrap().expect("published");
	let pin = check_endpoint(&endpoint, AddressPolicy::AllowPrivate).unwrap().cert_sha256;
	let pin = pin.expect("the data service's endpoint pins its certificate");
	let (rss_before, rss_peak) =
		upload_flood(&data_addr, job, &supplied, &dapp, chain_and_device, pin, &honest).await;
	println!(
		"upload flood (16 × 1 GiB to a stored input, 16 × 1 GiB to a missing one, one signature): worker RSS {:.1} MiB before, {:.1} MiB at most during",
		rss_before as f64 / (1 << 20) as f64,
		rss_peak as f64 / (1 << 20) as f64
	);
	assert!(rss_peak < rss_before + (64 << 20), "the flood grew the worker by 64 MiB or more");
	assert_eq!(client.inputs_receipt(job).await.unwrap(), None, "nothing of the flood was kept");
	client.upload_input(&dapp, job, Matrix::B, &cols).await.unwrap();
	let upload_seconds = upload_started.elapsed().as_secs_f64();
	// Checked by the client against the device's key and this chain before it is returned.
	assert!(client.inputs_receipt(job).await.unwrap().is_some());
	// On chain it makes a release cost the device; the device may have committed already.
	match client.confirm_inputs(&dapp, job).await {
		Ok(confirmed) => println!("supplied job {job}: inputs confirmed on chain: {confirmed}"),
		Err(e) => {
			let state = client.job(job).await.unwrap().map(|j| j.status);
			assert!(!matches!(state, Some(JobStatus::Assigned { .. })), "{e}");
			println!("supplied job {job}: committed before the receipt landed ({e})");
		}
	}
	let root = wait_committed(&client, job, &honest).await;
	// Verified, then paid when its dispute window closes (checked before the books below).
	let mut verified = vec![];
	match outcome(&client, job, from, &honest).await {
		JobOutcome::Verified { block, .. } => verified.push((job, block)),
		other => panic!("supplied job {job}: {other:?}"),
	}
	// A data-availability demand within the dispute window: the worker publishes the leaf of
	// C[0][20] on chain (checked against the downloaded output below), and the job still
	// settles (its payment is checked with the books).
	let demanded_from = client.best_number().await.unwrap();
	let answer_by = client.demand_data(&dapp, job, vec![(0, 20)], k).await.unwrap();
	let published: Vec<[i32; 16]> =
		published_leaves(&client, job, demanded_from, answer_by, &honest)
			.await
			.into_iter()
			.map(|leaf| match leaf {
				PublishedLeaf::Tile { values, .. } => values,
				PublishedLeaf::Row { .. } | PublishedLeaf::LayerRow { .. } => {
					panic!("a GEMM job's leaves are tiles")
				}
			})
			.collect();
	let endpoint = client.endpoint(&honest_device).await.unwrap().expect("published");
	// A client that allows only public addresses (the SDK's default) does not talk to it.
	let strict = Client::connect(&url).await.unwrap();
	let refused = strict.download_output(&endpoint, job, &shape, &root, None).await.unwrap_err();
	assert!(matches!(refused, proofgrid_client::Error::PrivateAddress { .. }), "{refused}");
	// Issue 32: the output is private. A stranger without a grant, with one it signed itself,
	// or with the client's grant for another job, kind of download or an expired one: 403.
	let forbidden = |result: Result<Vec<i32>, proofgrid_client::Error>| {
		let e = result.unwrap_err();
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
	let no_grant = forbidden(client.download_output(&endpoint, job, &shape, &root, None).await);
	let own = client
		.grant_download(&stranger, honest_device.0, job, Download::Output, Duration::from_secs(60))
		.unwrap();
	forbidden(client.download_output(&endpoint, job, &shape, &root, Some(&own)).await);
	let other_job = grant(&honest_device, job - 1, Download::Output);
	let mut replayed = grant(&honest_device, job, Download::Leaves);
	forbidden(client.download_output(&endpoint, job, &shape, &root, Some(&other_job)).await);
	forbidden(client.download_output(&endpoint, job, &shape, &root, Some(&replayed)).await);
	let past =
		std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() - 5;
	let message =
		download_message(&client.genesis_hash().0, &honest_device.0, job, Download::Output, past);
	replayed.what = Download::Output as u8;
	replayed.expiry = past;
	replayed.signature = dapp.sign_bytes(&message);
	let expired =
		forbidden(client.download_output(&endpoint, job, &shape, &root, Some(&replayed)).await);
	assert!(expired.contains("expired"), "{expired}");
	let leaf_refused = client.download_leaf(&endpoint, job, &shape, &root, 5, None).await;
	assert!(matches!(
		leaf_refused.unwrap_err(),
		proofgrid_client::Error::Data(proofgrid_client::DataError::Refused { status: 403, .. })
	));
	println!("a stranger's download of a private output: {no_grant}");
	// TLS with the pinned certificate: another certificate (a pin that is not the device's) is
	// refused before any byte of the request is sent.
	let other_pin = format!("{}#sha256={}", endpoint.split('#').next().unwrap(), "00".repeat(32));
	let own_grant = grant(&honest_device, job, Download::Output);
	let refused =
		client.download_output(&other_pin, job, &shape, &root, Some(&own_grant)).await.unwrap_err();
	let said = proofgrid_client::data::with_causes(&refused);
	assert!(said.contains("not the one its endpoint pins"), "{said}");
	println!("a data service whose certificate is not the pinned one: {said}");
	assert!(endpoint.starts_with("https://"), "{endpoint}");
	let download_started = Instant::now();
	let c = client
		.download_output(
			&endpoint,
			job,
			&shape,
			&root,
			Some(&grant(&honest_device, job, Download::Output)),
		)
		.await
		.unwrap();
	let download_seconds = download_started.elapsed().as_secs_f64();
	// One leaf with its path (a spot check without the whole output): leaf 5 is C[0..4][20..24].
	let leaves = grant(&honest_device, job, Download::Leaves);
	let leaf =
		client.download_leaf(&endpoint, job, &shape, &root, 5, Some(&leaves)).await.unwrap().values;
	let expected: Vec<i32> =
		(0..16).map(|cell| c[(cell / 4) * n as usize + 20 + cell % 4]).collect();
	assert_eq!(leaf.to_vec(), expected);
	assert_eq!(published, vec![leaf], "the leaf published on chain is C's");
	let other_root = [7u8; 32];
	assert!(client
		.download_leaf(&endpoint, job, &shape, &other_root, 5, Some(&leaves))
		.await
		.is_err());
	let (m, n, k) = (m as usize, n as usize, k as usize);
	for i in 0..m {
		for j in 0..n {
			let expected: i32 =
				(0..k).map(|x| rows[i * k + x] as i32 * cols[j * k + x] as i32).sum();
			assert_eq!(c[i * n + j], expected, "C[{i}][{j}]");
		}
	}
	println!(
		"supplied job {job}: {m}×{k} by {k}×{n} uploaded ({} KB) in {upload_seconds:.3} s, \
		 verified, C ({} KB) downloaded and checked in {download_seconds:.3} s, {:.1} s after submit",
		(rows.len() + cols.len()) / 1000,
		c.len() * 4 / 1000,
		started.elapsed().as_secs_f64()
	);

	// The same matrices as `.npy` files at URLs (a local HTTP server): the device fetches and
	// checks them. Then a URL serving another matrix than committed: refused, the job given
	// back, no slash.
	let b_row_major: Vec<i8> = (0..k * n).map(|i| cols[(i % n) * k + i / n]).collect();
	let served: std::collections::HashMap<&str, Vec<u8>> = [
		("/a", npy_i8_bytes(m, k, &rows)),
		("/b", npy_i8_bytes(k, n, &b_row_major)),
		("/wrong", npy_i8_bytes(m, k, &wrong)),
	]
	.into();
	let served = std::sync::Arc::new(served);
	let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
	let files = format!("http://{}", listener.local_addr().unwrap());
	let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
		let served = served.clone();
		async move { served.get(uri.path()).cloned().unwrap_or_default() }
	});
	tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
	let at_url =
		|path: &str| InputSource::Url(format!("{files}{path}").into_bytes().try_into().unwrap());
	// The first is public (its client's choice): served to anyone.
	let from_urls = |a: &str| JobSpec {
		shape,
		inputs: JobInputs::Supplied {
			matrices: SuppliedInputs { a: commitment(&rows), b: commitment(&cols) },
			a: at_url(a),
			b: at_url("/b"),
			samples: 64,
			public_output: a == "/a",
		},
		requirements: spec(0).requirements,
	};
	let from = client.best_number().await.unwrap();
	let (job, _) = submit(&client, &dapp, from_urls("/a")).await;
	let started = Instant::now();
	let root = wait_committed(&client, job, &honest).await;
	match outcome(&client, job, from, &honest).await {
		JobOutcome::Verified { block, .. } => verified.push((job, block)),
		other => panic!("URL job {job}: {other:?}"),
	}
	assert_eq!(client.download_output(&endpoint, job, &shape, &root, None).await.unwrap(), c);
	// Later, from the job's id alone (`proofgrid job result`): found in the chain's history.
	let output = client.committed_output(job).await.unwrap();
	assert!(output.verified && output.root == root && output.device == honest_device);
	println!("URL job {job}: fetched, verified, same C, {:.1} s", started.elapsed().as_secs_f64());
	let bond = client.device(&honest_device).await.unwrap().unwrap().bond;
	let (job, _) = submit(&client, &dapp, from_urls("/wrong")).await;
	let started = Instant::now();
	loop {
		let released = std::fs::read_to_string(&honest.log)
			.unwrap()
			.lines()
			.any(|l| l.contains("released the job") && l.contains(&format!("job={job}")));
		if released {
			break;
		}
		assert!(started.elapsed() < JOB_TIMEOUT, "job {job} not released\n{}", honest.log_tail());
		tokio::time::sleep(Duration::from_millis(100)).await;
	}
	let log = std::fs::read_to_string(&honest.log).unwrap();
	assert!(log.contains("does not match the job's commitment"), "{}", honest.log_tail());
	let info = client.job(job).await.unwrap().expect("open again");
	assert!(matches!(info.status, JobStatus::Submitted), "{:?}", info.status);
	assert_eq!(info.abandoned.0, vec![honest_device], "the device may not claim it again");
	assert_eq!(client.device(&honest_device).await.unwrap().unwrap().bond, bond, "no slash");
	client.cancel_job(&dapp, job).await.unwrap();
	println!("URL job {job} with bytes that do not match: refused, released, not slashed");

	// 3. A crash right after a commit, and a restart.
	let from = client.best_number().await.unwrap();
	let (job, _) = submit(&client, &dapp, spec(20)).await;
	let watch_started = Instant::now();
	loop {
		if let Some(info) = client.job(job).await.unwrap() {
			if matches!(info.status, JobStatus::Committed { .. }) {
				break;
			}
		}
		assert!(
			watch_started.elapsed() < JOB_TIMEOUT,
			"job {job} not committed\n{}",
			honest.log_tail()
		);
		tokio::time::sleep(Duration::from_millis(20)).await;
	}
	honest.crash();
	assert!(
		matches!(
			client.job(job).await.unwrap().map(|j| j.status),
			Some(JobStatus::Committed { .. })
		),
		"killed before revealing"
	);
	let honest = start_honest();
	match outcome(&client, job, from, &honest).await {
		JobOutcome::Settled { payment, .. } => paid += payment,
		other => panic!("job {job} after the restart: {other:?}"),
	}
	let line = final_outcome_logged(&honest, job).await;
	assert!(line.contains("settled"), "job {job} after the restart: {line}");
	let best = client.best_number().await.unwrap();
	let settlements = {
		let mut count = 0;
		for n in from..=best {
			let events = client.at(n).await.unwrap().events().fetch().await.unwrap();
			count += events
				.find::<runtime::jobs::events::JobSettled>()
				.filter(|e| e.as_ref().unwrap().job == job)
				.count();
		}
		count
	};
	assert_eq!(settlements, 1, "the restarted worker settles the job exactly once");
	for (job, block) in verified {
		paid += settled_payment(&client, job, block, &honest).await;
	}
	// What the owner spent refilling the drained device account: the transfers and their fees.
	let mut refills: Balance = 0;
	let (mut first_refill, mut first_claim) = (None, None);
	for n in drained_at..=best {
		let events = client.at(n).await.unwrap().events().fetch().await.unwrap();
		for e in events.find::<runtime::balances::events::Transfer>() {
			let e = e.unwrap();
			if e.from == honest_owner.account() && e.to == honest_device {
				refills += e.amount;
				first_refill = first_refill.or(Some(n));
			}
		}
		for e in events.find::<runtime::jobs::events::JobAssigned>() {
			if e.unwrap().device == honest_device {
				first_claim = first_claim.or(Some(n));
			}
		}
		for e in events.find::<runtime::transaction_payment::events::TransactionFeePaid>() {
			let e = e.unwrap();
			if e.who == honest_owner.account() {
				refills += e.actual_fee;
			}
		}
	}
	assert!(refills >= 10 * GRID, "the owner refilled the drained device account");
	assert!(
		first_refill <= first_claim && first_refill.is_some(),
		"refilled (#{first_refill:?}) before the device's next call (claim #{first_claim:?})"
	);
	assert_eq!(
		client.free_balance(&honest_owner.account()).await.unwrap(),
		owner_before + paid - refills,
		"the honest owner is paid to the unit (less the refill)"
	);
	assert!(
		client.free_balance(&honest_device).await.unwrap() >= device_before,
		"claims, commits and reveals cost the device nothing (heartbeats are refunded)"
	);

	// Paused on chain while the worker runs: it claims nothing and sends nothing that fails.
	let pause = runtime::tx().devices().pause(honest_device);
	client.submit(&pause, &honest_owner).await.expect("paused");
	let paused_from = client.best_number().await.unwrap();
	let (waiting, _) = submit(&client, &dapp, spec(30)).await;
	while client.best_number().await.unwrap() < paused_from + 10 {
		tokio::time::sleep(Duration::from_millis(200)).await;
	}
	let info = client.job(waiting).await.unwrap().expect("open");
	assert!(matches!(info.status, JobStatus::Submitted), "a paused device claimed a job");
	let mut failed = 0;
	for n in paused_from..=client.best_number().await.unwrap() {
		let events = client.at(n).await.unwrap().events().fetch().await.unwrap();
		failed += events.find::<runtime::system::events::ExtrinsicFailed>().count();
	}
	assert_eq!(failed, 0, "no failing transaction while paused\n{}", honest.log_tail());
	client.cancel_job(&dapp, waiting).await.unwrap();
	println!("paused device: no claim, no failed transaction in 10 blocks");

	// Issue 39: SIGTERM right after a claim. The worker claims nothing more, but finishes the
	// job it holds — committed, revealed, its settlement final — before it exits; nothing is
	// slashed.
	client.resume_device(&honest_owner, &honest_device).await.expect("resumed");
	let bond_before = client.device(&honest_device).await.unwrap().unwrap().bond;
	let from = client.best_number().await.unwrap();
	let (last, _) = submit(&client, &dapp, spec(31)).await;
	wait_assigned(&client, last, &honest).await;
	let log = honest.log.clone();
	let took = honest.stop_within(Duration::from_secs(180));
	let text = std::fs::read_to_string(&log).unwrap();
	assert!(text.contains("stopping once this job has ended"), "{text}");
	let finished = format!("job={last} outcome=\"settled\"");
	assert!(text.lines().any(|l| l.contains("job finished") && l.contains(&finished)), "{text}");
	let best = client.best_number().await.unwrap();
	let mut settled = false;
	for n in from..=best {
		let events = client.at(n).await.unwrap().events().fetch().await.unwrap();
		settled |=
			events.find::<runtime::jobs::events::JobSettled>().any(|e| e.unwrap().job == last);
	}
	assert!(settled, "job {last} settled before the worker exited");
	let bond_after = client.device(&honest_device).await.unwrap().unwrap().bond;
	assert_eq!(bond_after, bond_before, "nothing slashed");
	println!(
		"SIGTERM after claiming job {last}: the worker committed, revealed and settled it, then exited ({:.1} s); bond unchanged",
		took.as_secs_f64()
	);

	// 4. Rewards: wait for the era of the last settlement to end.
	let era_now = client.current_era().await.unwrap().era;
	while client.current_era().await.unwrap().era == era_now {
		tokio::time::sleep(Duration::from_millis(200)).await;
	}
	assert!(client.pending_rewards(&cheater_owner.account()).await.unwrap().is_empty());
	let pending = client.pending_rewards(&honest_owner.account()).await.unwrap();
	let units: u64 = pending.iter().map(|p| p.units).sum();
	// Five honest seeded jobs, the two supplied ones, the one across the restart and the one
	// finished after SIGTERM.
	assert_eq!(units, 9, "one unit per settled job, all for the honest owner");
	let job_fee = market.fee_on(price);
	assert_eq!(pending.iter().map(|p| p.fees).sum::<Balance>(), 9 * job_fee);
	for reward in &pending {
		// The sole provider of an era gets its whole pool: the era minted ρ (50%) of the fees
		// burned, the treasury took 10% of that.
		let minted = reward.fees / 2;
		assert_eq!(reward.amount, minted - minted / 10, "era {}", reward.era);
		assert!(reward.amount < reward.fees, "rewards stay below the fees burned");
	}
	let before = client.free_balance(&honest_owner.account()).await.unwrap();
	let mut claimed = 0;
	for reward in &pending {
		claimed += client.claim_rewards(&honest_owner, reward.era).await.unwrap();
	}
	assert_eq!(claimed, pending.iter().map(|p| p.amount).sum::<Balance>());
	let after = client.free_balance(&honest_owner.account()).await.unwrap();
	assert!(after > before + claimed - GRID, "claims paid (less small fees)");

	// The owners' earnings summaries agree with the chain's events, and the CLI prints them.
	let best = client.best_number().await.unwrap();
	let payments = sum_events(
		&client,
		best,
		|e: runtime::jobs::events::JobSettled| {
			if e.device == honest_device {
				e.payment
			} else {
				0
			}
		},
	)
	.await;
	let slashes = sum_events(
		&client,
		best,
		|e: runtime::devices::events::Slashed| {
			if e.device == cheater_device {
				e.amount
			} else {
				0
			}
		},
	)
	.await;
	let honest_earnings = client.earnings(&honest_owner.account()).await.unwrap();
	assert!(payments > 0);
	assert_eq!(honest_earnings.payments, payments, "earned = the JobSettled payments");
	assert_eq!(honest_earnings.rewards_claimed, claimed);
	assert_eq!((honest_earnings.rewards_to_claim, honest_earnings.slashed), (0, 0));
	let cheater_earnings = client.earnings(&cheater_owner.account()).await.unwrap();
	assert!(slashes > 0);
	assert_eq!(cheater_earnings.slashed, slashes, "slashed = the Slashed events");
	assert_eq!(cheater_earnings.payments, 0);
	assert_eq!(cheater_earnings.net(), -(slashes as i128));
	let cli = Command::new(target_dir().join("proofgrid"))
		.args(["--url", &url, "--json", "earnings", &honest_owner.address()])
		.output()
		.unwrap();
	assert!(cli.status.success(), "{}", String::from_utf8_lossy(&cli.stderr));
	let json: serde_json::Value = serde_json::from_slice(&cli.stdout).unwrap();
	assert_eq!(json["payments"], payments.to_string());
	assert_eq!(json["net"], (payments + claimed).to_string());
	let text = Command::new(target_dir().join("proofgrid"))
		.args(["--url", &url, "earnings", &cheater_owner.address()])
		.output()
		.unwrap();
	let text = String::from_utf8_lossy(&text.stdout).into_owned();
	println!("proofgrid earnings (cheater):\n{text}");
	assert!(text.contains(&format!("net for {}: -", cheater_owner.address())), "{text}");

	// 5. The money invariants, from outside.
	let best = client.best_number().await.unwrap();
	let at = client.at(best).await.unwrap();
	let mut holds = at.storage().iter(runtime::storage().balances().holds(), ()).await.unwrap();
	let (mut budget_held, mut bond_held) = (0, 0);
	while let Some(entry) = holds.next().await {
		for hold in entry.unwrap().value().decode().unwrap().0 {
			use runtime::runtime_types::proofgrid_runtime::RuntimeHoldReason as Reason;
			match hold.id {
				Reason::Jobs(_) => budget_held += hold.amount,
				Reason::Devices(_) => bond_held += hold.amount,
				Reason::Models(_) => panic!("this test registers no model, yet a deposit is held"),
			}
		}
	}
	assert_eq!(budget_held, 0, "every job ended: no budget or deposit held");
	let bonds: Balance = [&cheater_device, &honest_device]
		.iter()
		.map(|d| futures::executor::block_on(client.device(d)).unwrap().unwrap().bond)
		.sum();
	assert_eq!(bond_held, bonds, "bond holds = device bonds");
	let issuance = |n: u32| {
		let client = client.clone();
		async move {
			let at = client.at(n).await.unwrap();
			at.storage()
				.fetch(runtime::storage().balances().total_issuance(), ())
				.await
				.unwrap()
				.decode()
				.unwrap()
		}
	};
	let minted = at
		.storage()
		.fetch(runtime::storage().rewards().total_minted(), ())
		.await
		.unwrap()
		.decode()
		.unwrap();
	let fees =
		sum_events(&client, best, |e: runtime::transaction_payment::events::TransactionFeePaid| {
			e.actual_fee
		})
		.await;
	let held_burned =
		sum_events(&client, best, |e: runtime::balances::events::BurnedHeld| e.amount).await;
	assert_eq!(
		issuance(best).await,
		issuance(0).await + minted - fees - held_burned,
		"issuance = genesis + minted − burned"
	);
	let burned = client.burned().await.unwrap();
	assert_eq!(held_burned, burned.fees + burned.slashes);
	let call_fees =
		sum_events(&client, best, |e: runtime::jobs::events::JobAssigned| e.call_fee_burned).await;
	assert_eq!(burned.fees, 9 * job_fee + call_fees, "protocol fees and call fees");
	assert_eq!(minted, pending.iter().map(|p| p.fees / 2).sum::<Balance>());
	assert!(minted < burned.fees, "the chain minted less than its clients burned");
	println!(
		"end to end: {} jobs, minted {minted}, transaction fees {fees}, protocol fees burned {}, slashes burned {}, {:.1} s",
		cheated.len() + honest_jobs.len() + 2,
		burned.fees,
		burned.slashes,
		started.elapsed().as_secs_f64()
	);
	drop(node);
}
