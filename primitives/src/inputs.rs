//! Supplied inputs: a client's own matrices. On chain each matrix is only a commitment — its
//! shape and the Merkle root over its **lanes** (the rows of `A`, the columns of `B`: the
//! vectors one output element is the dot product of). A lane is one leaf, so one row of `A`
//! and one column of `B` with their paths prove the two vectors behind any element of `C`.
//!
//! - lane hash = `blake2_256(0x02 ‖ the lane's k bytes)` (`i8` as bytes), domain-separated
//!   from output leaves (`0x00`) and inner nodes (`0x01`) of [`crate::merkle`];
//! - the tree over a matrix's lane hashes is [`crate::merkle`]'s, in lane order.
//!
//! A reveal for supplied inputs answers each challenged output leaf with a [`SuppliedSample`]:
//! the leaf's 16 values with their path to the output root, and the row of `A` and column of
//! `B` of one element of it — chosen by the challenge, not the provider — with their paths to
//! the input roots. The chain checks the three paths, that cells past the edge of `C` are zero,
//! and recomputes the element ([`crate::gemm::dot`]). About `2k` bytes per sample, plus paths.

use alloc::vec::Vec;
use codec::{Compact, CompactLen, Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::{ConstU32, H256};
use sp_crypto_hashing::blake2_256;
use sp_runtime::BoundedVec;

use crate::{
	gemm::{dot, encode_leaf, GemmShape, ShapeError, LEAF_ELEMENTS, MAX_K, TILE},
	merkle::{self, hash_leaf, Hash32, MerklePath, MerkleTree, ProofError},
};

/// Domain tag of lane hashes.
pub const LANE_PREFIX: u8 = 0x02;

/// Domain tag of the message a client signs to upload a job's input.
pub const UPLOAD_TAG: &[u8] = b"proofgrid/upload/v2";

/// What a job's client signs (sr25519, with its account key) to upload the input committed as
/// `root` to `device`, the device assigned to job `job` on the chain whose genesis is
/// `genesis`: the device takes bytes for a job only from its client, and only the bytes
/// committed on chain; the signature is good for that chain, device, job and input only.
pub fn upload_message(
	genesis: &[u8; 32],
	device: &[u8; 32],
	job: u64,
	root: &[u8; 32],
) -> [u8; 32] {
	let mut data = Vec::with_capacity(UPLOAD_TAG.len() + 104);
	data.extend_from_slice(UPLOAD_TAG);
	data.extend_from_slice(genesis);
	data.extend_from_slice(device);
	data.extend_from_slice(&job.to_le_bytes());
	data.extend_from_slice(root);
	blake2_256(&data)
}

/// Domain tag of a device's receipt for a job's inputs.
pub const INPUTS_RECEIPT_TAG: &[u8] = b"proofgrid/inputs-received/v1";

/// What a device signs (with its device key) once it holds every input of job `job` on the
/// chain whose genesis is `genesis`. Its client puts the signature on chain
/// (`Jobs::confirm_inputs`): from then on the chain knows the inputs arrived, and the device
/// can no longer give the job back for free.
pub fn inputs_receipt_message(genesis: &[u8; 32], job: u64, device: &[u8; 32]) -> [u8; 32] {
	let mut data = Vec::with_capacity(INPUTS_RECEIPT_TAG.len() + 72);
	data.extend_from_slice(INPUTS_RECEIPT_TAG);
	data.extend_from_slice(genesis);
	data.extend_from_slice(&job.to_le_bytes());
	data.extend_from_slice(device);
	blake2_256(&data)
}

/// Domain tag of the message that grants a download from a device's data service.
pub const DOWNLOAD_TAG: &[u8] = b"proofgrid/download/v1";

/// The longest a download grant may run: a leaked grant is good for an hour at most.
pub const MAX_DOWNLOAD_GRANT_SECS: u64 = 3_600;

/// What of a job's output a download grant is for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Download {
	/// The whole output: a GEMM's values, or a layer's `Y` rows.
	Output = 0,
	/// A layer's int32 accumulators.
	Accumulators = 1,
	/// Single leaves of a GEMM's output, with their Merkle paths.
	Leaves = 2,
}

