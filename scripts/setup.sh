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
# apt_install WHAT PACKAGE...: installs Debian packages (with sudo unless root).
apt_install() {
	local what=$1 sudo=""
	shift
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	say "installing apt packages$what: $*"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}
if [ ${#missing[@]} -gt 0 ]; then
	apt_install "" "${missing[@]}"
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

# Shared libraries from a PyPI wheel, unpacked into ProofGrid's cache (no pip install, no
# Python package left behind):
#   install_wheel TITLE PACKAGE==VERSION DIR LIBRARY KEEP SKIP_VAR
# copies the files of the wheel's lib/ whose name matches the regular expression KEEP into
# DIR/lib, and checks that LIBRARY is among them. (Wheels have no symlinks: oneDNN's holds
# libdnnl.so, .so.3 and .so.3.2 as three copies, so KEEP takes the one the worker loads.)
install_wheel() {
	local title=$1 package=$2 dir=$3 library=$4 keep=$5 skip=$6
	if [ "${!skip:-0}" = 1 ]; then
		say "$title skipped ($skip=1)"
	elif [ -e "$dir/lib/$library" ]; then
		say "$title present in $dir"
	else
		say "installing $title ($package wheel from PyPI) into $dir"
		local tmp
		tmp=$(mktemp -d)
		python3 -m pip download -q --no-deps --only-binary=:all: --dest "$tmp" "$package"
		mkdir -p "$dir/lib"
		python3 - "$tmp" "$dir/lib" "$keep" <<'PY'
import glob, os, re, shutil, sys, zipfile
wheel = glob.glob(os.path.join(sys.argv[1], "*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        base = os.path.basename(name)
        if "/lib/" in name and re.fullmatch(sys.argv[3], base):
            with z.open(name) as src, open(os.path.join(sys.argv[2], base), "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
PY
		rm -rf "$tmp"
		[ -e "$dir/lib/$library" ] || { echo "$title: $library not in the wheel" >&2; exit 1; }
	fi
}

CACHE="${PROOFGRID_CACHE:-$HOME/.cache/proofgrid}"

# NVRTC (CUDA's run-time compiler, ~90 MB download, 110 MB on disk) so that tests compile every
# CUDA kernel to PTX on machines without a GPU or a CUDA toolkit (CUDA 13.0, as on the lent GPU
# machines); scripts/env.sh puts it on LD_LIBRARY_PATH. PROOFGRID_SKIP_NVRTC=1 does without (the
# NVRTC test then skips).
NVRTC_VERSION=13.0.88
install_wheel "NVRTC $NVRTC_VERSION" "nvidia-cuda-nvrtc==$NVRTC_VERSION" \
	"$CACHE/nvrtc-$NVRTC_VERSION" libnvrtc.so.13 'libnvrtc(-builtins)?\.so[.0-9]*' PROOFGRID_SKIP_NVRTC

# oneDNN (Intel's deep-learning kernels, ~39 MB download, 55 MB on disk): the CPU backend's int8
# GEMM on CPUs with AVX-512 VNNI or AMX (oneDNN 3.2, OpenMP threads). The worker loads it at run
# time; without it the worker uses its own VNNI kernel (docs/OPERATIONS.md, "The CPU backend's
# GEMM"). PROOFGRID_SKIP_ONEDNN=1 does without.
ONEDNN_VERSION=2023.2.0
install_wheel "oneDNN $ONEDNN_VERSION" "onednn-cpu-gomp==$ONEDNN_VERSION" \
	"$CACHE/onednn-$ONEDNN_VERSION" libdnnl.so.3 'libdnnl\.so\.3' PROOFGRID_SKIP_ONEDNN

# cuBLASLt (CUDA 13.0's, ~420 MB download, 540 MB on disk) so that tests create the int8 GEMM's
# descriptors and layouts on machines without a GPU (backend/cublaslt.rs); a GPU host uses its
# own CUDA's. scripts/env.sh puts it on LD_LIBRARY_PATH. PROOFGRID_SKIP_CUBLASLT=1 does without
# (that test then skips).
CUBLAS_VERSION=13.0.2.14
install_wheel "cuBLASLt $CUBLAS_VERSION" "nvidia-cublas==$CUBLAS_VERSION" \
	"$CACHE/cublaslt-$CUBLAS_VERSION" libcublasLt.so.13 'libcublasLt\.so\.13' PROOFGRID_SKIP_CUBLASLT

# Python: a virtual environment in ProofGrid's cache with NumPy, pytest and maturin, for the
# `proofgrid` package (python/) and its tests, and ONNX, ONNX Runtime and scikit-learn for the
# model importer's tests (examples/cnn; ~60 MB). scripts/python.sh installs the package into it.
VENV="$CACHE/venv"
PY_PACKAGES=("numpy>=1.21" "pytest>=7" "maturin>=1.9,<2"
	"onnx==1.23.2" "onnxruntime==1.32.0" "scikit-learn==1.9.1")
if [ ! -x "$VENV/bin/python" ]; then
	say "creating the Python environment $VENV"
	python3 -m venv "$VENV"
fi
if "$VENV/bin/python" -c 'import numpy, pytest, onnx, onnxruntime, sklearn' 2>/dev/null \
	&& [ -x "$VENV/bin/maturin" ]; then
	say "Python environment ready: $VENV (numpy, pytest, maturin, onnx, onnxruntime, scikit-learn)"
else
	say "installing into $VENV: ${PY_PACKAGES[*]}"
	"$VENV/bin/pip" install -q "${PY_PACKAGES[@]}"
fi

# The web console (console/, scripts/console.sh): Node.js and npm for its build (Vite,
# TypeScript) and its browser tests (playwright-core), Debian's Chromium for those tests, and
# wasm-bindgen-cli at exactly the version of the wasm-bindgen crate in Cargo.lock (~3 min to
# compile the first time). PROOFGRID_SKIP_CONSOLE=1 does without.
if [ "${PROOFGRID_SKIP_CONSOLE:-0}" = 1 ]; then
	say "console tools skipped (PROOFGRID_SKIP_CONSOLE=1)"
else
	missing=()
	command -v node >/dev/null 2>&1 || missing+=(nodejs)
	command -v npm >/dev/null 2>&1 || missing+=(npm)
	# (The browser is for the tests only: PROOFGRID_SKIP_BROWSER=1 builds without it.)
	[ "${PROOFGRID_SKIP_BROWSER:-0}" = 1 ] || command -v chromium >/dev/null 2>&1 || missing+=(chromium)
	[ ${#missing[@]} -eq 0 ] || apt_install " for the console" "${missing[@]}"
	WASM_BINDGEN_VERSION=$(sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"/\1/p}' Cargo.lock)
	TOOLS="$CACHE/tools"
	if [ "$("$TOOLS/bin/wasm-bindgen" --version 2>/dev/null)" = "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
		say "console tools present: node $(node --version), chromium, wasm-bindgen $WASM_BINDGEN_VERSION"
	else
		say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION into $TOOLS"
		# Not --locked: its lock names a crate version the registry mirror here lacks.
		cargo install -q wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --root "$TOOLS" \
			--target-dir "$CACHE/tools-build"
	fi
fi
