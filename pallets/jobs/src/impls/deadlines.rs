//! The deadline queues (bounded per block, probing later blocks when one is full), the
//! challenge randomness recorded per block, and what each deadline does to its job.

use super::*;

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
	pub(super) fn forget_old_challenges(now: BlockNumberFor<T>) {
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

	/// Ends a job nobody did: full refund.
	pub(super) fn expire_job(job: JobId, info: &JobOf<T>) {
		Self::release_client_funds(info);
		if info.status == JobStatus::Submitted {
			Self::unlist_open(job, info);
		}
		Self::release_model(info);
		Jobs::<T>::remove(job);
		Self::deposit_event(Event::JobExpired { job });
	}
}
