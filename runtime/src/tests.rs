//! Native tests of the runtime: the genesis presets build, a transfer works, and challenge
//! randomness comes from BABE's VRF.

use codec::Encode;
use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect};
use serde_json::Value;
use sp_keyring::Sr25519Keyring;
use sp_runtime::{BuildStorage, TokenError};

use crate::{
	genesis_config_presets::{self, ENDOWMENT},
	Babe, Balances, Grandpa, Runtime, RuntimeGenesisConfig, RuntimeOrigin, System,
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
	assert_eq!(names, vec!["development", "local_testnet", "testnet"]);
	assert!(genesis_config_presets::get_preset(&"mainnet".into()).is_none());
}

#[test]
fn local_testnet_preset_has_four_validators() {
	ext_from_preset("local_testnet").execute_with(|| {
		// GRANDPA needs more than two thirds: four validators keep finalizing with one down.
		let babe: Vec<_> =
			pallet_babe::Authorities::<Runtime>::get().into_iter().map(|(id, _)| id).collect();
		let expected = [
			Sr25519Keyring::Alice,
			Sr25519Keyring::Bob,
			Sr25519Keyring::Charlie,
			Sr25519Keyring::Dave,
		]
		.map(|k| sp_consensus_babe::AuthorityId::from(k.public()));
		assert_eq!(babe, expected.to_vec());
		assert_eq!(Grandpa::grandpa_authorities().len(), 4);
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), Some(Sr25519Keyring::Alice.to_account_id()));
	});
}

#[test]
fn development_preset_has_alice_as_validator_and_sudo() {
	ext_from_preset("development").execute_with(|| {
		assert_eq!(pallet_babe::Authorities::<Runtime>::get().len(), 1);
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
		assert_eq!(Babe::slot_duration(), 6_000);
		// Every block carries a VRF output, which challenges are drawn from.
		assert_eq!(
			pallet_babe::EpochConfig::<Runtime>::get().map(|config| config.allowed_slots),
			Some(sp_consensus_babe::AllowedSlots::PrimaryAndSecondaryVRFSlots)
		);
		// Short eras, so rewards show up within a minute.
		assert_eq!(
			pallet_rewards::EraLength::<Runtime>::get(),
			genesis_config_presets::DEV_ERA_LENGTH
		);
		// A short dispute window, so verified jobs are paid within a minute.
		assert_eq!(
			pallet_jobs::DisputeWindowBlocks::<Runtime>::get(),
			genesis_config_presets::DEV_DISPUTE_WINDOW
		);
		// And a short release cooldown, so that tests and demos go on after a release.
		assert_eq!(
			pallet_jobs::ReleaseCooldownBlocks::<Runtime>::get(),
			genesis_config_presets::DEV_RELEASE_COOLDOWN
		);
		crate::Rewards::do_try_state().expect("rewards books balance at genesis");
	});
}

