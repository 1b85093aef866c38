//! The market's defences with the runtime's real parameters (docs/ECONOMICS.md): dynamic
//! fees, device calls that block stuffing cannot delay, and the expected value of cheating
//! and of inducing failures.

use codec::Encode;
use frame_support::{
	assert_ok,
	dispatch::{DispatchClass, GetDispatchInfo, Pays},
	traits::{Get, Hooks},
	weights::Weight,
};
use pallet_transaction_payment::Multiplier;
use proofgrid_primitives::traits::{DeviceRegistry, OnWorkVerified};
use proofgrid_primitives::{
	device::{registration_message, DeviceSpec, Kernel, Requirements},
	gemm::GemmShape,
	job::{Accusation, JobSpec, OutputKind, Reveal},
};
use sp_core::{Pair, H256};
use sp_keyring::Sr25519Keyring;
use sp_runtime::{
	generic::Era,
	traits::Header as _,
	transaction_validity::{TransactionSource, TransactionValidity},
	FixedPointNumber, Perbill,
};

use crate::{
	configs, Balance, Block, Executive, Jobs, Runtime, RuntimeCall, RuntimeOrigin, SignedPayload,
	System, TransactionPayment, TxExtension, UncheckedExtrinsic, GRID, MILLI_GRID,
};

