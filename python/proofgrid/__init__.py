"""Verified int8 compute on a ProofGrid chain, from Python.

>>> import numpy as np, proofgrid
>>> client = proofgrid.Client("ws://127.0.0.1:9944")
>>> c = client.matmul(a, b, price_cap="0.5")  # a: m×k int8, b: k×n int8

``matmul`` returns ``C = A·B`` (``int32``) only after the device's committed Merkle root matched
what it served and Freivalds' check proved ``C = A·B`` here; a wrong ``C`` is proven wrong on
chain and raises :class:`FraudDetected`. The checks are the Rust SDK's (``proofgrid-client``),
the same the ``proofgrid`` CLI runs. Guide: ``docs/PYTHON.md``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import numpy as np

from . import _native
from .errors import (
    ConnectionFailed,
    DataServiceError,
    Error,
    FraudDetected,
    InputError,
    JobEnded,
    NodeError,
    NotClaimed,
    PalletError,
    PoolRejected,
    SignerError,
    Timeout,
    TransactionFailed,
)
from .model import Model
from .views import Device, JobView, Market, _from_view, _snake

__all__ = [
    "Client",
    "Job",
    "LayerJob",
    "Model",
    "ModelJob",
    "ModelRun",
    "Device",
    "JobView",
    "Market",
    "format_grid",
    "GRID",
    "SURI_ENV",
    "Error",
    "InputError",
    "SignerError",
    "ConnectionFailed",
    "NodeError",
    "PoolRejected",
    "PalletError",
    "TransactionFailed",
    "DataServiceError",
    "NotClaimed",
    "JobEnded",
    "Timeout",
    "FraudDetected",
]

GRID = 10**12
"""Planck in one GRID."""

SURI_ENV = "PROOFGRID_SURI"
"""The environment variable holding the signer's secret URI."""

Amount = Union[str, int, float, "decimal.Decimal"]  # noqa: F821 (documentation only)
Progress = Union[bool, Callable[[str, Dict[str, Any]], None]]


def format_grid(planck: int) -> str:
    """``planck`` as GRID text, e.g. ``format_grid(1_500_000_000_000) == "1.5"``."""
    return _native.format_grid(int(planck))


def _grid_text(amount: Amount) -> str:
    """A price in GRID as the text the SDK parses (``"0.5"``)."""
    if isinstance(amount, float):
        return repr(amount) if "e" not in repr(amount) else f"{amount:.12f}"
    return str(amount)


def _int8(name: str, array: Any) -> np.ndarray:
    """``array`` as a C-contiguous 2-D int8 array, or :class:`InputError` saying why not."""
    array = np.asarray(array)
    if array.dtype != np.int8:
        raise InputError(
            f"{name} has dtype {array.dtype}; ProofGrid multiplies int8 matrices "
            f"(convert with {name.lower()}.astype(np.int8) if its values fit in -128..127)"
        )
    if array.ndim != 2:
        raise InputError(f"{name} has {array.ndim} dimension(s), not 2 (shape {array.shape})")
    return np.ascontiguousarray(array)


def _printer(job_id: int) -> Callable[[str, Dict[str, Any]], None]:
    """The progress display: a line per step on stderr."""

    def show(kind: str, details: Dict[str, Any]) -> None:
        words = {
            "uploaded": lambda d: f"inputs uploaded to device {d['device']}",
            "inputs_confirmed": lambda d: "the device's receipt for the inputs is on chain",
            "checked": lambda d: f"output checked here in {d['ms']:.1f} ms",
            "wrong": lambda d: (
                f"C[{d['row']}][{d['column']}] is {d['found']}, A·B has {d['expected']}: WRONG"
            ),
            "ruled": lambda d: f"the chain: {d.get('outcome')} in #{d.get('block')}",
            "no_hint": lambda d: f"no accumulators from the device ({d['reason']}); checking every row",
            "disputed": lambda d: f"fraud proof: {d['verdict'].get('verdict')}",
        }
        line = words.get(kind, lambda d: f"{kind} {d}")(details)
        print(f"proofgrid: job {job_id}: {line}", file=sys.stderr, flush=True)

    return show


