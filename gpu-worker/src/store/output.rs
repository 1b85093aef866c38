//! A job's output on disk: the leaf hashes, streamed in as the backend computes them, then
//! every upper level of the Merkle tree, in one file. Nothing of it is held in memory beyond a
//! bounded buffer, so an output of billions of leaves needs disk, not RAM; the root and the
//! proofs the chain asks for are read back from the file.
//!
//! Layout: level 0 (the leaf hashes, in leaf-index order), then level 1, … up to the root,
//! 32 bytes per node, with the level widths of [`merkle::level_widths`]. The file is written
//! under a temporary name and renamed once complete and synced, so a file with the final name
//! is always a whole tree.

use std::{
	fs::{self, File},
	io::{BufWriter, Write},
	os::unix::fs::FileExt,
	path::{Path, PathBuf},
};

use anyhow::{bail, Context, Result};
use proofgrid_primitives::{
	gemm::{encode_leaf, LEAF_BYTES, LEAF_ELEMENTS},
	merkle::{self, Hash32},
};
use rayon::prelude::*;

use crate::backend::LeafSink;

/// Nodes read per piece while a level is built (8 MiB, and half as much for the level above).
const LEVEL_PIECE: usize = 1 << 18;
/// Nodes hashed per parallel task within a piece.
const PAR_PIECE: usize = 1 << 12;
/// Write buffer of the leaf stream.
const WRITE_BUFFER: usize = 1 << 20;
/// Host memory the tree build takes at most, bytes (a piece and the level above it).
pub const BUILD_MEMORY: u64 = (LEVEL_PIECE as u64 * 3 / 2) * 32 + WRITE_BUFFER as u64;
// The backends count on a sink taking no more (`host_bytes_for_output`).
const _: () = assert!(BUILD_MEMORY <= crate::backend::SINK_MEMORY);

/// Bytes of the file holding the whole tree over `leaf_count` leaves (about 64 per leaf).
pub fn tree_bytes(leaf_count: u64) -> u64 {
	merkle::level_widths(leaf_count)
		.iter()
		.fold(0u64, |sum, w| sum.saturating_add(w.saturating_mul(32)))
}

/// Receives a job's leaf hashes and writes them, then the tree, to disk (and, for outputs
/// delivered to a client, the leaves' values: 16 little-endian `i32` per leaf, leaf order).
pub struct OutputWriter {
	tmp: PathBuf,
	path: PathBuf,
	file: BufWriter<File>,
	leaves: u64,
	values: Option<(PathBuf, PathBuf, BufWriter<File>)>,
}

impl OutputWriter {
	/// Starts the output that will be stored at `path` once finished.
	pub fn create(path: &Path) -> Result<Self> {
		let tmp = path.with_extension("tmp");
		// Read back as well: the upper levels are built from the file.
		let file = fs::OpenOptions::new()
			.read(true)
			.write(true)
			.create(true)
			.truncate(true)
			.open(&tmp)
			.with_context(|| format!("creating {}", tmp.display()))?;
		Ok(Self {
			tmp,
			path: path.to_path_buf(),
			file: BufWriter::with_capacity(WRITE_BUFFER, file),
			leaves: 0,
			values: None,
		})
	}

	/// Also keeps the leaves' values, at `path` once finished.
	pub fn with_values(mut self, path: &Path) -> Result<Self> {
		let tmp = path.with_extension("values-tmp");
		let file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
		self.values = Some((tmp, path.to_path_buf(), BufWriter::with_capacity(WRITE_BUFFER, file)));
		Ok(self)
	}

