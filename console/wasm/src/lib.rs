//! The web console's bindings to ProofGrid's primitives (`wasm-bindgen`).
//!
//! The console commits to a client's matrices, checks a downloaded output against the root a
//! device committed on chain, runs Freivalds' check and builds the messages a client signs
//! with the same code as the runtime, the worker and the Rust SDK: each binding here only
//! converts between JavaScript's typed arrays and a `proofgrid_primitives` call. Nothing here
//! talks to a node or a device: the TypeScript side does, and hands the bytes over.
//!
//! Errors are returned as strings (thrown in JavaScript as the message a person reads), so the
//! same functions are unit-tested natively against the primitives they wrap.

#![no_std]
extern crate alloc;

use alloc::{format, string::String, vec::Vec};
use proofgrid_primitives::{
	challenge::pass_probability,
	check::{freivalds, DEFAULT_ROUNDS},
	gemm::{columns_of, output_of_leaf_bytes, GemmShape, OutputError, ShapeError},
	inputs::{
		download_message as download_msg, inputs_receipt_message as receipt_msg,
		upload_message as upload_msg, Download, MatrixCommitment,
	},
	net::is_public,
};
use wasm_bindgen::prelude::wasm_bindgen;

/// A checked GEMM shape, or why it is refused (the chain's own bounds).
fn shape(m: u32, n: u32, k: u32) -> Result<GemmShape, String> {
	let shape = GemmShape { m, n, k };
	shape.validate().map_err(|e| match e {
		ShapeError::Empty => String::from("a dimension is zero"),
		ShapeError::InnerTooLarge => format!("k = {k} is above the largest inner dimension"),
		ShapeError::OuterTooLarge => format!("{m}×{n} is above the largest output"),
	})?;
	Ok(shape)
}

fn hash32(bytes: &[u8], what: &str) -> Result<[u8; 32], String> {
	bytes.try_into().map_err(|_| format!("{what} must be 32 bytes, not {}", bytes.len()))
}

/// The lanes a matrix is committed, uploaded and checked in: a row-major `rows × cols` `A`
/// as its rows (`role` "a"), `B` as its columns (`role` "b").
#[wasm_bindgen]
pub fn lanes(role: &str, values: &[i8], rows: u32, cols: u32) -> Result<Vec<i8>, String> {
	if values.len() != rows as usize * cols as usize {
		return Err(format!("{} values for a {rows}×{cols} matrix", values.len()));
	}
	match role {
		"a" => Ok(values.to_vec()),
		"b" => Ok(columns_of(values, rows as usize, cols as usize)),
		other => Err(format!("a matrix is \"a\" or \"b\", not {other:?}")),
	}
}

/// The Merkle root (32 bytes) committing to `lanes`, `lane_len` values each: the `root` of
/// a supplied matrix's `MatrixCommitment` in a job's spec.
#[wasm_bindgen]
pub fn lanes_root(lanes: &[i8], lane_len: u32) -> Result<Vec<u8>, String> {
	if lane_len == 0 || lanes.is_empty() || !lanes.len().is_multiple_of(lane_len as usize) {
		return Err(format!("{} values are not lanes of {lane_len}", lanes.len()));
	}
	let commitment = MatrixCommitment::of_lanes(lanes.chunks(lane_len as usize))
		.ok_or_else(|| String::from("no lanes to commit to"))?;
	Ok(commitment.root.0.to_vec())
}

/// `C` (m×n, row-major) from a device's output bytes, if they are the output committed as
/// `root`; otherwise why not.
#[wasm_bindgen]
pub fn output_of_leaves(
	m: u32,
	n: u32,
	k: u32,
	bytes: &[u8],
	root: &[u8],
) -> Result<Vec<i32>, String> {
	let shape = shape(m, n, k)?;
	output_of_leaf_bytes(&shape, bytes, &hash32(root, "the root")?).map_err(|e| match e {
		OutputError::Length(found, expected) => {
			format!("the device sent {found} bytes where the output has {expected}")
		}
		OutputError::Root => {
			String::from("the output does not match the root the device committed on chain")
		}
	})
}

