#!/usr/bin/env bash
# A four-validator ProofGrid network on this machine, without Docker: Alice, Bob, Charlie and
# Dave on the `local` chain (BABE, 6 s slots, GRANDPA), on loopback, each with its own base
# path and fixed network key, and two CPU workers (providers Ferdie and Eve).
#
#   scripts/devnet.sh up       build if needed, start everything, wait for finality
#   scripts/devnet.sh status   each node's best and finalized block and peers; each worker's devices
#   scripts/devnet.sh down     stop everything (SIGINT, then SIGKILL after 10 s)
#
# State lives in $DEVNET_DIR (default ~/.cache/proofgrid/devnet); `down` keeps it, so `up`
# resumes the same chain; delete the directory to start afresh. RPC: ws://127.0.0.1:9944
# (Alice), 9945 (Bob), 9946 (Charlie), 9947 (Dave).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

DIR=${DEVNET_DIR:-$HOME/.cache/proofgrid/devnet}
BIN="$CARGO_TARGET_DIR/debug"
VALIDATORS=(alice bob charlie dave)
WORKERS=(ferdie eve)

rpc_port() { echo $((9944 + $1)); }
p2p_port() { echo $((30333 + $1)); }
# Node key i+1 as 32 bytes of hex: a fixed peer id per validator, so the others can find it.
node_key() { printf '%064x' $(($1 + 1)); }

rpc() { # port method [params]
	curl -s --max-time 5 -H 'Content-Type: application/json' \
		-d "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"$2\",\"params\":${3:-[]}}" "http://127.0.0.1:$1"
}

alive() { [ -f "$DIR/$1.pid" ] && kill -0 "$(cat "$DIR/$1.pid")" 2>/dev/null; }

# Whether something listens on TCP port $1 of 127.0.0.1.
busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Refuses to start when a port this network needs is taken (a node would silently move its RPC
# to a random port, and `status` would then report another chain): says which, and by whom.
check_ports() {
	local taken=()
	for i in "${!VALIDATORS[@]}"; do
		alive "${VALIDATORS[$i]}" && continue
		for port in "$(rpc_port "$i")" "$(p2p_port "$i")"; do
			busy "$port" && taken+=("$port (${VALIDATORS[$i]})")
		done
	done
	for i in "${!WORKERS[@]}"; do
		alive "${WORKERS[$i]}" && continue
		busy $((9700 + i)) && taken+=("$((9700 + i)) (worker ${WORKERS[$i]})")
	done
	[ ${#taken[@]} -eq 0 ] && return 0
	echo "devnet: port(s) already in use: ${taken[*]}" >&2
	echo "  stop what listens there first (e.g. a --dev node on 9944; see \`ss -ltnp\`)" >&2
	return 1
}

up() {
	mkdir -p "$DIR"
	check_ports
	[ -x "$BIN/proofgrid-node" ] && [ -x "$BIN/proofgrid-worker" ] || cargo build --locked --workspace
	# Alice's peer id, from her fixed node key (…0001): everyone else bootstraps from her.
	local alice_id=12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp
	for i in "${!VALIDATORS[@]}"; do
		local name=${VALIDATORS[$i]}
		alive "$name" && { echo "$name already running"; continue; }
		local boot=()
		[ "$i" -gt 0 ] && boot=(--bootnodes "/ip4/127.0.0.1/tcp/$(p2p_port 0)/p2p/$alice_id")
		"$BIN/proofgrid-node" --chain local "--$name" --base-path "$DIR/$name" \
			--node-key "$(node_key "$i")" --rpc-port "$(rpc_port "$i")" \
			--listen-addr "/ip4/127.0.0.1/tcp/$(p2p_port "$i")" --allow-private-ip \
			--no-prometheus --no-telemetry --no-mdns "${boot[@]}" >"$DIR/$name.log" 2>&1 &
		echo $! >"$DIR/$name.pid"
		echo "started $name (RPC ws://127.0.0.1:$(rpc_port "$i"), log $DIR/$name.log)"
	done
	for i in "${!WORKERS[@]}"; do
		local name=${WORKERS[$i]}
		alive "$name" && { echo "$name already running"; continue; }
		# Ferdie talks to Bob's RPC, Eve to Charlie's (as in docker-compose.yml): wait for it
		# (a debug node takes a while to start).
		local node=$((i + 1))
		for _ in $(seq 1 120); do
			rpc "$(rpc_port "$node")" system_health 2>/dev/null | grep -q result && break
			sleep 1
		done
		# Providers' secrets go in the environment (dev keys here), never on the command line.
		PROOFGRID_OWNER_SURI="//${name^}" "$BIN/proofgrid-worker" run \
			--url "ws://127.0.0.1:$(rpc_port "$node")" --backend cpu --threads 1 \
			--base-path "$DIR/$name" --price 0.1 --metrics none \
			--data-addr "127.0.0.1:$((9700 + i))" >"$DIR/$name.log" 2>&1 &
		echo $! >"$DIR/$name.pid"
		echo "started worker $name (data service https://127.0.0.1:$((9700 + i)), log $DIR/$name.log)"
	done
	echo "waiting for GRANDPA to finalize a block..."
	for _ in $(seq 1 120); do
		local finalized
		finalized=$(finalized_number "$(rpc_port 0)")
		[ "${finalized:-0}" -gt 0 ] && { echo "finalized #$finalized"; return 0; }
		sleep 1
	done
	echo "no block finalized within 2 minutes; see $DIR/*.log" >&2
	return 1
}

finalized_number() {
	local hash
	hash=$(rpc "$1" chain_getFinalizedHead | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"])' 2>/dev/null) || return 0
	rpc "$1" chain_getHeader "[\"$hash\"]" \
		| python3 -c 'import json,sys; print(int(json.load(sys.stdin)["result"]["number"], 16))' 2>/dev/null || true
}

status() {
	printf '%-8s %-8s %6s %10s %6s\n' node state best finalized peers
	for i in "${!VALIDATORS[@]}"; do
		local name=${VALIDATORS[$i]} port
		port=$(rpc_port "$i")
		if ! alive "$name"; then
			printf '%-8s %-8s\n' "$name" down
			continue
		fi
		local best peers finalized
		best=$(rpc "$port" chain_getHeader | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["result"]["number"], 16))' 2>/dev/null || echo '?')
		peers=$(rpc "$port" system_health | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["peers"])' 2>/dev/null || echo '?')
		finalized=$(finalized_number "$port")
		printf '%-8s %-8s %6s %10s %6s\n' "$name" up "$best" "${finalized:-?}" "$peers"
	done
	for name in "${WORKERS[@]}"; do
		if alive "$name"; then
			echo "worker $name: up; devices of //${name^}:"
			"$BIN/proofgrid" --url "ws://127.0.0.1:$(rpc_port 0)" --suri "//${name^}" device list 2>&1 | sed 's/^/  /'
		else
			echo "worker $name: down"
		fi
	done
}

down() {
	for name in "${WORKERS[@]}" "${VALIDATORS[@]}"; do
		alive "$name" || { rm -f "$DIR/$name.pid"; continue; }
		local pid
		pid=$(cat "$DIR/$name.pid")
		kill -INT "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$pid" 2>/dev/null || true
		rm -f "$DIR/$name.pid"
		echo "stopped $name"
	done
}

case "${1:-}" in
up) up ;;
status) status ;;
down) down ;;
*)
	echo "usage: $0 up|status|down" >&2
	exit 2
	;;
esac
