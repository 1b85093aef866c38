//! The node's JSON-RPC extensions beside the standard Substrate ones: account nonces, fee
//! queries, the `proofgrid_*` job queries and, in sealing dev modes,
//! `engine_createBlock`/`engine_finalizeBlock`.

use std::sync::Arc;

use futures::channel::mpsc;
use jsonrpsee::RpcModule;
use proofgrid_runtime::{opaque::Block, AccountId, Balance, BlockNumber, Hash, Nonce};
use sc_consensus_manual_seal::{
	rpc::{ManualSeal, ManualSealApiServer},
	EngineCommand,
};
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_block_builder::BlockBuilder;
use sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata};

/// What the RPC handlers need.
pub struct FullDeps<C, P> {
	/// The client instance to use.
	pub client: Arc<C>,
	/// Transaction pool instance.
	pub pool: Arc<P>,
	/// Channel to the manual-seal task, when the node seals blocks itself.
	pub command_sink: Option<mpsc::Sender<EngineCommand<Hash>>>,
	/// When this node saw its last best blocks (`proofgrid_blockTime`).
	pub block_times: Arc<crate::block_times::BlockTimes>,
}

/// All the node's RPC extensions.
pub fn create_full<C, P>(
	deps: FullDeps<C, P>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ HeaderMetadata<Block, Error = BlockChainError>
		+ Send
		+ Sync
		+ 'static,
	C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>,
	C::Api: pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>,
	C::Api: BlockBuilder<Block>,
	C::Api: pallet_jobs::runtime_api::JobsApi<Block, AccountId, Balance, BlockNumber>,
	C::Api: pallet_devices::runtime_api::DevicesApi<Block, AccountId, Balance, BlockNumber>,
	C::Api: pallet_rewards::runtime_api::RewardsApi<Block, AccountId, Balance, BlockNumber>,
	P: TransactionPool + 'static,
{
	use pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer};
	use substrate_frame_rpc_system::{System, SystemApiServer};

	let mut module = RpcModule::new(());
	let FullDeps { client, pool, command_sink, block_times } = deps;

	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client.clone()).into_rpc())?;
	module.merge(crate::rpc_jobs::ProofGridApiServer::into_rpc(
		crate::rpc_jobs::ProofGrid::new(client, block_times),
	))?;
	if let Some(command_sink) = command_sink {
		module.merge(ManualSeal::new(command_sink).into_rpc())?;
	}

	Ok(module)
}
