//! The real `proofgrid-node` on loopback: a dev chain with instant sealing takes a signed
//! transfer, and a dev chain with Aura + GRANDPA produces and finalizes blocks.

mod common;

use std::time::{Duration, Instant};

use common::{best_and_finalized, free_balance, sign_and_submit, Node};
use jsonrpsee::{core::client::ClientT, rpc_params};
use proofgrid_runtime::{RuntimeCall, GRID};
use sp_keyring::Sr25519Keyring;
use sp_runtime::MultiAddress;

#[tokio::test(flavor = "multi_thread")]
async fn instant_sealing_includes_a_signed_transfer() {
	let (node, client) = Node::start(&["--dev", "--sealing", "instant"]).await;

	let chain: String = client.request("system_chain", rpc_params![]).await.expect("system_chain");
	assert_eq!(chain, "ProofGrid Development");

	let alice = Sr25519Keyring::Alice;
	let dave = Sr25519Keyring::Dave.to_account_id();
	let dave_before = free_balance(&client, &dave).await;
	assert!(dave_before > 0, "Dave is prefunded by the development preset");

	let amount = 42 * GRID;
	let call = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
		dest: MultiAddress::Id(dave.clone()),
		value: amount,
	});
	let sent = Instant::now();
	let tx_hash = sign_and_submit(&client, &alice.pair(), call).await;
	println!("submitted transfer {tx_hash:?}");

	// Instant sealing puts it in a (finalized) block as soon as it is in the pool.
	loop {
		if free_balance(&client, &dave).await == dave_before + amount {
			break;
		}
		assert!(
			sent.elapsed() < Duration::from_secs(30),
			"transfer not included\n{}",
			node.log_tail()
		);
		tokio::time::sleep(Duration::from_millis(20)).await;
	}
	println!("transfer included after {} ms", sent.elapsed().as_millis());

	let (best, finalized) = best_and_finalized(&client).await;
	println!("best #{best}, finalized #{finalized}");
	assert!(best >= 1, "a block was sealed");
	assert_eq!(finalized, best, "instant sealing finalizes every block");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_block_time_rpc_reports_the_pace_the_chain_keeps_not_only_its_target() {
	let (node, client) = Node::start(&["--dev", "--sealing", "300"]).await;
	let started = Instant::now();
	let view = loop {
		let view: proofgrid_rpc_api::BlockTimeView =
			client.request("proofgrid_blockTime", rpc_params![]).await.expect("blockTime");
		if view.observed_blocks >= 5 {
			break view;
		}
		assert!(started.elapsed() < Duration::from_secs(60), "{view:?}\n{}", node.log_tail());
		tokio::time::sleep(Duration::from_millis(300)).await;
	};
	println!("proofgrid_blockTime on a chain sealing every 300 ms: {view:?}");
	assert_eq!(view.target_ms, 6_000, "the runtime's target");
	// Sealing every 300 ms: far below the 6 s target even on a loaded machine.
	let observed = view.observed_ms.expect("observed");
	assert!(observed > 0 && observed < 3_000, "{view:?}");
	assert_eq!(view.ms(), observed);
}

#[tokio::test(flavor = "multi_thread")]
async fn babe_and_grandpa_produce_and_finalize_blocks() {
	let (node, client) = Node::start(&["--dev"]).await;

	// Six-second BABE slots: a minute is plenty for a few blocks and GRANDPA rounds.
	let started = Instant::now();
	loop {
		let (best, finalized) = best_and_finalized(&client).await;
		println!(
			"{:>4.1} s: best #{best}, finalized #{finalized}",
			started.elapsed().as_secs_f64()
		);
		if best >= 2 && finalized >= 1 {
			break;
		}
		assert!(
			started.elapsed() < Duration::from_secs(90),
			"no blocks produced and finalized\n{}",
			node.log_tail()
		);
		tokio::time::sleep(Duration::from_secs(2)).await;
	}
}

/// `wasm` (a runtime, uncompressed) with the version it declares in its `runtime_version`
/// custom section, the version the node and `set_code` read, raised to `spec_version`.
fn declaring_spec_version(wasm: &[u8], spec_version: u32) -> Vec<u8> {
	use codec::{Decode, Encode};
	/// A LEB128 u32 at `*at`, moving `*at` past it.
	fn leb128(bytes: &[u8], at: &mut usize) -> usize {
		let (mut value, mut shift) = (0usize, 0);
		loop {
			let byte = bytes[*at];
			*at += 1;
			value |= usize::from(byte & 0x7f) << shift;
			if byte & 0x80 == 0 {
				return value;
			}
			shift += 7;
		}
	}
	let mut out = wasm.to_vec();
	let mut at = 8; // magic and version
	while at < wasm.len() {
		let id = wasm[at];
		at += 1;
		let size = leb128(wasm, &mut at);
		let end = at + size;
		if id == 0 {
			let mut name_at = at;
			let name_len = leb128(wasm, &mut name_at);
			if &wasm[name_at..name_at + name_len] == b"runtime_version" {
				let payload = name_at + name_len;
				let mut version =
					sp_version::RuntimeVersion::decode(&mut &wasm[payload..end]).expect("version");
				version.spec_version = spec_version;
				let encoded = version.encode();
				// Same length: only a fixed-width integer changed.
				assert_eq!(encoded.len(), end - payload);
				out[payload..end].copy_from_slice(&encoded);
				return out;
			}
		}
		at = end;
	}
	panic!("the runtime declares no runtime_version section");
}

