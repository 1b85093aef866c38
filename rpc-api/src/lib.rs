//! # The `proofgrid_*` JSON-RPC
//!
//! One definition of the node's custom RPC, used three ways: the node serves it
//! ([`ProofGridApiServer`]), Rust callers call it through the generated [`ProofGridApiClient`]
//! (the SDK, the node's tests), and the CLI prints the same views for `--json`. So a job, a
//! device or an era has one JSON shape everywhere.
//!
//! | method | answer |
//! |---|---|
//! | `proofgrid_job(id)` | the open [`JobView`], or `null` once it is finished (see its events) |
//! | `proofgrid_jobsForDevice(ss58)` | the open jobs assigned to a device |
//! | `proofgrid_challenge(id)` | the leaf indices to reveal, or `null` until the block after the challenge block exists |
//! | `proofgrid_device(ss58)` | a [`DeviceView`], or `null` |
//! | `proofgrid_pendingRewards(ss58)` | what the account can claim, era by era ([`PendingRewardView`]) |
//! | `proofgrid_currentEra()` | the current rewards era ([`EraView`]) |
//!
//! Balances are decimal strings of planck (10⁻¹² GRID: JavaScript numbers cannot hold them);
//! hashes and seeds are `0x` hex; accounts are SS58 (prefix 42). Errors carry an
//! [`ErrorCode`].

use jsonrpsee::{core::RpcResult, proc_macros::rpc, types::ErrorObjectOwned};
use proofgrid_primitives::{
	inputs::MatrixCommitment,
	job::{InputSource, JobInputs},
};
use serde::{Deserialize, Serialize};

/// The `proofgrid` RPC namespace.
#[rpc(server, client, namespace = "proofgrid")]
pub trait ProofGridApi {
	/// An open job by id, or `null`.
	#[method(name = "job")]
	fn job(&self, id: u64) -> RpcResult<Option<JobView>>;

	/// The open jobs assigned to a device (SS58 address).
	#[method(name = "jobsForDevice")]
	fn jobs_for_device(&self, device: String) -> RpcResult<Vec<JobView>>;

	/// The leaf indices a committed job's device must reveal, or `null` if not yet known.
	#[method(name = "challenge")]
	fn challenge(&self, id: u64) -> RpcResult<Option<Vec<u64>>>;

	/// A registered device (SS58 address), or `null`.
	#[method(name = "device")]
	fn device(&self, device: String) -> RpcResult<Option<DeviceView>>;

	/// Up to `count` registered devices (default and most: 100) after `startAfter` (an
	/// address; from the first if absent), in storage order: page through the market by
	/// passing the last address of a page.
	#[method(name = "devices")]
	fn devices(
		&self,
		start_after: Option<String>,
		count: Option<u32>,
	) -> RpcResult<Vec<DeviceView>>;

	/// What an account (SS58 address) can claim, era by era.
	#[method(name = "pendingRewards")]
	fn pending_rewards(&self, who: String) -> RpcResult<Vec<PendingRewardView>>;

	/// The current rewards era: number, first and last block, emission and verified units.
	#[method(name = "currentEra")]
	fn current_era(&self) -> RpcResult<EraView>;

	/// How long a block takes: the runtime's target, and the mean wall-clock interval between
	/// the last best blocks this node imported (a dev chain sealing every 500 ms makes blocks
	/// 12 times faster than its runtime's target, and a stalled chain slower).
	#[method(name = "blockTime")]
	fn block_time(&self) -> RpcResult<BlockTimeView>;
}

/// Why a `proofgrid_*` call failed: the JSON-RPC error's `code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum ErrorCode {
	/// The runtime API behind the method failed (e.g. the best block's state is gone).
	RuntimeApi = 1,
	/// An argument is not an SS58 address.
	BadAddress = 2,
}

impl ErrorCode {
	/// The JSON-RPC error with this code and `message`.
	pub fn error(self, message: impl Into<String>) -> ErrorObjectOwned {
		ErrorObjectOwned::owned(self as i32, message.into(), None::<()>)
	}

	/// The code of a JSON-RPC error, if it is one of these.
	pub fn of(code: i32) -> Option<Self> {
		[Self::RuntimeApi, Self::BadAddress].into_iter().find(|c| *c as i32 == code)
	}
}

/// A balance in planck, as a decimal string in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Planck(pub u128);

impl Serialize for Planck {
	fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
		serializer.collect_str(&self.0)
	}
}

impl<'de> Deserialize<'de> for Planck {
	fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
		let text = String::deserialize(deserializer)?;
		text.parse().map(Planck).map_err(serde::de::Error::custom)
	}
}

