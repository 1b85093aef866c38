//! `proofgrid_*` RPC (defined in `proofgrid-rpc-api`): the job market as JSON, backed by the
//! runtime's `JobsApi`, `DevicesApi` and `RewardsApi`, so workers and dApps need no knowledge of
//! the storage layout. The views and their shapes are `proofgrid_rpc_api`'s.

use std::sync::Arc;

use jsonrpsee::core::RpcResult;

use crate::block_times::BlockTimes;
use pallet_devices::{runtime_api::DevicesApi, DeviceInfo};
use pallet_jobs::{runtime_api::JobsApi, Job, JobStatus};
use pallet_rewards::runtime_api::RewardsApi;
use proofgrid_primitives::device::{DeviceStatus, Kernel};
pub use proofgrid_rpc_api::ProofGridApiServer;
use proofgrid_rpc_api::{
	hex0x, BlockTimeView, DeviceStateView, DeviceView, EraView, ErrorCode, InputsView,
	JobStateView, JobView, PendingRewardView, Planck, ShapeView,
};
use proofgrid_runtime::{opaque::Block, AccountId, Balance, BlockNumber};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::crypto::Ss58Codec;

/// Serves [`ProofGridApiServer`] from the best block.
pub struct ProofGrid<C> {
	client: Arc<C>,
	block_times: Arc<BlockTimes>,
}

impl<C> ProofGrid<C> {
	/// A handler reading through `client`, and the block times this node saw.
	pub fn new(client: Arc<C>, block_times: Arc<BlockTimes>) -> Self {
		Self { client, block_times }
	}
}

fn runtime_error(e: sp_api::ApiError) -> jsonrpsee::types::ErrorObjectOwned {
	ErrorCode::RuntimeApi.error(e.to_string())
}

fn parse_address(what: &str, text: &str) -> RpcResult<AccountId> {
	AccountId::from_ss58check(text)
		.map_err(|e| ErrorCode::BadAddress.error(format!("bad {what} address: {e:?}")))
}

/// A device as the RPC shows it.
fn device_view(
	device: &AccountId,
	info: &DeviceInfo<AccountId, Balance, BlockNumber>,
	endpoint: Option<&[u8]>,
) -> DeviceView {
	DeviceView {
		device: device.to_ss58check(),
		owner: info.owner.to_ss58check(),
		model: String::from_utf8_lossy(&info.spec.model).into_owned(),
		vram_mib: info.spec.vram_mib,
		advertised_gops: info.spec.advertised_gops,
		delivered_gops: info.delivered_gops,
		price_per_unit: Planck(info.price_per_unit),
		bond: Planck(info.bond),
		locked: Planck(info.locked),
		free_bond: Planck(info.free_bond()),
		active_jobs: info.active_jobs,
		completed: info.reputation.completed,
		failed: info.reputation.failed,
		last_heartbeat: info.last_heartbeat,
		status: match info.status {
			DeviceStatus::Active => DeviceStateView::Active,
			DeviceStatus::Paused => DeviceStateView::Paused,
			DeviceStatus::Unbonding { until } => DeviceStateView::Unbonding { until },
		},
		kernels: Kernel::ALL
			.into_iter()
			.filter(|kernel| info.spec.kernels.contains(*kernel))
			.map(|kernel| kernel.name().to_string())
			.collect(),
		endpoint: endpoint.map(|e| String::from_utf8_lossy(e).into_owned()),
		earned: Planck(info.earned),
		slashed: Planck(info.slashed),
	}
}

/// A job as the RPC shows it.
fn job_view(id: u64, job: &Job<AccountId, Balance, BlockNumber>) -> JobView {
	let status = match job.status.clone() {
		JobStatus::Submitted => JobStateView::Submitted,
		JobStatus::Assigned {
			device,
			price,
			collateral,
			claimed_at,
			commit_by,
			inputs_received,
		} => JobStateView::Assigned {
			device: device.to_ss58check(),
			price: Planck(price),
			collateral: Planck(collateral),
			claimed_at,
			commit_by,
			inputs_received,
		},
		JobStatus::Committed {
			device,
			price,
			collateral,
			claimed_at,
			committed_at,
			root,
			challenge_block,
			reveal_by,
		} => JobStateView::Committed {
			device: device.to_ss58check(),
			price: Planck(price),
			collateral: Planck(collateral),
			claimed_at,
			committed_at,
			root: hex0x(root.as_bytes()),
			challenge_block,
			reveal_by,
		},
		JobStatus::Verified {
			device,
			price,
			collateral,
			claimed_at,
			committed_at,
			root,
			dispute_until,
		} => JobStateView::Verified {
			device: device.to_ss58check(),
			price: Planck(price),
			collateral: Planck(collateral),
			claimed_at,
			committed_at,
			root: hex0x(root.as_bytes()),
			dispute_until,
		},
	};
	let spec = &job.spec;
	JobView {
		id,
		client: job.client.to_ss58check(),
		shape: ShapeView { m: spec.shape.m, n: spec.shape.n, k: spec.shape.k },
		inputs: InputsView::from(&spec.inputs),
		kernel: format!("{:?}", spec.requirements.kernel),
		min_vram_mib: spec.requirements.min_vram_mib,
		min_gops: spec.requirements.min_gops,
		units: job.units,
		price_cap: Planck(job.price_cap),
		budget: Planck(job.budget),
		deposit: Planck(job.deposit),
		call_fee: Planck(job.call_fee),
		deadline: job.deadline,
		abandoned_by: job.abandoned.iter().map(|d| d.to_ss58check()).collect(),
		status,
	}
}

