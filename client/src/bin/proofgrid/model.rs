//! `proofgrid model register|show|remove`: whole models (docs/MODELS.md) on chain.
//!
//! `proofgrid model run DIR --id ID --x BATCH.npy`: registered model `ID` (its files in `DIR`)
//! on a batch as one job, every layer checked here and the job settled.
//!
//! `proofgrid model run DIR`: a quantized network as a chain of `linear-i8` jobs. `DIR` holds
//! `model.json` (as `scripts/mlp_model.py` writes it: the layers' weight and bias files and
//! requantization, optionally the batch's labels and the logits the model's own pipeline
//! computed) and the input batch `x.npy`. Layer 1 takes `x.npy` (uploaded); each next layer
//! takes the previous one's settled output (`--a-job`), so only weights and biases are
//! uploaded. Every layer is checked here and verified on chain before the next starts.

use std::path::PathBuf;

use anyhow::{ensure, Context, Result};
use clap::{Args, Subcommand};
use proofgrid_client::{amount::format_grid, model::ModelFile, Client, Keypair};
use serde_json::{json, Value};

use crate::{layer, output::Output};

#[derive(Subcommand)]
pub(crate) enum ModelCommand {
	/// Run the network of a model directory (`model.json`, `x.npy`, weights, biases; see
	/// `examples/mlp`) on its batch, layer after layer, and print the predicted classes.
	Run(ModelArgs),
	/// Register an imported model directory (`python -m proofgrid.onnx_import`; see
	/// docs/MODELS.md) on chain: its layers and weights' roots, a deposit held.
	Register {
		/// The model's directory (`model.json` with `"format": 1` and its `.npy` files).
		dir: PathBuf,
		/// Where devices will fetch the weights from (`http://` or `https://`).
		#[arg(long)]
		weights_url: Option<String>,
	},
	/// A registered model: its registrant, deposit, layers and weights' roots.
	Show {
		/// The model's id.
		id: u64,
	},
	/// Remove one of your models and get its deposit back (refused while jobs use it).
	Remove {
		/// The model's id.
		id: u64,
	},
}

/// `proofgrid model run DIR --id ID`: the registered model on the batch as one job, checked
/// here, settled on chain; prints the predicted classes.
async fn run_registered(
	client: &Client,
	signer: &Keypair,
	out: &Output,
	args: ModelArgs,
) -> Result<()> {
	use proofgrid_client::{
		amount::parse_grid,
		data::{fetch_npy_i8, MAX_NPY_HEADER},
		npy::read_npy_i8,
		own::MatmulOptions,
	};
	use proofgrid_primitives::job::InputSource;
	// No larger than a worker fetches by default (`--max-input-mib` 1024).
	const MAX_URL_BATCH: usize = (1 << 30) + MAX_NPY_HEADER + 12;
	let id = args.id.context("--id")?;
	let file = ModelFile::load(&args.dir)?;
	let (source, (images, values, input), x) = match &args.x_url {
		// Read here once, to commit to it; the device fetches it.
		Some(url) => {
			let source = InputSource::Url(
				url.clone().into_bytes().try_into().map_err(|_| anyhow::anyhow!("URL too long"))?,
			);
			ensure!(source.is_valid(), "{url} is not an http:// or https:// URL");
			let read =
				fetch_npy_i8(url, MAX_URL_BATCH).await.with_context(|| format!("--x-url {url}"))?;
			(source, read, url.clone())
		}
		None => {
			let x = args.x.clone().unwrap_or_else(|| args.dir.join("x.npy"));
			let read = read_npy_i8(&x).with_context(|| format!("--x {}", x.display()))?;
			(InputSource::Upload, read, x.display().to_string())
		}
	};
	ensure!(
		values as u64 == file.model.input.values(),
		"{x} holds {values} values per image; the model takes {}×{}×{}",
		file.model.input.height,
		file.model.input.width,
		file.model.input.channels
	);
	let batch = u32::try_from(images).context("too many images")?;
	let cap = parse_grid(&args.price_cap).map_err(anyhow::Error::msg)?;
	let options = MatmulOptions {
		samples: args.samples,
		lifetime: args.lifetime,
		..MatmulOptions::capped_at(cap)
	};
	let job = client.submit_model_from(signer, id, &file, batch, input, source, &options).await?;
	let (job_id, units, samples) = (job.id, job.units, job.samples);
	let layers = file.model.layers.len();
	let (budget, deposit, call_fee) =
		client.job(job_id).await?.map(|j| (j.budget, j.deposit, j.call_fee)).unwrap_or_default();
	out.print(
		json!({ "submitted": job_id, "kernel": "model-i8", "model": id, "batch": batch,
			"layers": layers, "units": units, "samples": samples, "budget": budget.to_string(),
			"deposit": deposit.to_string(), "callFee": call_fee.to_string() }),
		|| {
			format!(
				"submitted model job {job_id}: model {id} ({layers} layers) on {batch} images, {units} \
				 work unit(s), cap {} GRID/unit; held {} GRID budget + {} GRID deposit + {} GRID call \
				 fee\n{samples} elements checked on chain (split across the layers), every layer \
				 checked here",
				format_grid(cap),
				format_grid(budget),
				format_grid(deposit),
				format_grid(call_fee)
			)
		},
	);
	let block_ms = client.block_time().await?.ms();
	let outputs = match client
		.follow_model(signer, &job, &file, |step| {
			crate::output::print_step(out, job_id, crate::output::MODEL_OUTPUTS, step, block_ms)
		})
		.await
	{
		Ok(outputs) => outputs,
		Err(proofgrid_client::Error::WrongOutput { .. }) => {
			anyhow::bail!("job {job_id}: the device's output was wrong")
		}
		Err(e) => return Err(e.into()),
	};
	client
		.until_settled(job_id, job.submitted_at + 1, std::time::Duration::from_secs(3600), |o| {
			out.print(json!({ "id": job_id, "end": o }), || {
				crate::output::outcome_line(job_id, o, block_ms)
			})
		})
		.await?;
	let logits = outputs.last().context("a model without layers")?;
	let classes_count = logits.len() / images.max(1);
	let classes: Vec<usize> = logits
		.chunks_exact(classes_count.max(1))
		.map(|row| (0..row.len()).max_by_key(|&j| (row[j], std::cmp::Reverse(j))).unwrap_or(0))
		.collect();
	out.print(json!({ "job": job_id, "classes": classes }), || {
		format!("predicted classes: {classes:?}")
	});
	Ok(())
}

