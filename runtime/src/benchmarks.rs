//! The pallets whose benchmarks the runtime runs (`runtime-benchmarks` feature): what
//! `frame-omni-bencher` measures against the runtime's wasm (`scripts/bench-weights.sh`) to
//! write each pallet's `weights.rs`.

frame_benchmarking::define_benchmarks!(
	[frame_benchmarking, BaselineBench::<Runtime>]
	[frame_system, SystemBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_devices, Devices]
	[pallet_compute_proof, ComputeProof]
	[pallet_jobs, Jobs]
	[pallet_rewards, Rewards]
	[pallet_models, Models]
);

impl frame_system_benchmarking::Config for crate::Runtime {}
impl frame_benchmarking::baseline::Config for crate::Runtime {}
