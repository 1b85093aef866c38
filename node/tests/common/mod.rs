//! Test harness: starts the real `proofgrid-node` binary on loopback with a temporary base path
//! and talks to it over WebSocket JSON-RPC. The node is killed when the handle drops, also when
//! a test panics, so no process is left behind.

#![allow(dead_code)]

use std::{
	fs::File,
	net::TcpListener,
	path::PathBuf,
	process::{Child, Command, Stdio},
	time::{Duration, Instant},
};

use codec::{Decode, Encode};
use jsonrpsee::{
	core::client::ClientT,
	rpc_params,
	ws_client::{WsClient, WsClientBuilder},
};
use proofgrid_runtime::{
	AccountId, Balance, Nonce, Runtime, RuntimeCall, RuntimeEvent, SignedPayload, TxExtension,
	UncheckedExtrinsic,
};
use serde_json::Value;
use sp_core::{sr25519, Pair, H256};
use sp_runtime::{generic::Era, MultiAddress, MultiSignature};

/// How long a debug node may take to open its RPC port (it compiles the runtime first).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(180);

/// A running node, killed on drop.
pub struct Node {
	child: Child,
	/// Its RPC URL, set once the node reports its port (each start, a new one).
	pub ws_url: String,
	/// Its libp2p port on 127.0.0.1, for other nodes' `--bootnodes`.
	pub p2p_port: u16,
	/// Where this life's log starts in the log file (a restart appends).
	log_from: usize,
	args: Vec<String>,
	log_path: PathBuf,
	// Removed after the node is killed (fields drop after `Drop::drop`).
	base_path: tempfile::TempDir,
}

/// A port nobody listens on right now, never handed out twice by this process (the tests of
/// one binary start nodes in parallel). Only the libp2p port is chosen this way: the RPC port
/// is the kernel's (`--rpc-port 0`), read back from the log, because a port free here may be
/// taken by someone's outgoing connection before the node binds it, and the node then serves
/// RPC on a random port of its own (a CI run waited 180 s on the wrong one).
fn free_port() -> u16 {
	static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
	let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
	loop {
		let port = TcpListener::bind("127.0.0.1:0")
			.and_then(|l| l.local_addr())
			.map(|a| a.port())
			.expect("a free loopback port");
		if !given.contains(&port) {
			given.push(port);
			return port;
		}
	}
}

