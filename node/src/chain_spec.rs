//! Chain specifications: `dev` (one validator) and `local` (Alice + Bob), both built from the
//! runtime's genesis presets, or any JSON chain spec file.

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

/// `--dev`: one validator (Alice), prefunded dev accounts.
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, None)
		.with_name("ProofGrid Development")
		.with_id("proofgrid_dev")
		.with_protocol_id("proofgrid")
		.with_chain_type(ChainType::Development)
		.with_genesis_config_preset_name(sp_genesis_builder::DEV_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}

/// `--chain local`: two validators (Alice and Bob) for a local network.
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, None)
		.with_name("ProofGrid Local Testnet")
		.with_id("proofgrid_local")
		.with_protocol_id("proofgrid")
		.with_chain_type(ChainType::Local)
		.with_genesis_config_preset_name(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}
