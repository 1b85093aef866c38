//! The models pallet: registration and its deposit, removal, use by jobs, and the attacks
//! (flooding storage, removing a model a job needs, someone else's model).

use frame_support::{assert_noop, assert_ok, traits::fungible::InspectHold};
use proofgrid_primitives::{
	linear::Requant,
	model::{Epilogue, Model, Op, Shape},
	model_proof::WeightsCommitment,
	traits::ModelRegistry,
};
use sp_core::H256;
use sp_runtime::{DispatchError, TokenError};

use crate::{mock::*, Error, Event, HoldReason, ModelInfo, Models as ModelsStorage, NextModelId};

fn epilogue(zero_point: i8) -> Epilogue {
	Epilogue { requant: Requant { multiplier: 1 << 30, shift: 38, relu: false }, zero_point }
}

/// The digits CNN's shape: 8×8×1 → conv 3×3 (8) → max pool 2 → dense (10).
fn cnn() -> Model {
	Model {
		input: Shape { height: 8, width: 8, channels: 1 },
		input_zero_point: -128,
		layers: vec![
			Op::Conv {
				filters: 8,
				kernel: (3, 3),
				stride: (1, 1),
				padding: [1, 1, 1, 1],
				dilation: (1, 1),
				epilogue: epilogue(-128),
			},
			Op::MaxPool { kernel: (2, 2), stride: (2, 2), padding: [0; 4] },
			Op::Dense { outputs: 10, epilogue: epilogue(3) },
		]
		.try_into()
		.unwrap(),
	}
}

fn weights(n: usize) -> crate::WeightsOf {
	(0..n)
		.map(|i| WeightsCommitment {
			lanes: H256::repeat_byte(i as u8 + 1),
			bias: H256::repeat_byte(i as u8 + 100),
		})
		.collect::<Vec<_>>()
		.try_into()
		.unwrap()
}

fn url(text: &str) -> Option<crate::WeightsUrl> {
	Some(text.as_bytes().to_vec().try_into().unwrap())
}

fn held(who: u8) -> Balance {
	Balances::balance_on_hold(&HoldReason::ModelDeposit.into(), &account(who))
}

fn free(who: u8) -> Balance {
	Balances::free_balance(account(who))
}

fn register(who: u8) -> u64 {
	let id = NextModelId::<Test>::get();
	assert_ok!(Models::register(
		RuntimeOrigin::signed(account(who)),
		cnn(),
		weights(2),
		url("https://models.example/cnn")
	));
	id
}

#[test]
fn registering_holds_a_deposit_for_the_bytes_stored() {
	build_and_execute(|| {
		let id = register(ALICE);
		let info = ModelsStorage::<Test>::get(id).unwrap();
		let bytes = codec::Encode::encoded_size(&info) as Balance;
		let deposit = DEPOSIT_BASE + DEPOSIT_PER_BYTE * bytes;
		assert_eq!(info.deposit, deposit);
		assert_eq!((info.owner.clone(), info.users), (account(ALICE), 0));
		assert_eq!((held(ALICE), free(ALICE)), (deposit, ENDOWMENT - deposit));
		System::assert_last_event(
			Event::ModelRegistered { model: id, owner: account(ALICE), deposit }.into(),
		);
		// The registry answers with what was registered; the next registration gets the next id.
		assert_eq!(<Models as ModelRegistry>::model(id), Some((cnn(), weights(2).into_inner())));
		assert_eq!(register(BOB), id + 1);
		assert_eq!(<Models as ModelRegistry>::model(id + 2), None);
		// A larger record costs more: the URL's bytes are paid for.
		let without_url = ModelInfo { weights_url: None, ..info };
		assert!(Models::deposit_for(&without_url) < deposit);
	});
}

