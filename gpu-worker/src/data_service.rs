//! The worker's data service: where the clients of its supplied jobs upload inputs and
//! download outputs. One HTTP server (axum) for all devices of the worker; its public URL is
//! published on chain for each device (`Devices::set_endpoint`).
//!
//! - `PUT /v1/jobs/{job}/inputs/{a|b}`: the lanes of `A` (its `m` rows) or `B` (its `n`
//!   columns), `k` bytes each, as raw `i8`. Taken only for a job on supplied, uploaded inputs
//!   that is assigned to one of this worker's devices, only with the header
//!   `x-proofgrid-signature: 0x…` — the job client's sr25519 signature of
//!   [`upload_message`]`(job, root)` — and only if the bytes have the committed shape and lane
//!   root. Anything else is refused with a status and a one-line reason, and nothing is stored.
//! - `GET /v1/jobs/{job}/output`: a computed supplied job's output values, 16 little-endian
//!   `i32` per leaf in leaf order (the client checks them against the committed root), streamed
//!   from disk.
//! - `GET /v1/jobs/{job}/output/leaves/{index}`: one leaf, as JSON `{"index", "leafCount",
//!   "values": [16 i32], "path": ["0x…" sibling hashes, bottom up]}`, for a client that checks
//!   a few elements against the committed root without downloading the whole output.
//!
//! Limits: request bodies up to `--max-input-mib`, at most [`MAX_CONCURRENT`] requests at once
//! and [`MAX_CONNECTIONS`](crate::connections::MAX_CONNECTIONS) connections, each closed after
//! [`IDLE_TIMEOUT`](crate::connections::IDLE_TIMEOUT) without progress;
//! every check that needs no body (the job, the assignment, the signature) runs before the body
//! is read, and the body is read no further than the committed size.

use std::{collections::BTreeMap, net::SocketAddr, path::PathBuf, sync::Arc};

use anyhow::Context;
use axum::{
	body::Body,
	extract::{DefaultBodyLimit, Path, State},
	http::{HeaderMap, StatusCode},
	routing::{get, put},
	Router,
};
use proofgrid_client::{jobs::JobStatus, Client};
use proofgrid_primitives::gemm::LEAF_BYTES;
use proofgrid_primitives::{
	inputs::upload_message,
	job::{InputSource, JobInputs},
};
use sp_core::{sr25519, Pair};

use crate::state::Store;

/// Requests served at once at most.
pub const MAX_CONCURRENT: usize = 16;

/// What the service needs.
pub struct DataService {
	pub client: Client,
	/// The state directory of each device of this worker, by device account bytes.
	pub devices: BTreeMap<[u8; 32], PathBuf>,
	/// Largest upload, bytes.
	pub max_input_bytes: usize,
}

type Refusal = (StatusCode, String);

fn refuse(status: StatusCode, reason: impl Into<String>) -> Refusal {
	(status, reason.into())
}

impl DataService {
	/// The router, with its limits.
	pub fn router(self: Arc<Self>) -> Router {
		Router::new()
			.route("/v1/jobs/{job}/inputs/{matrix}", put(put_input))
			.route("/v1/jobs/{job}/output", get(get_output))
			.route("/v1/jobs/{job}/output/leaves/{index}", get(get_leaf))
			.layer(DefaultBodyLimit::max(self.max_input_bytes))
			.layer(tower::limit::ConcurrencyLimitLayer::new(MAX_CONCURRENT))
			.with_state(self)
	}

	/// Serves until `shutdown` resolves.
	pub async fn serve(
		self: Arc<Self>,
		address: SocketAddr,
		shutdown: impl std::future::Future<Output = ()> + Send + 'static,
	) -> anyhow::Result<()> {
		use crate::connections::{LimitedListener, IDLE_TIMEOUT, MAX_CONNECTIONS, MAX_PER_ADDRESS};
		let tcp = tokio::net::TcpListener::bind(address).await?;
		let listener = LimitedListener::new(tcp, MAX_CONNECTIONS, MAX_PER_ADDRESS, IDLE_TIMEOUT);
		tracing::info!(%address, "data service listening");
		axum::serve(listener, self.router()).with_graceful_shutdown(shutdown).await?;
		Ok(())
	}
}

