//! Native tests of the runtime: the genesis presets build, and a transfer works.

use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect};
use serde_json::Value;
use sp_keyring::Sr25519Keyring;
use sp_runtime::{BuildStorage, TokenError};

use crate::{
	genesis_config_presets::{self, ENDOWMENT},
	Aura, Balances, Grandpa, Runtime, RuntimeGenesisConfig, RuntimeOrigin, System,
	EXISTENTIAL_DEPOSIT, GRID,
};

/// Applies a JSON patch the way the node does: objects merge key by key, the rest replaces.
fn merge(base: &mut Value, patch: Value) {
	match (base, patch) {
		(Value::Object(base), Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(Value::Null), value);
			}
		}
		(base, patch) => *base = patch,
	}
}

/// Test externalities from a named preset, built the way a chain spec would build them.
fn ext_from_preset(name: &str) -> sp_io::TestExternalities {
	let patch = genesis_config_presets::get_preset(&name.into()).expect("preset exists");
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).expect("serialise");
	merge(&mut config, serde_json::from_slice(&patch).expect("preset is JSON"));
	let config: RuntimeGenesisConfig =
		serde_json::from_value(config).expect("preset fits the genesis config");
	let mut ext: sp_io::TestExternalities = config.build_storage().expect("genesis builds").into();
	ext.execute_with(|| System::set_block_number(1));
	ext
}

#[test]
fn presets_are_listed_and_unknown_ones_refused() {
	let names: Vec<String> = genesis_config_presets::preset_names()
		.into_iter()
		.map(|id| String::from_utf8(id.into()).expect("utf8"))
		.collect();
	assert_eq!(names, vec!["development", "local_testnet"]);
	assert!(genesis_config_presets::get_preset(&"mainnet".into()).is_none());
}

#[test]
fn development_preset_has_alice_as_validator_and_sudo() {
	ext_from_preset("development").execute_with(|| {
		assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 1);
		assert_eq!(Grandpa::grandpa_authorities().len(), 1);
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), Some(Sr25519Keyring::Alice.to_account_id()));
		for who in Sr25519Keyring::well_known() {
			assert_eq!(Balances::balance(&who.to_account_id()), ENDOWMENT);
		}
		let endowed = Sr25519Keyring::well_known().count() as u128;
		let treasury = crate::configs::TreasuryAccount::get();
		assert_eq!(Balances::balance(&treasury), EXISTENTIAL_DEPOSIT);
		// The rewards pot exists from genesis too, holding only its existential deposit.
		assert_eq!(Balances::balance(&crate::Rewards::pot()), EXISTENTIAL_DEPOSIT);
		assert_eq!(Balances::total_issuance(), ENDOWMENT * endowed + 2 * EXISTENTIAL_DEPOSIT);
		assert_eq!(Aura::slot_duration(), 6_000);
		// Short eras, so rewards show up within a minute.
		assert_eq!(
			pallet_rewards::EraLength::<Runtime>::get(),
			genesis_config_presets::DEV_ERA_LENGTH
		);
		crate::Rewards::do_try_state().expect("rewards books balance at genesis");
	});
}

#[test]
fn local_testnet_preset_has_alice_and_bob_as_validators() {
	ext_from_preset("local_testnet").execute_with(|| {
		let aura = pallet_aura::Authorities::<Runtime>::get();
		assert_eq!(aura.len(), 2);
		assert_eq!(aura[0], Sr25519Keyring::Alice.public().into());
		assert_eq!(aura[1], Sr25519Keyring::Bob.public().into());
		assert_eq!(Grandpa::grandpa_authorities().len(), 2);
		assert_eq!(Balances::balance(&Sr25519Keyring::Ferdie.to_account_id()), ENDOWMENT);
		assert_eq!(pallet_rewards::EraLength::<Runtime>::get(), crate::HOURS);
	});
}

#[test]
fn transfer_moves_funds_and_conserves_issuance() {
	ext_from_preset("development").execute_with(|| {
		let alice = Sr25519Keyring::Alice.to_account_id();
		let bob = Sr25519Keyring::Bob.to_account_id();
		let issuance = Balances::total_issuance();

		assert_ok!(Balances::transfer_keep_alive(
			RuntimeOrigin::signed(alice.clone()),
			bob.clone().into(),
			10 * GRID
		));
		assert_eq!(Balances::balance(&alice), ENDOWMENT - 10 * GRID);
		assert_eq!(Balances::balance(&bob), ENDOWMENT + 10 * GRID);
		assert_eq!(Balances::total_issuance(), issuance);
		System::assert_last_event(
			pallet_balances::Event::Transfer { from: alice, to: bob, amount: 10 * GRID }.into(),
		);
	});
}

#[test]
fn transfer_beyond_balance_or_below_existential_deposit_fails() {
	ext_from_preset("development").execute_with(|| {
		let alice = Sr25519Keyring::Alice.to_account_id();
		let nobody = sp_runtime::AccountId32::new([7u8; 32]);
		assert_noop!(
			Balances::transfer_keep_alive(
				RuntimeOrigin::signed(alice.clone()),
				nobody.clone().into(),
				ENDOWMENT * 2
			),
			TokenError::FundsUnavailable
		);
		assert_noop!(
			Balances::transfer_keep_alive(
				RuntimeOrigin::signed(alice),
				nobody.into(),
				EXISTENTIAL_DEPOSIT - 1
			),
			TokenError::BelowMinimum
		);
	});
}

#[test]
fn a_reveal_for_a_4096_cube_weighs_at_most_one_percent_of_a_block() {
	use frame_support::traits::Get;
	use pallet_compute_proof::ComputeVerifier;
	use pallet_jobs::WeightInfo;

	let reveal = pallet_jobs::weights::SubstrateWeight::<Runtime>::reveal()
		.saturating_add(crate::ComputeProof::verify_weight(4096));
	let block = crate::configs::RuntimeBlockWeights::get().max_block;
	println!(
		"reveal (k = 64, m = n = k_dim = 4096): {:.2} ms = {:.2}% of the block",
		reveal.ref_time() as f64 / 1e9,
		reveal.ref_time() as f64 * 100.0 / block.ref_time() as f64
	);
	assert!(reveal.ref_time() * 100 <= block.ref_time());
	let samples: u32 = <Runtime as pallet_compute_proof::Config>::Samples::get();
	assert_eq!(samples, 64);
}