	/// Builds the upper levels over the `leaf_count` leaves written, syncs the file and gives it
	/// its final name. Fails if another number of leaves was written.
	pub fn finish(self, leaf_count: u64) -> Result<OutputTree> {
		if self.leaves != leaf_count || leaf_count == 0 {
			bail!("the backend produced {} leaves, the job has {leaf_count}", self.leaves);
		}
		if let Some((tmp, path, mut values)) = self.values {
			values.flush()?;
			values.get_ref().sync_all()?;
			fs::rename(&tmp, &path)?;
		}
		let mut writer = self.file;
		writer.flush()?;
		let reader = writer.get_ref().try_clone()?;
		let widths = merkle::level_widths(leaf_count);
		let mut offset = 0u64;
		for (level, &width) in widths.iter().enumerate().take(widths.len() - 1) {
			let mut done = 0u64;
			while done < width {
				// Pieces of even length pair up exactly as the whole level would.
				let count = (width - done).min(LEVEL_PIECE as u64) as usize;
				let below = read_nodes(&reader, offset + done * 32, count)
					.with_context(|| format!("reading level {level} of the output tree"))?;
				let above: Vec<Hash32> = below
					.par_chunks(PAR_PIECE)
					.flat_map_iter(crate::backend::hashing::parent_level)
					.collect();
				writer.write_all(above.as_flattened())?;
				done += count as u64;
			}
			writer.flush()?;
			offset += width * 32;
		}
		let file = writer.into_inner().map_err(|e| e.into_error())?;
		file.sync_all()?;
		fs::rename(&self.tmp, &self.path)?;
		// The rename is only durable once the directory entry is.
		if let Some(dir) = self.path.parent() {
			File::open(dir)?.sync_all()?;
		}
		OutputTree::open(&self.path, leaf_count)?.context("the finished output tree is incomplete")
	}
}

impl LeafSink for OutputWriter {
	fn append(&mut self, hashes: &[Hash32]) -> Result<()> {
		self.file.write_all(hashes.as_flattened()).context("writing leaf hashes")?;
		self.leaves += hashes.len() as u64;
		Ok(())
	}

	fn append_values(&mut self, leaves: &[[i32; LEAF_ELEMENTS]]) -> Result<()> {
		if let Some((_, _, file)) = &mut self.values {
			for leaf in leaves {
				file.write_all(&encode_leaf(leaf)).context("writing leaf values")?;
			}
		}
		Ok(())
	}
}

/// The values of leaf `index` in a values file written by [`OutputWriter::with_values`].
pub fn read_leaf_values(path: &Path, index: u64) -> Result<[i32; LEAF_ELEMENTS]> {
	let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
	let mut bytes = [0u8; LEAF_BYTES];
	file.read_exact_at(&mut bytes, index * LEAF_BYTES as u64)?;
	let mut leaf = [0i32; LEAF_ELEMENTS];
	for (value, chunk) in leaf.iter_mut().zip(bytes.chunks_exact(4)) {
		*value = i32::from_le_bytes(chunk.try_into().expect("4 bytes"));
	}
	Ok(leaf)
}

/// `count` nodes of the file from byte `offset`.
fn read_nodes(file: &File, offset: u64, count: usize) -> Result<Vec<Hash32>> {
	let mut nodes = Vec::new();
	nodes.try_reserve_exact(count).context("memory for a piece of the output tree")?;
	nodes.resize(count, [0u8; 32]);
	file.read_exact_at(nodes.as_flattened_mut(), offset)?;
	Ok(nodes)
}

/// A finished output tree on disk.
pub struct OutputTree {
	file: File,
	/// Byte offset of each level, leaves first.
	offsets: Vec<u64>,
	widths: Vec<u64>,
	root: Hash32,
}

impl OutputTree {
	/// The tree at `path` over `leaf_count` leaves; `None` if there is no file or it is not a
	/// whole tree of that many leaves (it is then computed again).
	pub fn open(path: &Path, leaf_count: u64) -> Result<Option<Self>> {
		let file = match File::open(path) {
			Ok(file) => file,
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
			Err(e) => return Err(e.into()),
		};
		if leaf_count == 0 || file.metadata()?.len() != tree_bytes(leaf_count) {
			return Ok(None);
		}
		let widths = merkle::level_widths(leaf_count);
		let offsets = widths
			.iter()
			.scan(0u64, |at, width| {
				let offset = *at;
				*at += width * 32;
				Some(offset)
			})
			.collect::<Vec<_>>();
		let top = *offsets.last().expect("at least one level");
		let root = read_nodes(&file, top, 1)?[0];
		Ok(Some(Self { file, offsets, widths, root }))
	}

	/// The root.
	pub fn root(&self) -> Hash32 {
		self.root
	}

	/// Number of leaves.
	pub fn leaf_count(&self) -> u64 {
		self.widths[0]
	}

