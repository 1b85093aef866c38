//! The SDK's errors: [`Error`] for every call, [`DataError`] for what a device's data service
//! did. Each names what went wrong as a variant, with the underlying error as its `source`
//! where there is one, so callers match on variants, never on the text. A message does not
//! repeat its source: print the chain (`{:#}` through anyhow, or
//! [`with_causes`](crate::data::with_causes)) to see both.

use crate::{disputes, jobs, runtime};

/// What can go wrong talking to a node.
#[derive(Debug, thiserror::Error)]
pub enum Error {
	/// The node could not be reached.
	#[error("cannot connect to {url}: {reason}")]
	Connect {
		/// Where we tried.
		url: String,
		/// Why it failed.
		reason: String,
	},
	/// An RPC, storage or decoding error.
	#[error("node: {0}")]
	Node(String),
	/// The transaction pool refused the transaction, or it was dropped.
	#[error("transaction rejected: {0}")]
	Rejected(String),
	/// The transaction was included but failed with a pallet's error, decoded from the
	/// metadata: e.g. `Jobs` / `PriceTooLow`. Match on [`Error::module_error`] rather than the
	/// names.
	#[error("transaction failed: {pallet}::{error}")]
	Module {
		/// The pallet, e.g. `Jobs`.
		pallet: String,
		/// Its error variant, e.g. `PriceTooLow`.
		error: String,
		/// The error as the generated enum, e.g.
		/// `runtime::Error::Jobs(runtime::jobs::Error::PriceTooLow)`; `None` if the node's
		/// runtime has an error this SDK's metadata does not know (a newer runtime).
		decoded: Option<Box<runtime::Error>>,
	},
	/// The transaction was included but failed otherwise (a token, arithmetic or origin error).
	#[error("transaction failed: {0}")]
	Failed(String),
	/// A device's data service could not be used: nothing to serve, unreachable, refused, or
	/// bytes that do not match the chain's commitment ([`DataError`] says which).
	#[error(transparent)]
	Data(#[from] DataError),
	/// A local file could not be read or written.
	#[error("{}", path.display())]
	File {
		/// The file.
		path: std::path::PathBuf,
		/// What the operating system said.
		#[source]
		source: std::io::Error,
	},
	/// A file (or bytes named `name`) is not what it must be: a 2-D int8 or 1-D int32 `.npy`.
	#[error("{name}: {reason}")]
	BadFile {
		/// Where the bytes came from.
		name: String,
		/// What is wrong with them.
		reason: String,
	},
	/// There is no job `job` on this chain (never submitted, or gone from every block looked
	/// at).
	#[error("there is no job {job}")]
	NoSuchJob {
		/// The job.
		job: u64,
	},
	/// Job `job` has no verified or committed output to give.
	#[error("job {job} has no output to give: {reason}")]
	NoOutput {
		/// The job.
		job: u64,
		/// Why: its state, or how it ended.
		reason: String,
	},
	/// A device's endpoint resolves to a private, loopback or otherwise non-public address and
	/// the client does not allow those ([`endpoint::AddressPolicy`]).
	#[error("{url}: {address} is not a public address (allow private endpoints to reach it)")]
	PrivateAddress {
		/// The URL refused.
		url: String,
		/// The address it resolved to.
		address: std::net::IpAddr,
	},
	/// A secret URI that is not a key.
	#[error("bad key: {0}")]
	BadKey(String),
	/// A string that is not an SS58 address.
	#[error("bad address: {0}")]
	BadAddress(String),
	/// An event the transaction should have emitted is missing.
	#[error("expected event {0} not found")]
	MissingEvent(&'static str),
	/// Inputs or options the chain would refuse (a shape, a sample count, a price cap), caught
	/// before anything is sent: no funds moved.
	#[error("{0}")]
	BadInput(String),
	/// No device claimed the job within its lifetime.
	#[error("job {job} was not claimed within {blocks} blocks{}", lines(reasons))]
	NotClaimed {
		/// The job.
		job: u64,
		/// Its lifetime, in blocks.
		blocks: u32,
		/// Why each registered device did not take it (a line each).
		reasons: Vec<String>,
	},
	/// The job ended (or changed state) before what was waited for: its output committed, or
	/// its settlement.
	#[error("job {job} ended {state}")]
	Ended {
		/// The job.
		job: u64,
		/// How, e.g. `before its output was committed: expired`.
		state: String,
	},
	/// A wait ran out of time.
	#[error("job {job} did not end within {seconds} s")]
	Timeout {
		/// The job.
		job: u64,
		/// How long it was waited for.
		seconds: u64,
	},
	/// The device's committed output is wrong where the client's check found: the chain ruled
	/// (`outcome`), and if its own check had passed, the element was proven wrong on chain
	/// (`dispute`).
	#[error("job {job}: the device's output is wrong at [{row}][{column}] ({found} where A·B has {expected}); the chain: {outcome:?}{}", dispute.as_ref().map(|d| format!(", the fraud proof: {d:?}")).unwrap_or_default())]
	WrongOutput {
		/// The job.
		job: u64,
		/// Row of the wrong element.
		row: u64,
		/// Column of the wrong element.
		column: u64,
		/// What the device committed there.
		found: i64,
		/// What `A·B` has there.
		expected: i64,
		/// How the chain ended or ruled on the job.
		outcome: Box<jobs::JobOutcome>,
		/// The fraud proof's verdict, when one was needed.
		dispute: Option<disputes::DisputeOutcome>,
	},
}

/// An HTTP status as its line says it, e.g. `403 Forbidden`.
fn status_line(status: u16) -> String {
	reqwest::StatusCode::from_u16(status).map_or_else(|_| status.to_string(), |s| s.to_string())
}

/// `reasons` as indented lines after a message.
fn lines(reasons: &[String]) -> String {
	reasons.iter().map(|line| format!("\n  {line}")).collect()
}

impl Error {
	/// The pallet error a transaction failed with, as the generated enum, e.g.
	/// `Some(runtime::Error::Jobs(runtime::jobs::Error::WrongState))`.
	pub fn module_error(&self) -> Option<&runtime::Error> {
		match self {
			Error::Module { decoded, .. } => decoded.as_deref(),
			_ => None,
		}
	}
}

pub(crate) fn node_error(error: impl std::fmt::Display) -> Error {
	Error::Node(error.to_string())
}

/// A failed transaction's error: pallet errors by name, anything else as text.
pub(crate) fn dispatch_failure(error: subxt::error::TransactionEventsError) -> Error {
	use subxt::error::{DispatchError, TransactionEventsError};
	match error {
		TransactionEventsError::ExtrinsicFailed(DispatchError::Module(module)) => {
			match module.details() {
				Ok(details) => Error::Module {
					pallet: details.pallet.name().to_string(),
					error: details.variant.name.clone(),
					decoded: module.as_root_error::<runtime::Error>().ok().map(Box::new),
				},
				Err(_) => Error::Failed(module.to_string()),
			}
		}
		other => Error::Failed(other.to_string()),
	}
}

/// What went wrong with a device's data service ([`Error::Data`]).
#[derive(Debug, thiserror::Error)]
pub enum DataError {
	/// The job has nothing to send or fetch this way (not assigned yet, seeded inputs, an input
	/// that comes from a URL, no data service published, …).
	#[error("data service: {0}")]
	Unavailable(String),
	/// The device's published endpoint is not one the SDK may use.
	#[error("data service: endpoint {endpoint:?} refused: {reason}")]
	BadEndpoint {
		/// The endpoint (or URL) refused.
		endpoint: String,
		/// Why.
		reason: String,
	},
	/// The request could not be sent, or its answer not read.
	#[error("data service: {url}")]
	Unreachable {
		/// The URL.
		url: String,
		/// The transport's error.
		#[source]
		source: reqwest::Error,
	},
	/// The service answered with an error status.
	#[error("data service: {url}: {}: {reason}", status_line(*status))]
	Refused {
		/// The URL.
		url: String,
		/// The HTTP status code, e.g. 404.
		status: u16,
		/// The service's own explanation (its response body).
		reason: String,
	},
	/// What it served is not what the chain committed to (a size, a leaf, a row, a signature).
	#[error("data service: {from}: {what}")]
	Mismatch {
		/// Where it came from (a URL, or what was being checked).
		from: String,
		/// What does not match.
		what: String,
	},
}