fn ext() -> sp_io::TestExternalities {
	use sp_runtime::BuildStorage;
	let mut config = crate::RuntimeGenesisConfig::default();
	config.balances.balances =
		Sr25519Keyring::well_known().map(|k| (k.to_account_id(), 1_000_000 * GRID)).collect();
	let mut ext: sp_io::TestExternalities = config.build_storage().expect("genesis").into();
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// A signed extrinsic of `who` with nonce `nonce` and `tip`, as a wallet would build it.
fn signed(who: Sr25519Keyring, nonce: u32, tip: Balance, call: RuntimeCall) -> UncheckedExtrinsic {
	let tx_ext: TxExtension = (
		frame_system::CheckNonZeroSender::new(),
		frame_system::CheckSpecVersion::new(),
		frame_system::CheckTxVersion::new(),
		frame_system::CheckGenesis::new(),
		frame_system::CheckEra::from(Era::Immortal),
		frame_system::CheckNonce::from(nonce),
		frame_system::CheckWeight::new(),
		pallet_jobs::CheckDeviceCall::new(),
		pallet_transaction_payment::ChargeTransactionPayment::from(tip),
		frame_metadata_hash_extension::CheckMetadataHash::new(false),
		frame_system::WeightReclaim::new(),
	);
	let payload = SignedPayload::new(call.clone(), tx_ext.clone()).expect("implicit data");
	let signature = payload.using_encoded(|bytes| who.sign(bytes));
	UncheckedExtrinsic::new_signed(call, who.to_account_id().into(), signature.into(), tx_ext)
}

fn validate(xt: &UncheckedExtrinsic) -> TransactionValidity {
	Executive::validate_transaction(TransactionSource::External, xt.clone(), System::parent_hash())
}

/// Charlie owns device key Ferdie; Eve posts a one-unit job; Ferdie claims and commits it.
/// Returns the job id and its challenge block.
fn committed_job() -> (u64, u32) {
	committed_job_of(1, 100 * MILLI_GRID)
}

/// As [`committed_job`], for a job of `units` work units (1 or 1 000) at `price` per unit, the
/// device's bond topped up to cover its collateral.
fn committed_job_of(units: u64, price: Balance) -> (u64, u32) {
	let owner = Sr25519Keyring::Charlie.to_account_id();
	let device = Sr25519Keyring::Ferdie;
	let message = registration_message(&owner, &System::block_hash(0));
	let spec = DeviceSpec {
		vram_mib: 16_384,
		..proofgrid_primitives::testing::device_spec(&[Kernel::GemmI8], 1_000_000)
	};
	assert_ok!(crate::Devices::register(
		RuntimeOrigin::signed(owner.clone()),
		device.to_account_id(),
		spec,
		price,
		device.pair().sign(&message).into(),
	));
	assert_ok!(crate::Devices::top_up_bond(
		RuntimeOrigin::signed(owner),
		device.to_account_id(),
		Jobs::collateral_for(price * units as Balance),
	));
	let shape = match units {
		1 => GemmShape { m: 1024, n: 1024, k: 512 },
		// 2 · 8192² · 7451 = 1.00004 · 10¹² operations.
		1_000 => GemmShape { m: 8192, n: 8192, k: 7451 },
		_ => unimplemented!("a shape of {units} units"),
	};
	let job = pallet_jobs::NextJobId::<Runtime>::get();
	assert_ok!(Jobs::submit_job(
		RuntimeOrigin::signed(Sr25519Keyring::Eve.to_account_id()),
		JobSpec::seeded(
			shape,
			[3; 32],
			Requirements { kernel: Kernel::GemmI8, min_vram_mib: 0, min_gops: 0 },
		),
		price.max(GRID / 1000),
		100,
	));
	assert_eq!(pallet_jobs::Jobs::<Runtime>::get(job).unwrap().units, units);
	assert_ok!(Jobs::claim(RuntimeOrigin::signed(device.to_account_id()), job, None));
	assert_ok!(Jobs::commit(RuntimeOrigin::signed(device.to_account_id()), job, H256::zero()));
	(job, System::block_number() + 1)
}

/// Starts block `n` the way the block builder does.
fn start_block(n: u32) {
	let header = <Block as sp_runtime::traits::Block>::Header::new(
		n,
		Default::default(),
		Default::default(),
		System::parent_hash(),
		Default::default(),
	);
	Executive::initialize_block(&header);
}

#[test]
fn fees_rise_under_sustained_full_blocks_and_fall_back_when_they_empty() {
	ext().execute_with(|| {
		let normal = configs::RuntimeBlockWeights::get()
			.get(DispatchClass::Normal)
			.max_total
			.unwrap_or(Weight::MAX);
		let transfer = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
			dest: Sr25519Keyring::Bob.to_account_id().into(),
			value: GRID,
		});
		let fee = || TransactionPayment::compute_fee(150, &transfer.get_dispatch_info(), 0);
		let base = fee();
		let full_block = TransactionPayment::weight_to_fee(normal);
		println!("a transfer costs {base} planck; filling one block's normal class {full_block}");
		assert!(full_block >= 100 * GRID, "stuffing a block must cost real money");

		let mut multipliers = vec![];
		for n in 1..=100 {
			System::set_block_consumed_resources(normal, 0);
			TransactionPayment::on_finalize(n);
			multipliers.push(pallet_transaction_payment::NextFeeMultiplier::<Runtime>::get());
		}
		assert!(multipliers.windows(2).all(|w| w[1] > w[0]), "fees rise every full block");
		let risen = fee();
		println!(
			"after 100 full blocks: multiplier {:.3}, transfer fee ×{:.3}",
			multipliers[99].to_float(),
			risen as f64 / base as f64
		);
		// The multiplier scales the weight part of the fee (the length part is fixed).
		assert!(multipliers[99] > Multiplier::saturating_from_rational(13, 10));
		assert!(risen > base * 11 / 10);

		for n in 101..=2_000 {
			System::set_block_consumed_resources(Weight::zero(), 0);
			TransactionPayment::on_finalize(n);
		}
		let multiplier = pallet_transaction_payment::NextFeeMultiplier::<Runtime>::get();
		println!("after 1 900 empty blocks: multiplier {:.3}", multiplier.to_float());
		assert_eq!(multiplier, configs::MinimumMultiplier::get(), "back to the floor, not below");
		assert_eq!(fee(), base);
	});
}

