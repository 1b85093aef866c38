//! `linear-i8` layer jobs from the client's side: a layer's spec from its matrices and biases,
//! and the job followed to its checked output `Y` — uploaded inputs, the device's receipt, `Y`
//! downloaded against the committed root, checked exactly here (Freivalds on the device's
//! accumulators, then every element), a wrong element proven on chain. The chain checks the
//! rest (docs/PROTOCOL.md, "`linear-i8` jobs"). The CLI and the Python package run these.

use std::time::{Duration, Instant};

use proofgrid_primitives::{
	check::{check_layer, DEFAULT_ROUNDS},
	device::{Kernel, Requirements},
	gemm::GemmShape,
	inputs::{Download, MatrixCommitment, SuppliedInputs},
	job::{InputSource, JobId, JobInputs, JobSpec, MAX_SUPPLIED_SAMPLES},
	linear::{
		bias_root, bias_tree, output_commitment, Layer, LayerFraudProof, LayerSample, Requant,
	},
};
use sp_core::H256;

use crate::{
	data::Matrix,
	disputes::{lane_path, WrongElement, OWN_GRANT},
	jobs::JobOutcome,
	own::{MatmulOptions, Step},
	Client, Error, Keypair,
};

/// A layer's own data as lanes: `A`'s rows and `W`'s columns (`k` values each), the biases and
/// the requantization, and where `A` comes from.
#[derive(Clone, Debug)]
pub struct LayerInputs {
	/// `A`'s `m` rows of `k` values.
	pub rows: Vec<i8>,
	/// `W`'s `n` columns of `k` values.
	pub cols: Vec<i8>,
	/// One bias per column of `W`.
	pub bias: Vec<i32>,
	/// The inner dimension.
	pub k: usize,
	/// Requantization and activation.
	pub requant: Requant,
	/// `A`: uploaded, or an earlier layer job's output (fetched by the device).
	pub a: InputSource,
	/// Upload `A` too (a chained `A` given here is uploaded as well: the device takes whichever
	/// arrives first).
	pub upload_a: bool,
}

impl LayerInputs {
	/// A layer on row-major `a` (m×k), `w` (k×n) and `bias` (n), `A` uploaded.
	pub fn new(
		a: Vec<i8>,
		(m, k): (usize, usize),
		w: Vec<i8>,
		(k_w, n): (usize, usize),
		bias: Vec<i32>,
		requant: Requant,
	) -> Result<Self, Error> {
		let bad = |why: String| Err(Error::BadInput(why));
		if k != k_w {
			return bad(format!("A has {k} columns but W has {k_w} rows"));
		}
		if m == 0 || n == 0 || k == 0 {
			return bad(format!("A is {m}×{k} and W is {k_w}×{n}: an empty matrix"));
		}
		if a.len() != m * k || w.len() != k * n {
			return bad(format!(
				"A holds {} values for {m}×{k}, W {} for {k}×{n}",
				a.len(),
				w.len()
			));
		}
		if bias.len() != n {
			return bad(format!("{} biases for the {n} columns of W", bias.len()));
		}
		if let Err(e) = requant.validate() {
			return bad(format!("requantization {requant:?}: {e:?}"));
		}
		Ok(Self {
			rows: a,
			cols: Matrix::B.lanes(k, n, w),
			bias,
			k,
			requant,
			a: InputSource::Upload,
			upload_a: true,
		})
	}

	/// The job's spec, `samples` elements checked by the chain.
	pub fn spec(&self, samples: u32) -> Result<JobSpec, Error> {
		let spec = layer_spec(
			&self.rows,
			&self.cols,
			self.k,
			&self.bias,
			self.requant,
			self.a.clone(),
			samples,
		)?;
		Ok(spec)
	}
}

/// A submitted layer job on own data.
#[derive(Clone, Debug)]
pub struct LayerJob {
	/// The job's id.
	pub id: JobId,
	/// The best block when it was submitted.
	pub submitted_at: u32,
	/// Its shape (`m × k` · `k × n`).
	pub shape: GemmShape,
	/// Its data.
	pub inputs: LayerInputs,
	/// Blocks it may wait for a device.
	pub lifetime: u32,
	/// Work units billed (a layer below the minimum is billed as the minimum).
	pub units: u64,
	/// Elements the chain checks.
	pub samples: u32,
}

