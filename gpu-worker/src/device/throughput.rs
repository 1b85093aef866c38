//! The device's own throughput: measured on a short calibration job at start (and cached in
//! the device's state directory), so the figure it advertises on chain — which sizes its commit
//! windows, a promise backed by collateral — and the run-time estimate it checks every job
//! against are its own, not a table's.

use std::{path::Path, time::Instant};

use anyhow::Result;
use proofgrid_primitives::gemm::GemmShape;
use serde::{Deserialize, Serialize};

use crate::backend::Backend;

/// The calibration job: 2.7·10⁸ operations, a fraction of a second on any backend.
const CALIBRATION: GemmShape = GemmShape { m: 512, n: 512, k: 512 };
/// Runs of it; the best counts (the first pays for warm-up).
const RUNS: usize = 3;

/// A measurement, cached per device and backend.
#[derive(Serialize, Deserialize)]
struct Cached {
	backend: String,
	gops: u64,
}

/// The throughput of `backend` in GOPS (at least 1): read from `cache` if it was measured for
/// this backend before, measured (and cached) otherwise.
pub fn measured_gops(backend: &dyn Backend, cache: &Path) -> Result<u64> {
	if let Ok(bytes) = std::fs::read(cache) {
		if let Ok(cached) = serde_json::from_slice::<Cached>(&bytes) {
			if cached.backend == backend.name() {
				return Ok(cached.gops);
			}
		}
	}
	let mut best = f64::MAX;
	for run in 0..RUNS {
		let started = Instant::now();
		backend.leaf_hashes(&CALIBRATION, &[run as u8; 32])?;
		best = best.min(started.elapsed().as_secs_f64());
	}
	let gops = ((CALIBRATION.ops() as f64 / 1e9 / best.max(1e-9)) as u64).max(1);
	std::fs::write(cache, serde_json::to_vec(&Cached { backend: backend.name(), gops })?)?;
	Ok(gops)
}

/// What a device advertises on chain for a measured throughput: 80% of it. The chain sizes
/// every commit window from the advertised figure, so each window holds a quarter more time
/// than the device's own estimate — a margin for a job that runs slower than the calibration
/// that grows with the job, where a fixed margin would cap job size.
pub fn advertised(measured_gops: u64) -> u64 {
	(measured_gops.saturating_mul(4) / 5).max(1)
}

/// Seconds a device of `gops` needs for a job of `shape`, counting `ops_per_leaf` for hashing
/// each output leaf (the same work the chain sizes the commit window from).
pub fn estimated_seconds(shape: &GemmShape, ops_per_leaf: u64, gops: u64) -> f64 {
	shape.commit_work(ops_per_leaf) as f64 / (gops.max(1) as f64 * 1e9)
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::backend::{cpu::CpuBackend, Backend};

	#[test]
	fn a_measurement_is_positive_cached_and_tied_to_its_backend() {
		let dir = tempfile::tempdir().unwrap();
		let cache = dir.path().join("throughput.json");
		let backend = CpuBackend::new(1, 64).unwrap();
		let gops = measured_gops(&backend, &cache).unwrap();
		assert!(gops >= 1);
		// A cached figure is reused as is…
		let name = backend.name();
		std::fs::write(&cache, format!(r#"{{"backend":"{name}","gops":12345}}"#)).unwrap();
		assert_eq!(measured_gops(&backend, &cache).unwrap(), 12345);
		// …but not one of another backend.
		std::fs::write(&cache, br#"{"backend":"cuda:0","gops":12345}"#).unwrap();
		assert_ne!(measured_gops(&backend, &cache).unwrap(), 12345);
	}

	#[test]
	fn estimates_count_operations_and_leaves() {
		let shape = GemmShape { m: 1024, n: 1024, k: 512 };
		assert!((estimated_seconds(&shape, 0, 1) - 1.073741824).abs() < 1e-9);
		let leaves = shape.leaf_count() as f64 * 4096.0 / 1e9;
		assert!((estimated_seconds(&shape, 4096, 1) - 1.073741824 - leaves).abs() < 1e-9);
		assert!((estimated_seconds(&shape, 0, 2) - 0.536870912).abs() < 1e-9);
	}
}
