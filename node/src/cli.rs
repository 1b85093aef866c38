//! Command-line arguments of `proofgrid-node`.

use std::{fmt, str::FromStr};

/// How a dev node makes blocks instead of BABE + GRANDPA.
#[derive(Debug, Copy, Clone, PartialEq, Eq)]
pub enum Sealing {
	/// A block as soon as a transaction enters the pool; every block finalized at once.
	Instant,
	/// Only when asked over RPC (`engine_createBlock`, `engine_finalizeBlock`).
	Manual,
	/// A block (finalized) every so many milliseconds, empty or not.
	Interval(u64),
}

impl FromStr for Sealing {
	type Err = String;

	fn from_str(s: &str) -> Result<Self, Self::Err> {
		match s {
			"instant" => Ok(Self::Instant),
			"manual" => Ok(Self::Manual),
			ms => match ms.parse::<u64>() {
				Ok(0) => Err("the sealing interval must be at least 1 ms".into()),
				Ok(ms) => Ok(Self::Interval(ms)),
				Err(_) => Err(format!(
					"unknown sealing mode '{s}': expected 'instant', 'manual' or milliseconds"
				)),
			},
		}
	}
}

impl fmt::Display for Sealing {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			Self::Instant => write!(f, "instant"),
			Self::Manual => write!(f, "manual"),
			Self::Interval(ms) => write!(f, "every {ms} ms"),
		}
	}
}

#[derive(Debug, clap::Parser)]
#[command(
	propagate_version = true,
	args_conflicts_with_subcommands = true,
	subcommand_negates_reqs = true
)]
pub struct Cli {
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	#[clap(flatten)]
	pub run: sc_cli::RunCmd,

	/// Dev chains only: make blocks with manual seal instead of BABE + GRANDPA.
	/// `instant` (a block per transaction), `manual` (on `engine_createBlock`) or a number of
	/// milliseconds between blocks. Every sealed block is final at once.
	#[arg(long, value_name = "instant|manual|MILLISECONDS")]
	pub sealing: Option<Sealing>,
}

#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management: generate, inspect, insert keys.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Build a chain specification (deprecated upstream in favour of `export-chain-spec`).
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Export the chain specification of `--chain`.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Database metadata.
	ChainInfo(sc_cli::ChainInfoCmd),
}

#[cfg(test)]
mod tests {
	use super::Sealing;

	#[test]
	fn parses_sealing_modes() {
		assert_eq!("instant".parse::<Sealing>(), Ok(Sealing::Instant));
		assert_eq!("manual".parse::<Sealing>(), Ok(Sealing::Manual));
		assert_eq!("500".parse::<Sealing>(), Ok(Sealing::Interval(500)));
		assert!("0".parse::<Sealing>().is_err());
		assert!("fast".parse::<Sealing>().is_err());
	}
}
