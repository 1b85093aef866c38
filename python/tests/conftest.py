"""A real chain for the tests: ``proofgrid-node --dev --sealing 500`` and ``proofgrid-worker``
(CPU backend) for //Charlie on loopback, started once per session from the workspace's build
(``$CARGO_TARGET_DIR/debug``). The fraud tests start their own chain with the
fault-injection worker (``PROOFGRID_FAULTY_WORKER``, built by ``scripts/test.sh``).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

TARGET = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/proofgrid/target"))
BIN = TARGET / "debug"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A child process with its log in a file."""

    def __init__(self, name: str, args: List[str], log: Path, env: Optional[Dict[str, str]] = None):
        self.name, self.log = name, log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
            )

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def wait_for(self, needle: str, seconds: float) -> None:
        deadline = time.time() + seconds
        while time.time() < deadline:
            if needle in self.log.read_text(errors="replace"):
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.tail()}")
            time.sleep(0.2)
        raise RuntimeError(f"{self.name}: no {needle!r} within {seconds} s:\n{self.tail()}")

    def stop(self) -> None:
        # A worker's first SIGTERM finishes what it holds; the second stops it at once.
        for _ in range(2):
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Chain:
    """A dev node sealing every 500 ms, and the workers started on it."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.node = Process(
            "node",
            [
                str(BIN / "proofgrid-node"),
                "--dev",
                "--sealing",
                "500",
                # The kernel's port, read back from the log: a port chosen here may be taken
                # before the node binds it, and the node then serves RPC elsewhere.
                "--rpc-port",
                "0",
                "--listen-addr",
                f"/ip4/127.0.0.1/tcp/{free_port()}",
                "--no-prometheus",
                "--no-telemetry",
                "--no-mdns",
                "--base-path",
                str(base / "node"),
            ],
            base / "node.log",
        )
        self.workers: List[Process] = []
        self.node.wait_for("Running JSON-RPC server", 120)
        logged = self.node.log.read_text(errors="replace")
        port = re.search(r"Running JSON-RPC server: addr=127\.0\.0\.1:(\d+)", logged)
        assert port, self.node.tail()
        self.url = f"ws://127.0.0.1:{port.group(1)}"

    def start_worker(self, owner: str, program: Optional[Path] = None, extra: List[str] = ()) -> Process:
        name = f"worker-{owner.strip('/').lower()}"
        worker = Process(
            name,
            [
                str(program or BIN / "proofgrid-worker"),
                "run",
                "--url",
                self.url,
                "--backend",
                "cpu",
                "--price",
                "0.1",
                "--base-path",
                str(self.base / name),
                "--metrics",
                "127.0.0.1:0",
                "--data-addr",
                f"127.0.0.1:{free_port()}",
                *extra,
            ],
            self.base / f"{name}.log",
            # The owner's secret travels in the environment, never in argv.
            env={"PROOFGRID_OWNER_SURI": owner},
        )
        self.workers.append(worker)
        worker.wait_for("job loop started", 240)
        return worker

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.node.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.tail()}" for p in [self.node, *self.workers])


def start_chain(base: Path) -> Chain:
    for binary in ("proofgrid-node", "proofgrid-worker"):
        if not (BIN / binary).exists():
            pytest.exit(f"{BIN / binary} is missing: cargo build --workspace first", 2)
    return Chain(base)


@pytest.fixture(scope="session")
def chain() -> Iterator[Chain]:
    """The session's chain, with one honest worker for //Charlie that also runs the example
    CNN (examples/cnn/model) when it is registered."""
    with tempfile.TemporaryDirectory(prefix="proofgrid-py-") as base:
        chain = start_chain(Path(base))
        models = Path(base) / "models"
        models.mkdir()
        (models / "cnn").symlink_to(Path(__file__).resolve().parents[2] / "examples" / "cnn" / "model")
        try:
            chain.start_worker("//Charlie", extra=["--models", str(models)])
            yield chain
        finally:
            chain.stop()


@pytest.fixture(scope="session")
def client(chain: Chain):
    import proofgrid

    # Loopback data services: allowed for this local chain only.
    return proofgrid.Client(chain.url, suri="//Eve", allow_private_endpoints=True)
