//! A model directory as `proofgrid.onnx_import` writes it: `model.json` (the layers of a
//! [`Model`], the input's and output's scale and zero point) and each GEMM layer's weights
//! (`n × k` int8 `.npy`, lanes in NHWC order) and biases (int32 `.npy`). Loading checks that
//! the layers chain ([`Model::plan`]) and that every file has its layer's shape, so a
//! [`ModelFile`] runs; [`ModelFile::run`] is the integer reference a model job is checked
//! against. A model directory registers on chain with [`Client::register_model`]: its layers
//! and its weights' commitments ([`ModelFile::weights_commitments`]), never the weights.

use std::path::{Path, PathBuf};

use proofgrid_primitives::{
	inputs::MatrixCommitment,
	linear::{bias_root, Requant},
	model::{Epilogue, Model, ModelError, ModelId, Op, Shape, Weights},
	model_proof::WeightsCommitment,
};
use serde::Deserialize;
use subxt::utils::Static;

use crate::{
	node_error,
	npy::{read_npy_i32_vector, read_npy_i8},
	runtime, AccountId32, Balance, Client, Error, Keypair,
};

/// The `model.json` format this SDK reads.
pub const FORMAT: u32 = 1;

/// A loaded model: its layers, their weights, and how its input and output map to reals.
#[derive(Clone, Debug)]
pub struct ModelFile {
	/// The layers.
	pub model: Model,
	/// One per GEMM layer, in order.
	pub weights: Vec<Weights>,
	/// Each layer's name in the source model.
	pub names: Vec<String>,
	/// The input's scale (real = scale · (q − zero point)).
	pub input_scale: f64,
	/// The output's scale and zero point.
	pub output: (f64, i8),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Json {
	format: u32,
	input: InputJson,
	output: QuantJson,
	layers: Vec<LayerJson>,
	#[serde(default)]
	#[allow(dead_code)] // what it was imported from; for people
	source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputJson {
	height: u32,
	width: u32,
	channels: u32,
	scale: f64,
	zero_point: i8,
	#[serde(default)]
	#[allow(dead_code)] // whether the source model's input was int8 (else uint8)
	signed: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuantJson {
	scale: f64,
	zero_point: i8,
}

#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
enum LayerJson {
	Conv {
		name: String,
		filters: u32,
		kernel: (u32, u32),
		stride: (u32, u32),
		padding: [u32; 4],
		dilation: (u32, u32),
		#[serde(flatten)]
		epilogue: EpilogueJson,
	},
	Dense {
		name: String,
		outputs: u32,
		#[serde(flatten)]
		epilogue: EpilogueJson,
	},
	MaxPool {
		name: String,
		kernel: (u32, u32),
		stride: (u32, u32),
		padding: [u32; 4],
	},
	AvgPool {
		name: String,
		kernel: (u32, u32),
		stride: (u32, u32),
		multiplier: i32,
		shift: u8,
		zero_point: i8,
	},
}

#[derive(Deserialize)]
struct EpilogueJson {
	multiplier: i32,
	shift: u8,
	relu: bool,
	zero_point: i8,
	weights: PathBuf,
	bias: PathBuf,
}

impl EpilogueJson {
	fn epilogue(&self) -> Epilogue {
		let requant = Requant { multiplier: self.multiplier, shift: self.shift, relu: self.relu };
		Epilogue { requant, zero_point: self.zero_point }
	}
}

impl ModelFile {
	/// Loads the model directory `dir` (or the `model.json` named).
	pub fn load(path: &Path) -> Result<Self, Error> {
		let (dir, json_path) = if path.is_dir() {
			(path.to_path_buf(), path.join("model.json"))
		} else {
			(path.parent().unwrap_or(Path::new(".")).to_path_buf(), path.to_path_buf())
		};
		let bad = |reason: String| Error::BadFile { name: json_path.display().to_string(), reason };
		let text = std::fs::read_to_string(&json_path)
			.map_err(|source| Error::File { path: json_path.clone(), source })?;
		let json: Json = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
		if json.format != FORMAT {
			return Err(bad(format!("format {} (this SDK reads {FORMAT})", json.format)));
		}
		let mut layers = Vec::with_capacity(json.layers.len());
		let mut names = Vec::with_capacity(json.layers.len());
		let mut files = Vec::new();
		for layer in &json.layers {
			let (op, name) = match layer {
				LayerJson::Conv { name, filters, kernel, stride, padding, dilation, epilogue } => {
					files.push(epilogue);
					let (filters, kernel, stride, padding, dilation) =
						(*filters, *kernel, *stride, *padding, *dilation);
					let epilogue = epilogue.epilogue();
					(Op::Conv { filters, kernel, stride, padding, dilation, epilogue }, name)
				}
				LayerJson::Dense { name, outputs, epilogue } => {
					files.push(epilogue);
					(Op::Dense { outputs: *outputs, epilogue: epilogue.epilogue() }, name)
				}
				LayerJson::MaxPool { name, kernel, stride, padding } => {
					(Op::MaxPool { kernel: *kernel, stride: *stride, padding: *padding }, name)
				}
				LayerJson::AvgPool { name, kernel, stride, multiplier, shift, zero_point } => {
					let requant = Requant { multiplier: *multiplier, shift: *shift, relu: false };
					let epilogue = Epilogue { requant, zero_point: *zero_point };
					(Op::AvgPool { kernel: *kernel, stride: *stride, epilogue }, name)
				}
			};
			layers.push(op);
			names.push(name.clone());
		}
		let input = Shape {
			height: json.input.height,
			width: json.input.width,
			channels: json.input.channels,
		};
		let layers = layers.try_into().map_err(|_| bad("more than 64 layers".into()))?;
		let model = Model { input, input_zero_point: json.input.zero_point, layers };
		let plan = model.plan(1).map_err(|e| bad(describe(&e, &names)))?;
		let mut weights = Vec::with_capacity(files.len());
		for (planned, epilogue) in plan.iter().filter_map(|p| p.gemm_shape()).zip(files) {
			let lanes_path = dir.join(&epilogue.weights);
			let (n, k, lanes) = read_npy_i8(&lanes_path)?;
			if (n as u64, k as u64) != (u64::from(planned.n), u64::from(planned.k)) {
				return Err(Error::BadFile {
					name: lanes_path.display().to_string(),
					reason: format!("{n}×{k}, the layer takes {}×{}", planned.n, planned.k),
				});
			}
			let bias_path = dir.join(&epilogue.bias);
			let bias = read_npy_i32_vector(&bias_path)?;
			if bias.len() != planned.n as usize {
				return Err(Error::BadFile {
					name: bias_path.display().to_string(),
					reason: format!("{} biases, the layer has {} outputs", bias.len(), planned.n),
				});
			}
			weights.push(Weights { lanes, bias });
		}
		Ok(ModelFile {
			model,
			weights,
			names,
			input_scale: json.input.scale,
			output: (json.output.scale, json.output.zero_point),
		})
	}

	/// Every layer's output on `batch` images (`input`: NHWC, image after image), by the
	/// primitives' definition.
	pub fn run(&self, batch: u32, input: &[i8]) -> Result<Vec<Vec<i8>>, Error> {
		self.model
			.run(batch, input, &self.weights)
			.map_err(|e| Error::BadInput(describe(&e, &self.names)))
	}
}

impl ModelFile {
	/// What a registration names for each GEMM layer: the lane root of its `n` weight lanes
	/// and the root of its biases, as a device recomputes them from the files it fetches.
	pub fn weights_commitments(&self) -> Vec<WeightsCommitment> {
		let plan = self.model.plan(1).expect("checked by load");
		plan.iter()
			.filter_map(|p| p.gemm_shape())
			.zip(&self.weights)
			.map(|(shape, w)| WeightsCommitment {
				lanes: MatrixCommitment::of_lanes(w.lanes.chunks_exact(shape.k as usize))
					.expect("n ≥ 1 lanes: checked by load")
					.root,
				bias: bias_root(&w.bias).expect("n ≥ 1 biases: checked by load"),
			})
			.collect()
	}
}

/// A model as registered on chain.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredModel {
	/// Its id.
	pub id: ModelId,
	/// Who registered it (and may remove it).
	pub owner: AccountId32,
	/// What is held from the owner for its storage, in planck.
	#[serde(serialize_with = "crate::planck")]
	pub deposit: Balance,
	/// The layers.
	#[serde(skip)]
	pub model: Model,
	/// One per GEMM layer.
	#[serde(skip)]
	pub weights: Vec<WeightsCommitment>,
	/// Where devices fetch the weights from.
	pub weights_url: Option<String>,
	/// Jobs using it now.
	pub users: u32,
}

impl Client {
	/// Registers `model` (its layers and its weights' commitments; the weights stay here) with
	/// `owner` as its registrant, holding the deposit; returns its id.
	pub async fn register_model(
		&self,
		owner: &Keypair,
		model: &ModelFile,
		weights_url: Option<&str>,
	) -> Result<ModelId, Error> {
		use runtime::runtime_types::bounded_collections::bounded_vec::BoundedVec;
		let weights = BoundedVec(model.weights_commitments().into_iter().map(Static).collect());
		let url = weights_url.map(|url| BoundedVec(url.as_bytes().to_vec()));
		let call = runtime::tx().models().register(Static(model.model.clone()), weights, url);
		let events = self.submit(&call, owner).await?;
		let registered = events
			.find_first::<runtime::models::events::ModelRegistered>()
			.ok_or(Error::MissingEvent("Models::ModelRegistered"))?
			.map_err(node_error)?;
		Ok(registered.model)
	}

	/// Removes `owner`'s model `id` and returns its deposit.
	pub async fn remove_model(&self, owner: &Keypair, id: ModelId) -> Result<(), Error> {
		self.submit(&runtime::tx().models().remove(id), owner).await.map(|_| ())
	}

	/// Model `id` as registered, `None` if there is none.
	pub async fn model(&self, id: ModelId) -> Result<Option<RegisteredModel>, Error> {
		let at = self.at_best().await?;
		let value = at
			.storage()
			.try_fetch(runtime::storage().models().models(), (id,))
			.await
			.map_err(node_error)?;
		let Some(value) = value else { return Ok(None) };
		let info: runtime::runtime_types::pallet_models::ModelInfo<AccountId32, Balance> =
			value.decode().map_err(node_error)?;
		Ok(Some(RegisteredModel {
			id,
			owner: info.owner,
			deposit: info.deposit,
			model: info.model.0,
			weights: info.weights.0.into_iter().map(|w| w.0).collect(),
			weights_url: info.weights_url.map(|url| String::from_utf8_lossy(&url.0).into_owned()),
			users: info.users,
		}))
	}
}

/// A [`ModelError`] in words, naming the layer by its name in the source model.
pub fn describe(error: &ModelError, names: &[String]) -> String {
	let name = |layer: &u32| {
		names
			.get(*layer as usize)
			.map_or_else(|| format!("layer {layer}"), |n| format!("layer {layer} ({n})"))
	};
	match error {
		ModelError::LayerCount => "a model has at least one layer".into(),
		ModelError::EmptyInput => "the batch or the input shape is empty".into(),
		ModelError::Conv { layer, error } => format!("{}: convolution {error:?}", name(layer)),
		ModelError::Pool { layer, error } => format!("{}: pooling {error:?}", name(layer)),
		ModelError::Requant { layer, error } => {
			format!("{}: requantization {error:?}", name(layer))
		}
		ModelError::InputLength { expected, got } => {
			format!("the input has {got} values, the batch takes {expected}")
		}
		ModelError::WeightCount { expected, got } => {
			format!("{got} weight sets for {expected} convolution and dense layers")
		}
		ModelError::WeightLength { layer } => format!("{}: weights of the wrong size", name(layer)),
		ModelError::TooLarge { layer: None } => {
			"the input is too large (over 2^20 pixels in the batch or 65 536 channels)".into()
		}
		ModelError::TooLarge { layer: Some(layer) } => format!(
			"{}: its output is too large (over 2^20 pixels in the batch or 65 536 channels, or a \
			 pooling window of over 65 536 values)",
			name(layer)
		),
		ModelError::TooManyTaps { layer } => {
			format!("{}: an element reads more than 4 096 input pixels", name(layer))
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	/// A model directory with one convolution and one dense layer, weights `w`.
	fn write(dir: &Path, json: &str, lanes: &[(usize, usize, Vec<i8>)], biases: &[Vec<i32>]) {
		std::fs::create_dir_all(dir).unwrap();
		std::fs::write(dir.join("model.json"), json).unwrap();
		for (i, (n, k, values)) in lanes.iter().enumerate() {
			std::fs::write(dir.join(format!("w{i}.npy")), crate::npy::npy_i8_bytes(*n, *k, values))
				.unwrap();
			std::fs::write(
				dir.join(format!("b{i}.npy")),
				crate::npy::npy_i32_vector_bytes(&biases[i]),
			)
			.unwrap();
		}
	}

	const JSON: &str = r#"{"format": 1,
		"input": {"height": 4, "width": 4, "channels": 1, "scale": 0.5, "zero_point": -3},
		"output": {"scale": 0.25, "zero_point": 2},
		"layers": [
			{"op": "conv", "name": "c", "filters": 2, "kernel": [3, 3], "stride": [1, 1],
			 "padding": [1, 1, 1, 1], "dilation": [1, 1], "multiplier": 1073741824, "shift": 33,
			 "relu": true, "zero_point": -128, "weights": "w0.npy", "bias": "b0.npy"},
			{"op": "max_pool", "name": "p", "kernel": [2, 2], "stride": [2, 2], "padding": [0, 0, 0, 0]},
			{"op": "dense", "name": "d", "outputs": 3, "multiplier": 1073741824, "shift": 34,
			 "relu": false, "zero_point": 2, "weights": "w1.npy", "bias": "b1.npy"}]}"#;

	#[test]
	fn a_model_directory_loads_and_runs_as_the_primitives_define() {
		let dir = std::env::temp_dir().join(format!("proofgrid-model-{}", std::process::id()));
		let w0: Vec<i8> = (0..18).map(|i| (i * 7 % 11 - 5) as i8).collect();
		let w1: Vec<i8> = (0..24).map(|i| (i * 5 % 13 - 6) as i8).collect();
		write(
			&dir,
			JSON,
			&[(2, 9, w0.clone()), (3, 8, w1.clone())],
			&[vec![10, -20], vec![1, 2, 3]],
		);
		let file = ModelFile::load(&dir).unwrap();
		assert_eq!(file.names, ["c", "p", "d"]);
		assert_eq!(file.output, (0.25, 2));
		let input: Vec<i8> = (0..32).map(|i| (i * 9 % 17) as i8).collect();
		let outputs = file.run(2, &input).unwrap();
		let weights = vec![
			Weights { lanes: w0, bias: vec![10, -20] },
			Weights { lanes: w1, bias: vec![1, 2, 3] },
		];
		assert_eq!(outputs, file.model.run(2, &input, &weights).unwrap());
		assert_eq!(outputs[2].len(), 6);

		// A weights file of another layer's shape is refused by its path.
		write(&dir, JSON, &[(2, 9, vec![0; 18]), (3, 9, vec![0; 27])], &[vec![0, 0], vec![0; 3]]);
		let err = ModelFile::load(&dir).unwrap_err().to_string();
		assert!(err.contains("w1.npy") && err.contains("3×9, the layer takes 3×8"), "{err}");
		// A layer that cannot run is named.
		write(
			&dir,
			&JSON.replace("\"kernel\": [2, 2], \"stride\"", "\"kernel\": [5, 5], \"stride\""),
			&[],
			&[],
		);
		let err = ModelFile::load(&dir).unwrap_err().to_string();
		assert!(err.contains("layer 1 (p): pooling"), "{err}");
		std::fs::remove_dir_all(&dir).unwrap();
	}
}
