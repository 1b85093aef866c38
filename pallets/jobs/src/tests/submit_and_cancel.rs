use super::*;

#[test]
fn submit_holds_the_budget_and_a_deposit_and_binds_the_seed() {
	build_and_execute(|| {
		let job = submit(20);
		let info = JobsMap::<Test>::get(job).unwrap();
		assert_eq!((info.units, info.budget, info.status), (1, CAP, JobStatus::Submitted));
		assert_eq!((held(&client()), deposit_held(&client())), (CAP, JOB_DEPOSIT));
		// The stored seed binds the job and its client: the same request twice gives two
		// different input sets, so one output cannot answer both.
		let client_bytes = codec::Encode::encode(&client());
		assert_eq!(
			info.spec.seed(),
			Some(&effective_seed(job_spec().seed().unwrap(), job, &client_bytes))
		);
		let second = submit(20);
		assert_ne!(stored_spec(second).seed(), info.spec.seed());
		assert_eq!(second, job + 1, "ids increase");
		System::assert_last_event(
			Event::JobSubmitted {
				job: second,
				client: client(),
				units: 1,
				budget: CAP,
				deposit: JOB_DEPOSIT,
				call_fee: 0,
				deadline: 20,
			}
			.into(),
		);
	});
}

#[test]
fn submit_refusals() {
	build_and_execute(|| {
		let who = RuntimeOrigin::signed(client());
		let mut empty = job_spec();
		empty.shape.m = 0;
		assert_noop!(Jobs::submit_job(who.clone(), empty, CAP, 20), Error::<Test>::InvalidShape);
		let mut huge = job_spec();
		huge.shape = GemmShape { m: 65_536, n: 65_536, k: MAX_K };
		assert_noop!(Jobs::submit_job(who.clone(), huge, CAP, 20), Error::<Test>::TooMuchWork);
		assert_noop!(
			Jobs::submit_job(who.clone(), job_spec(), MIN_PRICE - 1, 20),
			Error::<Test>::PriceTooLow
		);
		assert_noop!(Jobs::submit_job(who.clone(), job_spec(), 0, 20), Error::<Test>::PriceTooLow);
		let mut big = job_spec();
		big.shape = GemmShape { m: 1_024, n: 1_024, k: 16 }; // 512 units
		assert_noop!(
			Jobs::submit_job(who.clone(), big, u64::MAX / 100, 20),
			Error::<Test>::Overflow
		);
		assert_noop!(Jobs::submit_job(who.clone(), job_spec(), CAP, 1), Error::<Test>::BadDeadline);
		assert_noop!(
			Jobs::submit_job(who.clone(), job_spec(), CAP, 1 + 101),
			Error::<Test>::BadDeadline
		);
		assert_noop!(
			Jobs::submit_job(who, job_spec(), ENDOWMENT * 2, 20),
			TokenError::FundsUnavailable
		);
	});
}

#[test]
fn cancel_releases_the_budget_and_the_deposit() {
	build_and_execute(|| {
		let job = submit(20);
		assert_noop!(
			Jobs::cancel(RuntimeOrigin::signed(account(PROVIDER)), job),
			Error::<Test>::NotClient
		);
		assert_noop!(
			Jobs::cancel(RuntimeOrigin::signed(client()), job + 7),
			Error::<Test>::UnknownJob
		);
		assert_ok!(Jobs::cancel(RuntimeOrigin::signed(client()), job));
		System::assert_last_event(Event::JobCancelled { job }.into());
		assert_eq!((held(&client()), deposit_held(&client())), (0, 0));
		assert_eq!(free(&client()), ENDOWMENT);
		assert!(JobsMap::<Test>::get(job).is_none());
	});
}

#[test]
fn cancel_is_refused_once_assigned() {
	build_and_execute(|| {
		register_device(1, PRICE);
		let job = submit(20);
		assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job, None));
		assert_noop!(Jobs::cancel(RuntimeOrigin::signed(client()), job), Error::<Test>::WrongState);
	});
}
