//! The jobs pallet's events: a section of the pallet (`#[pallet_section]`), imported by
//! `lib.rs` into `pallet`, whose imports it uses.

use frame_support::pallet_macros::pallet_section;

#[pallet_section]
mod events {
	/// Events of the jobs pallet.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A client posted a job; its budget, storage deposit and call fee were held.
		JobSubmitted {
			job: JobId,
			client: T::AccountId,
			units: u64,
			budget: BalanceOf<T>,
			deposit: BalanceOf<T>,
			call_fee: BalanceOf<T>,
			deadline: BlockNumberFor<T>,
		},
		/// The client withdrew an unassigned job; its budget and deposit were released.
		JobCancelled { job: JobId },
		/// A device claimed a job and locked `collateral` from its bond; the client's call fee
		/// (`call_fee_burned`, zero on a re-claim) was burned.
		JobAssigned {
			job: JobId,
			device: T::AccountId,
			price: BalanceOf<T>,
			collateral: BalanceOf<T>,
			call_fee_burned: BalanceOf<T>,
			commit_by: BlockNumberFor<T>,
		},
		/// The device missed its commit window and `forfeited` that much of its collateral
		/// (burned); it may not claim this job again, and the job waits for another device.
		JobUnassigned { job: JobId, device: T::AccountId, forfeited: BalanceOf<T> },
		/// The device committed the output's root.
		JobCommitted {
			job: JobId,
			root: H256,
			challenge_block: BlockNumberFor<T>,
			reveal_by: BlockNumberFor<T>,
		},
		/// The proof checked out: the provider was paid, the protocol fee burned, the client
		/// got the rest back.
		JobSettled {
			job: JobId,
			device: T::AccountId,
			provider: T::AccountId,
			payment: BalanceOf<T>,
			fee_burned: BalanceOf<T>,
			refund: BalanceOf<T>,
		},
		/// The job failed: the client got its budget back and `compensation` (at most the call
		/// fee it paid) from the device's slashed collateral; the rest of the slash was burned.
		JobFailed {
			job: JobId,
			device: T::AccountId,
			reason: FailureReason,
			slashed: BalanceOf<T>,
			compensation: BalanceOf<T>,
		},
		/// Nobody did the job in time; the budget and deposit were released.
		JobExpired { job: JobId },
		/// The reveal of a job on supplied inputs checked out: its client may download and check
		/// the output, and anyone may prove an element wrong (`dispute`), until `dispute_until`;
		/// then the job settles.
		JobVerified { job: JobId, device: T::AccountId, dispute_until: BlockNumberFor<T> },
		/// A fraud proof did not show the output wrong (`reason` says why): the accuser's
		/// `deposit_burned` was burned and the job goes on.
		DisputeRejected {
			job: JobId,
			accuser: T::AccountId,
			reason: DispatchError,
			deposit_burned: BalanceOf<T>,
		},
		/// The client of verified job `job` demanded that its device publish the leaves of
		/// `elements` on chain by `answer_by` (plus congested blocks).
		DataDemanded {
			job: JobId,
			device: T::AccountId,
			elements: proofgrid_primitives::job::DemandedElements,
			answer_by: BlockNumberFor<T>,
		},
		/// The device published the demanded leaves (values and paths, in the demand's order);
		/// fraud proofs are taken until `dispute_until`.
		DataPublished {
			job: JobId,
			elements: proofgrid_primitives::job::DemandedElements,
			leaves: proofgrid_primitives::job::DataAnswer,
			dispute_until: BlockNumberFor<T>,
		},
		/// The device gave a job on supplied inputs back; it may not claim the job again, and
		/// the job waits for another device. Free (`forfeited` zero) unless the client had
		/// confirmed the inputs' arrival; then `forfeited` of its collateral repaid the client's
		/// call fee, the rest burned.
		JobReleased { job: JobId, device: T::AccountId, forfeited: BalanceOf<T> },
		/// The client showed the assigned device's receipt for the job's inputs: they arrived.
		InputsReceived { job: JobId, device: T::AccountId },
	}
}
