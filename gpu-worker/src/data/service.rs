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
//! - Downloads (the three `GET …/output` routes below) of a job whose client did not choose a
//!   public output are answered only with a grant (`403` otherwise): `x-proofgrid-signature`
//!   and `x-proofgrid-expiry`, the client's signature of
//!   [`download_message`]`(genesis, device, job, what, expiry)`, at most an hour ahead; or the
//!   same signed by the device of a job of the same client whose `A` is this output, which
//!   names itself (`x-proofgrid-reader`) and that job (`x-proofgrid-for-job`). The client and
//!   the choice are recorded when the device claims the job, so a stranger's request is
//!   refused without asking the node ([`proofgrid_client::grants`]).
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
//! and [`MAX_CONNECTIONS`](crate::data::connections::MAX_CONNECTIONS) connections, each closed after
//! [`IDLE_TIMEOUT`](crate::data::connections::IDLE_TIMEOUT) without progress;
//! every check that needs no body (the job, the assignment, the signature) runs before the body
//! is read, signatures are checked against the device's own record of the job before the node
//! is asked, and the body is read no further than the committed size.

use std::{collections::BTreeMap, net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use axum::{
	body::Body,
	extract::{DefaultBodyLimit, Path, State},
	http::{HeaderMap, StatusCode},
	routing::{get, put},
	Router,
};
use futures::StreamExt;
use proofgrid_client::{
	grants::{EXPIRY_HEADER, FOR_JOB_HEADER, READER_HEADER, SIGNATURE_HEADER},
	jobs::JobStatus,
	Client, Keypair,
};
use proofgrid_primitives::gemm::LEAF_BYTES;
use proofgrid_primitives::{
	inputs::{
		download_message, hash_lane_bytes, inputs_receipt_message, upload_message, Download,
		MatrixCommitment, MAX_DOWNLOAD_GRANT_SECS,
	},
	job::{InputSource, JobInputs, JobSpec},
	linear::bias_root,
};
use sp_core::{sr25519, Pair, H256};

use crate::store::state::{unix_now, Store};

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
			.layer(axum::middleware::from_fn(cors))
			.with_state(self)
	}

	/// Serves until `shutdown` resolves: over TLS with `tls`, else plain HTTP.
	pub async fn serve(
		self: Arc<Self>,
		address: SocketAddr,
		tls: Option<crate::data::tls::Identity>,
		shutdown: impl std::future::Future<Output = ()> + Send + 'static,
	) -> anyhow::Result<()> {
		let tcp = tokio::net::TcpListener::bind(address).await?;
		let listener =
			crate::data::connections::LimitedListener::new(tcp, crate::data::connections::LIMITS)?;
		match tls {
			Some(identity) => {
				tracing::info!(%address, pin = %identity.pin_fragment(), "data service listening (TLS)");
				let listener = crate::data::tls::TlsListener::new(listener, &identity);
				serve_http(listener, self.router(), HEADER_TIMEOUT, shutdown).await;
			}
			None => {
				tracing::info!(%address, "data service listening (plain HTTP)");
				serve_http(listener, self.router(), HEADER_TIMEOUT, shutdown).await;
			}
		}
		Ok(())
	}
}

/// A request's head (its line and headers) must arrive within this long of the connection's
/// first byte or of the previous response, or the connection is closed: a client that
/// trickles its headers a byte at a time cannot keep a slot.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// HTTP/1 on `listener`'s connections, each in its own task, a request's head due within
/// `header_timeout`, until `shutdown`; then connections still open get [`SHUTDOWN_GRACE`] to
/// finish.
async fn serve_http<L: axum::serve::Listener>(
	mut listener: L,
	router: Router,
	header_timeout: Duration,
	shutdown: impl std::future::Future<Output = ()>,
) {
	use hyper_util::rt::{TokioIo, TokioTimer};
	let mut shutdown = std::pin::pin!(shutdown);
	let mut connections = tokio::task::JoinSet::new();
	loop {
		let (io, _) = tokio::select! {
			accepted = listener.accept() => accepted,
			_ = &mut shutdown => break,
		};
		let service = hyper_util::service::TowerToHyperService::new(router.clone());
		connections.spawn(async move {
			let connection = hyper::server::conn::http1::Builder::new()
				.timer(TokioTimer::new())
				.header_read_timeout(header_timeout)
				.serve_connection(TokioIo::new(io), service);
			if let Err(e) = connection.await {
				tracing::debug!("data service connection: {e}");
			}
		});
		// Reap finished connections as we go.
		while connections.try_join_next().is_some() {}
	}
	let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
		while connections.join_next().await.is_some() {}
	})
	.await;
}

