//! The market's rules as the runtime states them (its constants), what they imply for one job
//! (collateral, commit window), and what the market has burned so far.

use proofgrid_primitives::gemm::GemmShape;

use crate::{node_error, runtime, Balance, Client, Error};

/// The parameters a provider or a client plans with, read from the runtime's metadata.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketParams {
	/// Bond held per device, and the least a device keeps to take work (planck).
	#[serde(serialize_with = "crate::planck")]
	pub device_bond: Balance,
	/// Lowest price per work unit (planck).
	#[serde(serialize_with = "crate::planck")]
	pub min_price_per_unit: Balance,
	/// Operations in one work unit.
	pub ops_per_unit: u64,
	/// Smallest job, in work units.
	pub min_work_units: u64,
	/// Share of each payment burned, in parts per billion.
	pub protocol_fee_ppb: u32,
	/// Least collateral a claim locks (planck).
	#[serde(serialize_with = "crate::planck")]
	pub min_collateral: Balance,
	/// Collateral in percent of the job's value.
	pub collateral_percent: u32,
	/// Part of the collateral a missed commit window forfeits (planck).
	#[serde(serialize_with = "crate::planck")]
	pub claim_deposit: Balance,
	/// Storage deposit per open job, returned when it ends (planck).
	#[serde(serialize_with = "crate::planck")]
	pub job_deposit: Balance,
	/// Commit window on top of the advertised compute time, in blocks.
	pub base_commit_window: u32,
	/// Longest commit window, in blocks.
	pub max_commit_window: u32,
	/// The runtime's target block time, in milliseconds: what commit windows are sized by.
	pub millisecs_per_block: u64,
	/// How long a block takes now, in milliseconds, as the node observed it (the target
	/// until it has): what windows are shown in seconds by. A dev chain sealing every 500 ms
	/// has 500 here and 6 000 above.
	pub block_ms: u64,
	/// Operation-equivalents a commit window grants per output leaf (hashing).
	pub ops_per_leaf: u64,
	/// ρ: an era mints at most this share of the fees its jobs burned, in parts per billion.
	pub max_reward_per_fee_ppb: u32,
	/// Most bytes a reveal's samples may take: a supplied job's `samples × sample_bytes(shape)`
	/// must fit.
	pub max_reveal_bytes: u32,
	/// Leaves the challenge of a seeded job draws.
	pub samples: u32,
	/// Fewest output elements the challenge of a supplied job may draw (its client chooses).
	pub min_supplied_samples: u32,
	/// Elements the challenge of a supplied job draws unless its client chooses.
	pub default_supplied_samples: u32,
	/// Blocks after its claim from which a device may release a supplied job whose inputs did
	/// not arrive, for inputs of no size…
	pub input_window: u32,
	/// …plus one block per this many bytes of inputs.
	pub input_bytes_per_block: u64,
	/// Blocks a device has to reveal after the challenge block, not counting congested blocks.
	pub reveal_window: u32,
}

impl MarketParams {
	/// `blocks` in seconds at the chain's observed pace (rounded down).
	pub fn seconds(&self, blocks: u32) -> u64 {
		u64::from(blocks).saturating_mul(self.block_ms) / 1000
	}

	/// Collateral a claim locks for a job worth `value` (units × the device's price).
	pub fn collateral_for(&self, value: Balance) -> Balance {
		(value.saturating_mul(self.collateral_percent.into()) / 100).max(self.min_collateral)
	}

	/// The commit window a device advertising `gops` gets for a GEMM of `shape`, or `None` if
	/// it is too slow to claim the job at all.
	pub fn commit_window(&self, shape: &GemmShape, gops: u64) -> Option<u32> {
		let compute = proofgrid_primitives::job::compute_blocks(
			shape.commit_work(self.ops_per_leaf),
			gops,
			self.millisecs_per_block,
		);
		let window = u128::from(self.base_commit_window).saturating_add(compute);
		(window <= u128::from(self.max_commit_window)).then_some(window as u32)
	}

	/// Blocks after its claim from which the device of `spec` may release it, its inputs not
	/// having arrived (as the runtime counts them: a block more per `input_bytes_per_block`).
	pub fn input_window_for(&self, spec: &proofgrid_primitives::job::JobSpec) -> u32 {
		let upload = spec.input_bytes().div_ceil(self.input_bytes_per_block.max(1));
		self.input_window.saturating_add(upload.min(u64::from(u32::MAX)) as u32)
	}

