//! The jobs pallet's internals: deadline queues, settlement, failure, and `try_state`.

use frame_support::{
	pallet_prelude::DispatchResult,
	traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision, Restriction},
		Get,
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_devices::DeviceRegistry;
use proofgrid_primitives::job::JobId;
use sp_runtime::{
	traits::{One, Saturating, UniqueSaturatedFrom, Zero},
	DispatchError, PerThing,
};

use crate::{
	BalanceOf, Config, Deadlines, Error, Event, FailureReason, HoldReason, JobOf, JobStatus, Jobs,
	OnWorkVerified, Pallet,
};

/// Blocks after the wanted one that `schedule` tries when a block's queue is full.
const SCHEDULE_PROBES: u32 = 16;

impl<T: Config> Pallet<T> {
	/// Puts `job` in the deadline queue of block `at`, or of one of the next few blocks if that
	/// one is full (a deadline processed a little late is still enforced: entries are checked
	/// against the job's state, not the block number).
	pub(crate) fn schedule(at: BlockNumberFor<T>, job: JobId) -> DispatchResult {
		let mut when = at;
		for _ in 0..SCHEDULE_PROBES {
			if Deadlines::<T>::mutate(when, |queue| queue.try_push(job).is_ok()) {
				return Ok(());
			}
			when = when.saturating_add(One::one());
		}
		Err(Error::<T>::DeadlineQueueFull.into())
	}

	/// Enforces whatever deadline of `job` has passed at `now`.
	pub(crate) fn process_deadline(job: JobId, now: BlockNumberFor<T>) {
		let Some(mut info) = Jobs::<T>::get(job) else { return };
		match info.status.clone() {
			JobStatus::Submitted if now >= info.deadline => Self::expire(job, &info),
			JobStatus::Assigned { device, commit_by, .. } if now > commit_by => {
				T::Devices::record_failure(&device);
				T::Devices::mark_idle(&device);
				if now >= info.deadline {
					Self::expire(job, &info);
				} else {
					info.status = JobStatus::Submitted;
					Jobs::<T>::insert(job, info);
					Self::deposit_event(Event::JobUnassigned { job, device });
				}
			}
			JobStatus::Committed { device, reveal_by, .. } if now > reveal_by => {
				// Failing cannot leave funds stuck: errors here would only come from a broken
				// hold invariant, which `try_state` checks.
				let _ = Self::fail(job, info, device, FailureReason::LateReveal);
			}
			_ => {}
		}
	}

	/// Releases the client's whole budget.
	pub(crate) fn release_budget(info: &JobOf<T>) -> DispatchResult {
		T::Currency::release(
			&HoldReason::JobBudget.into(),
			&info.client,
			info.budget,
			Precision::BestEffort,
		)?;
		Ok(())
	}

	/// Ends a job nobody did: full refund.
	fn expire(job: JobId, info: &JobOf<T>) {
		let _ = Self::release_budget(info);
		Jobs::<T>::remove(job);
		Self::deposit_event(Event::JobExpired { job });
	}

	/// Moves `amount` of the client's held budget to `to`'s free balance.
	fn pay_from_budget(
		info: &JobOf<T>,
		to: &T::AccountId,
		amount: BalanceOf<T>,
	) -> Result<BalanceOf<T>, DispatchError> {
		if amount.is_zero() {
			return Ok(amount);
		}
		T::Currency::transfer_on_hold(
			&HoldReason::JobBudget.into(),
			&info.client,
			to,
			amount,
			Precision::Exact,
			Restriction::Free,
			Fortitude::Force,
		)
	}

