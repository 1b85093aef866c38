//! The jobs pallet's calls: each checks (`impls/checks.rs`) and hands on to the impls by role
//! (`impls/settlement.rs`, `impls/deadlines.rs`, …). A section of the pallet
//! (`#[pallet_section]`), imported by `lib.rs` into `pallet`, whose imports it uses.

use frame_support::pallet_macros::pallet_section;

#[pallet_section]
mod calls {
	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Post a job: hold `units × price_cap`, the [`Config::JobDeposit`] and the call fee
		/// from the caller. The job waits for a device until block `deadline` at the latest.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::submit_job())]
		pub fn submit_job(
			origin: OriginFor<T>,
			spec: JobSpec,
			price_cap: BalanceOf<T>,
			deadline: BlockNumberFor<T>,
		) -> DispatchResult {
			let client = ensure_signed(origin)?;
			let mut spec = spec;
			spec.shape.validate().map_err(|_| Error::<T>::InvalidShape)?;
			Self::check_inputs(&spec)?;
			ensure!(
				T::Verifier::reveal_bytes(&spec) <= T::Verifier::max_reveal_bytes(),
				Error::<T>::RevealTooLarge
			);
			ensure!(
				Self::reveal_call_weight(&spec).all_lte(T::MaxRevealWeight::get()),
				Error::<T>::RevealTooHeavy
			);
			// A job smaller than `MinWorkUnits` is billed as that much: a tiny layer is still
			// worth running, and costs what the smallest job costs.
			let units = Self::work_units(spec.ops()).max(T::MinWorkUnits::get());
			ensure!(units <= T::MaxWorkUnits::get(), Error::<T>::TooMuchWork);
			ensure!(price_cap >= T::MinPricePerUnit::get(), Error::<T>::PriceTooLow);
			let budget = price_cap
				.checked_mul(&BalanceOf::<T>::unique_saturated_from(units))
				.ok_or(Error::<T>::Overflow)?;
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(
				deadline > now && deadline <= now.saturating_add(T::MaxJobLifetime::get()),
				Error::<T>::BadDeadline
			);

			let job = NextJobId::<T>::get();
			let deposit = T::JobDeposit::get();
			let call_fee = T::CallFee::convert(Self::device_calls_weight(&spec));
			T::Currency::hold(&HoldReason::JobBudget.into(), &client, budget)?;
			T::Currency::hold(
				&HoldReason::JobDeposit.into(),
				&client,
				deposit.saturating_add(call_fee),
			)?;
			// Held until the job ends, so that its owner cannot remove it under the job.
			if let Some((model, _)) = spec.model() {
				<T::Models as proofgrid_primitives::traits::ModelRegistry>::acquire(model)?;
			}
			// A full queue only means the expiry waits for `expire` or a claim attempt.
			Self::schedule(Queue::Client, deadline, job);
			if let JobInputs::Seeded { seed } = &mut spec.inputs {
				*seed = effective_seed(seed, job, &client.encode());
			}
			NextJobId::<T>::put(job.saturating_add(1));
			let info = Job {
				client: client.clone(),
				spec,
				price_cap,
				units,
				budget,
				deposit,
				call_fee,
				fee_paid: Zero::zero(),
				deadline,
				abandoned: Default::default(),
				status: JobStatus::Submitted,
			};
			Self::list_open(job, &info);
			Jobs::<T>::insert(job, info);
			Self::deposit_event(Event::JobSubmitted {
				job,
				client,
				units,
				budget,
				deposit,
				call_fee,
				deadline,
			});
			Ok(())
		}

		/// Withdraw a job no device has claimed yet; its budget and deposit are released.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::cancel())]
		pub fn cancel(origin: OriginFor<T>, job: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let info = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
			ensure!(info.client == who, Error::<T>::NotClient);
			ensure!(info.status == JobStatus::Submitted, Error::<T>::WrongState);
			Self::release_client_funds(&info);
			Self::unlist_open(job, &info);
			Self::release_model(&info);
			Jobs::<T>::remove(job);
			Self::deposit_event(Event::JobCancelled { job });
			Ok(())
		}

