"""A faking device (the fault-injection worker) never gets a wrong C past ``matmul``: it raises
FraudDetected with the job, the element and the chain's verdict; the device is slashed and the
client's budget comes back."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

import proofgrid

from conftest import start_chain

FAULTY = os.environ.get("PROOFGRID_FAULTY_WORKER")


@pytest.mark.skipif(
    not FAULTY and not os.environ.get("PROOFGRID_REQUIRE_FAULTY"),
    reason="PROOFGRID_FAULTY_WORKER unset (scripts/test.sh builds it)",
)
def test_a_faked_output_raises_fraud_detected_and_the_device_pays():
    assert FAULTY, "PROOFGRID_REQUIRE_FAULTY is set but PROOFGRID_FAULTY_WORKER is not"
    with tempfile.TemporaryDirectory(prefix="proofgrid-py-fraud-") as base:
        chain = start_chain(Path(base))
        try:
            # One wrong leaf in a thousand (~16 of 512×512's): the chain's 64 samples usually
            # miss them, so the package's own check finds one and proves it on chain.
            chain.start_worker("//Dave", Path(FAULTY), ["--corrupt-fraction", "0.001"])
            client = proofgrid.Client(chain.url, suri="//Ferdie", allow_private_endpoints=True)
            rng = np.random.default_rng(11)
            a = rng.integers(-128, 128, size=(512, 256), dtype=np.int8)
            b = rng.integers(-128, 128, size=(256, 512), dtype=np.int8)
            before = client.balance()["free"]
            with pytest.raises(proofgrid.FraudDetected) as raised:
                client.matmul(a, b, price_cap="0.5", timeout=600)
            fraud = raised.value
            expected = int(a[fraud.row].astype(np.int64) @ b[:, fraud.column].astype(np.int64))
            assert fraud.expected == expected and fraud.found != expected
            assert isinstance(fraud.job, int)
            if fraud.dispute is not None:
                # The chain's samples missed it; the fraud proof was upheld.
                assert fraud.outcome["outcome"] == "verified", fraud.outcome
                assert fraud.dispute["verdict"] == "upheld", fraud.dispute
            else:
                # The samples caught it first: the chain failed the job itself.
                assert fraud.outcome["outcome"] == "failed", fraud.outcome
            [device] = client.devices()
            assert device.slashed > 0 and device.failed == 1, device
            after = client.balance()["free"]
            held = client.balance()["held"]
            # The budget and deposit are back; the client paid only transaction fees (the
            # submission, the receipt, the dispute), and was compensated its call fee.
            assert held == 0
            loss = before - after
            print(
                f"FraudDetected: job {fraud.job} [{fraud.row}][{fraud.column}], "
                f"chain {fraud.outcome['outcome']}, dispute {fraud.dispute and fraud.dispute['verdict']}; "
                f"device slashed {proofgrid.format_grid(device.slashed)} GRID; "
                f"client's net cost {proofgrid.format_grid(max(loss, 0))} GRID of transaction fees"
            )
            assert loss < proofgrid.GRID, "the client lost at most its transaction fees"
        except BaseException:
            print(chain.logs())
            raise
        finally:
            chain.stop()
