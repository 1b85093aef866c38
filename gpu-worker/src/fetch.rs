//! Inputs a client serves at a URL: fetched by the device that claimed the job, no more than
//! the committed size, within a timeout, and kept only if they match the committed lane root.

use std::time::Duration;

use proofgrid_primitives::inputs::MatrixCommitment;

/// How long one fetch may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a URL's bytes were not taken.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
	/// The request failed (unreachable, timeout, not a success status).
	#[error("fetching {url}: {reason}")]
	Request { url: String, reason: String },
	/// More or fewer bytes than the commitment's lanes hold.
	#[error("{url} served {got} bytes or more, the commitment holds {expected}")]
	Size { url: String, got: usize, expected: usize },
	/// The bytes are not the committed matrix.
	#[error("{url} served bytes that do not match the job's commitment (lane root)")]
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

/// The lanes of the matrix committed as `commitment`, fetched from `url`.
pub async fn fetch_input(url: &str, commitment: &MatrixCommitment) -> Result<Vec<u8>, FetchError> {
	let request = |reason: String| FetchError::Request { url: url.to_string(), reason };
	let expected = commitment.lanes as usize * commitment.lane_len as usize;
	let client = reqwest::Client::builder()
		.timeout(FETCH_TIMEOUT)
		.build()
		.map_err(|e| request(e.to_string()))?;
	let mut response = client.get(url).send().await.map_err(|e| request(e.to_string()))?;
	if !response.status().is_success() {
		return Err(request(response.status().to_string()));
	}
	// Read no further than the committed size, whatever the server announces.
	let mut bytes = Vec::with_capacity(expected.min(64 << 20));
	while let Some(chunk) = response.chunk().await.map_err(|e| request(e.to_string()))? {
		if bytes.len() + chunk.len() > expected {
			let got = bytes.len() + chunk.len();
			return Err(FetchError::Size { url: url.to_string(), got, expected });
		}
		bytes.extend_from_slice(&chunk);
	}
	if bytes.len() != expected {
		return Err(FetchError::Size { url: url.to_string(), got: bytes.len(), expected });
	}
	if !matches_commitment(bytes.clone().into(), *commitment).await {
		return Err(FetchError::Mismatch { url: url.to_string() });
	}
	Ok(bytes)
}
