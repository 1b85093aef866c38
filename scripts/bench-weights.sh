#!/usr/bin/env bash
# Measures the weights of ProofGrid's pallets on this machine and writes each pallet's
# `weights.rs`: builds the runtime's wasm with its benchmarks (`runtime-benchmarks`) and runs
# `frame-omni-bencher` (installed from crates.io, pinned) against it. Not part of the tests
# (the benchmarks run as tests there, on tiny ranges); run it after a change to a pallet's
# logic or storage, and commit the generated files.
#
#   scripts/bench-weights.sh                 every pallet
#   scripts/bench-weights.sh pallet_jobs     one
#   STEPS=50 REPEAT=20 scripts/bench-weights.sh   more samples (defaults 20, 10)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

OMNI_VERSION=0.28.0
TOOLS="${PROOFGRID_CACHE:-$HOME/.cache/proofgrid}/tools"
OMNI="$TOOLS/bin/frame-omni-bencher"
if ! [ -x "$OMNI" ] || ! "$OMNI" --version | grep -q "$OMNI_VERSION"; then
	echo "[weights] installing frame-omni-bencher $OMNI_VERSION into $TOOLS (a long compile, once)"
	cargo install --locked --root "$TOOLS" frame-omni-bencher --version "$OMNI_VERSION"
fi

# A target directory of its own: the benchmark runtime has other features than the one the
# tests and the node embed, and must not replace their wasm.
BENCH_TARGET="$CARGO_TARGET_DIR/bench"
echo "[weights] building the runtime wasm with runtime-benchmarks"
CARGO_TARGET_DIR="$BENCH_TARGET" cargo build --locked -p proofgrid-runtime --features runtime-benchmarks
WASM="$BENCH_TARGET/debug/wbuild/proofgrid-runtime/proofgrid_runtime.wasm"

declare -A DIRS=(
	[pallet_devices]=pallets/devices
	[pallet_compute_proof]=pallets/compute-proof
	[pallet_jobs]=pallets/jobs
	[pallet_rewards]=pallets/rewards
	[pallet_models]=pallets/models
)
PALLETS=("${@:-pallet_devices pallet_compute_proof pallet_jobs pallet_rewards pallet_models}")
for pallet in ${PALLETS[*]}; do
	dir=${DIRS[$pallet]:?unknown pallet $pallet}
	echo "[weights] $pallet -> $dir/src/weights.rs"
	"$OMNI" v1 benchmark pallet \
		--runtime "$WASM" \
		--genesis-builder-preset development \
		--pallet "$pallet" --extrinsic '*' \
		--steps "${STEPS:-20}" --repeat "${REPEAT:-10}" \
		--template scripts/weights/template.hbs \
		--header scripts/weights/header.txt \
		--output "$dir/src/weights.rs"
done
cargo fmt --all