/// One element where `C ≠ A·B`.
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WrongElement {
	/// Row of `C`.
	pub row: u32,
	/// Column of `C`.
	pub column: u32,
	/// `A`'s row times `B`'s column.
	pub expected: i32,
	/// What `C` holds there.
	pub found: i32,
}

/// Freivalds' check of `C = A·B` (`DEFAULT_ROUNDS` rounds from `seed`): `None` when it holds,
/// else one wrong element. `rows` are `A`'s lanes and `columns` `B`'s, `k` values each.
#[wasm_bindgen]
pub fn check_product(
	rows: &[i8],
	columns: &[i8],
	c: &[i32],
	k: u32,
	seed: u64,
) -> Result<Option<WrongElement>, String> {
	let k_ = k as usize;
	if k == 0 || !rows.len().is_multiple_of(k_) || !columns.len().is_multiple_of(k_) {
		return Err(format!("lanes of {k} values expected"));
	}
	shape((rows.len() / k_) as u32, (columns.len() / k_) as u32, k)?;
	if c.len() != (rows.len() / k_) * (columns.len() / k_) {
		return Err(format!("C has {} values, not m·n", c.len()));
	}
	Ok(freivalds(rows, columns, c, k_, seed, DEFAULT_ROUNDS).err().map(|w| WrongElement {
		row: w.row as u32,
		column: w.column as u32,
		expected: w.expected,
		found: w.found,
	}))
}

/// What a job's client signs to upload the input committed as `root` to `device`.
#[wasm_bindgen]
pub fn upload_message(
	genesis: &[u8],
	device: &[u8],
	job: u64,
	root: &[u8],
) -> Result<Vec<u8>, String> {
	Ok(upload_msg(
		&hash32(genesis, "the genesis hash")?,
		&hash32(device, "the device")?,
		job,
		&hash32(root, "the root")?,
	)
	.to_vec())
}

/// What a device signs once it holds a job's inputs (its receipt, checked before it goes on
/// chain).
#[wasm_bindgen]
pub fn inputs_receipt_message(genesis: &[u8], job: u64, device: &[u8]) -> Result<Vec<u8>, String> {
	Ok(receipt_msg(&hash32(genesis, "the genesis hash")?, job, &hash32(device, "the device")?)
		.to_vec())
}

/// What a job's client signs to download the job's whole output until UNIX time `expiry`.
#[wasm_bindgen]
pub fn output_grant_message(
	genesis: &[u8],
	device: &[u8],
	job: u64,
	expiry: u64,
) -> Result<Vec<u8>, String> {
	Ok(download_msg(
		&hash32(genesis, "the genesis hash")?,
		&hash32(device, "the device")?,
		job,
		Download::Output,
		expiry,
	)
	.to_vec())
}

/// Why the page must not send a job's data to a device's data service at `scheme://host`
/// (`host` as in a URL: a name, an IPv4 address or a bracketed IPv6 one), reached through the
/// node at `node_host`; `None` when it may. A device on a public chain that publishes a
/// private, loopback or link-local address would have the user's own browser send requests
/// into the user's network; plain `http` would send the user's matrices unencrypted across the
/// internet. Both are allowed when the node itself is on such an address (a dev chain, a test
/// network), as the CLI's `--allow-private-endpoints` allows them. A name is taken as public:
/// the browser resolves it, not this page.
#[wasm_bindgen]
pub fn data_service_refusal(scheme: &str, host: &str, node_host: &str) -> Option<String> {
	let public = |host: &str| -> bool {
		let bare = host.trim_start_matches('[').trim_end_matches(']');
		if bare.eq_ignore_ascii_case("localhost")
			|| bare.to_ascii_lowercase().ends_with(".localhost")
		{
			return false;
		}
		bare.parse::<core::net::IpAddr>().map(is_public).unwrap_or(true)
	};
	if !public(node_host) {
		return None;
	}
	if !public(host) {
		return Some(format!(
			"the device's data service is at {host}, a private address: on a public chain this page sends nothing into your own network"
		));
	}
	if scheme != "https" {
		return Some(format!("the device's data service is {scheme}://{host}: your matrices would cross the internet unencrypted"));
	}
	None
}