impl Download {
	/// Its name in the data service's paths and messages.
	pub fn name(self) -> &'static str {
		match self {
			Self::Output => "output",
			Self::Accumulators => "accumulators",
			Self::Leaves => "leaves",
		}
	}
}

/// What is signed (sr25519) to download `what` of job `job`'s output from `device` on the
/// chain whose genesis is `genesis`, until UNIX time `expiry` (seconds). Signed by the job's
/// client it is a grant: whoever holds it may download until it expires (at most
/// [`MAX_DOWNLOAD_GRANT_SECS`] ahead). Signed by the device of a job of the same client whose
/// `A` is this job's output, it is that device's request for its input.
pub fn download_message(
	genesis: &[u8; 32],
	device: &[u8; 32],
	job: u64,
	what: Download,
	expiry: u64,
) -> [u8; 32] {
	let mut data = Vec::with_capacity(DOWNLOAD_TAG.len() + 81);
	data.extend_from_slice(DOWNLOAD_TAG);
	data.extend_from_slice(genesis);
	data.extend_from_slice(device);
	data.extend_from_slice(&job.to_le_bytes());
	data.push(what as u8);
	data.extend_from_slice(&expiry.to_le_bytes());
	blake2_256(&data)
}

/// Domain tag of the draw of a sample's element.
const ELEMENT_TAG: &[u8] = b"proofgrid/element";

/// One lane of a supplied matrix, as revealed: at most [`MAX_K`] elements.
pub type Lane = BoundedVec<i8, ConstU32<MAX_K>>;

/// Hash of a lane's elements.
pub fn hash_lane(lane: &[i8]) -> Hash32 {
	let mut data = Vec::with_capacity(lane.len() + 1);
	data.push(LANE_PREFIX);
	data.extend(lane.iter().map(|&x| x as u8));
	blake2_256(&data)
}

/// [`hash_lane`] of a lane given as its bytes (`i8` as `u8`, as uploaded).
pub fn hash_lane_bytes(lane: &[u8]) -> Hash32 {
	let mut data = Vec::with_capacity(lane.len() + 1);
	data.push(LANE_PREFIX);
	data.extend_from_slice(lane);
	blake2_256(&data)
}

/// A supplied matrix as the chain knows it.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
pub struct MatrixCommitment {
	/// Number of lanes: rows of `A` (`m`), columns of `B` (`n`).
	pub lanes: u32,
	/// Elements per lane: the inner dimension `k`.
	pub lane_len: u32,
	/// Merkle root over the lane hashes, in lane order.
	pub root: H256,
}

/// Why a lane is refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LaneError {
	/// The lane does not have the committed number of elements.
	WrongLength,
	/// Its path does not prove it at its index (see [`ProofError`]).
	Path(ProofError),
}

impl MatrixCommitment {
	/// The commitment of a matrix given as its lanes (all of one length); `None` for no lanes,
	/// empty lanes or lanes of different lengths.
	pub fn of_lanes<'a>(lanes: impl IntoIterator<Item = &'a [i8]>) -> Option<Self> {
		let mut lane_len = None;
		let mut hashes = Vec::new();
		for lane in lanes {
			if lane.is_empty() || *lane_len.get_or_insert(lane.len()) != lane.len() {
				return None;
			}
			hashes.push(hash_lane(lane));
		}
		Self::of_lane_hashes(hashes, u32::try_from(lane_len?).ok()?)
	}

	/// The commitment of a matrix whose lanes, `lane_len` elements each, hash to `hashes`
	/// ([`hash_lane`]), in order: for a matrix hashed as it arrives.
	pub fn of_lane_hashes(hashes: Vec<Hash32>, lane_len: u32) -> Option<Self> {
		let lanes = u32::try_from(hashes.len()).ok()?;
		let root = MerkleTree::from_leaf_hashes(hashes)?.root();
		(lane_len > 0).then_some(Self { lanes, lane_len, root: H256(root) })
	}

	/// Checks that `lane` is lane `index` of the committed matrix, proven by `path`.
	pub fn verify_lane(&self, index: u32, lane: &[i8], path: &[Hash32]) -> Result<(), LaneError> {
		if lane.len() != self.lane_len as usize {
			return Err(LaneError::WrongLength);
		}
		merkle::verify(&self.root.0, self.lanes.into(), index.into(), hash_lane(lane), path)
			.map_err(LaneError::Path)
	}
}

