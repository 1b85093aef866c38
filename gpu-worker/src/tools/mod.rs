//! The worker's commands beside `run`: [`bench`] (kernel throughput), [`limits`] (the largest
//! jobs this host accepts on a chain) and [`selftest`] (`gpu-selftest`: the CUDA backend
//! against the CPU reference).

pub mod bench;
pub mod limits;
pub mod selftest;
