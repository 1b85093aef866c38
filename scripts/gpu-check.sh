#!/usr/bin/env bash
# One-command check of a GPU host, in two halves because a GPU machine may have no Rust:
#   scripts/gpu-check.sh build        here: release worker built and copied to .device/ (git-ignored)
#   scripts/gpu-check.sh run [DIR]    on the GPU machine (copy .device/ there first): nvidia-smi,
#                                     then `proofgrid-worker gpu-selftest` (driver, NVRTC, golden
#                                     roots bit for bit, bench), each step under a timeout; the
#                                     logs and gpu-selftest.json go to DIR (default gpu-check/).
# It needs the NVIDIA driver and NVRTC (CUDA 13: libnvrtc.so.13, e.g. /usr/local/cuda/lib64, or
# the nvidia-cuda-nvrtc wheel scripts/setup.sh unpacks); it finishes within 10 minutes on an
# H100/H200 (GPU_CHECK_SIZES, default 1024,4096,8192,16384, trims the bench).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${GPU_CHECK_SIZES:-1024,4096,8192,16384}

case "${1:-}" in
build)
	source scripts/env.sh
	cargo build --locked --release -p proofgrid-worker
	mkdir -p .device
	cp "$CARGO_TARGET_DIR/release/proofgrid-worker" .device/
	echo "built .device/proofgrid-worker; on the GPU machine: scripts/gpu-check.sh run [DIR]"
	;;
run)
	out=${2:-gpu-check}
	mkdir -p "$out"
	# NVRTC and the driver where CUDA installs put them, then ProofGrid's own NVRTC.
	for dir in /usr/local/cuda/lib64 /usr/local/cuda-13*/lib64 "$HOME/.cache/proofgrid/nvrtc-13.0.88/lib"; do
		[ -d "$dir" ] && export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	done
	{
		date -u
		timeout 30 nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv || echo "nvidia-smi: none or failed"
		timeout 30 nvidia-smi | head -4 || true
	} 2>&1 | tee "$out/nvidia-smi.log"
	status=0
	timeout 420 ./.device/proofgrid-worker gpu-selftest --sizes "$SIZES" --out "$out/gpu-selftest.json" 2>&1 \
		| tee "$out/gpu-selftest.log" || status=1
	# The phase split (inputs, GEMM alone, hashing, download) of the CUDA backend.
	timeout 120 ./.device/proofgrid-worker bench --backend cuda --sizes 4096,8192 --repeat 1 2>&1 \
		| tee "$out/bench-phases.log" || true
	exit $status
	;;
*)
	echo "usage: $0 build | run [DIR]" >&2
	exit 2
	;;
esac
