"""Typed views of the chain: what the node's ``proofgrid_*`` RPC shows, with Python field names.

Balances are ``int`` planck (1 GRID = 10**12 planck); :func:`proofgrid.format_grid` prints one.
The RPC's JSON is camelCase with balances as decimal strings; :func:`_from_view` converts.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Dict, List, Optional, Type, TypeVar

T = TypeVar("T")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _from_view(cls: Type[T], view: Dict[str, Any]) -> T:
    """``cls`` from an RPC view: camelCase keys to snake_case, planck strings to ``int``; keys the
    class does not know (a newer node) are kept in ``extra``."""
    names = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    known: Dict[str, Any] = {}
    extra: Dict[str, Any] = {}
    for key, value in view.items():
        name = _snake(key)
        if name in names and name != "extra":
            if names[name].type in ("int", int) and isinstance(value, str):
                value = int(value)
            known[name] = value
        else:
            extra[key] = value
    if "extra" in names:
        known["extra"] = extra
    return cls(**known)


@dataclasses.dataclass(frozen=True)
class Device:
    """A registered device, as ``proofgrid_devices`` shows it."""

    device: str
    """Its address (the device key)."""
    owner: str
    """The provider that registered it and is paid for its work."""
    model: str
    vram_mib: int
    advertised_gops: int
    delivered_gops: int
    """A lower bound of its speed, proven by its settled jobs."""
    price_per_unit: int
    """Its ask, planck per work unit."""
    bond: int
    locked: int
    free_bond: int
    active_jobs: int
    completed: int
    failed: int
    last_heartbeat: int
    status: Dict[str, Any]
    """``{"state": "active" | "paused" | "unbonding", "until"?: block}``."""
    kernels: List[str] = dataclasses.field(default_factory=list)
    endpoint: Optional[str] = None
    """Its data service (``https://host:port#sha256=…``), where own inputs are uploaded."""
    earned: int = 0
    """Paid to its owner for its settled jobs since registration, planck."""
    slashed: int = 0
    """Taken from its bond by slashes since registration, planck."""
    extra: Dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class JobView:
    """An open job, as ``proofgrid_job`` shows it."""

    id: int
    client: str
    shape: Dict[str, int]
    """``{"m": …, "n": …, "k": …}``."""
    inputs: Dict[str, Any]
    """Where its inputs come from: seeded, or the client's own (uploaded or at URLs)."""
    kernel: str
    min_vram_mib: int
    min_gops: int
    units: int
    price_cap: int
    """Most paid per work unit, planck."""
    budget: int
    deposit: int
    call_fee: int
    deadline: int
    """The block by which a device must claim it."""
    abandoned_by: List[str]
    status: Dict[str, Any]
    """``{"state": "submitted" | "assigned" | "committed" | "verified", …}``: the device,
    price, collateral and deadlines once assigned."""
    extra: Dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def state(self) -> str:
        """``submitted``, ``assigned``, ``committed`` or ``verified``."""
        return str(self.status.get("state"))


@dataclasses.dataclass(frozen=True)
class Market:
    """The market's parameters (the runtime's constants) and what it has burned."""

    params: Dict[str, int]
    """Deposits and fees (planck), windows (blocks), samples; ``block_ms`` is how long a block
    takes now, ``millisecs_per_block`` the runtime's target."""
    burned: Dict[str, int]
    """``{"fees": planck, "slashes": planck}`` since genesis."""

    @property
    def min_price_per_unit(self) -> int:
        """The lowest price a job may offer, planck per unit."""
        return int(self.params["min_price_per_unit"])
