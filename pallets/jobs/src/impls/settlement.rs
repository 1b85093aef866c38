//! Where money moves: concluded reveals and data demands, judged disputes, settlement,
//! failure, give-backs and expiry, and the open-job lists a claim reads.

use super::*;

impl<T: Config> Pallet<T> {
	/// The outcome of a dispute whose fraud proof of `element` the verifier judged `verdict`:
	/// upheld, the job fails and the call is free; refused, the accuser's deposit is burned.
	pub(crate) fn judge(
		job: JobId,
		info: JobOf<T>,
		accuser: T::AccountId,
		(row, col): (u32, u32),
		verdict: DispatchResult,
	) -> DispatchResultWithPostInfo {
		match verdict {
			Ok(()) => {
				Self::fail(job, info, FailureReason::FraudProven { row, col });
				Ok(Pays::No.into())
			}
			Err(reason) => {
				let burned = T::Currency::burn_from(
					&accuser,
					T::DisputeDeposit::get(),
					Preservation::Preserve,
					Precision::Exact,
					Fortitude::Polite,
				)?;
				SlashesBurned::<T>::mutate(|b| *b = b.saturating_add(burned));
				Self::deposit_event(Event::DisputeRejected {
					job,
					accuser,
					reason,
					deposit_burned: burned,
				});
				Ok(Pays::Yes.into())
			}
		}
	}

	/// The end of a demand answered with `leaves`: met if they prove against the committed root
	/// (disputes are then taken a reveal window longer), the job fails otherwise.
	pub(crate) fn conclude_demand(
		job: JobId,
		mut info: JobOf<T>,
		device: T::AccountId,
		demand: crate::Demand<BlockNumberFor<T>>,
		leaves: proofgrid_primitives::job::DataAnswer,
	) -> DispatchResult {
		crate::Demands::<T>::insert(
			&device,
			job,
			crate::Demand { answered: true, ..demand.clone() },
		);
		let JobStatus::Verified { root, dispute_until, .. } = &mut info.status else {
			return Err(Error::<T>::WrongState.into());
		};
		let kind = info.spec.output_kind().ok_or(Error::<T>::WrongState)?;
		let answered = match Self::model_plan(&info.spec) {
			Some(plan) => proofgrid_primitives::model_proof::check_model_data_answer(
				&plan,
				root,
				&demand.elements,
				&leaves,
			),
			None => proofgrid_primitives::job::check_data_answer(
				kind,
				&info.spec.shape,
				&root.0,
				&demand.elements,
				&leaves,
			),
		};
		if answered.is_err() {
			Self::fail(job, info, FailureReason::DataWithheld);
			return Ok(());
		}
		// Time to build and send a fraud proof from the published leaves.
		let until =
			frame_system::Pallet::<T>::block_number().saturating_add(T::RevealWindow::get());
		if until > *dispute_until {
			*dispute_until = until;
			Self::schedule(Queue::Protocol, until.saturating_add(One::one()), job);
		}
		let dispute_until = *dispute_until;
		Jobs::<T>::insert(job, info);
		Self::deposit_event(Event::DataPublished {
			job,
			elements: demand.elements,
			leaves,
			dispute_until,
		});
		Ok(())
	}

	/// Keeps the output of settled `linear-i8` job `job` for [`Config::OutputRetention`]
	/// blocks, for later jobs to take as their `A`.
	pub(super) fn keep_layer_output(
		job: JobId,
		info: &JobOf<T>,
		device: &T::AccountId,
		root: H256,
	) {
		if info.spec.output_kind() != Some(OutputKind::Layer) {
			return;
		}
		let kept_until =
			frame_system::Pallet::<T>::block_number().saturating_add(T::OutputRetention::get());
		// A full queue only means the record waits for `expire` to remove it.
		Self::schedule(Queue::Protocol, kept_until.saturating_add(One::one()), job);
		LayerOutputs::<T>::insert(
			job,
			LayerOutput {
				commitment: output_commitment(&info.spec.shape, root),
				device: device.clone(),
				kept_until,
			},
		);
	}

