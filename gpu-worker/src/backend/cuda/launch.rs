//! The kernels' launches (`kernels/gemm_i8.cu`), each with the contract its arguments meet.

use super::*;

impl CudaBackend {
	pub(super) fn launch_config(threads: u64) -> Result<LaunchConfig> {
		let blocks = threads.div_ceil(THREADS_PER_BLOCK as u64);
		Ok(LaunchConfig {
			// The hardware's limit on `gridDim.x` is 2³¹ − 1.
			grid_dim: (
				u32::try_from(blocks)
					.ok()
					.filter(|&b| b <= i32::MAX as u32)
					.context("grid too large")?,
				1,
				1,
			),
			block_dim: (THREADS_PER_BLOCK, 1, 1),
			shared_mem_bytes: 0,
		})
	}

	/// Every byte of `out` set to `value`, on `stream`.
	pub(super) fn fill(
		&self,
		stream: &CudaStream,
		out: &mut CudaSlice<i8>,
		value: i8,
	) -> Result<()> {
		let (len, value) = (out.len() as u64, value as u8 as u32);
		let mut launch = stream.launch_builder(&self.fill);
		launch.arg(out).arg(&len).arg(&value);
		// SAFETY: the arguments match `pg_fill`; `out` holds `len` bytes.
		unsafe { launch.launch(Self::launch_config(len)?)? };
		Ok(())
	}

	/// `count` lanes (`first` first, those past `live` zero) of seeded `matrix` into `out`.
	#[allow(clippy::too_many_arguments)]
	pub(super) fn gen_lanes(
		&self,
		stream: &CudaStream,
		key: u64,
		matrix: u8,
		first: u32,
		live: u32,
		count: u32,
		p: &Padded,
		out: &mut CudaSlice<i8>,
	) -> Result<()> {
		let words = count as u64 * p.kp as u64 / 4;
		if (out.len() as u64) < words * 4 {
			bail!("lane buffer too small");
		}
		let (matrix, k) = (matrix as u32, p.shape.k);
		let mut launch = stream.launch_builder(&self.gen_lanes);
		launch
			.arg(&key)
			.arg(&matrix)
			.arg(&first)
			.arg(&live)
			.arg(&count)
			.arg(&k)
			.arg(&p.kp)
			.arg(out);
		// SAFETY: the arguments match `pg_gen_lanes`; `out` holds `count·kp` bytes.
		unsafe { launch.launch(Self::launch_config(words)?)? };
		Ok(())
	}

	/// `C` of a block of `rows` tile rows: `slot.c` = `slot.a` × `bt`, on the slot's stream,
	/// by cuBLASLt's checked algorithm for the shape or else the worker's kernel.
	pub(super) fn multiply(
		&self,
		p: &Padded,
		rows: u32,
		bt: &CudaSlice<i8>,
		slot: &mut Slot,
	) -> Result<()> {
		let tn = p.tn(rows)?;
		if let GemmPath::CublasLt(lt) = &self.gemm {
			let lt = lt.lock().map_err(|_| anyhow!("cuBLASLt state poisoned"))?;
			if let Some(Some(plan)) = lt.plans.get(&tn) {
				let (a, c, workspace) = (&slot.a, &mut slot.c, &mut slot.workspace);
				return lt.handle.run(plan, &slot.stream, a, bt, c, workspace);
			}
		}
		self.gemm_kernel(&slot.stream, tn, &slot.a, bt, &mut slot.c)
	}

	/// `c` = `a` × `bt` for `tn` by the worker's `dp4a` kernel, on `stream`.
	pub(super) fn gemm_kernel(
		&self,
		stream: &CudaStream,
		tn: TnShape,
		a: &CudaSlice<i8>,
		bt: &CudaSlice<i8>,
		c: &mut CudaSlice<i32>,
	) -> Result<()> {
		ensure!(
			a.len() as u64 >= tn.rows * tn.kp
				&& bt.len() as u64 >= tn.np * tn.kp
				&& c.len() as u64 >= tn.rows * tn.np,
			"buffers too small for {tn:?}"
		);
		let (kp, a_rows, np) = (tn.kp as u32, tn.rows as u32, tn.np as u32);
		let mut launch = stream.launch_builder(&self.gemm_tiles);
		launch.arg(a).arg(bt).arg(&kp).arg(&a_rows).arg(&np).arg(c);
		// SAFETY: the arguments match `pg_gemm_tiles`; the buffers hold `a_rows` and `np`
		// lanes of `kp` bytes and `a_rows·np` int32 (checked above).
		unsafe { launch.launch(Self::launch_config(tn.rows * tn.np / 16)?)? };
		Ok(())
	}

	/// The leaf hashes of a block of `rows` tile rows from its `C`, into `slot.hashes`.
	pub(super) fn hash(&self, p: &Padded, rows: u32, slot: &mut Slot) -> Result<()> {
		let (c_rows, leaves) = (rows * TILE, rows as u64 * p.tile_cols as u64);
		let mut launch = slot.stream.launch_builder(&self.hash_tiles);
		launch.arg(&slot.c).arg(&c_rows).arg(&p.np).arg(&p.tile_cols).arg(&mut slot.hashes);
		// SAFETY: the arguments match `pg_hash_tiles`; `c` holds the block's `C`, `hashes`
		// 32 bytes per leaf.
		unsafe { launch.launch(Self::launch_config(leaves)?)? };
		Ok(())
	}
}