	/// A verified job: the provider gets `units × price` less the protocol fee, the treasury
	/// the fee, the client the rest of its budget.
	pub(crate) fn settle(
		job: JobId,
		info: JobOf<T>,
		device: T::AccountId,
		price: BalanceOf<T>,
	) -> DispatchResult {
		let provider = T::Devices::owner_of(&device).ok_or(Error::<T>::NotAssignedDevice)?;
		// `price ≤ price_cap`, so this never exceeds the budget; `min` keeps it so regardless.
		let payment = price
			.saturating_mul(BalanceOf::<T>::unique_saturated_from(info.units))
			.min(info.budget);
		let fee = T::ProtocolFee::get() * payment;
		let to_provider = payment.saturating_sub(fee);
		Self::pay_from_budget(&info, &provider, to_provider)?;
		// If the treasury cannot receive the fee (e.g. below the existential deposit), the fee
		// goes back to the client with the rest rather than being lost.
		let fee = match Self::pay_from_budget(&info, &T::Treasury::get(), fee) {
			Ok(paid) => paid,
			Err(_) => Zero::zero(),
		};
		let refund = T::Currency::release(
			&HoldReason::JobBudget.into(),
			&info.client,
			info.budget.saturating_sub(to_provider).saturating_sub(fee),
			Precision::BestEffort,
		)?;
		T::Devices::record_success(&device);
		T::Devices::mark_idle(&device);
		T::OnWorkVerified::on_work_verified(&provider, info.units);
		Jobs::<T>::remove(job);
		Self::deposit_event(Event::JobSettled {
			job,
			device,
			provider,
			payment: to_provider,
			fee,
			refund,
		});
		Ok(())
	}

	/// A failed job: the client gets its budget back plus compensation from the device's
	/// slashed bond; the treasury gets the rest of the slash.
	pub(crate) fn fail(
		job: JobId,
		info: JobOf<T>,
		device: T::AccountId,
		reason: FailureReason,
	) -> DispatchResult {
		Self::release_budget(&info)?;
		let slash = T::SlashFraction::get() * T::Devices::bond_of(&device).unwrap_or_default();
		let compensation_share = T::CompensationFraction::get();
		let slashed = T::Devices::slash(
			&device,
			slash,
			&[
				(info.client.clone(), compensation_share),
				(T::Treasury::get(), compensation_share.left_from_one()),
			],
		)
		.unwrap_or_default();
		T::Devices::record_failure(&device);
		T::Devices::mark_idle(&device);
		Jobs::<T>::remove(job);
		Self::deposit_event(Event::JobFailed {
			job,
			device,
			reason,
			slashed,
			compensation: compensation_share * slashed,
		});
		Ok(())
	}

	/// Money invariant: each client's held budgets equal the budgets of its open jobs.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::{ensure, traits::fungible::hold::Inspect};

		let mut budgets: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		for (_, job) in Jobs::<T>::iter() {
			let sum = budgets.entry(job.client.clone()).or_insert_with(Zero::zero);
			*sum = sum.saturating_add(job.budget);
		}
		for (client, expected) in budgets {
			let held = T::Currency::balance_on_hold(&HoldReason::JobBudget.into(), &client);
			ensure!(held == expected, "held job budgets differ from the open jobs' budgets");
		}
		Ok(())
	}
}

/// Queries for the runtime API (off-chain reads; they may iterate the open jobs).
impl<T: Config> Pallet<T> {
	/// The open jobs assigned to `device`.
	pub fn jobs_for_device(device: &T::AccountId) -> alloc::vec::Vec<(JobId, JobOf<T>)> {
		Jobs::<T>::iter()
			.filter(|(_, job)| match &job.status {
				JobStatus::Assigned { device: d, .. } | JobStatus::Committed { device: d, .. } => {
					d == device
				}
				JobStatus::Submitted => false,
			})
			.collect()
	}

	/// The challenge of committed job `id`, once the hash of its challenge block is stored.
	pub fn challenge_of(id: JobId) -> Option<alloc::vec::Vec<u64>> {
		use pallet_compute_proof::ComputeVerifier;
		let job = Jobs::<T>::get(id)?;
		let JobStatus::Committed { root, challenge_block, .. } = job.status else { return None };
		// A block's hash is stored when the next block starts.
		if frame_system::Pallet::<T>::block_number() <= challenge_block {
			return None;
		}
		let block_hash = frame_system::Pallet::<T>::block_hash(challenge_block);
		Some(T::Verifier::challenge(id, &job.spec, &root, &block_hash))
	}
}
