//! The device registry on a real dev node: a device registered through RPC shows in storage
//! with its bond held, and `deregister` → `withdraw_bond` returns the bond.

mod common;

use codec::Encode;
use common::{device_spec, register_device, seal_block, storage, submit_and_wait, Node};
use proofgrid_primitives::device::DeviceStatus;
use proofgrid_runtime::{
	configs::{DeviceBond, DeviceUnbondingPeriod},
	AccountId, Balance, Nonce, Runtime, RuntimeCall, RuntimeEvent, RuntimeHoldReason, GRID,
};
use sp_core::{sr25519, Pair};
use sp_keyring::Sr25519Keyring;

type AccountInfo = frame_system::AccountInfo<Nonce, pallet_balances::AccountData<Balance>>;

async fn account(client: &jsonrpsee::ws_client::WsClient, who: &AccountId) -> AccountInfo {
	storage(client, &frame_system::Account::<Runtime>::hashed_key_for(who))
		.await
		.expect("account exists")
}

#[tokio::test(flavor = "multi_thread")]
async fn register_holds_the_bond_and_withdraw_returns_it() {
	let (_node, client) = Node::start(&["--dev", "--sealing", "instant"]).await;
	let alice = Sr25519Keyring::Alice.pair();
	let owner: AccountId = Sr25519Keyring::Alice.to_account_id();

	// Root shortens the 7-day unbonding period of this dev chain to 2 blocks.
	let unbonding: u32 = 2;
	let set_period = RuntimeCall::System(frame_system::Call::set_storage {
		items: vec![(DeviceUnbondingPeriod::key().to_vec(), unbonding.encode())],
	});
	submit_and_wait(
		&client,
		&alice,
		RuntimeCall::Sudo(pallet_sudo::Call::sudo { call: Box::new(set_period) }),
	)
	.await;

	// The worker's side: a device key signs the registration message for its owner.
	let (device_pair, _) = sr25519::Pair::generate();
	let device: AccountId = device_pair.public().into();
	let spec = device_spec();
	let before = account(&client, &owner).await;
	let events = register_device(&client, &alice, &device_pair, GRID / 10).await;
	let bond = DeviceBond::get();
	assert!(events.contains(&RuntimeEvent::Devices(pallet_devices::Event::Registered {
		owner: owner.clone(),
		device: device.clone(),
		bond,
	})));

	let info: pallet_devices::DeviceInfoOf<Runtime> =
		storage(&client, &pallet_devices::Devices::<Runtime>::hashed_key_for(&device))
			.await
			.expect("device stored");
	assert_eq!((info.owner.clone(), info.spec, info.bond), (owner.clone(), spec, bond));
	assert_eq!(info.status, DeviceStatus::Active);
	let holds: Vec<frame_support::traits::tokens::IdAmount<RuntimeHoldReason, Balance>> =
		storage(&client, &pallet_balances::Holds::<Runtime>::hashed_key_for(&owner))
			.await
			.expect("holds");
	assert_eq!(holds.len(), 1);
	assert_eq!(holds[0].id, RuntimeHoldReason::Devices(pallet_devices::HoldReason::DeviceBond));
	assert_eq!(holds[0].amount, bond);
	let registered = account(&client, &owner).await;
	assert_eq!(registered.data.reserved, before.data.reserved + bond);
	println!("device {device} registered, bond {bond} held");

	submit_and_wait(
		&client,
		&alice,
		RuntimeCall::Devices(pallet_devices::Call::deregister { device: device.clone() }),
	)
	.await;
	for _ in 0..unbonding {
		seal_block(&client).await;
	}
	let before_withdraw = account(&client, &owner).await;
	let events = submit_and_wait(
		&client,
		&alice,
		RuntimeCall::Devices(pallet_devices::Call::withdraw_bond { device: device.clone() }),
	)
	.await;
	assert!(events.contains(&RuntimeEvent::Devices(pallet_devices::Event::BondWithdrawn {
		device: device.clone(),
		owner: owner.clone(),
		amount: bond,
	})));
	let fee: Balance = events
		.iter()
		.find_map(|e| match e {
			RuntimeEvent::TransactionPayment(
				pallet_transaction_payment::Event::TransactionFeePaid { actual_fee, .. },
			) => Some(*actual_fee),
			_ => None,
		})
		.expect("fee paid");

	let after = account(&client, &owner).await;
	assert_eq!(after.data.reserved, before.data.reserved, "bond released");
	assert_eq!(after.data.free, before_withdraw.data.free + bond - fee, "bond back, less the fee");
	assert!(storage::<pallet_devices::DeviceInfoOf<Runtime>>(
		&client,
		&pallet_devices::Devices::<Runtime>::hashed_key_for(&device)
	)
	.await
	.is_none());
	println!("bond {bond} returned (withdraw fee {fee})");
}
