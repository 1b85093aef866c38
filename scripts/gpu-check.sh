#!/usr/bin/env bash
# One-command check of a GPU host, in two halves because a GPU machine may have no Rust:
#   scripts/gpu-check.sh build        here: release worker built and copied to .device/ (git-ignored)
#   scripts/gpu-check.sh run [DIR]    on the GPU machine (copy .device/ there first): nvidia-smi,
#                                     then `proofgrid-worker gpu-selftest` (driver, NVRTC, golden
#                                     roots bit for bit, bench), each step under a timeout; the
#                                     logs and gpu-selftest.json go to DIR (default gpu-check/).
# It needs the NVIDIA driver and NVRTC (CUDA 13: libnvrtc.so.13, e.g. /usr/local/cuda/lib64, or
# the nvidia-cuda-nvrtc wheel scripts/setup.sh unpacks); cuBLASLt (libcublasLt.so.13) where it
# is, else the GPU multiplies with the worker's own kernel and the self-test says why. It
# finishes within 10 minutes on an H100/H200 (GPU_CHECK_SIZES, default 1024,4096,8192,16384,
# trims the bench).
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
	chmod +x .device/proofgrid-worker
	# NVRTC and cuBLASLt (CUDA 13: libnvrtc.so.13, libcublasLt.so.13) where CUDA installs put
	# them, in Python's NVIDIA wheels, then in ProofGrid's cache; the driver's own path stays.
	purelib=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' 2>/dev/null || true)
	for dir in "$HOME/.cache/proofgrid/nvrtc-13.0.88/lib" "$HOME/.cache/proofgrid/cublaslt-13.0.2.14/lib" \
		${purelib:+"$purelib"/nvidia/cu13/lib} /usr/local/cuda-13*/lib64 /usr/local/cuda/lib64; do
		[ -d "$dir" ] && export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	done
	echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}" | tee "$out/libraries.log"
	for lib in libcuda.so.1 libnvrtc.so.13 libcublasLt.so.13; do
		where="not on LD_LIBRARY_PATH (the system loader may still find it)"
		IFS=: read -ra dirs <<<"${LD_LIBRARY_PATH:-}"
		for d in "${dirs[@]}" /usr/lib/x86_64-linux-gnu /usr/local/nvidia/lib64; do
			if [ -e "$d/$lib" ]; then where="$d/$lib"; break; fi
		done
		echo "$lib: $where"
	done 2>&1 | tee -a "$out/libraries.log"
	{ ldconfig -p 2>/dev/null | grep -E 'libcuda\.|libnvrtc|libcublasLt' || true; } | tee -a "$out/libraries.log"
	{
		date -u
		timeout 30 nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv || echo "nvidia-smi: none or failed"
		timeout 30 nvidia-smi | head -4 || true
	} 2>&1 | tee "$out/nvidia-smi.log"
	status=0
	# The CPU computes up to 8192 too, so that the GPU's multi-block jobs have a root to equal.
	timeout 240 ./.device/proofgrid-worker gpu-selftest --sizes "$SIZES" --cpu-max-size 8192 \
		--out "$out/gpu-selftest.json" 2>&1 \
		| tee "$out/gpu-selftest.log" || status=1
	# The phase split (inputs, GEMM alone, hashing, download, tree on the host and on the
	# device) of the CUDA backend, and cuBLASLt alone on the same product.
	timeout 90 ./.device/proofgrid-worker bench --backend cuda --sizes 4096,8192 --repeat 2 2>&1 \
		| tee "$out/bench-phases.log" || true
	exit $status
	;;
*)
	echo "usage: $0 build | run [DIR]" >&2
	exit 2
	;;
esac