/// The RPC port the node reports in its log after byte `from` ("Running JSON-RPC server:
/// addr=127.0.0.1:PORT,…"), once it has bound it.
fn logged_rpc_port(log: &std::path::Path, from: usize) -> Option<u16> {
	let log = std::fs::read(log).ok()?;
	let log = String::from_utf8_lossy(log.get(from..)?);
	let (_, rest) = log.split_once("Running JSON-RPC server: addr=127.0.0.1:")?;
	rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// Starts `proofgrid-node` with `args` on the given base path, loopback and `p2p_port`, logging to
/// `log` (appended to, so that a restarted node's log follows its first life's).
fn spawn_node(
	args: &[String],
	base_path: &std::path::Path,
	p2p_port: u16,
	log: &std::path::Path,
) -> Child {
	let log = File::options().create(true).append(true).open(log).expect("log file");
	Command::new(env!("CARGO_BIN_EXE_proofgrid-node"))
		.args(args)
		.arg("--base-path")
		.arg(base_path)
		.args(["--rpc-port", "0"])
		.args(["--listen-addr", &format!("/ip4/127.0.0.1/tcp/{p2p_port}")])
		.args(["--no-prometheus", "--no-telemetry", "--no-mdns"])
		.stdout(Stdio::null())
		.stderr(log)
		.spawn()
		.expect("proofgrid-node starts")
}

impl Node {
	/// Starts `proofgrid-node` with `args` plus a temporary base path and loopback-only ports,
	/// and waits until its RPC answers.
	pub async fn start(args: &[&str]) -> (Node, WsClient) {
		let base_path = tempfile::tempdir().expect("temp dir");
		let p2p_port = free_port();
		let log_path = base_path.path().join("node.log");
		let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
		let child = spawn_node(&args, base_path.path(), p2p_port, &log_path);
		let mut node =
			Node { child, ws_url: String::new(), p2p_port, log_from: 0, args, log_path, base_path };
		let client = node.wait_for_rpc().await;
		println!("started proofgrid-node {:?} at {}", node.args, node.ws_url);
		(node, client)
	}

	/// Kills the node with SIGKILL (no clean shutdown), keeping its base path.
	pub fn kill(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}

	/// Starts a killed node again with the same arguments, base path and libp2p port (its RPC
	/// port is a new one: [`Node::ws_url`] follows it).
	pub async fn restart(&mut self) -> WsClient {
		self.log_from = std::fs::metadata(&self.log_path).map_or(0, |m| m.len() as usize);
		self.child = spawn_node(&self.args, self.base_path.path(), self.p2p_port, &self.log_path);
		let client = self.wait_for_rpc().await;
		println!("restarted proofgrid-node {:?} at {}", self.args, self.ws_url);
		client
	}

	/// Waits until the node reports its RPC port and answers on it; panics if the node exits or
	/// takes too long.
	async fn wait_for_rpc(&mut self) -> WsClient {
		let started = Instant::now();
		loop {
			if let Some(port) = logged_rpc_port(&self.log_path, self.log_from) {
				self.ws_url = format!("ws://127.0.0.1:{port}");
				if let Ok(client) = WsClientBuilder::default().build(&self.ws_url).await {
					println!("RPC up after {:.1} s", started.elapsed().as_secs_f64());
					return client;
				}
			}
			if let Ok(Some(status)) = self.child.try_wait() {
				panic!(
					"proofgrid-node exited ({status}) before its RPC was up\n{}",
					self.log_tail()
				);
			}
			if started.elapsed() > STARTUP_TIMEOUT {
				panic!("node RPC not up after {STARTUP_TIMEOUT:?}\n{}", self.log_tail());
			}
			tokio::time::sleep(Duration::from_millis(250)).await;
		}
	}

	/// Connects over WebSocket, retrying until the node is up.
	pub async fn connect(&self) -> WsClient {
		let started = Instant::now();
		loop {
			if let Ok(client) = WsClientBuilder::default().build(&self.ws_url).await {
				println!("RPC up after {:.1} s", started.elapsed().as_secs_f64());
				return client;
			}
			if started.elapsed() > STARTUP_TIMEOUT {
				panic!("node RPC not up after {STARTUP_TIMEOUT:?}\n{}", self.log_tail());
			}
			tokio::time::sleep(Duration::from_millis(250)).await;
		}
	}

	/// The last lines the node logged, for failure messages.
	pub fn log_tail(&self) -> String {
		self.log_last(40)
	}

	/// The last `n` lines of the node's log.
	pub fn log_last(&self, n: usize) -> String {
		let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
		let lines: Vec<&str> = log.lines().collect();
		lines[lines.len().saturating_sub(n)..].join("\n")
	}
}

impl Drop for Node {
	fn drop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

/// Parses a `0x…` hex quantity or byte string.
pub fn hex_bytes(v: &Value) -> Vec<u8> {
	let s = v.as_str().expect("hex string");
	hex::decode(s.trim_start_matches("0x")).expect("valid hex")
}

/// The number of the header `hash` (best block if `None`).
pub async fn block_number(client: &WsClient, hash: Option<H256>) -> u32 {
	let header: Value = client.request("chain_getHeader", rpc_params![hash]).await.expect("header");
	let n = header["number"].as_str().expect("number");
	u32::from_str_radix(n.trim_start_matches("0x"), 16).expect("hex number")
}

/// Best and finalized block numbers.
pub async fn best_and_finalized(client: &WsClient) -> (u32, u32) {
	let finalized: H256 =
		client.request("chain_getFinalizedHead", rpc_params![]).await.expect("finalized head");
	(block_number(client, None).await, block_number(client, Some(finalized)).await)
}

/// Free balance of `who` at the best block.
pub async fn free_balance(client: &WsClient, who: &AccountId) -> Balance {
	let key = frame_system::Account::<Runtime>::hashed_key_for(who);
	let data: Option<String> = client
		.request("state_getStorage", rpc_params![format!("0x{}", hex::encode(key))])
		.await
		.expect("storage");
	match data {
		Some(hex_data) => {
			let bytes = hex::decode(hex_data.trim_start_matches("0x")).expect("hex");
			let info =
				frame_system::AccountInfo::<Nonce, pallet_balances::AccountData<Balance>>::decode(
					&mut &bytes[..],
				)
				.expect("AccountInfo");
			info.data.free
		}
		None => 0,
	}
}

/// Signs `call` as `signer` with the runtime's exact transaction extensions and submits it.
/// Returns the transaction hash.
pub async fn sign_and_submit(client: &WsClient, signer: &sr25519::Pair, call: RuntimeCall) -> H256 {
	submit_signed(client, signer, call).await.1
}

/// Signs and submits `call`; the extrinsic (hex) and its hash. The pool validates against the
/// newest block it has processed, which may lag the block just sealed by a moment (its views
/// are updated after import): a refusal is retried, with the same bytes, for up to 3 s. The
/// fork-aware pool may keep a transaction one view refused, so "already imported" (1013) or
/// "priority too low" (1014, the same transaction's tag) on a retry means it is in.
async fn submit_signed(
	client: &WsClient,
	signer: &sr25519::Pair,
	call: RuntimeCall,
) -> (String, H256) {
	let extrinsic = signed_extrinsic(client, signer, call).await;
	let bytes = hex_bytes(&Value::String(extrinsic.clone()));
	let hash = <sp_runtime::traits::BlakeTwo256 as sp_runtime::traits::Hash>::hash(&bytes);
	let started = Instant::now();
	let mut retried = false;
	loop {
		let submitted: Result<H256, jsonrpsee::core::client::Error> =
			client.request("author_submitExtrinsic", rpc_params![extrinsic.clone()]).await;
		match submitted {
			Ok(hash) => return (extrinsic, hash),
			Err(jsonrpsee::core::client::Error::Call(e))
				if retried && matches!(e.code(), 1013 | 1014) =>
			{
				return (extrinsic, hash)
			}
			Err(_) if started.elapsed() < Duration::from_secs(3) => {
				retried = true;
				tokio::time::sleep(Duration::from_millis(100)).await;
			}
			Err(e) => panic!("extrinsic accepted by the pool: {e}"),
		}
	}
}

/// `call` signed as `signer` (next nonce, immortal) with the runtime's exact transaction
/// extensions, hex-encoded for `author_submitExtrinsic`.
pub async fn signed_extrinsic(
	client: &WsClient,
	signer: &sr25519::Pair,
	call: RuntimeCall,
) -> String {
	let who: AccountId = signer.public().into();
	let nonce: Nonce = client
		.request("system_accountNextIndex", rpc_params![who.to_string()])
		.await
		.expect("nonce");
	let genesis: H256 =
		client.request("chain_getBlockHash", rpc_params![0u32]).await.expect("genesis hash");
	let version: Value =
		client.request("state_getRuntimeVersion", rpc_params![]).await.expect("runtime version");
	let spec_version = version["specVersion"].as_u64().expect("specVersion") as u32;
	let tx_version = version["transactionVersion"].as_u64().expect("transactionVersion") as u32;

	let extension: TxExtension = (
		frame_system::CheckNonZeroSender::new(),
		frame_system::CheckSpecVersion::new(),
		frame_system::CheckTxVersion::new(),
		frame_system::CheckGenesis::new(),
		frame_system::CheckEra::from(Era::Immortal),
		frame_system::CheckNonce::from(nonce),
		frame_system::CheckWeight::new(),
		pallet_jobs::CheckDeviceCall::new(),
		pallet_transaction_payment::ChargeTransactionPayment::from(0),
		frame_metadata_hash_extension::CheckMetadataHash::new(false),
		frame_system::WeightReclaim::new(),
	);
	// What the extensions add to the signed payload without being in the extrinsic.
	let implicit = ((), spec_version, tx_version, genesis, genesis, (), (), (), (), None, ());
	let payload = SignedPayload::from_raw(call.clone(), extension.clone(), implicit);
	let signature = payload.using_encoded(|bytes| signer.sign(bytes));
	let xt = UncheckedExtrinsic::new_signed(
		call,
		MultiAddress::Id(who),
		MultiSignature::Sr25519(signature),
		extension,
	);
	format!("0x{}", hex::encode(xt.encode()))
}

/// Reads and decodes the storage value at `key` (best block), if any.
pub async fn storage<T: Decode>(client: &WsClient, key: &[u8]) -> Option<T> {
	let data: Option<String> = client
		.request("state_getStorage", rpc_params![format!("0x{}", hex::encode(key))])
		.await
		.expect("storage");
	data.map(|d| {
		let bytes = hex::decode(d.trim_start_matches("0x")).expect("hex");
		T::decode(&mut &bytes[..]).expect("storage value decodes")
	})
}

/// Total issuance at the best block.
pub async fn total_issuance(client: &WsClient) -> Balance {
	storage(client, &pallet_balances::TotalIssuance::<Runtime>::hashed_key()).await.unwrap_or(0)
}

/// The events of the block with `hash`.
pub async fn events_at(client: &WsClient, hash: H256) -> Vec<RuntimeEvent> {
	// `System::Events` is private to frame-system; its key is the usual storage prefix.
	let key = frame_support::storage::storage_prefix(b"System", b"Events");
	let data: Option<String> = client
		.request("state_getStorage", rpc_params![format!("0x{}", hex::encode(key)), hash])
		.await
		.expect("events");
	let Some(data) = data else { return Vec::new() };
	let bytes = hex::decode(data.trim_start_matches("0x")).expect("hex");
	Vec::<frame_system::EventRecord<RuntimeEvent, H256>>::decode(&mut &bytes[..])
		.expect("events decode")
		.into_iter()
		.map(|record| record.event)
		.collect()
}

/// Signs and submits `call`, waits (instant sealing) until the signer's nonce moved on, and
/// returns the events of the blocks made meanwhile. Panics if the call failed.
pub async fn submit_and_wait(
	client: &WsClient,
	signer: &sr25519::Pair,
	call: RuntimeCall,
) -> Vec<RuntimeEvent> {
	let who: AccountId = signer.public().into();
	let account_key = frame_system::Account::<Runtime>::hashed_key_for(&who);
	let nonce_of = |info: Option<
		frame_system::AccountInfo<Nonce, pallet_balances::AccountData<Balance>>,
	>| { info.map(|i| i.nonce).unwrap_or(0) };
	let nonce_before = nonce_of(storage(client, &account_key).await);
	let submitted_at = block_number(client, None).await;

	let (extrinsic, _) = submit_signed(client, signer, call).await;
	let started = Instant::now();
	while nonce_of(storage(client, &account_key).await) == nonce_before {
		// With several BABE authors, one of them down, a slot in four is empty and a reorg
		// can send the transaction back to the pool: allow it a minute.
		assert!(started.elapsed() < Duration::from_secs(60), "transaction not included");
		tokio::time::sleep(Duration::from_millis(20)).await;
	}

	// From the block that holds it: with several authors a reorg can put it below the best
	// block seen at submission.
	let best = block_number(client, None).await;
	let mut first = submitted_at + 1;
	for n in (submitted_at.saturating_sub(16).max(1)..=best).rev() {
		let hash: H256 =
			client.request("chain_getBlockHash", rpc_params![n]).await.expect("block hash");
		let block: Value =
			client.request("chain_getBlock", rpc_params![hash]).await.expect("block");
		let holds = block["block"]["extrinsics"]
			.as_array()
			.is_some_and(|xts| xts.iter().any(|x| x.as_str() == Some(extrinsic.as_str())));
		if holds {
			first = n;
			break;
		}
	}
	let mut events = Vec::new();
	for n in first..=best {
		let hash: H256 =
			client.request("chain_getBlockHash", rpc_params![n]).await.expect("block hash");
		events.extend(events_at(client, hash).await);
	}
	assert_no_failure(&events);
	events
}

/// Panics if `events` say an extrinsic failed.
pub fn assert_no_failure(events: &[RuntimeEvent]) {
	for event in events {
		if let RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
			dispatch_error, ..
		}) = event
		{
			panic!("extrinsic failed: {dispatch_error:?}");
		}
	}
}