	/// Burns the job's call fee from the client's deposit hold (once: a re-claim after an
	/// abandonment costs the client nothing more), and records it as paid. Returns what was
	/// burned.
	pub(crate) fn burn_call_fee(info: &mut JobOf<T>) -> BalanceOf<T> {
		let fee = core::mem::take(&mut info.call_fee);
		let burned = T::Currency::burn_held(
			&HoldReason::JobDeposit.into(),
			&info.client,
			fee,
			Precision::BestEffort,
			Fortitude::Force,
		)
		.unwrap_or_default();
		FeesBurned::<T>::mutate(|b| *b = b.saturating_add(burned));
		info.fee_paid = info.fee_paid.saturating_add(burned);
		burned
	}

	/// The end of a reveal the verifier judged `verdict`: a seeded job settles, a job on
	/// supplied inputs (a GEMM or a layer) is verified and waits out its dispute window; a
	/// refused reveal fails the job, with a slash.
	pub(crate) fn conclude_reveal(
		job: JobId,
		info: JobOf<T>,
		verdict: DispatchResult,
	) -> DispatchResult {
		match verdict {
			Ok(()) if info.spec.output_kind() == Some(OutputKind::Seeded) => {
				Self::settle(job, info)
			}
			Ok(()) => Self::open_dispute_window(job, info),
			Err(error) => {
				Self::fail(job, info, FailureReason::BadProof(error));
				Ok(())
			}
		}
	}

	/// Releases the client's budget, storage deposit and call fee if still held. Releasing what
	/// `submit_job` held cannot fail while the hold invariants (`try_state`) hold.
	/// A model job ended: its model may be removed once no other job holds it.
	pub(crate) fn release_model(info: &JobOf<T>) {
		if let Some((model, _)) = info.spec.model() {
			T::Models::release(model);
		}
	}

	pub(crate) fn release_client_funds(info: &JobOf<T>) {
		let _ = T::Currency::release(
			&HoldReason::JobBudget.into(),
			&info.client,
			info.budget,
			Precision::BestEffort,
		);
		let _ = T::Currency::release(
			&HoldReason::JobDeposit.into(),
			&info.client,
			info.deposit.saturating_add(info.call_fee),
			Precision::BestEffort,
		);
	}

	/// Slashes `amount` of `device`'s free bond: the client gets at most `cap` (what the
	/// failure cost it), the rest is burned. Returns `(slashed, compensation)`.
	pub(super) fn forfeit(
		device: &T::AccountId,
		client: &T::AccountId,
		amount: BalanceOf<T>,
		cap: BalanceOf<T>,
	) -> (BalanceOf<T>, BalanceOf<T>) {
		let (slashed, compensation) =
			T::Devices::slash(device, amount, client, cap).unwrap_or_default();
		SlashesBurned::<T>::mutate(|b| *b = b.saturating_add(slashed.saturating_sub(compensation)));
		(slashed, compensation)
	}

	/// Removes `job` from `device`'s job index (the job ended or went back to the market).
	pub(super) fn forget_device_job(device: &T::AccountId, job: JobId) {
		DeviceJobs::<T>::mutate_exists(device, |jobs| {
			if let Some(list) = jobs {
				list.retain(|j| *j != job);
				if list.is_empty() {
					*jobs = None;
				}
			}
		});
	}

	/// The assigned device gives the job up, for reason `why`. Unless its inputs never
	/// arrived, it forfeits the claim deposit or the call fee its client paid if that is more
	/// (at most its collateral): the client gets its call fee back, no more, so nobody profits
	/// from a device giving up; the rest is burned. Either way it may not claim the job again
	/// nor any job for the release cooldown; the job waits for another device, or ends if it is
	/// past its deadline or `MAX_ABANDONS_PER_JOB` devices have given it up.
	pub(crate) fn give_back(
		job: JobId,
		mut info: JobOf<T>,
		device: T::AccountId,
		collateral: BalanceOf<T>,
		why: GiveBack,
	) {
		T::Devices::release_slot(&device);
		T::Devices::unlock_collateral(&device, collateral);
		Self::forget_device_job(&device, job);
		let now = frame_system::Pallet::<T>::block_number();
		ClaimsPausedUntil::<T>::insert(
			&device,
			now.saturating_add(crate::ReleaseCooldownBlocks::<T>::get()),
		);
		let mut forfeited = Zero::zero();
		if why != GiveBack::NoInputs {
			let amount = T::ClaimDeposit::get().max(info.fee_paid).min(collateral);
			let (slashed, compensation) =
				Self::forfeit(&device, &info.client, amount, info.fee_paid);
			info.fee_paid = info.fee_paid.saturating_sub(compensation);
			forfeited = slashed;
		}
		match why {
			GiveBack::Missed => {
				T::Devices::record_failure(&device);
				Self::deposit_event(Event::JobUnassigned {
					job,
					device: device.clone(),
					forfeited,
				});
			}
			GiveBack::NoInputs | GiveBack::Released => {
				Self::deposit_event(Event::JobReleased { job, device: device.clone(), forfeited })
			}
		}
		let _ = info.abandoned.try_push(device);
		if now >= info.deadline || info.abandoned.is_full() {
			Self::expire_job(job, &info);
		} else {
			info.status = JobStatus::Submitted;
			Self::list_open(job, &info);
			Jobs::<T>::insert(job, info);
		}
	}

