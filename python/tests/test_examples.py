"""The examples in examples/python run as docs/PYTHON.md shows them (small shapes: the flow,
not the size, is what could break)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "python"


def test_random_matmul_example_equals_numpy(chain):
    ran = subprocess.run(
        [sys.executable, str(EXAMPLES / "random_matmul.py"), chain.url, "--m", "5", "--k", "33", "--n", "7"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stderr
    assert "C: 5×7 int32" in ran.stdout, ran.stdout
    assert "equal to NumPy's a.astype(int32) @ b.astype(int32): True" in ran.stdout, ran.stdout
    assert "output checked here" in ran.stderr, ran.stderr
