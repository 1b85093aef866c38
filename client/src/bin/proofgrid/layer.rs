//! `proofgrid job layer`: one `linear-i8` layer on the client's data, checked here before its
//! output is accepted. `A` is a local `.npy` file (uploaded) or the output of an earlier layer
//! job (`--a-job`, fetched by the device from the device that computed it); `W` and the biases
//! are uploaded. Once the device has committed `Y`, this command downloads `Y` (checked against
//! the committed root) and the device's accumulators (a hint), checks `Y` exactly with
//! Freivalds' algorithm, and on a wrong element proves it on chain (`dispute`) as soon
//! as the reveal is verified — the device loses its collateral even if the spot check passed.

use std::{path::PathBuf, time::Duration};

use anyhow::{bail, Context, Result};
use clap::Args;
use proofgrid_client::{
	amount::{format_grid, parse_grid},
	data::{npy_i8_bytes, read_npy_i32_vector, read_npy_i8},
	layers::LayerInputs,
	own::MatmulOptions,
	Client, Error as ClientError, Keypair,
};
use proofgrid_primitives::{gemm::GemmShape, job::InputSource, linear::Requant};
use serde_json::json;

use crate::output::{outcome_line, print_step, Output};

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
	let (w_rows, n, w) = read_npy_i8(&args.w)?;
	let bias = read_npy_i32_vector(&args.bias)?;
	let requant = Requant { multiplier: args.multiplier, shift: args.shift, relu: args.relu };
	let inputs = match (&args.a, args.a_job) {
		(Some(path), None) => {
			let (m, k, values) = read_npy_i8(path)?;
			LayerInputs::new(values, (m, k), w, (w_rows, n), bias, requant)?
		}
		(a, Some(earlier)) => {
			let given = match a {
				Some(path) => Some(read_npy_i8(path)?.2),
				None => None,
			};
			let (rows, k) = client
				.chained_rows(signer, earlier, given)
				.await
				.with_context(|| format!("the output of job {earlier}, for A"))?;
			let m = rows.len() / k.max(1);
			let mut inputs = LayerInputs::new(rows, (m, k), w, (w_rows, n), bias, requant)?;
			inputs.a = InputSource::Job(earlier);
			// A chained `A` given here is uploaded too: the device takes whichever arrives first.
			inputs.upload_a = a.is_some();
			inputs
		}
		(None, None) => bail!("give --a or --a-job"),
	};
	let cap = parse_grid(&args.price_cap).map_err(anyhow::Error::msg)?;
	let options = MatmulOptions {
		samples: args.samples,
		lifetime: args.lifetime,
		..MatmulOptions::capped_at(cap)
	};
	let job = client.submit_layer(signer, inputs, &options).await?;
	let (id, shape, units, samples) = (job.id, job.shape, job.units, job.samples);
	let caught = 1.0 - proofgrid_primitives::challenge::pass_probability(0.01, samples);
	let (budget, deposit, call_fee) =
		client.job(id).await?.map(|j| (j.budget, j.deposit, j.call_fee)).unwrap_or_default();
	out.print(
		json!({
			"submitted": id,
			"kernel": "linear-i8",
			"shape": { "m": shape.m, "n": shape.n, "k": shape.k },
			"units": units,
			"samples": samples,
			"chainedFrom": args.a_job,
			"budget": budget.to_string(),
			"deposit": deposit.to_string(),
			"callFee": call_fee.to_string(),
		}),
		|| {
			let chained = args.a_job.map(|j| format!(", A from job {j}")).unwrap_or_default();
			format!(
				"submitted layer job {id}: {}×{}×{}{chained}, {units} work unit(s), cap {} GRID/unit; held {} GRID budget + {} GRID deposit + {} GRID call fee\n{samples} elements checked on chain (1% wrong → caught {caught:.3}), every element checked here",
				shape.m,
				shape.n,
				shape.k,
				format_grid(cap),
				format_grid(budget),
				format_grid(deposit),
				format_grid(call_fee)
			)
		},
	);
	let block_ms = client.block_time().await?.ms();
	let y = match client
		.follow_layer(signer, &job, |step| print_step(out, id, "Y", step, block_ms))
		.await
	{
		Ok(y) => y,
		Err(ClientError::WrongOutput { .. }) => bail!("job {id}: the device's output was wrong"),
		Err(e) => return Err(e.into()),
	};
	if let Some(path) = &args.out {
		std::fs::write(path, npy_i8_bytes(shape.m as usize, shape.n as usize, &y))
			.with_context(|| format!("writing {}", path.display()))?;
		out.print(json!({ "job": id, "out": path }), || {
			format!("job {id}: Y ({}×{}, int8) written to {}", shape.m, shape.n, path.display())
		});
	}
	if args.wait {
		let from = job.submitted_at + 1;
		let block_ms = client.block_time().await?.ms();
		client
			.until_settled(id, from, SETTLE_TIMEOUT, |outcome| {
				out.print(json!({ "id": id, "end": outcome }), || {
					outcome_line(id, outcome, block_ms)
				})
			})
			.await?;
	}
	Ok(Done { id, y, shape })
}
