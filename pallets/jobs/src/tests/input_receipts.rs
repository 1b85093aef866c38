//! Attack 5's residual: the chain tells whether a job's inputs reached its device from the
//! device's own signed receipt, which the client puts on chain (`confirm_inputs`). Before it,
//! a release is free (the inputs may never have come); after it, releasing repays the client.

use super::{
	device_calls::{custom, validate},
	*,
};
use proofgrid_primitives::{
	inputs::inputs_receipt_message,
	job::{InputSource, JobInputs, JobSpec},
	testing::supplied::SuppliedJob,
};
use sp_core::Pair;
use sp_runtime::MultiSignature;

/// A one-unit job on the client's own (uploaded) matrices.
fn supplied_spec() -> JobSpec {
	let job = SuppliedJob::new(64, 64, 8, 7);
	JobSpec {
		shape: job.shape,
		inputs: JobInputs::Supplied {
			matrices: job.inputs,
			a: InputSource::Upload,
			b: InputSource::Upload,
			samples: 8,
			public_output: false,
		},
		requirements: job_spec().requirements,
	}
}

/// Submits the supplied job and has device `n` (registered) claim it; its id.
fn claimed_by(n: u8) -> u64 {
	let id = crate::NextJobId::<Test>::get();
	assert_ok!(Jobs::submit_job(RuntimeOrigin::signed(client()), supplied_spec(), CAP, 50));
	register_device(n, PRICE);
	assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(n)), id, None));
	id
}

/// Device `signer`'s receipt for `job`, naming device `named` and genesis `genesis`.
fn receipt_by(signer: u8, job: u64, named: u8, genesis: H256) -> MultiSignature {
	let message = inputs_receipt_message(&genesis.0, job, &device(named).into());
	device_pair(signer).sign(&message).into()
}

fn receipt(n: u8, job: u64) -> MultiSignature {
	receipt_by(n, job, n, System::block_hash(0))
}

fn inputs_received(job: u64) -> bool {
	matches!(
		JobsMap::<Test>::get(job).unwrap().status,
		JobStatus::Assigned { inputs_received: true, .. }
	)
}

#[test]
fn the_client_confirms_its_inputs_with_the_devices_receipt() {
	build_and_execute(|| {
		let job = claimed_by(1);
		assert!(!inputs_received(job));
		assert_ok!(Jobs::confirm_inputs(RuntimeOrigin::signed(client()), job, receipt(1, job)));
		System::assert_last_event(Event::InputsReceived { job, device: device(1) }.into());
		assert!(inputs_received(job));
		assert_noop!(
			Jobs::confirm_inputs(RuntimeOrigin::signed(client()), job, receipt(1, job)),
			Error::<Test>::InputsAlreadyReceived
		);
	});
}

#[test]
fn a_receipt_must_be_the_assigned_devices_for_this_chain_and_job() {
	build_and_execute(|| {
		let job = claimed_by(1);
		register_device(2, PRICE);
		let genesis = System::block_hash(0);
		let confirm = |receipt| Jobs::confirm_inputs(RuntimeOrigin::signed(client()), job, receipt);
		// Another device's signature, one naming another device, another job, another chain.
		assert_noop!(confirm(receipt_by(2, job, 1, genesis)), Error::<Test>::BadReceipt);
		assert_noop!(confirm(receipt_by(2, job, 2, genesis)), Error::<Test>::BadReceipt);
		assert_noop!(confirm(receipt_by(1, job + 1, 1, genesis)), Error::<Test>::BadReceipt);
		assert_noop!(
			confirm(receipt_by(1, job, 1, H256::repeat_byte(7))),
			Error::<Test>::BadReceipt
		);
		// Only the client; only an assigned job.
		assert_noop!(
			Jobs::confirm_inputs(RuntimeOrigin::signed(account(STRANGER)), job, receipt(1, job)),
			Error::<Test>::NotClient
		);
		let waiting = submit(50);
		assert_noop!(
			Jobs::confirm_inputs(RuntimeOrigin::signed(client()), waiting, receipt(1, waiting)),
			Error::<Test>::WrongState
		);
		assert_noop!(
			Jobs::confirm_inputs(RuntimeOrigin::signed(client()), 99, receipt(1, 99)),
			Error::<Test>::UnknownJob
		);
	});
}