#[test]
fn a_block_stuffed_with_transfers_still_takes_the_assigned_devices_reveal_first() {
	ext().execute_with(|| {
		let (job, challenge_block) = committed_job();
		let device = Sr25519Keyring::Ferdie;
		// The challenge block exists and its hash is in state.
		System::set_block_number(challenge_block);
		start_block(challenge_block + 1);
		// What BABE's VRF output gives in a real block (this genesis has no BABE authorities).
		let challenge_hash = System::block_hash(challenge_block);
		pallet_jobs::ChallengeRandomness::<Runtime>::insert(
			challenge_block,
			pallet_jobs::ChallengeSeed {
				randomness: H256::repeat_byte(9),
				new_author: false,
				block_hash: challenge_hash,
				congested_before: 0,
			},
		);

		let reveal = RuntimeCall::Jobs(pallet_jobs::Call::reveal {
			job,
			challenge_hash,
			reveal: Reveal::Seeded(Default::default()),
			k_dim_witness: 512,
		});
		let info = reveal.get_dispatch_info();
		assert_eq!((info.class, info.pays_fee), (DispatchClass::Operational, Pays::No));
		let device_reveal = signed(device, 0, 0, reveal);
		let transfer = |tip| {
			signed(
				Sr25519Keyring::Alice,
				0,
				tip,
				RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
					dest: Sr25519Keyring::Bob.to_account_id().into(),
					value: GRID,
				}),
			)
		};

		// The pool orders by priority: the reveal outranks zero-tip transfers and any sane
		// tip; a tip of hundreds of GRID per transaction can at most tie with it.
		let reveal_priority = validate(&device_reveal).expect("valid").priority;
		assert_eq!(reveal_priority, u64::MAX);
		for tip in [0, GRID, 100 * GRID, 10_000 * GRID] {
			let transfer_priority = validate(&transfer(tip)).expect("valid").priority;
			println!(
				"priority: reveal {reveal_priority}, transfer tipping {tip}: {transfer_priority}"
			);
			assert!(reveal_priority >= transfer_priority);
			if tip <= 100 * GRID {
				assert!(reveal_priority > transfer_priority);
			}
		}
		// Nobody else can send it: Alice's copy of the call is not valid.
		let forged = signed(
			Sr25519Keyring::Alice,
			0,
			0,
			RuntimeCall::Jobs(pallet_jobs::Call::reveal {
				job,
				challenge_hash,
				reveal: Reveal::Seeded(Default::default()),
				k_dim_witness: 512,
			}),
		);
		assert!(validate(&forged).is_err());

		// A block whose normal class is full of transfers still has room for it.
		let normal = configs::RuntimeBlockWeights::get()
			.get(DispatchClass::Normal)
			.max_total
			.unwrap_or(Weight::MAX);
		System::set_block_consumed_resources(normal, 0);
		assert!(Executive::apply_extrinsic(transfer(0)).is_err(), "the normal class is full");
		let free_before = pallet_balances::Pallet::<Runtime>::free_balance(device.to_account_id());
		assert_ok!(Executive::apply_extrinsic(device_reveal).expect("included"));
		// Free for the device; the (empty) proof failed, so the job failed and was slashed.
		assert_eq!(
			pallet_balances::Pallet::<Runtime>::free_balance(device.to_account_id()),
			free_before
		);
		assert!(pallet_jobs::Jobs::<Runtime>::get(job).is_none());
	});
}

/// Expected gain of cheating at fraction `f` over working honestly, for a job of `value` (units ×
/// price) whose honest computation costs `cost`: the cheater saves `f × cost`, and with
/// probability `1 − (1 − f)^s` is caught, losing the payment it would have had and the
/// collateral.
fn cheating_edge(f: f64, value: Balance, cost: Balance) -> f64 {
	let samples: u32 = <Runtime as pallet_compute_proof::Config>::Samples::get();
	let fee = <Runtime as pallet_jobs::Config>::ProtocolFee::get().mul_ceil(value);
	let collateral = Jobs::collateral_for(value);
	let detection = 1.0 - (1.0 - f).powi(samples as i32);
	f * cost as f64 - detection * ((value - fee) as f64 + collateral as f64)
}

