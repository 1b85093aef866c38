"""The exceptions ``proofgrid`` raises: one class per thing that can go wrong, with its facts as
attributes, so a caller matches a class instead of parsing a message.

Every one derives from :class:`Error`. The native layer maps the Rust SDK's typed errors onto
these classes (``python/src/lib.rs``, ``exception``).
"""

from __future__ import annotations

import json
from typing import Any, List, Optional


class Error(Exception):
    """Anything the ProofGrid SDK raises."""

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        for name, value in fields.items():
            setattr(self, name, value)


class InputError(Error, ValueError):
    """Inputs or options the chain would refuse (dtype, shapes, sample count, price cap, an
    address), caught before anything was sent: no funds moved."""


class SignerError(Error):
    """The secret URI is not a key, or a call needs a signer and there is none."""


class ConnectionFailed(Error):
    """The node could not be reached. ``url``: where."""

    url: str


class NodeError(Error):
    """An RPC, storage or decoding error of the node."""


class PoolRejected(Error):
    """The node's transaction pool refused a transaction (e.g. the signer cannot pay its fee).
    ``reason``: the pool's words."""

    reason: str


class PalletError(Error):
    """A transaction was included and failed with a pallet's error: ``pallet`` (e.g. ``"Jobs"``)
    and ``error`` (e.g. ``"PriceTooLow"``)."""

    pallet: str
    error: str


class TransactionFailed(Error):
    """A transaction was included and failed otherwise (a token, arithmetic or origin error)."""


class DataServiceError(Error):
    """A device's data service refused a request (``status``: its HTTP status, when it answered
    with one), could not be reached, or served bytes that do not match the chain's
    commitment."""

    status: Optional[int] = None


class NotClaimed(Error):
    """No device took job ``job`` within its lifetime; ``reasons``: why each registered device
    did not (price, kernel, memory, speed, no data service, paused, silent)."""

    job: int
    reasons: List[str]


class JobEnded(Error):
    """Job ``job`` ended (expired, failed, cancelled) before its output was committed, or has
    no output to give (``state`` says why: what it was when the wait stopped, "no such job",
    or how it ended)."""

    job: int
    state: str


class Timeout(Error):
    """Job ``job`` did not end within ``seconds``."""

    job: int
    seconds: int


class FraudDetected(Error):
    """The device committed a wrong output: ``C[row][column]`` is ``found`` where ``A·B`` has
    ``expected``. Nothing wrong is ever returned.

    ``outcome``: how the chain ended or ruled on the job (a dict: ``{"outcome": "failed", ...}``
    when its own sampled check caught the device, ``{"outcome": "verified", ...}`` when it did
    not); ``dispute``: the verdict on the fraud proof this package then sent (``None`` when the
    chain's check had already failed the job). Either way the device's collateral is slashed
    and the job's budget is back with its client.
    """

    job: int
    row: int
    column: int
    found: int
    expected: int
    outcome: dict
    dispute: Optional[dict]

    def __init__(self, message: str, **fields: Any) -> None:
        for name in ("outcome", "dispute"):
            if isinstance(fields.get(name), str):
                fields[name] = json.loads(fields[name])
        super().__init__(message, **fields)
