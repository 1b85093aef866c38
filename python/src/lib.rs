//! `proofgrid._native`: the Rust SDK under the `proofgrid` Python package.
//!
//! Thin on purpose: every commitment, check and fraud proof is `proofgrid_client`'s (the CLI
//! runs the same code); this layer converts arrays and errors and waits without holding the
//! GIL. The Python side (`python/proofgrid/`) adds the typed objects, the exceptions' classes
//! and the asyncio variants. Views cross as JSON (the RPC's own shapes), so a field added to a
//! view reaches Python without a change here.

use std::{sync::OnceLock, time::Duration};

use numpy::{
	ndarray::Array2, IntoPyArray, PyArray2, PyReadonlyArray1, PyReadonlyArray2,
	PyUntypedArrayMethods,
};
use proofgrid_client::{
	amount::parse_grid,
	endpoint::AddressPolicy,
	jobs::JobOutcome,
	layers::{LayerInputs, LayerJob},
	model::ModelFile,
	model_jobs::ModelJob,
	own::{MatmulOptions, OwnInputs, OwnJob, Step},
	parse_address, to_address, Client, Error, Keypair,
};
use proofgrid_primitives::{job::InputSource, linear::Requant};
use pyo3::{exceptions::PyRuntimeError, prelude::*, types::PyDict};

/// One runtime for every client of the process: its threads drive the node connections while
/// Python threads wait in `block_on` without the GIL.
fn runtime() -> &'static tokio::runtime::Runtime {
	static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
	RUNTIME.get_or_init(|| {
		tokio::runtime::Builder::new_multi_thread()
			.worker_threads(2)
			.thread_name("proofgrid")
			.enable_all()
			.build()
			.expect("a tokio runtime")
	})
}

/// Why a native call failed, before it becomes one of `proofgrid.errors`' exceptions.
enum Failure {
	Sdk(Error),
	/// Ctrl-C (or another signal handler's exception) while waiting.
	Python(PyErr),
}

impl From<Error> for Failure {
	fn from(e: Error) -> Self {
		Self::Sdk(e)
	}
}

/// Runs `future` to its end without the GIL, giving Python's signal handlers a chance every
/// 100 ms (so Ctrl-C stops a wait), within `timeout` if one is given.
fn wait<T: Send>(
	py: Python<'_>,
	timeout: Option<Duration>,
	job: Option<u64>,
	future: impl std::future::Future<Output = Result<T, Error>> + Send,
) -> PyResult<T> {
	let outcome = py.detach(|| {
		runtime().block_on(async {
			let signals = async {
				loop {
					tokio::time::sleep(Duration::from_millis(100)).await;
					if let Err(e) = Python::attach(|py| py.check_signals()) {
						return e;
					}
				}
			};
			let bounded = async {
				match timeout {
					Some(limit) => match tokio::time::timeout(limit, future).await {
						Ok(result) => result,
						Err(_) => Err(Error::Timeout {
							job: job.unwrap_or_default(),
							seconds: limit.as_secs(),
						}),
					},
					None => future.await,
				}
			};
			tokio::select! {
				result = bounded => result.map_err(Failure::Sdk),
				interrupted = signals => Err(Failure::Python(interrupted)),
			}
		})
	});
	outcome.map_err(|failure| raise(py, failure))
}

/// The `proofgrid.errors` exception for `failure`, with its fields as attributes.
fn raise(py: Python<'_>, failure: Failure) -> PyErr {
	let error = match failure {
		Failure::Python(e) => return e,
		Failure::Sdk(error) => error,
	};
	match exception(py, &error) {
		Ok(e) => e,
		Err(e) => e,
	}
}