impl Client {
	/// The rows of settled layer job `earlier`'s output, for a next layer's `A`: `given` (the
	/// client's saved copy) checked against the commitment the chain keeps, or downloaded from
	/// the device that computed it. Returns the rows and their length (the next `k`).
	pub async fn chained_rows(
		&self,
		signer: &Keypair,
		earlier: JobId,
		given: Option<Vec<i8>>,
	) -> Result<(Vec<i8>, usize), Error> {
		let kept = self.layer_output(earlier).await?.ok_or_else(|| {
			Error::BadInput(format!(
				"job {earlier} has no output kept on chain: not a settled linear-i8 job, or its retention ended"
			))
		})?;
		let commitment = kept.commitment.0;
		let k = commitment.lane_len as usize;
		let rows = match given {
			Some(rows) => {
				if MatrixCommitment::of_lanes(rows.chunks_exact(k.max(1))) != Some(commitment) {
					return Err(Error::BadInput(format!(
						"those rows are not job {earlier}'s output as the chain keeps it"
					)));
				}
				rows
			}
			None => {
				let endpoint = self.endpoint(&kept.device).await?.ok_or_else(|| {
					crate::data::no_service("the device that computed it publishes no data service")
				})?;
				let grant = self.grant_download(
					signer,
					kept.device.0,
					earlier,
					Download::Output,
					OWN_GRANT,
				)?;
				self.download_layer_rows(&endpoint, earlier, &commitment, Some(&grant)).await?
			}
		};
		Ok((rows, k))
	}

	/// Submits a layer job on `inputs` at `options`' price cap, samples and lifetime.
	pub async fn submit_layer(
		&self,
		signer: &Keypair,
		inputs: LayerInputs,
		options: &MatmulOptions,
	) -> Result<LayerJob, Error> {
		let market = self.market_params().await?;
		let samples = options.samples.unwrap_or(market.default_supplied_samples);
		let (min, max) = (market.min_supplied_samples, MAX_SUPPLIED_SAMPLES);
		if !(min..=max).contains(&samples) {
			return Err(Error::BadInput(format!(
				"{samples} samples: the chain checks {min} to {max} elements of a job"
			)));
		}
		if options.price_cap < market.min_price_per_unit {
			return Err(Error::BadInput(format!(
				"a price cap of {} GRID/unit is below the chain's minimum of {} GRID/unit",
				crate::amount::format_grid(options.price_cap),
				crate::amount::format_grid(market.min_price_per_unit)
			)));
		}
		let spec = inputs.spec(samples)?;
		let shape = spec.shape;
		let submitted_at = self.best_number().await?;
		let id = self.submit_job(signer, spec, options.price_cap, options.lifetime).await?;
		let units = self.job(id).await?.map_or(shape.work_units(), |job| job.units);
		Ok(LayerJob { id, submitted_at, shape, inputs, lifetime: options.lifetime, units, samples })
	}

