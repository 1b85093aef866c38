//! Chain specifications built from the runtime's genesis presets: `dev` (one validator),
//! `local` (Alice, Bob, Charlie, Dave) and `testnet-template` (no keys: the starting point of
//! a network with the operator's own keys); or any JSON chain spec file.

use proofgrid_runtime::WASM_BINARY;
use sc_service::ChainType;

/// A ProofGrid chain spec.
pub type ChainSpec = sc_service::GenericChainSpec;

/// Token symbol and decimals for wallets such as polkadot.js.
fn properties() -> sc_chain_spec::Properties {
	let mut properties = sc_chain_spec::Properties::new();
	properties.insert("tokenSymbol".into(), proofgrid_primitives::currency::TOKEN_SYMBOL.into());
	properties
		.insert("tokenDecimals".into(), proofgrid_primitives::currency::TOKEN_DECIMALS.into());
	properties.insert("ss58Format".into(), 42.into());
	properties
}

fn wasm() -> Result<&'static [u8], String> {
	WASM_BINARY
		.ok_or_else(|| "the runtime wasm is not available (built with SKIP_WASM_BUILD?)".into())
}

/// A chain spec of the runtime's genesis preset `preset`.
fn from_preset(
	name: &str,
	id: &str,
	chain_type: ChainType,
	preset: &str,
) -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, None)
		.with_name(name)
		.with_id(id)
		.with_protocol_id("proofgrid")
		.with_chain_type(chain_type)
		.with_genesis_config_preset_name(preset)
		.with_properties(properties())
		.build())
}

/// `--dev`: one validator (Alice), prefunded dev accounts.
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	from_preset(
		"ProofGrid Development",
		"proofgrid_dev",
		ChainType::Development,
		sp_genesis_builder::DEV_RUNTIME_PRESET,
	)
}

/// `--chain local`: four validators (Alice, Bob, Charlie, Dave), the network
/// `scripts/devnet.sh` and `docker-compose.yml` run.
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	from_preset(
		"ProofGrid Local Testnet",
		"proofgrid_local",
		ChainType::Local,
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET,
	)
}

/// `--chain testnet-template`: a live network's spec without validators, sudo key or
/// balances, for `build-spec` to print and the operator to fill in (`scripts/testnet-spec.sh`).
pub fn testnet_template_chain_spec() -> Result<ChainSpec, String> {
	from_preset(
		"ProofGrid Testnet",
		"proofgrid_testnet",
		ChainType::Live,
		proofgrid_runtime::genesis_config_presets::TESTNET_PRESET,
	)
}
