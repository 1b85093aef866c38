//! Builds the node's services: client and database, transaction pool, network, RPC, and block
//! production — BABE + GRANDPA for real chains, or manual seal (`--sealing`) with BABE's
//! digests for dev chains. BABE gives every block a VRF output that its author cannot re-roll;
//! the jobs pallet draws challenges from it.

use std::{sync::Arc, time::Duration};

use codec::Decode;
use futures::{channel::mpsc, future, stream, FutureExt, StreamExt};
use proofgrid_runtime::{apis::RuntimeApi, opaque::Block, Hash};
use sc_client_api::{Backend, StorageProvider};
use sc_consensus_babe::{BabeLink, BabeParams, ImportQueueParams, SlotProportion};
use sc_consensus_grandpa::SharedVoterState;
use sc_consensus_manual_seal::{
	consensus::babe::{BabeConsensusDataProvider, BabeVerifier},
	EngineCommand, ManualSealParams,
};
use sc_service::{error::Error as ServiceError, Configuration, TaskManager, WarpSyncConfig};
use sc_telemetry::{Telemetry, TelemetryHandle, TelemetryWorker};
use sc_transaction_pool_api::{OffchainTransactionPoolFactory, TransactionPool};
use sp_consensus_babe::SlotDuration;
use sp_core::storage::StorageKey;
use sp_inherents::CreateInherentDataProviders;

use crate::cli::Sealing;

pub(crate) type FullClient = sc_service::TFullClient<
	Block,
	RuntimeApi,
	sc_executor::WasmExecutor<sp_io::SubstrateHostFunctions>,
>;
type FullBackend = sc_service::TFullBackend<Block>;
type FullSelectChain = sc_consensus::LongestChain<FullBackend, Block>;
type FullPool = sc_transaction_pool::TransactionPoolHandle<Block, FullClient>;
type GrandpaBlockImport =
	sc_consensus_grandpa::GrandpaBlockImport<FullBackend, Block, FullClient, FullSelectChain>;
type GrandpaLink = sc_consensus_grandpa::LinkHalf<Block, FullClient, FullSelectChain>;
/// The inherents of a block: its BABE slot and its timestamp (slot × slot duration).
type SlotAndTimestamp =
	(sp_consensus_babe::inherents::InherentDataProvider, sp_timestamp::InherentDataProvider);
/// What BABE's block import checks an imported block's inherents against.
type ImportInherents =
	Arc<dyn CreateInherentDataProviders<Block, (), InherentDataProviders = SlotAndTimestamp>>;
type BabeBlockImport<Inner> =
	sc_consensus_babe::BabeBlockImport<Block, FullClient, Inner, ImportInherents, FullSelectChain>;

/// Blocks between GRANDPA justifications that are imported and generated.
const GRANDPA_JUSTIFICATION_PERIOD: u32 = 512;

/// Pending `engine_*` RPC commands before callers are pushed back.
const ENGINE_COMMAND_QUEUE: usize = 1024;

/// How this node produces and finalizes blocks.
// Built once at start-up and moved twice: the size difference does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Consensus {
	/// BABE authorship in 6 s slots, GRANDPA finality.
	BabeGrandpa {
		block_import: BabeBlockImport<GrandpaBlockImport>,
		babe_link: BabeLink<Block>,
		grandpa_link: GrandpaLink,
	},
	/// Dev chains: blocks sealed by this node alone (with BABE digests) and final at once.
	ManualSeal {
		sealing: Sealing,
		block_import: BabeBlockImport<Arc<FullClient>>,
		babe_link: BabeLink<Block>,
	},
}

/// The parts of a node that the subcommands (import, export, revert…) also need.
pub type Service = sc_service::PartialComponents<
	FullClient,
	FullBackend,
	FullSelectChain,
	sc_consensus::DefaultImportQueue<Block>,
	FullPool,
	(Consensus, Option<Telemetry>),
>;