#[test]
fn cheating_at_any_fraction_has_a_negative_expected_value() {
	// Jobs worth the least a job can be worth, 0.1 GRID, 10 GRID and 100 000 GRID; the
	// provider's compute costs as much as the whole price (the worst case: it cannot cost
	// more, or the provider would not sell at that price).
	let min_value = configs::MinPricePerUnit::get();
	println!("{:>14} {:>6} {:>16} {:>12}", "value (GRID)", "f", "edge (GRID)", "detection");
	for value in [min_value, GRID / 10, 10 * GRID, 100_000 * GRID] {
		for f in [0.01, 0.05, 0.2, 1.0] {
			let edge = cheating_edge(f, value, value);
			let detection = 1.0 - (1.0f64 - f).powi(64);
			println!(
				"{:>14.4} {:>6} {:>16.6} {:>12.6}",
				value as f64 / GRID as f64,
				f,
				edge / GRID as f64,
				detection
			);
			assert!(edge < 0.0, "cheating at f = {f} on a job worth {value} pays {edge}");
		}
	}
}

/// Attack 1 of issue 31, with the runtime's parameters: a client that makes its job fail gets
/// back what it held and the call fee it paid, nothing more — before, it got half the job's
/// value on top (about +49 GRID on a 100 GRID job). The device's loss is the collateral.
#[test]
fn inducing_a_failure_does_not_pay_its_client() {
	ext().execute_with(|| {
		let eve = Sr25519Keyring::Eve.to_account_id();
		let free = |who: &crate::AccountId| pallet_balances::Pallet::<Runtime>::free_balance(who);
		let before = free(&eve);
		// A job worth 100 GRID to the device: 1 000 units at 0.1 GRID.
		let (job, challenge_block) = committed_job_of(1_000, 100 * MILLI_GRID);
		let value = 100 * GRID;
		let info = pallet_jobs::Jobs::<Runtime>::get(job).expect("committed");
		let fee_paid = info.fee_paid;
		let pallet_jobs::JobStatus::Committed { collateral, .. } = info.status else {
			unreachable!()
		};
		// The committed root is not the output: the reveal fails (any failure the client
		// could provoke ends the same way).
		reveal_empty(job, challenge_block);
		assert!(pallet_jobs::Jobs::<Runtime>::get(job).is_none(), "failed");
		let gain = free(&eve) as i128 - before as i128;
		let old_rule = Perbill::from_percent(50) * value;
		println!(
			"a failed job worth {} GRID: its client's gain {:.4} GRID (call fee paid {:.4} GRID, returned); under the old rule +{:.4} GRID; the device lost {} GRID of collateral",
			value / GRID,
			gain as f64 / GRID as f64,
			fee_paid as f64 / GRID as f64,
			(old_rule as f64 - fee_paid as f64) / GRID as f64,
			collateral / GRID,
		);
		assert!(fee_paid > 0);
		assert_eq!(gain, 0, "the client ends where it started");
		// Failing one's own job as device and client loses the collateral less the fee.
		assert!((fee_paid as i128) - (collateral as i128) < 0);
	});
}

