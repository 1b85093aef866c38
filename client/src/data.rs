//! Supplied inputs and delivered outputs: upload a job's own matrices to the data service of
//! the device assigned to it (signed by the job's client, checked there against the chain's
//! commitment), and download a computed output, checked here against the committed root
//! before a single value is returned.

use proofgrid_primitives::{
	gemm::{encode_leaf, output_of_leaf_bytes, GemmShape, OutputError, LEAF_BYTES, LEAF_ELEMENTS},
	inputs::{inputs_receipt_message, upload_message, MatrixCommitment},
	job::{InputSource, JobId, JobInputs},
	merkle::hash_leaf,
};

pub use crate::npy::{
	columns_of, npy_i32_vector_bytes, npy_i8_bytes, parse_npy_i32_vector, parse_npy_i8,
	read_npy_i32_vector, read_npy_i8, write_npy_i32, MAX_NPY_HEADER,
};
use crate::{
	endpoint, grants::DownloadGrant, jobs::JobStatus, runtime, Client, DataError, Error, Keypair,
};

/// One of a job's two inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Matrix {
	/// `A`, sent as its `m` rows of `k` elements.
	A,
	/// `B`, sent as its `n` columns of `k` elements.
	B,
}

impl Matrix {
	/// The lanes (rows of `A`, columns of `B`) of a row-major `rows × cols` matrix, lane after
	/// lane: what its commitment is made of.
	pub fn lanes(self, rows: usize, cols: usize, values: Vec<i8>) -> Vec<i8> {
		match self {
			Self::A => values,
			Self::B => columns_of(&values, rows, cols),
		}
	}

	/// `(lanes, lane length)` of a row-major `rows × cols` matrix in this role.
	pub fn lane_shape(self, rows: usize, cols: usize) -> (usize, usize) {
		match self {
			Self::A => (rows, cols),
			Self::B => (cols, rows),
		}
	}
}

/// How long a download may stall (connecting, or between two reads) before it is given up.
pub const FETCH_TIMEOUT: std::time::Duration = crate::endpoint::TIMEOUT;

impl Client {
	/// Uploads input `matrix` of job `job` — its lanes, `k` bytes each, lane after lane — to
	/// the data service of the device the job is assigned to, signed by the job's client
	/// `signer`. The device refuses bytes that do not match the commitment.
	pub async fn upload_input(
		&self,
		signer: &Keypair,
		job: JobId,
		matrix: Matrix,
		lanes: &[i8],
	) -> Result<(), Error> {
		let info = self.job(job).await?.ok_or(Error::NoSuchJob { job })?;
		let (commitment, source, name) = match (&info.spec.0.inputs, matrix) {
			(
				JobInputs::Supplied { matrices, a, .. } | JobInputs::Layer { matrices, a, .. },
				Matrix::A,
			) => (matrices.a, a, "a"),
			(
				JobInputs::Supplied { matrices, b, .. } | JobInputs::Layer { matrices, b, .. },
				Matrix::B,
			) => (matrices.b, b, "b"),
			// A model job's batch is its `A`, one lane per input pixel.
			(JobInputs::Model { input, source, .. }, Matrix::A) => (*input, source, "a"),
			(JobInputs::Model { .. }, Matrix::B) => {
				return Err(DataError::Unavailable(format!(
					"job {job} runs a model: its batch is its only input"
				))
				.into())
			}
			(JobInputs::Seeded { .. }, _) => {
				return Err(DataError::Unavailable(format!("job {job} has seeded inputs")).into())
			}
		};
		// A chained `A` is fetched by the device, or uploaded by the client if it must be.
		let chained_a = matrix == Matrix::A && matches!(source, InputSource::Job(_));
		if *source != InputSource::Upload && !chained_a {
			return Err(DataError::Unavailable(format!(
				"input {name} of job {job} comes from a URL"
			))
			.into());
		}
		let body: Vec<u8> = lanes.iter().map(|&x| x as u8).collect();
		self.put_input(signer, job, &info.status, name, &commitment.root.0, body).await
	}

