# Sourced by the scripts: one target directory outside the clone, shared by every clone and by
# CI, so a fresh clone reuses earlier builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/proofgrid/target}"
mkdir -p "$CARGO_TARGET_DIR"
# NVRTC and cuBLASLt from scripts/setup.sh, for compiling the CUDA kernels and creating the
# GEMM's descriptors in tests (no GPU needed).
for PROOFGRID_LIB in nvrtc-13.0.88 cublaslt-13.0.2.14; do
	PROOFGRID_LIB="${PROOFGRID_CACHE:-$HOME/.cache/proofgrid}/$PROOFGRID_LIB/lib"
	if [ -d "$PROOFGRID_LIB" ]; then
		export LD_LIBRARY_PATH="$PROOFGRID_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	fi
done
unset PROOFGRID_LIB