async fn put_input(
	State(service): State<Arc<DataService>>,
	Path((job, matrix)): Path<(u64, String)>,
	headers: HeaderMap,
	body: Body,
) -> Result<StatusCode, Refusal> {
	let info = service
		.client
		.job(job)
		.await
		.map_err(|e| refuse(StatusCode::SERVICE_UNAVAILABLE, format!("reading the chain: {e}")))?
		.ok_or_else(|| refuse(StatusCode::NOT_FOUND, format!("no open job {job}")))?;
	let JobInputs::Supplied { matrices, a, b, .. } = &info.spec.0.inputs else {
		return Err(refuse(StatusCode::CONFLICT, "the job's inputs are seeded"));
	};
	let (which, commitment, source) = match matrix.as_str() {
		"a" => ('a', matrices.a, a),
		"b" => ('b', matrices.b, b),
		_ => return Err(refuse(StatusCode::NOT_FOUND, "inputs are 'a' or 'b'")),
	};
	if *source != InputSource::Upload {
		return Err(refuse(StatusCode::CONFLICT, "this input comes from a URL, not an upload"));
	}
	let JobStatus::Assigned { device, .. } = &info.status else {
		return Err(refuse(StatusCode::CONFLICT, "the job is not waiting for its inputs"));
	};
	let dir = service.devices.get(&device.0).ok_or_else(|| {
		refuse(StatusCode::CONFLICT, "the job is assigned to a device of another worker")
	})?;
	let signature = headers
		.get("x-proofgrid-signature")
		.and_then(|v| v.to_str().ok())
		.and_then(|v| hex::decode(v.trim_start_matches("0x")).ok())
		.and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
		.ok_or_else(|| {
			refuse(StatusCode::UNAUTHORIZED, "no x-proofgrid-signature (0x + 64 bytes)")
		})?;
	let message = upload_message(job, &commitment.root.0);
	let client = sr25519::Public::from_raw(info.client.0);
	if !sr25519::Pair::verify(&sr25519::Signature::from_raw(signature), message, &client) {
		return Err(refuse(StatusCode::UNAUTHORIZED, "not signed by the job's client"));
	}
	// Only now is the body read, and no further than the committed size (or the limit).
	let k = commitment.lane_len as usize;
	let expected = commitment.lanes as usize * k;
	if expected > service.max_input_bytes {
		return Err(refuse(StatusCode::PAYLOAD_TOO_LARGE, "the input exceeds --max-input-mib"));
	}
	let body = axum::body::to_bytes(body, expected).await.map_err(|_| {
		refuse(StatusCode::BAD_REQUEST, format!("more than the expected {expected} bytes"))
	})?;
	if body.len() != expected {
		return Err(refuse(
			StatusCode::BAD_REQUEST,
			format!("expected {} lanes of {k} bytes, got {} bytes", commitment.lanes, body.len()),
		));
	}
	if !crate::fetch::matches_commitment(body.clone(), commitment).await {
		return Err(refuse(
			StatusCode::UNPROCESSABLE_ENTITY,
			"the bytes do not match the job's commitment (lane root)",
		));
	}
	let store =
		Store::open(dir).map_err(|e| refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
	store
		.save_input(job, which, &body)
		.map_err(|e| refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
	tracing::info!(job, matrix = %which, bytes = body.len(), "input received");
	Ok(StatusCode::NO_CONTENT)
}

/// The values file of `job`'s output in the store of one of this worker's devices.
fn find_values(service: &DataService, job: u64) -> Result<(Store, PathBuf), Refusal> {
	for dir in service.devices.values() {
		let store = Store::open(dir)
			.map_err(|e| refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
		let path = store.values_path(job);
		if path.exists() {
			return Ok((store, path));
		}
	}
	Err(refuse(StatusCode::NOT_FOUND, format!("no output of job {job} here")))
}

async fn get_output(
	State(service): State<Arc<DataService>>,
	Path(job): Path<u64>,
) -> Result<axum::response::Response, Refusal> {
	let (_, path) = find_values(&service, job)?;
	let internal = |e: std::io::Error| refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
	let file = tokio::fs::File::open(&path).await.map_err(internal)?;
	let length = file.metadata().await.map_err(internal)?.len();
	// Streamed: an output of many gigabytes is never held in memory.
	let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
	axum::response::Response::builder()
		.header(axum::http::header::CONTENT_LENGTH, length)
		.header(axum::http::header::CONTENT_TYPE, "application/octet-stream")
		.body(body)
		.map_err(|e| refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

async fn get_leaf(
	State(service): State<Arc<DataService>>,
	Path((job, index)): Path<(u64, u64)>,
) -> Result<impl axum::response::IntoResponse, Refusal> {
	let (store, path) = find_values(&service, job)?;
	let internal = |e: anyhow::Error| refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
	let leaf = tokio::task::spawn_blocking(move || {
		let leaf_count = std::fs::metadata(&path)?.len() / LEAF_BYTES as u64;
		if index >= leaf_count {
			return Ok(None);
		}
		let tree = store.output(job, leaf_count)?.context("the output tree is gone")?;
		let values = crate::output::read_leaf_values(&path, index)?;
		anyhow::Ok(Some((leaf_count, values, tree.proof(index)?)))
	})
	.await
	.map_err(|e| internal(e.into()))?
	.map_err(internal)?;
	let (leaf_count, values, path) = leaf.ok_or_else(|| {
		refuse(StatusCode::NOT_FOUND, format!("job {job}'s output has no leaf {index}"))
	})?;
	let leaf = serde_json::json!({
		"index": index,
		"leafCount": leaf_count,
		"values": values,
		"path": path.iter().map(|h| format!("0x{}", hex::encode(h))).collect::<Vec<_>>(),
	});
	Ok(([(axum::http::header::CONTENT_TYPE, "application/json")], leaf.to_string()))
}