/// The two matrices of a job with supplied inputs: `A` by its rows, `B` by its columns.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
pub struct SuppliedInputs {
	/// `A` (m×k), committed by its `m` rows.
	pub a: MatrixCommitment,
	/// `B` (k×n), committed by its `n` columns.
	pub b: MatrixCommitment,
}

/// Why a pair of commitments is not a job's inputs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum InputsError {
	/// `A`'s rows and `B`'s columns have different lengths.
	InnerMismatch,
	/// The shape they make is invalid.
	Shape(ShapeError),
}

impl SuppliedInputs {
	/// The GEMM these inputs make: `m` = rows of `A`, `n` = columns of `B`, `k` their length.
	pub fn shape(&self) -> Result<GemmShape, InputsError> {
		if self.a.lane_len != self.b.lane_len {
			return Err(InputsError::InnerMismatch);
		}
		let shape = GemmShape { m: self.a.lanes, n: self.b.lanes, k: self.a.lane_len };
		shape.validate().map_err(InputsError::Shape)?;
		Ok(shape)
	}
}

/// What a provider reveals for one challenged leaf of a job with supplied inputs.
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct SuppliedSample {
	/// The leaf's 16 values, row-major in its 4×4 tile (zero past the edge of `C`).
	pub leaf: [i32; LEAF_ELEMENTS],
	/// The leaf's path to the output root.
	pub leaf_path: MerklePath,
	/// The row of `A` of the challenged element.
	pub row: Lane,
	/// Its path to `A`'s root.
	pub row_path: MerklePath,
	/// The column of `B` of the challenged element.
	pub col: Lane,
	/// Its path to `B`'s root.
	pub col_path: MerklePath,
}

/// Why a sample is refused. Every variant but none proves the output (or the reveal) wrong.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SampleError {
	/// The leaf does not lead to the committed output root.
	Leaf(ProofError),
	/// The row is not the committed row of `A`.
	Row(LaneError),
	/// The column is not the committed column of `B`.
	Column(LaneError),
	/// A cell past the edge of `C` is not zero.
	DeadCell,
	/// The recomputed element differs from the leaf's: the output is wrong.
	WrongElement,
	/// The element asked for is not a cell of the leaf (a caller's error, not the provider's).
	ElementOutsideLeaf,
}

/// One challenged element of `C`: its leaf and its (row, column).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct Challenged {
	/// The leaf holding it.
	pub leaf: u64,
	/// Its row and column in `C`.
	pub element: (u32, u32),
}

/// The elements of `C` a reveal for supplied inputs must prove: `samples` draws from the
/// challenge `seed`, uniform over the `m·n` elements (so a provider with a fraction `f` of
/// wrong elements passes with probability `(1 − f)^samples`: duplicates have the same outcome),
/// sorted by leaf and deduplicated. Several elements of one leaf are separate samples.
pub fn challenged_elements(shape: &GemmShape, seed: &Hash32, samples: u32) -> Vec<Challenged> {
	if shape.validate().is_err() {
		return Vec::new();
	}
	let mut drawn: Vec<Challenged> = (0..samples)
		.map(|draw| {
			let mut data = Vec::with_capacity(ELEMENT_TAG.len() + 36);
			data.extend_from_slice(ELEMENT_TAG);
			data.extend_from_slice(seed);
			data.extend_from_slice(&draw.to_le_bytes());
			let hash = blake2_256(&data);
			let word = |at: usize| {
				let mut bytes = [0u8; 8];
				bytes.copy_from_slice(&hash[at..at + 8]);
				u64::from_le_bytes(bytes)
			};
			let row = (word(0) % u64::from(shape.m)) as u32;
			let col = (word(8) % u64::from(shape.n)) as u32;
			Challenged { leaf: shape.leaf_of(row, col), element: (row, col) }
		})
		.collect();
	drawn.sort_unstable();
	drawn.dedup();
	drawn
}

