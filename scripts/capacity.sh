#!/usr/bin/env bash
# The chain's capacity in transactions and verified jobs per block, measured on this machine:
# starts a release proofgrid-node (dev chain, manual seal: the production runtime and block
# limits, a block made on request) and runs gpu-worker/examples/capacity.rs against it, which
# prints a row per block and a summary (docs/WEIGHTS.md has a run and how to read it).
#
#   scripts/capacity.sh                                  the default sizes
#   scripts/capacity.sh --transfers 20000 --seeded 300   any of the example's options
#
# Not part of the tests: it takes minutes and measures, it does not check.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

PORT=${CAPACITY_RPC_PORT:-9977}
# The same features as scripts/build-release.sh, so that both share one release build.
cargo build --locked --release --features proofgrid-node/metadata-hash \
	-p proofgrid-node -p proofgrid-worker -p proofgrid-client --bins --example capacity
REL="$CARGO_TARGET_DIR/release"
BASE=$(mktemp -d)
NODE_PID=
cleanup() {
	[ -z "$NODE_PID" ] || kill -INT "$NODE_PID" 2>/dev/null || true
	sleep 1
	rm -rf "$BASE"
}
trap cleanup EXIT INT TERM

# A pool that holds every phase's transactions at once, and responses that hold a full block.
"$REL/proofgrid-node" --dev --sealing manual --base-path "$BASE/node" --rpc-port "$PORT" \
	--pool-limit 100000 --pool-kbytes 1048576 --rpc-max-request-size 64 --rpc-max-response-size 64 \
	--listen-addr /ip4/127.0.0.1/tcp/0 --no-prometheus --no-telemetry --no-mdns 2>"$BASE/node.log" &
NODE_PID=$!
until curl -s -H 'Content-Type: application/json' \
	-d '{"id":1,"jsonrpc":"2.0","method":"system_health","params":[]}' "http://127.0.0.1:$PORT" >/dev/null 2>&1; do
	kill -0 "$NODE_PID" 2>/dev/null || { echo "the node exited:"; tail -20 "$BASE/node.log"; exit 1; }
	sleep 0.5
done
echo "[capacity] node $("$REL/proofgrid-node" --version) on port $PORT, $(nproc) cores"
"$REL/examples/capacity" --url "ws://127.0.0.1:$PORT" "$@"
