//! `try_state`: the pallet's books, checked after every test and by `try-runtime`.

use super::*;

impl<T: Config> Pallet<T> {
	/// Money invariants: each client's held budgets equal those of its open jobs, its held
	/// deposits their deposits and unburned call fees, and each device's locked collateral
	/// equals the collateral of its open jobs.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::traits::fungible::hold::Inspect;

		let mut budgets: BTreeMap<T::AccountId, (BalanceOf<T>, BalanceOf<T>)> = BTreeMap::new();
		let mut collateral: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		for (_, job) in Jobs::<T>::iter() {
			let sum = budgets.entry(job.client.clone()).or_default();
			sum.0 = sum.0.saturating_add(job.budget);
			sum.1 = sum.1.saturating_add(job.deposit).saturating_add(job.call_fee);
			match &job.status {
				JobStatus::Assigned { device, collateral: c, .. }
				| JobStatus::Committed { device, collateral: c, .. }
				| JobStatus::Verified { device, collateral: c, .. } => {
					let locked = collateral.entry(device.clone()).or_default();
					*locked = locked.saturating_add(*c);
				}
				JobStatus::Submitted => {}
			}
		}
		for (client, (budget, deposit)) in budgets {
			let held = T::Currency::balance_on_hold(&HoldReason::JobBudget.into(), &client);
			ensure!(held == budget, "held job budgets differ from the open jobs' budgets");
			let held = T::Currency::balance_on_hold(&HoldReason::JobDeposit.into(), &client);
			ensure!(held == deposit, "held job deposits differ from the open jobs' deposits");
		}
		for (device, locked) in &collateral {
			ensure!(
				T::Devices::locked_of(device) == Some(*locked),
				"a device's locked collateral differs from its open jobs' collateral"
			);
		}
		let waiting: alloc::collections::btree_set::BTreeSet<JobId> = Jobs::<T>::iter()
			.filter(|(_, job)| job.status == JobStatus::Submitted)
			.map(|(id, job)| {
				ensure!(
					OpenJobs::<T>::contains_key(Self::open_key(&job), id),
					"a waiting job is missing from the open-job index"
				);
				Ok(id)
			})
			.collect::<Result<_, sp_runtime::TryRuntimeError>>()?;
		ensure!(
			OpenJobs::<T>::iter_keys().count() == waiting.len(),
			"the open-job index lists jobs that are not waiting"
		);
		for (kernel, bucket, count) in OpenJobCount::<T>::iter() {
			ensure!(
				count > 0 && OpenJobs::<T>::iter_prefix((kernel, bucket)).count() == count as usize,
				"an open-job bucket count is wrong"
			);
		}
		let oldest = OldestChallenge::<T>::get();
		ensure!(
			ChallengeRandomness::<T>::iter_keys().all(|block| block >= oldest),
			"challenge randomness is kept behind its clean-up cursor"
		);
		// The device index lists exactly the jobs assigned to each device.
		for (device, jobs) in DeviceJobs::<T>::iter() {
			ensure!(!jobs.is_empty(), "empty device job list kept in storage");
			for job in jobs.iter() {
				ensure!(
					Jobs::<T>::get(job).is_some_and(|info| matches!(
						&info.status,
						JobStatus::Assigned { device: d, .. } | JobStatus::Committed { device: d, .. }
							if *d == device
					)),
					"the device job index lists a job not assigned to that device"
				);
			}
		}
		for (device, job, _) in crate::Demands::<T>::iter() {
			ensure!(
				Jobs::<T>::get(job).is_some_and(|info| matches!(
					&info.status,
					JobStatus::Verified { device: d, .. } if *d == device
				)),
				"a data demand is open on a job that is not verified by that device"
			);
		}
		// Verified jobs have left their device's index (the device's work is done).
		let assigned = Jobs::<T>::iter_values()
			.filter(|job| {
				matches!(job.status, JobStatus::Assigned { .. } | JobStatus::Committed { .. })
			})
			.count();
		let indexed: usize = DeviceJobs::<T>::iter_values().map(|jobs| jobs.len()).sum();
		ensure!(assigned == indexed, "an assigned job is missing from the device job index");
		Ok(())
	}
}
