//! `proofgrid job layer`: one `linear-i8` layer on the client's data, checked here before its
//! output is accepted. `A` is a local `.npy` file (uploaded) or the output of an earlier layer
//! job (`--a-job`, fetched by the device from the device that computed it); `W` and the biases
//! are uploaded. Once the device has committed `Y`, this command downloads `Y` (checked against
//! the committed root) and the device's accumulators (a hint), checks `Y` exactly with
//! Freivalds' algorithm, and on a wrong element proves it on chain (`dispute_layer`) as soon
//! as the reveal is verified — the device loses its collateral even if the spot check passed.

use std::{path::PathBuf, time::Duration};

use anyhow::{bail, ensure, Context, Result};
use clap::Args;
use proofgrid_client::{
	amount::{format_grid, parse_grid},
	data::{npy_i8_bytes, read_npy_i32_vector, read_npy_i8, Matrix},
	disputes::DisputeOutcome,
	jobs::JobOutcome,
	layers::{layer_fraud_proof, layer_spec},
	to_address, Client, Keypair,
};
use proofgrid_primitives::{
	check::{check_layer, WrongLayerElement, DEFAULT_ROUNDS},
	gemm::GemmShape,
	inputs::{Download, MatrixCommitment},
	job::{InputSource, MAX_SUPPLIED_SAMPLES},
	linear::{output_commitment, Requant},
};
use serde_json::json;
use sp_core::H256;

use crate::{confirm_inputs, outcome_line, print_wrong, random_seed, Output, GRANT_FOR_DOWNLOAD};

/// How long `--wait` follows a verified layer to its settlement (its dispute window: ten
/// minutes on a production chain).
const SETTLE_TIMEOUT: Duration = Duration::from_secs(3600);

/// The arguments of `proofgrid job layer`.
#[derive(Args)]
pub struct LayerArgs {
	/// `A` (m×k, int8 `.npy`): the layer's input rows, uploaded to the device that takes the job.
	/// With `--a-job`, that job's output as you saved it (`--out`): uploaded as well, for when
	/// the device that computed it no longer serves it.
	#[arg(long, required_unless_present = "a_job")]
	pub a: Option<PathBuf>,
	/// Take `A` from the output of this settled `linear-i8` job (chained): the device fetches it
	/// from the device that computed it; this command downloads it too (unless `--a` gives it),
	/// to check the layer.
	#[arg(long)]
	pub a_job: Option<u64>,
	/// `W` (k×n, int8 `.npy`): the weights.
	#[arg(long)]
	pub w: PathBuf,
	/// The `n` biases (int32 `.npy` vector).
	#[arg(long)]
	pub bias: PathBuf,
	/// Requantization multiplier (positive int32; a scale s is multiplier / 2^shift).
	#[arg(long, allow_negative_numbers = true)]
	pub multiplier: i32,
	/// Requantization right shift (0..=62).
	#[arg(long)]
	pub shift: u8,
	/// Apply ReLU (negative outputs become 0).
	#[arg(long)]
	pub relu: bool,
	/// Output elements the chain checks (the chain's default by default): a device that got a
	/// fraction f of `Y` wrong passes with probability (1 − f)^samples, and this command's own
	/// check catches it anyway.
	#[arg(long)]
	pub samples: Option<u32>,
	/// Write the checked output `Y` (m×n, int8 `.npy`) here.
	#[arg(long)]
	pub out: Option<PathBuf>,
	/// Most you pay per work unit, in GRID.
	#[arg(long, default_value = "1")]
	pub price_cap: String,
	/// Blocks the job may wait for a device.
	#[arg(long, default_value_t = 100)]
	pub lifetime: u32,
	/// Follow the job until it settles at the end of its dispute window: its output is then
	/// kept on chain, for a next layer to take with `--a-job`.
	#[arg(long)]
	pub wait: bool,
}

/// The layer's inputs as lanes: `A`'s rows and `W`'s columns (`k` values each) and the biases.
struct LayerData {
	rows: Vec<i8>,
	cols: Vec<i8>,
	bias: Vec<i32>,
	k: usize,
}

/// A layer job that settled with a checked output.
pub struct Done {
	/// The job.
	pub id: u64,
	/// Its output `Y`, m×n row-major.
	pub y: Vec<i8>,
	/// Its shape.
	pub shape: GemmShape,
}

