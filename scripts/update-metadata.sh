#!/usr/bin/env bash
# Regenerates client/metadata/proofgrid.scale from the runtime as built from this tree. Run it
# after any change to a call, event, error, storage item or runtime API; the client's test
# `metadata_file_matches_the_runtime` fails until you do.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
# --workspace: the same feature set as every other build, so nothing is compiled twice.
cargo build --locked -q --workspace --examples
"$CARGO_TARGET_DIR/debug/examples/export_metadata" client/metadata/proofgrid.scale