/// The `specVersion` the node reports at `at` (the best block if `None`).
async fn spec_version(client: &jsonrpsee::ws_client::WsClient, at: Option<sp_core::H256>) -> u32 {
	let version: serde_json::Value =
		client.request("state_getRuntimeVersion", rpc_params![at]).await.expect("version");
	version["specVersion"].as_u64().expect("specVersion") as u32
}

/// The upgrade path operators use (docs/OPERATIONS.md): sudo `set_code` with a runtime that
/// declares a higher `spec_version`. Only the sudo key can do it, a runtime that does not raise
/// the version is refused, and after the upgrade the chain authors and finalizes blocks with
/// the new code. (The new code is this runtime's own wasm declaring the next version: building
/// a second runtime would double the tests' build.)
#[tokio::test(flavor = "multi_thread")]
async fn sudo_set_code_upgrades_the_runtime_of_a_running_chain() {
	use common::{best_and_finalized, block_hash, submit_and_wait};
	use proofgrid_runtime::RuntimeEvent;

	let (node, client) = Node::start(&["--dev"]).await;
	let current = spec_version(&client, None).await;
	assert_eq!(current, proofgrid_runtime::VERSION.spec_version);

	let compressed = proofgrid_runtime::WASM_BINARY.expect("the runtime wasm");
	let limit = 64 << 20;
	let wasm = sp_maybe_compressed_blob::decompress(compressed, limit).expect("decompresses");
	let next = sp_maybe_compressed_blob::compress_strongly(
		&declaring_spec_version(&wasm, current + 1),
		limit,
	)
	.expect("compresses");
	let set_code = |code: Vec<u8>| RuntimeCall::System(frame_system::Call::set_code { code });
	let sudo =
		|call: RuntimeCall| RuntimeCall::Sudo(pallet_sudo::Call::sudo { call: Box::new(call) });

	// Not the sudo key: refused, nothing changes.
	let bob = Sr25519Keyring::Bob.pair();
	sign_and_submit(&client, &bob, sudo(set_code(next.clone()))).await;
	let bob_account = frame_system::Account::<proofgrid_runtime::Runtime>::hashed_key_for(
		Sr25519Keyring::Bob.to_account_id(),
	);
	let started = Instant::now();
	while common::storage::<
		frame_system::AccountInfo<proofgrid_runtime::Nonce, pallet_balances::AccountData<u128>>,
	>(&client, &bob_account)
	.await
	.map_or(0, |info| info.nonce)
		== 0
	{
		assert!(started.elapsed() < Duration::from_secs(30), "Bob's call not included");
		tokio::time::sleep(Duration::from_millis(200)).await;
	}
	// The same version again: sudo dispatches it, `set_code` refuses it.
	let alice = Sr25519Keyring::Alice.pair();
	let events = submit_and_wait(&client, &alice, sudo(set_code(compressed.to_vec()))).await;
	let refused = events.iter().any(|e| {
		matches!(e, RuntimeEvent::Sudo(pallet_sudo::Event::Sudid { sudo_result: Err(_) }))
	});
	assert!(refused, "set_code refuses a runtime that does not raise spec_version: {events:?}");
	assert_eq!(spec_version(&client, None).await, current, "neither call changed the runtime");
	// Bob's call was included (he paid for it) and failed.
	let mut failed = 0;
	for number in 1..=best_and_finalized(&client).await.0 {
		for event in common::events_at(&client, block_hash(&client, number).await).await {
			if let RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
				dispatch_error,
				..
			}) = event
			{
				println!("#{number}: an extrinsic failed: {dispatch_error:?}");
				failed += 1;
			}
		}
	}
	assert_eq!(failed, 1, "Bob's set_code failed");

	// The sudo key with the next version: the code is replaced.
	let events = submit_and_wait(&client, &alice, sudo(set_code(next.clone()))).await;
	assert!(
		events
			.iter()
			.any(|e| matches!(e, RuntimeEvent::System(frame_system::Event::CodeUpdated { .. }))),
		"CodeUpdated: {events:?}"
	);
	let code: Option<String> = client
		.request("state_getStorage", rpc_params![format!("0x{}", hex::encode(b":code"))])
		.await
		.expect(":code");
	assert_eq!(code, Some(format!("0x{}", hex::encode(&next))), ":code holds the new runtime");
	let (upgraded_at, _) = best_and_finalized(&client).await;

	// Blocks go on, authored and finalized with the new code.
	let started = Instant::now();
	loop {
		let (best, finalized) = best_and_finalized(&client).await;
		if finalized > upgraded_at + 1 {
			let hash = block_hash(&client, finalized).await;
			assert_eq!(spec_version(&client, Some(hash)).await, current + 1);
			println!("upgraded to spec_version {} at #{upgraded_at}; finalized #{finalized} (best #{best}) with it", current + 1);
			break;
		}
		assert!(
			started.elapsed() < Duration::from_secs(90),
			"no blocks after the upgrade\n{}",
			node.log_tail()
		);
		tokio::time::sleep(Duration::from_secs(1)).await;
	}
}
