#!/usr/bin/env bash
# The whole test suite: setup, then every crate's tests, including the node integration tests
# that start the real proofgrid-node binary on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

bash scripts/setup.sh

echo "[test] cargo fmt --check"
cargo fmt --all -- --check

start=$(date +%s)
echo "[test] cargo test --workspace (target dir: $CARGO_TARGET_DIR)"
cargo test --workspace --locked -- --nocapture

# Benchmarks run as tests too (needs the runtime-benchmarks feature; pallets only, no wasm).
echo "[test] benchmark tests: pallet-devices, pallet-compute-proof, pallet-jobs"
cargo test --locked -p pallet-devices -p pallet-compute-proof -p pallet-jobs -p pallet-rewards --features runtime-benchmarks
echo "[test] done in $(( $(date +%s) - start )) s"
