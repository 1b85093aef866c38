"""How much time `proofgrid.Client.matmul` adds beyond the chain's own latency: the same job,
alternately through the Python package and through the Rust CLI (`proofgrid job submit --a --b
--out`, which runs the same SDK flow), on one chain; medians and their ratio. Also the
package's own work: the check here and the array conversions.

    python examples/python/overhead.py [URL] [--runs 5] [--size 1024] [--cli PATH]
"""

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

import proofgrid


def save_npy(path: Path, array: np.ndarray) -> None:
    np.save(path, array)


def idle(client: proofgrid.Client) -> None:
    """Waits until no device holds a job: each run starts from the same state (a device
    finishes a job's reveal a few blocks after its client has C)."""
    while any(d.active_jobs for d in client.devices()):
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default="ws://127.0.0.1:9944")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", type=int, default=1024)
    target = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/proofgrid/target"))
    parser.add_argument("--cli", default=str(target / "debug" / "proofgrid"))
    args = parser.parse_args()

    client = proofgrid.Client(args.url, allow_private_endpoints=True)
    rng = np.random.default_rng(1)
    n = args.size
    a = rng.integers(-128, 128, size=(n, n), dtype=np.int8)
    b = rng.integers(-128, 128, size=(n, n), dtype=np.int8)
    python_s, cli_s, check_ms = [], [], []
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        save_npy(scratch / "A.npy", a)
        save_npy(scratch / "B.npy", b)
        env = {**os.environ, "PROOFGRID_ALLOW_PRIVATE_ENDPOINTS": "1"}
        for _ in range(args.runs):
            idle(client)
            started = time.perf_counter()
            steps = {}
            c = client.matmul(
                a, b, price_cap="0.5", progress=lambda kind, d: steps.setdefault(kind, d)
            )
            python_s.append(time.perf_counter() - started)
            check_ms.append(steps["checked"]["ms"])
            assert np.array_equal(c, a.astype(np.int32) @ b.astype(np.int32))

            idle(client)
            started = time.perf_counter()
            subprocess.run(
                [args.cli, "--url", args.url, "--suri", "//Alice", "job", "submit",
                 "--a", str(scratch / "A.npy"), "--b", str(scratch / "B.npy"),
                 "--price-cap", "0.5", "--out", str(scratch / "C.npy")],
                check=True, capture_output=True, env=env,
            )
            cli_s.append(time.perf_counter() - started)

    started = time.perf_counter()
    for _ in range(20):
        np.ascontiguousarray(a.astype(np.int8))
    convert_ms = (time.perf_counter() - started) / 20 * 1e3
    py, cli = statistics.median(python_s), statistics.median(cli_s)
    print(f"{n}×{n}×{n}, {args.runs} runs each, alternating, one chain:")
    print(f"  proofgrid.Client.matmul  median {py:.2f} s  (runs {', '.join(f'{s:.2f}' for s in python_s)})")
    print(f"  proofgrid job submit     median {cli:.2f} s  (runs {', '.join(f'{s:.2f}' for s in cli_s)})")
    print(f"  Python / CLI: {py / cli:.3f}; difference {1e3 * (py - cli):+.0f} ms")
    print(f"  the check here (Freivalds, in the call): median {statistics.median(check_ms):.1f} ms")
    print(f"  input validation and layout in Python: {convert_ms:.2f} ms")


if __name__ == "__main__":
    main()
