#!/usr/bin/env bash
# Installs what a new machine lacks to build ProofGrid, and says what it installs.
# Idempotent: a machine that has everything is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "[setup] $*"; }

# System packages: clang/libclang for bindgen (-sys crates), protoc for libp2p's protobufs,
# docker-compose to validate docker-compose.yml in the tests (it needs no Docker engine).
missing=()
command -v clang >/dev/null 2>&1 || missing+=(clang)
ls /usr/lib/llvm-*/lib/libclang.so* >/dev/null 2>&1 || missing+=(libclang-dev)
command -v protoc >/dev/null 2>&1 || missing+=(protobuf-compiler)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
# libgomp: oneDNN's OpenMP threads (below).
ldconfig -p 2>/dev/null | grep -q 'libgomp.so.1 ' || missing+=(libgomp1)
if [ ${#missing[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	say "installing apt packages: ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
else
	say "apt packages present: clang libclang-dev protobuf-compiler docker-compose libgomp1"
fi

# Rust: rustup reads rust-toolchain.toml (1.95.0, wasm targets, rust-src) and installs what
# is missing the first time a cargo command runs here; make that happen now, visibly.
if ! command -v rustup >/dev/null 2>&1; then
	say "rustup not found: install it from your distribution or rustup.rs, then rerun" >&2
	exit 1
fi
toolchain=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
if ! rustup toolchain list | grep -q "^$toolchain"; then
	say "installing Rust $toolchain"
fi
rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install "$toolchain"
for target in wasm32v1-none wasm32-unknown-unknown; do
	if ! rustup target list --toolchain "$toolchain" --installed | grep -qx "$target"; then
		say "adding Rust target $target"
		rustup target add --toolchain "$toolchain" "$target"
	fi
done
for component in rust-src rustfmt clippy; do
	if ! rustup component list --toolchain "$toolchain" --installed | grep -q "^$component"; then
		say "adding Rust component $component"
		rustup component add --toolchain "$toolchain" "$component"
	fi
done
say "Rust $toolchain with wasm32v1-none, wasm32-unknown-unknown, rust-src: ready"

# NVRTC (CUDA's run-time compiler, ~110 MB) so that tests compile every CUDA kernel to PTX on
# machines without a GPU or a CUDA toolkit. From PyPI's nvidia-cuda-nvrtc wheel (CUDA 13.0, as
# on the lent GPU machines), unpacked into ProofGrid's cache; scripts/env.sh puts it on
# LD_LIBRARY_PATH. Set PROOFGRID_SKIP_NVRTC=1 to do without (the NVRTC test then skips).
NVRTC_VERSION=13.0.88
NVRTC_DIR="${PROOFGRID_CACHE:-$HOME/.cache/proofgrid}/nvrtc-$NVRTC_VERSION"
if [ "${PROOFGRID_SKIP_NVRTC:-0}" = 1 ]; then
	say "NVRTC skipped (PROOFGRID_SKIP_NVRTC=1)"
elif [ -e "$NVRTC_DIR/lib/libnvrtc.so.13" ]; then
	say "NVRTC $NVRTC_VERSION present in $NVRTC_DIR"
else
	say "installing NVRTC $NVRTC_VERSION (nvidia-cuda-nvrtc wheel, ~90 MB download) into $NVRTC_DIR"
	tmp=$(mktemp -d)
	python3 -m pip download -q --no-deps --only-binary=:all: --dest "$tmp" \
		"nvidia-cuda-nvrtc==$NVRTC_VERSION"
	mkdir -p "$NVRTC_DIR/lib"
	python3 - "$tmp" "$NVRTC_DIR/lib" <<'PY'
import glob, os, sys, zipfile
wheel = glob.glob(os.path.join(sys.argv[1], "*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if "/lib/" in name and ".so" in name and not ".alt." in name:
            target = os.path.join(sys.argv[2], os.path.basename(name))
            with z.open(name) as src, open(target, "wb") as dst:
                dst.write(src.read())
PY
	rm -rf "$tmp"
fi

# oneDNN (Intel's deep-learning kernels, ~39 MB download): the CPU backend's int8 GEMM on CPUs
# with AVX-512 VNNI or AMX. From PyPI's onednn-cpu-gomp wheel (oneDNN 3.2, OpenMP threads),
# unpacked into ProofGrid's cache, where the worker loads it at run time; without it the worker
# uses its own VNNI kernel (docs/OPERATIONS.md, "CPU backend"). PROOFGRID_SKIP_ONEDNN=1 skips it.
ONEDNN_VERSION=2023.2.0
ONEDNN_DIR="${PROOFGRID_CACHE:-$HOME/.cache/proofgrid}/onednn-$ONEDNN_VERSION"
if [ "${PROOFGRID_SKIP_ONEDNN:-0}" = 1 ]; then
	say "oneDNN skipped (PROOFGRID_SKIP_ONEDNN=1)"
elif [ -e "$ONEDNN_DIR/lib/libdnnl.so.3" ]; then
	say "oneDNN $ONEDNN_VERSION present in $ONEDNN_DIR"
else
	say "installing oneDNN $ONEDNN_VERSION (onednn-cpu-gomp wheel, ~39 MB download) into $ONEDNN_DIR"
	tmp=$(mktemp -d)
	python3 -m pip download -q --no-deps --only-binary=:all: --dest "$tmp" \
		"onednn-cpu-gomp==$ONEDNN_VERSION"
	mkdir -p "$ONEDNN_DIR/lib"
	python3 - "$tmp" "$ONEDNN_DIR/lib" <<'PY'
import glob, os, sys, zipfile
wheel = glob.glob(os.path.join(sys.argv[1], "*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        # The wheel holds the library three times (no symlinks in wheels): keep one.
        if name.endswith("/lib/libdnnl.so.3"):
            with z.open(name) as src, open(os.path.join(sys.argv[2], "libdnnl.so.3"), "wb") as dst:
                dst.write(src.read())
PY
	rm -rf "$tmp"
	[ -e "$ONEDNN_DIR/lib/libdnnl.so.3" ] || { echo "oneDNN: libdnnl.so.3 not in the wheel" >&2; exit 1; }
fi
