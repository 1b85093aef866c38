//! The worker's data service: where the clients of its supplied jobs upload inputs and
//! download outputs. One HTTP server (axum) for all devices of the worker; its public URL is
//! published on chain for each device (`Devices::set_endpoint`).
//!
//! - `PUT /v1/jobs/{job}/inputs/{a|b}`: the lanes of `A` (its `m` rows) or `B` (its `n`
//!   columns), `k` bytes each, as raw `i8`. Taken only for a job on supplied, uploaded inputs
//!   that is assigned to one of this worker's devices, only with the header
//!   `x-proofgrid-signature: 0x…` — the job client's sr25519 signature of
//!   [`upload_message`]`(genesis, device, job, root)` — and only if the bytes have the committed shape and lane
//!   root. Anything else is refused with a status and a one-line reason, and nothing is stored.
//!   An input already stored is answered `204` without reading the body; one upload of an
//!   input runs at a time; the body is written to a temporary file and hashed lane by lane as
//!   it arrives, so an upload holds one lane in memory whatever its size.
//! - `PUT /v1/jobs/{job}/inputs/bias`: a `linear-i8` job's `n` biases, 4 little-endian bytes
//!   each, signed and checked in the same way against the job's bias root.
//! - `GET /v1/jobs/{job}/inputs/receipt`: once the device holds every input of an assigned
//!   job, the device key's signature of
//!   [`inputs_receipt_message`]`(genesis, job, device)` as `0x…` text (`409` while one is
//!   missing). The client puts it on chain (`Jobs::confirm_inputs`); from then on the device
//!   cannot give the job back for free.
//! - `GET /v1/jobs/{job}/output`: a computed supplied job's output values, 16 little-endian
//!   `i32` per leaf in leaf order (the client checks them against the committed root), streamed
//!   from disk; for a `linear-i8` job, `Y`'s `m` rows of `n` bytes (what its client checks, and
//!   what the device of a job chained from it fetches as `A`).
//! - `GET /v1/jobs/{job}/output/accumulators`: a `linear-i8` job's int32 accumulators (`A·W`,
//!   m×n little-endian), the client's hint for checking `Y` in `O(n²)`.
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
use futures::StreamExt;
use proofgrid_client::{jobs::JobStatus, Client, Keypair};
use proofgrid_primitives::gemm::LEAF_BYTES;
use proofgrid_primitives::{
	inputs::{hash_lane_bytes, inputs_receipt_message, upload_message, MatrixCommitment},
	job::{InputSource, JobInputs},
	linear::bias_root,
};
use sp_core::{sr25519, Pair, H256};

use crate::state::Store;

/// Requests served at once at most.
pub const MAX_CONCURRENT: usize = 16;

/// A device of this worker, as the service sees it.
pub struct ServedDevice {
	/// Its state directory.
	pub dir: PathBuf,
	/// Its key: signs receipts for inputs.
	pub key: Keypair,
}

/// What the service needs.
pub struct DataService {
	pub client: Client,
	/// Each device of this worker, by device account bytes.
	pub devices: BTreeMap<[u8; 32], ServedDevice>,
	/// Largest upload, bytes.
	pub max_input_bytes: usize,
	/// The inputs being uploaded now, `(job, input)`: one upload of each at a time.
	pub uploading: std::sync::Mutex<std::collections::BTreeSet<(u64, String)>>,
}

/// An upload's hold on its input ([`DataService::upload_slot`]), released when dropped.
pub struct UploadSlot<'a> {
	service: &'a DataService,
	key: (u64, String),
}

impl Drop for UploadSlot<'_> {
	fn drop(&mut self) {
		self.service.uploading.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.key);
	}
}

type Refusal = (StatusCode, String);

fn refuse(status: StatusCode, reason: impl Into<String>) -> Refusal {
	(status, reason.into())
}

impl DataService {
	/// The service for `devices`, taking uploads up to `max_input_bytes`.
	pub fn new(
		client: Client,
		devices: BTreeMap<[u8; 32], ServedDevice>,
		max_input_bytes: usize,
	) -> Self {
		Self { client, devices, max_input_bytes, uploading: Default::default() }
	}

	/// Holds input `name` of `job` for one upload; `409` while another is under way.
	fn upload_slot(&self, job: u64, name: &str) -> Result<UploadSlot<'_>, Refusal> {
		let key = (job, name.to_string());
		let mut uploading = self.uploading.lock().unwrap_or_else(|e| e.into_inner());
		if !uploading.insert(key.clone()) {
			return Err(refuse(StatusCode::CONFLICT, "an upload of this input is under way"));
		}
		Ok(UploadSlot { service: self, key })
	}

	/// The router, with its limits.
	pub fn router(self: Arc<Self>) -> Router {
		Router::new()
			.route("/v1/jobs/{job}/inputs/{matrix}", put(put_input))
			.route("/v1/jobs/{job}/inputs/receipt", get(get_receipt))
			.route("/v1/jobs/{job}/output", get(get_output))
			.route("/v1/jobs/{job}/output/leaves/{index}", get(get_leaf))
			.route("/v1/jobs/{job}/output/accumulators", get(get_accumulators))
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
		let tcp = tokio::net::TcpListener::bind(address).await?;
		let listener = crate::connections::LimitedListener::new(tcp, crate::connections::LIMITS)?;
		tracing::info!(%address, "data service listening");
		axum::serve(listener, self.router()).with_graceful_shutdown(shutdown).await?;
		Ok(())
	}
}

