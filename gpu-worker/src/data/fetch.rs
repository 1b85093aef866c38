//! Inputs a client serves at a URL, as int8 `.npy` files: fetched by the device that claimed the
//! job, no more than the committed size, within a timeout, and kept only if they match the
//! committed lane root.

use proofgrid_client::data::{parse_npy_i32_vector, parse_npy_i8, Matrix, MAX_NPY_HEADER};
use proofgrid_primitives::{inputs::MatrixCommitment, linear::bias_root};
use sp_core::H256;

/// What may be fetched.
#[derive(Clone, Debug)]
pub struct FetchPolicy {
	/// Largest input, bytes (`--max-input-mib`).
	pub max_bytes: usize,
	/// Whether loopback, private and link-local addresses may be fetched from.
	pub private_addresses: bool,
}

impl FetchPolicy {
	/// The address policy it implies ([`proofgrid_client::endpoint`]).
	pub fn address_policy(&self) -> proofgrid_client::endpoint::AddressPolicy {
		use proofgrid_client::endpoint::AddressPolicy;
		match self.private_addresses {
			true => AddressPolicy::AllowPrivate,
			false => AddressPolicy::PublicOnly,
		}
	}
}

/// Why a URL's bytes were not taken.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
	/// The request failed (unreachable, stalled, a redirect, not a success status).
	#[error("fetching {url}: {reason}")]
	Request { url: String, reason: String },
	/// The host is not a public address (and `--fetch-private-urls` is off).
	#[error("{url}: {address} is not a public address (--fetch-private-urls allows it)")]
	Private { url: String, address: std::net::IpAddr },
	/// More bytes than an `.npy` file of the committed matrix holds, or than the worker takes.
	#[error(
		"{url}: more than {limit} bytes (the committed matrix's .npy file, or --max-input-mib)"
	)]
	TooLarge { url: String, limit: usize },
	/// Not a 2-D int8 `.npy` file.
	#[error("{url}: {reason}")]
	NotNpy { url: String, reason: String },
	/// A matrix of another shape than committed.
	#[error("{url} holds a {rows}×{cols} matrix; the job commits {matrix:?} as {expected}")]
	Shape { url: String, matrix: Matrix, rows: usize, cols: usize, expected: String },
	/// The bytes are not the committed matrix.
	#[error("{url} served data that does not match the job's commitment")]
	Mismatch { url: String },
}

/// Whether `bytes` are the lanes of the matrix committed as `commitment` (hashed off the async
/// threads: up to a gigabyte of input).
pub async fn matches_commitment(bytes: axum::body::Bytes, commitment: MatrixCommitment) -> bool {
	let k = commitment.lane_len as usize;
	tokio::task::spawn_blocking(move || {
		let lanes: Vec<i8> = bytes.iter().map(|&b| b as i8).collect();
		MatrixCommitment::of_lanes(lanes.chunks_exact(k)) == Some(commitment)
	})
	.await
	.unwrap_or(false)
}

