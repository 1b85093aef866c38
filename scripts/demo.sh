#!/usr/bin/env bash
# The ProofGrid demo: build the node, start a dev chain (Aura + GRANDPA, one validator: Alice),
# show blocks being produced and finalized, then stop it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

BLOCKS=${DEMO_BLOCKS:-4}        # stop once this many blocks are finalized
PORT=${DEMO_RPC_PORT:-9944}

command -v cargo >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -q wasm32v1-none \
	|| bash scripts/setup.sh

echo "==> Building proofgrid-node (target dir: $CARGO_TARGET_DIR)"
# --workspace: the same feature set as the tests, so their build is reused.
cargo build --locked --workspace
NODE="$CARGO_TARGET_DIR/debug/proofgrid-node"

BASE=$(mktemp -d)
LOG="$BASE/node.log"
NODE_PID=""
cleanup() {
	if [ -n "$NODE_PID" ] && kill -0 "$NODE_PID" 2>/dev/null; then
		kill -INT "$NODE_PID" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$NODE_PID" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$NODE_PID" 2>/dev/null || true
		wait "$NODE_PID" 2>/dev/null || true
	fi
	rm -rf "$BASE"
}
trap cleanup EXIT INT TERM

rpc() {
	curl -s -H 'Content-Type: application/json' \
		-d "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"$1\",\"params\":[$2]}" "http://127.0.0.1:$PORT"
}
number_of() { # header JSON on stdin -> decimal block number
	python3 -c 'import json,sys; print(int(json.load(sys.stdin)["result"]["number"], 16))'
}

echo "==> Starting a dev chain: $NODE --dev (log: $LOG)"
"$NODE" --dev --base-path "$BASE" --rpc-port "$PORT" --listen-addr /ip4/127.0.0.1/tcp/0 \
	--no-prometheus --no-telemetry --no-mdns 2>"$LOG" &
NODE_PID=$!

for _ in $(seq 1 600); do
	rpc system_health "" >/dev/null 2>&1 && break
	kill -0 "$NODE_PID" 2>/dev/null || { echo "node exited:"; tail -20 "$LOG"; exit 1; }
	sleep 0.5
done
echo "==> $(rpc system_chain "" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"])') is up on ws://127.0.0.1:$PORT"

last=""
for _ in $(seq 1 120); do
	best=$(rpc chain_getHeader "" | number_of)
	fin_hash=$(rpc chain_getFinalizedHead "" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"])')
	fin=$(rpc chain_getHeader "\"$fin_hash\"" | number_of)
	if [ "$best/$fin" != "$last" ]; then
		echo "    best #$best   finalized #$fin"
		last="$best/$fin"
	fi
	[ "$fin" -ge "$BLOCKS" ] && break
	sleep 1
done
[ "$fin" -ge "$BLOCKS" ] || { echo "finality did not reach #$BLOCKS"; tail -20 "$LOG"; exit 1; }

echo "==> Stopping the node"
cleanup
NODE_PID=""
trap - EXIT
echo "==> Done: blocks produced and finalized, node stopped."