	/// The [`OpenJobs`] bucket of a job.
	pub(super) fn open_key(info: &JobOf<T>) -> (Kernel, u8) {
		(info.spec.requirements.kernel, price_bucket(info.price_cap.unique_saturated_into()))
	}

	/// Lists waiting job `job` in the open-job index.
	pub(crate) fn list_open(job: JobId, info: &JobOf<T>) {
		let (kernel, bucket) = Self::open_key(info);
		OpenJobs::<T>::insert((kernel, bucket), job, ());
		OpenJobCount::<T>::mutate(kernel, bucket, |count| {
			*count = Some(count.unwrap_or(0).saturating_add(1))
		});
	}

	/// Takes job `job` out of the open-job index (it was claimed or ended).
	pub(crate) fn unlist_open(job: JobId, info: &JobOf<T>) {
		let (kernel, bucket) = Self::open_key(info);
		if OpenJobs::<T>::take((kernel, bucket), job).is_some() {
			OpenJobCount::<T>::mutate(kernel, bucket, |count| {
				*count = count.and_then(|c| c.checked_sub(1)).filter(|c| *c > 0)
			});
		}
	}

	/// Moves `amount` of the client's held budget to `to`'s free balance.
	pub(super) fn pay_from_budget(
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

	/// A job on supplied inputs whose reveal checked out: it waits, verified, for
	/// [`Config::DisputeWindow`] blocks, during which its client checks the whole output and
	/// anyone may prove an element wrong, and settles after (at once if the window is zero).
	/// The device's job slot is freed now (it may take other jobs); its collateral stays locked
	/// until then.
	pub(crate) fn open_dispute_window(job: JobId, mut info: JobOf<T>) -> DispatchResult {
		let JobStatus::Committed {
			device, price, collateral, claimed_at, committed_at, root, ..
		} = info.status.clone()
		else {
			return Err(Error::<T>::WrongState.into());
		};
		let window = crate::DisputeWindowBlocks::<T>::get();
		if window.is_zero() {
			return Self::settle(job, info);
		}
		// Time to download the output too: a block per `InputBytesPerBlock` of its values.
		let output_bytes =
			u64::from(info.spec.shape.m).saturating_mul(info.spec.shape.n.into()).saturating_mul(4);
		let download = output_bytes.div_ceil(T::InputBytesPerBlock::get());
		let window = window.saturating_add(BlockNumberFor::<T>::unique_saturated_from(download));
		let dispute_until = frame_system::Pallet::<T>::block_number().saturating_add(window);
		Self::schedule(Queue::Protocol, dispute_until.saturating_add(One::one()), job);
		T::Devices::release_slot(&device);
		Self::forget_device_job(&device, job);
		info.status = JobStatus::Verified {
			device: device.clone(),
			price,
			collateral,
			claimed_at,
			committed_at,
			root,
			dispute_until,
		};
		Jobs::<T>::insert(job, info);
		Self::deposit_event(Event::JobVerified { job, device, dispute_until });
		Ok(())
	}

	/// A verified job: the provider gets `units × price` less the protocol fee, the fee is
	/// burned, the client gets the rest of its budget and its deposit back.
	pub(crate) fn settle(job: JobId, info: JobOf<T>) -> DispatchResult {
		let (device, price, collateral, claimed_at, committed_at, root) = match info.status.clone()
		{
			JobStatus::Committed {
				device,
				price,
				collateral,
				claimed_at,
				committed_at,
				root,
				..
			}
			| JobStatus::Verified {
				device,
				price,
				collateral,
				claimed_at,
				committed_at,
				root,
				..
			} => (device, price, collateral, claimed_at, committed_at, root),
			_ => return Err(Error::<T>::WrongState.into()),
		};
		let provider = T::Devices::owner_of(&device).ok_or(Error::<T>::NotAssignedDevice)?;
		let payment = Self::job_value(&info, price);
		// Rounded up: a paid job always burns something, so it never earns a reward for free.
		let fee = T::ProtocolFee::get().mul_ceil(payment);
		let to_provider = payment.saturating_sub(fee);
		Self::pay_from_budget(&info, &provider, to_provider)?;
		let fee_burned = T::Currency::burn_held(
			&HoldReason::JobBudget.into(),
			&info.client,
			fee,
			Precision::Exact,
			Fortitude::Force,
		)?;
		FeesBurned::<T>::mutate(|b| *b = b.saturating_add(fee_burned));
		let mut client_funds = info.clone();
		client_funds.budget = info.budget.saturating_sub(to_provider).saturating_sub(fee_burned);
		Self::release_client_funds(&client_funds);

		if matches!(info.status, JobStatus::Committed { .. }) {
			T::Devices::release_slot(&device);
		}
		T::Devices::unlock_collateral(&device, collateral);
		Self::forget_device_job(&device, job);
		crate::Demands::<T>::remove(&device, job);
		let delivered_gops = Self::delivered_gops(&info, claimed_at, committed_at);
		T::Devices::record_success(&device, delivered_gops, to_provider);
		T::OnWorkVerified::on_work_verified(&provider, info.units, fee_burned);
		Self::keep_layer_output(job, &info, &device, root);
		Self::release_model(&info);
		Jobs::<T>::remove(job);
		Self::deposit_event(Event::JobSettled {
			job,
			device,
			provider,
			payment: to_provider,
			fee_burned,
			refund: client_funds.budget,
		});
		Ok(())
	}

	/// Throughput a settled job proves, in GOPS: its operations over the time from the block
	/// before the claim (when its inputs became known) to the commitment. A lower bound: the
	/// device cannot have started earlier, and may have been idle.
	pub(super) fn delivered_gops(
		info: &JobOf<T>,
		claimed_at: BlockNumberFor<T>,
		committed_at: BlockNumberFor<T>,
	) -> u64 {
		// The inputs exist from the claim's basis, at most `MaxClaimBasisAge` blocks before the
		// claim: count from there.
		let started = claimed_at.saturating_sub(T::MaxClaimBasisAge::get());
		let blocks: u128 = committed_at.saturating_sub(started).unique_saturated_into();
		let millis = blocks.max(1).saturating_mul(T::MillisecsPerBlock::get().into());
		// ops / (ms × 10⁶) = giga-operations per second.
		(info.spec.ops() / millis.saturating_mul(1_000_000).max(1)).unique_saturated_into()
	}

	/// A failed job: the client gets its budget and deposit back, and from the device's slashed
	/// collateral the call fee it paid — exactly what the failure cost it, so no client gains
	/// by making a job fail; the rest of the collateral is burned.
	pub(crate) fn fail(job: JobId, info: JobOf<T>, reason: FailureReason) {
		let (JobStatus::Committed { device, collateral, .. }
		| JobStatus::Verified { device, collateral, .. }) = info.status.clone()
		else {
			return;
		};
		Self::release_client_funds(&info);
		if matches!(info.status, JobStatus::Committed { .. }) {
			T::Devices::release_slot(&device);
		}
		crate::Demands::<T>::remove(&device, job);
		T::Devices::unlock_collateral(&device, collateral);
		Self::forget_device_job(&device, job);
		let (slashed, compensation) =
			Self::forfeit(&device, &info.client, collateral, info.fee_paid);
		T::Devices::record_failure(&device);
		Self::release_model(&info);
		Jobs::<T>::remove(job);
		Self::deposit_event(Event::JobFailed { job, device, reason, slashed, compensation });
	}
}
