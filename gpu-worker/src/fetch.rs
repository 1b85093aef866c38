//! Inputs a client serves at a URL, as int8 `.npy` files: fetched by the device that claimed the
//! job, no more than the committed size, within a timeout, and kept only if they match the
//! committed lane root.

use std::time::Duration;

use proofgrid_client::data::{parse_npy_i8, Matrix, MAX_NPY_HEADER};
use proofgrid_primitives::inputs::MatrixCommitment;

/// How long one fetch may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a URL's bytes were not taken.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
	/// The request failed (unreachable, timeout, not a success status).
	#[error("fetching {url}: {reason}")]
	Request { url: String, reason: String },
	/// More bytes than an `.npy` file of the committed matrix holds.
	#[error("{url} served more than {limit} bytes; the committed matrix's .npy file is smaller")]
	TooLarge { url: String, limit: usize },
	/// Not a 2-D int8 `.npy` file.
	#[error("{url}: {reason}")]
	NotNpy { url: String, reason: String },
	/// A matrix of another shape than committed.
	#[error("{url} holds a {rows}×{cols} matrix; the job commits {matrix:?} as {expected}")]
	Shape { url: String, matrix: Matrix, rows: usize, cols: usize, expected: String },
	/// The bytes are not the committed matrix.
	#[error("{url} served a matrix that does not match the job's commitment (lane root)")]
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

/// The lanes of input `matrix`, committed as `commitment`, fetched from `url` as an int8
/// `.npy` file (`A` as m×k, `B` as k×n, as NumPy holds them): no further than that file's
/// size, checked against the commitment.
pub async fn fetch_input(
	url: &str,
	matrix: Matrix,
	commitment: &MatrixCommitment,
) -> Result<Vec<u8>, FetchError> {
	let request = |reason: String| FetchError::Request { url: url.to_string(), reason };
	let (lanes, lane_len) = (commitment.lanes as usize, commitment.lane_len as usize);
	let limit = lanes * lane_len + MAX_NPY_HEADER;
	let client = reqwest::Client::builder()
		.timeout(FETCH_TIMEOUT)
		.build()
		.map_err(|e| request(e.to_string()))?;
	let mut response = client.get(url).send().await.map_err(|e| request(e.to_string()))?;
	if !response.status().is_success() {
		return Err(request(response.status().to_string()));
	}
	// Read no further than the committed size, whatever the server announces.
	let mut bytes = Vec::with_capacity(limit.min(64 << 20));
	while let Some(chunk) = response.chunk().await.map_err(|e| request(e.to_string()))? {
		if bytes.len() + chunk.len() > limit {
			return Err(FetchError::TooLarge { url: url.to_string(), limit });
		}
		bytes.extend_from_slice(&chunk);
	}
	let (rows, cols, values) = parse_npy_i8(&bytes[..], url)
		.map_err(|e| FetchError::NotNpy { url: url.to_string(), reason: e.to_string() })?;
	if matrix.lane_shape(rows, cols) != (lanes, lane_len) {
		let expected = match matrix {
			Matrix::A => format!("{lanes}×{lane_len}"),
			Matrix::B => format!("{lane_len}×{lanes}"),
		};
		return Err(FetchError::Shape { url: url.to_string(), matrix, rows, cols, expected });
	}
	let lanes: Vec<u8> = matrix.lanes(rows, cols, values).into_iter().map(|x| x as u8).collect();
	if !matches_commitment(lanes.clone().into(), *commitment).await {
		return Err(FetchError::Mismatch { url: url.to_string() });
	}
	Ok(lanes)
}

#[cfg(test)]
mod tests {
	use super::*;
	use tokio::io::AsyncReadExt;

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
		let result = fetch_input(&format!("https://{address}/a.npy"), Matrix::A, &commitment).await;
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
		let lanes = fetch_input(&format!("http://{address}/b.npy"), Matrix::B, &commitment).await;
		assert_eq!(lanes.unwrap(), columns.iter().map(|&x| x as u8).collect::<Vec<_>>());
		// The same bytes as A: a 2×3 matrix is not the committed 3×2 one.
		let (address, _) = server(http_ok(&npy_i8_bytes(2, 3, &b))).await;
		let wrong = fetch_input(&format!("http://{address}/b.npy"), Matrix::A, &commitment).await;
		assert!(matches!(wrong, Err(FetchError::Shape { .. })), "{wrong:?}");
		// Its transpose has the shape of `A` but not the committed lanes.
		let (address, _) = server(http_ok(&npy_i8_bytes(3, 2, &b))).await;
		let other = fetch_input(&format!("http://{address}/b.npy"), Matrix::B, &commitment).await;
		assert!(matches!(other, Err(FetchError::Shape { .. })), "{other:?}");
		let (address, _) = server(http_ok(&npy_i8_bytes(2, 3, &[1, 2, 3, 4, 5, 7]))).await;
		let changed = fetch_input(&format!("http://{address}/b.npy"), Matrix::B, &commitment).await;
		assert!(matches!(changed, Err(FetchError::Mismatch { .. })), "{changed:?}");
		// Raw bytes are not an `.npy` file; an endless body is cut at the committed size.
		let (address, _) = server(http_ok(&[1, 4, 2, 5, 3, 6])).await;
		let raw = fetch_input(&format!("http://{address}/b"), Matrix::B, &commitment).await;
		assert!(matches!(raw, Err(FetchError::NotNpy { .. })), "{raw:?}");
		let (address, _) = server(http_ok(&vec![0; MAX_NPY_HEADER + 7])).await;
		let huge = fetch_input(&format!("http://{address}/b"), Matrix::B, &commitment).await;
		assert!(matches!(huge, Err(FetchError::TooLarge { .. })), "{huge:?}");
	}
}