	/// The protocol fee burned on a payment of `payment` (rounded up, as the runtime does).
	pub fn fee_on(&self, payment: Balance) -> Balance {
		(payment.saturating_mul(self.protocol_fee_ppb.into())).div_ceil(1_000_000_000)
	}
}

/// A device's heartbeat older than this many blocks suggests its worker is down (workers beat
/// every 30 blocks).
pub const STALE_HEARTBEAT_BLOCKS: u32 = 90;

/// Why `device` would not take a job of `spec` at `price_cap` per work unit, as of block
/// `best`: one line per reason, none if it may take it. What a worker weighs besides (its
/// measured speed against the commit window, its disk and memory, its free bond) it alone
/// knows; these are the reasons anyone can read on chain.
pub fn reasons_not_taken(
	device: &proofgrid_rpc_api::DeviceView,
	spec: &proofgrid_primitives::job::JobSpec,
	price_cap: Balance,
	best: u32,
	params: &MarketParams,
) -> Vec<String> {
	use crate::amount::format_grid;
	use proofgrid_rpc_api::DeviceStateView;
	let mut reasons = Vec::new();
	match device.status {
		DeviceStateView::Active => {}
		DeviceStateView::Paused => reasons.push("paused by its owner".to_string()),
		DeviceStateView::Unbonding { until } => {
			reasons.push(format!("leaving the market (unbonding until #{until})"))
		}
	}
	if device.price_per_unit.0 > price_cap {
		reasons.push(format!(
			"asks {} GRID/unit, above your cap of {} GRID/unit",
			format_grid(device.price_per_unit.0),
			format_grid(price_cap)
		));
	}
	let requirements = &spec.requirements;
	let kernel = requirements.kernel.name();
	if !device.kernels.iter().any(|k| k == kernel) {
		reasons.push(format!("does not run {kernel} (it runs {})", device.kernels.join(", ")));
	}
	if device.vram_mib < requirements.min_vram_mib {
		reasons.push(format!(
			"has {} MiB of memory, the job asks {} MiB",
			device.vram_mib, requirements.min_vram_mib
		));
	}
	if device.advertised_gops < requirements.min_gops {
		reasons.push(format!(
			"advertises {} GOPS, the job asks {}",
			device.advertised_gops, requirements.min_gops
		));
	}
	if spec.supplied().is_some() && device.endpoint.is_none() {
		reasons.push("publishes no data service, where your own inputs would be uploaded".into());
	}
	if params.commit_window(&spec.shape, device.advertised_gops).is_none() {
		reasons.push(format!(
			"too slow for this shape at its advertised {} GOPS (longer than the longest commit window)",
			device.advertised_gops
		));
	}
	let silent = best.saturating_sub(device.last_heartbeat);
	if silent > STALE_HEARTBEAT_BLOCKS {
		let seconds = params.seconds(silent);
		reasons.push(format!(
			"no heartbeat for {silent} blocks (about {seconds} s): its worker may be down"
		));
	}
	reasons
}

/// What the market has destroyed since genesis.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Burned {
	/// Protocol fees burned by settled jobs (planck).
	#[serde(serialize_with = "crate::planck")]
	pub fees: Balance,
	/// Slashed collateral not paid to clients (planck).
	#[serde(serialize_with = "crate::planck")]
	pub slashes: Balance,
}

impl Client {
	/// The market's parameters, from the runtime's constants.
	pub async fn market_params(&self) -> Result<MarketParams, Error> {
		let at = self.at_best().await?;
		let constants = at.constants();
		let c = runtime::constants();
		macro_rules! get {
			($address:expr) => {
				constants.entry($address).map_err(node_error)?
			};
		}
		Ok(MarketParams {
			device_bond: get!(c.devices().device_bond()),
			min_price_per_unit: get!(c.jobs().min_price_per_unit()),
			ops_per_unit: get!(c.jobs().ops_per_unit()),
			min_work_units: get!(c.jobs().min_work_units()),
			protocol_fee_ppb: get!(c.jobs().protocol_fee()).0,
			min_collateral: get!(c.jobs().min_collateral()),
			collateral_percent: get!(c.jobs().collateral_percent()),
			claim_deposit: get!(c.jobs().claim_deposit()),
			job_deposit: get!(c.jobs().job_deposit()),
			base_commit_window: get!(c.jobs().base_commit_window()),
			max_commit_window: get!(c.jobs().max_commit_window()),
			millisecs_per_block: get!(c.jobs().millisecs_per_block()),
			block_ms: self.block_time().await?.ms(),
			ops_per_leaf: get!(c.jobs().ops_per_leaf()),
			max_reward_per_fee_ppb: get!(c.rewards().max_reward_per_fee()).0,
			samples: get!(c.compute_proof().samples()),
			max_reveal_bytes: get!(c.compute_proof().max_reveal_bytes()),
			min_supplied_samples: get!(c.compute_proof().min_supplied_samples()),
			default_supplied_samples: get!(c.compute_proof().default_supplied_samples()),
			input_window: get!(c.jobs().input_window()),
			input_bytes_per_block: get!(c.jobs().input_bytes_per_block()),
			reveal_window: get!(c.jobs().reveal_window()),
		})
	}