/// `0x`-prefixed lower-case hex.
pub fn hex0x(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
}

/// An SS58 address (generic prefix 42) of a 32-byte account id.
pub fn ss58(account: &[u8; 32]) -> String {
	use sp_core::crypto::Ss58Codec;
	sp_core::crypto::AccountId32::new(*account).to_ss58check()
}

/// An open job: its client, shape, inputs, requirements, money and state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
	/// The job's id.
	pub id: u64,
	/// The account that submitted it and pays for it.
	pub client: String,
	/// `C = A·B` with `A` m×k and `B` k×n.
	pub shape: ShapeView,
	/// Where `A` and `B` (and a layer's biases) come from.
	pub inputs: InputsView,
	/// The kernel a device must run (`GemmI8`, `LinearI8`).
	pub kernel: String,
	/// Least device memory, MiB.
	pub min_vram_mib: u32,
	/// Least device throughput, GOPS.
	pub min_gops: u64,
	/// Work units the job is billed as.
	pub units: u64,
	/// The most the client pays per unit.
	pub price_cap: Planck,
	/// Held from the client: `units × price_cap`.
	pub budget: Planck,
	/// The client's deposit, returned when the job ends.
	pub deposit: Planck,
	/// Fees for the device's calls, held from the client.
	pub call_fee: Planck,
	/// The last block the job may end by.
	pub deadline: u32,
	/// Devices that claimed the job and let it go.
	pub abandoned_by: Vec<String>,
	/// Where the job stands.
	pub status: JobStateView,
}

/// A job's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShapeView {
	/// Rows of `A` and `C`.
	pub m: u32,
	/// Columns of `B` and `C`.
	pub n: u32,
	/// The inner dimension.
	pub k: u32,
}

/// A job's state, `{"state": "submitted" | "assigned" | "committed" | "verified", …}`: the
/// names the chain's `JobStatus`, the events, the CLI and the worker use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum JobStateView {
	/// Waiting for a device.
	Submitted,
	/// A device claimed it and must commit by `commit_by`.
	Assigned {
		/// The device.
		device: String,
		/// Its price per unit.
		price: Planck,
		/// Its collateral locked for the job.
		collateral: Planck,
		/// The block of the claim.
		claimed_at: u32,
		/// The last block to commit in.
		commit_by: u32,
		/// Whether the client put the device's receipt for the inputs on chain (a release
		/// then costs the device the client's call fee).
		inputs_received: bool,
	},
	/// The device committed its output's root and must reveal by `reveal_by`.
	Committed {
		/// The device.
		device: String,
		/// Its price per unit.
		price: Planck,
		/// Its collateral locked for the job.
		collateral: Planck,
		/// The block of the claim.
		claimed_at: u32,
		/// The block of the commitment.
		committed_at: u32,
		/// The output's Merkle root.
		root: String,
		/// The block whose randomness draws the challenge.
		challenge_block: u32,
		/// The last block to reveal in.
		reveal_by: u32,
	},
	/// The reveal verified; paid after `dispute_until` unless a fraud proof comes first.
	Verified {
		/// The device.
		device: String,
		/// Its price per unit.
		price: Planck,
		/// Its collateral locked for the job.
		collateral: Planck,
		/// The block of the claim.
		claimed_at: u32,
		/// The block of the commitment.
		committed_at: u32,
		/// The output's Merkle root.
		root: String,
		/// The last block a fraud proof may come in.
		dispute_until: u32,
	},
}

impl JobStateView {
	/// The state's name, as in JSON.
	pub fn name(&self) -> &'static str {
		match self {
			Self::Submitted => "submitted",
			Self::Assigned { .. } => "assigned",
			Self::Committed { .. } => "committed",
			Self::Verified { .. } => "verified",
		}
	}

	/// The device working on the job and its collateral, once claimed.
	pub fn device(&self) -> Option<(&str, Planck)> {
		match self {
			Self::Submitted => None,
			Self::Assigned { device, collateral, .. }
			| Self::Committed { device, collateral, .. }
			| Self::Verified { device, collateral, .. } => Some((device, *collateral)),
		}
	}
}