/// Checks one sample of a reveal: leaf `leaf_index` of the output committed as `root` for
/// `inputs` (of shape `shape`), and its element `(row, col)` recomputed from the revealed lanes.
pub fn verify_sample(
	inputs: &SuppliedInputs,
	shape: &GemmShape,
	root: &Hash32,
	leaf_index: u64,
	(row, col): (u32, u32),
	sample: &SuppliedSample,
) -> Result<(), SampleError> {
	let siblings = |path: &MerklePath| path.iter().map(|h| h.0).collect::<Vec<_>>();
	let leaf_hash = hash_leaf(&encode_leaf(&sample.leaf));
	merkle::verify(root, shape.leaf_count(), leaf_index, leaf_hash, &siblings(&sample.leaf_path))
		.map_err(SampleError::Leaf)?;
	inputs
		.a
		.verify_lane(row, &sample.row, &siblings(&sample.row_path))
		.map_err(SampleError::Row)?;
	inputs
		.b
		.verify_lane(col, &sample.col, &siblings(&sample.col_path))
		.map_err(SampleError::Column)?;
	let (tile_row, tile_col) = shape.leaf_tile(leaf_index);
	for r in 0..TILE {
		for c in 0..TILE {
			let outside = tile_row * TILE + r >= shape.m || tile_col * TILE + c >= shape.n;
			if outside && sample.leaf[(r * TILE + c) as usize] != 0 {
				return Err(SampleError::DeadCell);
			}
		}
	}
	let in_tile = |at: u32, first: u32| at.checked_sub(first).filter(|d| *d < TILE);
	let (Some(r), Some(c)) = (in_tile(row, tile_row * TILE), in_tile(col, tile_col * TILE)) else {
		return Err(SampleError::ElementOutsideLeaf);
	};
	if sample.leaf[(r * TILE + c) as usize] != dot(&sample.row, &sample.col) {
		return Err(SampleError::WrongElement);
	}
	Ok(())
}

/// A fraud proof against a job on supplied inputs: one element of its committed output, with
/// what the chain needs to recompute it — the element's leaf and the row of `A` and column of
/// `B` behind it, each with its Merkle path. Unlike a reveal's samples, the element is the
/// accuser's choice: a client that found a wrong element (by Freivalds' check, say) proves
/// that one.
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct FraudProof {
	/// The element's row and column in `C`.
	pub element: (u32, u32),
	/// Its leaf, row and column with their paths.
	pub sample: SuppliedSample,
}

/// Why a fraud proof does not show the output wrong.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FraudRefused {
	/// The element is not in `C`.
	OutsideOutput,
	/// A path does not prove its part against the committed roots: the proof shows nothing.
	Invalid(SampleError),
	/// The element is right (and so is every cell of its leaf past the edge of `C`).
	ElementCorrect,
}

/// `Ok` if `proof` shows that the output committed as `root` for `inputs` (of shape `shape`)
/// is wrong: a proven element differs from the product of its proven row and column, or a cell
/// of its proven leaf past the edge of `C` is not zero. About the cost of one sample of a reveal.
pub fn fraud_proven(
	inputs: &SuppliedInputs,
	shape: &GemmShape,
	root: &Hash32,
	proof: &FraudProof,
) -> Result<(), FraudRefused> {
	let (row, col) = proof.element;
	if shape.validate().is_err() || row >= shape.m || col >= shape.n {
		return Err(FraudRefused::OutsideOutput);
	}
	match verify_sample(inputs, shape, root, shape.leaf_of(row, col), (row, col), &proof.sample) {
		Err(SampleError::WrongElement | SampleError::DeadCell) => Ok(()),
		Ok(()) => Err(FraudRefused::ElementCorrect),
		Err(error) => Err(FraudRefused::Invalid(error)),
	}
}

