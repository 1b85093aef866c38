//! The checks behind each call: a call and the pool's [`CheckDeviceCall`](crate::CheckDeviceCall)
//! run the same code, so a transaction the call would refuse never enters a block.

use super::*;

impl<T: Config> Pallet<T> {
	/// Every check of a job's kernel and inputs at submission: the kernel takes these inputs,
	/// the commitments make the shape, the sources and the sample count are usable, a layer's
	/// requantization is valid and its rows fit a lane, and an `A` taken from an earlier job
	/// is that job's kept output.
	pub(crate) fn check_inputs(spec: &JobSpec) -> DispatchResult {
		use proofgrid_primitives::traits::ComputeVerifier;
		ensure!(spec.output_kind().is_some(), Error::<T>::KernelMismatch);
		let (matrices, a, b, samples) = match &spec.inputs {
			JobInputs::Seeded { .. } => return Ok(()),
			JobInputs::Model { .. } => return Self::check_model_inputs(spec),
			JobInputs::Supplied { matrices, a, b, samples, .. } => (matrices, a, b, samples),
			JobInputs::Layer { matrices, a, b, bias, layer, samples, .. } => {
				layer.requant.validate().map_err(|_| Error::<T>::BadRequant)?;
				ensure!(spec.shape.n <= MAX_K, Error::<T>::LayerTooWide);
				ensure!(
					bias.is_valid() && !matches!(bias, InputSource::Job(_)),
					Error::<T>::BadInputSource
				);
				(matrices, a, b, samples)
			}
		};
		ensure!(matrices.shape() == Ok(spec.shape), Error::<T>::InputsMismatch);
		// Only `A` can be an earlier output: a layer's rows are the next layer's rows.
		ensure!(
			a.is_valid() && b.is_valid() && !matches!(b, InputSource::Job(_)),
			Error::<T>::BadInputSource
		);
		ensure!(
			(T::Verifier::min_supplied_samples()..=MAX_SUPPLIED_SAMPLES).contains(samples),
			Error::<T>::BadSampleCount
		);
		if let InputSource::Job(earlier) = a {
			let output = LayerOutputs::<T>::get(earlier).ok_or(Error::<T>::UnknownChainedOutput)?;
			ensure!(output.commitment == matrices.a, Error::<T>::ChainedInputMismatch);
		}
		Ok(())
	}

	/// A model job's plan on its batch, `None` for other jobs (or a model that no longer plans,
	/// which a job holding it cannot meet).
	pub(crate) fn model_plan(
		spec: &JobSpec,
	) -> Option<alloc::vec::Vec<proofgrid_primitives::model::Planned>> {
		let (model, batch) = spec.model()?;
		T::Models::model(model)?.0.plan(batch).ok()
	}

	/// Every check of a model job at submission: its model is registered and plans on the
	/// batch; the spec's shape, operations and output values are the plan's; the batch's
	/// commitment has the plan's rows; its source is an upload or a URL; every layer gets a
	/// sample.
	fn check_model_inputs(spec: &JobSpec) -> DispatchResult {
		use proofgrid_primitives::{
			model_proof::{model_job_shape, model_ops, model_output_values},
			traits::ComputeVerifier,
		};
		let JobInputs::Model { model, batch, input, source, samples, ops, output_values, .. } =
			&spec.inputs
		else {
			return Err(Error::<T>::KernelMismatch.into());
		};
		let (model, _) = T::Models::model(*model).ok_or(Error::<T>::UnknownModel)?;
		let plan = model.plan(*batch).map_err(|_| Error::<T>::ModelMismatch)?;
		let first = plan.first().ok_or(Error::<T>::ModelMismatch)?;
		ensure!(
			spec.shape == model_job_shape(&plan, *batch)
				&& u128::from(*ops) == model_ops(&plan)
				&& *output_values == model_output_values(&plan),
			Error::<T>::ModelMismatch
		);
		ensure!(
			input.lanes == first.input_rows() && input.lane_len == first.input.channels,
			Error::<T>::InputsMismatch
		);
		ensure!(
			source.is_valid() && !matches!(source, InputSource::Job(_)),
			Error::<T>::BadInputSource
		);
		let fewest = T::Verifier::min_supplied_samples().max(plan.len() as u32);
		ensure!((fewest..=MAX_SUPPLIED_SAMPLES).contains(samples), Error::<T>::BadSampleCount);
		Ok(())
	}