/// Attack 2 of issue 31, with the runtime's parameters: blocks stuffed so that the largest
/// reveal no longer fits (by length) do not count towards reveal windows. The attacker pays for
/// every such block, however long; the honest device's reveal lands after and nothing is
/// slashed. Before, stuffing the 21 blocks of a window slashed every device with a reveal due.
#[test]
fn stuffing_blocks_delays_a_reveal_and_never_slashes_it() {
	use frame_support::traits::Hooks;
	ext().execute_with(|| {
		let (job, challenge_block) = committed_job_of(1, 100 * MILLI_GRID);
		let device = Sr25519Keyring::Ferdie.to_account_id();
		let bond = crate::Devices::bond_of(&device);
		let window: u32 = <Runtime as pallet_jobs::Config>::RevealWindow::get();
		let max_reveal: u32 = <Runtime as pallet_compute_proof::Config>::MaxRevealBytes::get();
		// Leaves less room than the largest reveal: what the attacker must fill.
		let stuffed = (configs::MAX_BLOCK_LENGTH - max_reveal) as usize;
		let normal_share = (Perbill::from_percent(75) * configs::MAX_BLOCK_LENGTH) as usize;
		let run_block = |n: u32, len: usize| {
			System::set_block_number(n);
			System::set_block_consumed_resources(Weight::zero(), len);
			Jobs::on_finalize(n);
		};
		// The challenge block, and a window and a half of stuffed blocks after it.
		run_block(challenge_block, 0);
		record_seed(challenge_block);
		let stuffed_blocks = window + window / 2;
		for n in challenge_block + 1..=challenge_block + stuffed_blocks {
			run_block(n, stuffed);
		}
		System::set_block_consumed_resources(Weight::zero(), stuffed);
		assert!(!configs::RevealRoom::get(), "a stuffed block has no room");
		System::set_block_consumed_resources(Weight::zero(), normal_share);
		assert!(configs::RevealRoom::get(), "the normal class alone cannot close the room");
		let deadline =
			Jobs::reveal_deadline(challenge_block - 1, challenge_block, challenge_block + window);
		assert_eq!(deadline, challenge_block + window + stuffed_blocks);
		// The stuffer's cost: at the least the length fee of the normal class of each block
		// (device calls, the only operational ones, cost their own jobs' call fees on top).
		let per_block = TransactionPayment::length_to_fee(normal_share as u32);
		println!(
			"a block stuffed past {} of {} bytes costs the stuffer >= {:.3} GRID; {} such blocks (>= {:.1} GRID) moved the reveal deadline from #{} to #{} and slashed nothing",
			stuffed,
			configs::MAX_BLOCK_LENGTH,
			per_block as f64 / GRID as f64,
			stuffed_blocks,
			(per_block * stuffed_blocks as u128) as f64 / GRID as f64,
			challenge_block + window,
			deadline,
		);
		// The old deadline has passed: the job is still there, the device's bond untouched.
		System::set_block_number(challenge_block + window + 1);
		Jobs::on_initialize(challenge_block + window + 1);
		assert!(pallet_jobs::Jobs::<Runtime>::get(job).is_some(), "not failed at the old deadline");
		assert_eq!(crate::Devices::bond_of(&device), bond);
		assert!(per_block >= GRID, "each stuffed block costs at least a GRID");
	});
}

/// Every reveal a job can ask for fits the weight a block with room leaves
/// (`MAX_REVEAL_WEIGHT_SHARE`), so "room for the largest reveal" is a true statement.
#[test]
fn every_reveal_fits_the_weight_room_a_block_keeps() {
	use pallet_jobs::WeightInfo;
	use proofgrid_primitives::job::MAX_SUPPLIED_SAMPLES;
	use proofgrid_primitives::traits::ComputeVerifier;
	type Verifier = <Runtime as pallet_jobs::Config>::Verifier;
	let block = configs::RuntimeBlockWeights::get().max_block.ref_time();
	let room = configs::MAX_REVEAL_WEIGHT_SHARE * block;
	let base = pallet_jobs::weights::SubstrateWeight::<Runtime>::reveal()
		.saturating_add(<Runtime as pallet_jobs::Config>::OnWorkVerified::weight());
	let max_bytes = Verifier::max_reveal_bytes();
	let mut heaviest = 0u64;
	for k in (6..=16).map(|e| 1u32 << e) {
		let shape = GemmShape { m: 4096, n: 4096, k };
		let requirements = Requirements { kernel: Kernel::GemmI8, min_vram_mib: 0, min_gops: 0 };
		let seeded = JobSpec::seeded(shape, [0; 32], requirements);
		let mut candidates = vec![(
			Verifier::verify_weight(OutputKind::Seeded, 0, k, 0, 0),
			Verifier::reveal_bytes(&seeded),
		)];
		for samples in [32, 64, MAX_SUPPLIED_SAMPLES] {
			let mut supplied = seeded.clone();
			supplied.inputs = supplied_inputs(shape, samples);
			let bytes = Verifier::reveal_bytes(&supplied);
			candidates
				.push((Verifier::verify_weight(OutputKind::Supplied, samples, k, 0, 0), bytes));
			candidates
				.push((Verifier::verify_weight(OutputKind::Layer, samples, k, shape.n, 0), bytes));
		}
		for (verify, bytes) in candidates {
			if bytes <= max_bytes {
				heaviest = heaviest.max(base.saturating_add(verify).ref_time());
			}
		}
	}
	println!(
		"heaviest admissible reveal: {:.1} ms of weight, {:.1}% of a block (room kept: {:.0}%)",
		heaviest as f64 / 1e9,
		heaviest as f64 * 100.0 / block as f64,
		configs::MAX_REVEAL_WEIGHT_SHARE.deconstruct() as f64 / 1e7
	);
	assert!(heaviest <= room, "a reveal heavier than the room a block keeps");
}