		/// Signed by a device key: take a waiting job, locking its collateral from the device's
		/// free bond. Free, and admitted to the pool only when it would succeed; a device has one
		/// claim in the pool at a time.
		///
		/// A seeded job's inputs are bound to the hash of the claim's *basis*: the block
		/// `basis = (number, hash)` names, which must be one of this chain's last
		/// [`Config::MaxClaimBasisAge`] blocks ([`Error::BadClaimBasis`] otherwise, without
		/// penalty), or the claim's parent if `None`. A named basis keeps the inputs the device
		/// computes the same when a reorg re-includes the claim under another parent.
		#[pallet::call_index(2)]
		#[pallet::weight((T::WeightInfo::claim(), DispatchClass::Operational, Pays::No))]
		pub fn claim(
			origin: OriginFor<T>,
			job: JobId,
			basis: Option<(BlockNumberFor<T>, H256)>,
		) -> DispatchResult {
			let device = ensure_signed(origin)?;
			let (mut info, plan) = Self::check_claim(&device, job)?;
			let basis = Self::check_claim_basis(basis)?;
			DeviceJobs::<T>::try_mutate(&device, |jobs| jobs.try_push(job))
				.map_err(|_| Error::<T>::TooManyJobs)?;
			T::Devices::lock_collateral(&device, plan.collateral)?;
			Self::unlist_open(job, &info);
			let call_fee_burned = Self::burn_call_fee(&mut info);
			if let JobInputs::Seeded { seed } = &mut info.spec.inputs {
				*seed = claim_seed(seed, &basis.0);
			}
			Self::schedule(Queue::Protocol, plan.commit_by.saturating_add(One::one()), job);
			info.status = JobStatus::Assigned {
				device: device.clone(),
				price: plan.price,
				collateral: plan.collateral,
				claimed_at: frame_system::Pallet::<T>::block_number(),
				commit_by: plan.commit_by,
				inputs_received: false,
			};
			Jobs::<T>::insert(job, info);
			Self::deposit_event(Event::JobAssigned {
				job,
				device,
				price: plan.price,
				collateral: plan.collateral,
				call_fee_burned,
				commit_by: plan.commit_by,
			});
			Ok(())
		}

		/// Signed by the assigned device: commit the Merkle root of the whole output. Free, and
		/// admitted to the pool only when it would succeed.
		#[pallet::call_index(3)]
		#[pallet::weight((T::WeightInfo::commit(), DispatchClass::Operational, Pays::No))]
		pub fn commit(origin: OriginFor<T>, job: JobId, root: H256) -> DispatchResult {
			let device = ensure_signed(origin)?;
			let mut info = Self::check_commit(&device, job)?;
			let JobStatus::Assigned { device, price, collateral, claimed_at, .. } =
				info.status.clone()
			else {
				return Err(Error::<T>::WrongState.into());
			};
			let now = frame_system::Pallet::<T>::block_number();
			let challenge_block = now.saturating_add(T::ChallengeDelay::get());
			let reveal_by = challenge_block.saturating_add(T::RevealWindow::get());
			Self::schedule(Queue::Protocol, reveal_by.saturating_add(One::one()), job);
			info.status = JobStatus::Committed {
				device,
				price,
				collateral,
				claimed_at,
				committed_at: now,
				root,
				challenge_block,
				reveal_by,
			};
			Jobs::<T>::insert(job, info);
			Self::deposit_event(Event::JobCommitted { job, root, challenge_block, reveal_by });
			Ok(())
		}

