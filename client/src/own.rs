//! GEMM jobs on a client's own int8 matrices, end to end: the job's spec and commitments, the
//! upload to the device that claims it, the device's receipt on chain, `C` downloaded against
//! the committed root, `C = A·B` checked here (Freivalds), and a wrong element proven on chain.
//!
//! One definition for every client: the `proofgrid` CLI and the Python package run these
//! steps, and report them through [`Step`]s.

use std::time::{Duration, Instant};

use proofgrid_primitives::{
	check::{freivalds, DEFAULT_ROUNDS},
	device::{Kernel, Requirements},
	gemm::{GemmShape, MAX_DIM, MAX_K},
	inputs::{Download, MatrixCommitment, SuppliedInputs},
	job::{InputSource, JobId, JobInputs, JobSpec, MAX_SUPPLIED_SAMPLES},
};

use crate::{
	data::Matrix,
	disputes::{DisputeOutcome, WrongElement, OWN_GRANT},
	jobs::{JobOutcome, JobStatus},
	market::reasons_not_taken,
	AccountId32, Client, Error, Keypair,
};

/// Between two reads of a job's state.
const POLL: Duration = Duration::from_millis(250);

/// A job's own inputs as lanes (rows of `A`, columns of `B`) and which of them this client
/// uploads (the others a device fetches from a URL).
#[derive(Clone, Debug)]
pub struct OwnInputs {
	/// The GEMM's shape.
	pub shape: GemmShape,
	/// `A`'s `m` rows of `k` values, row after row.
	pub rows: Vec<i8>,
	/// `B`'s `n` columns of `k` values, column after column.
	pub cols: Vec<i8>,
	/// `A` is uploaded by this client.
	pub upload_a: bool,
	/// `B` is uploaded by this client.
	pub upload_b: bool,
}

impl OwnInputs {
	/// Inputs from row-major `a` (`m × k`) and `b` (`k × n`), both uploaded.
	pub fn from_row_major(
		a: Vec<i8>,
		(m, k): (usize, usize),
		b: Vec<i8>,
		(k_b, n): (usize, usize),
	) -> Result<Self, Error> {
		let bad = |why: String| Err(Error::BadInput(why));
		if k != k_b {
			return bad(format!("A is {m}×{k} but B is {k_b}×{n}: the inner dimensions differ"));
		}
		if m == 0 || n == 0 || k == 0 {
			return bad(format!("A is {m}×{k} and B is {k_b}×{n}: an empty matrix"));
		}
		if a.len() != m * k || b.len() != k * n {
			return bad(format!(
				"A holds {} values for {m}×{k}, B {} for {k}×{n}",
				a.len(),
				b.len()
			));
		}
		let dim =
			|d: usize| u32::try_from(d).map_err(|_| Error::BadInput(format!("{d} is too large")));
		let shape = GemmShape { m: dim(m)?, n: dim(n)?, k: dim(k)? };
		if let Err(why) = shape.validate() {
			return bad(format!(
				"{m}×{k} · {k}×{n}: {why:?} (k at most {MAX_K}, m and n at most {MAX_DIM})"
			));
		}
		Ok(Self {
			shape,
			rows: Matrix::A.lanes(m, k, a),
			cols: Matrix::B.lanes(k, n, b),
			upload_a: true,
			upload_b: true,
		})
	}

	/// The commitments the chain keeps to `A` and `B`.
	pub fn commitments(&self) -> Result<SuppliedInputs, Error> {
		let k = self.shape.k as usize;
		let commit = |lanes: &[i8]| {
			MatrixCommitment::of_lanes(lanes.chunks(k))
				.ok_or_else(|| Error::BadInput("a matrix without lanes".into()))
		};
		Ok(SuppliedInputs { a: commit(&self.rows)?, b: commit(&self.cols)? })
	}

	/// The job's spec: these inputs from `a` and `b`, `samples` elements checked by the chain.
	pub fn spec(
		&self,
		(a, b): (InputSource, InputSource),
		samples: u32,
		public_output: bool,
		requirements: Requirements,
	) -> Result<JobSpec, Error> {
		Ok(JobSpec {
			shape: self.shape,
			inputs: JobInputs::Supplied {
				matrices: self.commitments()?,
				a,
				b,
				samples,
				public_output,
			},
			requirements,
		})
	}
}

