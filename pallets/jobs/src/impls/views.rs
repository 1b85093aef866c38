//! Queries for the runtime API (off-chain reads; they may iterate the open jobs).

use super::*;

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
