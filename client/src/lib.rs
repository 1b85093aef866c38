//! # ProofGrid client SDK
//!
//! A typed Rust client for a ProofGrid node, on [subxt] with types generated at compile time
//! from `metadata/proofgrid.scale` (refresh it with `scripts/update-metadata.sh`; the test
//! `metadata_file_matches_the_runtime` fails while it is stale).
//!
//! ```no_run
//! # async fn demo() -> Result<(), proofgrid_client::Error> {
//! use proofgrid_client::{Client, Keypair};
//! let client = Client::connect("ws://127.0.0.1:9944").await?;
//! let alice = Keypair::from_suri("//Alice")?;
//! println!("best block #{}", client.best_number().await?);
//! println!("Alice holds {} planck", client.free_balance(&alice.account()).await?);
//! # Ok(()) }
//! ```
//!
//! - [`Client`]: connection, reads at the best block, transactions that wait for inclusion;
//! - `devices.rs`: register, heartbeat, deregister, withdraw, read devices;
//! - `jobs.rs`: submit, cancel, claim, commit, reveal, read and follow jobs;
//! - `rewards.rs`: pending rewards, the current era, claims;
//! - `data.rs`: upload a job's own matrices to its device, download and check its output;
//! - `npy.rs`: `.npy` files in and out, safe on hostile bytes;
//! - `market.rs`: the market's parameters (collateral, windows, fees) and what it burned;
//! - [`Keypair`]: sr25519 keys from `//Alice`-style secret URIs.
//!
//! Transactions are built against the best block and return once they are in a best block
//! (instant on `--sealing instant` dev chains, one 6 s slot on BABE chains), with their events.

pub mod amount;
pub mod data;
pub mod devices;
pub mod disputes;
pub mod earnings;
pub mod endpoint;
mod error;
pub mod grants;
pub mod jobs;
mod keys;
pub mod layers;
pub mod market;
pub mod model;
pub mod model_jobs;
pub mod npy;
pub mod own;
pub mod rewards;
mod rpc;

pub use keys::{parse_address, random_bytes, to_address, Keypair};
/// The `proofgrid_*` RPC: its views (the CLI's `--json` shapes), error codes and client.
pub use proofgrid_rpc_api as rpc_api;
pub use subxt::utils::{AccountId32, H256};

use subxt::{
	backend::LegacyBackend,
	client::{ClientAtBlock, OnlineClientAtBlockImpl},
	config::RpcConfigFor,
	extrinsics::ExtrinsicEvents,
	rpcs::{methods::LegacyRpcMethods, RpcClient},
	tx::{Payload, TransactionStatus},
	OnlineClient, PolkadotConfig,
};

/// Types, calls, events, storage and runtime APIs generated from the runtime's metadata.
/// `proofgrid-primitives` types are used as they are (SCALE-identical) where the SDK needs them.
#[subxt::subxt(
	runtime_metadata_path = "metadata/proofgrid.scale",
	derive_for_all_types = "Clone",
	substitute_type(
		path = "proofgrid_primitives::job::JobSpec",
		with = "::subxt::utils::Static<::proofgrid_primitives::job::JobSpec>"
	),
	substitute_type(
		path = "proofgrid_primitives::device::DeviceSpec",
		with = "::subxt::utils::Static<::proofgrid_primitives::device::DeviceSpec>"
	),
	substitute_type(
		path = "proofgrid_primitives::device::Kernel",
		with = "::subxt::utils::Static<::proofgrid_primitives::device::Kernel>"
	),
	substitute_type(
		path = "proofgrid_primitives::inputs::SuppliedSample",
		with = "::subxt::utils::Static<::proofgrid_primitives::inputs::SuppliedSample>"
	),
	substitute_type(
		path = "proofgrid_primitives::inputs::FraudProof",
		with = "::subxt::utils::Static<::proofgrid_primitives::inputs::FraudProof>"
	),
	substitute_type(
		path = "proofgrid_primitives::linear::LayerSample",
		with = "::subxt::utils::Static<::proofgrid_primitives::linear::LayerSample>"
	),
	substitute_type(
		path = "proofgrid_primitives::inputs::MatrixCommitment",
		with = "::subxt::utils::Static<::proofgrid_primitives::inputs::MatrixCommitment>"
	),
	substitute_type(
		path = "proofgrid_primitives::linear::LayerFraudProof",
		with = "::subxt::utils::Static<::proofgrid_primitives::linear::LayerFraudProof>"
	),
	substitute_type(
		path = "proofgrid_primitives::job::Reveal",
		with = "::subxt::utils::Static<::proofgrid_primitives::job::Reveal>"
	),
	substitute_type(
		path = "proofgrid_primitives::job::Accusation",
		with = "::subxt::utils::Static<::proofgrid_primitives::job::Accusation>"
	),
	substitute_type(
		path = "proofgrid_primitives::job::PublishedLeaf",
		with = "::subxt::utils::Static<::proofgrid_primitives::job::PublishedLeaf>"
	),
	substitute_type(
		path = "proofgrid_primitives::model::Model",
		with = "::subxt::utils::Static<::proofgrid_primitives::model::Model>"
	),
	substitute_type(
		path = "proofgrid_primitives::model_proof::WeightsCommitment",
		with = "::subxt::utils::Static<::proofgrid_primitives::model_proof::WeightsCommitment>"
	)
)]
pub mod runtime {}

