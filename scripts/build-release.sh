#!/usr/bin/env bash
# Release binaries for operators: proofgrid-node (its runtime built with the metadata hash, so
# offline signers can check what they sign), proofgrid-worker and the proofgrid CLI.
#
#   scripts/build-release.sh            build, then print the time, sizes and the node's start-up
#   OUT=dir scripts/build-release.sh    also copy the binaries and the runtime wasm into dir
#
# The binaries land in $CARGO_TARGET_DIR/release. The release profile is a separate build from
# the debug one the tests use: expect most of an hour on two cores the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/setup.sh
source scripts/env.sh

REL="$CARGO_TARGET_DIR/release"
WASM="$REL/wbuild/proofgrid-runtime/proofgrid_runtime.compact.compressed.wasm"

start=$(date +%s)
cargo build --locked --release --features proofgrid-node/metadata-hash \
	-p proofgrid-node -p proofgrid-worker -p proofgrid-client
echo "[release] built in $(($(date +%s) - start)) s"

for f in "$REL/proofgrid-node" "$REL/proofgrid-worker" "$REL/proofgrid" "$WASM"; do
	awk -v f="${f#"$CARGO_TARGET_DIR"/}" -v b="$(stat -c %s "$f")" \
		'BEGIN { printf "[release] %-60s %6.1f MiB\n", f, b / 1048576 }'
done

# Start-up: from exec to the first JSON-RPC answer, on a fresh dev chain.
tmp=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
t0=$(date +%s.%N)
"$REL/proofgrid-node" --dev --base-path "$tmp" --rpc-port "$port" --no-prometheus \
	--no-telemetry --no-mdns --listen-addr /ip4/127.0.0.1/tcp/0 >"$tmp/node.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 1 600); do
	if curl -s --max-time 1 -H 'Content-Type: application/json' \
		-d '{"id":1,"jsonrpc":"2.0","method":"system_health","params":[]}' \
		"http://127.0.0.1:$port" | grep -q result; then
		awk -v a="$t0" -v b="$(date +%s.%N)" \
			'BEGIN { printf "[release] the node answers RPC %.2f s after start\n", b - a }'
		break
	fi
	sleep 0.05
done

if [ -n "${OUT:-}" ]; then
	mkdir -p "$OUT"
	cp "$REL/proofgrid-node" "$REL/proofgrid-worker" "$REL/proofgrid" "$WASM" "$OUT/"
	echo "[release] copied to $OUT"
fi
