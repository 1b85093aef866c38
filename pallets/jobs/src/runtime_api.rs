//! The runtime API behind the node's `proofgrid_*` RPC, so workers and dApps need no knowledge
//! of the storage layout.

use alloc::vec::Vec;
use codec::Codec;
use proofgrid_primitives::job::JobId;

use crate::Job;

sp_api::decl_runtime_apis! {
	/// Read access to the job market.
	pub trait JobsApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// An open job.
		fn job(id: JobId) -> Option<Job<AccountId, Balance, BlockNumber>>;

		/// The open jobs assigned to `device` (claimed or committed).
		fn jobs_for_device(device: AccountId) -> Vec<(JobId, Job<AccountId, Balance, BlockNumber>)>;

		/// The challenge block of committed job `id` and the leaf indices its device must
		/// reveal, once the challenge block's seed is recorded; `None` before that or if the job
		/// is not committed.
		fn challenge(id: JobId) -> Option<(BlockNumber, Vec<u64>)>;
	}
}