fn exception(py: Python<'_>, error: &Error) -> PyResult<PyErr> {
	let fields = PyDict::new(py);
	let class = match error {
		Error::Connect { url, .. } => {
			fields.set_item("url", url)?;
			"ConnectionFailed"
		}
		Error::Node(_) => "NodeError",
		Error::Rejected(reason) => {
			fields.set_item("reason", reason)?;
			"PoolRejected"
		}
		Error::Module { pallet, error, .. } => {
			fields.set_item("pallet", pallet)?;
			fields.set_item("error", error)?;
			"PalletError"
		}
		Error::Failed(_) => "TransactionFailed",
		Error::Data(data) => {
			if let proofgrid_client::DataError::Refused { status, .. } = data {
				fields.set_item("status", status)?;
			}
			"DataServiceError"
		}
		Error::PrivateAddress { .. } => "DataServiceError",
		Error::BadKey(_) => "SignerError",
		Error::BadAddress(_) | Error::BadInput(_) | Error::File { .. } | Error::BadFile { .. } => {
			"InputError"
		}
		Error::NoSuchJob { job } => {
			fields.set_item("job", job)?;
			fields.set_item("state", "no such job")?;
			"JobEnded"
		}
		Error::NoOutput { job, reason } => {
			fields.set_item("job", job)?;
			fields.set_item("state", reason)?;
			"JobEnded"
		}
		Error::MissingEvent(_) => "NodeError",
		Error::NotClaimed { job, reasons, .. } => {
			fields.set_item("job", job)?;
			fields.set_item("reasons", reasons)?;
			"NotClaimed"
		}
		Error::Ended { job, state } => {
			fields.set_item("job", job)?;
			fields.set_item("state", state)?;
			"JobEnded"
		}
		Error::Timeout { job, seconds } => {
			fields.set_item("job", job)?;
			fields.set_item("seconds", seconds)?;
			"Timeout"
		}
		Error::WrongOutput { job, row, column, found, expected, outcome, dispute } => {
			fields.set_item("job", job)?;
			fields.set_item("row", row)?;
			fields.set_item("column", column)?;
			fields.set_item("found", found)?;
			fields.set_item("expected", expected)?;
			fields.set_item("outcome", json(outcome.as_ref()))?;
			fields.set_item("dispute", dispute.as_ref().map(json))?;
			"FraudDetected"
		}
	};
	let errors = py.import("proofgrid.errors")?;
	let class = errors.getattr(class)?;
	let instance = class.call((proofgrid_client::data::with_causes(error),), Some(&fields))?;
	Ok(PyErr::from_value(instance))
}

