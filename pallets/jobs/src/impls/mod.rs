//! The jobs pallet's internals, split by role as the calls use them:
//!
//! - [`checks`]: the checks behind each call, shared with the
//!   [`CheckDeviceCall`](crate::CheckDeviceCall) extension so the pool refuses what the call
//!   would (and the weights of device calls);
//! - [`terms`]: a job's terms as pure functions of its spec and the runtime's parameters
//!   (windows, work units, value, collateral, deadlines);
//! - [`deadlines`]: the two deadline queues, challenge randomness, and what a deadline does;
//! - [`settlement`]: where money moves: reveals and data demands concluded, disputes judged,
//!   jobs settled, failed, given back or expired;
//! - [`invariants`]: `try_state`, the books every test ends by checking;
//! - [`views`]: reads for the runtime API.

use frame_support::{
	dispatch::{DispatchResultWithPostInfo, Pays},
	ensure,
	pallet_prelude::DispatchResult,
	traits::{
		fungible::{Inspect, Mutate, MutateHold},
		tokens::{Fortitude, Precision, Preservation, Restriction},
		Get, Randomness,
	},
	weights::Weight,
};
use frame_system::pallet_prelude::BlockNumberFor;
use proofgrid_primitives::traits::{DeviceRegistry, ModelRegistry, OnWorkVerified};
use proofgrid_primitives::{
	device::Kernel,
	gemm::MAX_K,
	job::{price_bucket, InputSource, JobId, JobInputs, JobSpec, OutputKind, MAX_SUPPLIED_SAMPLES},
	linear::output_commitment,
};
use sp_core::H256;
use sp_runtime::{
	traits::{CheckedSub, One, Saturating, UniqueSaturatedFrom, UniqueSaturatedInto, Zero},
	DispatchError,
};

use crate::{
	BalanceOf, ChallengeRandomness, ChallengeSeed, ClaimsPausedUntil, Config, CongestedBlocks,
	Deadlines, DeviceJobs, Error, Event, Expiries, FailureReason, FeesBurned, HoldReason, JobOf,
	JobStatus, Jobs, LayerOutput, LayerOutputs, OldestChallenge, OpenJobCount, OpenJobs, Pallet,
	RecentAuthors, SlashesBurned, MAX_CHALLENGE_EXTENSION,
};

/// The subject under which challenge randomness is drawn from [`Config::BlockRandomness`].
const CHALLENGE_SUBJECT: &[u8] = b"proofgrid/challenge";

/// Why an assigned device gives its job back ([`Pallet::give_back`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum GiveBack {
	/// It let its commit window lapse.
	Missed,
	/// It released the job before its client confirmed the inputs' arrival.
	NoInputs,
	/// It released the job after its client confirmed the inputs' arrival.
	Released,
}

/// Blocks after the wanted one that `schedule` tries when a block's queue is full.
const SCHEDULE_PROBES: u32 = 16;

/// The two deadline queues.
#[derive(Clone, Copy)]
pub(crate) enum Queue {
	/// Commit and reveal windows: entries come only from claims and commits, which need bonded,
	/// eligible devices.
	Protocol,
	/// Expiry of waiting jobs: the blocks are the clients' choice.
	Client,
}

/// A claim's plan for a runtime `T`.
pub(crate) type ClaimPlanOf<T> = ClaimPlan<BalanceOf<T>, BlockNumberFor<T>>;

/// What a successful claim will do.
pub(crate) struct ClaimPlan<Balance, BlockNumber> {
	/// The device's price per unit.
	pub price: Balance,
	/// Collateral locked from the device's bond.
	pub collateral: Balance,
	/// Last block for the commitment.
	pub commit_by: BlockNumber,
}
mod checks;
mod deadlines;
mod invariants;
mod settlement;
mod terms;
mod views;