/// `proofgrid model register`.
pub async fn register(
	client: &Client,
	signer: &Keypair,
	out: &Output,
	dir: PathBuf,
	weights_url: Option<String>,
) -> Result<()> {
	let file = ModelFile::load(&dir)?;
	let id = client.register_model(signer, &file, weights_url.as_deref()).await?;
	let registered =
		client.model(id).await?.context("the model is gone right after registering")?;
	out.print(serde_json::to_value(&registered)?, || {
		format!(
			"registered model {id} ({} layers: {}), deposit {} GRID held",
			file.model.layers.len(),
			file.names.join(", "),
			format_grid(registered.deposit)
		)
	});
	Ok(())
}

/// `proofgrid model show`.
pub async fn show(client: &Client, out: &Output, id: u64) -> Result<()> {
	let registered = client.model(id).await?.with_context(|| format!("there is no model {id}"))?;
	let layers: Vec<String> = registered.model.layers.iter().map(|op| format!("{op:?}")).collect();
	let roots: Vec<String> = registered
		.weights
		.iter()
		.map(|w| format!("weights {:?}, biases {:?}", w.lanes, w.bias))
		.collect();
	let mut value = serde_json::to_value(&registered)?;
	value["layers"] = json!(layers);
	value["weightRoots"] = json!(roots);
	out.print(value, || {
		let input = registered.model.input;
		let mut text = format!(
			"model {id}: registered by {}, deposit {} GRID, {} job(s) using it\ninput {}×{}×{} (zero point {})",
			registered.owner,
			format_grid(registered.deposit),
			registered.users,
			input.height,
			input.width,
			input.channels,
			registered.model.input_zero_point
		);
		for (i, layer) in layers.iter().enumerate() {
			text += &format!("\n  {i}: {layer}");
		}
		for root in &roots {
			text += &format!("\n  {root}");
		}
		if let Some(url) = &registered.weights_url {
			text += &format!("\nweights from {url}");
		}
		text
	});
	Ok(())
}

/// `proofgrid model remove`.
pub async fn remove(client: &Client, signer: &Keypair, out: &Output, id: u64) -> Result<()> {
	client.remove_model(signer, id).await?;
	out.print(json!({ "removed": id }), || {
		format!("removed model {id}; its deposit is free again")
	});
	Ok(())
}