/// Most bytes a sample takes in a reveal of a job of `shape` (SCALE-encoded): the leaf, two
/// lanes of `k` bytes and three full-depth paths.
pub fn sample_bytes(shape: &GemmShape) -> u64 {
	LEAF_ELEMENTS as u64 * 4
		+ path_bytes(shape.leaf_count())
		+ 2 * lane_bytes(shape.k)
		+ path_bytes(shape.m.into())
		+ path_bytes(shape.n.into())
}

/// Bytes of a SCALE-encoded lane of `len` values: its compact length and the values.
pub(crate) fn lane_bytes(len: u32) -> u64 {
	Compact::<u32>::compact_len(&len) as u64 + u64::from(len)
}

/// Bytes of a SCALE-encoded full-depth Merkle path in a tree of `leaves` leaves.
pub(crate) fn path_bytes(leaves: u64) -> u64 {
	let depth = merkle::level_widths(leaves).len().saturating_sub(1) as u32;
	Compact::<u32>::compact_len(&depth) as u64 + 32 * u64::from(depth)
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::testing::supplied::{lanes, SuppliedJob};

	#[test]
	fn an_upload_signature_is_for_one_chain_device_job_and_input() {
		let message = upload_message(&[1; 32], &[2; 32], 3, &[4; 32]);
		assert_ne!(message, upload_message(&[9; 32], &[2; 32], 3, &[4; 32]), "another chain");
		assert_ne!(message, upload_message(&[1; 32], &[9; 32], 3, &[4; 32]), "another device");
		assert_ne!(message, upload_message(&[1; 32], &[2; 32], 9, &[4; 32]), "another job");
		assert_ne!(message, upload_message(&[1; 32], &[2; 32], 3, &[9; 32]), "other bytes");
	}

	fn tree_of(lanes: &[Vec<i8>]) -> MerkleTree {
		MerkleTree::from_leaf_hashes(lanes.iter().map(|l| hash_lane(l)).collect()).unwrap()
	}

	fn check(
		job: &SuppliedJob,
		index: u64,
		element: (u32, u32),
		sample: &SuppliedSample,
	) -> Result<(), SampleError> {
		verify_sample(&job.inputs, &job.shape, &job.root(), index, element, sample)
	}

	#[test]
	fn lane_commitments_and_paths_round_trip_and_tampering_is_refused() {
		let rows = lanes(7, 5, 3);
		let commitment = MatrixCommitment::of_lanes(rows.iter().map(|l| &l[..])).unwrap();
		assert_eq!((commitment.lanes, commitment.lane_len), (7, 5));
		let tree = tree_of(&rows);
		for (i, lane) in rows.iter().enumerate() {
			let proof = tree.proof(i as u64).unwrap();
			assert_eq!(commitment.verify_lane(i as u32, lane, &proof), Ok(()));
			// Another index, a changed element, a short lane.
			let other = (i as u32 + 1) % 7;
			assert!(commitment.verify_lane(other, lane, &proof).is_err());
			let mut changed = lane.clone();
			changed[0] = changed[0].wrapping_add(1);
			assert_eq!(
				commitment.verify_lane(i as u32, &changed, &proof),
				Err(LaneError::Path(ProofError::RootMismatch))
			);
			assert_eq!(
				commitment.verify_lane(i as u32, &lane[..4], &proof),
				Err(LaneError::WrongLength)
			);
		}
		assert_eq!(
			commitment.verify_lane(7, &rows[0], &[]),
			Err(LaneError::Path(ProofError::IndexOutOfRange))
		);
		// Lanes of different lengths, empty lanes or none are no matrix.
		assert!(MatrixCommitment::of_lanes([&[1i8, 2][..], &[3][..]]).is_none());
		assert!(MatrixCommitment::of_lanes([&[][..]]).is_none());
		assert!(MatrixCommitment::of_lanes(core::iter::empty()).is_none());
		// A lane is not an output leaf of the same bytes.
		assert_ne!(hash_lane(&[0; 64]), hash_leaf(&[0; 64]));
	}

	#[test]
	fn the_inputs_make_the_jobs_shape() {
		let other = SuppliedJob::new(5, 5, 8, 1);
		let job = SuppliedJob::new(7, 5, 9, 1);
		assert_eq!(job.inputs.shape(), Ok(GemmShape { m: 7, n: 5, k: 9 }));
		let other_k = SuppliedInputs { b: other.inputs.b, ..job.inputs };
		assert_eq!(other_k.shape(), Err(InputsError::InnerMismatch));
	}

	#[test]
	fn an_honest_sample_passes_at_every_leaf_and_element_of_a_ragged_job() {
		let job = SuppliedJob::new(7, 6, 9, 1);
		for index in 0..job.shape.leaf_count() {
			let (tile_row, tile_col) = job.shape.leaf_tile(index);
			for row in tile_row * TILE..(tile_row * TILE + TILE).min(7) {
				for col in tile_col * TILE..(tile_col * TILE + TILE).min(6) {
					let sample = job.sample(index, (row, col));
					assert_eq!(
						check(&job, index, (row, col), &sample),
						Ok(()),
						"{index} {row} {col}"
					);
				}
			}
		}
	}

	#[test]
	fn a_wrong_element_a_foreign_lane_and_a_bad_length_are_refused() {
		let job = SuppliedJob::new(7, 6, 9, 1);
		let (index, element) = (3, (5, 4));
		let honest = job.sample(index, element);

		// The provider's output is wrong at the challenged element and it committed to that.
		let cell = ((element.0 % TILE) * TILE + element.1 % TILE) as usize;
		let cheater = SuppliedJob::new(7, 6, 9, 1).doctored(|i, leaf| {
			if i == index {
				leaf[cell] += 1;
			}
		});
		let cheat = cheater.sample(index, element);
		assert_eq!(check(&cheater, index, element, &cheat), Err(SampleError::WrongElement));

		// A column of B offered as the row of A.
		let foreign = SuppliedSample { row: honest.col.clone(), ..honest.clone() };
		assert!(matches!(check(&job, index, element, &foreign), Err(SampleError::Row(_))));
		// A lane of another length.
		let mut short = honest.clone();
		short.col.pop();
		assert_eq!(
			check(&job, index, element, &short),
			Err(SampleError::Column(LaneError::WrongLength))
		);
		// The right lanes for another element than the challenged one.
		let moved = job.sample(index, (element.0, element.1 + 1));
		assert!(check(&job, index, element, &moved).is_err());
		// Another leaf's values at this index.
		let swapped = SuppliedSample { leaf: job.leaves[2], ..honest.clone() };
		assert!(matches!(check(&job, index, element, &swapped), Err(SampleError::Leaf(_))));
		assert_eq!(check(&job, index, element, &honest), Ok(()));
	}

	#[test]
	fn cells_past_the_edge_must_be_zero() {
		// 5×5: the last tile row and column hold one live row and column.
		let job = SuppliedJob::new(5, 5, 3, 1);
		let last = job.shape.leaf_count() - 1;
		assert_eq!(check(&job, last, (4, 4), &job.sample(last, (4, 4))), Ok(()));
		let job = job.doctored(|i, leaf| {
			if i == last {
				leaf[15] = 7;
			}
		});
		assert_eq!(
			check(&job, last, (4, 4), &job.sample(last, (4, 4))),
			Err(SampleError::DeadCell)
		);
	}

	#[test]
	fn challenged_elements_are_inside_c_sorted_by_leaf_and_cover_c() {
		let shape = GemmShape { m: 6, n: 5, k: 1 };
		let mut seen = alloc::collections::BTreeSet::new();
		for draw in 0u8..100 {
			let challenged = challenged_elements(&shape, &[draw; 32], 8);
			assert!(!challenged.is_empty() && challenged.len() <= 8);
			assert!(challenged.windows(2).all(|w| w[0] < w[1]), "sorted, distinct");
			for c in challenged {
				let (row, col) = c.element;
				assert!(row < shape.m && col < shape.n);
				assert_eq!(shape.leaf_tile(c.leaf), (row / TILE, col / TILE));
				seen.insert(c.element);
			}
		}
		assert_eq!(seen.len(), 30, "every element of C is drawn sometime");
		assert!(challenged_elements(&GemmShape { m: 0, n: 1, k: 1 }, &[0; 32], 8).is_empty());
	}

	#[test]
	fn a_sample_is_about_two_lanes_and_three_paths() {
		// Exact when every level is even; an odd level's last node has no sibling.
		let even = SuppliedJob::new(8, 8, 9, 1);
		assert_eq!(even.sample(3, (5, 5)).encode().len() as u64, sample_bytes(&even.shape));
		let ragged = SuppliedJob::new(7, 6, 9, 1);
		assert!(ragged.sample(3, (5, 4)).encode().len() as u64 <= sample_bytes(&ragged.shape));
		// k = 4096, 4096² outputs: 2 lanes of 4 KiB and three paths of 12–20 siblings.
		let big = GemmShape { m: 4096, n: 4096, k: 4096 };
		assert_eq!(sample_bytes(&big), 64 + (1 + 32 * 20) + 2 * (2 + 4096) + 2 * (1 + 32 * 12));
	}

	#[test]
	fn a_fraud_proof_shows_a_wrong_element_and_nothing_else() {
		// Element (5, 3) of a ragged 7×6 output (in leaf 2: tile row 1, column 0) is off by
		// one; (6, 5)'s leaf is honest.
		let job = SuppliedJob::new(7, 6, 9, 4).doctored(|index, leaf| {
			if index == 2 {
				leaf[TILE as usize + 3] += 1; // row 1, column 3 of the tile
			}
		});
		let check = |proof: &FraudProof| fraud_proven(&job.inputs, &job.shape, &job.root(), proof);
		assert_eq!(check(&job.fraud_proof((5, 3))), Ok(()));
		assert_eq!(check(&job.fraud_proof((6, 5))), Err(FraudRefused::ElementCorrect));
		// An honest element of the doctored leaf proves nothing either.
		assert_eq!(check(&job.fraud_proof((5, 2))), Err(FraudRefused::ElementCorrect));
		// Outside `C`, even inside the last leaf's tile.
		let mut outside = job.fraud_proof((6, 5));
		outside.element = (7, 5);
		assert_eq!(check(&outside), Err(FraudRefused::OutsideOutput));
		// A lane that is not the committed one, or a leaf that is not the committed one, shows
		// nothing, even though the element then differs from the product.
		let mut forged = job.fraud_proof((6, 5));
		forged.sample.row[0] = forged.sample.row[0].wrapping_add(1);
		assert!(matches!(check(&forged), Err(FraudRefused::Invalid(SampleError::Row(_)))));
		let mut forged = job.fraud_proof((6, 5));
		forged.sample.leaf[2 * TILE as usize + 1] ^= 1;
		assert!(matches!(check(&forged), Err(FraudRefused::Invalid(SampleError::Leaf(_)))));
		// A proof against another element's leaf: refused, not proven.
		let mut moved = job.fraud_proof((5, 3));
		moved.element = (0, 0);
		assert!(matches!(check(&moved), Err(FraudRefused::Invalid(_))));
	}

	#[test]
	fn a_fraud_proof_shows_a_dead_cell_that_is_not_zero() {
		// 7×6: the last leaf's row 3 (row 7 of C) is past the edge.
		let job = SuppliedJob::new(7, 6, 9, 5).doctored(|index, leaf| {
			if index == 3 {
				leaf[3 * TILE as usize] = 9;
			}
		});
		assert_eq!(
			fraud_proven(&job.inputs, &job.shape, &job.root(), &job.fraud_proof((6, 5))),
			Ok(())
		);
	}
}