		/// Signed by the assigned device: answer the challenge of block `challenge_hash` with
		/// the job's kind of [`Reveal`] — the Merkle paths of the challenged leaves of a seeded
		/// job; each challenged leaf with the row of `A` and column of `B` behind its element
		/// for a job on supplied inputs; each challenged element's output row, row of `A`,
		/// column of `W` and bias for a `linear-i8` layer. The chain checks the paths and
		/// recomputes the elements ([`Config::Verifier`]): a seeded job then settles; a job on
		/// supplied inputs or a layer settles at the end of its dispute window
		/// ([`Config::DisputeWindow`]; a layer's output then stays on chain for later layers,
		/// [`LayerOutputs`]). If they do not match, the job fails with a slash. A reveal for
		/// another block than this chain's challenge block changes nothing
		/// ([`Error::WrongChallengeBlock`]); one of another kind than the job's is refused.
		/// `k_dim_witness` must be the job's inner dimension; with the reveal's samples and rows
		/// it prices the verification. Free, and admitted to the pool only in the reveal window.
		#[pallet::call_index(4)]
		#[pallet::weight((
			T::WeightInfo::reveal()
				.saturating_add(T::Verifier::verify_weight(
					reveal.kind(),
					reveal.samples(),
					*k_dim_witness,
					reveal.row_len(),
					reveal.taps(),
				))
				.saturating_add(<T::OnWorkVerified as OnWorkVerified<_, _>>::weight()),
			DispatchClass::Operational,
			Pays::No
		))]
		pub fn reveal(
			origin: OriginFor<T>,
			job: JobId,
			challenge_hash: H256,
			reveal: Reveal,
			k_dim_witness: u32,
		) -> DispatchResult {
			let device = ensure_signed(origin)?;
			let (info, root, randomness) =
				Self::check_reveal(&device, job, &challenge_hash, k_dim_witness, reveal.kind())?;
			let verdict = T::Verifier::verify(job, &info.spec, &root, &randomness, &reveal);
			Self::conclude_reveal(job, info, verdict)
		}

		/// Anyone: enforce a deadline of `job` that has passed (expiry of a waiting job, a
		/// missed commit window, a missed reveal). Deadlines are enforced automatically when
		/// their block's queue had room; this is the fallback when it had not. Free when it
		/// enforces something; fails and pays otherwise.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::expire())]
		pub fn expire(origin: OriginFor<T>, job: JobId) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(Self::is_due(job, now)?, Error::<T>::NotDue);
			Self::process_deadline(job, now);
			Ok(Pays::No.into())
		}

		/// Signed by the assigned device of a job on supplied inputs, until it commits: give the
		/// job back. The collateral is unlocked, the device may not claim the job again (as for
		/// a missed window) nor any job for [`Config::ReleaseCooldown`], and the job waits for
		/// another device — or ends with a full refund once [`MAX_ABANDONS_PER_JOB`] devices
		/// gave it up.
		///
		/// - Before the client confirmed the inputs' arrival ([`Pallet::confirm_inputs`]), from
		///   [`Config::InputWindow`] blocks after the claim: free. The inputs did not arrive (no
		///   upload, an unreachable URL, bytes that do not match the commitment) and the chain
		///   cannot tell whose fault that is.
		/// - Once it confirmed them, at any time: the device forfeits, as for a missed commit
		///   window, the claim deposit or the call fee the client paid if that is more (at most
		///   the collateral), which repays the client's call fee; the rest is burned.
		///
		/// Free, and admitted to the pool only when it would succeed.
		#[pallet::call_index(7)]
		// A release after confirmed inputs forfeits part of the collateral: `expire`'s measured
		// slash bounds it.
		#[pallet::weight((
			T::WeightInfo::release().max(T::WeightInfo::expire()),
			DispatchClass::Operational,
			Pays::No
		))]
		pub fn release(origin: OriginFor<T>, job: JobId) -> DispatchResult {
			let device = ensure_signed(origin)?;
			let info = Self::check_release(&device, job)?;
			let JobStatus::Assigned { collateral, inputs_received, .. } = info.status else {
				return Err(Error::<T>::WrongState.into());
			};
			let why = if inputs_received { GiveBack::Released } else { GiveBack::NoInputs };
			Self::give_back(job, info, device, collateral, why);
			Ok(())
		}

		/// The client of an assigned job on supplied inputs: show that its inputs reached the
		/// device, with the device's `receipt` — its signature of
		/// [`inputs_receipt_message`](proofgrid_primitives::inputs::inputs_receipt_message)`
		/// (genesis, job, device)`, which its data service hands out once it holds every input.
		/// From then on the device's [`Pallet::release`] costs it what the job cost the client.
		#[pallet::call_index(13)]
		// Two reads, a write and an sr25519 verification: bounded by `cancel`'s measured weight
		// (five reads and writes, two hold releases), until it has a benchmark of its own.
		#[pallet::weight(T::WeightInfo::cancel())]
		pub fn confirm_inputs(
			origin: OriginFor<T>,
			job: JobId,
			receipt: T::DeviceSignature,
		) -> DispatchResult {
			let client = ensure_signed(origin)?;
			let mut info = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
			ensure!(info.client == client, Error::<T>::NotClient);
			let JobStatus::Assigned { device, inputs_received, .. } = &mut info.status else {
				return Err(Error::<T>::WrongState.into());
			};
			ensure!(!*inputs_received, Error::<T>::InputsAlreadyReceived);
			let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
			let message = proofgrid_primitives::inputs::inputs_receipt_message(
				genesis.as_ref().try_into().map_err(|_| Error::<T>::BadReceipt)?,
				job,
				device.encode().as_slice().try_into().map_err(|_| Error::<T>::BadReceipt)?,
			);
			ensure!(receipt.verify(&message[..], device), Error::<T>::BadReceipt);
			*inputs_received = true;
			let device = device.clone();
			Jobs::<T>::insert(job, info);
			Self::deposit_event(Event::InputsReceived { job, device });
			Ok(())
		}

		/// Anyone (the client, typically, after checking the whole output): prove an element of
		/// a verified job's output wrong, until the end of its dispute window. The
		/// [`Accusation`] names the element and gives what the chain needs to recompute it, each
		/// part with its Merkle path: its leaf and the row of `A` and column of `B` behind it
		/// for a GEMM; its output row, row of `A`, column of `W` and bias for a layer. If it is
		/// wrong the job fails as a failed reveal would: the device's collateral is slashed, the
		/// client refunded and compensated, nobody paid — and the call is free. If it is right
		/// (or the proof proves nothing) the accuser's [`Config::DisputeDeposit`] is burned and
		/// the job goes on. `k_dim_witness` must be the job's inner dimension; with the
		/// accusation's row it prices the verification.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::dispute().saturating_add(T::Verifier::verify_fraud_weight(
			accusation.kind(),
			*k_dim_witness,
			accusation.row_len(),
			accusation.taps(),
		)))]
		pub fn dispute(
			origin: OriginFor<T>,
			job: JobId,
			accusation: Accusation,
			k_dim_witness: u32,
		) -> DispatchResultWithPostInfo {
			let accuser = ensure_signed(origin)?;
			let (info, root) = Self::check_dispute(&accuser, job, k_dim_witness)?;
			let verdict = T::Verifier::verify_fraud(&info.spec, &root, &accusation);
			Self::judge(job, info, accuser, accusation.element(), verdict)
		}

		/// The client of a verified job on supplied inputs or `linear-i8` layer, within its
		/// dispute window: demand that the device publish on chain the leaves (a GEMM output's
		/// 4×4 tiles, a layer output's rows; values and Merkle paths) holding `elements` of the
		/// output, so that the client can prove an element wrong even if the device never
		/// served its output. The device must answer ([`Pallet::publish_data`]) within
		/// [`Config::RevealWindow`] blocks (congested blocks not counted), or the job fails as
		/// for a wrong result. One demand at a time; the settlement waits for the answer, and
		/// disputes are taken for a reveal window after it. One demand per job, so a provider's
		/// payment waits at most two reveal windows longer. The client pays for the answer's
		/// verification in this call's fee. `k_dim_witness` must be the job's `k` (for a layer,
		/// the larger of `k` and `n`, the length of the rows the answer hashes).
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::dispute().saturating_add(
			T::Verifier::verify_fraud_weight(OutputKind::Supplied, *k_dim_witness, 0, 0)
				.max(T::Verifier::verify_fraud_weight(
					OutputKind::Layer,
					*k_dim_witness,
					*k_dim_witness,
					0
				))
				.saturating_mul(elements.len() as u64)
		))]
		pub fn demand_data(
			origin: OriginFor<T>,
			job: JobId,
			elements: proofgrid_primitives::job::DemandedElements,
			k_dim_witness: u32,
		) -> DispatchResult {
			let client = ensure_signed(origin)?;
			let (device, answer_by) = Self::check_demand(&client, job, &elements, k_dim_witness)?;
			Demands::<T>::insert(
				&device,
				job,
				Demand {
					elements: elements.clone(),
					answer_by,
					congested_before: CongestedBlocks::<T>::get(),
					answered: false,
				},
			);
			Self::schedule(Queue::Protocol, answer_by.saturating_add(One::one()), job);
			Self::deposit_event(Event::DataDemanded { job, device, elements, answer_by });
			Ok(())
		}

		/// Signed by the device of a job with an open data-availability demand: publish the
		/// leaf of each demanded element with its path to the committed root, in the demand's
		/// order. If they prove against the root, the demand is met and fraud proofs are taken
		/// for [`Config::RevealWindow`] blocks more; otherwise the job fails as for a wrong
		/// result. Free, and admitted to the pool only while the demand is open.
		#[pallet::call_index(12)]
		#[pallet::weight((
			T::WeightInfo::reveal().saturating_add(Pallet::<T>::answer_weight(leaves)),
			DispatchClass::Operational,
			Pays::No
		))]
		pub fn publish_data(
			origin: OriginFor<T>,
			job: JobId,
			leaves: proofgrid_primitives::job::DataAnswer,
		) -> DispatchResult {
			let device = ensure_signed(origin)?;
			let (info, demand) = Self::check_publish(&device, job)?;
			Self::conclude_demand(job, info, device, demand, leaves)
		}
	}
}
