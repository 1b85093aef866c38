//! Which jobs a device can finish: its memory, its time (its own measured speed against the
//! commit window the chain would give it) and its disk. A job that fails any of these is never
//! claimed; the reason is what the worker logs, and `proofgrid-worker limits` finds the largest
//! job that passes.

use proofgrid_client::market::MarketParams;
use proofgrid_primitives::gemm::GemmShape;

use crate::{backend::Backend, device::throughput::estimated_seconds, store::output::tree_bytes};

/// Disk kept free beside a job's output tree.
pub const DISK_RESERVE: u64 = 64 << 20;

/// Share of the base commit window kept for the commit to reach a block. The margin for
/// estimation error is in the windows themselves: they are sized from the advertised
/// throughput, which is below the measured one ([`crate::device::throughput::advertised`]).
pub const INCLUSION_SHARE: f64 = 0.5;

/// What a device brings to a job.
pub struct Capacity<'a> {
	pub backend: &'a dyn Backend,
	pub market: &'a MarketParams,
	/// The throughput the chain sizes this device's commit windows from (measured on chain, or
	/// advertised).
	pub chain_gops: u64,
	/// The device's own measured throughput.
	pub gops: u64,
	/// Free disk for its state, if known (an unreadable figure is no reason to refuse: writing
	/// the output then fails before anything is committed).
	pub free_disk: Option<u64>,
	/// Most disk one job's output tree may take (`--disk-mib`), bytes: the node beside the
	/// worker needs its disk too.
	pub max_output: u64,
}

impl Capacity<'_> {
	/// Estimated seconds for a job of `shape`, and the wall time its commit window gives it
	/// (`None`: the chain would not let this device claim it at all).
	pub fn time(&self, shape: &GemmShape) -> (f64, Option<f64>) {
		let needed = estimated_seconds(shape, self.market.ops_per_leaf, self.gops);
		let window = self.market.commit_window(shape, self.chain_gops);
		(needed, window.map(|w| w as f64 * self.market.millisecs_per_block as f64 / 1000.0))
	}

	/// Seconds kept for the commit to be included once the output is ready.
	pub fn inclusion_seconds(&self) -> f64 {
		INCLUSION_SHARE
			* self.market.base_commit_window as f64
			* self.market.millisecs_per_block as f64
			/ 1000.0
	}

	/// Why a job of `shape` cannot be done here, if it cannot.
	pub fn refusal(&self, shape: &GemmShape) -> Option<String> {
		if !self.backend.fits(shape) {
			return Some(format!(
				"{}×{}×{} does not fit the backend's memory",
				shape.m, shape.n, shape.k
			));
		}
		match self.time(shape) {
			(_, None) => {
				return Some(format!(
					"too slow: at {} GOPS it needs more than the longest commit window ({} blocks)",
					self.chain_gops, self.market.max_commit_window
				))
			}
			(needed, Some(available)) if needed + self.inclusion_seconds() > available => {
				return Some(format!(
					"too slow: an estimated {needed:.0} s at {} GOPS, plus {:.0} s for the commit \
					 to land, against a {available:.0} s window",
					self.gops,
					self.inclusion_seconds()
				))
			}
			_ => {}
		}
		let tree = tree_bytes(shape.leaf_count());
		if tree > self.max_output {
			return Some(format!(
				"its output tree needs {} MiB of disk, more than --disk-mib {}",
				tree.div_ceil(1 << 20),
				self.max_output >> 20
			));
		}
		self.free_disk.and_then(|free| disk_refusal(shape, free))
	}
}

/// Why a job of `shape` cannot be taken with `free` bytes of disk: its output tree is built
/// there (leaf hashes streamed from the backend, then the levels above; about 64 bytes per
/// leaf), and kept so that a restart resumes instead of recomputing.
pub fn disk_refusal(shape: &GemmShape, free: u64) -> Option<String> {
	let needed = tree_bytes(shape.leaf_count());
	(needed.saturating_add(DISK_RESERVE) > free).then(|| {
		format!(
			"its output tree needs {} MiB of disk and {} MiB are free",
			needed.div_ceil(1 << 20),
			free >> 20
		)
	})
}

/// The largest `s` in `1..=max` for which `shape(s)` is accepted (the checks only grow with
/// `s`), and the refusal of `s + 1`; `None` if even `s = 1` is refused.
pub fn largest(
	capacity: &Capacity,
	max: u32,
	shape: impl Fn(u32) -> GemmShape,
) -> Option<(GemmShape, Option<String>)> {
	capacity.refusal(&shape(1)).is_none().then_some(())?;
	let (mut good, mut bad) = (1u32, max.saturating_add(1));
	while bad - good > 1 {
		let mid = good + (bad - good) / 2;
		if capacity.refusal(&shape(mid)).is_none() {
			good = mid;
		} else {
			bad = mid;
		}
	}
	let next = (good < max).then(|| capacity.refusal(&shape(good + 1))).flatten();
	Some((shape(good), next))
}