/// The arguments of `proofgrid model run`.
#[derive(Args)]
pub struct ModelArgs {
	/// The model's directory (`model.json`, `x.npy`, the weights and biases).
	dir: PathBuf,
	/// Run registered model `ID` (whose files are in the directory, as `proofgrid model
	/// register` read them) as one job, instead of a chain of layer jobs.
	#[arg(long)]
	id: Option<u64>,
	/// The batch (`int8`, one row per image, NHWC), for `--id`; the directory's `x.npy` by
	/// default.
	#[arg(long, conflicts_with = "x_url")]
	x: Option<PathBuf>,
	/// The batch at a URL (the same `.npy` file), for `--id`: read here to commit to it, and
	/// fetched by the device instead of uploaded.
	#[arg(long)]
	x_url: Option<String>,
	/// Output elements the chain checks per layer (the chain's default by default).
	#[arg(long)]
	samples: Option<u32>,
	/// Most you pay per work unit, in GRID.
	#[arg(long, default_value = "1")]
	price_cap: String,
	/// Blocks each layer job may wait for a device.
	#[arg(long, default_value_t = 100)]
	lifetime: u32,
}

/// Runs the model's layers as chained jobs and prints the batch's predicted classes.
pub async fn run(client: &Client, signer: &Keypair, out: &Output, args: ModelArgs) -> Result<()> {
	if args.id.is_some() {
		return run_registered(client, signer, out, args).await;
	}
	let path = args.dir.join("model.json");
	let model: Value = serde_json::from_slice(
		&std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
	)
	.with_context(|| format!("{} is not JSON", path.display()))?;
	let layers = model["layers"].as_array().context("model.json has no \"layers\"")?;
	ensure!(!layers.is_empty(), "model.json has no layers");
	let mut previous: Option<u64> = None;
	let (mut logits, mut classes_count) = (Vec::new(), 1);
	for (index, spec) in layers.iter().enumerate() {
		let file = |key: &str| -> Result<PathBuf> {
			let name = spec[key].as_str().with_context(|| format!("layer {index}: no {key}"))?;
			Ok(args.dir.join(name))
		};
		let number =
			|key: &str| spec[key].as_i64().with_context(|| format!("layer {index}: no {key}"));
		let layer_args = layer::LayerArgs {
			a: previous.is_none().then(|| args.dir.join("x.npy")),
			a_job: previous,
			w: file("weights")?,
			bias: file("bias")?,
			multiplier: i32::try_from(number("multiplier")?)?,
			shift: u8::try_from(number("shift")?)?,
			relu: spec["relu"].as_bool().unwrap_or(false),
			samples: args.samples,
			out: None,
			price_cap: args.price_cap.clone(),
			lifetime: args.lifetime,
			// Settled: its output is kept on chain for the next layer.
			wait: true,
		};
		let done = layer::run(client, signer, out, layer_args).await?;
		previous = Some(done.id);
		(logits, classes_count) = (done.y, done.shape.n as usize);
	}
	let classes: Vec<usize> = logits
		.chunks_exact(classes_count)
		.map(|row| (0..row.len()).max_by_key(|&j| (row[j], std::cmp::Reverse(j))).unwrap_or(0))
		.collect();
	let labels: Vec<usize> = model["labels"]
		.as_array()
		.map(|l| l.iter().filter_map(|v| v.as_u64()).map(|v| v as usize).collect())
		.unwrap_or_default();
	let right = classes.iter().zip(&labels).filter(|(c, l)| c == l).count();
	let expected: Vec<i8> = model["logits"]
		.as_array()
		.into_iter()
		.flatten()
		.filter_map(|row| row.as_array())
		.flat_map(|row| row.iter().filter_map(|v| v.as_i64()).map(|v| v as i8))
		.collect();
	let same = (!expected.is_empty()).then_some(expected == logits);
	out.print(
		json!({ "classes": classes, "right": right, "labels": labels.len(), "sameAsModel": same }),
		|| {
			let mut text = format!("predicted classes: {classes:?}");
			if !labels.is_empty() {
				text += &format!("\n{right} of {} right", labels.len());
			}
			match same {
				Some(true) => text += "\nthe logits are byte for byte the model's own pipeline's",
				Some(false) => text += "\nthe logits DIFFER from the model's own pipeline's",
				None => {}
			}
			text
		},
	);
	Ok(())
}
