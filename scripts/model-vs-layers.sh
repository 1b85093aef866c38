#!/usr/bin/env bash
# The example MLP (examples/mlp) as two chained `linear-i8` layer jobs, against the same layers
# registered as a model and run as one `model-i8` job, and the example CNN as one job: one dev
# chain sealing every 500 ms, one CPU worker, the debug build (`cargo build --workspace`).
# Prints each CLI line with the seconds since its command started (docs/MODELS.md).
#
#   scripts/model-vs-layers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
BIN=$CARGO_TARGET_DIR/debug
PY="${PROOFGRID_CACHE:-$HOME/.cache/proofgrid}/venv/bin/python"
W=$(mktemp -d)
mkdir -p $W/models
# The MLP in the model format (format 1): two dense layers, their weights as `n × k` lanes.
"$PY" - "$W" <<'PY'
import json, numpy as np, os, sys
src='examples/mlp'; dst=f'{sys.argv[1]}/mlp1'; os.makedirs(dst, exist_ok=True)
m=json.load(open(f'{src}/model.json'))
layers=[]
for i,(l,n) in enumerate(zip(m['layers'],[256,10])):
    w=np.load(f"{src}/{l['weights']}"); b=np.load(f"{src}/{l['bias']}")
    np.save(f'{dst}/layer{i}.weights.npy', np.ascontiguousarray(w.T).astype(np.int8))
    np.save(f'{dst}/layer{i}.bias.npy', b.astype(np.int32))
    layers.append({"op":"dense","name":f"dense{i+1}","outputs":n,"multiplier":l['multiplier'],
      "shift":l['shift'],"relu":l['relu'],"zero_point":0,
      "weights":f"layer{i}.weights.npy","bias":f"layer{i}.bias.npy"})
json.dump({"format":1,"input":{"height":1,"width":1,"channels":784,"zero_point":0,"scale":1.0,"signed":True},
  "output":{"scale":1.0,"zero_point":0},"layers":layers}, open(f'{dst}/model.json','w'), indent=1)
PY
ln -s $W/mlp1 $W/models/mlp1
ln -s "$PWD/examples/cnn/model" $W/models/cnn
# 16 pseudo-random images for the CNN (its latency, not its accuracy: docs/MODELS.md §4).
"$PY" -c "
import numpy as np; np.save('$W/x_cnn.npy', np.random.default_rng(7).integers(-128, 128, (16, 64)).astype(np.int8))"
$BIN/proofgrid-node --dev --sealing 500 --base-path $W/node --rpc-port 0 \
  --listen-addr /ip4/127.0.0.1/tcp/0 --no-prometheus --no-telemetry --no-mdns 2>$W/node.log &
NODE=$!
trap 'kill $NODE $WORKER 2>/dev/null || true; rm -rf $W' EXIT
WORKER=""
for _ in $(seq 1 120); do
  PORT=$(sed -n 's/.*Running JSON-RPC server: addr=127\.0\.0\.1:\([0-9]*\).*/\1/p' $W/node.log | head -1)
  [ -n "$PORT" ] && break; sleep 0.5
done
URL=ws://127.0.0.1:$PORT
DATA=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PROOFGRID_OWNER_SURI=//Charlie $BIN/proofgrid-worker run --url $URL --backend cpu --price 0.1 \
  --base-path $W/worker --metrics 127.0.0.1:0 --data-addr 127.0.0.1:$DATA --models $W/models >$W/worker.log 2>&1 &
WORKER=$!
for _ in $(seq 1 240); do grep -q "job loop started" $W/worker.log && break; sleep 0.5; done
export PROOFGRID_ALLOW_PRIVATE_ENDPOINTS=1
stamp() { python3 -c '
import sys, time
t0 = time.time()
for line in sys.stdin:
    print(f"[{time.time()-t0:7.1f} s] {line}", end="", flush=True)'; }
echo "== register the MLP as a model"
$BIN/proofgrid --url $URL --suri //Eve model register $W/mlp1 2>&1 | stamp
echo "== the MLP as two linear-i8 layer jobs"
( time $BIN/proofgrid --url $URL --suri //Eve model run examples/mlp ) 2>&1 | stamp
echo "== the same layers as one model job"
( time $BIN/proofgrid --url $URL --suri //Eve model run $W/mlp1 --id 0 --x examples/mlp/x.npy ) 2>&1 | stamp
echo "== the CNN, registered, as one job on 16 images"
$BIN/proofgrid --url $URL --suri //Eve model register examples/cnn/model 2>&1 | stamp
( time $BIN/proofgrid --url $URL --suri //Eve model run examples/cnn/model --id 1 --x $W/x_cnn.npy ) 2>&1 | stamp