class Job:
    """A job on your own matrices, submitted: follow it with :meth:`result` (or :meth:`wait`)."""

    def __init__(self, native: Any, client: "Client") -> None:
        self._native = native
        self._client = client

    @property
    def id(self) -> int:
        """The job's id on chain."""
        return int(self._native.id)

    @property
    def shape(self) -> tuple:
        """``(m, n, k)``."""
        return tuple(self._native.shape)

    def status(self) -> Optional[JobView]:
        """The job as the chain holds it now, or ``None`` once it ended (settled, failed,
        expired: its end is in the chain's events)."""
        view = json.loads(self._native.view())
        return None if view is None else _from_view(JobView, view)

    def result(self, timeout: Optional[float] = None, progress: Progress = False) -> np.ndarray:
        """Uploads the inputs to the device that claims the job, downloads ``C``, checks it
        against the committed root and ``A·B`` (Freivalds), and returns it (``int32``, m×n).

        Call it once per job: the upload and the check happen in this call. Raises
        :class:`FraudDetected` on a wrong ``C`` (after proving it on chain),
        :class:`NotClaimed` if no device took the job in its lifetime, :class:`Timeout` after
        ``timeout`` seconds. ``progress``: ``True`` prints each step on stderr, a callable
        ``(kind, details)`` hears them.
        """
        return self._native.result(timeout, self._on_step(progress))

    wait = result
    """Same as :meth:`result`."""

    async def result_async(
        self, timeout: Optional[float] = None, progress: Progress = False
    ) -> np.ndarray:
        """:meth:`result` for asyncio: runs in a worker thread (the wait holds no GIL)."""
        return await asyncio.to_thread(self.result, timeout, progress)

    @staticmethod
    def _steps_to(callback: Callable[[str, Dict[str, Any]], None]) -> Callable[[str, str], None]:
        return lambda kind, details: callback(kind, json.loads(details))

    def _on_step(self, progress: Progress) -> Optional[Callable[[str, str], None]]:
        """The native callback for ``progress``: printed (``True``), a callable's, or none."""
        if progress is True:
            return self._steps_to(_printer(self.id))
        return self._steps_to(progress) if callable(progress) else None

    def __repr__(self) -> str:
        m, n, k = self.shape
        return f"<proofgrid.Job {self.id}: {m}×{k} · {k}×{n}>"


class LayerJob(Job):
    """A ``linear-i8`` layer job on your own data, submitted: :meth:`result` delivers the data
    and returns the checked output ``Y`` (``int8``); :meth:`settle` waits until its output is
    kept on chain for a next layer (``a_job=``)."""

    def result(self, timeout: Optional[float] = None, progress: Progress = False) -> np.ndarray:
        """Uploads ``W``, the biases (and ``A``) to the device that claims the job, downloads
        ``Y`` against the committed root and checks every element (Freivalds on the device's
        accumulators, then the epilogue); returns ``Y`` (``int8``, m×n). Raises as
        :meth:`Job.result` does."""
        return super().result(timeout, progress)

    def settle(self, timeout: Optional[float] = None, progress: Progress = False) -> Dict[str, Any]:
        """Waits through the job's dispute window until it settles and its output is kept on
        chain; returns the settlement (``{"outcome": "settled", "payment": planck, ...}``)."""
        return json.loads(self._native.settle(timeout, self._on_step(progress)))

    @property
    def units(self) -> int:
        """Work units billed (a layer below the minimum is billed as the minimum)."""
        return int(self._native.units)

    def __repr__(self) -> str:
        m, n, k = self.shape
        return f"<proofgrid.LayerJob {self.id}: {m}×{k} · {k}×{n}>"


class ModelJob(Job):
    """A whole registered model on your batch, submitted as one job: :meth:`result` uploads
    the batch and returns every layer's checked output; :meth:`settle` waits until it is paid."""

    def result(self, timeout: Optional[float] = None, progress: Progress = False) -> List[np.ndarray]:  # type: ignore[override]
        """Uploads the batch to the device that claims the job, downloads every layer's output
        against the committed root and checks each layer on the previous one's; returns them
        (``int8``, images × values per image, one array per layer; the last is the logits).
        A wrong element is proven on chain, and :class:`WrongOutput` raised."""
        return list(self._native.result(timeout, self._on_step(progress)))

    def settle(self, timeout: Optional[float] = None, progress: Progress = False) -> Dict[str, Any]:
        """Waits through the job's dispute window until it settles; returns the settlement."""
        return json.loads(self._native.settle(timeout, self._on_step(progress)))

    @property
    def units(self) -> int:
        """Work units billed (a batch below the minimum is billed as the minimum)."""
        return int(self._native.units)

    def __repr__(self) -> str:
        return f"<proofgrid.ModelJob {self.id}>"


