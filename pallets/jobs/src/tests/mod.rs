//! The whole lifecycle, every refusal and every deadline of the jobs pallet, the pool checks
//! of device calls, and the attacks of docs/PROTOCOL.md §6 that live in this pallet (claim-and-abandon,
//! deadline flooding, collateral exhaustion), with the money invariants checked after each test.
//! One file per theme; the helpers below are shared by all of them.

use frame_support::{
	assert_noop, assert_ok,
	dispatch::{DispatchClass, GetDispatchInfo, Pays},
	traits::fungible::{hold::Inspect as HoldInspect, Inspect},
};
use pallet_devices::Devices as DevicesMap;
use proofgrid_primitives::traits::DeviceRegistry;
use proofgrid_primitives::{
	device::Requirements,
	gemm::{GemmShape, MAX_K},
	job::{claim_seed, effective_seed, Reveal},
};
use sp_core::H256;
use sp_runtime::{
	traits::DispatchTransaction,
	transaction_validity::{InvalidTransaction, TransactionSource, TransactionValidityError},
	TokenError,
};

use crate::{
	mock::*, CheckDeviceCall, Deadlines, DeviceJobs, Error, Event, Expiries, FailureReason,
	FeesBurned, HoldReason, JobStatus, Jobs as JobsMap, SlashesBurned, MAX_ABANDONS_PER_JOB,
};

const CAP: Balance = 1_000;
const PRICE: Balance = 600;
/// `max(MIN_COLLATERAL, 150% × 600)`.
const COLLATERAL: Balance = 900;
/// A failure compensates the client with the call fee it paid, which these tests leave at zero
/// ([`CallFeePerMs`]): the client ends where it started; `mod call_fee` prices the calls.
const MAX_COMPENSATION: Balance = 0;

fn free(who: &AccountId) -> Balance {
	Balances::balance(who)
}
fn held(who: &AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::JobBudget.into(), who)
}
fn deposit_held(who: &AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::JobDeposit.into(), who)
}
fn client() -> AccountId {
	account(CLIENT)
}

/// Submits the standard job (one unit, cap 1 000) with deadline `deadline`; returns its id.
fn submit(deadline: u64) -> u64 {
	let id = crate::NextJobId::<Test>::get();
	assert_ok!(Jobs::submit_job(RuntimeOrigin::signed(client()), job_spec(), CAP, deadline));
	id
}

/// Registers device 1, submits, claims and commits `tree`'s root; returns (job, challenge
/// block, tree).
fn committed(
	tree_fake: impl Fn(u64) -> bool,
) -> (u64, u64, proofgrid_primitives::merkle::MerkleTree) {
	register_device(1, PRICE);
	let job = submit(50);
	assert_ok!(Jobs::claim(RuntimeOrigin::signed(device(1)), job, None));
	let tree = seeded_output(&stored_spec(job), tree_fake);
	assert_ok!(Jobs::commit(RuntimeOrigin::signed(device(1)), job, H256(tree.root())));
	let challenge_block = System::block_number() + 1;
	(job, challenge_block, tree)
}

/// Reveals honestly (or as `tree` says) once the challenge block exists.
fn reveal(job: u64, challenge_block: u64, tree: &proofgrid_primitives::merkle::MerkleTree) {
	run_to_block(challenge_block + 1);
	let paths = reveal_paths(job, &stored_spec(job), tree, challenge_block);
	let challenge_hash = System::block_hash(challenge_block);
	assert_ok!(Jobs::reveal(RuntimeOrigin::signed(device(1)), job, challenge_hash, paths, 8));
}

mod call_fee;
mod claim_and_commit;
mod deadlines;
mod device_calls;
mod disputes;
mod honest_provider;
mod input_receipts;
mod layers;
mod models;
mod reveal;
mod submit_and_cancel;
mod supplied_inputs;
mod try_state;
