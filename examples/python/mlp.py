"""Runs the repository's int8 MLP (examples/mlp: 784-256-10) as two chained, verified layer jobs
and prints its accuracy on the stored batch.

    python examples/python/mlp.py [URL]
"""

import json
import sys
from pathlib import Path

import numpy as np

import proofgrid

MLP = Path(__file__).resolve().parents[1] / "mlp"


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:9944"
    local = "127.0.0.1" in url or "localhost" in url
    client = proofgrid.Client(url, allow_private_endpoints=local)
    model = json.loads((MLP / "model.json").read_text())

    run = client.run_model(MLP, price_cap="1", progress=True)

    labels = np.array(model["labels"])
    right = int((run.classes == labels).sum())
    print(f"predicted classes: {run.classes.tolist()}")
    print(f"{right} of {len(labels)} right ({100 * right / len(labels):.1f}%), layer jobs {run.jobs}")
    same = np.array_equal(run.logits, np.array(model["logits"], dtype=np.int8))
    print(f"logits byte for byte the model's own pipeline's: {same}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
