//! Download grants: who may read a private output from a device's data service.
//!
//! A job on the client's own inputs keeps its output private unless the client chose
//! `public_output` at submission: the device serves it only with a grant, sent as HTTP
//! headers. A grant is an sr25519 signature of
//! [`download_message`]`(genesis, device, job, what, expiry)`:
//!
//! - signed by the job's **client**, it is a bearer grant: whoever holds it (the client
//!   itself, or an account it hands the grant to) may download `what` until `expiry`, at most
//!   [`MAX_DOWNLOAD_GRANT_SECS`] ahead: a leaked grant is good for an hour at most;
//! - signed by the **device of a later job** of the same client whose `A` is this job's output
//!   (a chained layer), naming that device as the reader and the later job: the serving
//!   device checks on chain that the later job is assigned to the reader and chained from
//!   this one.

use std::time::Duration;

use codec::{Decode, Encode};
use proofgrid_primitives::{
	inputs::{download_message, Download, MAX_DOWNLOAD_GRANT_SECS},
	job::JobId,
};

use crate::{Error, Keypair};

/// The header carrying the grant's signature (`0x` + 64 bytes).
pub const SIGNATURE_HEADER: &str = "x-proofgrid-signature";
/// The header carrying the grant's expiry (UNIX seconds).
pub const EXPIRY_HEADER: &str = "x-proofgrid-expiry";
/// The header naming who signed the grant (`0x` + 32 bytes) when it is not the job's client.
pub const READER_HEADER: &str = "x-proofgrid-reader";
/// The header naming the reader's own job, chained from the one it downloads.
pub const FOR_JOB_HEADER: &str = "x-proofgrid-for-job";

/// A grant to download `what` of job `job`'s output from `device` until `expiry`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct DownloadGrant {
	/// The device that computed the output (its account).
	pub device: [u8; 32],
	/// The job.
	pub job: JobId,
	/// What of its output ([`Download`] as its byte).
	pub what: u8,
	/// Until when (UNIX seconds).
	pub expiry: u64,
	/// Who signed it when not the job's client: a chained job's device, and that job.
	pub reader: Option<([u8; 32], JobId)>,
	/// The signature of [`download_message`].
	pub signature: [u8; 64],
}

/// Seconds since the UNIX epoch.
fn unix_now() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map(|d| d.as_secs())
		.unwrap_or_default()
}

impl DownloadGrant {
	/// A grant signed by `key` (the job's client) for `what` of `job`'s output on `device`,
	/// valid for `valid_for` (at most [`MAX_DOWNLOAD_GRANT_SECS`]).
	pub fn by_client(
		key: &Keypair,
		genesis: &[u8; 32],
		device: [u8; 32],
		job: JobId,
		what: Download,
		valid_for: Duration,
	) -> Result<Self, Error> {
		if valid_for.as_secs() > MAX_DOWNLOAD_GRANT_SECS {
			return Err(Error::BadInput(format!(
				"a download grant runs {MAX_DOWNLOAD_GRANT_SECS} s at most, not {} s",
				valid_for.as_secs()
			)));
		}
		let expiry = unix_now() + valid_for.as_secs();
		let signature = key.sign_bytes(&download_message(genesis, &device, job, what, expiry));
		Ok(Self { device, job, what: what as u8, expiry, reader: None, signature })
	}

	/// The request of the device `key` for the output of `earlier` (computed by `device`),
	/// the `A` of its own job `job`: good for a minute.
	pub fn by_chained_device(
		key: &Keypair,
		genesis: &[u8; 32],
		device: [u8; 32],
		earlier: JobId,
		job: JobId,
	) -> Self {
		let expiry = unix_now() + 60;
		let message = download_message(genesis, &device, earlier, Download::Output, expiry);
		Self {
			device,
			job: earlier,
			what: Download::Output as u8,
			expiry,
			reader: Some((key.account().0, job)),
			signature: key.sign_bytes(&message),
		}
	}

	/// The HTTP headers that present it.
	pub fn headers(&self) -> Vec<(&'static str, String)> {
		let mut headers = vec![
			(SIGNATURE_HEADER, format!("0x{}", hex::encode(self.signature))),
			(EXPIRY_HEADER, self.expiry.to_string()),
		];
		if let Some((reader, job)) = &self.reader {
			headers.push((READER_HEADER, format!("0x{}", hex::encode(reader))));
			headers.push((FOR_JOB_HEADER, job.to_string()));
		}
		headers
	}

	/// The grant as one string, to hand to another account (`proofgrid job grant`).
	pub fn to_token(&self) -> String {
		format!("0x{}", hex::encode(self.encode()))
	}

	/// A grant from [`Self::to_token`]'s string.
	pub fn from_token(token: &str) -> Result<Self, Error> {
		let bad = |why: &str| Error::BadInput(format!("not a download grant: {why}"));
		let bytes = hex::decode(token.trim().trim_start_matches("0x")).map_err(|_| bad("hex"))?;
		Self::decode(&mut &bytes[..]).map_err(|_| bad("its encoding"))
	}
}

impl crate::Client {
	/// A grant signed by `key` (the client of job `job`) to download `what` of its output from
	/// `device` on this chain, valid for `valid_for` (at most [`MAX_DOWNLOAD_GRANT_SECS`]).
	pub fn grant_download(
		&self,
		key: &Keypair,
		device: [u8; 32],
		job: JobId,
		what: Download,
		valid_for: Duration,
	) -> Result<DownloadGrant, Error> {
		DownloadGrant::by_client(key, &self.genesis_hash().0, device, job, what, valid_for)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_grant_round_trips_as_a_token_and_verifies() {
		use sp_core::{sr25519, Pair};
		let key = Keypair::from_suri("//Eve").unwrap();
		let genesis = [7; 32];
		let grant = DownloadGrant::by_client(
			&key,
			&genesis,
			[1; 32],
			9,
			Download::Output,
			Duration::from_secs(60),
		)
		.unwrap();
		assert_eq!(DownloadGrant::from_token(&grant.to_token()).unwrap(), grant);
		let message = download_message(&genesis, &[1; 32], 9, Download::Output, grant.expiry);
		let public = sr25519::Public::from_raw(key.account().0);
		let signature = sr25519::Signature::from_raw(grant.signature);
		assert!(sr25519::Pair::verify(&signature, message, &public));
		// Another job, device or kind of download is another message.
		let other = download_message(&genesis, &[1; 32], 9, Download::Accumulators, grant.expiry);
		assert!(!sr25519::Pair::verify(&signature, other, &public));
		assert!(DownloadGrant::by_client(
			&key,
			&genesis,
			[1; 32],
			9,
			Download::Output,
			Duration::from_secs(MAX_DOWNLOAD_GRANT_SECS + 1)
		)
		.is_err());
		assert!(DownloadGrant::from_token("0x1234").is_err());
	}
}
