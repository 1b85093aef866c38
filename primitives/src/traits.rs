//! The traits through which the pallets call one another, kept here so that no pallet depends on
//! a sibling to name them: the runtime wires the implementations together.
//!
//! - [`DeviceRegistry`]: what the jobs pallet asks of and does to devices (`pallet-devices`);
//! - [`ComputeVerifier`]: how a committed output is checked (`pallet-compute-proof`);
//! - [`OnWorkVerified`]: who hears of verified work (`pallet-rewards`);
//! - [`ModelRegistry`]: the registered models whole-model jobs run (`pallet-models`).

use alloc::vec::Vec;
use sp_core::H256;
use sp_runtime::{DispatchError, DispatchResult, Weight};

use crate::{
	device::Requirements,
	job::{Accusation, JobId, JobSpec, OutputKind, Reveal},
	model::{Model, ModelId},
	model_proof::WeightsCommitment,
};

/// What the jobs pallet (or any sibling) may ask of and do to devices.
pub trait DeviceRegistry<AccountId, Balance> {
	/// `Ok` if `device` can take a job with `requirements` at a price of at most `price_cap`
	/// per unit now, with `collateral` locked from its free bond; otherwise the named reason
	/// why not.
	fn ensure_eligible(
		device: &AccountId,
		requirements: &Requirements,
		price_cap: Balance,
		collateral: Balance,
	) -> DispatchResult;

	/// The owner of `device`, if registered.
	fn owner_of(device: &AccountId) -> Option<AccountId>;

	/// The asking price per unit of `device`, if registered.
	fn price_of(device: &AccountId) -> Option<Balance>;

	/// The bond still held for `device`, if registered.
	fn bond_of(device: &AccountId) -> Option<Balance>;

	/// The throughput (GOPS) `device` promises, if registered: it sizes commit windows.
	fn gops_of(device: &AccountId) -> Option<u64>;

	/// One more job is assigned to `device` with `collateral` locked from its free bond; it
	/// cannot deregister until it is idle.
	fn lock_collateral(device: &AccountId, collateral: Balance) -> DispatchResult;

	/// `device` is done working on one job ([`Self::lock_collateral`] took a slot for it): it
	/// may take another. The job's collateral stays locked until [`Self::unlock_collateral`]
	/// (a verified job waits out its dispute window that way).
	fn release_slot(device: &AccountId);

	/// One job of `device` ended (in any way): its `collateral` is unlocked.
	fn unlock_collateral(device: &AccountId, collateral: Balance);

	/// `device` completed a job with a valid proof, at a proven `delivered_gops` or more, and
	/// its owner was `paid` for it.
	fn record_success(device: &AccountId, delivered_gops: u64, paid: Balance);

	/// `device` failed a job (bad or late proof, missed window).
	fn record_failure(device: &AccountId);

	/// Collateral locked by `device`'s open jobs, if registered.
	fn locked_of(device: &AccountId) -> Option<Balance>;

	/// Slash up to `amount` from `device`'s free bond (also while unbonding): up to
	/// `max_compensation` of it goes to `victim`, the rest is burned. Returns `(slashed,
	/// compensation)`; `slashed` is less than `amount` only if the free bond was smaller.
	fn slash(
		device: &AccountId,
		amount: Balance,
		victim: &AccountId,
		max_compensation: Balance,
	) -> Result<(Balance, Balance), DispatchError>;
}

/// What the jobs pallet needs from a compute verifier: one operation per step of a job's
/// proof, each taking the kind's own [`Reveal`] or [`Accusation`].
pub trait ComputeVerifier {
	/// The leaf indices the provider of `job` must reveal, sorted; distinct for seeded inputs,
	/// once per challenged element for supplied inputs.
	fn challenge(job: JobId, spec: &JobSpec, root: &H256, randomness: &H256) -> Vec<u64>;

	/// `Ok` if `reveal` proves the challenged part of the output committed as `root` is the
	/// correct output of `spec`; otherwise the named reason (a reveal of another kind than the
	/// job's output is refused).
	fn verify(
		job: JobId,
		spec: &JobSpec,
		root: &H256,
		randomness: &H256,
		reveal: &Reveal,
	) -> DispatchResult;

	/// Weight of [`Self::verify`] for a reveal of `kind` with `samples` samples, inner
	/// dimension `k_dim`, output rows of at most `row_len` values and at most `taps` input rows
	/// per sample ([`Reveal::samples`], [`Reveal::row_len`], [`Reveal::taps`]).
	fn verify_weight(kind: OutputKind, samples: u32, k_dim: u32, row_len: u32, taps: u32)
		-> Weight;

	/// The most [`Self::verify`] weighs for an honest reveal of a job of `spec` (what its
	/// client pays for at submission).
	fn reveal_weight(spec: &JobSpec) -> Weight;

	/// Fewest samples a job on supplied inputs may ask for (at most
	/// [`MAX_SUPPLIED_SAMPLES`](crate::job::MAX_SUPPLIED_SAMPLES)).
	fn min_supplied_samples() -> u32;

	/// `Ok` if `accusation` shows that the output committed as `root` for `spec` is wrong;
	/// otherwise why it does not.
	fn verify_fraud(spec: &JobSpec, root: &H256, accusation: &Accusation) -> DispatchResult;

	/// Weight of [`Self::verify_fraud`]: one element of `kind` recomputed, as one sample of
	/// [`Self::verify`].
	fn verify_fraud_weight(kind: OutputKind, k_dim: u32, row_len: u32, taps: u32) -> Weight;

	/// Most bytes the reveal of a job of `spec` takes.
	fn reveal_bytes(spec: &JobSpec) -> u64;

	/// Largest reveal a job may need: a job whose reveal would be larger is refused.
	fn max_reveal_bytes() -> u64;
}

/// Told about every job whose proof the chain verified, e.g. to pay token rewards for it.
/// Called from `reveal`, so it must be cheap and bounded; its [`OnWorkVerified::weight`] is
/// added to `reveal`'s.
pub trait OnWorkVerified<AccountId, Balance> {
	/// `provider` (the device's owner) settled a job of `units` verified work units whose
	/// client paid `fee_burned` in burned protocol fees.
	fn on_work_verified(provider: &AccountId, units: u64, fee_burned: Balance);
	/// Upper bound of [`OnWorkVerified::on_work_verified`]'s weight.
	fn weight() -> Weight;
}

impl<AccountId, Balance> OnWorkVerified<AccountId, Balance> for () {
	fn on_work_verified(_: &AccountId, _: u64, _: Balance) {}
	fn weight() -> Weight {
		Weight::zero()
	}
}

/// What a jobs pallet needs of the model registry.
pub trait ModelRegistry {
	/// Model `id`'s layers and its weights' commitments (one per GEMM layer), if registered.
	fn model(id: ModelId) -> Option<(Model, Vec<WeightsCommitment>)>;
	/// Counts a job that uses model `id`: it cannot be removed until [`Self::release`].
	fn acquire(id: ModelId) -> DispatchResult;
	/// The job that [`Self::acquire`]d model `id` is done with it.
	fn release(id: ModelId);
}