impl<C> ProofGridApiServer for ProofGrid<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: JobsApi<Block, AccountId, Balance, BlockNumber>
		+ DevicesApi<Block, AccountId, Balance, BlockNumber>
		+ RewardsApi<Block, AccountId, Balance, BlockNumber>,
{
	fn job(&self, id: u64) -> RpcResult<Option<JobView>> {
		let at = self.client.info().best_hash;
		let job = self.client.runtime_api().job(at, id).map_err(runtime_error)?;
		Ok(job.map(|job| job_view(id, &job)))
	}

	fn jobs_for_device(&self, device: String) -> RpcResult<Vec<JobView>> {
		let device = parse_address("device", &device)?;
		let at = self.client.info().best_hash;
		let jobs = self.client.runtime_api().jobs_for_device(at, device).map_err(runtime_error)?;
		Ok(jobs.iter().map(|(id, job)| job_view(*id, job)).collect())
	}

	fn challenge(&self, id: u64) -> RpcResult<Option<Vec<u64>>> {
		let at = self.client.info().best_hash;
		let challenge = self.client.runtime_api().challenge(at, id).map_err(runtime_error)?;
		Ok(challenge.map(|(_, indices)| indices))
	}

	fn device(&self, device: String) -> RpcResult<Option<DeviceView>> {
		let device = parse_address("device", &device)?;
		let at = self.client.info().best_hash;
		let info = self.client.runtime_api().device(at, device.clone()).map_err(runtime_error)?;
		Ok(info.as_ref().map(|info| device_view(&device, info, None)))
	}

	fn devices(
		&self,
		start_after: Option<String>,
		count: Option<u32>,
	) -> RpcResult<Vec<DeviceView>> {
		let start_after = start_after.map(|a| parse_address("start", &a)).transpose()?;
		let count = count.unwrap_or(pallet_devices::MAX_DEVICES_PAGE);
		let at = self.client.info().best_hash;
		let page =
			self.client.runtime_api().devices(at, start_after, count).map_err(runtime_error)?;
		Ok(page
			.iter()
			.map(|(device, info, endpoint)| device_view(device, info, endpoint.as_deref()))
			.collect())
	}

	fn pending_rewards(&self, who: String) -> RpcResult<Vec<PendingRewardView>> {
		let who = parse_address("account", &who)?;
		let at = self.client.info().best_hash;
		let pending = self.client.runtime_api().pending_rewards(at, who).map_err(runtime_error)?;
		Ok(pending
			.iter()
			.map(|reward| PendingRewardView {
				era: reward.era,
				units: reward.units,
				fees: Planck(reward.fees),
				amount: Planck(reward.amount),
			})
			.collect())
	}

	fn current_era(&self) -> RpcResult<EraView> {
		let at = self.client.info().best_hash;
		let era = self.client.runtime_api().current_era(at).map_err(runtime_error)?;
		Ok(EraView {
			era: era.era,
			start: era.start,
			end: era.end,
			emission: Planck(era.emission),
			units: Planck(era.units),
			fees: Planck(era.fees),
			mintable: Planck(era.mintable),
		})
	}

	fn block_time(&self) -> RpcResult<BlockTimeView> {
		let observed = self.block_times.mean_ms();
		Ok(BlockTimeView {
			target_ms: proofgrid_primitives::time::MILLI_SECS_PER_BLOCK,
			observed_ms: observed.map(|(ms, _)| ms),
			observed_blocks: observed.map_or(0, |(_, blocks)| blocks),
		})
	}
}