@dataclasses.dataclass(frozen=True)
class ModelRun:
    """A network run: its ``logits`` (``int8``, batch × classes), the predicted ``classes``,
    the job ids (one per layer for chained layer jobs, one for a registered model) and, for a
    registered model, every layer's output."""

    logits: np.ndarray
    jobs: List[int]
    layers: Optional[List[np.ndarray]] = None

    @property
    def classes(self) -> np.ndarray:
        """The predicted class of each row (the first of equal maxima)."""
        return self.logits.astype(np.int32).argmax(axis=1)


class Client:
    """A connection to a ProofGrid node, and the key that signs your jobs.

    The key's secret URI comes from ``suri``, else the file ``suri_file`` (keep it mode 0600),
    else the environment variable ``PROOFGRID_SURI``. Without any, a development chain signs
    as ``//Alice`` and any other chain allows reads only (submitting raises
    :class:`SignerError`). ``allow_private_endpoints``: reach devices' data services on
    loopback or private addresses (a local devnet); refused by default, since a device
    chooses its own endpoint.
    """

    def __init__(
        self,
        url: str = "ws://127.0.0.1:9944",
        suri: Optional[str] = None,
        suri_file: Optional[Union[str, os.PathLike]] = None,
        allow_private_endpoints: bool = False,
    ) -> None:
        if suri is None and suri_file is not None:
            with open(suri_file, encoding="utf-8") as f:
                suri = f.read().strip()
        if suri is None:
            suri = os.environ.get(SURI_ENV) or None
        self._native = _native.NativeClient(url, suri, allow_private_endpoints)
        self.url = url

    @property
    def address(self) -> Optional[str]:
        """The signer's address, or ``None`` when this client only reads."""
        return self._native.address

    def submit_matmul(
        self,
        a: Any,
        b: Any,
        *,
        price_cap: Amount,
        samples: Optional[int] = None,
        lifetime: int = 100,
        public_output: bool = False,
    ) -> Job:
        """Posts ``C = a·b`` as a job and returns it; :meth:`Job.result` delivers the inputs and
        returns the checked ``C``. Several jobs may run at once (one thread each, or asyncio).

        ``a``: m×k ``int8``, ``b``: k×n ``int8`` (any layout: copied to C order if needed).
        ``price_cap``: most paid per work unit, in GRID (``"0.5"``, ``0.5``, a ``Decimal``).
        ``samples``: output elements the chain checks (the chain's default if ``None``).
        ``lifetime``: blocks the job may wait for a device. ``public_output``: let the device
        serve ``C`` to anyone (by default only to you and whom you grant).
        """
        a, b = _int8("A", a), _int8("B", b)
        if a.shape[1] != b.shape[0]:
            raise InputError(
                f"A is {a.shape[0]}×{a.shape[1]} but B is {b.shape[0]}×{b.shape[1]}: "
                "the inner dimensions differ"
            )
        native = self._native.submit_matmul(
            a, b, _grid_text(price_cap), samples, lifetime, public_output
        )
        return Job(native, self)

    def matmul(
        self,
        a: Any,
        b: Any,
        *,
        price_cap: Amount,
        samples: Optional[int] = None,
        timeout: Optional[float] = None,
        lifetime: int = 100,
        public_output: bool = False,
        progress: Progress = False,
    ) -> np.ndarray:
        """``a.astype(int32) @ b.astype(int32)``, computed by a device and proven: returned
        only after the committed root and Freivalds' check passed. See :meth:`submit_matmul`
        for the arguments and :meth:`Job.result` for what it raises."""
        job = self.submit_matmul(
            a,
            b,
            price_cap=price_cap,
            samples=samples,
            lifetime=lifetime,
            public_output=public_output,
        )
        if progress is True:
            m, n, k = job.shape
            print(f"proofgrid: job {job.id}: submitted {m}×{k} · {k}×{n}", file=sys.stderr)
        return job.result(timeout=timeout, progress=progress)

    async def matmul_async(self, a: Any, b: Any, **options: Any) -> np.ndarray:
        """:meth:`matmul` for asyncio: ``await asyncio.gather(*(client.matmul_async(a, b,
        price_cap="0.5") for ...))`` runs jobs side by side."""
        return await asyncio.to_thread(lambda: self.matmul(a, b, **options))

    async def submit_matmul_async(self, a: Any, b: Any, **options: Any) -> Job:
        """:meth:`submit_matmul` for asyncio."""
        return await asyncio.to_thread(lambda: self.submit_matmul(a, b, **options))

    def submit_layer(
        self,
        a: Any,
        w: Any,
        bias: Any,
        *,
        multiplier: int,
        shift: int,
        relu: bool = False,
        price_cap: Amount,
        a_job: Optional[int] = None,
        samples: Optional[int] = None,
        lifetime: int = 100,
    ) -> LayerJob:
        """Posts one ``linear-i8`` layer ``Y = act(sat_i8(requant(A·W + bias)))`` as a job.

        ``a``: m×k ``int8`` (uploaded), or ``None`` with ``a_job``: the settled output of that
        earlier layer job, which the device fetches from the device that computed it (give
        ``a`` too, as you saved it, and it is uploaded as well). ``w``: k×n ``int8``;
        ``bias``: n ``int32``; ``multiplier`` (positive int32) and ``shift`` (0..62): the
        requantization scale ``multiplier / 2**shift``; ``relu``: clamp negatives to 0.
        """
        if a is None and a_job is None:
            raise InputError("give a (m×k int8) or a_job (an earlier layer job's id)")
        a = None if a is None else _int8("A", a)
        w = _int8("W", w)
        bias = np.asarray(bias)
        if bias.dtype != np.int32 or bias.ndim != 1:
            raise InputError(
                f"the biases are {bias.dtype} of shape {bias.shape}; a layer takes one int32 per "
                "column of W (bias.astype(np.int32) if they fit)"
            )
        native = self._native.submit_layer(
            a,
            a_job,
            w,
            np.ascontiguousarray(bias),
            int(multiplier),
            int(shift),
            bool(relu),
            _grid_text(price_cap),
            samples,
            lifetime,
        )
        return LayerJob(native, self)

    def layer(
        self,
        a: Any,
        w: Any,
        bias: Any,
        *,
        multiplier: int,
        shift: int,
        relu: bool = False,
        price_cap: Amount,
        a_job: Optional[int] = None,
        samples: Optional[int] = None,
        timeout: Optional[float] = None,
        lifetime: int = 100,
        progress: Progress = False,
    ) -> np.ndarray:
        """One layer, computed by a device and checked element by element here: returns ``Y``
        (``int8``, m×n). See :meth:`submit_layer` for the arguments."""
        job = self.submit_layer(
            a,
            w,
            bias,
            multiplier=multiplier,
            shift=shift,
            relu=relu,
            price_cap=price_cap,
            a_job=a_job,
            samples=samples,
            lifetime=lifetime,
        )
        return job.result(timeout=timeout, progress=progress)

    def run_model(
        self,
        model: Union[str, os.PathLike, Sequence[Dict[str, Any]]],
        x: Any = None,
        *,
        price_cap: Amount = "1",
        samples: Optional[int] = None,
        timeout: Optional[float] = None,
        progress: Progress = False,
    ) -> ModelRun:
        """Runs a quantized network as chained layer jobs: the first layer on ``x`` (uploaded),
        each next one on the previous one's settled output (fetched device to device, so only
        weights and biases are uploaded). Every layer is checked here and settled on chain
        before the next starts.

        ``model``: a directory as ``examples/mlp`` (``model.json`` naming each layer's
        ``weights`` and ``bias`` ``.npy`` files, ``multiplier``, ``shift``, ``relu``; ``x``
        defaults to its ``x.npy``), or a list of layers as dicts with ``w``, ``bias``,
        ``multiplier``, ``shift`` and ``relu``.
        """
        layers: List[Dict[str, Any]]
        if isinstance(model, (str, os.PathLike)):
            root = Path(model)
            spec = json.loads((root / "model.json").read_text())
            layers = [
                {
                    "w": np.load(root / layer["weights"]),
                    "bias": np.load(root / layer["bias"]),
                    "multiplier": layer["multiplier"],
                    "shift": layer["shift"],
                    "relu": layer.get("relu", False),
                }
                for layer in spec["layers"]
            ]
            if x is None:
                x = np.load(root / "x.npy")
        else:
            layers = list(model)
        if not layers:
            raise InputError("a model needs at least one layer")
        if x is None:
            raise InputError("give x, the batch (m×k int8)")
        previous: Optional[int] = None
        jobs: List[int] = []
        y: Optional[np.ndarray] = None
        for layer in layers:
            job = self.submit_layer(
                x if previous is None else None,
                layer["w"],
                layer["bias"],
                multiplier=layer["multiplier"],
                shift=layer["shift"],
                relu=layer.get("relu", False),
                price_cap=price_cap,
                a_job=previous,
                samples=samples,
            )
            if progress is True:
                m, n, k = job.shape
                print(f"proofgrid: layer job {job.id}: submitted {m}×{k} · {k}×{n}", file=sys.stderr)
            y = job.result(timeout=timeout, progress=progress)
            # Settled: its output is kept on chain for the next layer.
            job.settle(timeout=timeout, progress=progress)
            previous = job.id
            jobs.append(job.id)
        assert y is not None
        return ModelRun(logits=y, jobs=jobs)

    def submit_model(
        self,
        model: int,
        path: "Union[str, os.PathLike[str]]",
        x: Any,
        *,
        price_cap: Amount = "1",
        samples: Optional[int] = None,
        lifetime: int = 100,
    ) -> ModelJob:
        """Submits registered model ``model`` (its files at ``path``, as
        ``proofgrid.onnx_import`` writes them) on the batch ``x`` (``int8``, one row per image,
        NHWC: :meth:`Model.quantize` gives it) as one job; returns it to follow. ``samples``:
        the elements the chain checks, split across the layers (at least one per layer)."""
        x = _int8("x", x)
        if x.ndim != 2:
            raise InputError(f"x must be images × values, not {x.shape}")
        native = self._native.submit_model(
            int(model), os.fspath(path), x, _grid_text(price_cap), samples, lifetime
        )
        return ModelJob(native, self)

    def run_registered_model(
        self,
        model: int,
        path: "Union[str, os.PathLike[str]]",
        x: Any,
        *,
        price_cap: Amount = "1",
        samples: Optional[int] = None,
        timeout: Optional[float] = None,
        progress: Progress = False,
    ) -> ModelRun:
        """Runs registered model ``model`` on the batch ``x`` as one job: every layer checked
        here, the job settled on chain; returns its logits and every layer's output."""
        job = self.submit_model(model, path, x, price_cap=price_cap, samples=samples)
        if progress is True:
            print(f"proofgrid: model job {job.id}: submitted", file=sys.stderr)
        layers = job.result(timeout=timeout, progress=progress)
        job.settle(timeout=timeout, progress=progress)
        return ModelRun(logits=layers[-1], jobs=[job.id], layers=layers)

    async def layer_async(self, a: Any, w: Any, bias: Any, **options: Any) -> np.ndarray:
        """:meth:`layer` for asyncio."""
        return await asyncio.to_thread(lambda: self.layer(a, w, bias, **options))

    async def run_model_async(self, model: Any, x: Any = None, **options: Any) -> ModelRun:
        """:meth:`run_model` for asyncio."""
        return await asyncio.to_thread(lambda: self.run_model(model, x, **options))

    def market(self) -> Market:
        """The market's rules (prices, deposits, windows, fees) and what it has burned."""
        raw = json.loads(self._native.market())
        params = {_snake(k): _number(v) for k, v in raw["params"].items()}
        burned = {k: int(v) for k, v in raw["burned"].items()}
        return Market(params=params, burned=burned)

    def devices(self) -> List[Device]:
        """Every registered device: its ask, speed, bond, record and data service."""
        return [_from_view(Device, d) for d in json.loads(self._native.devices())]

    def jobs(self) -> List[JobView]:
        """Every open job."""
        return [_from_view(JobView, j) for j in json.loads(self._native.jobs())]

    def job(self, id: int) -> Optional[JobView]:
        """Open job ``id``, or ``None`` once it ended."""
        view = json.loads(self._native.job(int(id)))
        return None if view is None else _from_view(JobView, view)

    def register_model(self, path: "Union[str, os.PathLike[str]]", weights_url: Optional[str] = None) -> int:
        """Registers the model directory ``path`` (as ``proofgrid.onnx_import`` writes it) on
        chain: its layers and its weights' Merkle roots, never the weights. Holds the deposit
        from the signer; returns the model's id. See docs/MODELS.md."""
        return int(self._native.register_model(os.fspath(path), weights_url))

    def model(self, id: int) -> Optional[Dict[str, Any]]:
        """Registered model ``id``: ``owner``, ``deposit`` (planck), ``weights_url``, ``users``
        (jobs using it); ``None`` if there is none."""
        view = json.loads(self._native.model(int(id)))
        if view is None:
            return None
        return {_snake(k): (int(v) if k == "deposit" else v) for k, v in view.items()}

    def remove_model(self, id: int) -> None:
        """Removes the signer's model ``id`` and returns its deposit (refused while jobs use it)."""
        self._native.remove_model(int(id))

    def balance(self, address: Optional[str] = None) -> Dict[str, int]:
        """``{"free": planck, "held": planck}`` of ``address`` (the signer's by default); held is
        bonds, job budgets and deposits."""
        free, held = self._native.balance(address)
        return {"free": int(free), "held": int(held)}

    def __repr__(self) -> str:
        return f"<proofgrid.Client {self.url} as {self.address or 'no signer'}>"


def _number(value: Any) -> Any:
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value