/// How long connections still open at shutdown may take to finish.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Open job `job` as the chain has it; `404` if there is none, `503` if the node cannot say.
async fn open_job(service: &DataService, job: u64) -> Result<proofgrid_client::jobs::Job, Refusal> {
	service
		.client
		.job(job)
		.await
		.map_err(|e| refuse(StatusCode::SERVICE_UNAVAILABLE, format!("reading the chain: {e}")))?
		.ok_or_else(|| refuse(StatusCode::NOT_FOUND, format!("no open job {job}")))
}

/// A job a device of this worker holds now, as its own records have it.
struct HeldHere<'a> {
	/// The device's account.
	device: [u8; 32],
	/// The device's key.
	key: &'a Keypair,
	/// Its store.
	store: Store,
	/// The job's spec (as the chain fixed it at the claim).
	spec: JobSpec,
	/// The job's client.
	client: [u8; 32],
}

impl DataService {
	/// The device of this worker holding `job`, from its own records (no node query); `409`
	/// if none does.
	fn held_job(&self, job: u64) -> Result<HeldHere<'_>, Refusal> {
		let internal = |e: anyhow::Error| refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
		for (device, served) in &self.devices {
			let store = Store::open(&served.dir).map_err(internal)?;
			let Some(held) = store.held().map_err(internal)?.filter(|h| h.job == job) else {
				continue;
			};
			let Some(client) = store.access(job).map_err(internal)?.and_then(|a| a.client()) else {
				continue;
			};
			let spec = held.spec().map_err(internal)?;
			return Ok(HeldHere { device: *device, key: &served.key, store, spec, client });
		}
		Err(refuse(
			StatusCode::CONFLICT,
			format!("job {job} is not held by a device of this worker"),
		))
	}
}

/// The value of header `name`, if it is text.
fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
	headers.get(name).and_then(|v| v.to_str().ok())
}

/// The signature in [`SIGNATURE_HEADER`], if it is `0x` + 64 bytes.
fn signature_header(headers: &HeaderMap) -> Option<[u8; 64]> {
	let text = header(headers, SIGNATURE_HEADER)?;
	hex::decode(text.trim_start_matches("0x")).ok()?.try_into().ok()
}

/// Whether `signature` is `signer`'s sr25519 signature of `message`, signed as it is or as a
/// browser wallet signs raw bytes (`<Bytes>message</Bytes>`, the polkadot{.js} extension's
/// `signRaw`): the wrapping only narrows what the signature could mean, and the message is
/// already bound by its domain tag to this chain, device, job and purpose.
fn verify(signature: &[u8; 64], message: &[u8; 32], signer: &[u8; 32]) -> bool {
	let signer = sr25519::Public::from_raw(*signer);
	let signature = sr25519::Signature::from_raw(*signature);
	sr25519::Pair::verify(&signature, message, &signer)
		|| sr25519::Pair::verify(&signature, wrapped_bytes(message), &signer)
}

/// `message` as browser wallets sign raw bytes.
fn wrapped_bytes(message: &[u8; 32]) -> Vec<u8> {
	[&b"<Bytes>"[..], message, b"</Bytes>"].concat()
}