/// Asks a sealing node for one more (empty, finalized) block.
pub async fn seal_block(client: &WsClient) {
	let _: Value = client
		.request("engine_createBlock", rpc_params![true, true, Option::<H256>::None])
		.await
		.expect("engine_createBlock");
}

/// A plausible H100 spec for tests.
pub fn device_spec() -> proofgrid_primitives::device::DeviceSpec {
	use proofgrid_primitives::device::Kernel;
	proofgrid_primitives::testing::device_spec(&[Kernel::GemmI8, Kernel::LinearI8], 1_979_000)
}

/// The genesis hash of the chain `client` talks to.
pub async fn genesis_hash(client: &WsClient) -> H256 {
	client.request("chain_getBlockHash", rpc_params![0u32]).await.expect("genesis hash")
}

/// Registers `device` for `owner` at `price` per unit, the way the worker does: the device key
/// signs the registration message, the owner submits. Returns the events.
pub async fn register_device(
	client: &WsClient,
	owner: &sr25519::Pair,
	device: &sr25519::Pair,
	price: Balance,
) -> Vec<RuntimeEvent> {
	let call = register_call(client, owner, device, price).await;
	submit_and_wait(client, owner, call).await
}

/// The call that registers `device` for `owner` at `price` per unit, with its proof.
pub async fn register_call(
	client: &WsClient,
	owner: &sr25519::Pair,
	device: &sr25519::Pair,
	price: Balance,
) -> RuntimeCall {
	let owner_id: AccountId = owner.public().into();
	let message =
		proofgrid_primitives::device::registration_message(&owner_id, &genesis_hash(client).await);
	RuntimeCall::Devices(pallet_devices::Call::register {
		device: device.public().into(),
		spec: device_spec(),
		price_per_unit: price,
		proof: MultiSignature::Sr25519(device.sign(&message)),
	})
}