	/// Follows layer `job` to its checked output `Y` (m×n, row-major): uploads `W`, the biases
	/// (and `A` if the job's inputs say so) once a device claims it, puts the device's receipt
	/// on chain, downloads `Y` against the committed root and the device's accumulators (a
	/// hint), and checks every element. A wrong `Y` is proven on chain once the chain has ruled
	/// on the reveal, and ends in [`Error::WrongOutput`].
	pub async fn follow_layer(
		&self,
		signer: &Keypair,
		job: &LayerJob,
		mut on_step: impl FnMut(Step),
	) -> Result<Vec<i8>, Error> {
		let (id, inputs, shape) = (job.id, &job.inputs, job.shape);
		let device = self.wait_assigned(id, job.lifetime).await?;
		if inputs.upload_a {
			self.upload_input(signer, id, Matrix::A, &inputs.rows).await?;
		}
		self.upload_input(signer, id, Matrix::B, &inputs.cols).await?;
		self.upload_bias(signer, id, &inputs.bias).await?;
		on_step(Step::Uploaded { device });
		if self.confirm_when_held(signer, id).await? {
			on_step(Step::InputsConfirmed);
		}
		let root = self.wait_committed(id).await?;
		let endpoint = self.endpoint(&device).await?.ok_or_else(|| {
			crate::data::no_service("the device withdrew its data service before serving Y")
		})?;
		let commitment = output_commitment(&shape, H256(root));
		let grant = |what| self.grant_download(signer, device.0, id, what, OWN_GRANT);
		let y = self
			.download_layer_rows(&endpoint, id, &commitment, Some(&grant(Download::Output)?))
			.await?;
		// Only a hint: without it every row is recomputed here.
		let acc_grant = grant(Download::Accumulators)?;
		let acc = match self.download_accumulators(&endpoint, id, &shape, Some(&acc_grant)).await {
			Ok(acc) => acc,
			Err(e) => {
				on_step(Step::NoHint { reason: e.to_string() });
				vec![0; y.len()]
			}
		};

		let started = Instant::now();
		let seed = u64::from_le_bytes(crate::random_bytes()[..8].try_into().expect("8 bytes"));
		let data = inputs.clone();
		let (y, checked) = tokio::task::spawn_blocking(move || {
			let checked = check_layer(
				&data.rows,
				&data.cols,
				&data.bias,
				&data.requant,
				&acc,
				&y,
				data.k,
				seed,
				DEFAULT_ROUNDS,
			);
			(y, checked)
		})
		.await
		.map_err(|e| Error::Node(format!("the check stopped: {e}")))?;
		let Err(wrong) = checked else {
			on_step(Step::Checked { millis: started.elapsed().as_secs_f64() * 1e3 });
			return Ok(y);
		};
		let (row, column) = (wrong.row as u32, wrong.column as u32);
		let wrong = WrongElement {
			row,
			column,
			found: i64::from(wrong.found),
			expected: i64::from(wrong.expected),
		};
		let prove = || async {
			let (rows, cols, bias) = (&inputs.rows, &inputs.cols, &inputs.bias);
			let proof = layer_fraud_proof(rows, cols, inputs.k, bias, &y, (row, column))?;
			self.dispute(signer, id, proof.into(), shape.k).await
		};
		Err(self.wrong_output(id, job.submitted_at + 1, wrong, &mut on_step, prove).await)
	}

	/// Follows job `id` from block `from` until it settles (a layer's output is then kept on
	/// chain for a next layer), calling `on_end` with each outcome on the way (verified, then
	/// settled); [`Error::Ended`] if it ends otherwise.
	pub async fn until_settled(
		&self,
		id: JobId,
		mut from: u32,
		timeout: Duration,
		mut on_end: impl FnMut(&JobOutcome),
	) -> Result<JobOutcome, Error> {
		loop {
			let outcome = self.watch_job(id, from, timeout, |_, _| {}).await?;
			on_end(&outcome);
			match outcome {
				JobOutcome::Verified { block, .. } => from = block + 1,
				JobOutcome::Settled { .. } => return Ok(outcome),
				other => {
					let state = format!("without settling: {other:?}");
					return Err(Error::Ended { job: id, state });
				}
			}
		}
	}
}