/// `value` as JSON text, for the Python side to load.
fn json(value: &impl serde::Serialize) -> String {
	serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// A connection to a node, and the signer of the calls that need one.
#[pyclass(module = "proofgrid._native", frozen)]
struct NativeClient {
	client: Client,
	signer: Option<Keypair>,
}

#[pymethods]
impl NativeClient {
	/// Connects to `url`. `suri` signs jobs; without it a development chain signs as `//Alice`
	/// and any other chain allows reads only.
	#[new]
	#[pyo3(signature = (url, suri = None, allow_private_endpoints = false))]
	fn new(
		py: Python<'_>,
		url: &str,
		suri: Option<&str>,
		allow_private_endpoints: bool,
	) -> PyResult<Self> {
		let policy = if allow_private_endpoints {
			AddressPolicy::AllowPrivate
		} else {
			AddressPolicy::PublicOnly
		};
		let signer = suri.map(Keypair::from_suri).transpose().map_err(|e| raise(py, e.into()))?;
		let (client, signer) = wait(py, None, None, async {
			let client = Client::connect(url).await?.with_address_policy(policy);
			let signer = match signer {
				Some(signer) => Some(signer),
				None if client.chain_type().await? == "Development" => {
					Some(Keypair::from_suri("//Alice")?)
				}
				None => None,
			};
			Ok((client, signer))
		})?;
		Ok(Self { client, signer })
	}

	/// The signer's address, or `None` (reads only).
	#[getter]
	fn address(&self) -> Option<String> {
		self.signer.as_ref().map(Keypair::address)
	}

	/// Submits `a · b` (`int8`, C-contiguous); returns the job to follow.
	// Python's keyword arguments, one for one.
	#[allow(clippy::too_many_arguments)]
	#[pyo3(signature = (a, b, price_cap, samples = None, lifetime = 100, public_output = false))]
	fn submit_matmul(
		&self,
		py: Python<'_>,
		a: PyReadonlyArray2<'_, i8>,
		b: PyReadonlyArray2<'_, i8>,
		price_cap: &str,
		samples: Option<u32>,
		lifetime: u32,
		public_output: bool,
	) -> PyResult<NativeJob> {
		let signer = self.signer(py)?;
		let cap = parse_grid(price_cap).map_err(|e| {
			raise(py, Error::BadInput(format!("price cap {price_cap:?}: {e}")).into())
		})?;
		let (a_shape, b_shape) = ((a.shape()[0], a.shape()[1]), (b.shape()[0], b.shape()[1]));
		let contiguous =
			|what: &str| raise(py, Error::BadInput(format!("{what} is not C-contiguous")).into());
		let a = a.as_slice().map_err(|_| contiguous("A"))?.to_vec();
		let b = b.as_slice().map_err(|_| contiguous("B"))?.to_vec();
		let inputs =
			OwnInputs::from_row_major(a, a_shape, b, b_shape).map_err(|e| raise(py, e.into()))?;
		let options =
			MatmulOptions { samples, lifetime, public_output, ..MatmulOptions::capped_at(cap) };
		let job = wait(py, None, None, self.client.submit_own(&signer, inputs, &options))?;
		Ok(NativeJob { client: self.client.clone(), signer, job })
	}

	/// Submits one `linear-i8` layer `act(sat_i8(requant(a·w + bias)))`: `a` (m×k `int8`)
	/// uploaded, or `a_job`'s settled output (then `a`, if given, is that output as saved,
	/// uploaded too); returns the job to follow.
	#[allow(clippy::too_many_arguments)]
	#[pyo3(signature = (a, a_job, w, bias, multiplier, shift, relu, price_cap, samples = None, lifetime = 100))]
	fn submit_layer(
		&self,
		py: Python<'_>,
		a: Option<PyReadonlyArray2<'_, i8>>,
		a_job: Option<u64>,
		w: PyReadonlyArray2<'_, i8>,
		bias: PyReadonlyArray1<'_, i32>,
		multiplier: i32,
		shift: u8,
		relu: bool,
		price_cap: &str,
		samples: Option<u32>,
		lifetime: u32,
	) -> PyResult<NativeLayerJob> {
		let signer = self.signer(py)?;
		let bad = |why: String| raise(py, Error::BadInput(why).into());
		let cap =
			parse_grid(price_cap).map_err(|e| bad(format!("price cap {price_cap:?}: {e}")))?;
		let w_shape = (w.shape()[0], w.shape()[1]);
		let w = w.as_slice().map_err(|_| bad("W is not C-contiguous".into()))?.to_vec();
		let bias =
			bias.as_slice().map_err(|_| bad("the biases are not contiguous".into()))?.to_vec();
		let a = match a {
			Some(a) => {
				let shape = (a.shape()[0], a.shape()[1]);
				Some((
					a.as_slice().map_err(|_| bad("A is not C-contiguous".into()))?.to_vec(),
					shape,
				))
			}
			None => None,
		};
		let requant = Requant { multiplier, shift, relu };
		let options = MatmulOptions { samples, lifetime, ..MatmulOptions::capped_at(cap) };
		let client = &self.client;
		let job = wait(py, None, a_job, async {
			let inputs = match (a, a_job) {
				(Some((a, shape)), None) => LayerInputs::new(a, shape, w, w_shape, bias, requant)?,
				(given, Some(earlier)) => {
					let upload = given.is_some();
					let given = given.map(|(rows, _)| rows);
					let (rows, k) = client.chained_rows(&signer, earlier, given).await?;
					let m = rows.len() / k.max(1);
					let mut inputs = LayerInputs::new(rows, (m, k), w, w_shape, bias, requant)?;
					inputs.a = InputSource::Job(earlier);
					inputs.upload_a = upload;
					inputs
				}
				(None, None) => return Err(Error::BadInput("give a or a_job".into())),
			};
			client.submit_layer(&signer, inputs, &options).await
		})?;
		Ok(NativeLayerJob { client: self.client.clone(), signer, job })
	}

	/// The market's parameters and what it has burned, as JSON.
	fn market(&self, py: Python<'_>) -> PyResult<String> {
		wait(py, None, None, async {
			let (params, burned) =
				(self.client.market_params().await?, self.client.burned().await?);
			Ok(json(&serde_json::json!({ "params": params, "burned": burned })))
		})
	}

	/// Every registered device (`proofgrid_devices`' views), as JSON.
	fn devices(&self, py: Python<'_>) -> PyResult<String> {
		wait(py, None, None, async { Ok(json(&self.client.all_devices().await?)) })
	}

	/// Every open job (`proofgrid_job`'s views), as JSON.
	fn jobs(&self, py: Python<'_>) -> PyResult<String> {
		wait(py, None, None, async {
			let mut views = Vec::new();
			for (id, _) in self.client.open_jobs().await? {
				views.extend(self.client.job_view(id).await?);
			}
			Ok(json(&views))
		})
	}

	/// Open job `id` (`proofgrid_job`'s view) as JSON, `null` once it ended.
	fn job(&self, py: Python<'_>, id: u64) -> PyResult<String> {
		wait(py, None, Some(id), async { Ok(json(&self.client.job_view(id).await?)) })
	}

	/// Registers the model directory `path` (layers and weights' roots; a deposit held);
	/// returns its id.
	#[pyo3(signature = (path, weights_url = None))]
	fn register_model(
		&self,
		py: Python<'_>,
		path: &str,
		weights_url: Option<&str>,
	) -> PyResult<u64> {
		let signer = self.signer(py)?;
		let file = ModelFile::load(std::path::Path::new(path)).map_err(|e| raise(py, e.into()))?;
		wait(py, None, None, self.client.register_model(&signer, &file, weights_url))
	}

	/// Submits a job running registered model `model` (whose files are at `path`) on the batch
	/// `x` (images × values, `int8`, NHWC per image); returns the job to follow.
	#[pyo3(signature = (model, path, x, price_cap, samples = None, lifetime = 100))]
	#[allow(clippy::too_many_arguments)]
	fn submit_model(
		&self,
		py: Python<'_>,
		model: u64,
		path: &str,
		x: PyReadonlyArray2<'_, i8>,
		price_cap: &str,
		samples: Option<u32>,
		lifetime: u32,
	) -> PyResult<NativeModelJob> {
		let signer = self.signer(py)?;
		let bad = |why: String| raise(py, Error::BadInput(why).into());
		let cap =
			parse_grid(price_cap).map_err(|e| bad(format!("price cap {price_cap:?}: {e}")))?;
		let file = ModelFile::load(std::path::Path::new(path)).map_err(|e| raise(py, e.into()))?;
		let batch = u32::try_from(x.shape()[0]).map_err(|_| bad("batch too large".into()))?;
		let input = x.as_slice().map_err(|_| bad("x is not C-contiguous".into()))?.to_vec();
		let options = MatmulOptions { samples, lifetime, ..MatmulOptions::capped_at(cap) };
		let job = wait(
			py,
			None,
			None,
			self.client.submit_model(&signer, model, &file, batch, input, &options),
		)?;
		Ok(NativeModelJob { client: self.client.clone(), signer, job, file })
	}

	/// Registered model `id` as JSON (`null` if there is none).
	fn model(&self, py: Python<'_>, id: u64) -> PyResult<String> {
		wait(py, None, None, async { Ok(json(&self.client.model(id).await?)) })
	}

	/// Removes the signer's model `id`, returning its deposit.
	fn remove_model(&self, py: Python<'_>, id: u64) -> PyResult<()> {
		let signer = self.signer(py)?;
		wait(py, None, None, self.client.remove_model(&signer, id))
	}

	/// `(free, held)` planck of `address` (the signer's by default).
	#[pyo3(signature = (address = None))]
	fn balance(&self, py: Python<'_>, address: Option<&str>) -> PyResult<(u128, u128)> {
		let who = match address {
			Some(address) => parse_address(address).map_err(|e| raise(py, e.into()))?,
			None => self.signer(py)?.account(),
		};
		wait(py, None, None, self.client.balances(&who))
	}
}

impl NativeClient {
	fn signer(&self, py: Python<'_>) -> PyResult<Keypair> {
		self.signer.clone().ok_or_else(|| {
			let why = "no signer: this is not a development chain, so there is no default \
			           account; give suri=, suri_file= or PROOFGRID_SURI";
			raise(py, Error::BadKey(why.into()).into())
		})
	}
}

/// A submitted job on the client's own matrices.
#[pyclass(module = "proofgrid._native", frozen)]
struct NativeJob {
	client: Client,
	signer: Keypair,
	job: OwnJob,
}

#[pymethods]
impl NativeJob {
	/// The job's id.
	#[getter]
	fn id(&self) -> u64 {
		self.job.id
	}

	/// `(m, n, k)`.
	#[getter]
	fn shape(&self) -> (u32, u32, u32) {
		let shape = self.job.inputs.shape;
		(shape.m, shape.n, shape.k)
	}

	/// The job's view as JSON, `null` once it ended.
	fn view(&self, py: Python<'_>) -> PyResult<String> {
		let id = self.job.id;
		wait(py, None, Some(id), async { Ok(json(&self.client.job_view(id).await?)) })
	}

	/// Uploads the inputs to the device that claims the job, downloads `C` and checks it;
	/// returns `C` (`int32`, m×n). `on_step(kind, details_json)` hears each step.
	#[pyo3(signature = (timeout = None, on_step = None))]
	fn result<'py>(
		&self,
		py: Python<'py>,
		timeout: Option<f64>,
		on_step: Option<Py<PyAny>>,
	) -> PyResult<Bound<'py, PyArray2<i32>>> {
		let timeout = timeout.map(Duration::from_secs_f64);
		let report = reporter(on_step);
		let c = wait(
			py,
			timeout,
			Some(self.job.id),
			self.client.follow_own(&self.signer, &self.job, report),
		)?;
		let shape = self.job.inputs.shape;
		let c = Array2::from_shape_vec((shape.m as usize, shape.n as usize), c)
			.map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
		Ok(c.into_pyarray(py))
	}
}