/// Submits `call` signed by `signer`, seals (final) blocks on a manual-sealing node until it is
/// in one — the first, unless the pool had not caught up with the newest block yet — and
/// returns that block's events. Panics if the call failed.
pub async fn apply(
	client: &WsClient,
	signer: &sr25519::Pair,
	call: RuntimeCall,
) -> Vec<RuntimeEvent> {
	let (extrinsic, _) = submit_signed(client, signer, call).await;
	for _ in 0..5 {
		seal_block(client).await;
		let block: Value = client.request("chain_getBlock", rpc_params![]).await.expect("block");
		let included = block["block"]["extrinsics"]
			.as_array()
			.is_some_and(|xts| xts.iter().any(|x| x.as_str() == Some(extrinsic.as_str())));
		if included {
			let hash: H256 =
				client.request("chain_getBlockHash", rpc_params![]).await.expect("best hash");
			let events = events_at(client, hash).await;
			assert_no_failure(&events);
			return events;
		}
	}
	panic!("the extrinsic was not included in five blocks");
}

/// The bond of device `device` at the best block.
pub async fn device_bond(client: &WsClient, device: &AccountId) -> Balance {
	let key = pallet_devices::Devices::<Runtime>::hashed_key_for(device);
	let info: pallet_devices::DeviceInfo<AccountId, Balance, u32> =
		storage(client, &key).await.expect("a registered device");
	info.bond
}

