//! A job's terms, computed from its spec and the runtime's parameters alone: its input and
//! commit windows, work units, value, collateral, challenge block and reveal deadline.

use super::*;

impl<T: Config> Pallet<T> {
	/// The last block for the answer to `demand`: its `answer_by` plus the congested blocks
	/// since it was made.
	pub fn answer_deadline(demand: &crate::Demand<BlockNumberFor<T>>) -> BlockNumberFor<T> {
		let congested = CongestedBlocks::<T>::get().saturating_sub(demand.congested_before);
		demand.answer_by.saturating_add(congested.into())
	}

	/// Blocks a job's inputs are given to arrive: [`Config::InputWindow`] plus a block per
	/// [`Config::InputBytesPerBlock`] of them.
	pub fn input_window(spec: &JobSpec) -> BlockNumberFor<T> {
		let upload = spec.input_bytes().div_ceil(T::InputBytesPerBlock::get());
		T::InputWindow::get().saturating_add(BlockNumberFor::<T>::unique_saturated_from(upload))
	}

	/// Work units of `ops` operations (a job's [`JobSpec::ops`]): whole
	/// [`Config::OpsPerUnit`]s, rounded down.
	pub fn work_units(ops: u128) -> u64 {
		(ops / u128::from(T::OpsPerUnit::get())).unique_saturated_into()
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
			spec.commit_work(T::OpsPerLeaf::get()),
			gops,
			T::MillisecsPerBlock::get(),
		);
		let upload = if spec.has_client_inputs() { Self::input_window(spec) } else { Zero::zero() };
		let window = T::BaseCommitWindow::get()
			.saturating_add(upload)
			.saturating_add(BlockNumberFor::<T>::unique_saturated_from(compute));
		(compute <= u32::MAX as u128 && window <= T::MaxCommitWindow::get()).then_some(window)
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
}
