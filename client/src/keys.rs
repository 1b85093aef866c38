//! Keys that sign ProofGrid transactions: sr25519 pairs from a secret URI (`//Alice`, a
//! mnemonic, or `0x` + a 32-byte seed).

use sp_core::{crypto::Ss58Codec, sr25519, Pair};
use subxt::{
	tx::Signer,
	utils::{AccountId32, MultiSignature},
	PolkadotConfig,
};

/// An sr25519 key pair that can sign transactions.
#[derive(Clone)]
pub struct Keypair(sr25519::Pair);

impl Keypair {
	/// From a secret URI: `//Alice`, `//Alice//stash`, a BIP-39 phrase, or `0x` + 64 hex digits.
	pub fn from_suri(suri: &str) -> Result<Self, crate::Error> {
		sr25519::Pair::from_string(suri, None)
			.map(Self)
			.map_err(|e| crate::Error::BadKey(format!("{e:?}")))
	}

	/// From a 32-byte seed.
	pub fn from_seed(seed: &[u8; 32]) -> Self {
		Self(sr25519::Pair::from_seed(seed))
	}

	/// The account of this key.
	pub fn account(&self) -> AccountId32 {
		AccountId32(self.0.public().0)
	}

	/// The SS58 address (generic prefix 42).
	pub fn address(&self) -> String {
		self.0.public().to_ss58check()
	}

	/// The inner sp-core pair.
	pub fn pair(&self) -> &sr25519::Pair {
		&self.0
	}

	/// Signs arbitrary bytes (e.g. a device registration message).
	pub fn sign_bytes(&self, message: &[u8]) -> [u8; 64] {
		self.0.sign(message).0
	}
}

impl Signer<PolkadotConfig> for Keypair {
	fn account_id(&self) -> AccountId32 {
		self.account()
	}

	fn sign(&self, payload: &[u8]) -> MultiSignature {
		MultiSignature::Sr25519(self.0.sign(payload).0)
	}
}

/// 32 unpredictable bytes: a fresh sr25519 key's public part (no RNG crate needed).
pub fn random_bytes() -> [u8; 32] {
	use sp_core::Pair;
	sr25519::Pair::generate().0.public().0
}

/// Parses an SS58 address.
pub fn parse_address(address: &str) -> Result<AccountId32, crate::Error> {
	sp_core::crypto::AccountId32::from_ss58check(address)
		.map(|id| AccountId32(id.into()))
		.map_err(|e| crate::Error::BadAddress(format!("{address}: {e:?}")))
}

/// Formats an account as SS58 (generic prefix 42).
pub fn to_address(account: &AccountId32) -> String {
	sp_core::crypto::AccountId32::from(account.0).to_ss58check()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn dev_keys_and_addresses_round_trip() {
		let alice = Keypair::from_suri("//Alice").unwrap();
		assert_eq!(alice.address(), "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
		assert_eq!(parse_address(&alice.address()).unwrap(), alice.account());
		assert_eq!(to_address(&alice.account()), alice.address());
		assert!(Keypair::from_suri("not a key").is_err());
		assert!(parse_address("5Grw").is_err());
	}
}