	/// Uploads the `n` biases of `linear-i8` job `job` to the data service of its device, signed
	/// by the job's client `signer`, as [`Self::upload_input`] does for a matrix. The device
	/// refuses biases that do not match the job's bias root.
	pub async fn upload_bias(
		&self,
		signer: &Keypair,
		job: JobId,
		bias: &[i32],
	) -> Result<(), Error> {
		let info = self.job(job).await?.ok_or(Error::NoSuchJob { job })?;
		let JobInputs::Layer { bias: source, layer, .. } = &info.spec.0.inputs else {
			return Err(
				DataError::Unavailable(format!("job {job} is not a linear-i8 layer")).into()
			);
		};
		if *source != InputSource::Upload {
			return Err(DataError::Unavailable(format!(
				"the biases of job {job} are not uploaded"
			))
			.into());
		}
		let body = bias.iter().flat_map(|b| b.to_le_bytes()).collect();
		self.put_input(signer, job, &info.status, "bias", &layer.bias.0, body).await
	}

	/// The receipt of assigned job `job`'s device for every input of the job, from its data
	/// service (`GET /v1/jobs/{job}/inputs/receipt`): the device key's signature of
	/// [`inputs_receipt_message`]`(genesis, job, device)`, checked here. `None` while the device
	/// does not hold them all.
	pub async fn inputs_receipt(&self, job: JobId) -> Result<Option<[u8; 64]>, Error> {
		let info = self.job(job).await?.ok_or(Error::NoSuchJob { job })?;
		let JobStatus::Assigned { device, .. } = &info.status else {
			return Err(
				DataError::Unavailable(format!("job {job} is not assigned to a device")).into()
			);
		};
		let endpoint = self
			.endpoint(device)
			.await?
			.ok_or_else(|| no_service("the assigned device publishes no data service"))?;
		let url = self.service_url(&endpoint, &format!("v1/jobs/{job}/inputs/receipt"))?;
		let response = self
			.http_to(&url)
			.await?
			.get(url.url.clone())
			.send()
			.await
			.map_err(|source| DataError::Unreachable { url: url.to_string(), source })?;
		if response.status() == reqwest::StatusCode::CONFLICT {
			return Ok(None);
		}
		if !response.status().is_success() {
			let status = response.status();
			let reason = response.text().await.unwrap_or_default();
			return Err(refused(url.to_string(), status, reason));
		}
		let text = response
			.text()
			.await
			.map_err(|source| DataError::Unreachable { url: url.to_string(), source })?;
		let signature = hex::decode(text.trim().trim_start_matches("0x"))
			.ok()
			.and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
			.ok_or_else(|| mismatch(&url, "not a 0x-hex 64-byte signature"))?;
		let message = inputs_receipt_message(&self.genesis_hash().0, job, &device.0);
		let public = sp_core::sr25519::Public::from_raw(device.0);
		let valid = <sp_core::sr25519::Pair as sp_core::Pair>::verify(
			&sp_core::sr25519::Signature::from_raw(signature),
			message,
			&public,
		);
		if !valid {
			return Err(mismatch(&url, "the receipt is not the device's signature"));
		}
		Ok(Some(signature))
	}

	/// Puts the device's receipt for every input of job `job` on chain (`Jobs::confirm_inputs`,
	/// signed by the job's client `signer`): from then on the device cannot give the job back
	/// for free. `false` (nothing sent) while the device does not hold every input.
	pub async fn confirm_inputs(&self, signer: &Keypair, job: JobId) -> Result<bool, Error> {
		let Some(receipt) = self.inputs_receipt(job).await? else { return Ok(false) };
		let call = runtime::tx().jobs().confirm_inputs(
			job,
			runtime::runtime_types::sp_runtime::MultiSignature::Sr25519(receipt),
		);
		self.submit(&call, signer).await?;
		Ok(true)
	}