/// The body at `url`, no more than `limit` bytes, under the address policy every ProofGrid
/// request to a hostile party's address follows ([`proofgrid_client::endpoint`]): a public
/// address only (unless `policy` allows private ones), the address checked is the one
/// connected to, no redirect, no proxy, giving up after [`TIMEOUT`](proofgrid_client::endpoint::TIMEOUT) of silence.
async fn get_limited(
	url: &str,
	limit: usize,
	policy: &FetchPolicy,
	headers: &[(&str, String)],
	cert_sha256: Option<[u8; 32]>,
) -> Result<Vec<u8>, FetchError> {
	use proofgrid_client::endpoint::pinned_client;
	let request = |reason: String| FetchError::Request { url: url.to_string(), reason };
	let parsed = reqwest::Url::parse(url).map_err(|e| request(e.to_string()))?;
	let client = pinned_client(&parsed, policy.address_policy(), cert_sha256).await.map_err(
		|e| match e {
			proofgrid_client::Error::PrivateAddress { address, .. } => {
				FetchError::Private { url: url.to_string(), address }
			}
			other => request(other.to_string()),
		},
	)?;
	let mut get = client.get(url);
	for (name, value) in headers {
		get = get.header(*name, value);
	}
	let mut response =
		get.send().await.map_err(|e| request(proofgrid_client::data::with_causes(&e)))?;
	if !response.status().is_success() {
		let status = response.status();
		let reason = response.text().await.unwrap_or_default();
		return Err(request(format!("{status}: {}", reason.chars().take(200).collect::<String>())));
	}
	let mut bytes = Vec::with_capacity(limit.min(64 << 20));
	while let Some(chunk) = response.chunk().await.map_err(|e| request(e.to_string()))? {
		if bytes.len() + chunk.len() > limit {
			return Err(FetchError::TooLarge { url: url.to_string(), limit });
		}
		bytes.extend_from_slice(&chunk);
	}
	Ok(bytes)
}

/// The lanes of input `matrix`, committed as `commitment`, fetched from `url` as an int8
/// `.npy` file (`A` as m×k, `B` as k×n, as NumPy holds them) by [`get_limited`], no further
/// than that file's size, checked against the commitment.
pub async fn fetch_input(
	url: &str,
	matrix: Matrix,
	commitment: &MatrixCommitment,
	policy: &FetchPolicy,
) -> Result<Vec<u8>, FetchError> {
	let request = |reason: String| FetchError::Request { url: url.to_string(), reason };
	let (lanes, lane_len) = (commitment.lanes as usize, commitment.lane_len as usize);
	if lanes.saturating_mul(lane_len) > policy.max_bytes {
		return Err(FetchError::TooLarge { url: url.to_string(), limit: policy.max_bytes });
	}
	let bytes = get_limited(url, lanes * lane_len + MAX_NPY_HEADER + 12, policy, &[], None).await?;
	let name = url.to_string();
	let parsed = tokio::task::spawn_blocking(move || parse_npy_i8(&bytes, &name))
		.await
		.map_err(|e| request(e.to_string()))?;
	let (rows, cols, values) =
		parsed.map_err(|e| FetchError::NotNpy { url: url.to_string(), reason: e.to_string() })?;
	if matrix.lane_shape(rows, cols) != (lanes, lane_len) {
		let expected = match matrix {
			Matrix::A => format!("{lanes}×{lane_len}"),
			Matrix::B => format!("{lane_len}×{lanes}"),
		};
		return Err(FetchError::Shape { url: url.to_string(), matrix, rows, cols, expected });
	}
	let lanes: Vec<u8> = tokio::task::spawn_blocking(move || {
		matrix.lanes(rows, cols, values).into_iter().map(|x| x as u8).collect()
	})
	.await
	.map_err(|e| request(e.to_string()))?;
	let lanes = axum::body::Bytes::from(lanes);
	if !matches_commitment(lanes.clone(), *commitment).await {
		return Err(FetchError::Mismatch { url: url.to_string() });
	}
	Ok(lanes.into())
}

