//! # Jobs pallet
//!
//! The ProofGrid job market: a client pays into escrow, a device does the work, the chain
//! checks a proof of that work, and only then is the provider paid — or its bond is slashed
//! and the client compensated.
//!
//! ## Lifecycle
//! ```text
//! submit_job ─► Submitted ──claim──► Assigned ──commit──► Committed ──reveal ok──► Settled
//!                 │   ▲                  │                    │
//!        cancel / │   └── commit window ─┘                    └── bad or late ──► Failed
//!        deadline ▼       missed (device reputation down)          reveal
//!          Cancelled / Expired (full refund)
//! ```
//! - `submit_job` holds `units × price_cap` from the client ([`HoldReason::JobBudget`]); work
//!   units are `2·m·n·k / 10⁹`, rounded up.
//! - `claim` is signed by a device key; the devices pallet decides eligibility (active, fresh,
//!   requirements, price ≤ cap) in constant time, however many devices exist.
//! - `commit` records the output's Merkle root within [`Config::CommitWindow`]; the challenge
//!   is seeded by the hash of the block [`Config::ChallengeDelay`] blocks later.
//! - `reveal` (within [`Config::RevealWindow`] after that block) is checked by the compute-proof
//!   pallet. Success pays the provider `units × device price` less [`Config::ProtocolFee`] (to
//!   the treasury) and refunds the rest. Failure refunds the whole budget, slashes
//!   [`Config::SlashFraction`] of the device's bond and gives [`Config::CompensationFraction`]
//!   of it to the client, the rest to the treasury. A settled job's work units and provider
//!   are reported to [`Config::OnWorkVerified`] (token rewards are paid for verified work only).
//! - Every state has a deadline, kept in per-block queues of at most
//!   [`Config::MaxDeadlinesPerBlock`] entries and processed in `on_initialize`: no scan over
//!   all jobs, and nothing stays stuck.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

mod impls;
pub mod runtime_api;
mod types;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub use types::*;
pub use weights::WeightInfo;

/// Told about every job whose proof the chain verified, e.g. to pay token rewards for it.
/// Called from `reveal`, so it must be cheap and bounded; its [`OnWorkVerified::weight`] is
/// added to `reveal`'s.
pub trait OnWorkVerified<AccountId> {
	/// `provider` (the device's owner) settled a job of `units` verified work units.
	fn on_work_verified(provider: &AccountId, units: u64);
	/// Upper bound of [`OnWorkVerified::on_work_verified`]'s weight.
	fn weight() -> frame_support::weights::Weight;
}

