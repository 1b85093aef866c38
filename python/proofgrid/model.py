"""A ProofGrid model directory (``model.json`` and its weights, as
:func:`proofgrid.onnx_import.import_onnx` writes them) run locally by the Rust primitives'
integer definition: the reference a model job's output is checked against.

>>> m = proofgrid.Model("examples/cnn/model")
>>> q = m.quantize(images)        # float NCHW (as the ONNX model takes it) → int8 NHWC rows
>>> logits = m.output(q)          # int8, batch × outputs
>>> m.dequantize(logits)          # the real values, as ONNX's DequantizeLinear gives them
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List

import numpy as np

from . import _native


class Model:
    """A model directory. ``spec``: its ``model.json``."""

    def __init__(self, path: "str | os.PathLike[str]") -> None:
        self.path = os.fspath(path)
        with open(os.path.join(self.path, "model.json")) as f:
            self.spec: Dict[str, Any] = json.load(f)
        i = self.spec["input"]
        self.image = (i["height"], i["width"], i["channels"])

    def quantize(self, x: Any) -> np.ndarray:
        """Float input (NCHW images, or ``batch × features``) as the model's int8 input rows
        (NHWC): ``clip(round(x / scale) + zero_point)``, rounding half to even as ONNX's
        ``QuantizeLinear`` does."""
        x = np.asarray(x, dtype=np.float32)
        h, w, c = self.image
        if x.ndim == 4:
            if x.shape[1:] != (c, h, w):
                raise ValueError(f"images of shape {x.shape[1:]}, the model takes {(c, h, w)}")
            x = x.transpose(0, 2, 3, 1)
        i = self.spec["input"]
        q = np.rint(x / np.float32(i["scale"])) + i["zero_point"]
        return np.ascontiguousarray(np.clip(q, -128, 127).astype(np.int8).reshape(len(x), -1))

    def outputs(self, q: Any) -> List[np.ndarray]:
        """Every layer's int8 output on the quantized rows ``q`` (one ``batch × values`` array
        per layer, NHWC), by the Rust primitives."""
        q = np.ascontiguousarray(q, dtype=np.int8)
        return _native.model_outputs(self.path, q.reshape(len(q), -1))

    def output(self, q: Any) -> np.ndarray:
        """The model's int8 output on the quantized rows ``q``."""
        return self.outputs(q)[-1]

    def dequantize(self, y: Any) -> np.ndarray:
        """Int8 outputs as reals: ``scale · (y − zero_point)``."""
        o = self.spec["output"]
        return (np.asarray(y, np.float32) - o["zero_point"]) * np.float32(o["scale"])
