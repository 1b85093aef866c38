# Sourced by the scripts: one target directory outside the clone, shared by every clone and by
# CI, so a fresh clone reuses earlier builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/proofgrid/target}"
mkdir -p "$CARGO_TARGET_DIR"
# NVRTC from scripts/setup.sh, for compiling the CUDA kernels in tests (no GPU needed).
PROOFGRID_NVRTC_LIB="${PROOFGRID_CACHE:-$HOME/.cache/proofgrid}/nvrtc-13.0.88/lib"
if [ -d "$PROOFGRID_NVRTC_LIB" ]; then
	export LD_LIBRARY_PATH="$PROOFGRID_NVRTC_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