/// A submitted `linear-i8` layer job on the client's own data.
#[pyclass(module = "proofgrid._native", frozen)]
struct NativeLayerJob {
	client: Client,
	signer: Keypair,
	job: LayerJob,
}

#[pymethods]
impl NativeLayerJob {
	/// The job's id.
	#[getter]
	fn id(&self) -> u64 {
		self.job.id
	}

	/// `(m, n, k)`.
	#[getter]
	fn shape(&self) -> (u32, u32, u32) {
		(self.job.shape.m, self.job.shape.n, self.job.shape.k)
	}

	/// Work units billed.
	#[getter]
	fn units(&self) -> u64 {
		self.job.units
	}

	/// The job's view as JSON, `null` once it ended.
	fn view(&self, py: Python<'_>) -> PyResult<String> {
		let id = self.job.id;
		wait(py, None, Some(id), async { Ok(json(&self.client.job_view(id).await?)) })
	}

	/// Delivers the layer's data and returns its checked output `Y` (`int8`, m×n).
	#[pyo3(signature = (timeout = None, on_step = None))]
	fn result<'py>(
		&self,
		py: Python<'py>,
		timeout: Option<f64>,
		on_step: Option<Py<PyAny>>,
	) -> PyResult<Bound<'py, PyArray2<i8>>> {
		let timeout = timeout.map(Duration::from_secs_f64);
		let report = reporter(on_step);
		let y = wait(
			py,
			timeout,
			Some(self.job.id),
			self.client.follow_layer(&self.signer, &self.job, report),
		)?;
		let shape = self.job.shape;
		let y = Array2::from_shape_vec((shape.m as usize, shape.n as usize), y)
			.map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
		Ok(y.into_pyarray(py))
	}

	/// Follows the job until it settles (its output is then kept on chain for a next layer);
	/// returns the settlement as JSON. `on_step("ruled", …)` hears each outcome on the way.
	#[pyo3(signature = (timeout = None, on_step = None))]
	fn settle(
		&self,
		py: Python<'_>,
		timeout: Option<f64>,
		on_step: Option<Py<PyAny>>,
	) -> PyResult<String> {
		settle(py, &self.client, self.job.id, self.job.submitted_at + 1, timeout, on_step)
	}
}