/// Runs `proofgrid job layer`.
pub async fn run(client: &Client, signer: &Keypair, out: &Output, args: LayerArgs) -> Result<Done> {
	let (rows, a_source, k) = match (&args.a, args.a_job) {
		(Some(path), None) => {
			let (_, k, values) = read_npy_i8(path)?;
			(values, InputSource::Upload, k)
		}
		(a, Some(earlier)) => {
			let kept = client.layer_output(earlier).await?.with_context(|| {
				format!(
					"job {earlier} has no output kept on chain: not a settled linear-i8 job, or its retention ended"
				)
			})?;
			let commitment = kept.commitment.0;
			let rows = match a {
				Some(path) => {
					let (_, _, rows) = read_npy_i8(path)?;
					let lanes = rows.chunks_exact(commitment.lane_len.max(1) as usize);
					ensure!(
						MatrixCommitment::of_lanes(lanes) == Some(commitment),
						"{} is not job {earlier}'s output as the chain keeps it",
						path.display()
					);
					rows
				}
				None => {
					let endpoint = client
						.endpoint(&kept.device)
						.await?
						.context("the device that computed it publishes no data service")?;
					let grant = client.grant_download(
						signer,
						kept.device.0,
						earlier,
						Download::Output,
						GRANT_FOR_DOWNLOAD,
					)?;
					client
						.download_layer_rows(&endpoint, earlier, &commitment, Some(&grant))
						.await?
				}
			};
			(rows, InputSource::Job(earlier), commitment.lane_len as usize)
		}
		(None, None) => bail!("give --a or --a-job"),
	};
	let (k_w, n, w) = read_npy_i8(&args.w)?;
	ensure!(k == k_w, "A has {k} columns but W has {k_w} rows");
	let data = LayerData {
		rows,
		cols: Matrix::B.lanes(k_w, n, w),
		bias: read_npy_i32_vector(&args.bias)?,
		k,
	};
	ensure!(data.bias.len() == n, "{} biases for the {n} columns of W", data.bias.len());
	let requant = Requant { multiplier: args.multiplier, shift: args.shift, relu: args.relu };
	let market = client.market_params().await?;
	let samples = args.samples.unwrap_or(market.default_supplied_samples);
	let (min, max) = (market.min_supplied_samples, MAX_SUPPLIED_SAMPLES);
	ensure!(
		(min..=max).contains(&samples),
		"--samples {samples}: the chain checks {min} to {max} elements of a job"
	);
	let spec =
		layer_spec(&data.rows, &data.cols, k, &data.bias, requant, a_source.clone(), samples)?;
	let shape = spec.shape;
	let cap = parse_grid(&args.price_cap).map_err(anyhow::Error::msg)?;
	let from = client.best_number().await?;
	let id = client.submit_job(signer, spec, cap, args.lifetime).await?;
	// What the chain bills: a layer below the minimum work is billed as the minimum.
	let units = client.job(id).await?.map_or(shape.work_units(), |job| job.units);
	let caught = 1.0 - proofgrid_primitives::challenge::pass_probability(0.01, samples);
	out.print(
		json!({
			"submitted": id,
			"kernel": "linear-i8",
			"shape": { "m": shape.m, "n": shape.n, "k": shape.k },
			"units": units,
			"samples": samples,
			"chainedFrom": args.a_job,
		}),
		|| {
			let chained = args.a_job.map(|j| format!(", A from job {j}")).unwrap_or_default();
			format!(
				"submitted layer job {id}: {}×{}×{}{chained}, {units} work unit(s), cap {} GRID/unit; {samples} elements checked on chain (1% wrong → caught {caught:.3}), every element checked here",
				shape.m,
				shape.n,
				shape.k,
				format_grid(cap)
			)
		},
	);
	let device = client.wait_assigned(id, args.lifetime).await?;
	// A chained `A` given here is uploaded too: the device takes whichever arrives first.
	if args.a.is_some() {
		client.upload_input(signer, id, Matrix::A, &data.rows).await?;
	}
	client.upload_input(signer, id, Matrix::B, &data.cols).await?;
	client.upload_bias(signer, id, &data.bias).await?;
	out.print(json!({ "job": id, "uploadedTo": to_address(&device) }), || {
		format!("job {id}: inputs uploaded to device {}", to_address(&device))
	});
	confirm_inputs(client, signer, out, id).await?;
	let root = client.wait_committed(id).await?;
	let endpoint =
		client.endpoint(&device).await?.context("the device withdrew its data service")?;
	let commitment = output_commitment(&shape, H256(root));
	let grant = |what| client.grant_download(signer, device.0, id, what, GRANT_FOR_DOWNLOAD);
	let y = client
		.download_layer_rows(&endpoint, id, &commitment, Some(&grant(Download::Output)?))
		.await?;
	// Only a hint: without it every row is recomputed here.
	let acc_grant = grant(Download::Accumulators)?;
	let acc = match client.download_accumulators(&endpoint, id, &shape, Some(&acc_grant)).await {
		Ok(acc) => acc,
		Err(e) => {
			eprintln!("job {id}: no accumulators from the device ({e}); checking the slow way");
			vec![0; y.len()]
		}
	};

	let started = std::time::Instant::now();
	let seed = u64::from_le_bytes(random_seed()[..8].try_into().expect("8 bytes"));
	let (data, y, checked) = tokio::task::spawn_blocking(move || {
		let checked = check_layer(
			&data.rows,
			&data.cols,
			&data.bias,
			&requant,
			&acc,
			&y,
			data.k,
			seed,
			DEFAULT_ROUNDS,
		);
		(data, y, checked)
	})
	.await?;
	if let Err(wrong) = checked {
		let (found, expected) = (wrong.found.into(), wrong.expected.into());
		print_wrong(out, id, "Y", "the layer", (wrong.row, wrong.column), found, expected);
		prove_wrong(client, signer, out, id, from + 1, &shape, &data, &y, &wrong).await?;
		bail!("job {id}: the device's output was wrong");
	}
	let millis = started.elapsed().as_secs_f64() * 1e3;
	out.print(json!({ "job": id, "checked": { "rounds": DEFAULT_ROUNDS, "ms": millis } }), || {
		format!(
			"job {id}: Y = layer(A, W, bias) checked here in {millis:.1} ms (Freivalds on the accumulators, {DEFAULT_ROUNDS} rounds, then every element)"
		)
	});
	if let Some(path) = &args.out {
		std::fs::write(path, npy_i8_bytes(shape.m as usize, shape.n as usize, &y))
			.with_context(|| format!("writing {}", path.display()))?;
		out.print(json!({ "job": id, "out": path }), || {
			format!("job {id}: Y ({}×{}, int8) written to {}", shape.m, shape.n, path.display())
		});
	}
	if args.wait {
		until_settled(client, out, id, from + 1).await?;
	}
	Ok(Done { id, y, shape })
}

