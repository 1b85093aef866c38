#!/usr/bin/env bash
# The web console (console/): build it, serve it on loopback, or run its browser tests.
#
#   scripts/console.sh build            the primitives to wasm, then the app into console/dist
#   scripts/console.sh serve [PORT]     build, then serve on http://127.0.0.1:PORT (5173)
#   scripts/console.sh test [--screenshots DIR]
#                                       build, then the browser tests against a real node and
#                                       workers (needs the workspace's debug binaries and
#                                       PROOFGRID_FAULTY_WORKER, as scripts/test.sh sets up)
#   scripts/console.sh load [JOBS]      build, then time the pages against a chain holding JOBS
#                                       open jobs (10 000), and print the bundle's size
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
say() { echo "[console] $*"; }
WASM_BINDGEN="${PROOFGRID_CACHE:-$HOME/.cache/proofgrid}/tools/bin/wasm-bindgen"

build() {
	[ -x "$WASM_BINDGEN" ] || { say "wasm-bindgen-cli missing: run scripts/setup.sh"; exit 1; }
	say "primitives → wasm (proofgrid-console-wasm, release)"
	cargo build -q --locked --release -p proofgrid-console-wasm --target wasm32-unknown-unknown
	"$WASM_BINDGEN" --target web --out-dir console/src/wasm-pkg --out-name proofgrid \
		"$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/proofgrid_console_wasm.wasm"
	cd console
	# npm ci only when the lock changed since the last install (it deletes node_modules).
	lock=$(sha256sum package-lock.json | cut -d' ' -f1)
	if [ "$(cat node_modules/.proofgrid-lock 2>/dev/null)" != "$lock" ]; then
		say "npm ci"
		npm ci --no-audit --no-fund --loglevel=error
		echo "$lock" >node_modules/.proofgrid-lock
	fi
	say "type check and bundle (tsc, vite build)"
	npx tsc --noEmit -p .
	npx vite build --logLevel warn
	cd ..
	say "built: console/dist ($(du -sh console/dist | cut -f1); $(find console/dist -name '*.js' -exec du -ch {} + | tail -1 | cut -f1) of JavaScript)"
}

case "${1:-build}" in
build) build ;;
serve)
	build
	port="${2:-5173}"
	say "serving console/dist on http://127.0.0.1:$port (a dev node: ws://127.0.0.1:9944)"
	cd console && exec npx vite preview --host 127.0.0.1 --port "$port" --strictPort
	;;
test)
	build
	shift
	cd console && node tests/run.mjs "$@"
	;;
load)
	build
	cd console && node tests/load.mjs "${2:-10000}"
	;;
*)
	echo "usage: scripts/console.sh build | serve [PORT] | test [--screenshots DIR] | load [JOBS]" >&2
	exit 2
	;;
esac
