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