/// Balances in planck (10⁻¹² GRID).
pub type Balance = u128;

/// Serializes a balance as its SDK structs show it in JSON: a decimal string of planck, as the
/// node's RPC does (`proofgrid_rpc_api::Planck`), so no JSON reader rounds it.
pub fn planck<S: serde::Serializer>(value: &Balance, serializer: S) -> Result<S::Ok, S::Error> {
	serializer.serialize_str(&value.to_string())
}
/// One GRID in planck: the chain's definition.
pub use proofgrid_primitives::currency::GRID;

/// Client state at one block.
pub type AtBlock = ClientAtBlock<PolkadotConfig, OnlineClientAtBlockImpl<PolkadotConfig>>;

pub(crate) use error::{dispatch_failure, node_error};
pub use error::{DataError, Error};

/// A connection to a ProofGrid node.
#[derive(Clone)]
pub struct Client {
	api: OnlineClient<PolkadotConfig>,
	rpc: LegacyRpcMethods<RpcConfigFor<PolkadotConfig>>,
	/// The same connection, for the `proofgrid_*` RPC's generated client.
	ws: std::sync::Arc<jsonrpsee::ws_client::WsClient>,
	/// Which addresses devices' data services may resolve to.
	address_policy: endpoint::AddressPolicy,
	/// Held from reading a signer's nonce until its transaction is in the pool, so that
	/// transactions sent at once from one client (threads, tasks) never share a nonce.
	signing: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// The pool's refusal without the transport's layers of "… error:" prefixes; the bare 1010
/// ("Invalid Transaction", sent without its detail) says what it most often means.
fn pool_reason(raw: &str) -> String {
	let reason = raw.rsplit("error: ").next().unwrap_or(raw).trim();
	if reason.contains("(1010)") {
		"the pool refused the transaction as invalid (1010), most often a fee the signer cannot pay"
			.to_string()
	} else {
		reason.to_string()
	}
}

impl Client {
	/// Connects to a node's WebSocket RPC, e.g. `ws://127.0.0.1:9944`.
	pub async fn connect(url: &str) -> Result<Self, Error> {
		let transport = rpc::Transport::connect(url)
			.await
			.map_err(|e| Error::Connect { url: url.into(), reason: e.to_string() })?;
		let ws = transport.0.clone();
		let rpc_client = RpcClient::new(transport);
		let backend = LegacyBackend::builder().build(rpc_client.clone());
		// ProofGrid has no history older than its metadata: no Polkadot legacy types.
		let config = PolkadotConfig::builder().use_historic_types(false).build();
		let api = OnlineClient::from_backend_with_config(config, std::sync::Arc::new(backend))
			.await
			.map_err(|e| Error::Connect { url: url.into(), reason: e.to_string() })?;
		Ok(Self {
			api,
			rpc: LegacyRpcMethods::new(rpc_client),
			ws,
			address_policy: Default::default(),
			signing: Default::default(),
		})
	}

	/// This client with `policy` for the addresses devices' data services may resolve to
	/// (public only by default; [`endpoint::AddressPolicy::AllowPrivate`] on a private network
	/// or in a test on loopback).
	pub fn with_address_policy(mut self, policy: endpoint::AddressPolicy) -> Self {
		self.address_policy = policy;
		self
	}

	/// The address policy for devices' data services.
	pub fn address_policy(&self) -> endpoint::AddressPolicy {
		self.address_policy
	}

