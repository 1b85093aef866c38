//! What the end-to-end tests share: real binaries started on loopback (a dev node, workers),
//! their logs kept for failure messages, and waits on the chain.

#![allow(dead_code)] // Each test binary uses its own part of this module.

use std::{
	fs::File,
	net::TcpListener,
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	time::{Duration, Instant},
};

use proofgrid_client::{
	jobs::{JobOutcome, JobStatus},
	runtime, AccountId32, Client, GRID,
};

pub const BLOCK_MS: &str = "500";
pub const JOB_TIMEOUT: Duration = Duration::from_secs(120);

/// The fault-injection worker (`PROOFGRID_FAULTY_WORKER`, which `scripts/test.sh` builds).
pub fn faulty_worker() -> PathBuf {
	let Some(faulty) = std::env::var_os("PROOFGRID_FAULTY_WORKER").map(PathBuf::from) else {
		panic!(
			"PROOFGRID_FAULTY_WORKER is not set: run scripts/test.sh, which builds the \
			 fault-injection worker first"
		);
	};
	faulty
}

/// A loopback port nobody listens on right now, never handed out twice by this process (its
/// tests start nodes and workers in parallel). A node's RPC port is not chosen this way but by
/// the kernel ([`logged_rpc_url`]): a node whose port was taken in between serves RPC on a
/// random one instead, which a test would wait on forever.
pub fn free_port() -> u16 {
	static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
	let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
	loop {
		let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
		if !given.contains(&port) {
			given.push(port);
			return port;
		}
	}
}

/// The RPC URL of a node started with `--rpc-port 0`, once its log reports the port
/// ("Running JSON-RPC server: addr=127.0.0.1:PORT,…").
pub fn logged_rpc_url(node: &Process) -> Option<String> {
	let log = std::fs::read_to_string(&node.log).ok()?;
	let (_, rest) = log.split_once("Running JSON-RPC server: addr=127.0.0.1:")?;
	let port: u16 = rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()?;
	Some(format!("ws://127.0.0.1:{port}"))
}

pub fn target_dir() -> PathBuf {
	Path::new(env!("CARGO_BIN_EXE_proofgrid-worker")).parent().unwrap().to_path_buf()
}

/// A child process killed on drop, with its log kept for failure messages.
pub struct Process {
	pub name: String,
	child: Child,
	pub log: PathBuf,
}

impl Process {
	/// The process's resident memory now, bytes (`VmRSS`).
	pub fn rss(&self) -> u64 {
		let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
			.unwrap_or_default();
		status
			.lines()
			.find_map(|l| l.strip_prefix("VmRSS:"))
			.and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
			.map_or(0, |kib| kib * 1024)
	}

	pub fn spawn(name: &str, program: &Path, args: &[String], dir: &Path) -> Self {
		Self::spawn_with_env(name, program, args, &[], dir)
	}

	pub fn spawn_with_env(
		name: &str,
		program: &Path,
		args: &[String],
		env: &[(&str, &str)],
		dir: &Path,
	) -> Self {
		let log = dir.join(format!("{name}.log"));
		let child = Command::new(program)
			.args(args)
			.envs(env.iter().copied())
			.stdout(File::create(&log).unwrap())
			.stderr(Stdio::from(File::options().append(true).open(&log).unwrap()))
			.spawn()
			.unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
		println!("started {name} (pid {})", child.id());
		Self { name: name.into(), child, log }
	}

	pub fn log_tail(&self) -> String {
		let text = std::fs::read_to_string(&self.log).unwrap_or_default();
		let lines: Vec<&str> = text.lines().collect();
		lines[lines.len().saturating_sub(30)..].join("\n")
	}

	/// Waits up to `timeout` for the process to exit on its own; its status.
	pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
		let started = Instant::now();
		while started.elapsed() < timeout {
			if let Some(status) = self.child.try_wait().unwrap() {
				return Some(status);
			}
			std::thread::sleep(Duration::from_millis(100));
		}
		None
	}

	/// SIGTERM, then wait for a clean exit.
	pub fn stop(self) {
		self.stop_within(Duration::from_secs(30));
	}

	/// SIGTERM, then wait up to `timeout` for a clean exit; how long it took.
	pub fn stop_within(mut self, timeout: Duration) -> Duration {
		Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
		let started = Instant::now();
		loop {
			if let Some(status) = self.child.try_wait().unwrap() {
				assert!(
					status.success(),
					"{} exited with {status}\n{}",
					self.name,
					self.log_tail()
				);
				println!("{} stopped cleanly on SIGTERM", self.name);
				return started.elapsed();
			}
			assert!(
				started.elapsed() < timeout,
				"{} ignored SIGTERM\n{}",
				self.name,
				self.log_tail()
			);
			std::thread::sleep(Duration::from_millis(50));
		}
	}

	/// SIGKILL: a crash.
	pub fn crash(mut self) {
		self.child.kill().unwrap();
		self.child.wait().unwrap();
		println!("{} killed with SIGKILL", self.name);
	}
}

