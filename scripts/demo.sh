#!/usr/bin/env bash
# The ProofGrid demo, the whole story on one machine: build, start a dev chain (BABE + GRANDPA,
# 6 s blocks; DEMO_SEALING=1000 for 1 s manual-seal blocks), start a provider's worker (CUDA
# backend when a GPU is usable, else CPU), let it register its device, submit a GEMM-i8 job on a
# dApp's own matrices (A.npy, B.npy; DEMO_INPUTS=seeded for generated ones), follow it live
# until the chain has verified and paid it, write the verified C.npy, then show the provider's
# reward for the era and stop everything cleanly.
#
# DEMO_URL=ws://… runs the dApp's side against a network that is already up (e.g.
# `scripts/devnet.sh up`): no node or worker is started, that network's workers take the job,
# and the dApp is DEMO_SURI (default //Charlie, a funded dev account that runs no worker there).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

PORT=${DEMO_RPC_PORT:-9944}
SEALING=${DEMO_SEALING:-}         # empty: BABE; a number: a block every that many ms
SIZE=${DEMO_SIZE:-1024}           # the job is a SIZE×SIZE×SIZE GEMM (at least 1024: one work unit)
INPUTS=${DEMO_INPUTS:-supplied}   # supplied: the dApp's own matrices (.npy); seeded: generated
REMOTE=${DEMO_URL:-}              # a running network's RPC: start nothing, use its workers
DAPP=${DEMO_SURI:-//Eve}
[ -n "$REMOTE" ] && DAPP=${DEMO_SURI:-//Charlie}

command -v cargo >/dev/null 2>&1 && rustup target list --installed 2>/dev/null | grep -q wasm32v1-none \
	|| bash scripts/setup.sh

echo "==> Building proofgrid-node, proofgrid-worker and proofgrid (target dir: $CARGO_TARGET_DIR)"
# --workspace: the same feature set as the tests, so their build is reused.
cargo build --locked --workspace
BIN="$CARGO_TARGET_DIR/debug"
URL=${REMOTE:-ws://127.0.0.1:$PORT}
# The worker's data service is on loopback: a private address the CLI refuses by default.
CLI=("$BIN/proofgrid" --url "$URL" --allow-private-endpoints)

BASE=$(mktemp -d)
NODE_PID=""
WORKER_PID=""
stop() { # pid: SIGINT, wait up to 10 s, then SIGKILL
	local pid=$1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	kill -INT "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	stop "$WORKER_PID"
	stop "$NODE_PID"
	rm -rf "$BASE"
}
trap cleanup EXIT INT TERM

if [ -n "$REMOTE" ]; then
	echo "==> Using the network at $URL; devices of its providers (${DEMO_PROVIDERS:=//Ferdie //Eve}):"
	for provider in $DEMO_PROVIDERS; do
		"${CLI[@]}" --suri "$provider" device list | sed 's/^/      /'
	done
else
	echo "==> Starting a dev chain (log: $BASE/node.log)"
	SEAL_ARGS=()
	[ -n "$SEALING" ] && SEAL_ARGS=(--sealing "$SEALING")
	"$BIN/proofgrid-node" --dev "${SEAL_ARGS[@]}" --base-path "$BASE/node" --rpc-port "$PORT" \
		--listen-addr /ip4/127.0.0.1/tcp/0 --no-prometheus --no-telemetry --no-mdns 2>"$BASE/node.log" &
	NODE_PID=$!
	for _ in $(seq 1 600); do
		curl -s -H 'Content-Type: application/json' -d '{"id":1,"jsonrpc":"2.0","method":"system_health","params":[]}' \
			"http://127.0.0.1:$PORT" >/dev/null 2>&1 && break
		kill -0 "$NODE_PID" 2>/dev/null || { echo "node exited:"; tail -20 "$BASE/node.log"; exit 1; }
		sleep 0.5
	done
	echo "    node up on $URL ($([ -n "$SEALING" ] && echo "a block every $SEALING ms" || echo "BABE, 6 s blocks, GRANDPA finality"))"

	echo "==> Starting the provider's worker for //Charlie (log: $BASE/worker.log)"
	if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
		echo "    GPU found: $(nvidia-smi -L | head -1)"
		# The CUDA backend computes seeded jobs only so far (supplied inputs run on the CPU backend).
		[ -z "${DEMO_INPUTS:-}" ] && INPUTS=seeded && echo "    (CUDA backend: the demo job uses seeded inputs)"
	else
		echo "    no GPU found"
	fi
	# The owner's secret goes in the environment (or a 0600 file), never on the command line.
	PROOFGRID_OWNER_SURI=//Charlie "$BIN/proofgrid-worker" run --url "$URL" --backend auto \
		--base-path "$BASE/worker" --price 0.1 --metrics 127.0.0.1:0 \
		--data-addr "127.0.0.1:${DATA_PORT:-9700}" >"$BASE/worker.log" 2>&1 &
	WORKER_PID=$!
	for _ in $(seq 1 240); do
		grep -q "job loop started" "$BASE/worker.log" && break
		kill -0 "$WORKER_PID" 2>/dev/null || { echo "worker exited:"; tail -20 "$BASE/worker.log"; exit 1; }
		sleep 0.5
	done
	grep -q "job loop started" "$BASE/worker.log" || { echo "worker did not start"; tail -20 "$BASE/worker.log"; exit 1; }
	echo "    worker $(grep -o 'backend: [a-z]*.*' "$BASE/worker.log" | head -1)"
	echo "    registered device:"
	"${CLI[@]}" --suri //Charlie device list | sed 's/^/      /'
fi

start=$(date +%s.%N)
if [ "$INPUTS" = seeded ]; then
	echo "==> dApp $DAPP submits a ${SIZE}×${SIZE}×${SIZE} GEMM-i8 job (seeded inputs) and follows it"
	"${CLI[@]}" --suri "$DAPP" job submit --m "$SIZE" --n "$SIZE" --k "$SIZE" --price-cap 0.5 --wait \
		| sed 's/^/    /'
else
	echo "==> dApp $DAPP multiplies its own int8 matrices: A (${SIZE}×${SIZE}) · B (${SIZE}×${SIZE})"
	python3 scripts/demo_matrices.py make "$BASE/A.npy" "$SIZE" "$SIZE"
	python3 scripts/demo_matrices.py make "$BASE/B.npy" "$SIZE" "$SIZE"
	echo "    A.npy, B.npy written (random bytes); submitting, uploading to the device that takes the job, following it"
	"${CLI[@]}" --suri "$DAPP" job submit --a "$BASE/A.npy" --b "$BASE/B.npy" --out "$BASE/C.npy" \
		--price-cap 0.5 --wait | tee "$BASE/submit.log" | sed 's/^/    /'
	echo "    the verified result, checked here:"
	python3 scripts/demo_matrices.py check "$BASE/A.npy" "$BASE/B.npy" "$BASE/C.npy" | sed 's/^/      /'
	echo "    submit → verified: $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s"
	# The provider is paid when the dispute window closes: until then anyone holding A and B
	# (the dApp's CLI did, above) may prove an element of C wrong on chain.
	job=$(grep -o 'submitted job [0-9]*' "$BASE/submit.log" | awk '{print $3}')
	verified=$(grep -o 'verified in #[0-9]*' "$BASE/submit.log" | tr -dc '0-9')
	echo "==> The dispute window: until it closes anyone may prove an element of C wrong; then the provider is paid"
	"${CLI[@]}" job watch "$job" --from $((verified + 1)) | sed 's/^/    /'
fi
echo "    submit → settled: $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s"
if [ -z "$REMOTE" ]; then
	# The worker forgets the job once its settlement is final (GRANDPA runs a few blocks behind).
	for _ in $(seq 1 120); do grep -q "job finished" "$BASE/worker.log" && break; sleep 0.5; done
	echo "    the worker's log of it:"
	grep -E "claimed|input received|computed|committed|waiting for the challenge|revealed|job finished" "$BASE/worker.log" \
		| sed -E 's/^[^ ]+ +//; s/^/      /'
fi

echo "==> The market's rules, and what it has burned"
"${CLI[@]}" market | sed 's/^/    /'

if [ -n "$REMOTE" ]; then
	echo "==> Done: the job was computed by the network's worker, verified on chain and paid."
	exit 0
fi

echo "==> Rewards (an era mints at most ρ × the fees its jobs burned): waiting for the era to end, then //Charlie claims"
era=$("${CLI[@]}" --json rewards show | python3 -c 'import json,sys; print(json.load(sys.stdin)["currentEra"]["era"])')
for _ in $(seq 1 240); do
	now=$("${CLI[@]}" --json rewards show | python3 -c 'import json,sys; print(json.load(sys.stdin)["currentEra"]["era"])')
	[ "$now" != "$era" ] && break
	sleep 1
done
"${CLI[@]}" --suri //Charlie rewards show | sed 's/^/    /'
"${CLI[@]}" --suri //Charlie rewards claim | sed 's/^/    /'

echo "==> Stopping the worker and the node"
stop "$WORKER_PID"; WORKER_PID=""
grep -q "stopped" "$BASE/worker.log" && echo "    worker stopped cleanly"
stop "$NODE_PID"; NODE_PID=""
trap - EXIT
rm -rf "$BASE"
echo "==> Done: the job was computed, verified on chain, paid and rewarded."