/// A submitted job running a whole registered model on the client's batch.
#[pyclass(module = "proofgrid._native", frozen)]
struct NativeModelJob {
	client: Client,
	signer: Keypair,
	job: ModelJob,
	file: ModelFile,
}

#[pymethods]
impl NativeModelJob {
	/// The job's id.
	#[getter]
	fn id(&self) -> u64 {
		self.job.id
	}

	/// Work units billed.
	#[getter]
	fn units(&self) -> u64 {
		self.job.units
	}

	/// The job's view as JSON, `null` once it ended.
	fn view(&self, py: Python<'_>) -> PyResult<String> {
		let id = self.job.id;
		wait(py, None, Some(id), async { Ok(json(&self.client.job_view(id).await?)) })
	}

	/// Uploads the batch, downloads every layer's output against the committed root and checks
	/// each layer; returns them (`int8`, images × values per image, one array per layer).
	#[pyo3(signature = (timeout = None, on_step = None))]
	fn result<'py>(
		&self,
		py: Python<'py>,
		timeout: Option<f64>,
		on_step: Option<Py<PyAny>>,
	) -> PyResult<Vec<Bound<'py, PyArray2<i8>>>> {
		let timeout = timeout.map(Duration::from_secs_f64);
		let report = reporter(on_step);
		let outputs = wait(
			py,
			timeout,
			Some(self.job.id),
			self.client.follow_model(&self.signer, &self.job, &self.file, report),
		)?;
		per_image(py, outputs, self.job.batch as usize)
	}

	/// Follows the job until it settles; returns the settlement as JSON.
	#[pyo3(signature = (timeout = None, on_step = None))]
	fn settle(
		&self,
		py: Python<'_>,
		timeout: Option<f64>,
		on_step: Option<Py<PyAny>>,
	) -> PyResult<String> {
		settle(py, &self.client, self.job.id, self.job.submitted_at + 1, timeout, on_step)
	}
}