/// What to ask of a job on own inputs.
#[derive(Clone, Debug)]
pub struct MatmulOptions {
	/// Most paid per work unit, planck.
	pub price_cap: u128,
	/// Output elements the chain checks; the chain's default if `None`.
	pub samples: Option<u32>,
	/// Blocks the job may wait for a device.
	pub lifetime: u32,
	/// Let the device serve `C` to anyone.
	pub public_output: bool,
	/// Minimum device memory (MiB) and throughput (GOPS).
	pub min_vram_mib: u32,
	/// Minimum advertised throughput, GOPS.
	pub min_gops: u64,
}

impl MatmulOptions {
	/// A cap of `price_cap` planck per unit, everything else the defaults (100 blocks to wait).
	pub fn capped_at(price_cap: u128) -> Self {
		Self {
			price_cap,
			samples: None,
			lifetime: 100,
			public_output: false,
			min_vram_mib: 0,
			min_gops: 0,
		}
	}
}

/// A step of a job on own inputs, for whoever shows progress.
#[derive(Clone, Debug)]
pub enum Step {
	/// A device claimed the job and holds the uploaded inputs.
	Uploaded {
		/// The device.
		device: AccountId32,
	},
	/// The device's receipt for the inputs is on chain: giving the job back now costs it.
	InputsConfirmed,
	/// The device served no accumulators for a layer's `Y`: every row is recomputed here.
	NoHint {
		/// Why it served none.
		reason: String,
	},
	/// The output was downloaded, matched the committed root and passed the check here.
	Checked {
		/// How long the check took here.
		millis: f64,
	},
	/// The check found a wrong element of `C`.
	Wrong {
		/// Where.
		row: u64,
		/// Where.
		column: u64,
		/// What the device committed.
		found: i64,
		/// What `A·B` gives.
		expected: i64,
	},
	/// The chain ruled on the job's reveal (after a wrong element was found).
	Ruled(JobOutcome),
	/// A fraud proof of element `[row][column]` was sent and the chain decided it.
	Disputed {
		/// Where.
		row: u64,
		/// Where.
		column: u64,
		/// The chain's verdict.
		verdict: DisputeOutcome,
	},
}

/// A submitted job on own inputs: enough to follow it to its checked output.
#[derive(Clone, Debug)]
pub struct OwnJob {
	/// The job's id.
	pub id: JobId,
	/// The best block when it was submitted: its events come after.
	pub submitted_at: u32,
	/// Its inputs.
	pub inputs: OwnInputs,
	/// Blocks it may wait for a device.
	pub lifetime: u32,
}

impl Client {
	/// Submits `A·B` on `inputs` (uploaded by `signer` to the device that claims it).
	pub async fn submit_own(
		&self,
		signer: &Keypair,
		inputs: OwnInputs,
		options: &MatmulOptions,
	) -> Result<OwnJob, Error> {
		let market = self.market_params().await?;
		let samples = options.samples.unwrap_or(market.default_supplied_samples);
		let (min, max) = (market.min_supplied_samples, MAX_SUPPLIED_SAMPLES);
		if !(min..=max).contains(&samples) {
			return Err(Error::BadInput(format!(
				"{samples} samples: the chain checks {min} to {max} elements of a job"
			)));
		}
		// The chain refuses a job whose reveal would not fit a block's room for one (and
		// charges the submission's fee): said here, before anything is sent.
		let sample = proofgrid_primitives::inputs::sample_bytes(&inputs.shape);
		let reveal = u64::from(samples).saturating_mul(sample);
		if reveal > u64::from(market.max_reveal_bytes) {
			let fits = u64::from(market.max_reveal_bytes) / sample.max(1);
			let GemmShape { m, n, k } = inputs.shape;
			return Err(Error::BadInput(format!(
				"{m}×{k} · {k}×{n} at {samples} samples: the reveal would take {reveal} bytes, \
				 above the chain's {} ({sample} bytes a sample, ~2·k); {}",
				market.max_reveal_bytes,
				if fits >= u64::from(min) {
					format!("use at most {fits} samples")
				} else {
					format!("even {min} samples (the least) do not fit: use a smaller k")
				}
			)));
		}
		if options.price_cap < market.min_price_per_unit {
			return Err(Error::BadInput(format!(
				"a price cap of {} GRID/unit is below the chain's minimum of {} GRID/unit",
				crate::amount::format_grid(options.price_cap),
				crate::amount::format_grid(market.min_price_per_unit)
			)));
		}
		let requirements = Requirements {
			kernel: Kernel::GemmI8,
			min_vram_mib: options.min_vram_mib,
			min_gops: options.min_gops,
		};
		let sources = (InputSource::Upload, InputSource::Upload);
		let spec = inputs.spec(sources, samples, options.public_output, requirements)?;
		let submitted_at = self.best_number().await?;
		let id = self.submit_job(signer, spec, options.price_cap, options.lifetime).await?;
		Ok(OwnJob { id, submitted_at, inputs, lifetime: options.lifetime })
	}

