//! `bench`'s phase-by-phase profile of a job, with the Merkle tree built on the device.

use super::*;

impl CudaBackend {
	/// Times a job phase by phase on one stream, with CUDA events: loading `B` and `A`, the
	/// GEMM, the leaf hashes, their copy to the host; the Merkle tree on the host (wall
	/// clock); and cuBLASLt alone on the whole product
	/// in one call (best of three), where it is used and the product fits.
	pub fn profile(&self, shape: &GemmShape, seed: &[u8; 32]) -> Result<Phases> {
		let _running = self.running.lock().map_err(|_| anyhow!("GPU state poisoned"))?;
		let leaf_bytes = shape.leaf_count() as usize * 32;
		ensure!(
			leaf_bytes as u64 <= PROFILE_LEAF_BYTES,
			"a profile keeps every leaf hash in memory: {shape:?} needs {} MiB, more than {} MiB",
			leaf_bytes >> 20,
			PROFILE_LEAF_BYTES >> 20
		);
		let (mut job, mut slots) = self.prepare(shape, Inputs::Seeded(seed))?;
		let slot = &mut slots[0];
		let stream = slot.stream.clone();
		let event = || stream.record_event(Some(CUevent_flags::CU_EVENT_DEFAULT));
		let seconds = |from: &CudaEvent, to: &CudaEvent| -> Result<f64> {
			Ok(from.elapsed_ms(to)? as f64 / 1e3)
		};
		let mut phases = Phases::default();
		let start = event()?;
		self.load_b(&mut job, &stream)?;
		phases.generate += seconds(&start, &event()?)?;
		let blocks = job.blocks.clone();
		let (mut gemm, mut hash) = (0.0, 0.0);
		let mut leaves: Vec<LeafHash> = Vec::new();
		// Every leaf hash also kept on the device, where it fits, to time the tree there.
		let (free, _) = self.ctx.mem_get_info()?;
		let mut on_device = match leaf_bytes as u64 * 2 < free as u64 / 2 {
			true => Some(stream.alloc_zeros::<u8>(leaf_bytes)?),
			false => None,
		};
		for (row0, rows) in blocks {
			let e0 = event()?;
			self.load_a(&job, row0, rows, slot)?;
			let e1 = event()?;
			self.multiply(&job.padded, rows, &job.bt, slot)?;
			let e2 = event()?;
			self.hash(&job.padded, rows, slot)?;
			let e3 = event()?;
			let bytes = rows as usize * job.padded.tile_cols as usize * 32;
			stream.memcpy_dtoh(&slot.hashes.slice(..bytes), &mut slot.host)?;
			let e4 = event()?;
			phases.generate += seconds(&e0, &e1)?;
			gemm += seconds(&e1, &e2)?;
			hash += seconds(&e2, &e3)?;
			phases.download += seconds(&e3, &e4)?;
			leaves.extend_from_slice(slot.host.as_slice()?[..bytes].as_chunks::<32>().0);
			if let Some(all) = on_device.as_mut() {
				let at = (row0 as usize * job.padded.tile_cols as usize) * 32;
				stream
					.memcpy_dtod(&slot.hashes.slice(..bytes), &mut all.slice_mut(at..at + bytes))?;
			}
		}
		if let Some(all) = on_device {
			let (root, seconds) = self.device_root(&stream, all, shape.leaf_count())?;
			phases.device_tree = Some((seconds, root));
		}
		// The tree as a job builds it (`output.rs`): on the host, levels in parallel pieces.
		let started = std::time::Instant::now();
		while leaves.len() > 1 {
			use rayon::prelude::*;
			leaves = leaves
				.par_chunks(1 << 12)
				.flat_map_iter(crate::backend::hashing::parent_level)
				.collect();
		}
		phases.tree = started.elapsed().as_secs_f64();
		if let Some((_, root)) = phases.device_tree {
			ensure!(
				leaves.first() == Some(&root),
				"the device's Merkle root differs from the host's"
			);
		}
		phases.gemm = gemm;
		phases.gemm_and_hash = gemm + hash;
		drop(slots);
		phases.library_gemm = self.library_gemm(&mut job);
		Ok(phases)
	}

	/// The Merkle root of the `count` leaf hashes in `leaves`, built on the device level by
	/// level (`pg_tree_level`), and the seconds it took (CUDA events).
	pub(super) fn device_root(
		&self,
		stream: &Arc<CudaStream>,
		leaves: CudaSlice<u8>,
		count: u64,
	) -> Result<(LeafHash, f64)> {
		let mut above = stream.alloc_zeros::<u8>((count.div_ceil(2) * 32).max(32) as usize)?;
		let mut below = leaves;
		let mut width = count;
		let start = stream.record_event(Some(CUevent_flags::CU_EVENT_DEFAULT))?;
		while width > 1 {
			let mut launch = stream.launch_builder(&self.tree_level);
			launch.arg(&below).arg(&width).arg(&mut above);
			// SAFETY: the arguments match `pg_tree_level`; `below` holds `width` nodes and
			// `above` at least `ceil(width / 2)`.
			unsafe { launch.launch(Self::launch_config(width.div_ceil(2))?)? };
			std::mem::swap(&mut below, &mut above);
			width = width.div_ceil(2);
		}
		let end = stream.record_event(Some(CUevent_flags::CU_EVENT_DEFAULT))?;
		let seconds = start.elapsed_ms(&end)? as f64 / 1e3;
		let root = stream.clone_dtoh(&below.slice(..32))?;
		Ok((root.try_into().map_err(|_| anyhow!("a root of 32 bytes"))?, seconds))
	}
}
