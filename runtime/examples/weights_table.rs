//! Prints every ProofGrid extrinsic's weight as this runtime charges it, as a Markdown table:
//! reference time, proof size and share of a block's normal-class weight. Components are set to
//! the worst case the runtime allows (or the case named in the row). Run it before and after
//! `scripts/bench-weights.sh` to compare weights:
//!
//!     cargo run -q -p proofgrid-runtime --example weights_table

use frame_support::{dispatch::DispatchClass, traits::Get, weights::Weight};
use pallet_devices::WeightInfo as _;
use pallet_jobs::WeightInfo as _;
use pallet_models::WeightInfo as _;
use pallet_rewards::WeightInfo as _;
use proofgrid_primitives::{
	job::OutputKind::{Layer, Model, Seeded, Supplied},
	model::{MAX_LAYERS, MAX_TAPS},
	traits::ComputeVerifier,
};
use proofgrid_runtime::{configs::RuntimeBlockWeights, Runtime};

type Devices = <Runtime as pallet_devices::Config>::WeightInfo;
type Proof = pallet_compute_proof::Pallet<Runtime>;
type Jobs = <Runtime as pallet_jobs::Config>::WeightInfo;
type Rewards = <Runtime as pallet_rewards::Config>::WeightInfo;
type Models = <Runtime as pallet_models::Config>::WeightInfo;

fn main() {
	let block = RuntimeBlockWeights::get();
	let normal = block.get(DispatchClass::Normal).max_total.unwrap_or(block.max_block);
	let samples: u32 = <Runtime as pallet_compute_proof::Config>::Samples::get();
	let deadlines: u32 = <Runtime as pallet_jobs::Config>::MaxDeadlinesPerBlock::get();
	let cleanup: u32 = <Runtime as pallet_rewards::Config>::CleanupBatch::get();
	let on_verified = Rewards::on_work_verified();

	let rows: Vec<(String, Weight)> = vec![
		("devices::register".into(), Devices::register()),
		("devices::heartbeat".into(), Devices::heartbeat()),
		("devices::update".into(), Devices::update()),
		("devices::pause".into(), Devices::pause()),
		("devices::resume".into(), Devices::resume()),
		("devices::deregister".into(), Devices::deregister()),
		("devices::withdraw_bond".into(), Devices::withdraw_bond()),
		("devices::top_up_bond".into(), Devices::top_up_bond()),
		("devices::set_endpoint".into(), Devices::set_endpoint()),
		("jobs::submit_job".into(), Jobs::submit_job()),
		("jobs::cancel".into(), Jobs::cancel()),
		("jobs::claim".into(), Jobs::claim()),
		("jobs::commit".into(), Jobs::commit()),
		("jobs::reveal (logic only)".into(), Jobs::reveal()),
		(
			format!("jobs::reveal, seeded, {samples} samples, k = 4096"),
			Jobs::reveal()
				.saturating_add(Proof::verify_weight(Seeded, 0, 4096, 0, 0))
				.saturating_add(on_verified),
		),
		(
			"jobs::reveal, supplied, 64 samples, k = 4096".into(),
			Jobs::reveal()
				.saturating_add(Proof::verify_weight(Supplied, 64, 4096, 0, 0))
				.saturating_add(on_verified),
		),
		(
			"jobs::reveal, supplied, 256 samples, k = 4096".into(),
			Jobs::reveal()
				.saturating_add(Proof::verify_weight(Supplied, 256, 4096, 0, 0))
				.saturating_add(on_verified),
		),
		(
			"jobs::reveal, layer, 64 samples, k = 4096, n = 1024".into(),
			Jobs::reveal()
				.saturating_add(Proof::verify_weight(Layer, 64, 4096, 1024, 0))
				.saturating_add(on_verified),
		),
		(
			"jobs::dispute, layer, k = 4096, n = 1024".into(),
			Jobs::dispute().saturating_add(Proof::verify_fraud_weight(Layer, 4096, 1024, 0)),
		),
		// The example CNN (examples/cnn): k = 72 (conv2's 3×3×8 patch), rows of 16, 9 taps.
		(
			"jobs::reveal, model (the example CNN), 64 samples".into(),
			Jobs::reveal()
				.saturating_add(Proof::verify_weight(Model, 64, 72, 16, 9))
				.saturating_add(on_verified),
		),
		(
			"jobs::dispute, model, largest layer (4096 taps, k = n = 65536)".into(),
			Jobs::dispute()
				.saturating_add(Proof::verify_fraud_weight(Model, 65_536, 65_536, MAX_TAPS)),
		),
		(format!("models::register({MAX_LAYERS} layers)"), Models::register(MAX_LAYERS)),
		("models::remove".into(), Models::remove()),
		("jobs::expire".into(), Jobs::expire()),
		("jobs::release".into(), Jobs::release()),
		(
			"jobs::dispute, supplied, k = 4096".into(),
			Jobs::dispute().saturating_add(Proof::verify_fraud_weight(Supplied, 4096, 0, 0)),
		),
		(format!("jobs::on_initialize, {deadlines} deadlines"), Jobs::on_initialize(deadlines)),
		(
			format!("compute_proof: seeded reveal, {samples} samples, k = 1"),
			Proof::verify_weight(Seeded, 0, 1, 0, 0),
		),
		(
			format!("compute_proof: seeded reveal, {samples} samples, k = 4096"),
			Proof::verify_weight(Seeded, 0, 4096, 0, 0),
		),
		(
			format!("compute_proof: seeded reveal, {samples} samples, k = 65536"),
			Proof::verify_weight(Seeded, 0, 65536, 0, 0),
		),
		(
			"compute_proof: supplied reveal, 64 samples, k = 4096".into(),
			Proof::verify_weight(Supplied, 64, 4096, 0, 0),
		),
		(
			"compute_proof: fraud proof, k = 4096".into(),
			Proof::verify_fraud_weight(Supplied, 4096, 0, 0),
		),
		("rewards::claim".into(), Rewards::claim()),
		("rewards::on_work_verified".into(), Rewards::on_work_verified()),
		("rewards::on_initialize_idle".into(), Rewards::on_initialize_idle()),
		("rewards::end_era".into(), Rewards::end_era()),
		(format!("rewards::clean_up({cleanup})"), Rewards::clean_up(cleanup)),
	];

	println!("| extrinsic | ref time (µs) | proof size (bytes) | % of normal block |");
	println!("|---|---:|---:|---:|");
	for (name, weight) in rows {
		println!(
			"| {name} | {:.1} | {} | {:.3} |",
			weight.ref_time() as f64 / 1e6,
			weight.proof_size(),
			100.0 * weight.ref_time() as f64 / normal.ref_time() as f64,
		);
	}
}