	/// PUTs `body` as input `name` of `job` (in state `status`) to its device's data service,
	/// with the client's signature of the input's commitment `root`.
	async fn put_input(
		&self,
		signer: &Keypair,
		job: JobId,
		status: &JobStatus,
		name: &str,
		root: &[u8; 32],
		body: Vec<u8>,
	) -> Result<(), Error> {
		let JobStatus::Assigned { device, .. } = status else {
			return Err(DataError::Unavailable(format!(
				"job {job} is not assigned to a device yet"
			))
			.into());
		};
		let endpoint = self
			.endpoint(device)
			.await?
			.ok_or_else(|| no_service("the assigned device publishes no data service"))?;
		let message = upload_message(&self.genesis_hash().0, &device.0, job, root);
		let signature = signer.sign_bytes(&message);
		let url = self.service_url(&endpoint, &format!("v1/jobs/{job}/inputs/{name}"))?;
		let response = self
			.http_to(&url)
			.await?
			.put(url.url.clone())
			.header("x-proofgrid-signature", format!("0x{}", hex::encode(signature)))
			.body(body)
			.send()
			.await
			.map_err(|source| DataError::Unreachable { url: url.to_string(), source })?;
		if !response.status().is_success() {
			let status = response.status();
			let reason = response.text().await.unwrap_or_default();
			return Err(refused(url.to_string(), status, reason));
		}
		Ok(())
	}

	/// Downloads the output of job `job` (of `shape`, committed as `root`) from the data
	/// service at `endpoint`, checks every leaf against `root`, and returns `C` row-major
	/// (`m × n` values). A private output needs a `grant` ([`crate::grants`]).
	pub async fn download_output(
		&self,
		endpoint: &str,
		job: JobId,
		shape: &GemmShape,
		root: &[u8; 32],
		grant: Option<&DownloadGrant>,
	) -> Result<Vec<i32>, Error> {
		let url = self.service_url(endpoint, &format!("v1/jobs/{job}/output"))?;
		let expected = (shape.leaf_count() * LEAF_BYTES as u64) as usize;
		let bytes = self.get_at_most(&url, expected, grant).await?;
		output_from_leaves(shape, &bytes, root)
	}

	/// Downloads the rows of a `linear-i8` output committed as `commitment` (`lanes` rows of
	/// `lane_len` int8 values: the output of job `job`) from the data service at `endpoint`,
	/// and returns them (row-major) only if they match the commitment. A private output needs
	/// a `grant`.
	pub async fn download_layer_rows(
		&self,
		endpoint: &str,
		job: JobId,
		commitment: &MatrixCommitment,
		grant: Option<&DownloadGrant>,
	) -> Result<Vec<i8>, Error> {
		let url = self.service_url(endpoint, &format!("v1/jobs/{job}/output"))?;
		let expected = commitment.lanes as usize * commitment.lane_len as usize;
		let bytes = self.get_at_most(&url, expected, grant).await?;
		let rows: Vec<i8> = bytes.into_iter().map(|b| b as i8).collect();
		let lane_len = (commitment.lane_len as usize).max(1);
		if rows.len() != expected
			|| MatrixCommitment::of_lanes(rows.chunks_exact(lane_len)) != Some(*commitment)
		{
			return Err(mismatch(
				&url,
				&format!("the rows do not match the committed output of job {job}"),
			));
		}
		Ok(rows)
	}

