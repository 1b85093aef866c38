#!/usr/bin/env bash
# Builds and installs the `proofgrid` Python package (python/) into ProofGrid's virtual
# environment, then runs its tests against a real node and worker unless told otherwise.
#
#   scripts/python.sh            install, then pytest python/tests
#   scripts/python.sh install    install only
#
# The package is built by maturin from the workspace's build (the dev profile, the shared
# $CARGO_TARGET_DIR), so after `cargo build --workspace` it only compiles its own crate.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
VENV="${PROOFGRID_CACHE:-$HOME/.cache/proofgrid}/venv"
[ -x "$VENV/bin/maturin" ] || bash scripts/setup.sh
# maturin's build backend runs `maturin` from PATH.
export PATH="$VENV/bin:$PATH"
started=$(date +%s)
pip install -q --no-build-isolation --force-reinstall --no-deps ./python
echo "[python] proofgrid installed into $VENV in $(( $(date +%s) - started )) s"
[ "${1:-test}" = install ] && exit 0
# The fraud test needs the fault-injection worker (scripts/test.sh builds it).
export PROOFGRID_REQUIRE_FAULTY="${PROOFGRID_REQUIRE_FAULTY:-${PROOFGRID_FAULTY_WORKER:+1}}"
cd python/tests
python -m pytest -q -s -p no:cacheprovider .