/// Work units of an m×n×k product (10⁹ multiply-adds each, rounded down), before the chain's
/// minimum.
#[wasm_bindgen]
pub fn work_units(m: u32, n: u32, k: u32) -> Result<u64, String> {
	Ok(shape(m, n, k)?.work_units())
}

/// Probability that a device which faked a fraction `f` of the output passes `samples`
/// on-chain samples.
#[wasm_bindgen]
pub fn pass_chance(f: f64, samples: u32) -> f64 {
	pass_probability(f, samples)
}

#[cfg(test)]
mod tests {
	//! Each binding against the primitive it wraps: the same roots, outputs, verdicts and
	//! messages the runtime, the worker and the SDK compute.
	use super::*;
	use alloc::vec;
	use proofgrid_primitives::{
		gemm::{dot, encode_leaf, leaves_of, mix64},
		merkle::{hash_leaf, MerkleTree},
	};

	/// A ragged product (no dimension a multiple of the 4×4 tile) at the int8 extremes.
	const M: u32 = 7;
	const N: u32 = 5;
	const K: u32 = 9;

	fn matrix(len: u32, salt: u64) -> Vec<i8> {
		(0..len as u64)
			.map(|i| match i % 5 {
				0 => -128,
				1 => 127,
				_ => (mix64(i ^ salt) >> 56) as i8,
			})
			.collect()
	}

	/// `A·B` the plain way, row-major.
	fn product(a: &[i8], b: &[i8]) -> Vec<i32> {
		let (m, n, k) = (M as usize, N as usize, K as usize);
		let mut c = vec![0i32; m * n];
		for i in 0..m {
			for j in 0..n {
				c[i * n + j] = (0..k).map(|x| a[i * k + x] as i32 * b[x * n + j] as i32).sum();
			}
		}
		c
	}

	fn shape() -> GemmShape {
		GemmShape { m: M, n: N, k: K }
	}

	fn root_of(c: &[i32]) -> [u8; 32] {
		let hashes = leaves_of(&shape(), c).iter().map(|l| hash_leaf(&encode_leaf(l))).collect();
		MerkleTree::from_leaf_hashes(hashes).unwrap().root()
	}

	fn leaf_bytes(c: &[i32]) -> Vec<u8> {
		leaves_of(&shape(), c).iter().flat_map(encode_leaf).collect()
	}

	#[test]
	fn lanes_and_roots_are_the_commitments_of_the_primitives() {
		let (a, b) = (matrix(M * K, 1), matrix(K * N, 2));
		let a_lanes = lanes("a", &a, M, K).unwrap();
		let b_lanes = lanes("b", &b, K, N).unwrap();
		assert_eq!(a_lanes, a);
		// B's lane c is its column c.
		assert_eq!(
			b_lanes[..K as usize],
			(0..K as usize).map(|r| b[r * N as usize]).collect::<Vec<_>>()
		);
		let want = MatrixCommitment::of_lanes(b_lanes.chunks(K as usize)).unwrap();
		assert_eq!(lanes_root(&b_lanes, K).unwrap(), want.root.0.to_vec());
		let want = MatrixCommitment::of_lanes(a.chunks(K as usize)).unwrap();
		assert_eq!(lanes_root(&a_lanes, K).unwrap(), want.root.0.to_vec());
		assert!(lanes("c", &a, M, K).is_err());
		assert!(lanes("a", &a, M, K + 1).is_err());
		assert!(lanes_root(&a_lanes[1..], K).is_err());
		assert!(lanes_root(&[], K).is_err());
	}

	#[test]
	fn an_output_is_read_only_if_it_is_the_committed_one() {
		let (a, b) = (matrix(M * K, 3), matrix(K * N, 4));
		let c = product(&a, &b);
		let (bytes, root) = (leaf_bytes(&c), root_of(&c));
		assert_eq!(output_of_leaves(M, N, K, &bytes, &root).unwrap(), c);

		let mut tampered = bytes.clone();
		tampered[5] ^= 1;
		let refused = output_of_leaves(M, N, K, &tampered, &root).unwrap_err();
		assert!(refused.contains("does not match the root"), "{refused}");
		let short = output_of_leaves(M, N, K, &bytes[..64], &root).unwrap_err();
		assert_eq!(short, "the device sent 64 bytes where the output has 256");
		assert!(output_of_leaves(M, N, K, &bytes, &root[..31]).is_err());
		assert!(output_of_leaves(0, N, K, &bytes, &root).is_err());
	}