/// Client, database, pool and import queue for the chosen consensus.
pub fn new_partial(
	config: &Configuration,
	sealing: Option<Sealing>,
) -> Result<Service, ServiceError> {
	let telemetry = config
		.telemetry_endpoints
		.clone()
		.filter(|x| !x.is_empty())
		.map(|endpoints| -> Result<_, sc_telemetry::Error> {
			let worker = TelemetryWorker::new(16)?;
			let telemetry = worker.handle().new_telemetry(endpoints);
			Ok((worker, telemetry))
		})
		.transpose()?;

	let executor = sc_service::new_wasm_executor::<sp_io::SubstrateHostFunctions>(&config.executor);
	let (client, backend, keystore_container, task_manager) =
		sc_service::new_full_parts::<Block, RuntimeApi, _>(
			config,
			telemetry.as_ref().map(|(_, telemetry)| telemetry.handle()),
			executor,
			Vec::new(),
		)?;
	let client = Arc::new(client);

	let telemetry = telemetry.map(|(worker, telemetry)| {
		task_manager.spawn_handle().spawn("telemetry", None, worker.run());
		telemetry
	});

	let select_chain = sc_consensus::LongestChain::new(backend.clone());

	let transaction_pool = Arc::from(
		sc_transaction_pool::Builder::new(
			task_manager.spawn_essential_handle(),
			client.clone(),
			config.role.is_authority().into(),
		)
		.with_options(config.transaction_pool.clone())
		.with_prometheus(config.prometheus_registry())
		.build(),
	);

	let babe_config = sc_consensus_babe::configuration(&*client)?;
	let slot_duration = babe_config.slot_duration();
	let offchain_tx_pool_factory = OffchainTransactionPoolFactory::new(transaction_pool.clone());
	let (import_queue, consensus) = match sealing {
		Some(sealing) => {
			let (block_import, babe_link) = sc_consensus_babe::block_import(
				babe_config,
				client.clone(),
				client.clone(),
				sealing_inherents(client.clone(), slot_duration),
				select_chain.clone(),
				offchain_tx_pool_factory,
			)?;
			let import_queue = sc_consensus::BasicQueue::new(
				BabeVerifier::new(babe_link.epoch_changes().clone(), client.clone()),
				Box::new(block_import.clone()),
				None,
				&task_manager.spawn_essential_handle(),
				config.prometheus_registry(),
			);
			(import_queue, Consensus::ManualSeal { sealing, block_import, babe_link })
		}
		None => {
			let (grandpa_block_import, grandpa_link) = sc_consensus_grandpa::block_import(
				client.clone(),
				GRANDPA_JUSTIFICATION_PERIOD,
				&client,
				select_chain.clone(),
				telemetry.as_ref().map(|x| x.handle()),
			)?;
			let (block_import, babe_link) = sc_consensus_babe::block_import(
				babe_config,
				grandpa_block_import.clone(),
				client.clone(),
				wall_clock_inherents(slot_duration),
				select_chain.clone(),
				offchain_tx_pool_factory,
			)?;
			let (import_queue, babe_worker) = sc_consensus_babe::import_queue(ImportQueueParams {
				link: babe_link.clone(),
				block_import: block_import.clone(),
				justification_import: Some(Box::new(grandpa_block_import)),
				client: client.clone(),
				slot_duration,
				spawner: &task_manager.spawn_essential_handle(),
				registry: config.prometheus_registry(),
				telemetry: telemetry.as_ref().map(|x| x.handle()),
			})?;
			// BABE's worker (epoch queries) is essential and stops when its last handle drops:
			// the node keeps one for its whole life.
			task_manager.spawn_handle().spawn(
				"babe-worker-handle",
				None,
				future::pending::<()>().map(move |()| drop(babe_worker)),
			);
			(import_queue, Consensus::BabeGrandpa { block_import, babe_link, grandpa_link })
		}
	};

	Ok(sc_service::PartialComponents {
		client,
		backend,
		task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (consensus, telemetry),
	})
}

