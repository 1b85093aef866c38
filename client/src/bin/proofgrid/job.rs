//! `proofgrid job …`: submit jobs on seeded or own inputs, follow them, fetch and check
//! their output, cancel them.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use proofgrid_client::{
	amount::{format_grid, parse_grid},
	grants::DownloadGrant,
	jobs::{state_name, Job, JobOutcome, JobStatus},
	own::{OwnInputs, OwnJob},
	rpc_api::{JobView, ShapeView},
	to_address, Client, Error as ClientError, Keypair,
};
use proofgrid_primitives::{
	device::{Kernel, Requirements},
	gemm::GemmShape,
	inputs::Download,
	job::{JobSpec, MAX_SUPPLIED_SAMPLES},
};
use serde_json::json;

use crate::output::{first_values, outcome_line, print_step, say, Output, GRANT_FOR_DOWNLOAD};

#[derive(Subcommand)]
pub(crate) enum JobCommand {
	/// Post a GEMM-i8 job C = A·B: on your own matrices (`--a A.npy --b B.npy`, int8; they
	/// are uploaded to the device that takes the job; or `--a-url/--b-url`, fetched by it) or
	/// on seeded ones (`--m --n --k`).
	Submit {
		/// `A` (m×k, int8 `.npy`): your own input, uploaded to the device that takes the job.
		#[arg(long, conflicts_with_all = ["a_url", "m", "n", "k", "seed"])]
		a: Option<PathBuf>,
		/// `A` as an int8 `.npy` file at this `http://` or `https://` URL, fetched by the device
		/// that takes the job (and once by this command, to commit to it).
		#[arg(long, conflicts_with_all = ["m", "n", "k", "seed"])]
		a_url: Option<String>,
		/// `B` (k×n, int8 `.npy`): your own input, uploaded to the device that takes the job.
		#[arg(long, conflicts_with = "b_url")]
		b: Option<PathBuf>,
		/// `B` as an int8 `.npy` file at this URL (as `--a-url`).
		#[arg(long)]
		b_url: Option<String>,
		/// Output elements the chain checks (your own inputs only; the chain's default and
		/// minimum by default): a device that got a fraction f of `C` wrong is caught with
		/// probability 1 − (1 − f)^samples. More samples cost a higher call fee.
		#[arg(long)]
		samples: Option<u32>,
		/// Let the device serve `C` to anyone (your own inputs only). By default it serves it
		/// only to you and to whoever you give a download grant (`proofgrid job grant`).
		#[arg(long)]
		public_output: bool,
		/// Write the verified output `C` (m×n, int32 `.npy`) here once the device has committed
		/// it (your own inputs only). Implies following the job.
		#[arg(long)]
		out: Option<PathBuf>,
		#[arg(long, required_unless_present_any = ["a", "a_url"])]
		m: Option<u32>,
		#[arg(long, required_unless_present_any = ["a", "a_url"])]
		n: Option<u32>,
		#[arg(long, required_unless_present_any = ["a", "a_url"])]
		k: Option<u32>,
		/// Input seed (64 hex digits); random by default.
		#[arg(long)]
		seed: Option<String>,
		/// Most you pay per work unit, in GRID.
		#[arg(long, default_value = "1")]
		price_cap: String,
		/// Blocks the job may wait for a device.
		#[arg(long, default_value_t = 100)]
		lifetime: u32,
		/// Minimum device memory, MiB.
		#[arg(long, default_value_t = 0)]
		min_vram_mib: u32,
		/// Minimum device throughput, GOPS.
		#[arg(long, default_value_t = 0)]
		min_gops: u64,
		/// Follow the job until it ends.
		#[arg(long)]
		wait: bool,
	},
	/// Post one `linear-i8` layer Y = act(sat_i8(requant(A·W + bias))) on your own data, or
	/// chained from an earlier layer's output (`--a-job`); check the committed Y here before
	/// accepting it, and prove a wrong element on chain.
	Layer(crate::layer::LayerArgs),
	/// An open job.
	Status { job: u64 },
	/// Download the output `C` of a job on your own inputs from the device that computed it,
	/// check it against the committed root, and write it (int32 `.npy`). Works while the job is
	/// open and after it settled (within the node's state-pruning window, or on an archive
	/// node), for as long as the device keeps outputs (`--retention-hours`).
	Result {
		job: u64,
		/// Where to write `C`.
		#[arg(long)]
		out: PathBuf,
		/// A download grant from the job's client (`proofgrid job grant`); without one the
		/// signer asks as the job's client.
		#[arg(long)]
		grant: Option<String>,
	},
	/// Print a download grant for your job's output: whoever holds it may download it (with
	/// `job result --grant`) until it expires. Outputs are private unless submitted with
	/// `--public-output`.
	Grant {
		job: u64,
		/// What it grants: `output`, `accumulators` (a layer's) or `leaves`.
		#[arg(long, default_value = "output")]
		what: String,
		/// Seconds it is valid (an hour at most).
		#[arg(long, default_value_t = 600)]
		valid_for: u64,
	},
	/// Follow a job until it ends, a line per state.
	Watch {
		job: u64,
		/// Block to start from (default: the best block).
		#[arg(long)]
		from: Option<u32>,
		/// Give up after this many seconds.
		#[arg(long, default_value_t = 600)]
		timeout: u64,
	},
	/// All open jobs.
	List,
	/// Withdraw a job no device has claimed.
	Cancel { job: u64 },
	/// Enforce a deadline of a job that has passed (free when one has): expire a waiting job,
	/// end a missed commit window or a missing reveal. The chain does it by itself unless its
	/// deadline queues were full.
	Expire { job: u64 },
}