	#[test]
	fn the_check_passes_the_product_and_names_a_wrong_element() {
		let (a, b) = (matrix(M * K, 5), matrix(K * N, 6));
		let (rows, columns) = (lanes("a", &a, M, K).unwrap(), lanes("b", &b, K, N).unwrap());
		let mut c = product(&a, &b);
		assert_eq!(check_product(&rows, &columns, &c, K, 42).unwrap(), None);

		c[3 * N as usize + 2] += 1;
		let wrong = check_product(&rows, &columns, &c, K, 42).unwrap().expect("caught");
		let expected =
			dot(&rows[3 * K as usize..4 * K as usize], &columns[2 * K as usize..3 * K as usize]);
		assert_eq!(wrong, WrongElement { row: 3, column: 2, expected, found: expected + 1 });
		assert_eq!(
			freivalds(&rows, &columns, &c, K as usize, 42, DEFAULT_ROUNDS).unwrap_err().row,
			wrong.row as usize
		);
		assert!(check_product(&rows, &columns, &c[1..], K, 42).is_err());
		assert!(check_product(&rows, &columns, &c, 0, 42).is_err());
	}

	#[test]
	fn the_signed_messages_are_the_primitives_messages() {
		let (genesis, device, root) = ([1u8; 32], [2u8; 32], [3u8; 32]);
		assert_eq!(
			upload_message(&genesis, &device, 9, &root).unwrap(),
			upload_msg(&genesis, &device, 9, &root)
		);
		assert_eq!(
			inputs_receipt_message(&genesis, 9, &device).unwrap(),
			receipt_msg(&genesis, 9, &device)
		);
		assert_eq!(
			output_grant_message(&genesis, &device, 9, 1_700_000_000).unwrap(),
			download_msg(&genesis, &device, 9, Download::Output, 1_700_000_000)
		);
		assert!(upload_message(&genesis[..31], &device, 9, &root).is_err());
	}

	#[test]
	fn a_public_chains_device_gets_data_only_at_a_public_https_address() {
		let public_node = "rpc.example.org";
		for private in [
			"127.0.0.1",
			"10.1.2.3",
			"192.168.0.10",
			"172.20.0.1",
			"169.254.1.1",
			"[::1]",
			"[fd00::1]",
			"[::ffff:10.0.0.1]",
			"localhost",
			"0.0.0.0",
		] {
			let why = data_service_refusal("https", private, public_node).expect(private);
			assert!(why.contains("private address"), "{private}: {why}");
		}
		let why = data_service_refusal("http", "8.8.8.8", public_node).unwrap();
		assert!(why.contains("unencrypted"), "{why}");
		assert_eq!(data_service_refusal("https", "8.8.8.8", public_node), None);
		assert_eq!(data_service_refusal("https", "device.example.org", "51.15.1.1"), None);
		// A dev chain or test network on loopback or a private network: its devices are too.
		for node in ["127.0.0.1", "localhost", "192.168.1.5", "[::1]"] {
			assert_eq!(data_service_refusal("http", "127.0.0.1", node), None, "{node}");
			assert_eq!(data_service_refusal("http", "10.0.0.7", node), None, "{node}");
		}
	}

	#[test]
	fn units_and_pass_chances_are_the_chains() {
		// 2·m·n·k operations, 10⁹ to a unit, rounded down.
		assert_eq!(work_units(1024, 1024, 1024).unwrap(), 2);
		assert_eq!(work_units(2048, 2048, 2048).unwrap(), 17);
		assert!(work_units(1, 1, 65_537).is_err());
		assert_eq!(pass_chance(0.1, 64), pass_probability(0.1, 64));
		assert!((pass_chance(0.5, 2) - 0.25).abs() < 1e-12);
	}
}