/// The spec of a layer on `A`'s rows and `W`'s columns (`k` values each, lane after lane),
/// `bias` (one per column of `W`) and `requant`, with `A` from `a` (an upload, a URL, or the
/// output of an earlier layer job, whose rows these must be), `W` and the biases uploaded, and
/// `samples` challenged elements.
pub fn layer_spec(
	rows: &[i8],
	cols: &[i8],
	k: usize,
	bias: &[i32],
	requant: Requant,
	a: InputSource,
	samples: u32,
) -> Result<JobSpec, Error> {
	let bad = |what: &str| Error::BadInput(what.to_string());
	requant.validate().map_err(|e| bad(&format!("requantization: {e:?}")))?;
	if k == 0 || !rows.len().is_multiple_of(k) || !cols.len().is_multiple_of(k) {
		return Err(bad("A and W must be lanes of k values"));
	}
	if cols.len() / k != bias.len() {
		return Err(bad("one bias per column of W"));
	}
	if let Some(widest) = all_zero_output(cols, k, bias, requant) {
		return Err(bad(&format!(
			"every element of Y would be 0 whatever A holds: A·W + bias stays within ±{widest}, \
			 and multiplier {} / 2^{} maps all of it to 0 — a larger --multiplier or a smaller \
			 --shift (the chain would take the job and pay for nothing)",
			requant.multiplier, requant.shift
		)));
	}
	let commit = |lanes: &[i8]| {
		MatrixCommitment::of_lanes(lanes.chunks_exact(k)).ok_or_else(|| bad("an empty matrix"))
	};
	let matrices = SuppliedInputs { a: commit(rows)?, b: commit(cols)? };
	let shape = matrices.shape().map_err(|e| bad(&format!("shape: {e:?}")))?;
	let layer = Layer { bias: bias_root(bias).ok_or_else(|| bad("no biases"))?, requant };
	Ok(JobSpec {
		shape,
		inputs: JobInputs::Layer {
			matrices,
			a,
			b: InputSource::Upload,
			bias: InputSource::Upload,
			layer,
			samples,
			public_output: false,
		},
		requirements: Requirements { kernel: Kernel::LinearI8, min_vram_mib: 0, min_gops: 0 },
	})
}

/// `Some(the widest |A·W + bias| of any column)` if `requant` maps every value each column can
/// take to 0, whatever `A` holds (`|a| ≤ 128`): such a layer computes nothing. The epilogue is
/// monotone, so a column is all zero when both ends of its range are.
fn all_zero_output(cols: &[i8], k: usize, bias: &[i32], requant: Requant) -> Option<i64> {
	let mut widest = 0i64;
	for (col, &b) in cols.chunks_exact(k).zip(bias) {
		let reach: i64 = col.iter().map(|&w| 128 * i64::from(w).abs()).sum();
		// |A·W| ≤ 128 · k · 128 fits an i32 for every k the chain takes.
		let acc = i32::try_from(reach).unwrap_or(i32::MAX);
		if requant.apply(-acc, b) != 0 || requant.apply(acc, b) != 0 {
			return None;
		}
		widest = widest.max(i64::from(b).abs() + reach);
	}
	Some(widest)
}

/// The fraud proof of element `(row, col)` of a layer's output `y` (its `m` rows of `n`
/// values, as the device committed them), from the layer's own inputs: `A`'s rows and `W`'s
/// columns (`k` values each) and the biases. Everything comes from data the client holds; the
/// output rows' paths prove them against the committed root.
pub fn layer_fraud_proof(
	rows: &[i8],
	cols: &[i8],
	k: usize,
	bias: &[i32],
	y: &[i8],
	(row, col): (u32, u32),
) -> Result<LayerFraudProof, Error> {
	let n = bias.len();
	let lane = |lanes: &[i8], index: u32, len: usize| {
		let start = index as usize * len;
		lanes
			.get(start..start + len)
			.ok_or_else(|| Error::BadInput(format!("no lane {index}")))?
			.to_vec()
			.try_into()
			.map_err(|_| Error::BadInput("a lane longer than any job's".into()))
	};
	let tree = bias_tree(bias).ok_or_else(|| Error::BadInput("no biases".into()))?;
	let bias_path = tree
		.proof(col.into())
		.map_err(|e| Error::BadInput(format!("no bias {col} ({e:?})")))?
		.into_iter()
		.map(H256)
		.collect::<Vec<_>>()
		.try_into()
		.map_err(|_| Error::BadInput("a bias path deeper than any job's".into()))?;
	Ok(LayerFraudProof {
		element: (row, col),
		sample: LayerSample {
			output_row: lane(y, row, n)?,
			output_path: lane_path(y, n, row as usize)?,
			row: lane(rows, row, k)?,
			row_path: lane_path(rows, k, row as usize)?,
			col: lane(cols, col, k)?,
			col_path: lane_path(cols, k, col as usize)?,
			bias: *bias
				.get(col as usize)
				.ok_or_else(|| Error::BadInput(format!("no bias {col}")))?,
			bias_path,
		},
	})
}

#[cfg(test)]
mod tests {
	use super::*;
	use proofgrid_primitives::testing::layer::LayerJob;