/// A job's line as `job watch` prints it each time its state changes (the same as
/// [`job_line`], read from the chain's record instead of the RPC's view).
pub(crate) fn watch_line(id: u64, job: &Job) -> String {
	let GemmShape { m, n, k } = job.spec.0.shape;
	let mut line = format!(
		"job {id}  {}  {m}×{n}×{k}  {} unit(s)  cap {} GRID/unit",
		state_name(&job.status),
		job.units,
		format_grid(job.price_cap),
	);
	if let JobStatus::Assigned { device, collateral, .. }
	| JobStatus::Committed { device, collateral, .. }
	| JobStatus::Verified { device, collateral, .. } = &job.status
	{
		line += &format!(
			"  device {} (collateral {} GRID)",
			to_address(device),
			format_grid(*collateral)
		);
	}
	line
}

pub(crate) fn job_line(view: &JobView) -> String {
	let ShapeView { m, n, k } = view.shape;
	let mut line = format!(
		"job {}  {}  {m}×{n}×{k}  {} unit(s)  cap {} GRID/unit",
		view.id,
		view.status.name(),
		view.units,
		format_grid(view.price_cap.0),
	);
	if let Some((device, collateral)) = view.status.device() {
		line += &format!("  device {device} (collateral {} GRID)", format_grid(collateral.0));
	}
	line
}

pub(crate) async fn watch(
	client: &Client,
	out: &Output,
	job: u64,
	from: u32,
	timeout: Duration,
) -> Result<()> {
	let outcome = client
		.watch_job(job, from, timeout, |block, info| {
			if !out.json {
				say(&format!("#{block}  {}", watch_line(job, info)));
			}
		})
		.await?;
	let block_ms = client.block_time().await?.ms();
	out.print(json!({ "id": job, "end": outcome }), || outcome_line(job, &outcome, block_ms));
	if matches!(outcome, JobOutcome::Settled { .. } | JobOutcome::Verified { .. }) {
		Ok(())
	} else {
		bail!("job {job} did not settle")
	}
}

