# Sourced by the scripts: one target directory outside the clone, shared by every clone and by
# CI, so a fresh clone reuses earlier builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/proofgrid/target}"
mkdir -p "$CARGO_TARGET_DIR"