/// A full node: everything in [`new_partial`] plus network, RPC and block production.
pub fn new_full<N: sc_network::NetworkBackend<Block, Hash>>(
	config: Configuration,
	sealing: Option<Sealing>,
) -> Result<TaskManager, ServiceError> {
	let sc_service::PartialComponents {
		client,
		backend,
		mut task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (consensus, mut telemetry),
	} = new_partial(&config, sealing)?;
	let keystore = keystore_container.keystore();

	// 1. The network, with GRANDPA's gossip protocol unless this node seals.
	let mut net_config = sc_network::config::FullNetworkConfiguration::<Block, Hash, N>::new(
		&config.network,
		config.prometheus_registry().cloned(),
	);
	let metrics = N::register_notification_metrics(config.prometheus_registry());
	let grandpa_protocol_name = sc_consensus_grandpa::protocol_standard_name(
		&client.chain_info().genesis_hash,
		&config.chain_spec,
	);
	let (grandpa_notification_service, warp_sync_config) = match &consensus {
		Consensus::BabeGrandpa { grandpa_link, .. } => {
			let (protocol_config, notification_service) =
				sc_consensus_grandpa::grandpa_peers_set_config::<_, N>(
					grandpa_protocol_name.clone(),
					metrics.clone(),
					net_config.peer_store_handle(),
				);
			net_config.add_notification_protocol(protocol_config);
			let warp_sync = Arc::new(sc_consensus_grandpa::warp_proof::NetworkProvider::new(
				backend.clone(),
				grandpa_link.shared_authority_set().clone(),
				Vec::default(),
			));
			(Some(notification_service), Some(WarpSyncConfig::WithProvider(warp_sync)))
		}
		Consensus::ManualSeal { .. } => (None, None),
	};
	let (network, system_rpc_tx, tx_handler_controller, sync_service, _bitswap) =
		sc_service::build_network(sc_service::BuildNetworkParams {
			config: &config,
			net_config,
			client: client.clone(),
			transaction_pool: transaction_pool.clone(),
			spawn_handle: task_manager.spawn_handle(),
			spawn_essential_handle: task_manager.spawn_essential_handle(),
			import_queue,
			block_announce_validator_builder: None,
			warp_sync_config,
			block_relay: None,
			metrics,
			gap_sync_body_policy: None,
		})?;

	// 2. Offchain workers, if enabled.
	if config.offchain_worker.enabled {
		let offchain_workers =
			sc_offchain::OffchainWorkers::new(sc_offchain::OffchainWorkerOptions {
				runtime_api_provider: client.clone(),
				is_validator: config.role.is_authority(),
				keystore: Some(keystore.clone()),
				offchain_db: backend.offchain_storage(),
				transaction_pool: Some(OffchainTransactionPoolFactory::new(
					transaction_pool.clone(),
				)),
				network_provider: Arc::new(network.clone()),
				enable_http_requests: true,
				custom_extensions: |_| vec![],
			})?;
		task_manager.spawn_handle().spawn(
			"offchain-workers-runner",
			"offchain-worker",
			offchain_workers.run(client.clone(), task_manager.spawn_handle()).boxed(),
		);
	}

	// 3. RPC and the standard tasks. `engine_*` RPC commands reach the sealing task through a
	// channel; only sealing nodes serve those RPCs.
	let role = config.role;
	let force_authoring = config.force_authoring;
	let name = config.network.node_name.clone();
	let enable_grandpa = !config.disable_grandpa;
	let prometheus_registry = config.prometheus_registry().cloned();
	let (command_sink, rpc_commands) = mpsc::channel(ENGINE_COMMAND_QUEUE);
	let command_sink = matches!(consensus, Consensus::ManualSeal { .. }).then_some(command_sink);
	let block_times = Arc::new(crate::block_times::BlockTimes::default());
	task_manager.spawn_handle().spawn(
		"proofgrid-block-times",
		None,
		crate::block_times::follow(client.clone(), block_times.clone()),
	);
	let rpc_extensions_builder = {
		let client = client.clone();
		let pool = transaction_pool.clone();
		Box::new(move |_| {
			let deps = crate::rpc::FullDeps {
				client: client.clone(),
				pool: pool.clone(),
				command_sink: command_sink.clone(),
				block_times: block_times.clone(),
			};
			crate::rpc::create_full(deps).map_err(Into::into)
		})
	};
	let _rpc_handlers = sc_service::spawn_tasks(sc_service::SpawnTasksParams {
		network: network.clone(),
		client: client.clone(),
		keystore: keystore.clone(),
		task_manager: &mut task_manager,
		transaction_pool: transaction_pool.clone(),
		rpc_builder: rpc_extensions_builder,
		backend,
		system_rpc_tx,
		tx_handler_controller,
		sync_service: sync_service.clone(),
		config,
		telemetry: telemetry.as_mut(),
		tracing_execute_block: None,
	})?;

	// 4. Block production and finality.
	let mut proposer = sc_basic_authorship::ProposerFactory::new(
		task_manager.spawn_handle(),
		client.clone(),
		transaction_pool.clone(),
		prometheus_registry.as_ref(),
		telemetry.as_ref().map(|x| x.handle()),
	);
	// The builder's own default (4 MiB) would leave a fifth of the runtime's limit unused.
	proposer.set_default_block_size_limit(proofgrid_runtime::configs::MAX_BLOCK_LENGTH as usize);
	let authoring = Authoring {
		task_manager: &task_manager,
		client,
		select_chain,
		pool: transaction_pool,
		keystore,
		proposer,
	};
	match consensus {
		Consensus::ManualSeal { sealing, block_import, babe_link } => {
			authoring.start_manual_seal(sealing, block_import, babe_link, rpc_commands)?;
		}
		Consensus::BabeGrandpa { block_import, babe_link, grandpa_link } => {
			let pool = authoring.pool.clone();
			if role.is_authority() {
				let telemetry = telemetry.as_ref().map(|x| x.handle());
				authoring.start_babe(
					block_import,
					babe_link,
					sync_service.clone(),
					force_authoring,
					telemetry,
				)?;
			}
			if enable_grandpa {
				// Only authorities vote, so only they need the keystore.
				let keystore = role.is_authority().then(|| keystore_container.keystore());
				let grandpa_config = sc_consensus_grandpa::Config {
					gossip_duration: Duration::from_millis(333),
					justification_generation_period: GRANDPA_JUSTIFICATION_PERIOD,
					name: Some(name),
					observer_enabled: false,
					keystore,
					local_role: role,
					telemetry: telemetry.as_ref().map(|x| x.handle()),
					protocol_name: grandpa_protocol_name,
				};
				let notification_service = grandpa_notification_service
					.ok_or_else(|| ServiceError::Other("GRANDPA protocol not registered".into()))?;
				let grandpa_params = sc_consensus_grandpa::GrandpaParams {
					config: grandpa_config,
					link: grandpa_link,
					network,
					sync: Arc::new(sync_service),
					notification_service,
					voting_rule: sc_consensus_grandpa::VotingRulesBuilder::default().build(),
					prometheus_registry,
					shared_voter_state: SharedVoterState::empty(),
					telemetry: telemetry.as_ref().map(|x| x.handle()),
					offchain_tx_pool_factory: OffchainTransactionPoolFactory::new(pool),
				};
				// The voter is essential too: a failure stops the node.
				task_manager.spawn_essential_handle().spawn_blocking(
					"grandpa-voter",
					None,
					sc_consensus_grandpa::run_grandpa_voter(grandpa_params)?,
				);
			}
		}
	}

	Ok(task_manager)
}