	/// Follows `job` to its output: uploads the inputs `signer` holds once a device claims it,
	/// puts the device's receipt on chain, downloads `C` (checked against the committed root)
	/// and checks `C = A·B`. A wrong `C` is proven on chain once the chain has ruled on the
	/// reveal, and ends in [`Error::WrongOutput`]. Returns `C` (m×n, row-major).
	pub async fn follow_own(
		&self,
		signer: &Keypair,
		job: &OwnJob,
		mut on_step: impl FnMut(Step),
	) -> Result<Vec<i32>, Error> {
		let (id, inputs) = (job.id, &job.inputs);
		let device = self.wait_assigned(id, job.lifetime).await?;
		let uploads = [
			(Matrix::A, inputs.upload_a, &inputs.rows),
			(Matrix::B, inputs.upload_b, &inputs.cols),
		];
		for (matrix, upload, lanes) in uploads {
			if upload {
				self.upload_input(signer, id, matrix, lanes).await?;
			}
		}
		if inputs.upload_a || inputs.upload_b {
			on_step(Step::Uploaded { device });
		}
		if self.confirm_when_held(signer, id).await? {
			on_step(Step::InputsConfirmed);
		}
		let root = self.wait_committed(id).await?;
		let endpoint = self.endpoint(&device).await?.ok_or_else(|| {
			crate::data::no_service("the device withdrew its data service before serving C")
		})?;
		let grant = self.grant_download(signer, device.0, id, Download::Output, OWN_GRANT)?;
		let c = self.download_output(&endpoint, id, &inputs.shape, &root, Some(&grant)).await?;

		// The root proves which C the device committed; Freivalds' check proves it is A·B.
		let started = Instant::now();
		let seed = u64::from_le_bytes(crate::random_bytes()[..8].try_into().expect("8 bytes"));
		let (rows, cols, k) = (inputs.rows.clone(), inputs.cols.clone(), inputs.shape.k as usize);
		let (c, checked) = tokio::task::spawn_blocking(move || {
			let checked = freivalds(&rows, &cols, &c, k, seed, DEFAULT_ROUNDS);
			(c, checked)
		})
		.await
		.map_err(|e| Error::Node(format!("the check stopped: {e}")))?;
		let Err(wrong) = checked else {
			on_step(Step::Checked { millis: started.elapsed().as_secs_f64() * 1e3 });
			return Ok(c);
		};
		let (row, column) = (wrong.row as u32, wrong.column as u32);
		let wrong = WrongElement {
			row,
			column,
			found: i64::from(wrong.found),
			expected: i64::from(wrong.expected),
		};
		let prove = || self.prove_wrong_element(signer, id, inputs, (row, column));
		Err(self.wrong_output(id, job.submitted_at + 1, wrong, &mut on_step, prove).await)
	}

	/// Proves element `(row, column)` of verified job `id`'s output wrong on chain: its leaf
	/// from the device's data service, the fraud proof from `inputs`.
	pub async fn prove_wrong_element(
		&self,
		signer: &Keypair,
		id: JobId,
		inputs: &OwnInputs,
		(row, column): (u32, u32),
	) -> Result<DisputeOutcome, Error> {
		let output = self.committed_output(id).await?;
		let endpoint = self.endpoint(&output.device).await?.ok_or_else(|| {
			crate::data::no_service(
				"the device withdrew its data service: its leaf cannot be downloaded",
			)
		})?;
		let shape = &inputs.shape;
		let leaf_index = shape.leaf_of(row, column);
		let grant =
			self.grant_download(signer, output.device.0, id, Download::Leaves, OWN_GRANT)?;
		let leaf = self
			.download_leaf(&endpoint, id, shape, &output.root, leaf_index, Some(&grant))
			.await?;
		let proof = crate::disputes::fraud_proof(
			&inputs.rows,
			&inputs.cols,
			shape.k as usize,
			(row, column),
			leaf,
		)?;
		self.dispute(signer, id, proof.into(), shape.k).await
	}

