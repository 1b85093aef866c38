//! Genesis presets:
//! - `development`: one validator, Alice;
//! - `local_testnet`: Alice, Bob, Charlie and Dave (GRANDPA needs more than two thirds, so four
//!   validators keep finalizing with one of them down);
//! - `testnet`: a template with no validators, no sudo key and no balances, which the operator
//!   fills with keys of their own (`scripts/testnet-spec.sh`, docs/OPERATIONS.md).
//!
//! In the first two the well-known dev accounts are prefunded and Alice is sudo. No devices are
//! registered at genesis: providers register them with the worker.

use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_babe::AuthorityId as BabeId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

use crate::{
	configs::{TreasuryAccount, BABE_GENESIS_EPOCH_CONFIG},
	AccountId, BabeConfig, Balance, BalancesConfig, BlockNumber, GrandpaConfig, JobsConfig,
	RewardsConfig, RuntimeGenesisConfig, SudoConfig, EXISTENTIAL_DEPOSIT, GRID,
};

/// Each prefunded dev account starts with one million GRID.
pub const ENDOWMENT: Balance = 1_000_000 * GRID;

/// Blocks per rewards era on dev chains (one minute at 6 s blocks), so rewards show up quickly.
pub const DEV_ERA_LENGTH: BlockNumber = 10;

/// Blocks a verified job waits for fraud proofs on dev chains (one minute at 6 s blocks, the
/// runtime's default is ten), so that demos see jobs paid soon.
pub const DEV_DISPUTE_WINDOW: BlockNumber = 10;

/// Blocks a device waits to claim after giving a job back, on dev chains (the runtime's
/// default is 100), so that demos and tests go on after a release.
pub const DEV_RELEASE_COOLDOWN: BlockNumber = 2;

/// A genesis config with the given validators, sudo key and prefunded accounts, with
/// [`DEV_ERA_LENGTH`], [`DEV_DISPUTE_WINDOW`] and [`DEV_RELEASE_COOLDOWN`] (`short`) or the
/// runtime's defaults.
fn testnet_genesis(
	initial_authorities: Vec<(BabeId, GrandpaId)>,
	endowed_accounts: Vec<AccountId>,
	root: AccountId,
	short: bool,
) -> Value {
	let era_length = short.then_some(DEV_ERA_LENGTH);
	let dispute_window = short.then_some(DEV_DISPUTE_WINDOW);
	let release_cooldown = short.then_some(DEV_RELEASE_COOLDOWN);
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed_accounts
				.iter()
				.cloned()
				.map(|k| (k, ENDOWMENT))
				// The treasury exists from genesis so that fees of any size can reach it.
				.chain(core::iter::once((TreasuryAccount::get(), EXISTENTIAL_DEPOSIT)))
				.collect::<Vec<_>>(),
		},
		babe: BabeConfig {
			authorities: initial_authorities.iter().map(|x| (x.0.clone(), 1)).collect::<Vec<_>>(),
			epoch_config: BABE_GENESIS_EPOCH_CONFIG,
		},
		grandpa: GrandpaConfig {
			authorities: initial_authorities.iter().map(|x| (x.1.clone(), 1)).collect::<Vec<_>>(),
		},
		sudo: SudoConfig { key: Some(root) },
		rewards: RewardsConfig { era_length },
		jobs: JobsConfig { dispute_window, release_cooldown },
	})
}

/// The BABE (sr25519) and GRANDPA (ed25519) keys of a dev validator such as Alice.
fn authority_keys(babe: Sr25519Keyring, grandpa: Ed25519Keyring) -> (BabeId, GrandpaId) {
	(babe.public().into(), grandpa.public().into())
}

/// `development`: a single validator, Alice, for `--dev` chains.
pub fn development_config_genesis() -> Value {
	testnet_genesis(
		vec![authority_keys(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		Sr25519Keyring::well_known().map(|k| k.to_account_id()).collect(),
		Sr25519Keyring::Alice.to_account_id(),
		true,
	)
}

/// The accounts prefunded on multi-validator test networks: every dev keyring account but
/// `One` and `Two`.
fn testnet_accounts() -> Vec<AccountId> {
	Sr25519Keyring::iter()
		.filter(|k| k != &Sr25519Keyring::One && k != &Sr25519Keyring::Two)
		.map(|k| k.to_account_id())
		.collect()
}

/// `local_testnet`: four validators, Alice, Bob, Charlie and Dave (`scripts/devnet.sh`,
/// `docker-compose.yml`).
pub fn local_config_genesis() -> Value {
	testnet_genesis(
		vec![
			authority_keys(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			authority_keys(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			authority_keys(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
			authority_keys(Sr25519Keyring::Dave, Ed25519Keyring::Dave),
		],
		testnet_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
		true,
	)
}

/// The id of the template for networks with the operator's own keys.
pub const TESTNET_PRESET: &str = "testnet";

/// `testnet`: no validators, no sudo key, nothing prefunded but the treasury, hourly eras. No
/// well-known key is in it: the operator adds the validators' session keys, the sudo key and
/// the balances to the chain spec before building its raw form (`scripts/testnet-spec.sh`).
pub fn testnet_template_genesis() -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig { balances: vec![(TreasuryAccount::get(), EXISTENTIAL_DEPOSIT)] },
		babe: BabeConfig { authorities: vec![], epoch_config: BABE_GENESIS_EPOCH_CONFIG },
		grandpa: GrandpaConfig { authorities: vec![] },
		sudo: SudoConfig { key: None },
		rewards: RewardsConfig { era_length: None },
	})
}

/// The JSON patch of the preset with the given id, if there is one.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		TESTNET_PRESET => testnet_template_genesis(),
		_ => return None,
	};
	// Serialising a `Value` cannot fail; `ok()` keeps the runtime free of panics regardless.
	serde_json::to_vec(&patch).ok()
}

/// The ids of the presets this runtime offers.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
		PresetId::from(TESTNET_PRESET),
	]
}