/// Cross-origin access for browsers (the web console, on whatever origin serves it): every
/// answer may be read by any page, and a preflight (`OPTIONS`) is answered at once. No route
/// trusts cookies or the origin — uploads and private downloads carry the client's signature
/// — so a page can do nothing here that a script elsewhere could not.
async fn cors(
	request: axum::extract::Request,
	next: axum::middleware::Next,
) -> axum::response::Response {
	use axum::{
		http::{header, HeaderValue, Method},
		response::IntoResponse,
	};
	let mut response = if request.method() == Method::OPTIONS {
		StatusCode::NO_CONTENT.into_response()
	} else {
		next.run(request).await
	};
	let headers = response.headers_mut();
	headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
	headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, PUT"));
	headers.insert(
		header::ACCESS_CONTROL_ALLOW_HEADERS,
		HeaderValue::from_static("content-type, x-proofgrid-signature, x-proofgrid-expiry"),
	);
	headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
	response
}

/// What of a refused upload's body is read (and discarded) so that its client, still sending,
/// gets the refusal and its reason rather than a broken connection; past it, or after
/// [`DRAIN_TIME`], the connection is closed.
pub const DRAIN_ON_REFUSAL: usize = 1 << 20;

/// How long a refused upload's body is drained at most.
pub const DRAIN_TIME: Duration = Duration::from_secs(2);

async fn put_input(
	State(service): State<Arc<DataService>>,
	Path((job, matrix)): Path<(u64, String)>,
	headers: HeaderMap,
	body: Body,
) -> Result<StatusCode, Refusal> {
	let mut body = Some(body);
	let result = take_input(&service, job, &matrix, &headers, &mut body).await;
	if let (Err(_), Some(body)) = (&result, body) {
		let mut stream = body.into_data_stream();
		let mut drained = 0;
		let _ = tokio::time::timeout(DRAIN_TIME, async {
			while let Some(Ok(chunk)) = stream.next().await {
				drained += chunk.len();
				if drained > DRAIN_ON_REFUSAL {
					break;
				}
			}
		})
		.await;
	}
	result
}

