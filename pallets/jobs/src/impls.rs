//! The jobs pallet's internals: the checks behind each device call (shared with the
//! [`CheckDeviceCall`](crate::CheckDeviceCall) extension), deadline queues, settlement,
//! failure, abandonment, and `try_state`.

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
use proofgrid_primitives::traits::{DeviceRegistry, OnWorkVerified};
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

impl<T: Config> Pallet<T> {
	/// Puts `job` in `queue` at block `at`, or at one of the next few blocks if that one is
	/// full. `false` if all were full: the deadline is then enforced by `expire` (or, for a
	/// waiting job, by `claim` refusing it), never by failing the caller's call.
	pub(crate) fn schedule(queue: Queue, at: BlockNumberFor<T>, job: JobId) -> bool {
		let max = T::MaxDeadlinesPerBlock::get() as usize;
		let mut when = at;
		for _ in 0..SCHEDULE_PROBES {
			// A full queue costs the decoding of its length, and nothing is written back.
			let pushed = match queue {
				Queue::Protocol if Deadlines::<T>::decode_len(when).unwrap_or(0) < max => {
					Deadlines::<T>::mutate(when, |q| q.try_push(job).is_ok())
				}
				Queue::Client if Expiries::<T>::decode_len(when).unwrap_or(0) < max => {
					Expiries::<T>::mutate(when, |q| q.try_push(job).is_ok())
				}
				_ => false,
			};
			if pushed {
				return true;
			}
			when = when.saturating_add(One::one());
		}
		false
	}

