"""Layers and whole networks through a real node and worker: ``run_model`` on the repository's
MLP gives the logits the model's own pipeline computed, byte for byte; ``layer`` chains by job
id; bad layer input is refused before anything is sent."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import proofgrid

MLP = Path(__file__).resolve().parents[2] / "examples" / "mlp"


def test_run_model_matches_the_models_own_pipeline(client):
    model = json.loads((MLP / "model.json").read_text())
    steps = []
    run = client.run_model(MLP, price_cap="1", timeout=600, progress=lambda k, d: steps.append(k))
    expected = np.array(model["logits"], dtype=np.int8)
    assert run.logits.dtype == np.int8 and run.logits.shape == expected.shape
    np.testing.assert_array_equal(run.logits, expected)
    assert list(run.classes) == model["classes"]
    right = int((run.classes == np.array(model["labels"])).sum())
    print(f"run_model(examples/mlp): {right} of {len(model['labels'])} right, jobs {run.jobs}")
    assert len(run.jobs) == 2 and steps.count("checked") == 2 and "ruled" in steps


def test_layers_chain_by_job_id(client):
    model = json.loads((MLP / "model.json").read_text())
    first, second = model["layers"]
    x = np.load(MLP / "x.npy")
    job = client.submit_layer(
        x,
        np.load(MLP / first["weights"]),
        np.load(MLP / first["bias"]),
        multiplier=first["multiplier"],
        shift=first["shift"],
        relu=True,
        price_cap="1",
    )
    h = job.result(timeout=300)
    assert h.dtype == np.int8 and h.shape == (64, 256) and (h >= 0).all(), "ReLU"
    assert job.settle(timeout=300)["outcome"] == "settled"
    # The second layer takes the first's output on chain; giving it as saved uploads it too.
    logits = client.layer(
        h,
        np.load(MLP / second["weights"]),
        np.load(MLP / second["bias"]),
        multiplier=second["multiplier"],
        shift=second["shift"],
        a_job=job.id,
        price_cap="1",
        timeout=300,
    )
    np.testing.assert_array_equal(logits, np.array(model["logits"], dtype=np.int8))


def test_bad_layer_input_is_refused_and_moves_no_funds(client):
    before = client.balance()["free"]
    a, w = np.ones((4, 8), np.int8), np.ones((8, 3), np.int8)
    with pytest.raises(proofgrid.InputError, match="int32"):
        client.layer(a, w, np.zeros(3, np.int64), multiplier=1 << 30, shift=31, price_cap="1")
    with pytest.raises(proofgrid.InputError, match="2 biases for the 3 columns"):
        client.layer(a, w, np.zeros(2, np.int32), multiplier=1 << 30, shift=31, price_cap="1")
    with pytest.raises(proofgrid.InputError, match="requantization"):
        client.layer(a, w, np.zeros(3, np.int32), multiplier=0, shift=31, price_cap="1")
    # A scale that maps every reachable value to 0 (multiplier 1000 at shift 42): the chain
    # would take the job and pay for nothing.
    with pytest.raises(proofgrid.InputError, match="every element of Y would be 0"):
        client.layer(a, w, np.zeros(3, np.int32), multiplier=1000, shift=42, price_cap="1")
    with pytest.raises(proofgrid.InputError, match="no output kept on chain"):
        client.layer(None, w, np.zeros(3, np.int32), multiplier=1 << 30, shift=31,
                     a_job=10**6, price_cap="1")
    assert client.balance()["free"] == before
