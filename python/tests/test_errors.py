"""Bad input gets a clear, typed exception, and moves no funds."""

from __future__ import annotations

import numpy as np
import pytest

import proofgrid


def free(client) -> int:
    return client.balance()["free"]


def int8(rows: int, cols: int) -> np.ndarray:
    return np.ones((rows, cols), dtype=np.int8)


def test_a_non_int8_array_is_refused_and_moves_no_funds(client):
    before = free(client)
    with pytest.raises(proofgrid.InputError, match="dtype int64.*int8"):
        client.matmul(np.ones((4, 4), dtype=np.int64), int8(4, 4), price_cap="0.5")
    with pytest.raises(proofgrid.InputError, match="float32"):
        client.submit_matmul(int8(4, 4), np.ones((4, 4), dtype=np.float32), price_cap="0.5")
    with pytest.raises(proofgrid.InputError, match="3 dimension"):
        client.matmul(np.ones((2, 2, 2), dtype=np.int8), int8(2, 2), price_cap="0.5")
    # InputError is a ValueError too, for code that catches those.
    with pytest.raises(ValueError):
        client.matmul([[1.5]], [[1]], price_cap="0.5")
    assert free(client) == before


def test_mismatched_shapes_are_refused_and_move_no_funds(client):
    before = free(client)
    with pytest.raises(proofgrid.InputError, match="inner dimensions differ"):
        client.matmul(int8(3, 4), int8(5, 2), price_cap="0.5")
    with pytest.raises(proofgrid.InputError, match="empty"):
        client.matmul(int8(0, 4), int8(4, 2), price_cap="0.5")
    assert free(client) == before


def test_a_price_cap_below_the_minimum_is_refused_and_moves_no_funds(client):
    before = free(client)
    minimum = client.market().min_price_per_unit
    too_low = proofgrid.format_grid(minimum - 1)
    with pytest.raises(proofgrid.InputError, match="below the chain's minimum"):
        client.matmul(int8(4, 4), int8(4, 4), price_cap=too_low)
    with pytest.raises(proofgrid.InputError, match="price cap"):
        client.matmul(int8(4, 4), int8(4, 4), price_cap="half a GRID")
    with pytest.raises(proofgrid.InputError, match="samples"):
        client.matmul(int8(4, 4), int8(4, 4), price_cap="0.5", samples=100_000)
    assert free(client) == before


def test_a_reveal_too_large_for_the_chain_is_refused_before_sending(client):
    before = free(client)
    with pytest.raises(proofgrid.InputError, match="use at most [0-9]+ samples"):
        client.matmul(int8(2, 10_000), int8(10_000, 2), price_cap="0.5")
    with pytest.raises(proofgrid.InputError, match="use a smaller k"):
        client.matmul(int8(2, 60_000), int8(60_000, 2), price_cap="0.5")
    assert free(client) == before


def test_an_unknown_suri_is_a_signer_error(chain):
    with pytest.raises(proofgrid.SignerError, match="bad key"):
        proofgrid.Client(chain.url, suri="not a key at all")


def test_an_unfunded_signer_is_refused_by_the_pool(chain):
    poor = proofgrid.Client(chain.url, suri="//NobodyFundedThis", allow_private_endpoints=True)
    with pytest.raises(proofgrid.PoolRejected) as raised:
        poor.matmul(int8(4, 4), int8(4, 4), price_cap="0.5")
    assert "which holds 0 GRID" in raised.value.reason, raised.value.reason
    assert poor.balance()["free"] == 0


def test_a_job_no_device_takes_says_why(client):
    # The only device asks 0.1 GRID a unit.
    with pytest.raises(proofgrid.NotClaimed) as raised:
        client.matmul(int8(4, 4), int8(4, 4), price_cap="0.01", lifetime=4, timeout=120)
    error = raised.value
    assert isinstance(error.job, int)
    assert any("above your cap" in reason for reason in error.reasons), error.reasons


def test_a_timeout_names_the_job(client):
    with pytest.raises(proofgrid.Timeout) as raised:
        client.matmul(int8(4, 4), int8(4, 4), price_cap="0.01", lifetime=100, timeout=1)
    assert isinstance(raised.value.job, int)


def test_a_node_that_is_not_there(chain):
    with pytest.raises(proofgrid.ConnectionFailed) as raised:
        proofgrid.Client("ws://127.0.0.1:1")
    assert raised.value.url == "ws://127.0.0.1:1"
