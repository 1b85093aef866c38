#!/usr/bin/env bash
# GPU benchmark of proofgrid-worker, in two halves because the GPU machine has no Rust:
#   scripts/gpu-bench.sh build   here: release build, binary copied to .device/ (git-ignored)
#   scripts/gpu-bench.sh run     on the GPU machine (the device tool carries .device/ there):
#                                nvidia-smi, then `bench --backend cuda --verify`
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${GPU_BENCH_SIZES:-1024,4096,8192,16384}

case "${1:-}" in
build)
	source scripts/env.sh
	cargo build --locked --release -p proofgrid-worker
	mkdir -p .device
	cp "$CARGO_TARGET_DIR/release/proofgrid-worker" .device/
	echo "built .device/proofgrid-worker; run 'scripts/gpu-bench.sh run' on the GPU machine (carry .device)"
	;;
run)
	nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true
	ls /usr/local/cuda*/lib64/libnvrtc.so* /usr/lib/x86_64-linux-gnu/libnvrtc.so* 2>/dev/null || true
	./.device/proofgrid-worker bench --backend cuda --verify --repeat 3 --sizes "$SIZES"
	;;
*)
	echo "usage: $0 build|run" >&2
	exit 2
	;;
esac
