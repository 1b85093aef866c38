//! `proofgrid rewards …`: eras, pending rewards and claims.

use anyhow::Result;
use clap::Subcommand;
use proofgrid_client::{amount::format_grid, to_address, Client, Keypair};
use serde_json::json;

use crate::output::{address_or, say, Output};

#[derive(Subcommand)]
pub(crate) enum RewardsCommand {
	/// Claimable rewards and the current era.
	Show {
		/// Account address; the signer by default.
		account: Option<String>,
	},
	/// Claim one era's rewards, or all pending ones.
	Claim {
		/// The era; all pending eras by default.
		#[arg(long)]
		era: Option<u32>,
	},
}

pub(crate) async fn run(
	client: &Client,
	signer: &Keypair,
	out: &Output,
	command: RewardsCommand,
) -> Result<()> {
	match command {
		RewardsCommand::Show { account } => {
			let who = address_or(account.as_deref(), signer)?;
			let pending = client.pending_rewards(&who).await?;
			let era = client.current_era().await?;
			let total: u128 = pending.iter().map(|p| p.amount).sum();
			out.print(
				json!({ "account": to_address(&who), "pending": pending, "currentEra": era }),
				|| {
					let mut lines = vec![format!(
						"era {} (blocks #{}..#{}): {} units so far, {} GRID fees burned; mints min(schedule {} GRID, ρ × fees) = {} GRID",
						era.era,
						era.start,
						era.end,
						era.units,
						format_grid(era.fees),
						format_grid(era.emission),
						format_grid(era.mintable)
					)];
					for p in &pending {
						lines.push(format!(
							"  era {}: {} unit(s), {} GRID fees burned → {} GRID",
							p.era,
							p.units,
							format_grid(p.fees),
							format_grid(p.amount)
						));
					}
					lines.push(format!(
						"{} can claim {} GRID",
						to_address(&who),
						format_grid(total)
					));
					lines.join("\n")
				},
			);
		}
		RewardsCommand::Claim { era } => {
			let eras: Vec<u32> = match era {
				Some(era) => vec![era],
				None => {
					client.pending_rewards(&signer.account()).await?.iter().map(|p| p.era).collect()
				}
			};
			let mut claimed = vec![];
			for era in eras {
				let amount = client.claim_rewards(signer, era).await?;
				claimed.push(json!({ "era": era, "amount": amount.to_string() }));
				if !out.json {
					say(&format!("claimed {} GRID for era {era}", format_grid(amount)));
				}
			}
			if out.json {
				say(&json!(claimed).to_string());
			} else if claimed.is_empty() {
				say("nothing to claim");
			}
		}
	}
	Ok(())
}
