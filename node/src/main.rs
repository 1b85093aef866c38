//! `proofgrid-node`: the ProofGrid full node.

// `sc_cli::Error` and `sc_service::Error` are Substrate's (~176 bytes); every node built on them
// returns them, and boxing them here would only add conversions.
#![allow(clippy::result_large_err)]

mod block_times;
mod chain_spec;
mod cli;
mod command;
mod rpc;
mod rpc_jobs;
mod service;

fn main() -> sc_cli::Result<()> {
	command::run()
}
