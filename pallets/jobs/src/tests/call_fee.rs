use super::*;

#[test]
fn the_client_prepays_the_device_calls_burned_at_the_first_claim_only() {
	build_and_execute(|| {
		CallFeePerMs::set(10);
		register_device(1, PRICE);
		register_device(2, PRICE);
		let fee = Jobs::device_calls_weight(&job_spec()).ref_time() / 1_000_000_000 * 10;
		assert!(fee > 0);
		// Held with the deposit, returned if nobody claims.
		let cancelled = submit(50);
		assert_eq!(deposit_held(&client()), JOB_DEPOSIT + fee);
		assert_ok!(Jobs::cancel(RuntimeOrigin::signed(client()), cancelled));
		assert_eq!(free(&client()), ENDOWMENT);

		let job = submit(50);
		let issuance = Balances::total_issuance();
		assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job, None));
		System::assert_last_event(
			Event::JobAssigned {
				job,
				device: device(1),
				price: PRICE,
				collateral: COLLATERAL,
				call_fee_burned: fee,
				commit_by: System::block_number() + COMMIT_WINDOW,
			}
			.into(),
		);
		assert_eq!(Balances::total_issuance(), issuance - fee);
		assert_eq!(FeesBurned::<Test>::get(), fee);
		assert_eq!(deposit_held(&client()), JOB_DEPOSIT);
		// The device abandons; the next claim costs the client nothing more.
		run_to_block(1 + COMMIT_WINDOW + 1);
		assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(2)), job, None));
		assert_eq!(FeesBurned::<Test>::get(), fee);
		// The abandoning device repaid the client's fee out of its claim deposit.
		assert_eq!(JobsMap::<Test>::get(job).unwrap().fee_paid, 0);
	});
}

/// Attack 1 of issue 31: a client that makes its own job fail (here: a device that fakes
/// its output, standing for any failure a client can provoke) gets back exactly what it
/// put in — budget, deposit and the burned call fee — and nothing of the rest of the
/// collateral, which is burned. Inducing failures never pays.
#[test]
fn a_failure_compensates_the_client_with_exactly_the_call_fee_it_paid() {
	build_and_execute(|| {
		CallFeePerMs::set(10);
		let fee = Jobs::device_calls_weight(&job_spec()).ref_time() / 1_000_000_000 * 10;
		assert!(fee > 0);
		let client_before = free(&client());
		register_device(1, PRICE);
		let job = submit(50);
		assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job, None));
		let tree = seeded_output(&stored_spec(job), |_| true);
		assert_ok!(Jobs::commit(RuntimeOrigin::signed(device(1)), job, H256(tree.root())));
		let challenge_block = System::block_number() + 1;
		let issuance = Balances::total_issuance();
		reveal(job, challenge_block, &tree);
		System::assert_last_event(
			Event::JobFailed {
				job,
				device: device(1),
				reason: FailureReason::BadProof(
					pallet_compute_proof::Error::<Test>::LeafMismatch.into(),
				),
				slashed: COLLATERAL,
				compensation: fee,
			}
			.into(),
		);
		// The client's gain: zero. Before, half the job's value (300) came on top.
		assert_eq!(free(&client()), client_before);
		assert_eq!(Balances::total_issuance(), issuance - (COLLATERAL - fee));
		assert_eq!(SlashesBurned::<Test>::get(), COLLATERAL - fee);
	});
}
