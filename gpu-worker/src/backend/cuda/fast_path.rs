//! cuBLASLt, where it is exact: per block shape, the algorithm that computes the all −128
//! product exactly is chosen once (none: the worker's `dp4a` kernel multiplies that shape),
//! and nothing from cuBLASLt is used after an output fails its spot check.

use super::*;

/// How a GPU multiplies.
pub enum GemmPath {
	/// cuBLASLt, with the algorithms checked so far.
	CublasLt(Mutex<Lt>),
	/// The worker's own `dp4a` kernel, and why cuBLASLt is not used.
	Kernel(String),
}

/// A GPU's cuBLASLt handle and, per block shape, the algorithm that computed the all −128
/// product exactly (`None`: none did, so that shape runs on the worker's kernel).
pub struct Lt {
	pub(super) handle: cublaslt::Handle,
	pub(super) plans: HashMap<TnShape, Option<cublaslt::Plan>>,
	/// Set when an output failed its spot check: no algorithm is used from then on.
	pub(super) distrusted: bool,
}

/// The buffers an algorithm check multiplies in (see `CudaBackend::check_shape`).
pub(super) struct CheckBuffers<'a> {
	pub(super) stream: &'a Arc<CudaStream>,
	pub(super) bt: &'a mut CudaSlice<i8>,
	pub(super) a: &'a mut CudaSlice<i8>,
	pub(super) c: &'a mut CudaSlice<i32>,
	/// The `dp4a` kernel's product, to compare with.
	pub(super) reference: &'a mut CudaSlice<i32>,
	pub(super) workspace: &'a mut CudaSlice<u8>,
}

impl CudaBackend {
	/// Makes sure every block shape of `job` has a checked cuBLASLt algorithm (or is known to
	/// have none). Uses the job's buffers (both slots), before `B` is loaded.
	pub(super) fn check_algorithms(&self, job: &mut DeviceJob, slots: &mut [Slot]) -> Result<()> {
		let GemmPath::CublasLt(lt) = &self.gemm else { return Ok(()) };
		let mut lt = lt.lock().map_err(|_| anyhow!("cuBLASLt state poisoned"))?;
		let [first, second] = slots else { bail!("{SLOTS} slots expected") };
		for &(_, rows) in &job.blocks.clone() {
			let tn = job.padded.tn(rows)?;
			let buffers = CheckBuffers {
				stream: &first.stream,
				bt: &mut job.bt,
				a: &mut first.a,
				c: &mut first.c,
				reference: &mut second.c,
				workspace: &mut first.workspace,
			};
			self.check_shape(&mut lt, tn, buffers)?;
		}
		Ok(())
	}

