//! The provider's sidecar as a library: the compute backends, the output tree, the job loop and
//! the services the `proofgrid-worker` binary runs. Tools that need a backend outside the
//! worker (the chain's capacity benchmark, `examples/capacity.rs`) use it from here.

pub mod admission;
pub mod backend;
pub mod bench;
pub mod connections;
pub mod data_service;
pub mod fetch;
pub mod hashing;
pub mod jobs;
pub mod keystore;
pub mod layer;
pub mod limits;
pub mod metrics;
pub mod output;
pub mod selftest;
pub mod spot_check;
pub mod state;
pub mod supplied;
pub mod throughput;
pub mod tls;