/// Open job `job` as the chain has it; `404` if there is none, `503` if the node cannot say.
async fn open_job(service: &DataService, job: u64) -> Result<proofgrid_client::jobs::Job, Refusal> {
	service
		.client
		.job(job)
		.await
		.map_err(|e| refuse(StatusCode::SERVICE_UNAVAILABLE, format!("reading the chain: {e}")))?
		.ok_or_else(|| refuse(StatusCode::NOT_FOUND, format!("no open job {job}")))
}

async fn put_input(
	State(service): State<Arc<DataService>>,
	Path((job, matrix)): Path<(u64, String)>,
	headers: HeaderMap,
	body: Body,
) -> Result<StatusCode, Refusal> {
	let info = open_job(&service, job).await?;
	// What the upload must be: its signed root, its size, and the check of its bytes.
	enum Expected {
		Lanes(char, MatrixCommitment),
		Bias(u32, H256),
	}
	let (expected, source) = match (&info.spec.0.inputs, matrix.as_str()) {
		(JobInputs::Seeded { .. }, _) => {
			return Err(refuse(StatusCode::CONFLICT, "the job's inputs are seeded"))
		}
		(JobInputs::Supplied { matrices, a, .. } | JobInputs::Layer { matrices, a, .. }, "a") => {
			(Expected::Lanes('a', matrices.a), a)
		}
		(JobInputs::Supplied { matrices, b, .. } | JobInputs::Layer { matrices, b, .. }, "b") => {
			(Expected::Lanes('b', matrices.b), b)
		}
		(JobInputs::Layer { bias, layer, .. }, "bias") => {
			(Expected::Bias(info.spec.0.shape.n, layer.bias), bias)
		}
		(JobInputs::Layer { .. }, _) => {
			return Err(refuse(StatusCode::NOT_FOUND, "inputs are 'a', 'b' or 'bias'"))
		}
		_ => return Err(refuse(StatusCode::NOT_FOUND, "inputs are 'a' or 'b'")),
	};
	// A chained `A` may be uploaded too: the client's way round an earlier device that does
	// not serve its output (the bytes are checked against the same commitment).
	let chained_a = matrix == "a" && matches!(source, InputSource::Job(_));
	if *source != InputSource::Upload && !chained_a {
		return Err(refuse(StatusCode::CONFLICT, "this input comes from a URL, not an upload"));
	}
	let JobStatus::Assigned { device, .. } = &info.status else {
		return Err(refuse(StatusCode::CONFLICT, "the job is not waiting for its inputs"));
	};
	let dir = &service
		.devices
		.get(&device.0)
		.ok_or_else(|| {
			refuse(StatusCode::CONFLICT, "the job is assigned to a device of another worker")
		})?
		.dir;
	let signature = headers
		.get("x-proofgrid-signature")
		.and_then(|v| v.to_str().ok())
		.and_then(|v| hex::decode(v.trim_start_matches("0x")).ok())
		.and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
		.ok_or_else(|| {
			refuse(StatusCode::UNAUTHORIZED, "no x-proofgrid-signature (0x + 64 bytes)")
		})?;
	let (root, size) = match &expected {
		Expected::Lanes(_, c) => (c.root, c.lanes as usize * c.lane_len as usize),
		Expected::Bias(n, root) => (*root, *n as usize * 4),
	};
	let message = upload_message(&service.client.genesis_hash().0, &device.0, job, &root.0);
	let client = sr25519::Public::from_raw(info.client.0);
	if !sr25519::Pair::verify(&sr25519::Signature::from_raw(signature), message, &client) {
		return Err(refuse(StatusCode::UNAUTHORIZED, "not signed by the job's client"));
	}
	if size > service.max_input_bytes {
		return Err(refuse(StatusCode::PAYLOAD_TOO_LARGE, "the input exceeds --max-input-mib"));
	}
	let store =
		Store::open(dir).map_err(|e| refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
	// Once stored, an input is what the device computes from: never rewritten, and the body of
	// another upload of it is not even read (it could be a gigabyte, sent again and again).
	let stored = match &expected {
		Expected::Lanes(which, _) => store.has_input(job, *which),
		Expected::Bias(..) => store.bias(job).ok().flatten().is_some(),
	};
	if stored {
		return Ok(StatusCode::NO_CONTENT);
	}
	// One upload of an input at a time: a replayed signature cannot start many.
	let _slot = service.upload_slot(job, &matrix)?;
	// While the body arrives the device does not release the job for want of it.
	let _uploading = store.begin_upload(job);
	let mismatch =
		|| refuse(StatusCode::UNPROCESSABLE_ENTITY, "the bytes do not match the job's commitment");
	let too_long =
		|| refuse(StatusCode::BAD_REQUEST, format!("more than the expected {size} bytes"));
	let internal = |e: anyhow::Error| refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
	match expected {
		Expected::Lanes(which, commitment) => {
			// Written to disk and hashed lane by lane as it arrives: memory per upload is one
			// lane and a hash per lane, whatever the body's size.
			let mut part = store.begin_input(job, which).map_err(internal)?;
			let lane_len = commitment.lane_len as usize;
			let mut lane = Vec::with_capacity(lane_len);
			let mut hashes = Vec::with_capacity(commitment.lanes as usize);
			let mut received = 0usize;
			let mut stream = body.into_data_stream();
			while let Some(chunk) = stream.next().await {
				let chunk = chunk.map_err(|e| refuse(StatusCode::BAD_REQUEST, e.to_string()))?;
				received += chunk.len();
				if received > size {
					return Err(too_long());
				}
				part.write(&chunk).map_err(internal)?;
				let mut rest = &chunk[..];
				while !rest.is_empty() {
					let take = (lane_len - lane.len()).min(rest.len());
					lane.extend_from_slice(&rest[..take]);
					rest = &rest[take..];
					if lane.len() == lane_len {
						hashes.push(hash_lane_bytes(&lane));
						lane.clear();
					}
				}
			}
			if received != size {
				return Err(refuse(
					StatusCode::BAD_REQUEST,
					format!("expected {size} bytes, got {received}"),
				));
			}
			if MatrixCommitment::of_lane_hashes(hashes, commitment.lane_len) != Some(commitment) {
				return Err(mismatch());
			}
			part.commit().map_err(internal)?;
			tracing::info!(job, input = %matrix, bytes = received, "input received");
		}
		Expected::Bias(_, root) => {
			// At most 65 536 values (256 KiB): read whole.
			let body = axum::body::to_bytes(body, size).await.map_err(|_| too_long())?;
			if body.len() != size {
				return Err(refuse(
					StatusCode::BAD_REQUEST,
					format!("expected {size} bytes, got {}", body.len()),
				));
			}
			let bias: Vec<i32> = body
				.chunks_exact(4)
				.map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
				.collect();
			if bias_root(&bias) != Some(root) {
				return Err(mismatch());
			}
			store.save_bias(job, &bias).map_err(internal)?;
			tracing::info!(job, input = %matrix, bytes = body.len(), "input received");
		}
	}
	Ok(StatusCode::NO_CONTENT)
}

/// The device's receipt for every input of an assigned job it holds: its signature of
/// [`inputs_receipt_message`]`(genesis, job, device)`, as `0x…` text. `409` while an input is
/// missing. Public: it says no more than the chain will once the client shows it.
async fn get_receipt(
	State(service): State<Arc<DataService>>,
	Path(job): Path<u64>,
) -> Result<String, Refusal> {
	let info = open_job(&service, job).await?;
	let JobStatus::Assigned { device, .. } = &info.status else {
		return Err(refuse(StatusCode::CONFLICT, "the job is not assigned"));
	};
	let served = service.devices.get(&device.0).ok_or_else(|| {
		refuse(StatusCode::NOT_FOUND, "the job is assigned to a device of another worker")
	})?;
	let store = Store::open(&served.dir)
		.map_err(|e| refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
	let bias_needed = matches!(info.spec.0.inputs, JobInputs::Layer { .. });
	let missing: Vec<&str> = [
		(!store.has_input(job, 'a')).then_some("a"),
		(!store.has_input(job, 'b')).then_some("b"),
		(bias_needed && store.bias(job).ok().flatten().is_none()).then_some("bias"),
	]
	.into_iter()
	.flatten()
	.collect();
	if !missing.is_empty() {
		return Err(refuse(
			StatusCode::CONFLICT,
			format!("inputs not received yet: {}", missing.join(", ")),
		));
	}
	if store.releasing(job) {
		return Err(refuse(StatusCode::CONFLICT, "the device is giving the job back"));
	}
	let message = inputs_receipt_message(&service.client.genesis_hash().0, job, &device.0);
	Ok(format!("0x{}", hex::encode(served.key.sign_bytes(&message))))
}

/// The file `which` picks (a GEMM's values, a layer's `Y` or accumulators) of `job`'s output
/// in the store of one of this worker's devices.
fn find_output(
	service: &DataService,
	job: u64,
	which: fn(&Store, u64) -> PathBuf,
) -> Result<(Store, PathBuf), Refusal> {
	for dir in service.devices.values().map(|d| &d.dir) {
		let store = Store::open(dir)
			.map_err(|e| refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
		let path = which(&store, job);
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
	let (_, path) = find_output(&service, job, Store::values_path)
		.or_else(|_| find_output(&service, job, Store::layer_path))?;
	stream_file(path).await
}

async fn get_accumulators(
	State(service): State<Arc<DataService>>,
	Path(job): Path<u64>,
) -> Result<axum::response::Response, Refusal> {
	stream_file(find_output(&service, job, Store::accumulators_path)?.1).await
}

/// The file at `path` as an `application/octet-stream` response.
async fn stream_file(path: PathBuf) -> Result<axum::response::Response, Refusal> {
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
	let (store, path) = find_output(&service, job, Store::values_path)?;
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
