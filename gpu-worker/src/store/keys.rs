//! The device key store: one sr25519 seed per device, generated on first run, kept in a file
//! only its owner can read (mode 0600). Seeds are never logged; only addresses are.

use std::{
	fs,
	io::Write,
	os::unix::fs::{OpenOptionsExt, PermissionsExt},
	path::Path,
};

use anyhow::{bail, Context, Result};
use proofgrid_client::Keypair;
use sp_core::Pair;

/// Loads the key in `path`, or generates and stores a new one.
pub fn load_or_create(path: &Path) -> Result<Keypair> {
	if path.exists() {
		let mode = fs::metadata(path)?.permissions().mode() & 0o777;
		if mode & 0o077 != 0 {
			bail!("{} is readable by others (mode {mode:o}); chmod 600 it", path.display());
		}
		let text =
			fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
		let seed: [u8; 32] = hex::decode(text.trim())
			.ok()
			.and_then(|bytes| bytes.try_into().ok())
			.with_context(|| format!("{} does not hold a 32-byte hex seed", path.display()))?;
		return Ok(Keypair::from_seed(&seed));
	}
	if let Some(dir) = path.parent() {
		fs::create_dir_all(dir)?;
	}
	let (pair, seed) = sp_core::sr25519::Pair::generate();
	let mut file = fs::OpenOptions::new()
		.write(true)
		.create_new(true)
		.mode(0o600)
		.open(path)
		.with_context(|| format!("creating {}", path.display()))?;
	writeln!(file, "{}", hex::encode(seed))?;
	file.sync_all()?;
	let key = Keypair::from_seed(&seed);
	debug_assert_eq!(key.pair().public(), pair.public());
	tracing::info!(device = %key.address(), file = %path.display(), "generated a new device key");
	Ok(key)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_key_is_created_once_private_and_reloaded() {
		let dir = std::env::temp_dir().join(format!("pg-keystore-{}", std::process::id()));
		let path = dir.join("device-0.key");
		let _ = fs::remove_dir_all(&dir);
		let first = load_or_create(&path).unwrap();
		assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
		let again = load_or_create(&path).unwrap();
		assert_eq!(first.address(), again.address());
		fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
		assert!(load_or_create(&path).is_err(), "a world-readable key is refused");
		fs::remove_dir_all(&dir).unwrap();
	}
}