/// A job's inputs: `{"seeded": {…}}`, `{"supplied": {…}}`, `{"layer": {…}}` or
/// `{"model": {…}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum InputsView {
	/// Generated from a seed (benchmark work).
	Seeded {
		/// The effective seed, hex.
		seed: String,
	},
	/// The client's own matrices.
	Supplied {
		/// `A`.
		a: MatrixView,
		/// `B`.
		b: MatrixView,
		/// Elements the chain checks.
		samples: u32,
		/// Whether the device serves the output to anyone (else only to the client and those
		/// it grants).
		public_output: bool,
	},
	/// An int8 layer: `Y = requant(A·W + bias)`.
	Layer {
		/// `A`.
		a: MatrixView,
		/// `W`.
		b: MatrixView,
		/// The biases.
		bias: BiasView,
		/// How accumulators become int8.
		requant: RequantView,
		/// Elements the chain checks.
		samples: u32,
		/// Whether the device serves the output to anyone.
		public_output: bool,
	},
	/// A whole registered model on a batch.
	Model {
		/// The registered model's id.
		model: u64,
		/// Images in the batch.
		batch: u32,
		/// The batch: one lane per input pixel.
		input: MatrixView,
		/// Elements the chain checks, split across the layers.
		samples: u32,
		/// Its operations (what it is priced by).
		ops: u64,
		/// Whether the device serves the output to anyone.
		public_output: bool,
	},
}

/// A committed matrix and where it comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MatrixView {
	/// Lanes (rows of `A`, columns of `B`).
	pub lanes: u32,
	/// Values per lane (`k`).
	pub lane_len: u32,
	/// The lanes' Merkle root, hex.
	pub root: String,
	/// `"upload"`, a URL, or `"job:ID"` for an earlier layer's output.
	pub source: String,
}

/// A layer's committed biases and where they come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BiasView {
	/// The biases' Merkle root, hex.
	pub root: String,
	/// `"upload"` or a URL.
	pub source: String,
}

/// A layer's requantization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequantView {
	/// Fixed-point multiplier.
	pub multiplier: i32,
	/// Right shift.
	pub shift: u8,
	/// Whether negative outputs become 0.
	pub relu: bool,
}

/// How a source reads: `"upload"`, the URL, or `"job:ID"`.
pub fn source_name(source: &InputSource) -> String {
	match source {
		InputSource::Upload => "upload".to_string(),
		InputSource::Url(url) => String::from_utf8_lossy(url).into_owned(),
		InputSource::Job(job) => format!("job:{job}"),
	}
}

impl From<&JobInputs> for InputsView {
	fn from(inputs: &JobInputs) -> Self {
		let matrix = |m: &MatrixCommitment, from: &InputSource| MatrixView {
			lanes: m.lanes,
			lane_len: m.lane_len,
			root: hex0x(m.root.as_bytes()),
			source: source_name(from),
		};
		match inputs {
			JobInputs::Seeded { seed } => Self::Seeded { seed: hex0x(seed) },
			JobInputs::Supplied { matrices, a, b, samples, public_output } => Self::Supplied {
				a: matrix(&matrices.a, a),
				b: matrix(&matrices.b, b),
				samples: *samples,
				public_output: *public_output,
			},
			JobInputs::Layer { matrices, a, b, bias, layer, samples, public_output } => {
				Self::Layer {
					a: matrix(&matrices.a, a),
					b: matrix(&matrices.b, b),
					bias: BiasView {
						root: hex0x(layer.bias.as_bytes()),
						source: source_name(bias),
					},
					requant: RequantView {
						multiplier: layer.requant.multiplier,
						shift: layer.requant.shift,
						relu: layer.requant.relu,
					},
					samples: *samples,
					public_output: *public_output,
				}
			}
			JobInputs::Model {
				model,
				batch,
				input,
				source,
				samples,
				ops,
				output_values: _,
				public_output,
			} => Self::Model {
				model: *model,
				batch: *batch,
				input: matrix(input, source),
				samples: *samples,
				ops: *ops,
				public_output: *public_output,
			},
		}
	}
}

/// A registered device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceView {
	/// The device's account (its key).
	pub device: String,
	/// The provider that registered it and is paid for its work.
	pub owner: String,
	/// The advertised model name.
	pub model: String,
	/// Memory, MiB.
	pub vram_mib: u32,
	/// Advertised throughput, GOPS.
	pub advertised_gops: u64,
	/// Best throughput its settled jobs showed, GOPS.
	pub delivered_gops: u64,
	/// Asking price per work unit.
	pub price_per_unit: Planck,
	/// Bond held.
	pub bond: Planck,
	/// Bond locked as collateral by open jobs.
	pub locked: Planck,
	/// Bond not locked.
	pub free_bond: Planck,
	/// Open jobs assigned to it.
	pub active_jobs: u32,
	/// Jobs it settled.
	pub completed: u32,
	/// Jobs it failed.
	pub failed: u32,
	/// The block of its last heartbeat.
	pub last_heartbeat: u32,
	/// Active, paused or unbonding.
	pub status: DeviceStateView,
	/// The kernels it runs (`gemm-i8`, `linear-i8`).
	#[serde(default)]
	pub kernels: Vec<String>,
	/// Paid to its owner for its settled jobs since registration (after the protocol fee).
	#[serde(default)]
	pub earned: Planck,
	/// Taken from its bond by slashes since registration.
	#[serde(default)]
	pub slashed: Planck,
	/// Its data service's endpoint, where clients upload their own inputs (listed by
	/// `proofgrid_devices`; `None` in `proofgrid_device`, and for a device without one).
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub endpoint: Option<String>,
}