/// Why a `linear-i8` job of `shape` is refused for its memory: its output `Y` and the
/// accumulators behind it (5 bytes per element) are held in memory and on disk, and may take no
/// more than `max_bytes` (`--max-input-mib`, the bound on what a job brings in).
pub fn layer_refusal(shape: &GemmShape, max_bytes: usize) -> Option<String> {
	let bytes = u64::from(shape.m).saturating_mul(shape.n.into()).saturating_mul(5);
	(bytes > max_bytes as u64).then(|| {
		format!(
			"its output and accumulators ({}×{}) take {} MiB, more than --max-input-mib {}",
			shape.m,
			shape.n,
			bytes.div_ceil(1 << 20),
			max_bytes >> 20
		)
	})
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::backend::cpu::CpuBackend;

	fn market() -> MarketParams {
		MarketParams {
			device_bond: 100,
			min_price_per_unit: 1,
			ops_per_unit: 1 << 30,
			min_work_units: 1,
			protocol_fee_ppb: 50_000_000,
			min_collateral: 10,
			collateral_percent: 200,
			claim_deposit: 1,
			job_deposit: 1,
			base_commit_window: 10,
			max_commit_window: 600,
			millisecs_per_block: 6_000,
			block_ms: 6_000,
			ops_per_leaf: 4_096,
			max_reward_per_fee_ppb: 500_000_000,
			samples: 64,
			max_reveal_bytes: 1 << 20,
			min_supplied_samples: 32,
			default_supplied_samples: 64,
			input_window: 10,
			input_bytes_per_block: 37_500_000,
			reveal_window: 20,
		}
	}

	#[test]
	fn a_job_whose_output_tree_does_not_fit_the_disk_is_refused() {
		// 2^20 × 2^20 outputs: 2^36 leaves, 4 TiB of leaf hashes and tree.
		let poison = GemmShape { m: 1 << 20, n: 1 << 20, k: 1 };
		let reason = disk_refusal(&poison, 100 << 30).expect("refused");
		assert!(reason.contains("4194304 MiB of disk and 102400 MiB are free"), "{reason}");
		// 1024² outputs: 65 536 leaves, 4 MiB, plus the reserve.
		let small = GemmShape { m: 1024, n: 1024, k: 1024 };
		assert_eq!(disk_refusal(&small, 100 << 30), None);
		assert!(disk_refusal(&small, DISK_RESERVE).is_some());
	}

	#[test]
	fn memory_time_and_disk_each_refuse_with_their_reason() {
		let backend = CpuBackend::new(1, 512).unwrap();
		let market = market();
		let capacity = Capacity {
			backend: &backend,
			market: &market,
			chain_gops: 1,
			gops: 1,
			free_disk: Some(1 << 30),
			max_output: 1 << 30,
		};
		assert_eq!(capacity.refusal(&GemmShape { m: 512, n: 512, k: 512 }), None);
		// B alone is 4 GiB.
		let memory = capacity.refusal(&GemmShape { m: 64, n: 65_536, k: 65_536 }).unwrap();
		assert!(memory.contains("does not fit the backend's memory"), "{memory}");
		// 8.8·10¹² operations at 1 GOPS: beyond the longest window (600 blocks of 6 s).
		let never = capacity.refusal(&GemmShape { m: 1 << 20, n: 64, k: 1 << 16 }).unwrap();
		assert!(never.contains("longest commit window (600 blocks)"), "{never}");
		// A device the chain thinks 100× faster than it measures itself gets a window it would
		// miss: 142 s of work and 30 s for the commit against 11 blocks.
		let overrated = Capacity { chain_gops: 100, ..capacity };
		let slow = overrated.refusal(&GemmShape { m: 4096, n: 4096, k: 4096 }).unwrap();
		let expected = "an estimated 142 s at 1 GOPS, plus 30 s for the commit to land, against \
		                a 66 s window";
		assert!(slow.contains(expected), "{slow}");
		// Rated as it measures itself, it has the time.
		let rated = Capacity { chain_gops: 1, ..overrated };
		assert_eq!(rated.refusal(&GemmShape { m: 4096, n: 4096, k: 4096 }), None);
		let disk = Capacity { free_disk: Some(DISK_RESERVE), ..overrated };
		let full = disk.refusal(&GemmShape { m: 512, n: 512, k: 512 }).unwrap();
		assert!(full.contains("1 MiB of disk and 64 MiB are free"), "{full}");
		// 1 MiB of output tree allowed: 512² outputs (16 384 leaves) need 1 MiB, 1024² need 4.
		let capped = Capacity { max_output: 1 << 20, ..rated };
		assert_eq!(capped.refusal(&GemmShape { m: 512, n: 512, k: 512 }), None);
		let big = capped.refusal(&GemmShape { m: 1024, n: 1024, k: 512 }).unwrap();
		assert!(big.contains("4 MiB of disk, more than --disk-mib 1"), "{big}");
	}

	#[test]
	fn the_largest_accepted_job_is_found_and_the_next_is_refused() {
		let backend = CpuBackend::new(1, 256).unwrap();
		let market = market();
		let capacity = Capacity {
			backend: &backend,
			market: &market,
			chain_gops: 10,
			gops: 10,
			free_disk: None,
			max_output: u64::MAX,
		};
		let cube = |s| GemmShape { m: s, n: s, k: s };
		let (biggest, next) = largest(&capacity, 65_536, cube).expect("some job fits");
		assert!(capacity.refusal(&biggest).is_none());
		let reason = next.expect("a larger one is refused");
		assert_eq!(capacity.refusal(&cube(biggest.m + 1)), Some(reason));
		// Its estimate leaves the commit its time.
		let (needed, window) = capacity.time(&biggest);
		assert!(needed + capacity.inclusion_seconds() <= window.unwrap());
		// Nothing is accepted by a device that can hold nothing.
		let tiny = Capacity { free_disk: Some(0), ..capacity };
		assert!(largest(&tiny, 65_536, cube).is_none());
	}

	#[test]
	fn a_layer_whose_output_outgrows_the_input_limit_is_refused() {
		let shape = |m, n| GemmShape { m, n, k: 1 };
		assert_eq!(layer_refusal(&shape(1024, 1024), 5 << 20), None);
		let refused = layer_refusal(&shape(1024, 1025), 5 << 20).expect("refused");
		assert!(refused.contains("--max-input-mib 5"), "{refused}");
		// The largest shapes the chain accepts do not overflow the estimate.
		assert!(layer_refusal(&shape(u32::MAX, u32::MAX), usize::MAX).is_none());
	}
}
