#!/usr/bin/env bash
# The chain spec of a network with the operator's own keys (no well-known dev key in it), from
# the runtime's `testnet` template. docs/OPERATIONS.md walks through generating the keys.
#
#   scripts/testnet-spec.sh KEYS.json OUT_DIR
#
# KEYS.json names public keys only (SS58 addresses; secrets never leave the validators):
#   {
#     "validators": [{"babe": "5F…(sr25519)", "grandpa": "5G…(ed25519)"}, …],
#     "sudo": "5…",                                   (optional: no sudo key without it)
#     "balances": {"5…": 1000000000000000},     (optional, in planck: 10^12 per GRID; this is 1000 GRID)
#     "bootNodes": ["/dns/v1.example.org/tcp/30333/p2p/12D3…"]   (optional)
#   }
# Writes OUT_DIR/testnet.json (readable: review it) and OUT_DIR/testnet-raw.json (what every
# node of the network runs with: `--chain OUT_DIR/testnet-raw.json`).
# The node binary: $PROOFGRID_NODE, else the release build, else the debug build.
set -euo pipefail
[ $# -eq 2 ] || { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
keys=$1
out=$2
here="$(cd "$(dirname "$0")/.." && pwd)"
source "$here/scripts/env.sh"
node=${PROOFGRID_NODE:-}
if [ -z "$node" ]; then
	for candidate in "$CARGO_TARGET_DIR/release/proofgrid-node" "$CARGO_TARGET_DIR/debug/proofgrid-node"; do
		[ -x "$candidate" ] && { node=$candidate; break; }
	done
fi
[ -n "$node" ] || { echo "no proofgrid-node built: run scripts/build-release.sh or set PROOFGRID_NODE" >&2; exit 1; }

mkdir -p "$out"
"$node" build-spec --chain testnet-template 2>/dev/null >"$out/template.json"
python3 - "$keys" "$out/template.json" "$out/testnet.json" <<'PY'
import json, sys
keys = json.load(open(sys.argv[1]))
spec = json.load(open(sys.argv[2]))
validators = keys.get("validators") or sys.exit("KEYS.json: at least one validator is needed")
for v in validators:
    if not (isinstance(v, dict) and isinstance(v.get("babe"), str) and isinstance(v.get("grandpa"), str)):
        sys.exit(f"KEYS.json: a validator needs 'babe' and 'grandpa' addresses: {v}")
    if v["babe"] == v["grandpa"]:
        sys.exit("KEYS.json: 'babe' (sr25519) and 'grandpa' (ed25519) are different keys")
patch = spec["genesis"]["runtimeGenesis"]["patch"]
patch["babe"]["authorities"] = [[v["babe"], 1] for v in validators]
patch["grandpa"]["authorities"] = [[v["grandpa"], 1] for v in validators]
if keys.get("sudo"):
    patch["sudo"]["key"] = keys["sudo"]
for who, amount in keys.get("balances", {}).items():
    patch["balances"]["balances"].append([who, int(amount)])
spec["bootNodes"] = keys.get("bootNodes", [])
json.dump(spec, open(sys.argv[3], "w"), indent=2)
PY
rm "$out/template.json"
# The raw form builds the genesis state: a malformed address or key fails here.
"$node" build-spec --chain "$out/testnet.json" --raw 2>"$out/build-spec.log" >"$out/testnet-raw.json" || {
	cat "$out/build-spec.log" >&2
	exit 1
}
rm "$out/build-spec.log"
echo "wrote $out/testnet.json and $out/testnet-raw.json ($(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["genesis"]["runtimeGenesis"]["patch"]["babe"]["authorities"]))' "$out/testnet.json") validators)"
