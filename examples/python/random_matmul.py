"""Multiplies two random int8 matrices on a ProofGrid chain and compares with NumPy.

    python examples/python/random_matmul.py [URL] [--m M --k K --n N]

URL defaults to ws://127.0.0.1:9944 (a dev chain: `proofgrid-node --dev`, a worker beside it).
The signer is PROOFGRID_SURI, else //Alice on a dev chain.
"""

import argparse
import os
import time

import numpy as np

import proofgrid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default="ws://127.0.0.1:9944")
    parser.add_argument("--m", type=int, default=300)
    parser.add_argument("--k", type=int, default=517)
    parser.add_argument("--n", type=int, default=129)
    parser.add_argument("--price-cap", default="0.5", help="GRID per work unit")
    args = parser.parse_args()

    # Loopback data services are refused unless allowed: fine for a local dev chain only.
    local = "127.0.0.1" in args.url or "localhost" in args.url
    client = proofgrid.Client(args.url, allow_private_endpoints=local)
    rng = np.random.default_rng()
    a = rng.integers(-128, 128, size=(args.m, args.k), dtype=np.int8)
    b = rng.integers(-128, 128, size=(args.k, args.n), dtype=np.int8)

    started = time.time()
    c = client.matmul(a, b, price_cap=args.price_cap, progress=True)
    took = time.time() - started

    expected = a.astype(np.int32) @ b.astype(np.int32)
    same = np.array_equal(c, expected)
    print(f"C: {c.shape[0]}×{c.shape[1]} {c.dtype}, first values {c.ravel()[:4].tolist()}")
    print(f"equal to NumPy's a.astype(int32) @ b.astype(int32): {same}")
    print(f"verified on chain and here in {took:.1f} s")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