	/// Waits until a device claims job `id` (for `lifetime` blocks at most); returns the device.
	/// If none does, [`Error::NotClaimed`] says why each registered device did not.
	pub async fn wait_assigned(&self, id: JobId, lifetime: u32) -> Result<AccountId32, Error> {
		let deadline = self.best_number().await?.saturating_add(lifetime);
		let mut seen = None;
		loop {
			let job = self.job(id).await?;
			match job.as_ref().map(|j| &j.status) {
				Some(JobStatus::Assigned { device, .. }) => return Ok(*device),
				Some(JobStatus::Submitted) if self.best_number().await? <= deadline => {}
				_ => {
					let reasons = match job.as_ref().or(seen.as_ref()) {
						Some(job) => self.unfit_devices(&job.spec.0, job.price_cap).await?,
						None => Vec::new(),
					};
					return Err(Error::NotClaimed { job: id, blocks: lifetime, reasons });
				}
			}
			seen = job.or(seen);
			tokio::time::sleep(POLL).await;
		}
	}

	/// Why no registered device would take a job of `spec` at `price_cap`: a line per device
	/// (its address, then its reasons), or one line if there is no device; empty if some
	/// device may take it.
	pub async fn unfit_devices(
		&self,
		spec: &JobSpec,
		price_cap: u128,
	) -> Result<Vec<String>, Error> {
		let (devices, best, params) =
			(self.all_devices().await?, self.best_number().await?, self.market_params().await?);
		if devices.is_empty() {
			return Ok(vec!["no device is registered on this chain".into()]);
		}
		let mut lines = Vec::new();
		for device in &devices {
			let reasons = reasons_not_taken(device, spec, price_cap, best, &params);
			if reasons.is_empty() {
				return Ok(Vec::new());
			}
			lines.push(format!("device {}: {}", device.device, reasons.join("; ")));
		}
		Ok(lines)
	}

	/// Once the device of job `id` holds every input, puts its receipt on chain
	/// (`Jobs::confirm_inputs`), so that it can no longer give the job back for free. `true`
	/// once that is done; `false` if the job moved on first (committed: nothing to protect).
	pub async fn confirm_when_held(&self, signer: &Keypair, id: JobId) -> Result<bool, Error> {
		while let Some(JobStatus::Assigned { inputs_received: false, .. }) =
			self.job(id).await?.map(|j| j.status)
		{
			match self.confirm_inputs(signer, id).await {
				Ok(true) => return Ok(true),
				Ok(false) => tokio::time::sleep(Duration::from_millis(500)).await,
				// The device may commit (or the job end) between the read and the call.
				Err(e) => {
					let status = self.job(id).await?.map(|j| j.status);
					if matches!(status, Some(JobStatus::Assigned { .. })) {
						return Err(e);
					}
					return Ok(false);
				}
			}
		}
		Ok(false)
	}

	/// Waits until the device of job `id` commits its output; returns the committed root.
	pub async fn wait_committed(&self, id: JobId) -> Result<[u8; 32], Error> {
		loop {
			match self.job(id).await?.map(|j| j.status) {
				Some(JobStatus::Committed { root, .. }) => return Ok(root.0),
				Some(JobStatus::Assigned { .. }) => {}
				other => {
					let now = match other {
						Some(status) => crate::jobs::state_name(&status).to_string(),
						None => "finished (its end is in the events)".to_string(),
					};
					let state = format!("before its output was committed: {now}");
					return Err(Error::Ended { job: id, state });
				}
			}
			tokio::time::sleep(POLL).await;
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn inputs_are_checked_and_laid_out_as_lanes() {
		let inputs =
			OwnInputs::from_row_major(vec![1, 2, 3, 4, 5, 6], (2, 3), vec![7, 8, 9], (3, 1))
				.unwrap();
		assert_eq!(inputs.shape, GemmShape { m: 2, n: 1, k: 3 });
		assert_eq!(inputs.rows, vec![1, 2, 3, 4, 5, 6]);
		assert_eq!(inputs.cols, vec![7, 8, 9]);
		let bad = |a: Vec<i8>, ash, b: Vec<i8>, bsh| match OwnInputs::from_row_major(a, ash, b, bsh)
		{
			Err(Error::BadInput(why)) => why,
			other => panic!("{other:?}"),
		};
		assert!(bad(vec![0; 6], (2, 3), vec![0; 8], (4, 2)).contains("inner dimensions differ"));
		assert!(bad(vec![], (0, 3), vec![0; 3], (3, 1)).contains("empty"));
		assert!(bad(vec![0; 5], (2, 3), vec![0; 3], (3, 1)).contains("holds 5 values"));
	}
}
