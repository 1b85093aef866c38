//! `proofgrid model register|show|remove`: whole models (docs/MODELS.md) on chain.
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