/// A model job's batch, committed as `commitment` (one lane per pixel, `channels` values
/// each), fetched from `url` as the int8 `.npy` file its client read (one row per image, NHWC)
/// by [`get_limited`], no further than that file's size, checked against the commitment.
pub async fn fetch_batch(
	url: &str,
	commitment: &MatrixCommitment,
	policy: &FetchPolicy,
) -> Result<Vec<u8>, FetchError> {
	let request = |reason: String| FetchError::Request { url: url.to_string(), reason };
	let size = (commitment.lanes as usize).saturating_mul(commitment.lane_len as usize);
	if size > policy.max_bytes {
		return Err(FetchError::TooLarge { url: url.to_string(), limit: policy.max_bytes });
	}
	let bytes = get_limited(url, size + MAX_NPY_HEADER + 12, policy, &[], None).await?;
	let name = url.to_string();
	let parsed = tokio::task::spawn_blocking(move || parse_npy_i8(&bytes, &name))
		.await
		.map_err(|e| request(e.to_string()))?;
	let (images, values, batch) =
		parsed.map_err(|e| FetchError::NotNpy { url: url.to_string(), reason: e.to_string() })?;
	// Whole pixels per image, and the committed number of them.
	let lane_len = commitment.lane_len as usize;
	if lane_len == 0 || values % lane_len != 0 || images * values != size {
		return Err(FetchError::Shape {
			url: url.to_string(),
			matrix: Matrix::A,
			rows: images,
			cols: values,
			expected: format!("{size} values in rows of whole pixels of {lane_len} channels"),
		});
	}
	let lanes = axum::body::Bytes::from(batch.into_iter().map(|x| x as u8).collect::<Vec<u8>>());
	if !matches_commitment(lanes.clone(), *commitment).await {
		return Err(FetchError::Mismatch { url: url.to_string() });
	}
	Ok(lanes.into())
}

/// The rows of an earlier layer's output, committed as `commitment`, fetched raw (`lanes`
/// rows of `lane_len` bytes, as data services serve a layer's output) from `url` (on a data
/// service whose certificate is `cert_sha256`, if pinned) by [`get_limited`] with `headers`
/// (a [`DownloadGrant`](proofgrid_client::grants::DownloadGrant)'s), checked against the
/// commitment.
pub async fn fetch_rows(
	url: &str,
	cert_sha256: Option<[u8; 32]>,
	commitment: &MatrixCommitment,
	policy: &FetchPolicy,
	headers: &[(&str, String)],
) -> Result<Vec<u8>, FetchError> {
	let size = (commitment.lanes as usize).saturating_mul(commitment.lane_len as usize);
	if size > policy.max_bytes {
		return Err(FetchError::TooLarge { url: url.to_string(), limit: policy.max_bytes });
	}
	let bytes = get_limited(url, size, policy, headers, cert_sha256).await?;
	if bytes.len() != size || !matches_commitment(bytes.clone().into(), *commitment).await {
		return Err(FetchError::Mismatch { url: url.to_string() });
	}
	Ok(bytes)
}

/// The `n` biases of a layer, committed as `root`, fetched from `url` as an int32 `.npy`
/// vector by [`get_limited`], checked against the root.
pub async fn fetch_bias(
	url: &str,
	n: u32,
	root: &H256,
	policy: &FetchPolicy,
) -> Result<Vec<i32>, FetchError> {
	let bytes = get_limited(url, n as usize * 4 + MAX_NPY_HEADER + 12, policy, &[], None).await?;
	let bias = parse_npy_i32_vector(&bytes, url)
		.map_err(|e| FetchError::NotNpy { url: url.to_string(), reason: e.to_string() })?;
	if bias.len() != n as usize || bias_root(&bias).as_ref() != Some(root) {
		return Err(FetchError::Mismatch { url: url.to_string() });
	}
	Ok(bias)
}

/// Largest `model.json` fetched.
pub const MAX_MODEL_JSON: usize = 64 << 10;

