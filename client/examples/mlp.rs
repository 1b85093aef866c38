//! The int8 MLP of `examples/mlp` (784-256-10, trained and quantized by
//! `scripts/mlp_model.py` from a fixed seed) run as two `linear-i8` layers with ProofGrid's
//! definition (`proofgrid_primitives::linear`) on the CPU: prints each input's predicted class
//! and checks that the logits are, byte for byte, those the model's own integer pipeline
//! (NumPy) computed.
//!
//! ```sh
//! cargo run -p proofgrid-client --example mlp             # examples/mlp
//! cargo run -p proofgrid-client --example mlp -- DIR      # another model directory
//! ```
//!
//! On chain each layer is a `linear-i8` job, the second chained from the first's settled
//! output (docs/PROTOCOL.md): `proofgrid model run examples/mlp` runs them so, and must print
//! the same classes.

use std::path::{Path, PathBuf};

use anyhow::{ensure, Context, Result};
use proofgrid_client::data::{read_npy_i32_vector, read_npy_i8};
use proofgrid_primitives::linear::{layer_output, Requant};

/// One layer of the model: `W` by its columns (`n` lanes of `k`), biases, requantization.
struct Layer {
	k: usize,
	columns: Vec<i8>,
	bias: Vec<i32>,
	requant: Requant,
}

/// The model's layers and test batch, and what its own pipeline computed.
struct Model {
	inputs: Vec<i8>,
	batch: usize,
	layers: Vec<Layer>,
	labels: Vec<usize>,
	logits: Vec<i8>,
}

fn load(dir: &Path) -> Result<Model> {
	let json: serde_json::Value =
		serde_json::from_slice(&std::fs::read(dir.join("model.json")).context("model.json")?)?;
	let (batch, features, inputs) = read_npy_i8(&dir.join("x.npy"))?;
	let mut k = features;
	let mut layers = Vec::new();
	for layer in json["layers"].as_array().context("layers")? {
		let file = |key: &str| dir.join(layer[key].as_str().unwrap_or_default());
		let (rows, n, w) = read_npy_i8(&file("weights"))?;
		ensure!(rows == k, "{}: {rows} rows for {k} inputs", layer["weights"]);
		// W is k×n as NumPy holds it; the kernel takes its columns.
		let columns = (0..n).flat_map(|j| (0..k).map(move |i| (i, j))).map(|(i, j)| w[i * n + j]);
		let requant = Requant {
			multiplier: layer["multiplier"].as_i64().context("multiplier")? as i32,
			shift: layer["shift"].as_u64().context("shift")? as u8,
			relu: layer["relu"].as_bool().context("relu")?,
		};
		requant.validate().map_err(|e| anyhow::anyhow!("{e:?}"))?;
		layers.push(Layer {
			k,
			columns: columns.collect(),
			bias: read_npy_i32_vector(&file("bias"))?,
			requant,
		});
		k = n;
	}
	let numbers = |key: &str| -> Vec<i64> {
		json[key]
			.as_array()
			.into_iter()
			.flatten()
			.flat_map(|v| v.as_array().cloned().unwrap_or_else(|| vec![v.clone()]))
			.filter_map(|v| v.as_i64())
			.collect()
	};
	let labels = numbers("labels").into_iter().map(|l| l as usize).collect();
	let logits = numbers("logits").into_iter().map(|l| l as i8).collect();
	Ok(Model { inputs, batch, layers, labels, logits })
}

/// The network on the batch, layer after layer: each layer's output rows are the next's input
/// rows, as on chain.
fn run(model: &Model) -> Vec<i8> {
	model.layers.iter().fold(model.inputs.clone(), |rows, layer| {
		layer_output(&rows, &layer.columns, layer.k, &layer.bias, &layer.requant)
	})
}

fn classes(logits: &[i8], batch: usize) -> Vec<usize> {
	logits
		.chunks_exact(logits.len() / batch)
		.map(|row| (0..row.len()).max_by_key(|&j| (row[j], std::cmp::Reverse(j))).unwrap_or(0))
		.collect()
}

fn main() -> Result<()> {
	let dir = std::env::args().nth(1).map(PathBuf::from).unwrap_or_else(|| {
		Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("examples").join("mlp")
	});
	let model = load(&dir)?;
	let logits = run(&model);
	let predicted = classes(&logits, model.batch);
	let right = predicted.iter().zip(&model.labels).filter(|(p, l)| p == l).count();
	println!("predicted classes: {predicted:?}");
	println!("{right} of {} right", model.batch);
	ensure!(logits == model.logits, "the logits differ from the model's own pipeline");
	println!("the logits are byte for byte those of the model's own integer pipeline");
	Ok(())
}

#[test]
fn each_layer_is_a_job_and_the_second_chains_from_the_first() {
	use proofgrid_client::layers::layer_spec;
	use proofgrid_primitives::{inputs::MatrixCommitment, job::InputSource};
	let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/mlp");
	let model = load(&dir).unwrap();
	let (first, second) = (&model.layers[0], &model.layers[1]);
	let hidden = layer_output(&model.inputs, &first.columns, first.k, &first.bias, &first.requant);
	let spec = |layer: &Layer, rows: &[i8], a| {
		layer_spec(rows, &layer.columns, layer.k, &layer.bias, layer.requant, a, 32).unwrap()
	};
	let one = spec(first, &model.inputs, InputSource::Upload);
	let two = spec(second, &hidden, InputSource::Job(1));
	assert_eq!((one.shape.m, one.shape.n, one.shape.k), (64, 256, 784));
	assert_eq!((two.shape.m, two.shape.n, two.shape.k), (64, 10, 256));
	// Layer 2's `A` is committed exactly as the chain keeps layer 1's output.
	let output = MatrixCommitment::of_lanes(hidden.chunks_exact(256)).unwrap();
	assert_eq!(two.supplied().map(|m| m.a), Some(output));
}

#[test]
fn the_definition_gives_the_models_bytes() {
	let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/mlp");
	let model = load(&dir).unwrap();
	assert_eq!((model.batch, model.layers.len(), model.logits.len()), (64, 2, 640));
	assert_eq!(run(&model), model.logits);
	let predicted = classes(&model.logits, model.batch);
	let right = predicted.iter().zip(&model.labels).filter(|(p, l)| p == l).count();
	assert!(right >= 60, "{right} of 64: the model predicts");
}