/// Follows job `id` (submitted after block `from`) until it settles; the settlement as JSON.
fn settle(
	py: Python<'_>,
	client: &Client,
	id: u64,
	from: u32,
	timeout: Option<f64>,
	on_step: Option<Py<PyAny>>,
) -> PyResult<String> {
	let limit = timeout.map(Duration::from_secs_f64).unwrap_or(Duration::from_secs(3600));
	let mut report = reporter(on_step);
	let settled = wait(py, Some(limit), Some(id), async {
		client
			.until_settled(id, from, limit, |outcome: &JobOutcome| {
				report(Step::Ruled(outcome.clone()))
			})
			.await
	})?;
	Ok(json(&settled))
}

/// Every layer's output of a batch of `batch` images as arrays of images × values per image.
fn per_image<'py>(
	py: Python<'py>,
	outputs: Vec<Vec<i8>>,
	batch: usize,
) -> PyResult<Vec<Bound<'py, PyArray2<i8>>>> {
	outputs
		.into_iter()
		.map(|values| {
			let per_image = values.len() / batch.max(1);
			Array2::from_shape_vec((batch, per_image), values)
				.map(|a| a.into_pyarray(py))
				.map_err(|e| PyRuntimeError::new_err(e.to_string()))
		})
		.collect()
}