impl<AccountId> OnWorkVerified<AccountId> for () {
	fn on_work_verified(_: &AccountId, _: u64) {}
	fn weight() -> frame_support::weights::Weight {
		frame_support::weights::Weight::zero()
	}
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::fungible::{Inspect, Mutate, MutateHold},
	};
	use frame_system::pallet_prelude::*;
	use pallet_compute_proof::ComputeVerifier;
	use pallet_devices::DeviceRegistry;
	use proofgrid_primitives::job::{JobId, JobSpec, RevealPaths};
	use sp_core::H256;
	use sp_runtime::{
		traits::{CheckedMul, One, Saturating, UniqueSaturatedFrom, Zero},
		Perbill,
	};

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Configuration of the jobs pallet.
	#[pallet::config]
	pub trait Config: frame_system::Config<Hash = H256> {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The currency in which budgets are held and providers paid.
		type Currency: Inspect<Self::AccountId>
			+ Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// The device registry.
		type Devices: DeviceRegistry<Self::AccountId, BalanceOf<Self>>;

		/// The compute-proof verifier.
		type Verifier: ComputeVerifier;

		/// Receives protocol fees and the part of slashes not paid to clients.
		#[pallet::constant]
		type Treasury: Get<Self::AccountId>;

		/// Share of each payment that goes to the treasury.
		#[pallet::constant]
		type ProtocolFee: Get<Perbill>;

		/// Share of a device's bond slashed when its job fails.
		#[pallet::constant]
		type SlashFraction: Get<Perbill>;

		/// Share of a slash paid to the client as compensation.
		#[pallet::constant]
		type CompensationFraction: Get<Perbill>;

		/// Blocks a device has between `claim` and `commit`.
		#[pallet::constant]
		type CommitWindow: Get<BlockNumberFor<Self>>;

		/// Blocks between a commitment and the block whose hash seeds its challenge (at least 1).
		#[pallet::constant]
		type ChallengeDelay: Get<BlockNumberFor<Self>>;

		/// Blocks a device has to reveal after the challenge block.
		#[pallet::constant]
		type RevealWindow: Get<BlockNumberFor<Self>>;

		/// Longest a job may wait for a device.
		#[pallet::constant]
		type MaxJobLifetime: Get<BlockNumberFor<Self>>;

		/// Largest job, in work units.
		#[pallet::constant]
		type MaxWorkUnits: Get<u64>;

		/// Deadlines processed per block at most.
		#[pallet::constant]
		type MaxDeadlinesPerBlock: Get<u32>;

		/// Told about each settled job's verified work (the rewards pallet).
		type OnWorkVerified: OnWorkVerified<Self::AccountId>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;

		/// Registers eligible devices for benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId, BalanceOf<Self>>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A client's budget for an open job.
		#[codec(index = 0)]
		JobBudget,
	}

	/// The id the next job gets.
	#[pallet::storage]
	pub type NextJobId<T> = StorageValue<_, JobId, ValueQuery>;

	/// Open jobs.
	#[pallet::storage]
	pub type Jobs<T: Config> = StorageMap<_, Twox64Concat, JobId, JobOf<T>>;

	/// Jobs with a deadline at a block. An entry is checked against the job's state when its
	/// block comes, so stale entries (the job moved on) cost one read and nothing else.
	#[pallet::storage]
	pub type Deadlines<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<JobId, T::MaxDeadlinesPerBlock>,
		ValueQuery,
	>;

	/// Events of the jobs pallet.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A client posted a job and its budget was held.
		JobSubmitted {
			job: JobId,
			client: T::AccountId,
			units: u64,
			budget: BalanceOf<T>,
			deadline: BlockNumberFor<T>,
		},
		/// The client withdrew an unassigned job; its budget was released.
		JobCancelled { job: JobId },
		/// A device claimed a job.
		JobAssigned {
			job: JobId,
			device: T::AccountId,
			price: BalanceOf<T>,
			commit_by: BlockNumberFor<T>,
		},
		/// The device missed its commit window; the job waits for another device.
		JobUnassigned { job: JobId, device: T::AccountId },
		/// The device committed the output's root.
		JobCommitted {
			job: JobId,
			root: H256,
			challenge_block: BlockNumberFor<T>,
			reveal_by: BlockNumberFor<T>,
		},
		/// The proof checked out: the provider was paid, the treasury took its fee, the client
		/// got the rest back.
		JobSettled {
			job: JobId,
			device: T::AccountId,
			provider: T::AccountId,
			payment: BalanceOf<T>,
			fee: BalanceOf<T>,
			refund: BalanceOf<T>,
		},
		/// The job failed: the client got its budget back and `compensation` from the
		/// device's slashed bond.
		JobFailed {
			job: JobId,
			device: T::AccountId,
			reason: FailureReason,
			slashed: BalanceOf<T>,
			compensation: BalanceOf<T>,
		},
		/// Nobody did the job in time; the budget was released.
		JobExpired { job: JobId },
	}

	/// Errors of the jobs pallet.
	#[pallet::error]
	pub enum Error<T> {
		/// The GEMM shape is empty or too large.
		InvalidShape,
		/// The job is larger than `MaxWorkUnits`.
		TooMuchWork,
		/// `units × price_cap` overflows.
		Overflow,
		/// The deadline is not in the future or lies beyond `MaxJobLifetime`.
		BadDeadline,
		/// No open job has this id.
		UnknownJob,
		/// Only the job's client may do this.
		NotClient,
		/// The job is not in the state this call needs.
		WrongState,
		/// The caller is not the device assigned to this job.
		NotAssignedDevice,
		/// The commit window has passed.
		CommitTooLate,
		/// The challenge block has not been produced yet.
		ChallengeNotReady,
		/// The reveal window has passed.
		RevealTooLate,
		/// The witness inner dimension is smaller than the job's.
		WitnessTooSmall,
		/// Too many deadlines fall in the coming blocks; try again later.
		DeadlineQueueFull,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let due = Deadlines::<T>::take(now);
			let count = due.len() as u32;
			for job in due {
				Self::process_deadline(job, now);
			}
			T::WeightInfo::on_initialize(count)
		}

		fn integrity_test() {
			assert!(
				!T::ChallengeDelay::get().is_zero(),
				"the challenge must come from a block after the commitment"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Post a job: hold `units × price_cap` from the caller until the job ends. The job
		/// waits for a device until block `deadline` at the latest.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::submit_job())]
		pub fn submit_job(
			origin: OriginFor<T>,
			spec: JobSpec,
			price_cap: BalanceOf<T>,
			deadline: BlockNumberFor<T>,
		) -> DispatchResult {
			let client = ensure_signed(origin)?;
			spec.shape.validate().map_err(|_| Error::<T>::InvalidShape)?;
			let units = spec.shape.work_units();
			ensure!(units <= T::MaxWorkUnits::get(), Error::<T>::TooMuchWork);
			let budget = price_cap
				.checked_mul(&BalanceOf::<T>::unique_saturated_from(units))
				.ok_or(Error::<T>::Overflow)?;
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(
				deadline > now && deadline <= now.saturating_add(T::MaxJobLifetime::get()),
				Error::<T>::BadDeadline
			);

			let job = NextJobId::<T>::get();
			Self::schedule(deadline, job)?;
			T::Currency::hold(&HoldReason::JobBudget.into(), &client, budget)?;
			NextJobId::<T>::put(job.saturating_add(1));
			Jobs::<T>::insert(
				job,
				Job {
					client: client.clone(),
					spec,
					price_cap,
					units,
					budget,
					deadline,
					status: JobStatus::Submitted,
				},
			);
			Self::deposit_event(Event::JobSubmitted { job, client, units, budget, deadline });
			Ok(())
		}

		/// Withdraw a job no device has claimed yet; its budget is released.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::cancel())]
		pub fn cancel(origin: OriginFor<T>, job: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let info = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
			ensure!(info.client == who, Error::<T>::NotClient);
			ensure!(info.status == JobStatus::Submitted, Error::<T>::WrongState);
			Self::release_budget(&info)?;
			Jobs::<T>::remove(job);
			Self::deposit_event(Event::JobCancelled { job });
			Ok(())
		}

		/// Signed by a device key: take a waiting job. The device must be eligible (active,
		/// fresh, meeting the requirements) and ask no more than the job's price cap.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::claim())]
		pub fn claim(origin: OriginFor<T>, job: JobId) -> DispatchResult {
			let device = ensure_signed(origin)?;
			let mut info = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
			ensure!(info.status == JobStatus::Submitted, Error::<T>::WrongState);
			T::Devices::ensure_eligible(&device, &info.spec.requirements, info.price_cap)?;
			let price = T::Devices::price_of(&device).ok_or(Error::<T>::NotAssignedDevice)?;
			let commit_by =
				frame_system::Pallet::<T>::block_number().saturating_add(T::CommitWindow::get());
			Self::schedule(commit_by.saturating_add(One::one()), job)?;
			T::Devices::mark_busy(&device)?;
			info.status = JobStatus::Assigned { device: device.clone(), price, commit_by };
			Jobs::<T>::insert(job, info);
			Self::deposit_event(Event::JobAssigned { job, device, price, commit_by });
			Ok(())
		}

		/// Signed by the assigned device: commit the Merkle root of the whole output.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::commit())]
		pub fn commit(origin: OriginFor<T>, job: JobId, root: H256) -> DispatchResult {
			let device = ensure_signed(origin)?;
			let mut info = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
			let JobStatus::Assigned { device: assigned, price, commit_by } = info.status.clone()
			else {
				return Err(Error::<T>::WrongState.into());
			};
			ensure!(assigned == device, Error::<T>::NotAssignedDevice);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now <= commit_by, Error::<T>::CommitTooLate);
			let challenge_block = now.saturating_add(T::ChallengeDelay::get());
			let reveal_by = challenge_block.saturating_add(T::RevealWindow::get());
			Self::schedule(reveal_by.saturating_add(One::one()), job)?;
			info.status = JobStatus::Committed { device, price, root, challenge_block, reveal_by };
			Jobs::<T>::insert(job, info);
			Self::deposit_event(Event::JobCommitted { job, root, challenge_block, reveal_by });
			Ok(())
		}

		/// Signed by the assigned device: reveal the Merkle paths of the challenged leaves.
		/// The job settles if they prove the committed output, and fails (with a slash)
		/// otherwise. `k_dim_witness` must be at least the job's inner dimension; it prices the
		/// verification.
		#[pallet::call_index(4)]
		#[pallet::weight(
			T::WeightInfo::reveal()
				.saturating_add(T::Verifier::verify_weight(*k_dim_witness))
				.saturating_add(T::OnWorkVerified::weight())
		)]
		pub fn reveal(
			origin: OriginFor<T>,
			job: JobId,
			paths: RevealPaths,
			k_dim_witness: u32,
		) -> DispatchResultWithPostInfo {
			let device = ensure_signed(origin)?;
			let info = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
			let JobStatus::Committed { device: assigned, price, root, challenge_block, reveal_by } =
				info.status.clone()
			else {
				return Err(Error::<T>::WrongState.into());
			};
			ensure!(assigned == device, Error::<T>::NotAssignedDevice);
			ensure!(info.spec.shape.k <= k_dim_witness, Error::<T>::WitnessTooSmall);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now > challenge_block, Error::<T>::ChallengeNotReady);
			ensure!(now <= reveal_by, Error::<T>::RevealTooLate);

			// Charge for the job's real inner dimension, not the witness.
			let actual = T::WeightInfo::reveal()
				.saturating_add(T::Verifier::verify_weight(info.spec.shape.k))
				.saturating_add(T::OnWorkVerified::weight());
			let block_hash = frame_system::Pallet::<T>::block_hash(challenge_block);
			match T::Verifier::verify(job, &info.spec, &root, &block_hash, &paths) {
				Ok(()) => Self::settle(job, info, device, price)?,
				Err(error) => Self::fail(job, info, device, FailureReason::BadProof(error))?,
			}
			Ok(Some(actual).into())
		}
	}
}