/// A device's state: `{"state": "active" | "paused" | "unbonding", "until"?}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum DeviceStateView {
	/// Takes jobs.
	Active,
	/// Registered, takes no jobs.
	Paused,
	/// Leaving: its bond returns after `until`.
	Unbonding {
		/// The block the bond may be withdrawn from.
		until: u32,
	},
}

/// One era's reward an account can claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRewardView {
	/// The era.
	pub era: u32,
	/// The account's verified work units in it.
	pub units: u64,
	/// The protocol fees its jobs burned.
	pub fees: Planck,
	/// What it can claim.
	pub amount: Planck,
}

/// How long a block takes (`proofgrid_blockTime`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockTimeView {
	/// The runtime's target block time, ms (what its windows were sized for).
	pub target_ms: u64,
	/// The mean interval between the last `observed_blocks` + 1 best blocks this node
	/// imported, ms; `None` until it has seen two (a node still syncing counts none).
	pub observed_ms: Option<u64>,
	/// How many intervals `observed_ms` averages.
	pub observed_blocks: u32,
}

impl BlockTimeView {
	/// The time a block takes on this chain now, ms: the observed mean where there is one.
	pub fn ms(&self) -> u64 {
		self.observed_ms.unwrap_or(self.target_ms)
	}
}

/// The current rewards era.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EraView {
	/// The era's number.
	pub era: u32,
	/// Its first block.
	pub start: u32,
	/// Its last block.
	pub end: u32,
	/// Its scheduled emission.
	pub emission: Planck,
	/// Verified work units so far (a decimal string: it may pass 2⁵³).
	pub units: Planck,
	/// Protocol fees burned so far.
	pub fees: Planck,
	/// What may be minted: the emission capped by the fees.
	pub mintable: Planck,
}

#[cfg(test)]
mod tests {
	use super::*;
	use serde_json::json;

	#[test]
	fn a_job_state_is_tagged_and_balances_are_decimal_strings() {
		let state = JobStateView::Assigned {
			device: "5Dev".into(),
			price: Planck(u128::MAX),
			collateral: Planck(7),
			claimed_at: 3,
			commit_by: 9,
			inputs_received: true,
		};
		let value = serde_json::to_value(&state).unwrap();
		assert_eq!(
			value,
			json!({
				"state": "assigned",
				"device": "5Dev",
				"price": u128::MAX.to_string(),
				"collateral": "7",
				"claimedAt": 3,
				"commitBy": 9,
				"inputsReceived": true,
			})
		);
		assert_eq!(serde_json::from_value::<JobStateView>(value).unwrap(), state);
		assert_eq!(state.name(), "assigned");
		assert!(serde_json::from_value::<Planck>(json!("12x")).is_err());
	}

	#[test]
	fn error_codes_are_distinct_and_recognised() {
		assert_ne!(ErrorCode::RuntimeApi as i32, ErrorCode::BadAddress as i32);
		let error = ErrorCode::BadAddress.error("bad device address");
		assert_eq!(ErrorCode::of(error.code()), Some(ErrorCode::BadAddress));
		assert_eq!(ErrorCode::of(-32602), None);
	}

	#[test]
	fn inputs_name_their_sources() {
		use proofgrid_primitives::inputs::SuppliedInputs;
		let m = MatrixCommitment { lanes: 2, lane_len: 3, root: sp_core::H256([1; 32]) };
		let inputs = JobInputs::Supplied {
			matrices: SuppliedInputs { a: m, b: m },
			a: InputSource::Job(4),
			b: InputSource::Url(b"https://x/b.npy".to_vec().try_into().unwrap()),
			samples: 8,
			public_output: false,
		};
		let value = serde_json::to_value(InputsView::from(&inputs)).unwrap();
		assert_eq!(value["supplied"]["a"]["source"], "job:4");
		assert_eq!(value["supplied"]["b"]["source"], "https://x/b.npy");
		assert_eq!(value["supplied"]["a"]["laneLen"], 3);
		assert_eq!(value["supplied"]["a"]["root"], hex0x(&[1; 32]));
	}
}
