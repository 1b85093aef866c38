//! When this node saw its last best blocks, by its own clock, for `proofgrid_blockTime`.
//!
//! The runtime's windows are counted in blocks and sized for 6 s blocks, but a block's real
//! length is what the chain does: a dev chain sealing every 500 ms makes them twelve times
//! faster, a stalled one slower. Clients print windows in seconds from this figure, so a "60 s"
//! input window on a `--sealing 500` chain is shown as the 5 s it is. Timestamps cannot tell:
//! a sealing node pushes each block's timestamp a whole slot past its parent's.

use std::{
	collections::VecDeque,
	sync::{Arc, Mutex},
	time::Instant,
};

use futures::StreamExt;
use proofgrid_runtime::opaque::Block;
use sc_client_api::BlockchainEvents;
use sp_consensus::BlockOrigin;
use sp_runtime::traits::Header;

/// Best blocks remembered: the mean is over the last this many intervals.
pub const KEPT: usize = 64;

/// Best-block numbers and the instants they arrived.
#[derive(Default)]
pub struct BlockTimes {
	seen: Mutex<VecDeque<(u32, Instant)>>,
}

impl BlockTimes {
	/// `number` became the best block at `at`. A lower or equal number (a reorg) drops what
	/// it replaces, so a fork's blocks are not counted twice.
	pub fn record(&self, number: u32, at: Instant) {
		let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
		while seen.back().is_some_and(|(n, _)| *n >= number) {
			seen.pop_back();
		}
		seen.push_back((number, at));
		while seen.len() > KEPT + 1 {
			seen.pop_front();
		}
	}

	/// The mean interval in ms and how many intervals it spans; `None` before two blocks.
	pub fn mean_ms(&self) -> Option<(u64, u32)> {
		let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
		let ((first, since), (last, until)) = (seen.front()?, seen.back()?);
		let blocks = last.checked_sub(*first).filter(|b| *b > 0)?;
		let ms = until.duration_since(*since).as_millis() / u128::from(blocks);
		Some((u64::try_from(ms).unwrap_or(u64::MAX), blocks))
	}
}

/// Records every new best block `client` imports, except those of an initial sync (their
/// pace is the network's, not the chain's).
pub async fn follow<C: BlockchainEvents<Block>>(client: Arc<C>, times: Arc<BlockTimes>) {
	let mut imports = client.import_notification_stream();
	while let Some(block) = imports.next().await {
		if block.is_new_best && block.origin != BlockOrigin::NetworkInitialSync {
			times.record(*block.header.number(), Instant::now());
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::time::Duration;

	#[test]
	fn the_mean_spans_the_blocks_seen_and_a_reorg_replaces_its_fork() {
		let times = BlockTimes::default();
		let start = Instant::now();
		assert_eq!(times.mean_ms(), None);
		times.record(10, start);
		assert_eq!(times.mean_ms(), None, "one block is no interval");
		times.record(11, start + Duration::from_millis(500));
		times.record(12, start + Duration::from_millis(1_000));
		assert_eq!(times.mean_ms(), Some((500, 2)));
		// A reorg to another #12 replaces the old one: still two intervals.
		times.record(12, start + Duration::from_millis(1_600));
		assert_eq!(times.mean_ms(), Some((800, 2)));
		// Only the last KEPT intervals count.
		for i in 0..200u32 {
			times.record(13 + i, start + Duration::from_millis(2_000 + 100 * u64::from(i)));
		}
		assert_eq!(times.mean_ms(), Some((100, KEPT as u32)));
	}
}