	/// Downloads the int32 accumulators (`A·W`, m×n row-major) behind the output of
	/// `linear-i8` job `job` (of `shape`) from the data service at `endpoint`. They are the
	/// device's *hint* for checking the output quickly (`check::check_layer`): nothing proves
	/// them, and a wrong hint only makes the check slower.
	pub async fn download_accumulators(
		&self,
		endpoint: &str,
		job: JobId,
		shape: &GemmShape,
		grant: Option<&DownloadGrant>,
	) -> Result<Vec<i32>, Error> {
		let url = self.service_url(endpoint, &format!("v1/jobs/{job}/output/accumulators"))?;
		let expected = shape.m as usize * shape.n as usize * 4;
		let bytes = self.get_at_most(&url, expected, grant).await?;
		if bytes.len() != expected {
			return Err(mismatch(&url, &format!("{} bytes, not {expected}", bytes.len())));
		}
		Ok(bytes.chunks_exact(4).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
	}
}

impl Client {
	/// Downloads leaf `index` (16 values) of the output of job `job` (of `shape`, committed as
	/// `root`) with its Merkle path from the data service at `endpoint`, and returns both only
	/// if the path proves the values against `root`: a spot check without the whole output,
	/// and the leaf half of a fraud proof.
	pub async fn download_leaf(
		&self,
		endpoint: &str,
		job: JobId,
		shape: &GemmShape,
		root: &[u8; 32],
		index: u64,
		grant: Option<&DownloadGrant>,
	) -> Result<ProvenLeaf, Error> {
		#[derive(serde::Deserialize)]
		struct Leaf {
			values: [i32; LEAF_ELEMENTS],
			path: Vec<String>,
		}
		let url = self.service_url(endpoint, &format!("v1/jobs/{job}/output/leaves/{index}"))?;
		// 16 values and at most 40 hashes, as JSON.
		let bytes = self.get_at_most(&url, 8 << 10, grant).await?;
		let leaf: Leaf = serde_json::from_slice(&bytes)
			.map_err(|e| mismatch(&url, &format!("not a leaf ({e})")))?;
		let path = leaf
			.path
			.iter()
			.map(|h| {
				let bytes = hex::decode(h.trim_start_matches("0x")).ok()?;
				<[u8; 32]>::try_from(bytes).ok()
			})
			.collect::<Option<Vec<[u8; 32]>>>()
			.ok_or_else(|| mismatch(&url, "a path of non-hashes"))?;
		let hash = hash_leaf(&encode_leaf(&leaf.values));
		proofgrid_primitives::merkle::verify(root, shape.leaf_count(), index, hash, &path)
			.map_err(|e| {
				mismatch(&url, &format!("leaf {index} does not match the committed root ({e:?})"))
			})?;
		Ok(ProvenLeaf { values: leaf.values, path })
	}
}

/// An output leaf proven against its job's committed root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvenLeaf {
	/// Its 16 values, row-major in its 4×4 tile.
	pub values: [i32; LEAF_ELEMENTS],
	/// Its Merkle path (sibling hashes, bottom up).
	pub path: Vec<[u8; 32]>,
}

/// An HTTP client that gives up on a server silent for [`FETCH_TIMEOUT`].
fn http() -> Result<reqwest::Client, Error> {
	reqwest::Client::builder()
		.connect_timeout(FETCH_TIMEOUT)
		.read_timeout(FETCH_TIMEOUT)
		.build()
		.map_err(|e| Error::Node(format!("cannot build an HTTP client: {}", with_causes(&e))))
}

/// The body of a successful `GET url` (a URL the caller chose, not a device), refused past
/// `max_bytes`.
async fn get_at_most(url: &str, max_bytes: usize) -> Result<Vec<u8>, Error> {
	read_at_most(http()?.get(url), url, max_bytes).await
}

/// An error with the causes under it ("error sending request" says little; "the certificate
/// is not the one pinned" says what happened).
pub fn with_causes(error: &dyn std::error::Error) -> String {
	let mut text = error.to_string();
	let mut cause = error.source();
	while let Some(inner) = cause {
		let line = inner.to_string();
		if !text.contains(&line) {
			text = format!("{text}: {line}");
		}
		cause = inner.source();
	}
	text
}