	/// Protocol fees and slashes burned since genesis.
	pub async fn burned(&self) -> Result<Burned, Error> {
		let at = self.at_best().await?;
		let storage = at.storage();
		// Value queries: `fetch` gives the default (zero) before anything was burned.
		let jobs = runtime::storage().jobs();
		let fees = storage.fetch(jobs.fees_burned(), ()).await.map_err(node_error)?;
		let slashes = storage.fetch(jobs.slashes_burned(), ()).await.map_err(node_error)?;
		Ok(Burned {
			fees: fees.decode().map_err(node_error)?,
			slashes: slashes.decode().map_err(node_error)?,
		})
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn params() -> MarketParams {
		MarketParams {
			device_bond: 100,
			min_price_per_unit: 1,
			ops_per_unit: 1_000_000_000,
			min_work_units: 1,
			protocol_fee_ppb: 50_000_000,
			min_collateral: 10,
			collateral_percent: 200,
			claim_deposit: 1,
			job_deposit: 1,
			base_commit_window: 20,
			max_commit_window: 600,
			millisecs_per_block: 6_000,
			block_ms: 6_000,
			ops_per_leaf: 0,
			max_reward_per_fee_ppb: 500_000_000,
			samples: 64,
			max_reveal_bytes: 1 << 20,
			min_supplied_samples: 32,
			default_supplied_samples: 64,
			input_window: 10,
			input_bytes_per_block: 1_000,
			reveal_window: 20,
		}
	}

	#[test]
	fn collateral_windows_and_fees_follow_the_runtime_formulas() {
		let p = params();
		assert_eq!(p.collateral_for(3), 10);
		assert_eq!(p.collateral_for(30), 60);
		// 100 GOPS: 6·10¹¹ operations per 6 s block; 2·4096·4096·4096 = 1.37·10¹¹.
		let cube = GemmShape { m: 4096, n: 4096, k: 4096 };
		assert_eq!(p.commit_window(&cube, 100), Some(21));
		assert_eq!(p.commit_window(&cube, 10), Some(23));
		assert_eq!(p.commit_window(&cube, 1), Some(43));
		// Leaves count too: 2²⁰ of them at 10⁶ operations each is 10¹² more.
		let p = MarketParams { ops_per_leaf: 1_000_000, ..p };
		assert_eq!(p.commit_window(&cube, 100), Some(22));
		assert_eq!(p.commit_window(&GemmShape { m: 65_536, n: 65_536, k: 1 }, 1), None);
		// Input windows grow a block per `input_bytes_per_block` (1 000 here) of A and B.
		use proofgrid_primitives::inputs::{MatrixCommitment, SuppliedInputs};
		use proofgrid_primitives::job::{InputSource, JobInputs, JobSpec};
		let shape = GemmShape { m: 64, n: 64, k: 16 };
		let lanes = |lanes| MatrixCommitment { lanes, lane_len: 16, root: Default::default() };
		let requirements = proofgrid_primitives::device::Requirements {
			kernel: proofgrid_primitives::device::Kernel::GemmI8,
			min_vram_mib: 0,
			min_gops: 0,
		};
		let seeded = JobSpec::seeded(shape, [0; 32], requirements);
		let supplied = JobSpec {
			inputs: JobInputs::Supplied {
				matrices: SuppliedInputs { a: lanes(64), b: lanes(64) },
				a: InputSource::Upload,
				b: InputSource::Upload,
				samples: 64,
				public_output: false,
			},
			..seeded.clone()
		};
		assert_eq!(p.input_window_for(&seeded), 10);
		assert_eq!(p.input_window_for(&supplied), 10 + 3, "2 048 bytes: 3 blocks begun");
		assert_eq!(p.fee_on(100), 5);
		assert_eq!(p.fee_on(1), 1, "rounded up");
	}
}
