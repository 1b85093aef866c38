//! `proofgrid-node`: the ProofGrid full node.

mod chain_spec;
mod cli;
mod command;
mod rpc;
mod rpc_jobs;
mod service;

fn main() -> sc_cli::Result<()> {
	command::run()
}
