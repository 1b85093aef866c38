#!/usr/bin/env bash
# How much a worker costs while it idles beside many open jobs it does not take: a dev chain
# gets JOBS jobs at the minimum price (below the worker's 0.1 GRID/unit), then a worker for
# //Charlie runs beside them and its RSS and CPU are sampled every second for SECONDS.
#
#   scripts/idle-worker.sh [JOBS] [SECONDS] [WORKER_BINARY]
#
# WORKER_BINARY defaults to this tree's debug build; pass an older build to compare.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

JOBS=${1:-10000}
SECONDS_SAMPLED=${2:-60}
WORKER=${3:-$CARGO_TARGET_DIR/debug/proofgrid-worker}
PORT=${IDLE_RPC_PORT:-9966}

cargo build --locked -q --workspace --examples
BIN="$CARGO_TARGET_DIR/debug"
BASE=$(mktemp -d)
PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
	sleep 2
	for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
	rm -rf "$BASE"
}
trap cleanup EXIT INT TERM

"$BIN/proofgrid-node" --dev --sealing 300 --base-path "$BASE/node" --rpc-port "$PORT" \
	--listen-addr /ip4/127.0.0.1/tcp/0 --no-prometheus --no-telemetry --no-mdns 2>"$BASE/node.log" &
PIDS+=($!)
until curl -s -H 'Content-Type: application/json' \
	-d '{"id":1,"jsonrpc":"2.0","method":"system_health","params":[]}' "http://127.0.0.1:$PORT" >/dev/null 2>&1; do
	sleep 0.5
done
URL="ws://127.0.0.1:$PORT"
"$BIN/examples/flood_jobs" "$URL" "$JOBS"
# Wait for the pool to drain into blocks.
until "$BIN/proofgrid" --url "$URL" job list 2>/dev/null | grep -c submitted | awk -v n="$JOBS" '{exit !($1 >= n)}'; do
	sleep 2
done
echo "$JOBS jobs open on chain"

PROOFGRID_OWNER_SURI=//Charlie "$WORKER" run --url "$URL" --backend cpu --threads 1 \
	--base-path "$BASE/worker" --metrics none >"$BASE/worker.log" 2>&1 &
WORKER_PID=$!
PIDS+=("$WORKER_PID")
# Registration, funding and the throughput calibration come first.
until grep -q "job loop started" "$BASE/worker.log" 2>/dev/null; do
	kill -0 "$WORKER_PID" 2>/dev/null || { echo "worker exited:"; tail -20 "$BASE/worker.log"; exit 1; }
	sleep 1
done
sleep 5

ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$WORKER_PID/stat"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$WORKER_PID/status"; }
start_cpu=$(cpu)
max_rss=0
for _ in $(seq 1 "$SECONDS_SAMPLED"); do
	r=$(rss)
	[ "$r" -gt "$max_rss" ] && max_rss=$r
	sleep 1
done
used=$(( $(cpu) - start_cpu ))
echo "worker $(basename "$WORKER") beside $JOBS open jobs, ${SECONDS_SAMPLED} s:" \
	"CPU $(awk -v u="$used" -v t="$ticks" -v s="$SECONDS_SAMPLED" 'BEGIN {printf "%.1f%%", 100 * u / t / s}')," \
	"max RSS $(( max_rss / 1024 )) MiB"
