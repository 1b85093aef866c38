//! `proofgrid_*` RPC: the job market as JSON, backed by the runtime's `JobsApi`, so workers and
//! dApps need no knowledge of the storage layout.
//!
//! - `proofgrid_job(id)` → the open job, or `null` once it is finished (see its events);
//! - `proofgrid_jobsForDevice(ss58)` → the open jobs assigned to a device;
//! - `proofgrid_challenge(id)` → the leaf indices to reveal, or `null` until the block after
//!   the challenge block (a block's hash enters the state when the next block starts);
//! - `proofgrid_device(ss58)` → a device's record (price, bond, locked collateral, status,
//!   reputation, advertised and delivered GOPS), or `null`, backed by `DevicesApi`;
//! - `proofgrid_pendingRewards(ss58)` → `[{era, units, fees, amount}]`, what the account can
//!   claim;
//! - `proofgrid_currentEra()` → `{era, start, end, emission, units, fees, mintable}`, backed by
//!   `RewardsApi`.
//!
//! Balances are decimal strings (JavaScript numbers cannot hold them); hashes are `0x` hex.

use std::sync::Arc;

use jsonrpsee::{
	core::RpcResult,
	proc_macros::rpc,
	types::{ErrorObject, ErrorObjectOwned},
};
use pallet_devices::{runtime_api::DevicesApi, DeviceInfo};
use pallet_jobs::{runtime_api::JobsApi, Job, JobStatus};
use pallet_rewards::runtime_api::RewardsApi;
use proofgrid_primitives::device::DeviceStatus;
use proofgrid_runtime::{opaque::Block, AccountId, Balance, BlockNumber};
use serde_json::{json, Value};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::crypto::Ss58Codec;

/// The `proofgrid` RPC namespace.
#[rpc(server, namespace = "proofgrid")]
pub trait ProofGridApi {
	/// An open job by id, or `null`.
	#[method(name = "job")]
	fn job(&self, id: u64) -> RpcResult<Option<Value>>;

	/// The open jobs assigned to a device (SS58 address).
	#[method(name = "jobsForDevice")]
	fn jobs_for_device(&self, device: String) -> RpcResult<Vec<Value>>;

	/// The leaf indices a committed job's device must reveal, or `null` if not yet known.
	#[method(name = "challenge")]
	fn challenge(&self, id: u64) -> RpcResult<Option<Vec<u64>>>;

	/// A registered device (SS58 address), or `null`.
	#[method(name = "device")]
	fn device(&self, device: String) -> RpcResult<Option<Value>>;

	/// What an account (SS58 address) can claim, era by era.
	#[method(name = "pendingRewards")]
	fn pending_rewards(&self, who: String) -> RpcResult<Vec<Value>>;

	/// The current rewards era: number, first and last block, emission and verified units.
	#[method(name = "currentEra")]
	fn current_era(&self) -> RpcResult<Value>;
}

/// Serves [`ProofGridApiServer`] from the best block.
pub struct ProofGrid<C> {
	client: Arc<C>,
}

impl<C> ProofGrid<C> {
	/// A handler reading through `client`.
	pub fn new(client: Arc<C>) -> Self {
		Self { client }
	}
}

/// Error code of a runtime API call that failed.
const RUNTIME_ERROR: i32 = 1;
/// Error code of a malformed argument (e.g. an address that is not SS58).
const BAD_ARGUMENT: i32 = 2;

fn error(message: impl ToString) -> ErrorObjectOwned {
	ErrorObject::owned(RUNTIME_ERROR, message.to_string(), None::<()>)
}

fn bad_address(what: &str, e: impl std::fmt::Debug) -> ErrorObjectOwned {
	ErrorObject::owned(BAD_ARGUMENT, format!("bad {what} address: {e:?}"), None::<()>)
}

/// A device as JSON.
fn device_json(info: &DeviceInfo<AccountId, Balance, BlockNumber>) -> Value {
	let status = match info.status {
		DeviceStatus::Active => json!({ "state": "active" }),
		DeviceStatus::Paused => json!({ "state": "paused" }),
		DeviceStatus::Unbonding { until } => json!({ "state": "unbonding", "until": until }),
	};
	json!({
		"owner": info.owner.to_ss58check(),
		"model": String::from_utf8_lossy(&info.spec.model),
		"vramMib": info.spec.vram_mib,
		"advertisedGops": info.spec.advertised_gops,
		"deliveredGops": info.delivered_gops,
		"pricePerUnit": info.price_per_unit.to_string(),
		"bond": info.bond.to_string(),
		"locked": info.locked.to_string(),
		"freeBond": info.free_bond().to_string(),
		"activeJobs": info.active_jobs,
		"completed": info.reputation.completed,
		"failed": info.reputation.failed,
		"lastHeartbeat": info.last_heartbeat,
		"status": status,
	})
}