/// Model jobs' reveals are priced by their plan's widest layer and refused at submission when
/// heavier than the room a block keeps (`pallet_jobs::Error::RevealTooHeavy`): the example
/// digits CNN (examples/cnn) is far from that bound, at every sample count a job may ask for
/// and on large batches (where its reveal's size, not its weight, is what the chain bounds).
#[test]
fn the_example_cnns_reveal_fits_the_room_a_block_keeps() {
	use pallet_jobs::WeightInfo;
	use proofgrid_primitives::{
		job::MAX_SUPPLIED_SAMPLES,
		model::{Model, Op, Planned, Shape},
		model_proof::{model_job_shape, model_reveal_bytes},
		testing::model::{bounded, epilogue},
		traits::ComputeVerifier,
	};
	type Verifier = <Runtime as pallet_jobs::Config>::Verifier;
	let conv = |filters| Op::Conv {
		filters,
		kernel: (3, 3),
		stride: (1, 1),
		padding: [1, 1, 1, 1],
		dilation: (1, 1),
		epilogue: epilogue(1 << 30, 39, false, -128),
	};
	let pool = Op::MaxPool { kernel: (2, 2), stride: (2, 2), padding: [0; 4] };
	let digits = Model {
		input: Shape { height: 8, width: 8, channels: 1 },
		input_zero_point: -128,
		layers: bounded(vec![
			conv(8),
			pool,
			conv(16),
			pool,
			Op::Dense { outputs: 10, epilogue: epilogue(1 << 30, 39, false, 39) },
		]),
	};
	let room = <Runtime as pallet_jobs::Config>::MaxRevealWeight::get();
	let block = configs::RuntimeBlockWeights::get().max_block.ref_time();
	let base = pallet_jobs::weights::SubstrateWeight::<Runtime>::reveal()
		.saturating_add(<Runtime as pallet_jobs::Config>::OnWorkVerified::weight());
	for batch in [64, 1024, 16_384] {
		let plan = digits.plan(batch).expect("plans");
		let shape = model_job_shape(&plan, batch);
		let taps = plan.iter().map(Planned::max_taps).max().unwrap() as u32;
		for samples in [5, 64, MAX_SUPPLIED_SAMPLES] {
			let weight = base.saturating_add(Verifier::verify_weight(
				OutputKind::Model,
				samples,
				shape.k,
				shape.n,
				taps,
			));
			let bytes = model_reveal_bytes(&plan, samples);
			let admitted = bytes <= Verifier::max_reveal_bytes();
			println!(
				"digits CNN, batch {batch}, {samples} samples: reveal ≤ {bytes} bytes, {:.2} ms \
				 of weight ({:.2}% of a block){}",
				weight.ref_time() as f64 / 1e9,
				weight.ref_time() as f64 * 100.0 / block as f64,
				if admitted { "" } else { "; refused: larger than a reveal may be" },
			);
			assert!(weight.all_lte(room), "over the room a block keeps");
			// Deeper trees make longer paths: only the largest batches at the most samples
			// outgrow the 1 MiB a reveal may take.
			assert!(admitted || (batch > 1024 && samples > 64), "{batch} images, {samples}");
		}
	}
}

fn supplied_inputs(shape: GemmShape, samples: u32) -> proofgrid_primitives::job::JobInputs {
	use proofgrid_primitives::inputs::{MatrixCommitment, SuppliedInputs};
	use proofgrid_primitives::job::InputSource;
	let lanes = |lanes| MatrixCommitment { lanes, lane_len: shape.k, root: H256::zero() };
	proofgrid_primitives::job::JobInputs::Supplied {
		matrices: SuppliedInputs { a: lanes(shape.m), b: lanes(shape.n) },
		a: InputSource::Upload,
		b: InputSource::Upload,
		samples,
		public_output: false,
	}
}