pub(crate) async fn run(
	client: &Client,
	signer: &Keypair,
	out: &Output,
	command: JobCommand,
) -> Result<()> {
	match command {
		JobCommand::Submit {
			a,
			a_url,
			b,
			b_url,
			samples,
			public_output,
			out: out_path,
			m,
			n,
			k,
			seed,
			price_cap,
			lifetime,
			min_vram_mib,
			min_gops,
			wait,
		} => {
			let requirements = Requirements { kernel: Kernel::GemmI8, min_vram_mib, min_gops };
			let a = InputArg::of(a, a_url);
			let b = InputArg::of(b, b_url);
			let (spec, uploads) = match (a, b) {
				(Some(a), Some(b)) => {
					let market = client.market_params().await?;
					let samples = samples.unwrap_or(market.default_supplied_samples);
					let (min, max) = (market.min_supplied_samples, MAX_SUPPLIED_SAMPLES);
					anyhow::ensure!(
						(min..=max).contains(&samples),
						"--samples {samples}: the chain checks {min} to {max} elements of a job"
					);
					let (spec, uploads) =
						supplied_spec(a, b, samples, public_output, requirements).await?;
					(spec, Some(uploads))
				}
				(Some(_), None) | (None, Some(_)) => {
					bail!("give both inputs: --a or --a-url, and --b or --b-url")
				}
				_ => {
					anyhow::ensure!(
						samples.is_none() && out_path.is_none() && !public_output,
						"--samples, --public-output and --out are for your own inputs (--a, --b)"
					);
					let seed = match seed {
						Some(hex_seed) => {
							let bytes = hex::decode(hex_seed.trim_start_matches("0x"))?;
							bytes.try_into().map_err(|_| anyhow::anyhow!("the seed is 32 bytes"))?
						}
						None => proofgrid_client::random_bytes(),
					};
					let shape = GemmShape {
						m: m.context("--m")?,
						n: n.context("--n")?,
						k: k.context("--k")?,
					};
					(JobSpec::seeded(shape, seed, requirements), None)
				}
			};
			let shape = spec.shape;
			let (m, n, k) = (shape.m, shape.n, shape.k);
			shape.validate().map_err(|e| anyhow::anyhow!("bad shape: {e:?}"))?;
			let cap = parse_grid(&price_cap).map_err(anyhow::Error::msg)?;
			let from = client.best_number().await?;
			let supplied_samples = spec.supplied_samples();
			let spec_submitted = spec.clone();
			let id = client.submit_job(signer, spec, cap, lifetime).await?;
			let info = client.job(id).await?;
			let (budget, deposit, call_fee) =
				info.map(|j| (j.budget, j.deposit, j.call_fee)).unwrap_or_default();
			// What the challenge catches: a device that faked a fraction f of the output (of
			// its leaves for seeded inputs, of its elements for supplied ones) passes with
			// probability (1 − f)^samples.
			let samples = match supplied_samples {
				Some(samples) => samples,
				None => client.market_params().await?.samples,
			};
			let unit = if uploads.is_some() { "elements" } else { "leaves" };
			let detection: Vec<(f64, f64)> = [0.01, 0.05, 0.2]
				.iter()
				.map(|&f| (f, 1.0 - proofgrid_primitives::challenge::pass_probability(f, samples)))
				.collect();
			out.print(
				json!({
					"submitted": id,
					"units": shape.work_units(),
					"budget": budget.to_string(),
					"deposit": deposit.to_string(),
					"callFee": call_fee.to_string(),
					"samples": samples,
					"detection": detection
						.iter()
						.map(|(f, p)| json!({ "faked": f, "caught": p }))
						.collect::<Vec<_>>(),
				}),
				|| {
					let caught: Vec<String> = detection
						.iter()
						.map(|(f, p)| match p {
							p if *p > 0.999 => format!("{:.0}% faked → caught 1 − {:.1e}", f * 100.0, 1.0 - p),
							p => format!("{:.0}% faked → caught {p:.3}", f * 100.0),
						})
						.collect();
					format!(
						"submitted job {id}: {m}×{n}×{k}, {} work unit(s), cap {} GRID/unit; held {} GRID budget + {} GRID deposit + {} GRID call fee\n\
						 {samples} {unit} checked: {}",
						shape.work_units(),
						format_grid(cap),
						format_grid(budget),
						format_grid(deposit),
						format_grid(call_fee),
						caught.join(", ")
					)
				},
			);
			let unfit = client.unfit_devices(&spec_submitted, cap).await?;
			if !unfit.is_empty() {
				let seconds = client.market_params().await?.seconds(lifetime);
				out.print(json!({ "job": id, "noDeviceCanTakeIt": unfit }), || {
					format!(
						"job {id}: no device can take it as it stands:\n  {}\n(it waits {lifetime} blocks, about {seconds} s, for one; `proofgrid market devices` lists the market)",
						unfit.join("\n  ")
					)
				});
			}
			if let Some(inputs) = uploads {
				let job = OwnJob { id, submitted_at: from, inputs, lifetime };
				let block_ms = client.block_time().await?.ms();
				let c = match client.follow_own(signer, &job, |step| print_step(out, id, "C", step, block_ms)).await {
					Ok(c) => c,
					Err(ClientError::WrongOutput { .. }) => {
						bail!("job {id}: the device's output was wrong")
					}
					Err(e) => return Err(e.into()),
				};
				if let Some(path) = &out_path {
					proofgrid_client::data::write_npy_i32(path, m as usize, n as usize, &c)?;
					out.print(json!({ "job": id, "out": path }), || {
						format!(
							"job {id}: C ({m}×{n}, checked against the committed root) written to {}; first values {}",
							path.display(),
							first_values(&c)
						)
					});
				}
			}
			if wait {
				watch(client, out, id, from + 1, Duration::from_secs(600)).await?;
			}
		}
		JobCommand::Layer(args) => {
			crate::layer::run(client, signer, out, args).await?;
		}
		JobCommand::Status { job } => match client.job_view(job).await? {
			Some(view) => out.print(serde_json::to_value(&view)?, || job_line(&view)),
			None => out.print(json!(null), || {
				format!("job {job} is not open (finished jobs are in the events; `job watch {job} --from <block>`)")
			}),
		},
		JobCommand::Result { job, out: path, grant } => {
			let output = client.committed_output(job).await?;
			let endpoint = client
				.endpoint(&output.device)
				.await?
				.context("the device that computed the job no longer publishes a data service")?;
			let grant = match grant {
				Some(token) => DownloadGrant::from_token(&token)?,
				None => client.grant_download(
					signer,
					output.device.0,
					job,
					Download::Output,
					GRANT_FOR_DOWNLOAD,
				)?,
			};
			let c = client
				.download_output(&endpoint, job, &output.shape, &output.root, Some(&grant))
				.await?;
			let GemmShape { m, n, .. } = output.shape;
			proofgrid_client::data::write_npy_i32(&path, m as usize, n as usize, &c)?;
			let verified = if output.verified { "verified" } else { "committed, reveal pending" };
			out.print(json!({ "job": job, "out": path, "verified": output.verified }), || {
				format!(
					"job {job}: C ({m}×{n}, {verified}, checked against the committed root) written to {}; first values {}",
					path.display(),
					first_values(&c)
				)
			});
		}
		JobCommand::Grant { job, what, valid_for } => {
			let what = match what.as_str() {
				"output" => Download::Output,
				"accumulators" => Download::Accumulators,
				"leaves" => Download::Leaves,
				other => bail!("--what {other}: one of output, accumulators, leaves"),
			};
			let output = client.committed_output(job).await?;
			let grant = client.grant_download(
				signer,
				output.device.0,
				job,
				what,
				Duration::from_secs(valid_for),
			)?;
			let token = grant.to_token();
			out.print(json!({ "job": job, "what": what.name(), "expiry": grant.expiry, "grant": token }), || {
				format!(
					"{token}\n(job {job}'s {}, valid {valid_for} s: `proofgrid job result {job} --out FILE --grant <it>`; it proves nothing about who holds it, so hand it only to whom you mean)",
					what.name()
				)
			});
		}
		JobCommand::Watch { job, from, timeout } => {
			let from = match from {
				Some(from) => from,
				None => client.best_number().await?,
			};
			watch(client, out, job, from, Duration::from_secs(timeout)).await?;
		}
		JobCommand::List => {
			// The node's view of each open job: the same shape as `proofgrid_job`.
			let mut rows = vec![];
			for (id, _) in client.open_jobs().await? {
				rows.extend(client.job_view(id).await?);
			}
			out.print(serde_json::to_value(&rows)?, || {
				if rows.is_empty() {
					"no open jobs".into()
				} else {
					rows.iter().map(job_line).collect::<Vec<_>>().join("\n")
				}
			});
		}
		JobCommand::Cancel { job } => {
			client.cancel_job(signer, job).await?;
			out.print(json!({ "cancelled": job }), || format!("job {job} cancelled"));
		}
		JobCommand::Expire { job } => {
			client.expire_job(signer, job).await?;
			let state = client.job(job).await?.map(|info| state_name(&info.status));
			out.print(json!({ "expired": job, "state": state }), || match state {
				Some(state) => format!("job {job}: deadline enforced, now {state}"),
				None => format!("job {job}: deadline enforced, the job ended"),
			});
		}
	}
	Ok(())
}

