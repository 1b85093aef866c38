//! What every command shares: text or JSON output, the signer's default address, and the
//! lines that print a job's steps and outcome.

use std::time::Duration;

use anyhow::Result;
use proofgrid_client::{
	amount::format_grid, disputes::DisputeOutcome, jobs::JobOutcome, own::Step, parse_address,
	to_address, AccountId32, Keypair,
};
use proofgrid_primitives::check::DEFAULT_ROUNDS;
use serde_json::{json, Value};

/// How long the grant a command signs for its own download is good for.
pub(crate) const GRANT_FOR_DOWNLOAD: Duration = Duration::from_secs(600);

/// Prints either JSON or text.
pub(crate) struct Output {
	pub(crate) json: bool,
}

impl Output {
	pub(crate) fn print(&self, value: Value, text: impl FnOnce() -> String) {
		let line = if self.json { value.to_string() } else { text() };
		say(&line);
	}
}

/// Prints `line` on stdout. A reader that went away (`proofgrid … | head -1`) ends the
/// command quietly, with the status a shell gives a command killed by SIGPIPE, instead of
/// a panic (Rust ignores SIGPIPE, so `println!` would panic).
pub(crate) fn say(line: &str) {
	use std::io::Write;
	let mut stdout = std::io::stdout().lock();
	if let Err(e) = writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
		if e.kind() == std::io::ErrorKind::BrokenPipe {
			std::process::exit(141);
		}
		panic!("writing to stdout: {e}");
	}
}

pub(crate) fn address_or(text: Option<&str>, default: &Keypair) -> Result<AccountId32> {
	Ok(match text {
		Some(text) => parse_address(text)?,
		None => default.account(),
	})
}

/// A job's end as a line; `block_ms` turns a wait in blocks into seconds.
pub(crate) fn outcome_line(job: u64, outcome: &JobOutcome, block_ms: u64) -> String {
	match outcome {
		JobOutcome::Verified { device, dispute_until, block } => format!(
			"job {job} verified in #{block}: proof checked on chain; device {device} is paid after #{dispute_until} (in about {} s) unless an element is proven wrong before",
			u64::from(dispute_until.saturating_sub(*block)) * block_ms / 1000
		),
		JobOutcome::Settled { provider, payment, fee_burned, refund, block, .. } => format!(
			"job {job} settled in #{block}: proof verified; provider {provider} paid {} GRID, fee {} GRID burned, refund {} GRID + deposit",
			format_grid(*payment),
			format_grid(*fee_burned),
			format_grid(*refund)
		),
		JobOutcome::Failed { device, reason, slashed, compensation, block } => format!(
			"job {job} FAILED in #{block} ({reason}): device {device} lost {} GRID of collateral, client compensated {} GRID, the rest burned",
			format_grid(*slashed),
			format_grid(*compensation)
		),
		JobOutcome::Expired { block } => {
			format!("job {job} expired in #{block}: budget and deposit released")
		}
		JobOutcome::Cancelled { block } => format!("job {job} cancelled in #{block}"),
	}
}

/// Prints a step of a job on own data (`proofgrid_client::own`, `::layers`); `matrix` is its
/// output's name, `C` of a GEMM or `Y` of a layer.
pub(crate) fn print_step(out: &Output, id: u64, matrix: &str, step: Step, block_ms: u64) {
	let layer = matrix == "Y";
	let model = matrix == MODEL_OUTPUTS;
	match step {
		Step::Uploaded { device } => {
			out.print(json!({ "job": id, "uploadedTo": to_address(&device) }), || {
				format!("job {id}: inputs uploaded to device {}", to_address(&device))
			})
		}
		Step::InputsConfirmed => out.print(json!({ "job": id, "inputsConfirmed": true }), || {
			format!("job {id}: the device's receipt for the inputs is on chain")
		}),
		Step::Checked { millis } if model => out.print(
			json!({ "job": id, "checked": { "rounds": DEFAULT_ROUNDS, "ms": millis } }),
			|| {
				format!(
					"job {id}: every layer's output checked here in {millis:.1} ms (each layer recomputed on the previous layer's committed output)"
				)
			},
		),
		Step::Checked { millis } if layer => out.print(
			json!({ "job": id, "checked": { "rounds": DEFAULT_ROUNDS, "ms": millis } }),
			|| {
				format!(
					"job {id}: Y = layer(A, W, bias) checked here in {millis:.1} ms (Freivalds on the accumulators, {DEFAULT_ROUNDS} rounds, then every element)"
				)
			},
		),
		Step::Checked { millis } => out.print(
			json!({ "job": id, "freivalds": { "rounds": DEFAULT_ROUNDS, "ms": millis } }),
			|| {
				format!(
					"job {id}: C = A·B checked here in {millis:.0} ms (Freivalds, {DEFAULT_ROUNDS} rounds: a wrong C passes with probability ≤ 2⁻⁶⁴)"
				)
			},
		),
		Step::NoHint { reason } => {
			eprintln!("job {id}: no accumulators from the device ({reason}); checking the slow way")
		}
		Step::Wrong { row, column, found, expected } => {
			let reference = if layer || model { "the layer" } else { "A·B" };
			print_wrong(out, id, matrix, reference, (row as usize, column as usize), found, expected)
		}
		Step::Ruled(outcome) => out.print(json!({ "id": id, "end": outcome }), || {
			outcome_line(id, &outcome, block_ms)
		}),
		Step::Disputed { row, column, verdict } => {
			out.print(json!({ "job": id, "dispute": verdict }), || match &verdict {
				DisputeOutcome::Upheld { slashed, compensation } => format!(
					"job {id}: fraud proof of {matrix}[{row}][{column}] upheld: the device lost {} GRID of collateral; you were refunded and compensated {} GRID",
					format_grid(*slashed),
					format_grid(*compensation)
				),
				DisputeOutcome::Rejected { reason, deposit_burned } => format!(
					"job {id}: fraud proof of {matrix}[{row}][{column}] REJECTED ({reason}); {} GRID deposit burned",
					format_grid(*deposit_burned)
				),
			})
		}
	}
}

/// What [`print_step`] calls a model job's outputs.
pub(crate) const MODEL_OUTPUTS: &str = "the outputs";

/// The first values of an output, for a glance.
pub(crate) fn first_values(c: &[i32]) -> String {
	c.iter().take(4).map(|v| v.to_string()).collect::<Vec<_>>().join(", ")
}

/// Prints the wrong element a client's check found in `matrix` of job `id`: where, what the
/// device committed, and what `reference` gives.
pub(crate) fn print_wrong(
	out: &Output,
	id: u64,
	matrix: &str,
	reference: &str,
	(row, column): (usize, usize),
	found: i64,
	expected: i64,
) {
	out.print(
		json!({ "job": id, "wrongElement": { "row": row, "column": column, "committed": found, "expected": expected } }),
		|| format!(
			"job {id}: the committed {matrix} is WRONG: {matrix}[{row}][{column}] is {found}, {reference} gives {expected} ({matrix} not written)"
		),
	);
}
