"""Own matrices through a real node and worker: the result is NumPy's, exactly, and only after
the package's checks; jobs run side by side; the chain's views come back typed."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time

import numpy as np
import pytest

import proofgrid

RNG = np.random.default_rng(7)


def int8(rows: int, cols: int) -> np.ndarray:
    return RNG.integers(-128, 128, size=(rows, cols), dtype=np.int8)


def reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a.astype(np.int32) @ b.astype(np.int32)


@pytest.mark.parametrize(
    "m,k,n",
    [(1, 700, 1), (300, 517, 129), (64, 1, 64), (3, 5, 2)],
    ids=["1xkx1", "300x517x129", "k=1", "tiny"],
)
def test_matmul_equals_numpy_on_ragged_shapes(client, m, k, n):
    a, b = int8(m, k), int8(k, n)
    c = client.matmul(a, b, price_cap="0.5", timeout=300)
    assert c.dtype == np.int32
    assert c.shape == (m, n)
    np.testing.assert_array_equal(c, reference(a, b))


def test_extremes_at_large_k_do_not_overflow_or_round(client):
    # The largest k whose 64-sample reveal fits the chain's 1 MiB; -128·-128 summed k times
    # is exact in int32.
    k = 7_400
    a = np.full((2, k), -128, dtype=np.int8)
    b = np.full((k, 3), -128, dtype=np.int8)
    b[:, 1] = 127
    a[1, ::2] = 127
    c = client.matmul(a, b, price_cap="0.5", timeout=300)
    np.testing.assert_array_equal(c, reference(a, b))
    assert c[0, 0] == 128 * 128 * k


def test_a_non_contiguous_array_works(client):
    a = int8(40, 60)[:, ::2]  # a strided view
    b = np.asfortranarray(int8(30, 7))
    assert not a.flags.c_contiguous and not b.flags.c_contiguous
    c = client.matmul(a, b, price_cap="0.5", timeout=300)
    np.testing.assert_array_equal(c, reference(a, b))


def test_ten_jobs_from_threads_all_come_back_right(client):
    pairs = [(int8(16 + i, 33), int8(33, 9 + i)) for i in range(10)]
    started = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda p: client.matmul(*p, price_cap="0.5", timeout=600), pairs))
    for (a, b), c in zip(pairs, results):
        np.testing.assert_array_equal(c, reference(a, b))
    print(f"10 jobs from 10 threads: {time.time() - started:.1f} s")


def test_asyncio_runs_jobs_side_by_side(client):
    pairs = [(int8(8, 20), int8(20, 8 + i)) for i in range(3)]

    async def main():
        return await asyncio.gather(
            *(client.matmul_async(a, b, price_cap="0.5", timeout=300) for a, b in pairs)
        )

    for (a, b), c in zip(pairs, asyncio.run(main())):
        np.testing.assert_array_equal(c, reference(a, b))


def test_a_job_handle_has_an_id_a_status_and_a_result(client):
    a, b = int8(5, 6), int8(6, 4)
    job = client.submit_matmul(a, b, price_cap="0.5")
    assert isinstance(job.id, int) and job.shape == (5, 4, 6)
    view = job.status()
    # Waiting for a device, or already taken: the chain's own view either way.
    assert view is None or view.id == job.id
    steps = []
    c = job.result(timeout=300, progress=lambda kind, details: steps.append(kind))
    np.testing.assert_array_equal(c, reference(a, b))
    assert steps[0] == "uploaded" and steps[-1] == "checked", steps


def test_views_are_typed(client, chain):
    market = client.market()
    assert market.min_price_per_unit > 0
    assert market.params["block_ms"] > 0 and market.params["millisecs_per_block"] == 6000
    devices = client.devices()
    assert len(devices) == 1
    device = devices[0]
    assert isinstance(device, proofgrid.Device)
    assert device.price_per_unit == proofgrid.GRID // 10
    assert "gemm-i8" in device.kernels and device.endpoint.startswith("https://")
    assert device.status["state"] == "active"
    assert isinstance(client.jobs(), list)
    assert client.job(10**9) is None
    balance = client.balance()
    assert balance["free"] > 0 and set(balance) == {"free", "held"}
    assert proofgrid.format_grid(proofgrid.GRID * 3 // 2) == "1.5"