/// Whether `name` is a plain `.npy` file name: what a fetched `model.json` may name (never a
/// path: a registrant chooses it).
pub fn is_plain_npy_name(name: &str) -> bool {
	name.len() <= 128
		&& name.ends_with(".npy")
		&& !name.starts_with('.')
		&& name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// A model's files fetched from `url` (`{url}/model.json` and every `.npy` file its layers
/// name, each a plain file name under `url`) into `dir`, by [`get_limited`], no file larger
/// than `--max-input-mib`. The caller checks them against the registration.
pub async fn fetch_model_files(
	url: &str,
	dir: &std::path::Path,
	policy: &FetchPolicy,
) -> Result<(), FetchError> {
	let base = url.trim_end_matches('/');
	let json_url = format!("{base}/model.json");
	let refused = |url: &str, reason: String| FetchError::Request { url: url.to_string(), reason };
	let json = get_limited(&json_url, MAX_MODEL_JSON, policy, &[], None).await?;
	let value: serde_json::Value =
		serde_json::from_slice(&json).map_err(|e| refused(&json_url, format!("not JSON: {e}")))?;
	let mut names = Vec::new();
	for layer in value["layers"].as_array().into_iter().flatten() {
		for key in ["weights", "bias"] {
			if let Some(name) = layer[key].as_str() {
				names.push(name.to_string());
			}
		}
	}
	let most = 2 * proofgrid_primitives::model::MAX_LAYERS as usize;
	if names.len() > most {
		return Err(refused(&json_url, format!("more than {most} files")));
	}
	if let Some(name) = names.iter().find(|name| !is_plain_npy_name(name)) {
		return Err(refused(&json_url, format!("{name:?} is not a plain .npy file name")));
	}
	let write = |path: std::path::PathBuf, bytes: &[u8]| {
		std::fs::write(&path, bytes).map_err(|e| refused(url, format!("{}: {e}", path.display())))
	};
	std::fs::create_dir_all(dir).map_err(|e| refused(url, format!("{}: {e}", dir.display())))?;
	for name in &names {
		let file_url = format!("{base}/{name}");
		let limit = policy.max_bytes.saturating_add(MAX_NPY_HEADER + 12);
		let bytes = get_limited(&file_url, limit, policy, &[], None).await?;
		write(dir.join(name), &bytes)?;
	}
	write(dir.join("model.json"), &json)
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::time::Duration;
	use tokio::io::AsyncReadExt;

	/// Local test servers are private addresses.
	const OPEN: FetchPolicy = FetchPolicy { max_bytes: 1 << 20, private_addresses: true };

	/// A one-shot server that answers `response` and hands back the request's first bytes.
	async fn server(response: Vec<u8>) -> (String, tokio::task::JoinHandle<Vec<u8>>) {
		let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
		let address = listener.local_addr().unwrap().to_string();
		let handle = tokio::spawn(async move {
			use tokio::io::AsyncWriteExt;
			let (mut socket, _) = listener.accept().await.unwrap();
			let mut first = vec![0u8; 3];
			socket.read_exact(&mut first).await.unwrap();
			let mut rest = [0u8; 4096];
			let _ = tokio::time::timeout(Duration::from_millis(200), socket.read(&mut rest)).await;
			let _ = socket.write_all(&response).await;
			first
		});
		(address, handle)
	}

	fn http_ok(body: &[u8]) -> Vec<u8> {
		let mut response =
			format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len()).into_bytes();
		response.extend_from_slice(body);
		response
	}

	#[tokio::test]
	async fn https_urls_are_spoken_to_over_tls() {
		let (address, server) = server(vec![]).await;
		let commitment = MatrixCommitment { lanes: 1, lane_len: 1, root: Default::default() };
		let result =
			fetch_input(&format!("https://{address}/a.npy"), Matrix::A, &commitment, &OPEN).await;
		assert!(matches!(result, Err(FetchError::Request { .. })), "{result:?}");
		// A TLS handshake record (0x16, version 3.x): the client opened a TLS session.
		assert_eq!(server.await.unwrap()[..2], [0x16, 0x03]);
	}

	#[tokio::test]
	async fn a_url_input_is_an_npy_file_of_the_committed_matrix() {
		use proofgrid_client::data::npy_i8_bytes;
		// B = [[1, 2, 3], [4, 5, 6]] (k = 2, n = 3): its lanes are its columns.
		let b = [1i8, 2, 3, 4, 5, 6];
		let columns = [1i8, 4, 2, 5, 3, 6];
		let commitment = MatrixCommitment::of_lanes(columns.chunks(2)).unwrap();
		let (address, _) = server(http_ok(&npy_i8_bytes(2, 3, &b))).await;
		let lanes =
			fetch_input(&format!("http://{address}/b.npy"), Matrix::B, &commitment, &OPEN).await;
		assert_eq!(lanes.unwrap(), columns.iter().map(|&x| x as u8).collect::<Vec<_>>());
		// The same bytes as A: a 2×3 matrix is not the committed 3×2 one.
		let (address, _) = server(http_ok(&npy_i8_bytes(2, 3, &b))).await;
		let wrong =
			fetch_input(&format!("http://{address}/b.npy"), Matrix::A, &commitment, &OPEN).await;
		assert!(matches!(wrong, Err(FetchError::Shape { .. })), "{wrong:?}");
		// Its transpose has the shape of `A` but not the committed lanes.
		let (address, _) = server(http_ok(&npy_i8_bytes(3, 2, &b))).await;
		let other =
			fetch_input(&format!("http://{address}/b.npy"), Matrix::B, &commitment, &OPEN).await;
		assert!(matches!(other, Err(FetchError::Shape { .. })), "{other:?}");
		let (address, _) = server(http_ok(&npy_i8_bytes(2, 3, &[1, 2, 3, 4, 5, 7]))).await;
		let changed =
			fetch_input(&format!("http://{address}/b.npy"), Matrix::B, &commitment, &OPEN).await;
		assert!(matches!(changed, Err(FetchError::Mismatch { .. })), "{changed:?}");
		// Raw bytes are not an `.npy` file; an endless body is cut at the committed size.
		let (address, _) = server(http_ok(&[1, 4, 2, 5, 3, 6])).await;
		let raw = fetch_input(&format!("http://{address}/b"), Matrix::B, &commitment, &OPEN).await;
		assert!(matches!(raw, Err(FetchError::NotNpy { .. })), "{raw:?}");
		let (address, _) = server(http_ok(&vec![0; MAX_NPY_HEADER + 64])).await;
		let huge = fetch_input(&format!("http://{address}/b"), Matrix::B, &commitment, &OPEN).await;
		assert!(matches!(huge, Err(FetchError::TooLarge { .. })), "{huge:?}");
	}

	#[tokio::test]
	async fn a_model_batch_is_the_npy_file_its_client_committed_to() {
		use proofgrid_client::data::npy_i8_bytes;
		// Two images of 2×1 pixels with 3 channels (NHWC), one row per image: four lanes of 3.
		let batch = [1i8, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
		let commitment = MatrixCommitment::of_lanes(batch.chunks(3)).unwrap();
		let fetch = |body: Vec<u8>| async move {
			let (address, _) = server(http_ok(&body)).await;
			fetch_batch(&format!("http://{address}/x.npy"), &commitment, &OPEN).await
		};
		let bytes = fetch(npy_i8_bytes(2, 6, &batch)).await.unwrap();
		assert_eq!(bytes, batch.iter().map(|&x| x as u8).collect::<Vec<_>>());
		// One row per pixel holds the same values in the same order: taken too.
		assert!(fetch(npy_i8_bytes(4, 3, &batch)).await.is_ok());
		// Rows that split a pixel, or another number of values, are refused by shape.
		let split = fetch(npy_i8_bytes(3, 4, &batch)).await;
		assert!(matches!(split, Err(FetchError::Shape { .. })), "{split:?}");
		let short = fetch(npy_i8_bytes(1, 6, &batch[..6])).await;
		assert!(matches!(short, Err(FetchError::Shape { .. })), "{short:?}");
		// One value changed: not the committed batch.
		let mut other = batch;
		other[11] = -12;
		let changed = fetch(npy_i8_bytes(2, 6, &other)).await;
		assert!(matches!(changed, Err(FetchError::Mismatch { .. })), "{changed:?}");
		// A batch larger than the worker takes is not fetched at all.
		let small = FetchPolicy { max_bytes: 8, private_addresses: true };
		let (address, _) = server(http_ok(&npy_i8_bytes(2, 6, &batch))).await;
		let large = fetch_batch(&format!("http://{address}/x.npy"), &commitment, &small).await;
		assert!(matches!(large, Err(FetchError::TooLarge { .. })), "{large:?}");
	}

	#[tokio::test]
	async fn a_chained_layers_rows_and_biases_are_taken_only_as_committed() {
		use proofgrid_client::data::npy_i32_vector_bytes;
		let rows = [1u8, 2, 3, 4, 5, 6];
		let commitment =
			MatrixCommitment::of_lanes([[1i8, 2, 3], [4, 5, 6]].iter().map(|lane| &lane[..]))
				.unwrap();
		let (address, _) = server(http_ok(&rows)).await;
		let url = format!("http://{address}/v1/jobs/3/output");
		assert_eq!(fetch_rows(&url, None, &commitment, &OPEN, &[]).await.unwrap(), rows);
		for served in [&[1u8, 2, 3, 4, 5, 7][..], &rows[..5]] {
			let (address, _) = server(http_ok(served)).await;
			let url = format!("http://{address}/v1/jobs/3/output");
			let wrong = fetch_rows(&url, None, &commitment, &OPEN, &[]).await;
			assert!(matches!(wrong, Err(FetchError::Mismatch { .. })), "{wrong:?}");
		}
		let (address, _) = server(http_ok(&[rows, rows].concat())).await;
		let url = format!("http://{address}/v1/jobs/3/output");
		let long = fetch_rows(&url, None, &commitment, &OPEN, &[]).await;
		assert!(matches!(long, Err(FetchError::TooLarge { .. })), "{long:?}");

		let bias = [i32::MIN, 0, 77];
		let root = bias_root(&bias).unwrap();
		let (address, _) = server(http_ok(&npy_i32_vector_bytes(&bias))).await;
		let url = format!("http://{address}/b.npy");
		assert_eq!(fetch_bias(&url, 3, &root, &OPEN).await.unwrap(), bias);
		let (address, _) = server(http_ok(&npy_i32_vector_bytes(&[i32::MIN, 0, 78]))).await;
		let url = format!("http://{address}/b.npy");
		let wrong = fetch_bias(&url, 3, &root, &OPEN).await;
		assert!(matches!(wrong, Err(FetchError::Mismatch { .. })), "{wrong:?}");
	}

	#[tokio::test]
	async fn private_addresses_redirects_and_oversized_inputs_are_refused() {
		let commitment = MatrixCommitment { lanes: 2, lane_len: 3, root: Default::default() };
		let closed = FetchPolicy { private_addresses: false, ..OPEN };
		for url in ["http://127.0.0.1:9/a.npy", "http://10.1.2.3/a.npy", "http://[::1]:9/a"] {
			let refused = fetch_input(url, Matrix::A, &commitment, &closed).await;
			assert!(matches!(refused, Err(FetchError::Private { .. })), "{url}: {refused:?}");
		}
		// Which addresses are public is `proofgrid_client::endpoint`'s rule, tested there.
		// A redirect is not followed (it could point anywhere).
		let (address, _) = server(
			b"HTTP/1.1 302 Found\r\nlocation: http://10.0.0.1/\r\ncontent-length: 0\r\n\r\n"
				.to_vec(),
		)
		.await;
		let redirected =
			fetch_input(&format!("http://{address}/a"), Matrix::A, &commitment, &OPEN).await;
		assert!(matches!(redirected, Err(FetchError::Request { .. })), "{redirected:?}");
		// A matrix larger than the worker takes is not fetched at all.
		let small = FetchPolicy { max_bytes: 5, ..OPEN };
		let large = fetch_input("http://127.0.0.1:9/a", Matrix::A, &commitment, &small).await;
		assert!(matches!(large, Err(FetchError::TooLarge { limit: 5, .. })), "{large:?}");
	}
}