/// Records a challenge seed for `block` as the next block's start would (this genesis has no
/// BABE authorities, so no VRF output).
fn record_seed(block: u32) {
	pallet_jobs::ChallengeRandomness::<Runtime>::insert(
		block,
		pallet_jobs::ChallengeSeed {
			randomness: H256::repeat_byte(9),
			new_author: false,
			block_hash: System::block_hash(block),
			congested_before: pallet_jobs::CongestedBlocks::<Runtime>::get(),
		},
	);
}

/// Device Ferdie reveals nothing for `job` (the empty reveal fails the job).
fn reveal_empty(job: u64, challenge_block: u32) {
	System::set_block_number(challenge_block);
	record_seed(challenge_block);
	System::set_block_number(challenge_block + 1);
	let k = pallet_jobs::Jobs::<Runtime>::get(job).unwrap().spec.shape.k;
	assert_ok!(Jobs::reveal(
		RuntimeOrigin::signed(Sr25519Keyring::Ferdie.to_account_id()),
		job,
		System::block_hash(challenge_block),
		Reveal::Seeded(Default::default()),
		k,
	));
}

#[test]
fn a_fraud_proof_at_k_4096_is_small_and_cheap_and_a_refused_one_costs_more_than_its_fee() {
	use pallet_jobs::WeightInfo;
	use proofgrid_primitives::inputs::sample_bytes;
	use proofgrid_primitives::traits::ComputeVerifier;
	// The largest proof at k = 4096: a 4096² output's leaf and path, a row and a column of
	// 4096 bytes and their paths, and the element (two u32).
	let shape = GemmShape { m: 4096, n: 4096, k: 4096 };
	let bytes = sample_bytes(&shape) + 8;
	let weight = pallet_jobs::weights::SubstrateWeight::<Runtime>::dispute().saturating_add(
		<Runtime as pallet_jobs::Config>::Verifier::verify_fraud_weight(
			OutputKind::Supplied,
			4096,
			0,
			0,
		),
	);
	let block = configs::RuntimeBlockWeights::get().max_block;
	let share = weight.ref_time() as f64 / block.ref_time() as f64;
	// What a refused proof costs its accuser: the deposit plus the call's fee.
	let call = RuntimeCall::Jobs(pallet_jobs::Call::dispute {
		job: 0,
		accusation: Accusation::Gemm(proofgrid_primitives::inputs::FraudProof {
			element: (0, 0),
			sample: proofgrid_primitives::inputs::SuppliedSample {
				leaf: [0; 16],
				leaf_path: vec![H256::zero(); 20].try_into().unwrap(),
				row: vec![0i8; 4096].try_into().unwrap(),
				row_path: vec![H256::zero(); 12].try_into().unwrap(),
				col: vec![0i8; 4096].try_into().unwrap(),
				col_path: vec![H256::zero(); 12].try_into().unwrap(),
			},
		}),
		k_dim_witness: 4096,
	});
	let fee = ext().execute_with(|| {
		TransactionPayment::compute_fee(call.encoded_size() as u32, &call.get_dispatch_info(), 0)
	});
	let deposit: Balance = <Runtime as pallet_jobs::Config>::DisputeDeposit::get();
	println!(
		"fraud proof at k = 4096: {bytes} bytes ({} encoded), {:.3} ms of weight = {:.4}% of a block; a refused one costs {:.4} GRID of fee + {} GRID deposit",
		call.encoded_size(),
		weight.ref_time() as f64 / 1e9,
		share * 100.0,
		fee as f64 / GRID as f64,
		deposit / GRID
	);
	assert!(bytes < 20_000, "two lanes and three paths");
	assert!(share < 0.01, "a dispute takes under 1% of a block");
	assert!(deposit >= 2 * fee, "a refused proof costs at least twice its own fee");
}