/// The body of the successful response to `request` (to `url`), refused past `max_bytes`.
async fn read_at_most(
	request: reqwest::RequestBuilder,
	url: &str,
	max_bytes: usize,
) -> Result<Vec<u8>, Error> {
	let fail = |source| DataError::Unreachable { url: url.to_string(), source };
	let mut response = request.send().await.map_err(fail)?;
	if !response.status().is_success() {
		let status = response.status();
		let reason = response.text().await.unwrap_or_default();
		return Err(refused(url.to_string(), status, reason));
	}
	let mut bytes = Vec::with_capacity(max_bytes.min(64 << 20));
	while let Some(chunk) = response.chunk().await.map_err(fail)? {
		if bytes.len() + chunk.len() > max_bytes {
			return Err(mismatch(&url, &format!("more than the {max_bytes} bytes expected")));
		}
		bytes.extend_from_slice(&chunk);
	}
	Ok(bytes)
}

/// Requests to devices' data services: every one under the address policy
/// ([`crate::endpoint`]).
impl Client {
	/// `path` under a device's data-service `endpoint` ([`endpoint::check_endpoint`]), and
	/// the certificate it pins.
	pub(crate) fn service_url(&self, endpoint: &str, path: &str) -> Result<ServiceUrl, Error> {
		let checked = endpoint::check_endpoint(endpoint, self.address_policy())?;
		let joined = format!("{}/{path}", checked.url.as_str().trim_end_matches('/'));
		let url = reqwest::Url::parse(&joined).map_err(|e| DataError::BadEndpoint {
			endpoint: joined.clone(),
			reason: e.to_string(),
		})?;
		Ok(ServiceUrl { url, cert_sha256: checked.cert_sha256 })
	}

	/// An HTTP client that connects only to `url`'s checked address and accepts only its
	/// pinned certificate ([`endpoint::pinned_client`]).
	async fn http_to(&self, url: &ServiceUrl) -> Result<reqwest::Client, Error> {
		endpoint::pinned_client(&url.url, self.address_policy(), url.cert_sha256).await
	}

	/// The body of a successful `GET url` from a device's data service, presenting `grant`,
	/// refused past `max_bytes`.
	pub(crate) async fn get_at_most(
		&self,
		url: &ServiceUrl,
		max_bytes: usize,
		grant: Option<&DownloadGrant>,
	) -> Result<Vec<u8>, Error> {
		let mut request = self.http_to(url).await?.get(url.url.clone());
		for (name, value) in grant.map(DownloadGrant::headers).unwrap_or_default() {
			request = request.header(name, value);
		}
		read_at_most(request, url.url.as_str(), max_bytes).await
	}
}

/// A URL on a device's data service, and the certificate its endpoint pins.
pub(crate) struct ServiceUrl {
	url: reqwest::Url,
	cert_sha256: Option<[u8; 32]>,
}

impl std::fmt::Display for ServiceUrl {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		self.url.fmt(f)
	}
}

/// `C` row-major from an output's leaf values (16 little-endian `i32` per leaf, leaf order),
/// if they are the output committed as `root` ([`output_of_leaf_bytes`]).
pub fn output_from_leaves(
	shape: &GemmShape,
	bytes: &[u8],
	root: &[u8; 32],
) -> Result<Vec<i32>, Error> {
	output_of_leaf_bytes(shape, bytes, root).map_err(|e| match e {
		OutputError::Length(found, expected) => mismatch(
			&"the output",
			&format!(
				"{found} bytes for {} leaves of {LEAF_BYTES} ({expected} bytes)",
				shape.leaf_count()
			),
		),
		OutputError::Root => mismatch(&"the output", "it does not match the committed root"),
	})
}