#[test]
fn a_model_the_chain_cannot_run_or_check_is_refused_and_moves_no_funds() {
	build_and_execute(|| {
		let origin = || RuntimeOrigin::signed(account(ALICE));
		let mut too_large = cnn();
		too_large.layers[1] = Op::MaxPool { kernel: (9, 9), stride: (1, 1), padding: [0; 4] };
		assert_noop!(
			Models::register(origin(), too_large, weights(2), None),
			Error::<Test>::InvalidModel
		);
		let mut bad_requant = cnn();
		bad_requant.layers[2] = Op::Dense {
			outputs: 10,
			epilogue: Epilogue {
				requant: Requant { multiplier: 0, shift: 3, relu: false },
				zero_point: 0,
			},
		};
		assert_noop!(
			Models::register(origin(), bad_requant, weights(2), None),
			Error::<Test>::InvalidModel
		);
		assert_noop!(
			Models::register(
				origin(),
				Model { layers: Default::default(), ..cnn() },
				weights(0),
				None
			),
			Error::<Test>::InvalidModel
		);
		for n in [1, 3] {
			assert_noop!(
				Models::register(origin(), cnn(), weights(n), None),
				Error::<Test>::WrongWeightCount
			);
		}
		for bad in ["ftp://x/w", "https://", "file:///etc/passwd"] {
			assert_noop!(
				Models::register(origin(), cnn(), weights(2), url(bad)),
				Error::<Test>::BadWeightsUrl
			);
		}
		// An account that cannot pay the deposit stores nothing.
		assert_noop!(
			Models::register(RuntimeOrigin::signed(account(POOR)), cnn(), weights(2), None),
			DispatchError::Token(TokenError::FundsUnavailable)
		);
		assert_eq!((held(ALICE), free(ALICE), NextModelId::<Test>::get()), (0, ENDOWMENT, 0));
	});
}

#[test]
fn only_the_registrant_removes_a_model_and_gets_its_deposit_back_whole() {
	build_and_execute(|| {
		let id = register(ALICE);
		assert_noop!(
			Models::remove(RuntimeOrigin::signed(account(BOB)), id),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Models::remove(RuntimeOrigin::signed(account(ALICE)), id + 1),
			Error::<Test>::NoSuchModel
		);
		assert_ok!(Models::remove(RuntimeOrigin::signed(account(ALICE)), id));
		System::assert_last_event(Event::ModelRemoved { model: id }.into());
		assert_eq!((held(ALICE), free(ALICE)), (0, ENDOWMENT));
		assert_eq!(ModelsStorage::<Test>::get(id), None);
		assert_noop!(
			Models::remove(RuntimeOrigin::signed(account(ALICE)), id),
			Error::<Test>::NoSuchModel
		);
		// Ids are never reused: a job that named the removed model cannot find another.
		assert_eq!(register(ALICE), id + 1);
	});
}

#[test]
fn a_model_that_jobs_use_cannot_be_removed_until_they_release_it() {
	build_and_execute(|| {
		let id = register(ALICE);
		assert_ok!(<Models as ModelRegistry>::acquire(id));
		assert_ok!(<Models as ModelRegistry>::acquire(id));
		assert_eq!(ModelsStorage::<Test>::get(id).unwrap().users, 2);
		let remove = || Models::remove(RuntimeOrigin::signed(account(ALICE)), id);
		assert_noop!(remove(), Error::<Test>::InUse);
		<Models as ModelRegistry>::release(id);
		assert_noop!(remove(), Error::<Test>::InUse);
		<Models as ModelRegistry>::release(id);
		assert_ok!(remove());
		assert_eq!(<Models as ModelRegistry>::acquire(id), Err(Error::<Test>::NoSuchModel.into()));
		// Releasing a gone model is harmless.
		<Models as ModelRegistry>::release(id);
	});
}

#[test]
fn flooding_storage_costs_a_deposit_per_model_and_the_flooder_alone_pays() {
	build_and_execute(|| {
		let one = {
			let id = register(BOB);
			ModelsStorage::<Test>::get(id).unwrap().deposit
		};
		// BOB registers until his balance runs out: each model holds a whole deposit.
		let mut models = 1u64;
		while free(BOB) >= one + 10 {
			register(BOB);
			models += 1;
		}
		assert_eq!(held(BOB), one * models as Balance);
		assert_noop!(
			Models::register(
				RuntimeOrigin::signed(account(BOB)),
				cnn(),
				weights(2),
				url("https://models.example/cnn")
			),
			DispatchError::Token(TokenError::FundsUnavailable)
		);
		// ALICE, who did nothing, lost nothing; BOB gets every deposit back on removal.
		assert_eq!((held(ALICE), free(ALICE)), (0, ENDOWMENT));
		for id in 0..models {
			assert_ok!(Models::remove(RuntimeOrigin::signed(account(BOB)), id));
		}
		assert_eq!((held(BOB), free(BOB)), (0, ENDOWMENT));
		println!("[models] {models} models of {one} each exhausted a {ENDOWMENT} balance");
	});
}