/// Four sybil devices each claim the client's job, take its inputs (the client confirms
/// them) and give it back. Before receipts each release was free and the client lost its
/// call fee; now each device repays it, and the client ends where it started.
#[test]
fn releasing_after_the_inputs_arrived_repays_the_client_and_costs_the_attacker() {
	build_and_execute(|| {
		let weight_ms = Jobs::device_calls_weight(&supplied_spec()).ref_time() / 1_000_000_000;
		// A call fee above the claim deposit and below the collateral.
		CallFeePerMs::set(4 * CLAIM_DEPOSIT / weight_ms.max(1));
		let client_before = free(&client());
		let job = claimed_by(1);
		let fee = JobsMap::<Test>::get(job).unwrap().fee_paid;
		assert!(fee > CLAIM_DEPOSIT && fee < COLLATERAL, "fee {fee}");
		let mut forfeited_total = 0;
		for n in 1..=MAX_ABANDONS_PER_JOB as u8 {
			if n > 1 {
				register_device(n, PRICE);
				assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(n)), job, None));
			}
			assert_ok!(Jobs::confirm_inputs(RuntimeOrigin::signed(client()), job, receipt(n, job)));
			// At once: no input window to wait for once the inputs are in.
			let release = RuntimeCall::Jobs(crate::Call::release { job });
			assert!(validate(device(n), release).is_ok());
			let bond = Devices::bond_of(&device(n)).unwrap();
			assert_ok!(Jobs::release(RuntimeOrigin::signed(device(n)), job));
			let forfeited = bond - Devices::bond_of(&device(n)).unwrap();
			System::assert_has_event(
				Event::JobReleased { job, device: device(n), forfeited }.into(),
			);
			forfeited_total += forfeited;
			if n == 1 {
				assert_eq!(forfeited, fee, "the call fee, which is above the claim deposit");
			}
		}
		System::assert_last_event(Event::JobExpired { job }.into());
		// The client paid the fee once and got it back; the attacker's devices lost at
		// least the claim deposit each, and the first repaid the fee.
		assert_eq!(free(&client()), client_before);
		assert!(forfeited_total >= fee + CLAIM_DEPOSIT * (MAX_ABANDONS_PER_JOB as u64 - 1));
		println!(
			"{MAX_ABANDONS_PER_JOB} sybil releases after confirmed inputs: the client lost 0 \
			 (call fee {fee} repaid), the attacker forfeited {forfeited_total}"
		);
	});
}

/// Without a receipt the release stays free and waits for the input window: the chain
/// cannot tell that the inputs came.
#[test]
fn without_a_receipt_a_release_is_free_and_waits_for_the_input_window() {
	build_and_execute(|| {
		let job = claimed_by(1);
		assert_noop!(
			Jobs::release(RuntimeOrigin::signed(device(1)), job),
			Error::<Test>::CannotRelease
		);
		let release = RuntimeCall::Jobs(crate::Call::release { job });
		assert_eq!(validate(device(1), release), Err(custom(Error::CannotRelease)));
		run_to_block(System::block_number() + Jobs::input_window(&supplied_spec()));
		let bond = Devices::bond_of(&device(1));
		assert_ok!(Jobs::release(RuntimeOrigin::signed(device(1)), job));
		assert_eq!(Devices::bond_of(&device(1)), bond);
		System::assert_last_event(
			Event::JobReleased { job, device: device(1), forfeited: 0 }.into(),
		);
	});
}

/// A missed commit window forfeits the call fee too when it is above the claim deposit, so
/// a device that takes a costly job and walks away repays it in full.
#[test]
fn a_missed_commit_repays_a_call_fee_above_the_claim_deposit() {
	build_and_execute(|| {
		let weight_ms = Jobs::device_calls_weight(&job_spec()).ref_time() / 1_000_000_000;
		CallFeePerMs::set(4 * CLAIM_DEPOSIT / weight_ms.max(1));
		let before = free(&client());
		register_device(1, PRICE);
		let job = submit(1 + COMMIT_WINDOW + 2);
		assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job, None));
		let fee = JobsMap::<Test>::get(job).unwrap().fee_paid;
		assert!(fee > CLAIM_DEPOSIT, "fee {fee}");
		run_to_block(1 + COMMIT_WINDOW + 1);
		System::assert_has_event(
			Event::JobUnassigned { job, device: device(1), forfeited: fee }.into(),
		);
		run_to_block(1 + COMMIT_WINDOW + 3);
		assert_eq!(free(&client()), before, "the client has everything back");
	});
}
