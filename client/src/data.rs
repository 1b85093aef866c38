//! Supplied inputs and delivered outputs: upload a job's own matrices to the data service of
//! the device assigned to it (signed by the job's client, checked there against the chain's
//! commitment), and download a computed output, checked here against the committed root
//! before a single value is returned.

use proofgrid_primitives::{
	gemm::{encode_leaf, GemmShape, LEAF_BYTES, LEAF_ELEMENTS, TILE},
	inputs::{inputs_receipt_message, upload_message, MatrixCommitment},
	job::{InputSource, JobId, JobInputs},
	merkle::{hash_leaf, MerkleTree},
};

use crate::{endpoint, grants::DownloadGrant, jobs::JobStatus, runtime, Client, Error, Keypair};

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

/// Most bytes a `.npy` file's header may take; NumPy writes ~128.
pub const MAX_NPY_HEADER: usize = 4 << 10;

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
		let info = self.job(job).await?.ok_or_else(|| Error::Data(format!("no open job {job}")))?;
		let (matrices, a, b) = match &info.spec.0.inputs {
			JobInputs::Supplied { matrices, a, b, .. }
			| JobInputs::Layer { matrices, a, b, .. } => (matrices, a, b),
			JobInputs::Seeded { .. } => {
				return Err(Error::Data(format!("job {job} has seeded inputs")))
			}
		};
		let (commitment, source, name) = match matrix {
			Matrix::A => (matrices.a, a, "a"),
			Matrix::B => (matrices.b, b, "b"),
		};
		// A chained `A` is fetched by the device, or uploaded by the client if it must be.
		let chained_a = matrix == Matrix::A && matches!(source, InputSource::Job(_));
		if *source != InputSource::Upload && !chained_a {
			return Err(Error::Data(format!("input {name} of job {job} comes from a URL")));
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
		let info = self.job(job).await?.ok_or_else(|| Error::Data(format!("no open job {job}")))?;
		let JobInputs::Layer { bias: source, layer, .. } = &info.spec.0.inputs else {
			return Err(Error::Data(format!("job {job} is not a linear-i8 layer")));
		};
		if *source != InputSource::Upload {
			return Err(Error::Data(format!("the biases of job {job} are not uploaded")));
		}
		let body = bias.iter().flat_map(|b| b.to_le_bytes()).collect();
		self.put_input(signer, job, &info.status, "bias", &layer.bias.0, body).await
	}

	/// The receipt of assigned job `job`'s device for every input of the job, from its data
	/// service (`GET /v1/jobs/{job}/inputs/receipt`): the device key's signature of
	/// [`inputs_receipt_message`]`(genesis, job, device)`, checked here. `None` while the device
	/// does not hold them all.
	pub async fn inputs_receipt(&self, job: JobId) -> Result<Option<[u8; 64]>, Error> {
		let info = self.job(job).await?.ok_or_else(|| Error::Data(format!("no open job {job}")))?;
		let JobStatus::Assigned { device, .. } = &info.status else {
			return Err(Error::Data(format!("job {job} is not assigned to a device")));
		};
		let endpoint = self
			.endpoint(device)
			.await?
			.ok_or_else(|| Error::Data("the assigned device publishes no data service".into()))?;
		let url = self.service_url(&endpoint, &format!("v1/jobs/{job}/inputs/receipt"))?;
		let response = self
			.http_to(&url)
			.await?
			.get(url.url.clone())
			.send()
			.await
			.map_err(|e| Error::Data(format!("{url}: {}", with_causes(&e))))?;
		if response.status() == reqwest::StatusCode::CONFLICT {
			return Ok(None);
		}
		if !response.status().is_success() {
			let status = response.status();
			let reason = response.text().await.unwrap_or_default();
			return Err(Error::Data(format!("{url}: {status}: {reason}")));
		}
		let text = response.text().await.map_err(|e| Error::Data(format!("{url}: {e}")))?;
		let signature = hex::decode(text.trim().trim_start_matches("0x"))
			.ok()
			.and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
			.ok_or_else(|| Error::Data(format!("{url}: not a 0x-hex 64-byte signature")))?;
		let message = inputs_receipt_message(&self.genesis_hash().0, job, &device.0);
		let public = sp_core::sr25519::Public::from_raw(device.0);
		let valid = <sp_core::sr25519::Pair as sp_core::Pair>::verify(
			&sp_core::sr25519::Signature::from_raw(signature),
			message,
			&public,
		);
		if !valid {
			return Err(Error::Data(format!("{url}: the receipt is not the device's signature")));
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
			return Err(Error::Data(format!("job {job} is not assigned to a device yet")));
		};
		let endpoint = self
			.endpoint(device)
			.await?
			.ok_or_else(|| Error::Data("the assigned device publishes no data service".into()))?;
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
			.map_err(|e| Error::Data(format!("{endpoint}: {}", with_causes(&e))))?;
		if !response.status().is_success() {
			let status = response.status();
			let reason = response.text().await.unwrap_or_default();
			return Err(Error::Data(format!("{status}: {reason}")));
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
			return Err(Error::Data(format!(
				"{url}: the rows do not match the committed output of job {job}"
			)));
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
			return Err(Error::Data(format!("{url}: {} bytes, not {expected}", bytes.len())));
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
			.map_err(|e| Error::Data(format!("{url}: not a leaf ({e})")))?;
		let path = leaf
			.path
			.iter()
			.map(|h| {
				let bytes = hex::decode(h.trim_start_matches("0x")).ok()?;
				<[u8; 32]>::try_from(bytes).ok()
			})
			.collect::<Option<Vec<[u8; 32]>>>()
			.ok_or_else(|| Error::Data(format!("{url}: a path of non-hashes")))?;
		let hash = hash_leaf(&encode_leaf(&leaf.values));
		proofgrid_primitives::merkle::verify(root, shape.leaf_count(), index, hash, &path)
			.map_err(|e| {
				Error::Data(format!("leaf {index} does not match the committed root ({e:?})"))
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
		.map_err(|e| Error::Data(e.to_string()))
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
	let fail = |e: reqwest::Error| Error::Data(format!("{url}: {}", with_causes(&e)));
	let mut response = request.send().await.map_err(fail)?;
	if !response.status().is_success() {
		let status = response.status();
		let reason = response.text().await.unwrap_or_default();
		return Err(Error::Data(format!("{status}: {reason}")));
	}
	let mut bytes = Vec::with_capacity(max_bytes.min(64 << 20));
	while let Some(chunk) = response.chunk().await.map_err(fail)? {
		if bytes.len() + chunk.len() > max_bytes {
			return Err(Error::Data(format!("{url}: more than the {max_bytes} bytes expected")));
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
	fn service_url(&self, endpoint: &str, path: &str) -> Result<ServiceUrl, Error> {
		let checked = endpoint::check_endpoint(endpoint, self.address_policy())?;
		let joined = format!("{}/{path}", checked.url.as_str().trim_end_matches('/'));
		let url =
			reqwest::Url::parse(&joined).map_err(|e| Error::Data(format!("{joined}: {e}")))?;
		Ok(ServiceUrl { url, cert_sha256: checked.cert_sha256 })
	}

	/// An HTTP client that connects only to `url`'s checked address and accepts only its
	/// pinned certificate ([`endpoint::pinned_client`]).
	async fn http_to(&self, url: &ServiceUrl) -> Result<reqwest::Client, Error> {
		endpoint::pinned_client(&url.url, self.address_policy(), url.cert_sha256).await
	}

	/// The body of a successful `GET url` from a device's data service, presenting `grant`,
	/// refused past `max_bytes`.
	async fn get_at_most(
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
struct ServiceUrl {
	url: reqwest::Url,
	cert_sha256: Option<[u8; 32]>,
}

impl std::fmt::Display for ServiceUrl {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		self.url.fmt(f)
	}
}

/// `C` row-major from an output's leaf values (16 little-endian `i32` per leaf, leaf order),
/// if they are the output committed as `root`.
pub fn output_from_leaves(
	shape: &GemmShape,
	bytes: &[u8],
	root: &[u8; 32],
) -> Result<Vec<i32>, Error> {
	if bytes.len() as u64 != shape.leaf_count() * LEAF_BYTES as u64 {
		return Err(Error::Data(format!(
			"{} bytes for {} leaves of {LEAF_BYTES}",
			bytes.len(),
			shape.leaf_count()
		)));
	}
	let leaves: Vec<[i32; LEAF_ELEMENTS]> = bytes
		.chunks_exact(LEAF_BYTES)
		.map(|leaf| {
			let mut values = [0i32; LEAF_ELEMENTS];
			for (v, b) in values.iter_mut().zip(leaf.chunks_exact(4)) {
				*v = i32::from_le_bytes(b.try_into().expect("4 bytes"));
			}
			values
		})
		.collect();
	let hashes = leaves.iter().map(|l| hash_leaf(&encode_leaf(l))).collect();
	let tree = MerkleTree::from_leaf_hashes(hashes).ok_or(Error::Data("an empty output".into()))?;
	if &tree.root() != root {
		return Err(Error::Data("the output does not match the committed root".into()));
	}
	let (m, n) = (shape.m as usize, shape.n as usize);
	let mut c = vec![0i32; m * n];
	for (index, leaf) in leaves.iter().enumerate() {
		let (tile_row, tile_col) = shape.leaf_tile(index as u64);
		for r in 0..TILE {
			for col in 0..TILE {
				let (i, j) = ((tile_row * TILE + r) as usize, (tile_col * TILE + col) as usize);
				if i < m && j < n {
					c[i * n + j] = leaf[(r * TILE + col) as usize];
				}
			}
		}
	}
	Ok(c)
}

/// A 2-D int8 `.npy` file: its rows, columns and values (row-major). C order only: NumPy
/// writes it by default (`np.ascontiguousarray` otherwise).
pub fn read_npy_i8(path: &std::path::Path) -> Result<(usize, usize, Vec<i8>), Error> {
	let bytes = std::fs::read(path).map_err(|e| Error::Data(format!("{}: {e}", path.display())))?;
	parse_npy_i8(&bytes, &path.display().to_string())
}

/// [`read_npy_i8`] of the bytes of a `.npy` file (`name` says where they came from). Safe on
/// hostile bytes: the header is at most [`MAX_NPY_HEADER`] bytes of printable ASCII nested no
/// deeper than a 2-D file's, and its shape must fit the bytes that follow, all checked before
/// the header is parsed.
pub fn parse_npy_i8(bytes: &[u8], name: &str) -> Result<(usize, usize, Vec<i8>), Error> {
	let fail = |reason: String| Error::Data(format!("{name}: {reason}"));
	let dims = check_npy_header(bytes, 1).map_err(fail)?;
	let [rows, cols] = dims[..] else {
		return Err(fail(format!("shape {dims:?} is not 2-D")));
	};
	let npy = npyz::NpyFile::new(bytes).map_err(|e| fail(e.to_string()))?;
	if npy.shape() != [rows as u64, cols as u64] {
		return Err(fail(format!("shape {:?} is not 2-D", npy.shape())));
	}
	if npy.order() != npyz::Order::C {
		return Err(fail("Fortran order; save it C-contiguous".into()));
	}
	let values =
		npy.into_vec::<i8>().map_err(|e| fail(format!("not int8 ({e}); use A.astype(np.int8)")))?;
	if values.len() != rows * cols {
		return Err(fail(format!("{} values for {rows}×{cols}", values.len())));
	}
	Ok((rows, cols, values))
}

/// A 1-D int32 `.npy` file's values (a layer's biases, `np.save(path, b.astype(np.int32))`),
/// parsed as safely as [`parse_npy_i8`] parses a matrix.
pub fn parse_npy_i32_vector(bytes: &[u8], name: &str) -> Result<Vec<i32>, Error> {
	let fail = |reason: String| Error::Data(format!("{name}: {reason}"));
	let dims = check_npy_header(bytes, 4).map_err(fail)?;
	let [len] = dims[..] else {
		return Err(fail(format!("shape {dims:?} is not 1-D")));
	};
	let npy = npyz::NpyFile::new(bytes).map_err(|e| fail(e.to_string()))?;
	let values = npy
		.into_vec::<i32>()
		.map_err(|e| fail(format!("not int32 ({e}); use b.astype(np.int32)")))?;
	if values.len() != len {
		return Err(fail(format!("{} values for {len}", values.len())));
	}
	Ok(values)
}

/// [`parse_npy_i32_vector`] of a file.
pub fn read_npy_i32_vector(path: &std::path::Path) -> Result<Vec<i32>, Error> {
	let bytes = std::fs::read(path).map_err(|e| Error::Data(format!("{}: {e}", path.display())))?;
	parse_npy_i32_vector(&bytes, &path.display().to_string())
}

/// The shape (one or two sizes) of a `.npy` file of `element_size`-byte values whose header is
/// safe to parse, or why it is not.
fn check_npy_header(bytes: &[u8], element_size: usize) -> Result<Vec<usize>, String> {
	let preamble = bytes.get(..12).ok_or("too short for a .npy file")?;
	if &preamble[..6] != b"\x93NUMPY" {
		return Err("not a .npy file".into());
	}
	let (length, start) = match preamble[6] {
		1 => (u16::from_le_bytes([preamble[8], preamble[9]]) as usize, 10),
		2 | 3 => (u32::from_le_bytes(preamble[8..12].try_into().expect("4 bytes")) as usize, 12),
		version => return Err(format!(".npy format version {version} is unknown")),
	};
	if length > MAX_NPY_HEADER {
		return Err(format!("a header of {length} bytes (at most {MAX_NPY_HEADER})"));
	}
	let header = bytes.get(start..start + length).ok_or("the header is cut short")?;
	// A 2-D file's header nests two deep ({ … ( … ) }): deeper nesting is not one (and would
	// make the parser recurse at the sender's will).
	let mut depth = 0u32;
	for &b in header {
		match b {
			b'{' | b'[' | b'(' => depth += 1,
			b'}' | b']' | b')' => depth = depth.saturating_sub(1),
			b' '..=b'~' | b'\n' => {}
			_ => return Err("a header that is not printable ASCII".into()),
		}
		if depth > 2 {
			return Err("a header nested deeper than a 2-D file's".into());
		}
	}
	let header = std::str::from_utf8(header).map_err(|_| "a header that is not ASCII")?;
	// One spelling of each key, once: the parser below must see the shape checked here.
	if header.contains('"') || header.matches("'shape'").count() != 1 {
		return Err("a header with other than one 'shape' key".into());
	}
	let shape = header
		.split_once("'shape':")
		.and_then(|(_, rest)| rest.trim_start().strip_prefix('('))
		.and_then(|rest| rest.split_once(')'))
		.map(|(dims, _)| dims)
		.ok_or("a header without a shape")?;
	let dims: Vec<usize> = shape
		.split(',')
		.map(str::trim)
		.filter(|d| !d.is_empty())
		.map(|d| d.trim_end_matches('L').parse::<usize>())
		.collect::<Result<_, _>>()
		.map_err(|_| format!("shape ({shape}) is not a list of sizes"))?;
	if !(1..=2).contains(&dims.len()) {
		return Err(format!("shape ({shape}) is not 1-D or 2-D"));
	}
	let body = bytes.len() - start - length;
	let needed = dims.iter().try_fold(element_size, |bytes, &d| bytes.checked_mul(d));
	match needed {
		Some(needed) if needed <= body => Ok(dims),
		_ => Err(format!("shape ({shape}) needs more than the {body} bytes that follow")),
	}
}

/// Fetches the int8 `.npy` matrix at `url` (an input a device will fetch too), reading no
/// further than `max_bytes`, within [`FETCH_TIMEOUT`] of silence.
pub async fn fetch_npy_i8(url: &str, max_bytes: usize) -> Result<(usize, usize, Vec<i8>), Error> {
	let bytes = get_at_most(url, max_bytes).await?;
	let url = url.to_string();
	tokio::task::spawn_blocking(move || parse_npy_i8(&bytes, &url))
		.await
		.map_err(|e| Error::Data(e.to_string()))?
}

/// The `.npy` file of a row-major int8 `rows × cols` matrix (C order).
pub fn npy_i8_bytes(rows: usize, cols: usize, values: &[i8]) -> Vec<u8> {
	use npyz::WriterBuilder;
	let mut bytes = Vec::with_capacity(values.len() + 128);
	let mut writer = npyz::WriteOptions::new()
		.default_dtype()
		.shape(&[rows as u64, cols as u64])
		.writer(&mut bytes)
		.begin_nd()
		.expect("writing to memory");
	writer.extend(values.iter().copied()).expect("writing to memory");
	writer.finish().expect("writing to memory");
	bytes
}

/// The `.npy` file of an int32 vector (a layer's biases).
pub fn npy_i32_vector_bytes(values: &[i32]) -> Vec<u8> {
	use npyz::WriterBuilder;
	let mut bytes = Vec::with_capacity(values.len() * 4 + 128);
	let mut writer = npyz::WriteOptions::new()
		.default_dtype()
		.shape(&[values.len() as u64])
		.writer(&mut bytes)
		.begin_nd()
		.expect("writing to memory");
	writer.extend(values.iter().copied()).expect("writing to memory");
	writer.finish().expect("writing to memory");
	bytes
}

/// The columns of a row-major `rows × cols` matrix, column after column (`B`'s lanes).
pub fn columns_of(values: &[i8], rows: usize, cols: usize) -> Vec<i8> {
	let mut lanes = vec![0i8; rows * cols];
	for r in 0..rows {
		for c in 0..cols {
			lanes[c * rows + r] = values[r * cols + c];
		}
	}
	lanes
}

/// Writes a row-major `rows × cols` int32 matrix as a `.npy` file (C order).
pub fn write_npy_i32(
	path: &std::path::Path,
	rows: usize,
	cols: usize,
	values: &[i32],
) -> Result<(), Error> {
	use npyz::WriterBuilder;
	let fail = |e: std::io::Error| Error::Data(format!("{}: {e}", path.display()));
	let file = std::io::BufWriter::new(std::fs::File::create(path).map_err(fail)?);
	let mut writer = npyz::WriteOptions::new()
		.default_dtype()
		.shape(&[rows as u64, cols as u64])
		.writer(file)
		.begin_nd()
		.map_err(fail)?;
	writer.extend(values.iter().copied()).map_err(fail)?;
	writer.finish().map_err(fail)
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
	fn npy_files_round_trip_and_columns_are_lanes() {
		let dir = std::env::temp_dir().join(format!("pg-npy-{}", std::process::id()));
		std::fs::create_dir_all(&dir).unwrap();
		let c = dir.join("c.npy");
		write_npy_i32(&c, 2, 3, &[1, -2, 3, 4, 5, -6]).unwrap();
		let bytes = std::fs::read(&c).unwrap();
		assert!(bytes.starts_with(b"\x93NUMPY"));
		let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
		assert_eq!(npy.shape(), &[2, 3]);
		assert_eq!(npy.into_vec::<i32>().unwrap(), vec![1, -2, 3, 4, 5, -6]);
		// An int8 file (as `np.save` writes `A.astype(np.int8)`) reads back row-major.
		let a = dir.join("a.npy");
		std::fs::write(&a, npy_i8_bytes(2, 2, &[1, -128, 127, 0])).unwrap();
		assert_eq!(read_npy_i8(&a).unwrap(), (2, 2, vec![1, -128, 127, 0]));
		// A truncated file is refused, not padded.
		let short = npy_i8_bytes(2, 2, &[1, -128, 127, 0]);
		assert!(parse_npy_i8(&short[..short.len() - 1], "short").is_err());
		// Hostile headers are refused before they are parsed.
		let with_header = |header: &str| {
			let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
			bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
			bytes.extend_from_slice(header.as_bytes());
			bytes.extend_from_slice(&[0; 4]);
			parse_npy_i8(&bytes, "hostile").unwrap_err().to_string()
		};
		let deep = format!("{{'descr': '|i1', 'x': {}, 'shape': (2, 2), }}", "[".repeat(100_000));
		assert!(with_header(&deep[..4000]).contains("nested deeper"));
		let huge = "{'descr': '|i1', 'fortran_order': False, 'shape': (4294967296, 4294967296), }";
		assert!(with_header(huge).contains("needs more than the 4 bytes"));
		let three = "{'descr': '|i1', 'fortran_order': False, 'shape': (1, 2, 2), }";
		assert!(with_header(three).contains("not 1-D or 2-D"));
		let twice = "{'descr': '|i1', 'shape': (1, 1), 'shape': (4294967296, 4294967296), }";
		assert!(with_header(twice).contains("one 'shape'"));
		let quoted = "{\"descr\": '|i1', 'shape': (1, 1), \"shape\": (65536, 65536), }";
		assert!(with_header(quoted).contains("one 'shape'"));
		let mut long = b"\x93NUMPY\x02\x00".to_vec();
		long.extend_from_slice(&u32::MAX.to_le_bytes());
		assert!(parse_npy_i8(&long, "long").unwrap_err().to_string().contains("at most"));
		// B's lanes are its columns; A's its rows.
		assert_eq!(Matrix::B.lanes(2, 3, vec![1, 2, 3, 4, 5, 6]), vec![1, 4, 2, 5, 3, 6]);
		assert_eq!(Matrix::A.lanes(2, 3, vec![1, 2, 3, 4, 5, 6]), vec![1, 2, 3, 4, 5, 6]);
		assert_eq!((Matrix::A.lane_shape(2, 3), Matrix::B.lane_shape(2, 3)), ((2, 3), (3, 2)));
		// An int32 file is not an int8 input.
		assert!(read_npy_i8(&c).unwrap_err().to_string().contains("not int8"));
		assert_eq!(columns_of(&[1, 2, 3, 4, 5, 6], 2, 3), vec![1, 4, 2, 5, 3, 6]);
		std::fs::remove_dir_all(&dir).unwrap();
	}

	#[test]
	fn biases_read_as_a_safe_int32_vector() {
		use npyz::WriterBuilder;
		let vector = |values: &[i32]| {
			let mut bytes = Vec::new();
			let mut writer = npyz::WriteOptions::new()
				.default_dtype()
				.shape(&[values.len() as u64])
				.writer(&mut bytes)
				.begin_nd()
				.unwrap();
			writer.extend(values.iter().copied()).unwrap();
			writer.finish().unwrap();
			bytes
		};
		let bias = [i32::MIN, -1, 0, 7, i32::MAX];
		assert_eq!(parse_npy_i32_vector(&vector(&bias), "b").unwrap(), bias);
		// Cut short by one byte: a length that needs more bytes than follow.
		let bytes = vector(&bias);
		let short = parse_npy_i32_vector(&bytes[..bytes.len() - 1], "b").unwrap_err();
		assert!(short.to_string().contains("needs more than"), "{short}");
		// An int8 matrix is neither 1-D nor int32; an int32 vector is not a matrix.
		let matrix = npy_i8_bytes(2, 2, &[1, 2, 3, 4]);
		assert!(parse_npy_i32_vector(&matrix, "m").is_err());
		assert!(parse_npy_i8(&vector(&bias), "v").unwrap_err().to_string().contains("not 2-D"));
		let int8_vector = b"\x93NUMPY\x01\x00\x46\x00{'descr': '|i1', 'fortran_order': False, 'shape': (4,), }                      \n\x01\x02\x03\x04";
		assert!(parse_npy_i32_vector(int8_vector, "i8").is_err());
	}
}
