//! GRID amounts as people write them (`1.5`) and as the chain keeps them (planck, 10⁻¹²).

use crate::{Balance, GRID};

/// Decimal places of GRID.
pub const DECIMALS: usize = 12;

/// Parses `"1.5"`, `"0.000000000001"` or `"42"` (GRID) into planck.
pub fn parse_grid(text: &str) -> Result<Balance, String> {
	let text = text.trim();
	let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
	if whole.is_empty() && fraction.is_empty() {
		return Err(format!("{text:?} is not an amount"));
	}
	if fraction.len() > DECIMALS {
		return Err(format!("{text:?} has more than {DECIMALS} decimals"));
	}
	let digits = |s: &str| s.is_empty() || s.bytes().all(|b| b.is_ascii_digit());
	if !digits(whole) || !digits(fraction) {
		return Err(format!("{text:?} is not an amount"));
	}
	let whole: Balance =
		if whole.is_empty() { 0 } else { whole.parse().map_err(|e| format!("{e}"))? };
	let fraction: Balance =
		format!("{fraction:0<DECIMALS$}").parse().map_err(|e| format!("{e}"))?;
	whole
		.checked_mul(GRID)
		.and_then(|w| w.checked_add(fraction))
		.ok_or_else(|| format!("{text:?} is too large"))
}

/// Formats planck as GRID without trailing zeros: `1500000000000` → `"1.5"`.
pub fn format_grid(planck: Balance) -> String {
	let whole = planck / GRID;
	let fraction = planck % GRID;
	if fraction == 0 {
		return whole.to_string();
	}
	let fraction = format!("{fraction:0>DECIMALS$}");
	format!("{whole}.{}", fraction.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn amounts_round_trip() {
		for (text, planck) in [
			("1", GRID),
			("1.5", GRID + GRID / 2),
			("0.000000000001", 1),
			(".25", GRID / 4),
			("1000000", 1_000_000 * GRID),
		] {
			assert_eq!(parse_grid(text), Ok(planck), "{text}");
		}
		assert_eq!(format_grid(GRID + GRID / 2), "1.5");
		assert_eq!(format_grid(1), "0.000000000001");
		assert_eq!(format_grid(0), "0");
		assert_eq!(format_grid(450 * GRID), "450");
	}

	#[test]
	fn bad_amounts_are_refused() {
		for text in ["", ".", "1.2.3", "-1", "1e3", "0.0000000000001", "abc"] {
			assert!(parse_grid(text).is_err(), "{text:?}");
		}
		assert!(parse_grid(&"9".repeat(40)).is_err());
	}
}