/// The fee the events say the transaction(s) paid.
pub fn tx_fee(events: &[RuntimeEvent]) -> Balance {
	events
		.iter()
		.filter_map(|e| match e {
			RuntimeEvent::TransactionPayment(
				pallet_transaction_payment::Event::TransactionFeePaid { actual_fee, .. },
			) => Some(*actual_fee),
			_ => None,
		})
		.sum()
}

/// The spec of open job `job` as the chain stores it (with its effective seed), read the way a
/// worker reads it.
pub async fn stored_spec(client: &WsClient, job: u64) -> proofgrid_primitives::job::JobSpec {
	let key = pallet_jobs::Jobs::<Runtime>::hashed_key_for(job);
	let info: pallet_jobs::Job<AccountId, Balance, u32> =
		storage(client, &key).await.expect("open job");
	info.spec
}

/// A job's output tree, computed the way an honest worker does, with `proofgrid-primitives`.
pub fn output_tree(
	spec: &proofgrid_primitives::job::JobSpec,
) -> proofgrid_primitives::merkle::MerkleTree {
	proofgrid_primitives::testing::seeded_output(spec, |_| false)
}

/// The hash of block `number` of the best chain.
pub async fn block_hash(client: &WsClient, number: u32) -> H256 {
	client.request("chain_getBlockHash", rpc_params![number]).await.expect("block hash")
}