	/// Chooses cuBLASLt's algorithm for `tn`, once per shape: the heuristic's candidates, in its
	/// order, each trusted only if it computes three products exactly on this GPU — all −128
	/// (every sum 2¹⁴·kp: saturation, lost terms), all 127 (16 129·kp, odd: an f32 sum is wrong
	/// past 2²⁴) and seeded lanes (against the `dp4a` kernel on the same buffers: data in the
	/// wrong place). None exact, or no candidate: `None`, and the `dp4a` kernel multiplies it.
	/// Overwrites the buffers.
	pub(super) fn check_shape(&self, lt: &mut Lt, tn: TnShape, buf: CheckBuffers) -> Result<()> {
		if lt.plans.contains_key(&tn) {
			return Ok(());
		}
		if lt.distrusted {
			lt.plans.insert(tn, None);
			return Ok(());
		}
		let candidates = match lt.handle.candidates(tn) {
			Ok(candidates) => candidates,
			Err(e) => {
				tracing::warn!(gpu = self.ordinal, "no cuBLASLt algorithm for {tn:?}: {e:#}");
				Vec::new()
			}
		};
		let want = |value: i64| value * value * tn.kp as i64;
		let mut chosen = None;
		// The dp4a kernel's product of the seeded lanes, computed once for all candidates.
		let mut expected: Vec<i32> = Vec::new();
		'candidates: for plan in candidates {
			for fill in [Some(-128i8), Some(127), None] {
				match fill {
					Some(value) => {
						self.fill(buf.stream, buf.bt, value)?;
						self.fill(buf.stream, buf.a, value)?;
					}
					None => {
						let (np, rows) = (tn.np as u32, tn.rows as u32);
						let whole = Padded {
							kp: tn.kp as u32,
							..Padded::new(&GemmShape { m: rows, n: np, k: tn.kp as u32 })
						};
						self.gen_lanes(buf.stream, 0x5eed, MATRIX_B, 0, np, np, &whole, buf.bt)?;
						self.gen_lanes(buf.stream, 0x5eed, MATRIX_A, 0, rows, rows, &whole, buf.a)?;
						if expected.is_empty() {
							self.gemm_kernel(buf.stream, tn, buf.a, buf.bt, buf.reference)?;
							let product = buf.reference.slice(..(tn.rows * tn.np) as usize);
							expected = buf.stream.clone_dtoh(&product)?;
						}
					}
				}
				buf.stream.memset_zeros(buf.c)?;
				if let Err(e) =
					lt.handle.run(&plan, buf.stream, buf.a, buf.bt, buf.c, buf.workspace)
				{
					tracing::warn!(
						gpu = self.ordinal,
						"cuBLASLt algorithm #{} failed on {tn:?}: {e:#}",
						plan.rank
					);
					continue 'candidates;
				}
				let c = buf.stream.clone_dtoh(&buf.c.slice(..(tn.rows * tn.np) as usize))?;
				let wrong = match fill {
					Some(value) => c.iter().position(|&v| v as i64 != want(value as i64)),
					None => c.iter().zip(&expected).position(|(x, y)| x != y),
				};
				if let Some(at) = wrong {
					tracing::warn!(
						gpu = self.ordinal,
						"cuBLASLt algorithm #{} is not exact on {tn:?} ({}): C[{at}] = {}",
						plan.rank,
						fill.map_or("seeded lanes".into(), |v| format!("all {v}")),
						c[at]
					);
					continue 'candidates;
				}
			}
			chosen = Some(plan);
			break;
		}
		if chosen.is_none() {
			tracing::warn!(
				gpu = self.ordinal,
				"no exact cuBLASLt algorithm for {tn:?}: the dp4a kernel multiplies it"
			);
		}
		lt.plans.insert(tn, chosen);
		Ok(())
	}

	/// cuBLASLt alone on the job's whole product in one call, best of three, with its name:
	/// the algorithm checked for that shape (as a job's blocks are), on the job's seeded lanes.
	/// `None` where the worker's kernel multiplies, the product does not fit, or it fails (a
	/// benchmark is optional: the reason is logged).
	pub(super) fn library_gemm(&self, job: &mut DeviceJob) -> Option<(String, f64)> {
		let GemmPath::CublasLt(lt) = &self.gemm else { return None };
		match self.try_library_gemm(lt, job) {
			Ok(timed) => timed,
			Err(e) => {
				tracing::warn!(gpu = self.ordinal, "cuBLASLt alone not measured: {e:#}");
				None
			}
		}
	}

	pub(super) fn try_library_gemm(
		&self,
		lt: &Mutex<Lt>,
		job: &mut DeviceJob,
	) -> Result<Option<(String, f64)>> {
		let p = job.padded;
		let tn = TnShape::new(p.np as u64, p.shape.m.next_multiple_of(16) as u64, p.kp as u64)?;
		self.ctx.synchronize()?;
		let (free, _) = self.ctx.mem_get_info()?;
		let needed = tn.rows * tn.kp + 2 * tn.d_bytes() + cublaslt::WORKSPACE as u64;
		if needed > free as u64 / RESERVED_FRACTION * (RESERVED_FRACTION - 1) {
			return Ok(None);
		}
		let stream = &self.streams[0];
		let mut a = stream.alloc_zeros::<i8>((tn.rows * tn.kp) as usize)?;
		let mut c = stream.alloc_zeros::<i32>((tn.rows * tn.np) as usize)?;
		let mut reference = stream.alloc_zeros::<i32>((tn.rows * tn.np) as usize)?;
		let mut workspace = stream.alloc_zeros::<u8>(cublaslt::WORKSPACE)?;
		let mut lt = lt.lock().map_err(|_| anyhow!("cuBLASLt state poisoned"))?;
		let buffers = CheckBuffers {
			stream,
			bt: &mut job.bt,
			a: &mut a,
			c: &mut c,
			reference: &mut reference,
			workspace: &mut workspace,
		};
		self.check_shape(&mut lt, tn, buffers)?;
		let Some(Some(plan)) = lt.plans.get(&tn) else { return Ok(None) };
		// The job's own lanes, as the pipeline multiplies them.
		self.load_b(job, stream)?;
		if let Inputs::Seeded(seed) = job.inputs {
			let key = seed_key(seed);
			self.gen_lanes(stream, key, MATRIX_A, 0, p.shape.m, tn.rows as u32, &p, &mut a)?;
		}
		let mut best = f64::MAX;
		for _ in 0..3 {
			let start = stream.record_event(Some(CUevent_flags::CU_EVENT_DEFAULT))?;
			lt.handle.run(plan, stream, &a, &job.bt, &mut c, &mut workspace)?;
			let end = stream.record_event(Some(CUevent_flags::CU_EVENT_DEFAULT))?;
			best = best.min(start.elapsed_ms(&end)? as f64 / 1e3);
		}
		Ok(Some((format!("cuBLASLt (algorithm #{}, one call)", plan.rank), best)))
	}
}