	/// Every check of a job's kernel and inputs at submission: the kernel takes these inputs,
	/// the commitments make the shape, the sources and the sample count are usable, a layer's
	/// requantization is valid and its rows fit a lane, and an `A` taken from an earlier job
	/// is that job's kept output.
	pub(crate) fn check_inputs(spec: &JobSpec) -> DispatchResult {
		use proofgrid_primitives::traits::ComputeVerifier;
		ensure!(spec.output_kind().is_some(), Error::<T>::KernelMismatch);
		let (matrices, a, b, samples) = match &spec.inputs {
			JobInputs::Seeded { .. } => return Ok(()),
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
			Some(OutputKind::Layer) => shape.k.max(shape.n),
			_ => return Err(Error::<T>::BadDemand.into()),
		};
		ensure!(witness == k_dim_witness, Error::<T>::WrongWitness);
		ensure!(
			!elements.is_empty() && elements.iter().all(|(r, c)| *r < shape.m && *c < shape.n),
			Error::<T>::BadDemand
		);
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
				PublishedLeaf::Tile { .. } => T::Verifier::verify_fraud_weight(0),
				PublishedLeaf::Row { values, .. } => {
					T::Verifier::verify_layer_fraud_weight(0, values.len() as u32)
				}
			})
			.fold(Weight::zero(), Weight::saturating_add)
	}

	/// The last block for the answer to `demand`: its `answer_by` plus the congested blocks
	/// since it was made.
	pub fn answer_deadline(demand: &crate::Demand<BlockNumberFor<T>>) -> BlockNumberFor<T> {
		let congested = CongestedBlocks::<T>::get().saturating_sub(demand.congested_before);
		demand.answer_by.saturating_add(congested.into())
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
		let answered = proofgrid_primitives::job::check_data_answer(
			kind,
			&info.spec.shape,
			&root.0,
			&demand.elements,
			&leaves,
		);
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
	fn keep_layer_output(job: JobId, info: &JobOf<T>, device: &T::AccountId, root: H256) {
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

	/// The weight of a job's device calls: claim, commit and the reveal its inputs need.
	pub fn device_calls_weight(spec: &JobSpec) -> frame_support::weights::Weight {
		use crate::WeightInfo;
		use proofgrid_primitives::traits::ComputeVerifier;
		let k = spec.shape.k;
		let verify = match spec.inputs {
			JobInputs::Seeded { .. } => T::Verifier::verify_weight(k),
			JobInputs::Supplied { samples, .. } => T::Verifier::verify_supplied_weight(samples, k),
			JobInputs::Layer { samples, .. } => {
				T::Verifier::verify_layer_weight(samples, k, spec.shape.n)
			}
		};
		T::WeightInfo::claim()
			.saturating_add(T::WeightInfo::commit())
			.saturating_add(T::WeightInfo::reveal())
			.saturating_add(verify)
			.saturating_add(<T::OnWorkVerified as OnWorkVerified<_, _>>::weight())
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

	/// Blocks a job's inputs are given to arrive: [`Config::InputWindow`] plus a block per
	/// [`Config::InputBytesPerBlock`] of them.
	pub fn input_window(spec: &JobSpec) -> BlockNumberFor<T> {
		let upload = spec.input_bytes().div_ceil(T::InputBytesPerBlock::get());
		T::InputWindow::get().saturating_add(BlockNumberFor::<T>::unique_saturated_from(upload))
	}

	/// Work units of a GEMM: whole [`Config::OpsPerUnit`]s of operations, rounded down.
	pub fn work_units(shape: &proofgrid_primitives::gemm::GemmShape) -> u64 {
		(shape.ops() / u128::from(T::OpsPerUnit::get())).unique_saturated_into()
	}

	/// The job's value to its device: `units × price`.
	pub(crate) fn job_value(info: &JobOf<T>, price: BalanceOf<T>) -> BalanceOf<T> {
		price.saturating_mul(BalanceOf::<T>::unique_saturated_from(info.units)).min(info.budget)
	}

	/// Collateral for a job worth `value`: `max(MinCollateral, CollateralPercent × value)`.
	pub fn collateral_for(value: BalanceOf<T>) -> BalanceOf<T> {
		let scaled = value
			.saturating_mul(BalanceOf::<T>::unique_saturated_from(T::CollateralPercent::get()))
			/ BalanceOf::<T>::unique_saturated_from(100u32);
		scaled.max(T::MinCollateral::get())
	}

	/// Blocks a device of throughput `gops` needs for job `spec` (its operations plus
	/// `OpsPerLeaf` per output leaf, for hashing), plus the base window and, for supplied
	/// inputs, the time their upload takes ([`Self::input_window`]); `None` if that exceeds
	/// `MaxCommitWindow`.
	pub fn commit_window(spec: &JobSpec, gops: u64) -> Option<BlockNumberFor<T>> {
		let compute = proofgrid_primitives::job::compute_blocks(
			spec.shape.commit_work(T::OpsPerLeaf::get()),
			gops,
			T::MillisecsPerBlock::get(),
		);
		let upload =
			if spec.supplied().is_some() { Self::input_window(spec) } else { Zero::zero() };
		let window = T::BaseCommitWindow::get()
			.saturating_add(upload)
			.saturating_add(BlockNumberFor::<T>::unique_saturated_from(compute));
		(compute <= u32::MAX as u128 && window <= T::MaxCommitWindow::get()).then_some(window)
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

	/// The block whose seed challenges a commitment made in block `committed_at` whose earliest
	/// challenge block is `earliest`: the first block from `earliest` on such that the blocks
	/// after the commitment up to it are by at least two authors (when there are several), and
	/// at most [`MAX_CHALLENGE_EXTENSION`] blocks past `earliest`. `None` while the seeds it
	/// needs are not recorded.
	pub fn challenge_block_of(
		committed_at: BlockNumberFor<T>,
		earliest: BlockNumberFor<T>,
	) -> Option<BlockNumberFor<T>> {
		if T::AuthorityCount::get() <= 1 {
			return ChallengeRandomness::<T>::contains_key(earliest).then_some(earliest);
		}
		let last = earliest.saturating_add(MAX_CHALLENGE_EXTENSION.into());
		let mut block = committed_at.saturating_add(2u32.into());
		let mut two_authors = false;
		while block <= last {
			let seed = ChallengeRandomness::<T>::get(block)?;
			two_authors |= seed.new_author;
			if block >= earliest && (two_authors || block == last) {
				return Some(block);
			}
			block = block.saturating_add(One::one());
		}
		// `earliest` is before `committed_at + 2` (a delay of one block): its own seed.
		ChallengeRandomness::<T>::contains_key(earliest).then_some(earliest)
	}

	/// The last block for the reveal of a job committed in `committed_at` with `earliest` as
	/// its earliest challenge block and `reveal_by` as its deadline: the same window after its
	/// actual challenge block ([`Self::challenge_block_of`]), plus every congested block since
	/// ([`CongestedBlocks`]). Before the challenge block is known, the latest it can be.
	pub fn reveal_deadline(
		committed_at: BlockNumberFor<T>,
		earliest: BlockNumberFor<T>,
		reveal_by: BlockNumberFor<T>,
	) -> BlockNumberFor<T> {
		let window = reveal_by.saturating_sub(earliest);
		match Self::challenge_block_of(committed_at, earliest) {
			Some(block) => {
				let congested = ChallengeRandomness::<T>::get(block).map_or(0, |seed| {
					CongestedBlocks::<T>::get().saturating_sub(seed.congested_before)
				});
				block.saturating_add(window).saturating_add(congested.into())
			}
			None => reveal_by.saturating_add(MAX_CHALLENGE_EXTENSION.into()),
		}
	}

	/// Every check of a reveal of `kind` (`reveal`, `reveal_supplied` or `reveal_layer`) of
	/// `job` for `challenge_hash` and `k_dim_witness` by `device`; the job, its committed root
	/// and the randomness of its challenge.
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
			info.spec.supplied().is_some()
				&& (*inputs_received
					|| now >= claimed_at.saturating_add(Self::input_window(&info.spec))),
			Error::<T>::CannotRelease
		);
		Ok(info)
	}

	/// Records the randomness and hash of the parent block (see [`Config::BlockRandomness`])
	/// for the challenges it seeds, and forgets the randomness no reveal can use any more.
	pub(crate) fn record_challenge_randomness(now: BlockNumberFor<T>) {
		use frame_support::traits::FindAuthor;
		let digest = frame_system::Pallet::<T>::digest();
		let author =
			T::BlockAuthor::find_author(digest.logs().iter().filter_map(|d| d.as_pre_runtime()));
		let (parent_author, grandparent_author) = RecentAuthors::<T>::get();
		RecentAuthors::<T>::put((author, parent_author));
		let Some(parent) = now.checked_sub(&One::one()) else { return };
		Self::forget_old_challenges(now);
		let (random, of_block) = T::BlockRandomness::random(CHALLENGE_SUBJECT);
		match random {
			Some(vrf) if of_block == parent => {
				// Chained: the seed depends on every VRF output before it.
				let before = parent
					.checked_sub(&One::one())
					.and_then(ChallengeRandomness::<T>::get)
					.map(|seed| seed.randomness)
					.unwrap_or_default();
				let randomness =
					<sp_runtime::traits::BlakeTwo256 as sp_runtime::traits::Hash>::hash_of(&(
						before, vrf,
					));
				ChallengeRandomness::<T>::insert(
					parent,
					ChallengeSeed {
						randomness,
						new_author: parent_author != grandparent_author,
						block_hash: frame_system::Pallet::<T>::block_hash(parent),
						congested_before: CongestedBlocks::<T>::get(),
					},
				)
			}
			// Genesis has no VRF output. Any other block without one is a misconfiguration
			// (BABE must not allow secondary *plain* slots): its commitments stay unchallenged
			// and their devices miss the reveal, which is safe for clients.
			_ if parent.is_zero() => {}
			_ => log::error!(
				target: "runtime::jobs",
				"block {parent:?} has no VRF randomness: its challenges cannot be drawn"
			),
		}
	}

	/// Removes the oldest challenge seeds whose reveal windows, congested blocks included, have
	/// all closed at `now`: two at most per block, one more than are recorded, so the clean-up
	/// catches up after a congestion ends.
	fn forget_old_challenges(now: BlockNumberFor<T>) {
		for _ in 0..2 {
			let oldest = OldestChallenge::<T>::get();
			if oldest >= now.saturating_sub(One::one()) {
				return;
			}
			// A block with no seed (genesis) is skipped; a seed is kept while the last reveal
			// it challenges may still come (`reveal_by` is at most `RevealWindow` after it).
			if let Some(seed) = ChallengeRandomness::<T>::get(oldest) {
				// The latest deadline of a reveal whose challenge reads this seed: one committed
				// `ChallengeDelay` blocks before it, challenged `MAX_CHALLENGE_EXTENSION` blocks
				// after, and every congested block since.
				let congested = CongestedBlocks::<T>::get().saturating_sub(seed.congested_before);
				let last = oldest
					.saturating_add(T::ChallengeDelay::get())
					.saturating_add(MAX_CHALLENGE_EXTENSION.into())
					.saturating_add(T::RevealWindow::get())
					.saturating_add(congested.into());
				// Past `last`, a reveal is late and the deadline fails the job with or without
				// the seed.
				if now <= last {
					return;
				}
				ChallengeRandomness::<T>::remove(oldest);
			}
			OldestChallenge::<T>::put(oldest.saturating_add(One::one()));
		}
	}

	/// Whether a deadline of `job` has passed at `now`.
	pub(crate) fn is_due(job: JobId, now: BlockNumberFor<T>) -> Result<bool, DispatchError> {
		let Some(info) = Jobs::<T>::get(job) else {
			// A settled layer's kept output is due for removal after its retention.
			let output = LayerOutputs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
			return Ok(now > output.kept_until);
		};
		Ok(match info.status {
			JobStatus::Submitted => now >= info.deadline,
			JobStatus::Assigned { commit_by, .. } => now > commit_by,
			JobStatus::Committed { committed_at, challenge_block, reveal_by, .. } => {
				now > Self::reveal_deadline(committed_at, challenge_block, reveal_by)
			}
			JobStatus::Verified { device, dispute_until, .. } => {
				match crate::Demands::<T>::get(&device, job).filter(|demand| !demand.answered) {
					Some(demand) => now > Self::answer_deadline(&demand),
					None => now > dispute_until,
				}
			}
		})
	}

	/// Enforces whatever deadline of `job` has passed at `now`.
	pub(crate) fn process_deadline(job: JobId, now: BlockNumberFor<T>) {
		let Some(info) = Jobs::<T>::get(job) else {
			if LayerOutputs::<T>::get(job).is_some_and(|output| now > output.kept_until) {
				LayerOutputs::<T>::remove(job);
			}
			return;
		};
		match info.status.clone() {
			JobStatus::Submitted if now >= info.deadline => Self::expire_job(job, &info),
			JobStatus::Assigned { device, collateral, commit_by, .. } if now > commit_by => {
				Self::give_back(job, info, device, collateral, GiveBack::Missed)
			}
			JobStatus::Committed { committed_at, challenge_block, reveal_by, .. }
				if now > reveal_by =>
			{
				let deadline = Self::reveal_deadline(committed_at, challenge_block, reveal_by);
				if now > deadline {
					Self::fail(job, info, FailureReason::LateReveal)
				} else {
					// Congested blocks moved the deadline on: check again then.
					Self::schedule(Queue::Protocol, deadline.saturating_add(One::one()), job);
				}
			}
			JobStatus::Verified { device, dispute_until, .. } => {
				if let Some(demand) =
					crate::Demands::<T>::get(&device, job).filter(|demand| !demand.answered)
				{
					let deadline = Self::answer_deadline(&demand);
					if now > deadline {
						crate::Demands::<T>::remove(&device, job);
						Self::fail(job, info, FailureReason::DataWithheld);
					} else {
						// The settlement waits for the answer (congested blocks may have
						// moved its deadline on).
						Self::schedule(Queue::Protocol, deadline.saturating_add(One::one()), job);
					}
				} else if now > dispute_until {
					// Cannot fail while the hold invariants (`try_state`) hold and the device is
					// registered (a device with locked collateral cannot leave); if it did, the
					// job stays verified and `expire` can try again.
					if let Err(error) = Self::settle(job, info) {
						log::warn!(target: "runtime::jobs", "job {job}: settlement failed: {error:?}");
					}
				}
			}
			_ => {}
		}
	}

	/// Releases the client's budget, storage deposit and call fee if still held. Releasing what
	/// `submit_job` held cannot fail while the hold invariants (`try_state`) hold.
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

	/// Ends a job nobody did: full refund.
	fn expire_job(job: JobId, info: &JobOf<T>) {
		Self::release_client_funds(info);
		if info.status == JobStatus::Submitted {
			Self::unlist_open(job, info);
		}
		Jobs::<T>::remove(job);
		Self::deposit_event(Event::JobExpired { job });
	}

	/// Slashes `amount` of `device`'s free bond: the client gets at most `cap` (what the
	/// failure cost it), the rest is burned. Returns `(slashed, compensation)`.
	fn forfeit(
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
	fn forget_device_job(device: &T::AccountId, job: JobId) {
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
	fn open_key(info: &JobOf<T>) -> (Kernel, u8) {
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
	fn delivered_gops(
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
		(info.spec.shape.ops() / millis.saturating_mul(1_000_000).max(1)).unique_saturated_into()
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
		Jobs::<T>::remove(job);
		Self::deposit_event(Event::JobFailed { job, device, reason, slashed, compensation });
	}

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

/// Queries for the runtime API (off-chain reads; they may iterate the open jobs).
impl<T: Config> Pallet<T> {
	/// The open jobs assigned to `device`: at most `MaxJobsPerDevice` reads, however many
	/// jobs are open.
	pub fn jobs_for_device(device: &T::AccountId) -> alloc::vec::Vec<(JobId, JobOf<T>)> {
		DeviceJobs::<T>::get(device)
			.into_iter()
			.filter_map(|id| Jobs::<T>::get(id).map(|job| (id, job)))
			.collect()
	}

	/// The challenge of committed job `id`, once its challenge block's randomness is recorded.
	pub fn challenge_of(id: JobId) -> Option<(BlockNumberFor<T>, alloc::vec::Vec<u64>)> {
		use proofgrid_primitives::traits::ComputeVerifier;
		let job = Jobs::<T>::get(id)?;
		let JobStatus::Committed { root, committed_at, challenge_block, .. } = job.status else {
			return None;
		};
		let block = Self::challenge_block_of(committed_at, challenge_block)?;
		let seed = ChallengeRandomness::<T>::get(block)?;
		Some((block, T::Verifier::challenge(id, &job.spec, &root, &seed.randomness)))
	}
}