/// The challenge block of committed job `job` and the leaves to reveal, as block `at` (the best
/// if `None`) sees them: the runtime API `JobsApi_challenge`, which picks the block (after two
/// authors' blocks on a chain with several) the way the chain checks a reveal.
pub async fn challenge(client: &WsClient, job: u64, at: Option<H256>) -> Option<(u32, Vec<u64>)> {
	let result: String = client
		.request(
			"state_call",
			rpc_params!["JobsApi_challenge", format!("0x{}", hex::encode(job.encode())), at],
		)
		.await
		.expect("state_call");
	let bytes = hex::decode(result.trim_start_matches("0x")).expect("hex");
	Option::<(u32, Vec<u64>)>::decode(&mut &bytes[..]).expect("a challenge")
}

/// What an honest device reveals for committed job `job` once the block after its challenge
/// block exists: the challenged leaves, drawn from the challenge block's VRF randomness as the
/// chain recorded it, and the reveal naming that block. Returns the indices and the call.
pub async fn honest_reveal(
	client: &WsClient,
	job: u64,
	spec: &proofgrid_primitives::job::JobSpec,
	tree: &proofgrid_primitives::merkle::MerkleTree,
	challenge_block: u32,
) -> (Vec<u64>, RuntimeCall) {
	use proofgrid_primitives::challenge::{challenge_indices, challenge_seed};
	let key = pallet_jobs::ChallengeRandomness::<Runtime>::hashed_key_for(challenge_block);
	let recorded: pallet_jobs::ChallengeSeed =
		storage(client, &key).await.expect("challenge randomness recorded");
	let randomness = recorded.randomness;
	let challenge_hash = block_hash(client, challenge_block).await;
	assert_eq!(recorded.block_hash, challenge_hash, "the seed names its block");
	assert_ne!(randomness, challenge_hash, "challenges come from the VRF, not the block hash");
	let indices = challenge_indices(
		&challenge_seed(job, &tree.root(), &randomness.0),
		spec.shape.leaf_count(),
		64,
	);
	let paths = proofgrid_primitives::testing::reveal_paths(tree, &indices);
	let call = RuntimeCall::Jobs(pallet_jobs::Call::reveal {
		job,
		challenge_hash,
		reveal: proofgrid_primitives::job::Reveal::Seeded(paths),
		k_dim_witness: spec.shape.k,
	});
	(indices, call)
}

/// The id of the job whose submission `events` report.
pub fn submitted_job(events: &[RuntimeEvent]) -> u64 {
	events
		.iter()
		.find_map(|e| match e {
			RuntimeEvent::Jobs(pallet_jobs::Event::JobSubmitted { job, .. }) => Some(*job),
			_ => None,
		})
		.expect("JobSubmitted")
}

/// Waits until the pool holds `count` transactions ready for the next block (it takes them in
/// a moment after a block is sealed), so that they go into one block.
pub async fn wait_for_pool(node: &Node, count: usize) {
	// Seven 1 MiB reveals are 14.7 MB of hex: more than a default client takes.
	let client = jsonrpsee::ws_client::WsClientBuilder::default()
		.max_response_size(64 << 20)
		.build(&node.ws_url)
		.await
		.expect("a second connection");
	let started = std::time::Instant::now();
	loop {
		let pending: Vec<Value> =
			client.request("author_pendingExtrinsics", rpc_params![]).await.expect("pending");
		if pending.len() >= count {
			// The ready set follows the pending list by a moment as well.
			tokio::time::sleep(std::time::Duration::from_millis(300)).await;
			return;
		}
		assert!(started.elapsed().as_secs() < 10, "{} of {count} in the pool", pending.len());
		tokio::time::sleep(std::time::Duration::from_millis(50)).await;
	}
}

/// Tests of one binary that hold this run one at a time: on two cores, two nodes sealing at
/// once slow each other's pools enough to make timing-sensitive tests flaky.
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
	static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
	SERIAL.lock().await
}