/// A job as JSON.
fn job_json(id: u64, job: &Job<AccountId, Balance, BlockNumber>) -> Value {
	let status = match &job.status {
		JobStatus::Submitted => json!({ "state": "submitted" }),
		JobStatus::Assigned { device, price, collateral, claimed_at, commit_by } => json!({
			"state": "assigned",
			"device": device.to_ss58check(),
			"price": price.to_string(),
			"collateral": collateral.to_string(),
			"claimedAt": claimed_at,
			"commitBy": commit_by,
		}),
		JobStatus::Committed {
			device,
			price,
			collateral,
			claimed_at,
			committed_at,
			root,
			challenge_block,
			reveal_by,
		} => json!({
			"state": "committed",
			"device": device.to_ss58check(),
			"price": price.to_string(),
			"collateral": collateral.to_string(),
			"claimedAt": claimed_at,
			"committedAt": committed_at,
			"root": format!("{root:?}"),
			"challengeBlock": challenge_block,
			"revealBy": reveal_by,
		}),
		JobStatus::Verified {
			device,
			price,
			collateral,
			claimed_at,
			committed_at,
			root,
			dispute_until,
		} => json!({
			"state": "verified",
			"device": device.to_ss58check(),
			"price": price.to_string(),
			"collateral": collateral.to_string(),
			"claimedAt": claimed_at,
			"committedAt": committed_at,
			"root": format!("{root:?}"),
			"disputeUntil": dispute_until,
		}),
	};
	json!({
		"id": id,
		"client": job.client.to_ss58check(),
		"shape": { "m": job.spec.shape.m, "n": job.spec.shape.n, "k": job.spec.shape.k },
		"inputs": inputs_json(&job.spec.inputs),
		"kernel": format!("{:?}", job.spec.requirements.kernel),
		"minVramMib": job.spec.requirements.min_vram_mib,
		"minGops": job.spec.requirements.min_gops,
		"units": job.units,
		"priceCap": job.price_cap.to_string(),
		"budget": job.budget.to_string(),
		"deposit": job.deposit.to_string(),
		"deadline": job.deadline,
		"abandonedBy": job.abandoned.iter().map(|d| d.to_ss58check()).collect::<Vec<_>>(),
		"status": status,
	})
}

impl<C> ProofGridApiServer for ProofGrid<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: JobsApi<Block, AccountId, Balance, BlockNumber>
		+ DevicesApi<Block, AccountId, Balance, BlockNumber>
		+ RewardsApi<Block, AccountId, Balance, BlockNumber>,
{
	fn job(&self, id: u64) -> RpcResult<Option<Value>> {
		let at = self.client.info().best_hash;
		let job = self.client.runtime_api().job(at, id).map_err(error)?;
		Ok(job.map(|job| job_json(id, &job)))
	}

	fn jobs_for_device(&self, device: String) -> RpcResult<Vec<Value>> {
		let device = AccountId::from_ss58check(&device).map_err(|e| bad_address("device", e))?;
		let at = self.client.info().best_hash;
		let jobs = self.client.runtime_api().jobs_for_device(at, device).map_err(error)?;
		Ok(jobs.iter().map(|(id, job)| job_json(*id, job)).collect())
	}

	fn challenge(&self, id: u64) -> RpcResult<Option<Vec<u64>>> {
		let at = self.client.info().best_hash;
		self.client.runtime_api().challenge(at, id).map_err(error)
	}

	fn device(&self, device: String) -> RpcResult<Option<Value>> {
		let device = AccountId::from_ss58check(&device).map_err(|e| bad_address("device", e))?;
		let at = self.client.info().best_hash;
		let info = self.client.runtime_api().device(at, device).map_err(error)?;
		Ok(info.as_ref().map(device_json))
	}

	fn pending_rewards(&self, who: String) -> RpcResult<Vec<Value>> {
		let who = AccountId::from_ss58check(&who).map_err(|e| bad_address("account", e))?;
		let at = self.client.info().best_hash;
		let pending = self.client.runtime_api().pending_rewards(at, who).map_err(error)?;
		Ok(pending
			.iter()
			.map(|reward| {
				json!({
					"era": reward.era,
					"units": reward.units,
					"fees": reward.fees.to_string(),
					"amount": reward.amount.to_string(),
				})
			})
			.collect())
	}

	fn current_era(&self) -> RpcResult<Value> {
		let at = self.client.info().best_hash;
		let era = self.client.runtime_api().current_era(at).map_err(error)?;
		Ok(json!({
			"era": era.era,
			"start": era.start,
			"end": era.end,
			"emission": era.emission.to_string(),
			"units": era.units.to_string(),
			"fees": era.fees.to_string(),
			"mintable": era.mintable.to_string(),
		}))
	}
}

/// A job's inputs as JSON: `{"seeded": {"seed"}}`, `{"supplied": {"a", "b", "samples"}}` or
/// `{"layer": {"a", "b", "bias", "requant", "samples"}}`, each matrix with its lanes, lane
/// length, lane root and source (`"upload"`, its URL, or `"job:ID"` for an earlier job's
/// output).
fn inputs_json(inputs: &proofgrid_primitives::job::JobInputs) -> serde_json::Value {
	use proofgrid_primitives::job::{InputSource, JobInputs};
	let source = |source: &InputSource| match source {
		InputSource::Upload => "upload".to_string(),
		InputSource::Url(url) => String::from_utf8_lossy(url).into_owned(),
		InputSource::Job(job) => format!("job:{job}"),
	};
	let matrix = |m: &proofgrid_primitives::inputs::MatrixCommitment, from: &InputSource| {
		json!({
			"lanes": m.lanes,
			"laneLen": m.lane_len,
			"root": format!("{:?}", m.root),
			"source": source(from),
		})
	};
	match inputs {
		JobInputs::Seeded { seed } => {
			json!({ "seeded": { "seed": format!("0x{}", hex::encode(seed)) } })
		}
		JobInputs::Supplied { matrices, a, b, samples } => json!({
			"supplied": {
				"a": matrix(&matrices.a, a),
				"b": matrix(&matrices.b, b),
				"samples": samples,
			}
		}),
		JobInputs::Layer { matrices, a, b, bias, layer, samples } => json!({
			"layer": {
				"a": matrix(&matrices.a, a),
				"b": matrix(&matrices.b, b),
				"bias": {
					"root": format!("{:?}", layer.bias),
					"source": source(bias),
				},
				"requant": {
					"multiplier": layer.requant.multiplier,
					"shift": layer.requant.shift,
					"relu": layer.requant.relu,
				},
				"samples": samples,
			}
		}),
	}
}