/// A `Step` callback that hands each step to Python's `on_step(kind, details_json)`, if any.
fn reporter(on_step: Option<Py<PyAny>>) -> impl FnMut(Step) + Send {
	move |step: Step| {
		if let Some(callback) = &on_step {
			let (kind, details) = step_json(&step);
			Python::attach(|py| {
				// A failing progress callback must not fail the job: it is reported and
				// forgotten.
				if let Err(e) = callback.call1(py, (kind, details)) {
					e.print(py);
				}
			});
		}
	}
}

/// A step's kind and details (JSON), for the Python side's progress display.
fn step_json(step: &Step) -> (&'static str, String) {
	use serde_json::json;
	match step {
		Step::Uploaded { device } => ("uploaded", json(&json!({ "device": to_address(device) }))),
		Step::InputsConfirmed => ("inputs_confirmed", "{}".into()),
		Step::NoHint { reason } => ("no_hint", json(&json!({ "reason": reason }))),
		Step::Checked { millis } => ("checked", json(&json!({ "ms": millis }))),
		Step::Wrong { row, column, found, expected } => (
			"wrong",
			json(&json!({ "row": row, "column": column, "found": found, "expected": expected })),
		),
		Step::Ruled(outcome) => ("ruled", json(outcome)),
		Step::Disputed { row, column, verdict } => {
			("disputed", json(&json!({ "row": row, "column": column, "verdict": verdict })))
		}
	}
}

/// A planck amount as GRID text (`1.5`), for messages.
#[pyfunction]
fn format_grid(planck: u128) -> String {
	proofgrid_client::amount::format_grid(planck)
}

/// GRID text (`"0.5"`) as planck.
#[pyfunction]
fn parse_grid_text(py: Python<'_>, text: &str) -> PyResult<u128> {
	parse_grid(text).map_err(|e| raise(py, Error::BadInput(format!("{text:?}: {e}")).into()))
}

/// Every layer's output of the model directory `path` on `x` (`batch × values`, int8, each
/// row one image in NHWC order), by the Rust primitives' definition: a list of
/// `batch × values` int8 arrays, the last the model's output.
#[pyfunction]
fn model_outputs<'py>(
	py: Python<'py>,
	path: &str,
	x: PyReadonlyArray2<'_, i8>,
) -> PyResult<Vec<Bound<'py, PyArray2<i8>>>> {
	let bad = |error: Error| raise(py, error.into());
	let file = ModelFile::load(std::path::Path::new(path)).map_err(bad)?;
	let batch = x.shape()[0];
	let input = x.as_slice().map_err(|_| bad(Error::BadInput("x is not C-contiguous".into())))?;
	let batch32 =
		u32::try_from(batch).map_err(|_| bad(Error::BadInput("batch too large".into())))?;
	let outputs = py.detach(|| file.run(batch32, input)).map_err(bad)?;
	per_image(py, outputs, batch)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
	m.add_class::<NativeClient>()?;
	m.add_class::<NativeJob>()?;
	m.add_class::<NativeLayerJob>()?;
	m.add_class::<NativeModelJob>()?;
	m.add_function(wrap_pyfunction!(format_grid, m)?)?;
	m.add_function(wrap_pyfunction!(parse_grid_text, m)?)?;
	m.add_function(wrap_pyfunction!(model_outputs, m)?)?;
	Ok(())
}
