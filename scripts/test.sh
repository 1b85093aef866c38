#!/usr/bin/env bash
# The whole test suite: setup, then every crate's tests, including the node integration tests
# that start the real proofgrid-node binary on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

bash scripts/setup.sh
# setup.sh installed NVRTC: the kernel compile test must run, not skip.
source scripts/env.sh
[ "${PROOFGRID_SKIP_NVRTC:-0}" = 1 ] || export PROOFGRID_REQUIRE_NVRTC=1

echo "[test] cargo fmt --check"
cargo fmt --all -- --check
echo "[test] docker-compose.yml (docker-compose config, no engine needed)"
python3 scripts/check-compose.py
echo "[test] scripts: devnet.sh refuses busy ports"
bash scripts/tests/devnet-busy-port.sh

start=$(date +%s)
# The end-to-end test runs a cheating worker: the `fault-injection` build, kept aside. Built
# with --workspace so that every dependency keeps the feature set of the normal build (only
# the worker crate itself is compiled twice).
echo "[test] building the fault-injection worker for the end-to-end test"
cargo build --workspace --locked --features proofgrid-worker/fault-injection
mkdir -p "$CARGO_TARGET_DIR/fault-injection"
cp "$CARGO_TARGET_DIR/debug/proofgrid-worker" "$CARGO_TARGET_DIR/fault-injection/proofgrid-worker"
export PROOFGRID_FAULTY_WORKER="$CARGO_TARGET_DIR/fault-injection/proofgrid-worker"

echo "[test] cargo test --workspace (target dir: $CARGO_TARGET_DIR)"
cargo test --workspace --locked -- --nocapture

# The Python package, built from the workspace's build, against a real node and workers.
echo "[test] python: pip install ./python, then pytest python/tests (scripts/python.sh)"
bash scripts/python.sh

# The web console in Debian's Chromium (playwright-core), against a real node and workers.
echo "[test] console: build, then the browser tests (scripts/console.sh test)"
bash scripts/console.sh test

# The documentation's runnable examples, against a fresh dev chain and worker.
echo "[test] docs: the runnable examples (scripts/docs-check.sh)"
bash scripts/docs-check.sh

# Benchmarks run as tests too (needs the runtime-benchmarks feature; pallets only, no wasm).
echo "[test] benchmark tests: pallet-devices, pallet-compute-proof, pallet-jobs, pallet-rewards"
cargo test --locked -p pallet-devices -p pallet-compute-proof -p pallet-jobs -p pallet-rewards -p pallet-models --features runtime-benchmarks
echo "[test] done in $(( $(date +%s) - start )) s"