	/// The hash of leaf `index`.
	pub fn leaf(&self, index: u64) -> Result<Hash32> {
		if index >= self.leaf_count() {
			bail!("leaf {index} of {}", self.leaf_count());
		}
		Ok(read_nodes(&self.file, index * 32, 1)?[0])
	}

	/// The siblings on the path of leaf `index`, bottom up (as [`merkle::MerkleTree::proof`]).
	pub fn proof(&self, index: u64) -> Result<Vec<Hash32>> {
		if index >= self.leaf_count() {
			bail!("leaf {index} of {}", self.leaf_count());
		}
		let mut proof = Vec::new();
		let mut i = index;
		for (offset, width) in self.offsets.iter().zip(&self.widths).take(self.widths.len() - 1) {
			let sibling = i ^ 1;
			if sibling < *width {
				proof.push(read_nodes(&self.file, offset + sibling * 32, 1)?[0]);
			}
			i /= 2;
		}
		Ok(proof)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use proofgrid_primitives::merkle::{hash_leaf, MerkleTree};

	fn leaves(n: u64) -> Vec<Hash32> {
		(0..n).map(|i| hash_leaf(&i.to_le_bytes())).collect()
	}

	fn write(dir: &Path, leaves: &[Hash32], piece: usize) -> Result<OutputTree> {
		let mut writer = OutputWriter::create(&dir.join("out"))?;
		for chunk in leaves.chunks(piece) {
			writer.append(chunk)?;
		}
		writer.finish(leaves.len() as u64)
	}

	#[test]
	fn the_disk_tree_has_the_in_memory_trees_root_leaves_and_proofs() {
		let dir = tempfile::tempdir().unwrap();
		for n in [1u64, 2, 3, 5, 8, 13, 100, 1025] {
			let leaves = leaves(n);
			let memory = MerkleTree::from_leaf_hashes(leaves.clone()).unwrap();
			let disk = write(dir.path(), &leaves, 7).unwrap();
			assert_eq!(disk.root(), memory.root(), "{n} leaves");
			assert_eq!(disk.leaf_count(), n);
			for i in 0..n {
				assert_eq!(disk.leaf(i).unwrap(), leaves[i as usize]);
				assert_eq!(disk.proof(i).unwrap(), memory.proof(i).unwrap(), "leaf {i} of {n}");
			}
			assert!(disk.proof(n).is_err() && disk.leaf(n).is_err());
			assert_eq!(fs::metadata(dir.path().join("out")).unwrap().len(), tree_bytes(n));
		}
	}

	#[test]
	fn a_level_wider_than_a_piece_is_built_in_pieces_with_the_same_root() {
		// Odd widths at several levels, with the leaf level spanning three pieces.
		let n = 2 * LEVEL_PIECE as u64 + 3;
		let leaves = leaves(n);
		let dir = tempfile::tempdir().unwrap();
		let disk = write(dir.path(), &leaves, 100_000).unwrap();
		let memory = MerkleTree::from_leaf_hashes(leaves).unwrap();
		assert_eq!(disk.root(), memory.root());
		for i in [0, LEVEL_PIECE as u64 - 1, LEVEL_PIECE as u64, n - 1] {
			assert_eq!(disk.proof(i).unwrap(), memory.proof(i).unwrap());
		}
	}

	#[test]
	fn a_short_or_missing_output_is_not_a_tree() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("out");
		assert!(OutputTree::open(&path, 4).unwrap().is_none());
		let mut writer = OutputWriter::create(&path).unwrap();
		writer.append(&leaves(3)).unwrap();
		assert!(writer.finish(4).is_err(), "one leaf missing");
		assert!(!path.exists(), "an unfinished output keeps its temporary name");
		write(dir.path(), &leaves(4), 4).unwrap();
		assert!(OutputTree::open(&path, 4).unwrap().is_some());
		assert!(OutputTree::open(&path, 5).unwrap().is_none(), "another job's leaf count");
		let file = fs::OpenOptions::new().write(true).open(&path).unwrap();
		file.set_len(tree_bytes(4) - 1).unwrap();
		assert!(OutputTree::open(&path, 4).unwrap().is_none(), "truncated");
	}
}