/// What block production takes from the services built before it.
struct Authoring<'a> {
	task_manager: &'a TaskManager,
	client: Arc<FullClient>,
	select_chain: FullSelectChain,
	pool: Arc<FullPool>,
	keystore: sp_keystore::KeystorePtr,
	proposer: sc_basic_authorship::ProposerFactory<FullPool, FullClient>,
}

impl Authoring<'_> {
	/// Dev chains: seals blocks as `sealing` says (and on `engine_*` RPC commands), each with
	/// BABE digests, and finalizes each at once.
	fn start_manual_seal(
		self,
		sealing: Sealing,
		block_import: BabeBlockImport<Arc<FullClient>>,
		babe_link: BabeLink<Block>,
		rpc_commands: mpsc::Receiver<EngineCommand<Hash>>,
	) -> Result<(), ServiceError> {
		log::info!("🔧 Dev sealing: {sealing}; every sealed block is final at once");
		let commands = match sealing {
			Sealing::Manual => rpc_commands.boxed(),
			// Manual seal spots an empty block by comparing its extrinsics with the number of
			// inherent *data* (timestamp and BABE slot: two, for one inherent call), so it
			// would take a block with one transaction for empty. The pool is asked instead,
			// when the previous block is done.
			Sealing::Instant => {
				let pool = self.pool.clone();
				stream::select(
					rpc_commands,
					self.pool
						.import_notification_stream()
						.filter(move |_| future::ready(pool.status().ready > 0))
						.map(|_| seal_command(true)),
				)
				.boxed()
			}
			Sealing::Interval(ms) => stream::select(
				rpc_commands,
				stream::unfold((), move |()| async move {
					tokio::time::sleep(Duration::from_millis(ms)).await;
					Some((seal_command(true), ()))
				}),
			)
			.boxed(),
		};
		let slot_duration = babe_link.config().slot_duration();
		let digests = BabeConsensusDataProvider::new(
			self.client.clone(),
			self.keystore,
			babe_link.epoch_changes().clone(),
			babe_link.config().authorities.clone(),
		)
		.map_err(|e| ServiceError::Other(format!("BABE digests for sealing: {e}")))?;
		let authorship = sc_consensus_manual_seal::run_manual_seal(ManualSealParams {
			block_import,
			env: self.proposer,
			client: self.client.clone(),
			pool: self.pool,
			commands_stream: commands,
			select_chain: self.select_chain,
			consensus_data_provider: Some(Box::new(digests)),
			create_inherent_data_providers: sealing_inherents(self.client, slot_duration),
		});
		self.task_manager.spawn_essential_handle().spawn_blocking(
			"manual-seal",
			Some("block-authoring"),
			authorship,
		);
		Ok(())
	}

	/// Validators: authors BABE blocks in the slots this node's keys win.
	fn start_babe<Sync>(
		self,
		block_import: BabeBlockImport<GrandpaBlockImport>,
		babe_link: BabeLink<Block>,
		sync: Sync,
		force_authoring: bool,
		telemetry: Option<TelemetryHandle>,
	) -> Result<(), ServiceError>
	where
		Sync: sp_consensus::SyncOracle
			+ sc_consensus::JustificationSyncLink<Block>
			+ Clone
			+ Send
			+ std::marker::Sync
			+ 'static,
	{
		let babe = sc_consensus_babe::start_babe(BabeParams {
			keystore: self.keystore,
			client: self.client,
			select_chain: self.select_chain,
			env: self.proposer,
			block_import,
			sync_oracle: sync.clone(),
			justification_sync_link: sync,
			create_inherent_data_providers: wall_clock_inherents(
				babe_link.config().slot_duration(),
			),
			force_authoring,
			backoff_authoring_blocks: Option::<()>::None,
			babe_link,
			block_proposal_slot_portion: SlotProportion::new(2f32 / 3f32),
			max_block_proposal_slot_portion: None,
			telemetry,
		})?;
		// Authoring is essential: if it fails, the node stops.
		self.task_manager.spawn_essential_handle().spawn_blocking(
			"babe",
			Some("block-authoring"),
			babe,
		);
		Ok(())
	}
}