	/// The node's `proofgrid_*` RPC through its generated client, e.g.
	/// `ProofGridApiClient::current_era(client.proofgrid())`.
	pub fn proofgrid(&self) -> &impl proofgrid_rpc_api::ProofGridApiClient {
		&*self.ws
	}

	/// Open job `job` as the node's `proofgrid_job` shows it (the CLI's `--json` shape), or
	/// `None` once it is finished.
	pub async fn job_view(&self, job: u64) -> Result<Option<proofgrid_rpc_api::JobView>, Error> {
		proofgrid_rpc_api::ProofGridApiClient::job(&*self.ws, job).await.map_err(node_error)
	}

	/// Device `device` as the node's `proofgrid_device` shows it, or `None` if unregistered.
	pub async fn device_view(
		&self,
		device: &AccountId32,
	) -> Result<Option<proofgrid_rpc_api::DeviceView>, Error> {
		let address = to_address(device);
		proofgrid_rpc_api::ProofGridApiClient::device(&*self.ws, address).await.map_err(node_error)
	}

	/// One page of the market's devices as the node's `proofgrid_devices` shows them: up to
	/// `count` (at most 100) after `start_after`.
	pub async fn devices_page(
		&self,
		start_after: Option<&AccountId32>,
		count: u32,
	) -> Result<Vec<proofgrid_rpc_api::DeviceView>, Error> {
		let start_after = start_after.map(to_address);
		proofgrid_rpc_api::ProofGridApiClient::devices(&*self.ws, start_after, Some(count))
			.await
			.map_err(node_error)
	}

	/// How long a block takes: the runtime's target and what the node observed
	/// (`proofgrid_blockTime`). Print windows in seconds with its [`ms`](
	/// proofgrid_rpc_api::BlockTimeView::ms), never the target alone: a dev chain may seal
	/// every 500 ms.
	pub async fn block_time(&self) -> Result<proofgrid_rpc_api::BlockTimeView, Error> {
		proofgrid_rpc_api::ProofGridApiClient::block_time(&*self.ws).await.map_err(node_error)
	}

	/// Every registered device, page by page.
	pub async fn all_devices(&self) -> Result<Vec<proofgrid_rpc_api::DeviceView>, Error> {
		let mut all: Vec<proofgrid_rpc_api::DeviceView> = Vec::new();
		loop {
			let after = match all.last() {
				Some(last) => Some(parse_address(&last.device)?),
				None => None,
			};
			let page = self.devices_page(after.as_ref(), 100).await?;
			let full = page.len() == 100;
			all.extend(page);
			if !full {
				return Ok(all);
			}
		}
	}

	/// The subxt client, for anything the typed helpers do not cover.
	pub fn api(&self) -> &OnlineClient<PolkadotConfig> {
		&self.api
	}

	/// The chain's genesis hash.
	pub fn genesis_hash(&self) -> H256 {
		self.api.genesis_hash()
	}

	/// The chain's type as its node reports it: `Development`, `Local`, `Live`, …
	pub async fn chain_type(&self) -> Result<String, Error> {
		self.rpc.system_chain_type().await.map_err(node_error)
	}

	/// The best block's number.
	pub async fn best_number(&self) -> Result<u32, Error> {
		let header = self.rpc.chain_get_header(None).await.map_err(node_error)?;
		let header = header.ok_or_else(|| Error::Node("no best header".into()))?;
		Ok(header.number as u32)
	}

	/// The hash of block `number` of the best chain.
	pub async fn block_hash(&self, number: u32) -> Result<Option<H256>, Error> {
		self.rpc.chain_get_block_hash(Some((number as u64).into())).await.map_err(node_error)
	}

	/// The finalized block's number: what no reorg can take back.
	pub async fn finalized_number(&self) -> Result<u32, Error> {
		Ok(self.at_finalized().await?.block_number() as u32)
	}

	/// The client at the finalized block.
	pub async fn at_finalized(&self) -> Result<AtBlock, Error> {
		self.api.at_current_block().await.map_err(node_error)
	}

	/// The client at the best block.
	pub async fn at_best(&self) -> Result<AtBlock, Error> {
		let number = self.best_number().await?;
		self.at(number).await
	}

	/// The client at block `number`.
	pub async fn at(&self, number: u32) -> Result<AtBlock, Error> {
		self.api.at_block(number as u64).await.map_err(node_error)
	}