	const SCALE: Requant = Requant { multiplier: 1 << 30, shift: 40, relu: true };

	#[test]
	fn a_layers_spec_commits_to_its_matrices_and_biases_and_chains_by_output() {
		let first = LayerJob::new(9, 7, 5, 1, SCALE);
		let spec = layer_spec(
			&first.rows.concat(),
			&first.cols.concat(),
			5,
			&first.bias,
			SCALE,
			InputSource::Upload,
			32,
		)
		.unwrap();
		assert_eq!(spec.shape, first.shape);
		assert_eq!(spec.supplied(), Some(&first.inputs));
		assert_eq!(spec.layer(), Some(&first.layer));
		assert_eq!(spec.output_kind(), Some(proofgrid_primitives::job::OutputKind::Layer));
		// The next layer on the first's output: its `A` commitment is that output's.
		let cols = LayerJob::new(9, 3, 7, 2, SCALE).cols.concat();
		let next = layer_spec(
			&first.output.concat(),
			&cols,
			7,
			&[1, 2, 3],
			SCALE,
			InputSource::Job(4),
			32,
		)
		.unwrap();
		assert_eq!(next.supplied().map(|m| m.a), Some(first.output_commitment()));
		assert_eq!(next.chained_from(), Some(4));
		// What the chain would refuse anyway is refused here with a reason.
		let refuse = |rows: &[i8], cols: &[i8], k, bias: &[i32], requant| {
			layer_spec(rows, cols, k, bias, requant, InputSource::Upload, 32).unwrap_err()
		};
		refuse(&[1; 4], &[1; 4], 2, &[0], SCALE); // two columns, one bias
		refuse(&[1; 5], &[1; 4], 2, &[0, 0], SCALE); // rows not lanes of k
		refuse(&[1; 4], &[1; 4], 2, &[0, 0], Requant { multiplier: 0, ..SCALE });
		refuse(&[], &[], 2, &[], SCALE);
		// A scale that maps every reachable value to 0 (the issue's `--multiplier 1000` at
		// shift 42): refused; the same layer at a working scale is not.
		let tiny = Requant { multiplier: 1000, shift: 42, relu: false };
		let why = refuse(&[1; 4], &[127; 4], 2, &[5, -5], tiny).to_string();
		assert!(why.contains("every element of Y would be 0"), "{why}");
		assert!(layer_spec(&[1; 4], &[127; 4], 2, &[5, -5], SCALE, InputSource::Upload, 32).is_ok());
		// One live column is enough: a ReLU layer may zero others.
		let relu = Requant { multiplier: 1 << 20, shift: 30, relu: true };
		assert!(all_zero_output(&[127, 127, -1, -1], 2, &[0, 0], relu).is_none());
		assert!(all_zero_output(&[0, 0, 0, 0], 2, &[-100, -100], relu).is_some());
	}

	#[test]
	fn a_fraud_proof_from_the_clients_data_proves_a_wrong_element_and_no_right_one() {
		use proofgrid_primitives::linear::{layer_fraud_proven, LayerFraudRefused};
		let honest = LayerJob::new(9, 7, 5, 1, SCALE);
		let wrong = LayerJob::new(9, 7, 5, 1, SCALE).doctored(|i, j, y| {
			if (i, j) == (4, 6) {
				*y = y.wrapping_add(1);
			}
		});
		let (rows, cols) = (honest.rows.concat(), honest.cols.concat());
		let prove = |job: &LayerJob, element| {
			let proof =
				layer_fraud_proof(&rows, &cols, 5, &job.bias, &job.output.concat(), element)
					.unwrap();
			layer_fraud_proven(&job.inputs, &job.layer, &job.shape, &job.root(), &proof)
		};
		assert_eq!(prove(&wrong, (4, 6)), Ok(()));
		assert_eq!(prove(&wrong, (4, 5)), Err(LayerFraudRefused::ElementCorrect));
		assert_eq!(prove(&honest, (4, 6)), Err(LayerFraudRefused::ElementCorrect));
		assert!(layer_fraud_proof(&rows, &cols, 5, &honest.bias, &[], (0, 0)).is_err());
	}
}