/// A command that seals one block on the best block and finalizes it.
fn seal_command(create_empty: bool) -> EngineCommand<Hash> {
	EngineCommand::SealNewBlock { create_empty, finalize: true, parent_hash: None, sender: None }
}

/// Inherents of a block authored in its slot: the wall clock and the slot it falls in.
fn wall_clock_inherents(slot_duration: SlotDuration) -> ImportInherents {
	Arc::new(move |_, ()| async move {
		let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
		let slot =
			sp_consensus_babe::inherents::InherentDataProvider::from_timestamp_and_slot_duration(
				*timestamp,
				slot_duration,
			);
		Ok((slot, timestamp))
	})
}

/// Inherents of a sealed dev block: [`next_sealing_timestamp`] and its slot. Used both to seal
/// and to check sealed blocks on import, which then agree on the slot.
fn sealing_inherents(client: Arc<FullClient>, slot_duration: SlotDuration) -> ImportInherents {
	Arc::new(move |parent, ()| {
		let client = client.clone();
		async move {
			let timestamp = next_sealing_timestamp(&client, parent, slot_duration)?;
			let timestamp = sp_timestamp::InherentDataProvider::new(timestamp.into());
			let slot = sp_consensus_babe::inherents::InherentDataProvider::from_timestamp_and_slot_duration(
				*timestamp,
				slot_duration,
			);
			Ok((slot, timestamp))
		}
	})
}

/// Timestamp for the next sealed block: the wall clock, but at least one slot after the
/// parent's timestamp. Sealing can outpace the 6 s slots, and BABE requires every block to be
/// in a later slot than its parent, so the clock is pushed ahead if needed. Reading the parent
/// from storage keeps this right after a restart.
fn next_sealing_timestamp(
	client: &FullClient,
	parent: Hash,
	slot_duration: SlotDuration,
) -> Result<u64, Box<dyn std::error::Error + Send + Sync>> {
	let key =
		StorageKey(pallet_timestamp::Now::<proofgrid_runtime::Runtime>::hashed_key().to_vec());
	let parent_now = match client.storage(parent, &key)? {
		Some(data) => u64::decode(&mut &data.0[..])?,
		None => 0,
	};
	let wall_clock = sp_timestamp::Timestamp::current().as_millis();
	Ok(wall_clock.max(parent_now.saturating_add(slot_duration.as_millis())))
}