	/// Free balance of `who` at the best block.
	pub async fn free_balance(&self, who: &AccountId32) -> Result<Balance, Error> {
		Ok(self.balances(who).await?.0)
	}

	/// Free and held (bonds, job budgets, deposits) balance of `who` at the best block.
	pub async fn balances(&self, who: &AccountId32) -> Result<(Balance, Balance), Error> {
		let at = self.at_best().await?;
		let account = at
			.storage()
			.try_fetch(runtime::storage().system().account(), (*who,))
			.await
			.map_err(node_error)?;
		match account {
			Some(value) => {
				let data = value.decode().map_err(node_error)?.data;
				Ok((data.free, data.reserved))
			}
			None => Ok((0, 0)),
		}
	}

	/// Signs `call` with `signer`, submits it and waits until it is in a best block. Returns
	/// its events; a pallet's dispatch error becomes [`Error::Module`], decoded by name and as the generated enum.
	pub async fn submit<Call: Payload>(
		&self,
		call: &Call,
		signer: &Keypair,
	) -> Result<ExtrinsicEvents<PolkadotConfig>, Error> {
		// The pool's next nonce for the signer (it counts transactions still in the pool, which
		// the best block's state does not), read and used under the lock.
		let signing = self.signing.lock().await;
		let at = self.at_best().await?;
		let progress = match self.rpc.system_account_next_index(&signer.account()).await {
			Ok(nonce) => {
				let params = subxt::config::polkadot::PolkadotExtrinsicParamsBuilder::<
					PolkadotConfig,
				>::new()
				.nonce(nonce)
				.build();
				let sent = at.transactions().sign_and_submit_then_watch(call, signer, params).await;
				sent.map_err(|e| e.to_string())
			}
			Err(e) => Err(format!("reading the signer's nonce: {e}")),
		};
		drop(signing);
		let mut progress = match progress {
			Ok(progress) => progress,
			// Name the signer, and what it holds when the fee is what it cannot pay.
			Err(reason) => {
				let reason = pool_reason(&reason);
				let mut said = format!("{reason} (signed by {}", signer.address());
				// 1010 is the pool's "invalid transaction": most often a fee it cannot pay.
				if reason.contains("pay") || reason.contains("balance") || reason.contains("1010") {
					let free = self.free_balance(&signer.account()).await.unwrap_or(0);
					said.push_str(&format!(", which holds {} GRID", amount::format_grid(free)));
				}
				said.push(')');
				return Err(Error::Rejected(said));
			}
		};
		while let Some(status) = progress.next().await {
			match status.map_err(node_error)? {
				TransactionStatus::InBestBlock(tx) | TransactionStatus::InFinalizedBlock(tx) => {
					return tx.wait_for_success().await.map_err(dispatch_failure);
				}
				TransactionStatus::Error { message }
				| TransactionStatus::Invalid { message }
				| TransactionStatus::Dropped { message } => return Err(Error::Rejected(message)),
				_ => {}
			}
		}
		Err(Error::Rejected("the node stopped reporting on the transaction".into()))
	}

	/// Transfers `amount` from `from` to `to`, keeping `from` alive.
	pub async fn transfer(
		&self,
		from: &Keypair,
		to: &AccountId32,
		amount: Balance,
	) -> Result<(), Error> {
		let call = runtime::tx().balances().transfer_keep_alive((*to).into(), amount);
		self.submit(&call, from).await.map(|_| ())
	}

	/// Waits until the best block is at least `number`.
	pub async fn wait_for_block(&self, number: u32) -> Result<(), Error> {
		while self.best_number().await? < number {
			tokio::time::sleep(std::time::Duration::from_millis(100)).await;
		}
		Ok(())
	}
}

#[cfg(test)]
mod tests {
	use super::pool_reason;

	#[test]
	fn a_pool_refusal_reads_without_the_transport_prefixes() {
		let raw = "Cannot submit extrinsic: Backend error: RPC error: RPC error: User error: \
		           Invalid Transaction (1010)";
		assert_eq!(
			pool_reason(raw),
			"the pool refused the transaction as invalid (1010), most often a fee the signer \
			 cannot pay"
		);
		assert_eq!(pool_reason("RPC error: Transaction is outdated"), "Transaction is outdated");
		assert_eq!(pool_reason("plain"), "plain");
	}
}