/// Checks and stores an upload; leaves `body` in place if it refuses before reading it.
async fn take_input(
	service: &DataService,
	job: u64,
	matrix: &str,
	headers: &HeaderMap,
	body: &mut Option<Body>,
) -> Result<StatusCode, Refusal> {
	// Everything that needs no node is checked first, the client's signature included: a
	// request from anyone else costs this worker no query.
	let held = service.held_job(job)?;
	let spec = &held.spec;
	// What the upload must be: its signed root, its size, and the check of its bytes.
	enum Expected {
		Lanes(char, MatrixCommitment),
		Bias(u32, H256),
	}
	let (expected, source) = match (&spec.inputs, matrix) {
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
			(Expected::Bias(spec.shape.n, layer.bias), bias)
		}
		// A model job's batch: one lane per input pixel.
		(JobInputs::Model { input, source, .. }, "a") => (Expected::Lanes('a', *input), source),
		(JobInputs::Model { .. }, _) => {
			return Err(refuse(StatusCode::NOT_FOUND, "a model job's only input is 'a'"))
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
	let signature = signature_header(headers).ok_or_else(|| {
		refuse(StatusCode::UNAUTHORIZED, "no x-proofgrid-signature (0x + 64 bytes)")
	})?;
	let (root, size) = match &expected {
		Expected::Lanes(_, c) => (c.root, c.lanes as usize * c.lane_len as usize),
		Expected::Bias(n, root) => (*root, *n as usize * 4),
	};
	let message = upload_message(&service.client.genesis_hash().0, &held.device, job, &root.0);
	if !verify(&signature, &message, &held.client) {
		return Err(refuse(StatusCode::UNAUTHORIZED, "not signed by the job's client"));
	}
	if size > service.max_input_bytes {
		return Err(refuse(StatusCode::PAYLOAD_TOO_LARGE, "the input exceeds --max-input-mib"));
	}
	let store = held.store;
	// Once stored, an input is what the device computes from: never rewritten, and the body of
	// another upload of it is not even read (it could be a gigabyte, sent again and again).
	let stored = match &expected {
		Expected::Lanes(which, _) => store.has_input(job, *which),
		Expected::Bias(..) => store.bias(job).ok().flatten().is_some(),
	};
	if stored {
		return Ok(StatusCode::NO_CONTENT);
	}
	// Only now the chain: the job must still wait for its inputs on this device, as recorded.
	let info = open_job(service, job).await?;
	let assigned_here =
		matches!(&info.status, JobStatus::Assigned { device, .. } if device.0 == held.device);
	if !assigned_here || info.client.0 != held.client || info.spec.0.inputs != spec.inputs {
		return Err(refuse(StatusCode::CONFLICT, "the job is not waiting for its inputs here"));
	}
	// One upload of an input at a time: a replayed signature cannot start many.
	let _slot = service.upload_slot(job, matrix)?;
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
			let mut stream = body.take().expect("the body is unread").into_data_stream();
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
			let body = body.take().expect("the body is unread");
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
	let held = service.held_job(job)?;
	let store = &held.store;
	let bias_needed = matches!(held.spec.inputs, JobInputs::Layer { .. });
	let b_needed = !matches!(held.spec.inputs, JobInputs::Model { .. });
	let missing: Vec<&str> = [
		(!store.has_input(job, 'a')).then_some("a"),
		(b_needed && !store.has_input(job, 'b')).then_some("b"),
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
	let info = open_job(&service, job).await?;
	if !matches!(&info.status, JobStatus::Assigned { device, .. } if device.0 == held.device) {
		return Err(refuse(StatusCode::CONFLICT, "the job is not assigned to this device"));
	}
	let message = inputs_receipt_message(&service.client.genesis_hash().0, job, &held.device);
	Ok(format!("0x{}", hex::encode(held.key.sign_bytes(&message))))
}

/// The file `which` picks (a GEMM's values, a layer's `Y` or accumulators) of `job`'s output
/// in the store of one of this worker's devices, and that device's account.
fn find_output(
	service: &DataService,
	job: u64,
	which: fn(&Store, u64) -> PathBuf,
) -> Result<([u8; 32], Store, PathBuf), Refusal> {
	for (device, served) in &service.devices {
		let store = Store::open(&served.dir)
			.map_err(|e| refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
		let path = which(&store, job);
		if path.exists() {
			return Ok((*device, store, path));
		}
	}
	Err(refuse(StatusCode::NOT_FOUND, format!("no output of job {job} here")))
}

/// Whether the request may read `what` of job `job`'s output, computed by `device` (whose
/// record of the job is in `store`): a public output, or a grant ([`proofgrid_client::grants`])
/// signed by the job's client, or the request of the device of a job of the same client
/// chained from this one. Signatures are checked before the node is asked anything.
async fn authorize(
	service: &DataService,
	device: &[u8; 32],
	store: &Store,
	job: u64,
	what: Download,
	headers: &HeaderMap,
) -> Result<(), Refusal> {
	let forbidden = |why: String| refuse(StatusCode::FORBIDDEN, why);
	let access = store
		.access(job)
		.map_err(|e| refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
		.ok_or_else(|| forbidden(format!("job {job}'s output is private")))?;
	if access.public {
		return Ok(());
	}
	let client = access.client().ok_or_else(|| forbidden("a corrupt access record".into()))?;
	let private = || {
		forbidden(format!(
			"job {job}'s output is private: send a download grant signed by its client ({SIGNATURE_HEADER}, {EXPIRY_HEADER})"
		))
	};
	let signature = signature_header(headers).ok_or_else(private)?;
	let expiry: u64 =
		header(headers, EXPIRY_HEADER).and_then(|v| v.parse().ok()).ok_or_else(private)?;
	let now = unix_now();
	if expiry < now {
		return Err(forbidden(format!("the grant expired {} s ago", now - expiry)));
	}
	if expiry > now + MAX_DOWNLOAD_GRANT_SECS + 60 {
		return Err(forbidden(format!("a grant runs {MAX_DOWNLOAD_GRANT_SECS} s at most")));
	}
	let message = download_message(&service.client.genesis_hash().0, device, job, what, expiry);
	let reader = match header(headers, READER_HEADER) {
		None => client,
		Some(hex_reader) => hex::decode(hex_reader.trim_start_matches("0x"))
			.ok()
			.and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
			.ok_or_else(|| forbidden(format!("{READER_HEADER} is 0x + 32 bytes")))?,
	};
	if !verify(&signature, &message, &reader) {
		return Err(forbidden(match reader == client {
			true => format!(
				"the grant is not signed by job {job}'s client for this device, job, download and expiry (its client makes one with `proofgrid job grant {job}`)"
			),
			false => format!("the grant is not signed by {READER_HEADER}"),
		}));
	}
	if reader == client {
		return Ok(());
	}
	// Another account: only the device of a chained job of the same client, for the output
	// (its `A`). The chain says which device holds which job.
	let later: u64 = header(headers, FOR_JOB_HEADER)
		.and_then(|v| v.parse().ok())
		.ok_or_else(|| forbidden(format!("{READER_HEADER} is not the job's client")))?;
	if what != Download::Output {
		return Err(forbidden("a chained job's device reads the output only".into()));
	}
	let info = open_job(service, later).await?;
	let chained = info.spec.0.chained_from() == Some(job)
		&& info.client.0 == client
		&& matches!(&info.status, JobStatus::Assigned { device, .. } if device.0 == reader);
	if !chained {
		return Err(forbidden(format!(
			"job {later} is not a job of this job's client, chained from it, assigned to the reader"
		)));
	}
	Ok(())
}

async fn get_output(
	State(service): State<Arc<DataService>>,
	Path(job): Path<u64>,
	headers: HeaderMap,
) -> Result<axum::response::Response, Refusal> {
	let (device, store, path) = find_output(&service, job, Store::values_path)
		.or_else(|_| find_output(&service, job, Store::layer_path))?;
	authorize(&service, &device, &store, job, Download::Output, &headers).await?;
	stream_file(path).await
}

async fn get_accumulators(
	State(service): State<Arc<DataService>>,
	Path(job): Path<u64>,
	headers: HeaderMap,
) -> Result<axum::response::Response, Refusal> {
	let (device, store, path) = find_output(&service, job, Store::accumulators_path)?;
	authorize(&service, &device, &store, job, Download::Accumulators, &headers).await?;
	stream_file(path).await
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
	headers: HeaderMap,
) -> Result<impl axum::response::IntoResponse, Refusal> {
	let (device, store, path) = find_output(&service, job, Store::values_path)?;
	authorize(&service, &device, &store, job, Download::Leaves, &headers).await?;
	let internal = |e: anyhow::Error| refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
	let leaf = tokio::task::spawn_blocking(move || {
		let leaf_count = std::fs::metadata(&path)?.len() / LEAF_BYTES as u64;
		if index >= leaf_count {
			return Ok(None);
		}
		let tree = store.output(job, leaf_count)?.context("the output tree is gone")?;
		let values = crate::store::output::read_leaf_values(&path, index)?;
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

#[cfg(test)]
mod tests {
	use super::*;
	use tokio::io::{AsyncReadExt, AsyncWriteExt};

	/// Sends `head` (a whole request) and returns the answer's head.
	async fn ask(address: SocketAddr, head: &str) -> String {
		let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
		stream.write_all(head.as_bytes()).await.unwrap();
		let mut answer = vec![0u8; 4096];
		let read = stream.read(&mut answer).await.unwrap();
		String::from_utf8_lossy(&answer[..read]).to_lowercase()
	}

	#[tokio::test]
	async fn a_browser_may_read_answers_and_its_preflight_is_answered() {
		let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
		let address = tcp.local_addr().unwrap();
		let router = Router::new()
			.route("/v1/x", get(|| async { "ok" }))
			.layer(axum::middleware::from_fn(cors));
		tokio::spawn(serve_http(tcp, router, Duration::from_secs(5), std::future::pending()));

		let preflight = ask(
			address,
			"OPTIONS /v1/x HTTP/1.1\r\nhost: x\r\norigin: http://127.0.0.1:5173\r\n\
			 access-control-request-method: PUT\r\n\
			 access-control-request-headers: x-proofgrid-signature\r\n\r\n",
		)
		.await;
		assert!(preflight.starts_with("http/1.1 204"), "{preflight}");
		assert!(preflight.contains("access-control-allow-methods: get, put"), "{preflight}");
		assert!(preflight.contains("x-proofgrid-signature, x-proofgrid-expiry"), "{preflight}");

		let get =
			ask(address, "GET /v1/x HTTP/1.1\r\nhost: x\r\norigin: http://a.example\r\n\r\n").await;
		assert!(get.starts_with("http/1.1 200"), "{get}");
		assert!(get.contains("access-control-allow-origin: *"), "{get}");
		// A refusal is readable too: a page shows the device's reason, not a CORS error.
		let missing = ask(address, "GET /v1/y HTTP/1.1\r\nhost: x\r\n\r\n").await;
		assert!(
			missing.starts_with("http/1.1 404")
				&& missing.contains("access-control-allow-origin: *")
		);
	}

	#[test]
	fn a_signature_counts_as_signed_or_as_a_wallet_wraps_raw_bytes_and_for_nothing_else() {
		let pair = sr25519::Pair::from_string("//Eve", None).unwrap();
		let signer = pair.public().0;
		let message = [7u8; 32];
		let plain = pair.sign(&message).0;
		let wrapped = pair.sign(&wrapped_bytes(&message)).0;
		assert!(verify(&plain, &message, &signer));
		assert!(verify(&wrapped, &message, &signer));
		// Another message, or another signer, is refused either way.
		assert!(!verify(&wrapped, &[8u8; 32], &signer));
		assert!(!verify(
			&plain,
			&message,
			&sr25519::Pair::from_string("//Ferdie", None).unwrap().public().0
		));
		// A signature over the wrapping of another message's bytes is not this message's.
		let other = pair.sign(&[&b"<Bytes>"[..], &[8u8; 32], b"</Bytes>"].concat()).0;
		assert!(!verify(&other, &message, &signer));
	}

	#[tokio::test]
	async fn a_client_that_trickles_its_headers_is_cut_off_and_a_prompt_one_is_served() {
		let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
		let address = tcp.local_addr().unwrap();
		let router = Router::new().route("/", get(|| async { "ok" }));
		let timeout = Duration::from_millis(400);
		tokio::spawn(serve_http(tcp, router, timeout, std::future::pending()));

		let mut prompt = tokio::net::TcpStream::connect(address).await.unwrap();
		prompt.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
		let mut answer = [0u8; 64];
		let read = prompt.read(&mut answer).await.unwrap();
		assert!(answer[..read].starts_with(b"HTTP/1.1 200"), "{:?}", &answer[..read]);

		// A byte every 100 ms: never idle, but its head is not done after 400 ms.
		let started = std::time::Instant::now();
		let mut slow = tokio::net::TcpStream::connect(address).await.unwrap();
		let head = b"GET / HTTP/1.1\r\nhost: x\r\nx-padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
		let mut closed_after = None;
		for byte in head {
			if slow.write_all(&[*byte]).await.is_err() {
				closed_after = Some(started.elapsed());
				break;
			}
			tokio::time::sleep(Duration::from_millis(100)).await;
		}
		let mut rest = Vec::new();
		let _ = slow.read_to_end(&mut rest).await;
		let closed_after = closed_after.unwrap_or(started.elapsed());
		assert!(!rest.starts_with(b"HTTP/1.1 200"), "the trickled request was served");
		assert!(closed_after < Duration::from_secs(3), "closed after {closed_after:?}");
		println!("a head trickled a byte per 100 ms: closed after {closed_after:?} (timeout {timeout:?})");
	}
}
