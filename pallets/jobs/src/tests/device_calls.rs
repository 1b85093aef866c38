use super::*;

pub(super) fn validate(
	who: AccountId,
	call: RuntimeCall,
) -> Result<sp_runtime::transaction_validity::ValidTransaction, TransactionValidityError> {
	let info = call.get_dispatch_info();
	CheckDeviceCall::<Test>::new()
		.validate_only(RuntimeOrigin::signed(who), &call, &info, 0, TransactionSource::External, 0)
		.map(|(valid, _, _)| valid)
}

pub(super) fn custom(error: Error<Test>) -> TransactionValidityError {
	let index = match sp_runtime::DispatchError::from(error) {
		sp_runtime::DispatchError::Module(e) => e.error[0],
		_ => unreachable!("a pallet error"),
	};
	InvalidTransaction::Custom(index).into()
}

#[test]
fn are_free_and_operational() {
	let paths = Reveal::Seeded(Default::default());
	for call in [
		RuntimeCall::Jobs(crate::Call::claim { job: 0, basis: None }),
		RuntimeCall::Jobs(crate::Call::commit { job: 0, root: H256::zero() }),
		RuntimeCall::Jobs(crate::Call::reveal {
			job: 0,
			challenge_hash: H256::zero(),
			reveal: paths,
			k_dim_witness: 8,
		}),
	] {
		let info = call.get_dispatch_info();
		assert_eq!((info.pays_fee, info.class), (Pays::No, DispatchClass::Operational));
	}
}

#[test]
fn only_the_device_that_may_make_the_step_now_enters_the_pool() {
	build_and_execute(|| {
		register_device(1, PRICE);
		register_device(2, CAP + 1);
		let job = submit(50);
		let claim = RuntimeCall::Jobs(crate::Call::claim { job, basis: None });
		let valid = validate(device(1), claim.clone()).expect("eligible");
		assert_eq!(valid.priority, u64::MAX / 2);
		assert_eq!(valid.provides.len(), 1);
		assert_eq!(
			validate(device(2), claim.clone()),
			Err(InvalidTransaction::Custom(
				// The devices pallet's error index is passed through.
				match sp_runtime::DispatchError::from(pallet_devices::Error::<Test>::PriceTooHigh) {
					sp_runtime::DispatchError::Module(e) => e.error[0],
					_ => unreachable!(),
				}
			)
			.into())
		);
		assert_eq!(validate(account(STRANGER), claim.clone()), Err(custom(Error::UnknownDevice)));

		let commit = RuntimeCall::Jobs(crate::Call::commit { job, root: H256::zero() });
		assert_eq!(validate(device(1), commit.clone()), Err(custom(Error::WrongState)));
		assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job, None));
		assert_eq!(validate(device(1), claim), Err(custom(Error::WrongState)));
		assert_eq!(validate(device(2), commit.clone()), Err(custom(Error::NotAssignedDevice)));
		assert!(validate(device(1), commit.clone()).is_ok());

		let tree = seeded_output(&stored_spec(job), |_| false);
		assert_ok!(Jobs::commit(RuntimeOrigin::signed(device(1)), job, H256(tree.root())));
		let paths = reveal_paths(job, &stored_spec(job), &tree, 2);
		let reveal = |k_dim_witness| {
			RuntimeCall::Jobs(crate::Call::reveal {
				job,
				challenge_hash: System::block_hash(2),
				reveal: paths.clone(),
				k_dim_witness,
			})
		};
		assert_eq!(validate(device(1), reveal(8)), Err(custom(Error::ChallengeNotReady)));
		run_to_block(3);
		assert_eq!(validate(device(1), reveal(9)), Err(custom(Error::WrongWitness)));
		assert!(validate(device(1), reveal(8)).is_ok());
		System::set_block_number(2 + REVEAL_WINDOW + 1);
		assert_eq!(validate(device(1), reveal(8)), Err(custom(Error::RevealTooLate)));
	});
}

#[test]
fn other_calls_pass_untouched() {
	build_and_execute(|| {
		let call = RuntimeCall::Jobs(crate::Call::cancel { job: 7 });
		assert_eq!(validate(client(), call), Ok(Default::default()));
	});
}