/// Fetches the int8 `.npy` matrix at `url` (an input a device will fetch too), reading no
/// further than `max_bytes`, within [`FETCH_TIMEOUT`] of silence.
pub async fn fetch_npy_i8(url: &str, max_bytes: usize) -> Result<(usize, usize, Vec<i8>), Error> {
	let bytes = get_at_most(url, max_bytes).await?;
	let name = url.to_string();
	tokio::task::spawn_blocking(move || parse_npy_i8(&bytes, &name))
		.await
		.map_err(|e| Error::BadFile { name: url.to_string(), reason: format!("not parsed: {e}") })?
}

/// A data service's refusal of a request.
fn refused(url: String, status: reqwest::StatusCode, reason: String) -> Error {
	DataError::Refused { url, status: status.as_u16(), reason }.into()
}

/// What `from` served is not what the chain committed to.
pub(crate) fn mismatch(from: &dyn std::fmt::Display, what: &str) -> Error {
	DataError::Mismatch { from: from.to_string(), what: what.to_string() }.into()
}

/// The device has no data service to ask.
pub(crate) fn no_service(why: &str) -> Error {
	DataError::Unavailable(why.to_string()).into()
}

#[cfg(test)]
mod tests {
	use super::*;
	use proofgrid_primitives::testing::supplied::SuppliedJob;

	#[test]
	fn an_output_is_returned_row_major_only_if_it_matches_the_root() {
		let job = SuppliedJob::new(7, 6, 5, 1);
		let bytes: Vec<u8> = job.leaves.iter().flat_map(encode_leaf).collect();
		let c = output_from_leaves(&job.shape, &bytes, &job.root()).unwrap();
		for i in 0..7 {
			for j in 0..6 {
				let expected: i32 =
					(0..5).map(|x| job.rows[i][x] as i32 * job.cols[j][x] as i32).sum();
				assert_eq!(c[i * 6 + j], expected);
			}
		}
		let mut tampered = bytes.clone();
		tampered[0] ^= 1;
		assert!(output_from_leaves(&job.shape, &tampered, &job.root()).is_err());
		assert!(output_from_leaves(&job.shape, &bytes[..64], &job.root()).is_err());
	}

	#[test]
	fn a_refusal_an_unreachable_service_and_a_bad_file_are_told_apart_by_variant() {
		let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
		rt.block_on(async {
			// A service that answers every request with 404 and a reason.
			let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
			let port = listener.local_addr().unwrap().port();
			tokio::spawn(async move {
				use tokio::io::{AsyncReadExt, AsyncWriteExt};
				while let Ok((mut socket, _)) = listener.accept().await {
					let mut request = [0u8; 1024];
					let _ = socket.read(&mut request).await;
					let body = "no output for job 7";
					let response = format!(
						"HTTP/1.1 404 Not Found\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
						body.len()
					);
					let _ = socket.write_all(response.as_bytes()).await;
				}
			});
			let url = format!("http://127.0.0.1:{port}/v1/jobs/7/output");
			match get_at_most(&url, 1024).await {
				Err(Error::Data(DataError::Refused { status, reason, url: at })) => {
					assert_eq!((status, reason.as_str(), at), (404, "no output for job 7", url));
				}
				other => panic!("expected a refusal, got {other:?}"),
			}
			// Nothing listens on port 1: the transport's error is the source.
			match get_at_most("http://127.0.0.1:1/", 1024).await {
				Err(error @ Error::Data(DataError::Unreachable { .. })) => {
					assert!(std::error::Error::source(&error).is_some());
				}
				other => panic!("expected an unreachable service, got {other:?}"),
			}
		});
		let missing = std::path::Path::new("/nonexistent/a.npy");
		match read_npy_i8(missing) {
			Err(Error::File { path, source }) => {
				assert_eq!(
					(path.as_path(), source.kind()),
					(missing, std::io::ErrorKind::NotFound)
				);
			}
			other => panic!("expected a file error, got {other:?}"),
		}
		assert!(matches!(
			parse_npy_i8(b"not a .npy", "a.npy"),
			Err(Error::BadFile { ref name, .. }) if name == "a.npy"
		));
	}
}
