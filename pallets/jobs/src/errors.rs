//! The jobs pallet's errors: a section of the pallet (`#[pallet_section]`), imported by
//! `lib.rs` into `pallet`, whose imports it uses.

use frame_support::pallet_macros::pallet_section;

#[pallet_section]
mod errors {
	/// Errors of the jobs pallet.
	#[pallet::error]
	pub enum Error<T> {
		/// The GEMM shape is empty or too large.
		InvalidShape,
		/// The job is larger than `MaxWorkUnits`.
		TooMuchWork,
		/// The price cap is below `MinPricePerUnit`.
		PriceTooLow,
		/// `units × price_cap` overflows.
		Overflow,
		/// The deadline is not in the future or lies beyond `MaxJobLifetime`.
		BadDeadline,
		/// No open job has this id.
		UnknownJob,
		/// The caller is not a registered device.
		UnknownDevice,
		/// Only the job's client may do this.
		NotClient,
		/// The job is not in the state this call needs.
		WrongState,
		/// The caller is not the device assigned to this job.
		NotAssignedDevice,
		/// The job's deadline has passed; it can no longer be claimed.
		JobExpired,
		/// This device let its commit window on this job lapse before; it may not claim it again.
		AbandonedBefore,
		/// At the throughput it advertises, the device would need more than `MaxCommitWindow`.
		TooSlowForJob,
		/// The commit window has passed.
		CommitTooLate,
		/// The challenge block's randomness is not on chain yet (it is recorded when the block
		/// after the challenge block starts).
		ChallengeNotReady,
		/// The reveal answers the challenge of another block than the challenge block on this
		/// chain (it was computed on another fork). Nothing happens: reveal again for this one.
		WrongChallengeBlock,
		/// The reveal window has passed.
		RevealTooLate,
		/// The witness inner dimension is not the job's.
		WrongWitness,
		/// None of the job's deadlines has passed: there is nothing to expire.
		NotDue,
		/// The job is not open to disputes: it is not a job on supplied inputs whose reveal
		/// checked out.
		NotDisputable,
		/// The job's dispute window has closed: it is settled (or about to be).
		DisputeWindowClosed,
		/// The accuser cannot pay the [`Config::DisputeDeposit`] a refused fraud proof costs.
		CannotPayDisputeDeposit,
		/// The device holds `MaxJobsPerDevice` open jobs already.
		TooManyJobs,
		/// The supplied inputs' commitments do not make the job's shape (or `A`'s rows and `B`'s
		/// columns differ in length).
		InputsMismatch,
		/// An input's URL is not an `http://` or `https://` URL with a host.
		BadInputSource,
		/// The job's reveal would be larger than the chain admits (`MaxRevealBytes`): use a
		/// smaller inner dimension `k`.
		RevealTooLarge,
		/// The job's reveal would weigh more than the chain admits (`MaxRevealWeight`): a model
		/// with a narrower widest layer, or fewer samples.
		RevealTooHeavy,
		/// The reveal is of another kind than the job's output ([`OutputKind`]): a seeded job
		/// takes [`Reveal::Seeded`], one on supplied inputs [`Reveal::Supplied`], a layer
		/// [`Reveal::Layer`]. Nothing happens.
		WrongRevealKind,
		/// Only jobs on supplied inputs can be released, and only `InputWindow` blocks after
		/// their claim (at any time once their inputs' arrival is confirmed).
		CannotRelease,
		/// The receipt is not the assigned device's signature of
		/// [`inputs_receipt_message`](proofgrid_primitives::inputs::inputs_receipt_message) for
		/// this chain, job and device.
		BadReceipt,
		/// The inputs' arrival is confirmed already.
		InputsAlreadyReceived,
		/// The sample count of a job on supplied inputs is below the verifier's minimum or above
		/// [`MAX_SUPPLIED_SAMPLES`](proofgrid_primitives::job::MAX_SUPPLIED_SAMPLES).
		BadSampleCount,
		/// The job's kernel does not take its inputs: `gemm-i8` takes seeded or supplied
		/// matrices, `linear-i8` a layer ([`JobInputs::Layer`]).
		KernelMismatch,
		/// The layer's requantization is not usable (a multiplier that is not positive, or a
		/// shift above `MAX_SHIFT`).
		BadRequant,
		/// A layer's output rows would be longer than a lane (`n` above [`MAX_K`](proofgrid_primitives::gemm::MAX_K)).
		LayerTooWide,
		/// The earlier job named as `A` has no output on chain: it is not a settled `linear-i8`
		/// job, or its output is past `OutputRetention`.
		UnknownChainedOutput,
		/// `A`'s commitment is not the output of the earlier job it names.
		ChainedInputMismatch,
		/// The claim's basis is not one of this chain's last `MaxClaimBasisAge` blocks (it is on
		/// another fork, or too old). Nothing happens: claim again naming a recent block.
		BadClaimBasis,
		/// The device gave a job back less than `ReleaseCooldown` blocks ago: it may not claim
		/// yet.
		ClaimsPaused,
		/// A data-availability demand names no element, an element outside the output, or a job
		/// that is not a verified GEMM job on supplied inputs in its dispute window.
		BadDemand,
		/// The job had its data-availability demand already (one per job).
		DemandPending,
		/// There is no open data-availability demand on this job for this device.
		NoDemand,
		/// A model job names a model that is not registered.
		UnknownModel,
		/// A model job's model cannot run on its batch, or its shape, operations or output
		/// values are not its plan's (`proofgrid_primitives::model_proof`).
		ModelMismatch,
	}
}