impl Drop for Process {
	fn drop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

pub fn worker(
	program: &Path,
	name: &str,
	url: &str,
	owner: &str,
	base: &Path,
	extra: &[&str],
) -> Process {
	let mut args: Vec<String> = [
		"run",
		"--url",
		url,
		"--backend",
		"cpu",
		"--threads",
		"1",
		"--poll-ms",
		"100",
		"--metrics",
		"none",
	]
	.iter()
	.map(|s| s.to_string())
	.collect();
	args.extend(["--base-path".into(), base.join(name).display().to_string()]);
	args.extend(extra.iter().map(|s| s.to_string()));
	// The owner's secret travels in the environment, never in argv.
	Process::spawn_with_env(name, program, &args, &[("PROOFGRID_OWNER_SURI", owner)], base)
}

/// Waits until `worker` logged the final outcome of `job` (once the finalized block has no
/// open job left); returns the line.
pub async fn final_outcome_logged(worker: &Process, job: u64) -> String {
	let started = Instant::now();
	let tag = format!("job={job} ");
	loop {
		let log = std::fs::read_to_string(&worker.log).unwrap_or_default();
		if let Some(line) = log.lines().find(|l| l.contains("job finished") && l.contains(&tag)) {
			return line.to_string();
		}
		assert!(
			started.elapsed() < Duration::from_secs(30),
			"no final outcome logged for job {job}\n{}",
			worker.log_tail()
		);
		tokio::time::sleep(Duration::from_millis(100)).await;
	}
}

/// Waits until `job` is assigned to a device (`worker` is the one expected to claim it).
pub async fn wait_assigned(client: &Client, job: u64, worker: &Process) {
	let started = Instant::now();
	while !matches!(
		client.job(job).await.unwrap().map(|j| j.status),
		Some(JobStatus::Assigned { .. })
	) {
		assert!(started.elapsed() < JOB_TIMEOUT, "job {job} not claimed\n{}", worker.log_tail());
		tokio::time::sleep(Duration::from_millis(50)).await;
	}
}

pub async fn wait_for_device(
	client: &Client,
	owner: &AccountId32,
	worker: &Process,
) -> AccountId32 {
	let started = Instant::now();
	loop {
		if let Some(device) = client.devices_of(owner).await.unwrap().first() {
			// Registered; wait until the owner has funded it too (the worker's last setup step).
			if client.free_balance(device).await.unwrap() >= GRID {
				return *device;
			}
		}
		assert!(started.elapsed() < Duration::from_secs(60), "no device\n{}", worker.log_tail());
		tokio::time::sleep(Duration::from_millis(200)).await;
	}
}

pub async fn outcome(client: &Client, job: u64, from: u32, worker: &Process) -> JobOutcome {
	match client.watch_job(job, from, JOB_TIMEOUT, |_, _| {}).await {
		Ok(outcome) => outcome,
		Err(e) => panic!("job {job}: {e}\n{} log:\n{}", worker.name, worker.log_tail()),
	}
}

/// Starts a dev node (a block every [`BLOCK_MS`]) with its base path in `dir`; returns it, a
/// client connected to it, and its RPC URL.
pub async fn start_node(dir: &Path) -> (Process, Client, String) {
	let started = Instant::now();
	let node_args: Vec<String> = [
		"--dev",
		"--sealing",
		BLOCK_MS,
		"--rpc-port",
		"0",
		"--listen-addr",
		&format!("/ip4/127.0.0.1/tcp/{}", free_port()),
		"--no-prometheus",
		"--no-telemetry",
		"--no-mdns",
		"--base-path",
		&dir.join("node").display().to_string(),
	]
	.iter()
	.map(|s| s.to_string())
	.collect();
	let node = Process::spawn("node", &target_dir().join("proofgrid-node"), &node_args, dir);
	let (client, url) = loop {
		if let Some(url) = logged_rpc_url(&node) {
			if let Ok(client) = Client::connect(&url).await {
				// The workers' data services are on loopback.
				let policy = proofgrid_client::endpoint::AddressPolicy::AllowPrivate;
				break (client.with_address_policy(policy), url);
			}
		}
		assert!(started.elapsed() < Duration::from_secs(180), "node down\n{}", node.log_tail());
		tokio::time::sleep(Duration::from_millis(250)).await;
	};
	(node, client, url)
}

/// The leaves the device of `job` published on chain for a data demand made after block
/// `from`, once it answered (before `answer_by`).
pub async fn published_leaves(
	client: &Client,
	job: u64,
	from: u32,
	answer_by: u32,
	worker: &Process,
) -> Vec<proofgrid_primitives::job::PublishedLeaf> {
	let started = Instant::now();
	let mut next = from;
	loop {
		let best = client.best_number().await.unwrap();
		while next <= best {
			let events = client.at(next).await.unwrap().events().fetch().await.unwrap();
			for event in events.find::<runtime::jobs::events::DataPublished>() {
				let event = event.unwrap();
				if event.job == job {
					return event.leaves.0.into_iter().map(|leaf| leaf.0).collect();
				}
			}
			next += 1;
		}
		assert!(
			best <= answer_by && started.elapsed() < JOB_TIMEOUT,
			"job {job}: no leaves published by #{answer_by}\n{}",
			worker.log_tail()
		);
		tokio::time::sleep(Duration::from_millis(200)).await;
	}
}
