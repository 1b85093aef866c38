#!/usr/bin/env bash
# Runs the documentation's runnable examples: every fenced block opened with ```sh runnable in
# README.md and docs/*.md, in order, against a fresh dev chain (500 ms blocks) and one CPU
# worker for //Charlie that this script starts, from a scratch directory holding A.npy (1024×1024),
# B.npy (1024×1024) and a link to examples/. The lines of a block run in one shell, in order. `proofgrid` in a block is the CLI built in $CARGO_TARGET_DIR, talking to
# that chain. A command that fails fails the check; the output of every block is printed, so
# the docs' pasted output can be compared with what the code prints today.
#
# Usage: scripts/docs-check.sh (after `cargo build --workspace`; scripts/test.sh runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
BIN="$CARGO_TARGET_DIR/debug"
for binary in proofgrid proofgrid-node proofgrid-worker; do
	[ -x "$BIN/$binary" ] || { echo "[docs] $BIN/$binary is missing: cargo build --workspace first"; exit 1; }
done

WORK=$(mktemp -d)
cleanup() {
	# A worker's first SIGTERM finishes the job it holds; the second stops it at once.
	if [ -n "${WORKER_PID:-}" ]; then
		kill -TERM "$WORKER_PID" 2>/dev/null || true
		sleep 0.5
		kill -TERM "$WORKER_PID" 2>/dev/null || true
		wait "$WORKER_PID" 2>/dev/null || true
	fi
	[ -n "${NODE_PID:-}" ] && kill "$NODE_PID" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

# A free loopback port for the data service; the node's RPC port is the kernel's, read back
# from its log (a port chosen free here could be taken before the node binds it).
DATA_PORT=$(python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

"$BIN/proofgrid-node" --dev --sealing 500 --base-path "$WORK/node" --rpc-port 0 \
	--listen-addr /ip4/127.0.0.1/tcp/0 --no-prometheus --no-telemetry --no-mdns 2>"$WORK/node.log" &
NODE_PID=$!
URL=""
for _ in $(seq 1 240); do
	if [ -z "$URL" ]; then
		RPC_PORT=$(sed -n 's/.*Running JSON-RPC server: addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' \
			"$WORK/node.log" | head -1)
		[ -n "$RPC_PORT" ] && URL="ws://127.0.0.1:$RPC_PORT"
	fi
	[ -n "$URL" ] && "$BIN/proofgrid" --url "$URL" market >/dev/null 2>&1 && break
	kill -0 "$NODE_PID" 2>/dev/null || { echo "[docs] the node exited:"; tail -20 "$WORK/node.log"; exit 1; }
	sleep 0.5
done
[ -n "$URL" ] || { echo "[docs] the node reported no RPC port:"; tail -20 "$WORK/node.log"; exit 1; }
PROOFGRID_OWNER_SURI=//Charlie "$BIN/proofgrid-worker" run --url "$URL" --backend cpu \
	--base-path "$WORK/worker" --price 0.1 --metrics 127.0.0.1:0 \
	--data-addr "127.0.0.1:$DATA_PORT" >"$WORK/worker.log" 2>&1 &
WORKER_PID=$!
for _ in $(seq 1 240); do
	grep -q "job loop started" "$WORK/worker.log" && break
	kill -0 "$WORKER_PID" 2>/dev/null || { echo "[docs] the worker exited:"; tail -20 "$WORK/worker.log"; exit 1; }
	sleep 0.5
done
grep -q "job loop started" "$WORK/worker.log" || { echo "[docs] the worker did not start"; exit 1; }

# The inputs the examples name (random int8 .npy files, written without NumPy).
python3 - "$WORK" <<'EOF'
import os, sys
def save(path, rows, cols):
    header = "{'descr': '|i1', 'fortran_order': False, 'shape': (%d, %d), }" % (rows, cols)
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
        f.write(os.urandom(rows * cols))
save(os.path.join(sys.argv[1], "A.npy"), 1024, 1024)
save(os.path.join(sys.argv[1], "B.npy"), 1024, 1024)
EOF

# The examples' files, where the blocks name them.
ln -s "$PWD/examples" "$WORK/examples"

# Every ```sh runnable block, as (file, first line, text).
BLOCKS="$WORK/blocks"
mkdir -p "$BLOCKS"
python3 - "$BLOCKS" README.md docs/*.md <<'EOF'
import sys, os
out, files = sys.argv[1], sys.argv[2:]
n = 0
for path in files:
    lines = open(path, encoding="utf-8").read().splitlines()
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```sh runnable":
            start, body = i + 1, []
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i].strip())
                i += 1
            n += 1
            with open(os.path.join(out, "%03d" % n), "w") as f:
                f.write("# %s:%d\n" % (path, start) + "\n".join(body) + "\n")
        i += 1
print("[docs] %d runnable block(s)" % n)
EOF

count=0
for block in "$BLOCKS"/*; do
	[ -e "$block" ] || continue
	count=$((count + 1))
	echo "[docs] $(head -1 "$block" | cut -c3-)"
	(
		cd "$WORK"
		export PROOFGRID_ALLOW_PRIVATE_ENDPOINTS=1
		proofgrid() { "$BIN/proofgrid" --url "$URL" "$@"; }
		set -euo pipefail
		while IFS= read -r line; do
			case "$line" in ''|'#'*) continue ;; esac
			echo "\$ $line"
			# In this shell (not a pipeline's subshell), so a block's variables (a job's id, a
			# device's address) carry to its next lines. `set -e` does not hold in a command
			# whose status is tested: each is checked.
			if ! eval "$line" >"$WORK/out" 2>&1; then
				sed 's/^/    /' "$WORK/out"
				exit 1
			fi
			sed 's/^/    /' "$WORK/out"
		done < <(tail -n +2 "$block")
	) || { echo "[docs] FAILED: $(head -1 "$block" | cut -c3-)"; tail -20 "$WORK/worker.log"; exit 1; }
done
[ "$count" -gt 0 ] || { echo "[docs] no runnable block found"; exit 1; }
echo "[docs] $count block(s) ran"
