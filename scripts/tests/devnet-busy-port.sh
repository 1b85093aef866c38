#!/usr/bin/env bash
# `scripts/devnet.sh up` refuses to start when a port it needs is taken, and says which (issue
# 39: it used to start Alice on a random RPC port and report another chain's blocks).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=$(mktemp -d)
trap 'kill "$holder" 2>/dev/null || true; rm -rf "$dir"' EXIT
# Something else on Alice's RPC port (unless something already is).
python3 -c 'import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", 9944)); s.listen(); time.sleep(120)' 2>/dev/null &
holder=$!
sleep 0.5
if DEVNET_DIR="$dir" bash scripts/devnet.sh up >"$dir/out" 2>&1; then
	echo "devnet.sh up started with port 9944 taken:" >&2
	cat "$dir/out" >&2
	bash scripts/devnet.sh down >/dev/null 2>&1 || true
	exit 1
fi
grep -q "port(s) already in use: 9944 (alice)" "$dir/out" || { cat "$dir/out" >&2; exit 1; }
[ -z "$(ls "$dir"/*.pid 2>/dev/null)" ] || { echo "something was started" >&2; exit 1; }
echo "devnet.sh up with 9944 taken: $(head -1 "$dir/out")"
