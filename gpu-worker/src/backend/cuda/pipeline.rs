//! A job as a pipeline of tile-row blocks over two slots: `B` loaded once, then per block
//! `A` loaded, multiplied, its leaves hashed and handed to the sink while the other slot
//! computes.

use super::*;

/// One slot of the pipeline: a stream and the buffers of one block.
pub(super) struct Slot {
	pub(super) stream: Arc<CudaStream>,
	pub(super) a: CudaSlice<i8>,
	pub(super) c: CudaSlice<i32>,
	pub(super) hashes: CudaSlice<u8>,
	pub(super) host: PinnedHostSlice<u8>,
	pub(super) workspace: CudaSlice<u8>,
	/// The block queued on it and not yet handed to the sink: `(row0, rows)`.
	pub(super) pending: Option<(u32, u32)>,
}

/// A job on one GPU: its geometry, `B` on the device, and its tile-row blocks.
pub(super) struct DeviceJob<'a> {
	pub(super) padded: Padded,
	pub(super) inputs: Inputs<'a>,
	pub(super) bt: CudaSlice<i8>,
	pub(super) blocks: Vec<(u32, u32)>,
}

impl CudaBackend {
	/// Sets a job up: its geometry and blocks, `B`'s lanes and the slots allocated (sized to
	/// the free memory), cuBLASLt's algorithms checked. `B` is not loaded yet.
	pub(super) fn prepare<'a>(
		&self,
		shape: &GemmShape,
		inputs: Inputs<'a>,
	) -> Result<(DeviceJob<'a>, Vec<Slot>)> {
		shape.validate().map_err(|e| anyhow!("invalid shape {shape:?}: {e:?}"))?;
		self.ctx.bind_to_thread()?;
		let p = Padded::new(shape);
		if let Inputs::Supplied { rows, cols } = inputs {
			let k = shape.k as usize;
			ensure!(
				rows.len() == shape.m as usize * k && cols.len() == shape.n as usize * k,
				"supplied inputs do not match {shape:?}"
			);
		}
		// Memory freed asynchronously by the last job is free once the device is idle.
		self.ctx.synchronize()?;
		let bt = self.streams[0].alloc_zeros::<i8>(p.b_bytes() as usize)?;
		let (free, _) = self.ctx.mem_get_info()?;
		let per_block = p.block_rows(free as u64 / RESERVED_FRACTION * (RESERVED_FRACTION - 1));
		if per_block == 0 {
			bail!("{shape:?} does not fit the free memory of {}", self.name());
		}
		let mut blocks = Vec::new();
		let mut row0 = 0u32;
		while row0 < shape.tile_rows() {
			let rows = (shape.tile_rows() - row0).min(per_block);
			blocks.push((row0, rows));
			row0 += rows;
		}
		let a_rows = Padded::a_rows(per_block) as usize;
		let leaves = per_block as usize * p.tile_cols as usize;
		let mut slots = Vec::with_capacity(SLOTS);
		for stream in &self.streams {
			slots.push(Slot {
				stream: stream.clone(),
				a: stream.alloc_zeros::<i8>(a_rows * p.kp as usize)?,
				c: stream.alloc_zeros::<i32>(a_rows * p.np as usize)?,
				hashes: stream.alloc_zeros::<u8>(leaves * 32)?,
				// SAFETY: only read after a copy has filled it (`finish`). Not write-combined:
				// the host reads it.
				host: unsafe { self.ctx.alloc_pinned_with_flags::<u8>(leaves * 32, 0)? },
				workspace: stream.alloc_zeros::<u8>(cublaslt::WORKSPACE)?,
				pending: None,
			});
		}
		let mut job = DeviceJob { padded: p, inputs, bt, blocks };
		self.check_algorithms(&mut job, &mut slots)?;
		Ok((job, slots))
	}

	/// Loads `B`'s lanes: generated on the device, or the client's uploaded.
	pub(super) fn load_b(&self, job: &mut DeviceJob, stream: &Arc<CudaStream>) -> Result<()> {
		let p = job.padded;
		match job.inputs {
			Inputs::Seeded(seed) => {
				let key = seed_key(seed);
				self.gen_lanes(stream, key, MATRIX_B, 0, p.shape.n, p.np, &p, &mut job.bt)
			}
			Inputs::Supplied { cols, .. } => {
				let host = pad_lanes(cols, p.shape.k as usize, 0, p.np as usize, p.kp as usize);
				Ok(stream.memcpy_htod(&host, &mut job.bt)?)
			}
		}
	}

	/// Loads the lanes of `A` of the block at `row0` (`rows` tile rows) into `slot.a`.
	pub(super) fn load_a(
		&self,
		job: &DeviceJob,
		row0: u32,
		rows: u32,
		slot: &mut Slot,
	) -> Result<()> {
		let p = job.padded;
		let (first, count) = (row0 * TILE, Padded::a_rows(rows));
		let live = (p.shape.m - first).min(count);
		match job.inputs {
			Inputs::Seeded(seed) => {
				let key = seed_key(seed);
				self.gen_lanes(&slot.stream, key, MATRIX_A, first, live, count, &p, &mut slot.a)
			}
			Inputs::Supplied { rows: a, .. } => {
				let host =
					pad_lanes(a, p.shape.k as usize, first as usize, count as usize, p.kp as usize);
				Ok(slot.stream.memcpy_htod(&host, &mut slot.a)?)
			}
		}
	}

	/// Queues a block on `slot`: `A`, the GEMM, the hashes, and their copy to the host.
	pub(super) fn enqueue(
		&self,
		job: &DeviceJob,
		row0: u32,
		rows: u32,
		slot: &mut Slot,
	) -> Result<()> {
		self.load_a(job, row0, rows, slot)?;
		self.multiply(&job.padded, rows, &job.bt, slot)?;
		self.hash(&job.padded, rows, slot)?;
		let bytes = rows as usize * job.padded.tile_cols as usize * 32;
		slot.stream.memcpy_dtoh(&slot.hashes.slice(..bytes), &mut slot.host)?;
		slot.pending = Some((row0, rows));
		Ok(())
	}

	/// Waits for the block queued on `slot` and hands its leaves to `sink` (with their values
	/// first, for supplied inputs).
	pub(super) fn finish(
		&self,
		job: &DeviceJob,
		slot: &mut Slot,
		sink: &mut dyn LeafSink,
	) -> Result<()> {
		let Some((_, rows)) = slot.pending.take() else { return Ok(()) };
		let p = job.padded;
		let leaves = rows as usize * p.tile_cols as usize;
		if let Inputs::Supplied { .. } = job.inputs {
			let np = p.np as usize;
			let c = slot.stream.clone_dtoh(&slot.c.slice(..rows as usize * TILE as usize * np))?;
			let mut values = vec![[0i32; LEAF_ELEMENTS]; leaves];
			for (j, leaf) in values.iter_mut().enumerate() {
				let (row, col) = (j / p.tile_cols as usize * 4, j % p.tile_cols as usize * 4);
				for (r, four) in leaf.chunks_exact_mut(4).enumerate() {
					four.copy_from_slice(&c[(row + r) * np + col..][..4]);
				}
			}
			sink.append_values(&values)?;
		}
		// The block's stream is done with the copy (whatever cudarc's event tracking does).
		slot.stream.synchronize()?;
		let bytes = &slot.host.as_slice()?[..leaves * 32];
		let (hashes, _): (&[LeafHash], _) = bytes.as_chunks::<32>();
		sink.append(hashes)
	}
}