	/// Every check of a dispute of `job` by `accuser` with `k_dim_witness`: the job is verified,
	/// its window open, the witness right and the deposit payable. The job and its output root.
	pub(crate) fn check_dispute(
		accuser: &T::AccountId,
		job: JobId,
		k_dim_witness: u32,
	) -> Result<(JobOf<T>, H256), DispatchError> {
		let info = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
		let JobStatus::Verified { root, dispute_until, .. } = info.status.clone() else {
			return Err(Error::<T>::NotDisputable.into());
		};
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now <= dispute_until, Error::<T>::DisputeWindowClosed);
		ensure!(info.spec.shape.k == k_dim_witness, Error::<T>::WrongWitness);
		ensure!(
			T::Currency::reducible_balance(accuser, Preservation::Preserve, Fortitude::Polite)
				>= T::DisputeDeposit::get(),
			Error::<T>::CannotPayDisputeDeposit
		);
		Ok((info, root))
	}

	/// Every check of a data-availability demand of `elements` on `job` by `client`: it is the
	/// job's client, the job a verified GEMM job on supplied inputs in its dispute window with
	/// no open demand, the elements in the output and the witness right. The device and the
	/// answer's deadline.
	pub(crate) fn check_demand(
		client: &T::AccountId,
		job: JobId,
		elements: &[(u32, u32)],
		k_dim_witness: u32,
	) -> Result<(T::AccountId, BlockNumberFor<T>), DispatchError> {
		let info = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
		ensure!(info.client == *client, Error::<T>::NotClient);
		let JobStatus::Verified { device, dispute_until, .. } = &info.status else {
			return Err(Error::<T>::BadDemand.into());
		};
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now <= *dispute_until, Error::<T>::DisputeWindowClosed);
		let shape = &info.spec.shape;
		let witness = match info.spec.output_kind() {
			Some(OutputKind::Supplied) => shape.k,
			// The answer's rows are `n` long: the witness prices their hashing too.
			Some(OutputKind::Layer) | Some(OutputKind::Model) => shape.k.max(shape.n),
			_ => return Err(Error::<T>::BadDemand.into()),
		};
		ensure!(witness == k_dim_witness, Error::<T>::WrongWitness);
		// A model job's elements are rows `(layer, row)` of its layers' outputs.
		let inside = match Self::model_plan(&info.spec) {
			Some(plan) => elements.iter().all(|&(layer, row)| {
				plan.get(layer as usize).is_some_and(|planned| row < planned.rows())
			}),
			None => elements.iter().all(|(r, c)| *r < shape.m && *c < shape.n),
		};
		ensure!(!elements.is_empty() && inside, Error::<T>::BadDemand);
		ensure!(!crate::Demands::<T>::contains_key(device, job), Error::<T>::DemandPending);
		Ok((device.clone(), now.saturating_add(T::RevealWindow::get())))
	}

	/// The weight of checking a data-availability answer: a path per leaf, and for a layer's
	/// rows the hashing of each row.
	pub(crate) fn answer_weight(leaves: &proofgrid_primitives::job::DataAnswer) -> Weight {
		use proofgrid_primitives::{job::PublishedLeaf, traits::ComputeVerifier};
		leaves
			.iter()
			.map(|leaf| match leaf {
				PublishedLeaf::Tile { .. } => {
					T::Verifier::verify_fraud_weight(OutputKind::Supplied, 0, 0, 0)
				}
				PublishedLeaf::Row { values, .. } | PublishedLeaf::LayerRow { values, .. } => {
					T::Verifier::verify_fraud_weight(OutputKind::Layer, 0, values.len() as u32, 0)
				}
			})
			.fold(Weight::zero(), Weight::saturating_add)
	}

	/// Every check of `publish_data(job, _)` by `device`: an open demand on `job` for it, in
	/// time. The job and the demand.
	pub(crate) fn check_publish(
		device: &T::AccountId,
		job: JobId,
	) -> Result<(JobOf<T>, crate::Demand<BlockNumberFor<T>>), DispatchError> {
		let demand = crate::Demands::<T>::get(device, job)
			.filter(|demand| !demand.answered)
			.ok_or(Error::<T>::NoDemand)?;
		let info = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now <= Self::answer_deadline(&demand), Error::<T>::RevealTooLate);
		Ok((info, demand))
	}

	/// The weight of a job's device calls: claim, commit and the reveal its inputs need.
	pub fn device_calls_weight(spec: &JobSpec) -> frame_support::weights::Weight {
		use crate::WeightInfo;
		T::WeightInfo::claim()
			.saturating_add(T::WeightInfo::commit())
			.saturating_add(Self::reveal_call_weight(spec))
	}

	/// The weight of the largest reveal `spec` admits: the call, its verification and what
	/// verified work triggers.
	pub fn reveal_call_weight(spec: &JobSpec) -> frame_support::weights::Weight {
		use crate::WeightInfo;
		use proofgrid_primitives::traits::ComputeVerifier;
		T::WeightInfo::reveal()
			.saturating_add(T::Verifier::reveal_weight(spec))
			.saturating_add(<T::OnWorkVerified as OnWorkVerified<_, _>>::weight())
	}

	/// The hash a claim binds a seeded job's inputs to: that of `basis` if it names one of this
	/// chain's last [`Config::MaxClaimBasisAge`] blocks, of the parent block if `None`.
	pub(crate) fn check_claim_basis(
		basis: Option<(BlockNumberFor<T>, H256)>,
	) -> Result<H256, DispatchError> {
		let Some((number, hash)) = basis else {
			return Ok(frame_system::Pallet::<T>::parent_hash());
		};
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(
			number < now
				&& now.saturating_sub(number) <= T::MaxClaimBasisAge::get()
				&& frame_system::Pallet::<T>::block_hash(number) == hash,
			Error::<T>::BadClaimBasis
		);
		Ok(hash)
	}

	/// Every check of `claim(job)` by `device`, without changing anything.
	pub(crate) fn check_claim(
		device: &T::AccountId,
		job: JobId,
	) -> Result<(JobOf<T>, ClaimPlanOf<T>), DispatchError> {
		let info = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
		ensure!(info.status == JobStatus::Submitted, Error::<T>::WrongState);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now < info.deadline, Error::<T>::JobExpired);
		ensure!(!info.abandoned.contains(device), Error::<T>::AbandonedBefore);
		ensure!(
			ClaimsPausedUntil::<T>::get(device).is_none_or(|until| now >= until),
			Error::<T>::ClaimsPaused
		);
		let price = T::Devices::price_of(device).ok_or(Error::<T>::UnknownDevice)?;
		ensure!(
			DeviceJobs::<T>::decode_len(device).unwrap_or(0) < T::MaxJobsPerDevice::get() as usize,
			Error::<T>::TooManyJobs
		);
		let gops = T::Devices::gops_of(device).unwrap_or_default();
		let window = Self::commit_window(&info.spec, gops).ok_or(Error::<T>::TooSlowForJob)?;
		let collateral = Self::collateral_for(Self::job_value(&info, price));
		T::Devices::ensure_eligible(device, &info.spec.requirements, info.price_cap, collateral)?;
		Ok((info, ClaimPlan { price, collateral, commit_by: now.saturating_add(window) }))
	}

	/// Every check of `commit(job, _)` by `device`.
	pub(crate) fn check_commit(
		device: &T::AccountId,
		job: JobId,
	) -> Result<JobOf<T>, DispatchError> {
		let info = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
		let JobStatus::Assigned { device: assigned, commit_by, .. } = &info.status else {
			return Err(Error::<T>::WrongState.into());
		};
		ensure!(assigned == device, Error::<T>::NotAssignedDevice);
		ensure!(frame_system::Pallet::<T>::block_number() <= *commit_by, Error::<T>::CommitTooLate);
		Ok(info)
	}

	/// Every check of a reveal of `kind` (its [`Reveal`](proofgrid_primitives::job::Reveal)
	/// variant) of `job` for `challenge_hash` and `k_dim_witness` by `device`; the job, its
	/// committed root and the randomness of its challenge.
	pub(crate) fn check_reveal(
		device: &T::AccountId,
		job: JobId,
		challenge_hash: &H256,
		k_dim_witness: u32,
		kind: OutputKind,
	) -> Result<(JobOf<T>, H256, H256), DispatchError> {
		let info = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
		ensure!(info.spec.output_kind() == Some(kind), Error::<T>::WrongRevealKind);
		let JobStatus::Committed {
			device: assigned,
			committed_at,
			challenge_block,
			reveal_by,
			root,
			..
		} = &info.status
		else {
			return Err(Error::<T>::WrongState.into());
		};
		ensure!(assigned == device, Error::<T>::NotAssignedDevice);
		ensure!(info.spec.shape.k == k_dim_witness, Error::<T>::WrongWitness);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(
			now <= Self::reveal_deadline(*committed_at, *challenge_block, *reveal_by),
			Error::<T>::RevealTooLate
		);
		let block = Self::challenge_block_of(*committed_at, *challenge_block)
			.ok_or(Error::<T>::ChallengeNotReady)?;
		let seed = ChallengeRandomness::<T>::get(block).ok_or(Error::<T>::ChallengeNotReady)?;
		ensure!(seed.block_hash == *challenge_hash, Error::<T>::WrongChallengeBlock);
		let root = *root;
		Ok((info, root, seed.randomness))
	}

	/// Every check of `release(job)` by `device`.
	pub(crate) fn check_release(
		device: &T::AccountId,
		job: JobId,
	) -> Result<JobOf<T>, DispatchError> {
		let info = Self::check_commit(device, job)?;
		let JobStatus::Assigned { claimed_at, inputs_received, .. } = &info.status else {
			return Err(Error::<T>::WrongState.into());
		};
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(
			info.spec.has_client_inputs()
				&& (*inputs_received
					|| now >= claimed_at.saturating_add(Self::input_window(&info.spec))),
			Error::<T>::CannotRelease
		);
		Ok(info)
	}
}
