//! The provider's sidecar as a library: the compute backends, the output tree, the job loop and
//! the services the `proofgrid-worker` binary runs. Tools that need a backend outside the
//! worker (the chain's capacity benchmark, `examples/capacity.rs`) use it from here.
//!
//! The folders are the worker's parts, each using only those listed after it:
//!
//! | folder | what it holds |
//! |---|---|
//! | [`tools`] | the commands beside the worker: `bench`, `limits`, `gpu-selftest` |
//! | [`device`] | one device's life: registration, heartbeats, admission, the job loop |
//! | [`kinds`] | what differs between job kinds on the device: supplied and layer reveals, the spot check |
//! | [`data`] | the data plane: the data service, its connection limits and TLS, URL fetches |
//! | [`store`] | what survives a crash: job state, output trees on disk, device keys |
//! | [`backend`] | the compute backends (CPU, CUDA) and their hashing |
//! | [`metrics`] | Prometheus metrics |

pub mod backend;
pub mod data;
pub mod device;
pub mod kinds;
pub mod metrics;
pub mod store;
pub mod tools;