/// Follows job `id` from block `from` to its settlement, a line per outcome.
async fn until_settled(client: &Client, out: &Output, id: u64, mut from: u32) -> Result<()> {
	loop {
		let outcome = client.watch_job(id, from, SETTLE_TIMEOUT, |_, _| {}).await?;
		let block_ms = client.block_time().await?.ms();
		out.print(json!({ "id": id, "end": outcome }), || outcome_line(id, &outcome, block_ms));
		match outcome {
			JobOutcome::Verified { block, .. } => from = block + 1,
			JobOutcome::Settled { .. } => return Ok(()),
			_ => bail!("job {id} did not settle"),
		}
	}
}

/// After the check found `wrong` in job `id`'s committed output `y`: once the chain has ruled
/// on the reveal, prove the element wrong there (if the spot check missed it) and print the
/// verdict.
#[allow(clippy::too_many_arguments)]
async fn prove_wrong(
	client: &Client,
	signer: &Keypair,
	out: &Output,
	id: u64,
	from: u32,
	shape: &GemmShape,
	data: &LayerData,
	y: &[i8],
	wrong: &WrongLayerElement,
) -> Result<()> {
	let outcome = client.watch_job(id, from, Duration::from_secs(600), |_, _| {}).await?;
	let block_ms = client.block_time().await?.ms();
	out.print(json!({ "id": id, "end": outcome }), || outcome_line(id, &outcome, block_ms));
	if !matches!(outcome, JobOutcome::Verified { .. }) {
		// The chain's own check caught it (or the job ended otherwise): nothing to prove.
		return Ok(());
	}
	let element = (wrong.row as u32, wrong.column as u32);
	let proof = layer_fraud_proof(&data.rows, &data.cols, data.k, &data.bias, y, element)?;
	let verdict = client.dispute_layer(signer, id, proof, shape.k).await?;
	let (row, col) = element;
	out.print(json!({ "job": id, "dispute": verdict }), || match &verdict {
		DisputeOutcome::Upheld { slashed, compensation } => format!(
			"job {id}: fraud proof of Y[{row}][{col}] upheld: the device lost {} GRID of collateral; you were refunded and compensated {} GRID",
			format_grid(*slashed),
			format_grid(*compensation)
		),
		DisputeOutcome::Rejected { reason, deposit_burned } => format!(
			"job {id}: fraud proof of Y[{row}][{col}] REJECTED ({reason}); {} GRID deposit burned",
			format_grid(*deposit_burned)
		),
	});
	Ok(())
}
