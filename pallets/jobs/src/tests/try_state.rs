//! `try_state` itself: it catches books that do not add up (the other tests end by
//! running it: `mock::build_and_execute`).

use super::*;

#[test]
fn try_state_catches_a_budget_mismatch() {
	new_test_ext().execute_with(|| {
		let job = submit(20);
		assert!(Jobs::do_try_state().is_ok());
		JobsMap::<Test>::mutate(job, |j| j.as_mut().unwrap().budget = CAP - 1);
		assert!(Jobs::do_try_state().is_err());
	});
}

#[test]
fn try_state_catches_a_deposit_or_collateral_mismatch() {
	new_test_ext().execute_with(|| {
		register_device(1, PRICE);
		let job = submit(20);
		JobsMap::<Test>::mutate(job, |j| j.as_mut().unwrap().deposit = JOB_DEPOSIT + 1);
		assert!(Jobs::do_try_state().is_err());
		JobsMap::<Test>::mutate(job, |j| j.as_mut().unwrap().deposit = JOB_DEPOSIT);
		assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job, None));
		assert!(Jobs::do_try_state().is_ok());
		DevicesMap::<Test>::mutate(device(1), |d| d.as_mut().unwrap().locked = 1);
		assert!(Jobs::do_try_state().is_err());
	});
}