/// Where one of a job's own inputs comes from, as given on the command line.
pub(crate) enum InputArg {
	/// A local `.npy` file, uploaded to the device.
	File(PathBuf),
	/// A URL the device fetches an `.npy` file from.
	Url(String),
}

impl InputArg {
	fn of(file: Option<PathBuf>, url: Option<String>) -> Option<Self> {
		file.map(Self::File).or(url.map(Self::Url))
	}
}

/// The spec of a job on the matrices `a` (m×k) and `b` (k×n) with `samples`, and its inputs
/// (those from files are uploaded, those at URLs fetched by the device).
pub(crate) async fn supplied_spec(
	a: InputArg,
	b: InputArg,
	samples: u32,
	public_output: bool,
	requirements: Requirements,
) -> Result<(JobSpec, OwnInputs)> {
	use proofgrid_client::data::{fetch_npy_i8, read_npy_i8, MAX_NPY_HEADER};
	use proofgrid_primitives::job::InputSource;
	// A URL input is read here once, to commit to it: no larger than a worker takes by default
	// (`--max-input-mib` 1024).
	const MAX_URL_INPUT: usize = (1 << 30) + MAX_NPY_HEADER + 12;
	let load = |input: InputArg| async move {
		let (source, (rows, cols, values)) = match input {
			InputArg::File(path) => (InputSource::Upload, read_npy_i8(&path)?),
			InputArg::Url(url) => {
				let source = InputSource::Url(
					url.clone()
						.into_bytes()
						.try_into()
						.map_err(|_| anyhow::anyhow!("URL too long"))?,
				);
				anyhow::ensure!(source.is_valid(), "{url} is not an http:// or https:// URL");
				(source, fetch_npy_i8(&url, MAX_URL_INPUT).await?)
			}
		};
		anyhow::Ok((source, rows, cols, values))
	};
	let (a_source, m, k, a_values) = load(a).await?;
	let (b_source, k_b, n, b_values) = load(b).await?;
	let mut inputs = OwnInputs::from_row_major(a_values, (m, k), b_values, (k_b, n))?;
	inputs.upload_a = a_source == InputSource::Upload;
	inputs.upload_b = b_source == InputSource::Upload;
	let spec = inputs.spec((a_source, b_source), samples, public_output, requirements)?;
	Ok((spec, inputs))
}
