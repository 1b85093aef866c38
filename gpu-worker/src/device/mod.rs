//! One device's life on the chain: [`admission`] decides which jobs fit this host,
//! [`throughput`] measures what it can promise, and the [`worker`] runs the loop — register,
//! heartbeat, claim, compute, commit, reveal — recording each step first.

pub mod admission;
pub mod throughput;
pub mod worker;

pub use worker::*;