#[test]
fn testnet_template_holds_no_well_known_key() {
	ext_from_preset("testnet").execute_with(|| {
		assert!(pallet_babe::Authorities::<Runtime>::get().is_empty());
		assert!(Grandpa::grandpa_authorities().is_empty());
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), None);
		for who in Sr25519Keyring::iter() {
			assert_eq!(Balances::balance(&who.to_account_id()), 0, "{who:?} is not prefunded");
		}
		assert_eq!(Balances::total_issuance(), 2 * EXISTENTIAL_DEPOSIT);
		assert_eq!(pallet_rewards::EraLength::<Runtime>::get(), crate::HOURS);
		assert_eq!(pallet_jobs::DisputeWindowBlocks::<Runtime>::get(), 10 * crate::MINUTES);
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
	use pallet_jobs::WeightInfo;
	use proofgrid_primitives::traits::ComputeVerifier;

	let reveal = pallet_jobs::weights::SubstrateWeight::<Runtime>::reveal().saturating_add(
		crate::ComputeProof::verify_weight(
			proofgrid_primitives::job::OutputKind::Seeded,
			0,
			4096,
			0,
			0,
		),
	);
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

/// Alice's BABE pre-digest for a secondary VRF claim of `slot`, signed afresh: schnorrkel VRF
/// proofs are randomized, so two calls give two different signatures (and block hashes) with
/// the same VRF output.
fn alice_claims(slot: u64) -> (sp_runtime::Digest, Vec<u8>) {
	use sp_consensus_babe::digests::{CompatibleDigestItem, PreDigest, SecondaryVRFPreDigest};
	use sp_core::crypto::VrfSecret;

	let sign_data = sp_consensus_babe::make_vrf_sign_data(
		&pallet_babe::Randomness::<Runtime>::get(),
		slot.into(),
		pallet_babe::EpochIndex::<Runtime>::get(),
	);
	let vrf_signature = Sr25519Keyring::Alice.pair().vrf_sign(&sign_data);
	let proof = vrf_signature.proof.encode();
	let pre_digest = PreDigest::SecondaryVRF(SecondaryVRFPreDigest {
		authority_index: 0,
		slot: slot.into(),
		vrf_signature,
	});
	(sp_runtime::Digest { logs: vec![sp_runtime::DigestItem::babe_pre_digest(pre_digest)] }, proof)
}

/// Authors block 1 in `slot` as Alice (with a transfer of `amount` if any, so that blocks
/// differ in content too), starts block 2, and returns block 1's header hash, its VRF proof and
/// the challenge randomness the jobs pallet recorded for it.
fn author_block_one(slot: u64, amount: Option<u128>) -> (sp_core::H256, Vec<u8>, sp_core::H256) {
	use sp_runtime::traits::{Hash as _, Header as _};

	let mut result = None;
	ext_from_preset("development").execute_with(|| {
		System::set_block_number(0);
		let (digest, proof) = alice_claims(slot);
		let header = crate::Header::new(
			1,
			Default::default(),
			Default::default(),
			System::parent_hash(),
			digest,
		);
		crate::Executive::initialize_block(&header);
		assert_ok!(crate::Timestamp::set(RuntimeOrigin::none(), slot * Babe::slot_duration()));
		if let Some(amount) = amount {
			assert_ok!(Balances::transfer_keep_alive(
				RuntimeOrigin::signed(Sr25519Keyring::Alice.to_account_id()),
				Sr25519Keyring::Bob.to_account_id().into(),
				amount
			));
		}
		let sealed = crate::Executive::finalize_block();
		let hash = sp_runtime::traits::BlakeTwo256::hash_of(&sealed);
		let next =
			crate::Header::new(2, Default::default(), Default::default(), hash, Default::default());
		crate::Executive::initialize_block(&next);
		let randomness =
			pallet_jobs::ChallengeRandomness::<Runtime>::get(1).expect("recorded").randomness;
		result = Some((hash, proof, randomness));
	});
	result.expect("ran")
}

#[test]
fn challenge_randomness_is_fixed_by_the_authors_key_and_slot() {
	// The author seals block 1 twice, with other contents: other signatures, other block
	// hashes, the same challenge randomness. Re-sealing (or reordering a block) does not
	// re-roll a challenge.
	let (hash_a, proof_a, random_a) = author_block_one(1_000, None);
	let (hash_b, proof_b, random_b) = author_block_one(1_000, Some(GRID));
	println!("block hashes {hash_a:?} / {hash_b:?}; randomness {random_a:?} / {random_b:?}");
	assert_ne!(proof_a, proof_b, "VRF proofs are randomized");
	assert_ne!(hash_a, hash_b);
	assert_eq!(random_a, random_b);
	// Another slot is another draw: an author's only choice is to withhold its block.
	let (_, _, random_c) = author_block_one(1_001, None);
	assert_ne!(random_a, random_c);
}
