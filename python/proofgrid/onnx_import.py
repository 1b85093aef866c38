"""Turns a quantized ONNX model into a ProofGrid model directory: ``model.json`` (the layers, as
``proofgrid_primitives::model`` defines them) and one ``.npy`` pair per GEMM layer (weights as
``n`` lanes of ``k`` int8 values in NHWC order, biases as int32).

    python -m proofgrid.onnx_import model.int8.onnx out/

Accepted: a chain of layers from one image input (NCHW, or ``N × K``) to one output, in
ONNX Runtime's **QOperator** form (``QuantizeLinear``, ``QLinearConv``, ``QLinearMatMul``,
``QGemm``, ``MaxPool``, ``QLinearAveragePool``, ``QLinearGlobalAveragePool``,
``Flatten``/``Reshape``, ``DequantizeLinear``) or its **QDQ** form (``Conv``, ``Gemm``,
``MatMul``, ``Relu``, ``MaxPool``, ``AveragePool``, ``GlobalAveragePool``,
``Flatten``/``Reshape`` between ``DequantizeLinear`` and ``QuantizeLinear``), or with integer
ops (``ConvInteger``/``MatMulInteger``, ``Cast``, ``Mul`` by a scale, ``Add`` of a float bias,
``Relu``, ``QuantizeLinear``), with int8 or uint8 activations and symmetric
weights, one scale per tensor. Anything else is refused with the node's name and op
(:class:`ModelImportError`).

How the numbers map (docs/MODELS.md):

- uint8 tensors become int8 by subtracting 128 from values and zero points (the differences
  ``x − z`` that the arithmetic uses do not change);
- a layer's real scale ``s_x · s_w / s_y`` becomes ``multiplier / 2^shift`` with ``multiplier``
  in ``[2^30, 2^31)``: ``frexp`` of the scale (in double precision, from the model's float32
  scales), its fraction times ``2^31`` **rounded to nearest** (ties to even);
- the input zero point is folded into the bias: ``bias − z_x · Σ w`` over each lane, so the
  layer multiplies raw int8 values and its padding reads ``z_x``;
- a dense layer after a ``Flatten`` of an NCHW image gets its weight columns permuted from
  ``(c, h, w)`` to ProofGrid's ``(h, w, c)`` order;
- average pooling (no padding) folds the division by its window's size into its scale:
  ``s_x / (s_y · count)``.
"""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from .errors import InputError

FORMAT = 1
I32 = (-(2**31), 2**31 - 1)


class ModelImportError(InputError):
    """The ONNX model cannot be imported. ``node`` and ``op``: the node refused (``None`` when
    the refusal is about the model as a whole)."""

    node: Optional[str]
    op: Optional[str]


def _refuse(node: Any, why: str) -> ModelImportError:
    if node is None:
        return ModelImportError(why, node=None, op=None)
    op = f"{node.domain}:{node.op_type}" if node.domain else node.op_type
    return ModelImportError(f"node {node.name!r} ({op}): {why}", node=node.name, op=node.op_type)


def multiplier_and_shift(scale: float) -> Tuple[int, int]:
    """``scale ≈ multiplier / 2^shift``, ``multiplier`` in ``[2^30, 2^31)``, rounded to nearest."""
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"scale {scale} is not positive")
    fraction, exponent = math.frexp(scale)  # scale = fraction · 2^exponent, fraction in [0.5, 1)
    multiplier = round(fraction * 2**31)
    if multiplier == 2**31:
        multiplier, exponent = 2**30, exponent + 1
    return multiplier, 31 - exponent


class _Quant:
    """A quantized tensor's scale and zero point, in ProofGrid's int8 domain."""

    def __init__(self, scale: float, zero_point: int):
        self.scale, self.zero_point = scale, zero_point

    def same(self, other: "_Quant") -> bool:
        return self.scale == other.scale and self.zero_point == other.zero_point


class _Importer:
    def __init__(self, model: Any):
        from onnx import numpy_helper

        self.graph = model.graph
        self.init = {t.name: numpy_helper.to_array(t) for t in self.graph.initializer}
        self.layers: List[Dict[str, Any]] = []
        self.arrays: Dict[str, np.ndarray] = {}
        # The chain's state: the tensor the next node must read, its image shape (h, w, c),
        # whether it was flattened from NCHW (then the next dense layer permutes its weights),
        # and its quantization (None while it is float).
        self.current: Optional[str] = None
        self.shape: Tuple[int, int, int] = (0, 0, 0)
        self.flattened: Optional[Tuple[int, int, int]] = None
        self.quant: Optional[_Quant] = None
        self.float_of: Dict[str, Tuple[str, _Quant]] = {}
        self.input_quant: Optional[_Quant] = None
        self.output_quant: Optional[_Quant] = None
        self.pending: Optional[Dict[str, Any]] = None  # a QDQ GEMM layer waiting for its Q

    # --- constants ---------------------------------------------------------------------------

    def const(self, node: Any, name: str) -> np.ndarray:
        if name not in self.init:
            raise _refuse(node, f"input {name!r} is not a constant")
        return self.init[name]

    def quant_of(self, node: Any, scale_name: str, zero_name: Optional[str],
                 bias: bool = False) -> _Quant:
        scale = self.const(node, scale_name)
        if scale.size != 1:
            raise _refuse(node, "per-channel scales are not supported (one scale per tensor)")
        zero = self.const(node, zero_name) if zero_name else np.array(0, np.uint8)
        if zero.size != 1:
            raise _refuse(node, "per-channel zero points are not supported")
        if zero.dtype == np.uint8:
            z = int(zero.reshape(())) - 128
        elif zero.dtype == np.int8 or (bias and zero.dtype == np.int32):
            z = int(zero.reshape(()))
        else:
            raise _refuse(node, f"zero point of type {zero.dtype} (int8 or uint8 only)")
        return _Quant(float(scale.reshape(())), z)

    def zero_of(self, node: Any, name: Optional[str]) -> int:
        """A zero point given alone (``ConvInteger``, ``MatMulInteger``), in the int8 domain."""
        zero = self.const(node, name) if name else np.array(0, np.uint8)
        if zero.size != 1:
            raise _refuse(node, "per-channel zero points are not supported")
        if zero.dtype == np.uint8:
            return int(zero.reshape(())) - 128
        if zero.dtype == np.int8:
            return int(zero.reshape(()))
        raise _refuse(node, f"zero point of type {zero.dtype} (int8 or uint8 only)")

    def weights(self, node: Any, name: str, q: _Quant) -> np.ndarray:
        w = self.const(node, name)
        if w.dtype == np.uint8:
            w = (w.astype(np.int16) - 128).astype(np.int8)
        elif w.dtype != np.int8:
            raise _refuse(node, f"weights of type {w.dtype} (int8 or uint8 only)")
        if q.zero_point != 0:
            raise _refuse(node, "weights with a nonzero zero point (symmetric weights only)")
        return w

    # --- the chain ---------------------------------------------------------------------------

    def reads(self, node: Any, name: str) -> None:
        if name != self.current:
            raise _refuse(node, f"reads {name!r}, not the previous layer's output "
                                f"{self.current!r} (only a chain of layers is supported)")

    def attrs(self, node: Any) -> Dict[str, Any]:
        from onnx import helper

        return {a.name: helper.get_attribute_value(a) for a in node.attribute}

    def gemm_layer(self, node: Any, op: str, w_lanes: np.ndarray, bias: Optional[np.ndarray],
                   x: _Quant, w: _Quant, y: _Quant, relu: bool, geometry: Dict[str, Any]) -> None:
        n = w_lanes.shape[0]
        lanes = w_lanes.reshape(n, -1).astype(np.int8)
        if bias is None:
            bias = np.zeros(n, np.int64)
        if bias.dtype != np.int32 or bias.shape != (n,):
            raise _refuse(node, f"bias of type {bias.dtype} and shape {bias.shape} "
                                f"(int32, one per output)")
        folded = bias.astype(np.int64) - x.zero_point * lanes.astype(np.int64).sum(axis=1)
        if folded.min(initial=0) < I32[0] or folded.max(initial=0) > I32[1]:
            raise _refuse(node, "the bias with the input zero point folded in overflows int32")
        multiplier, shift = multiplier_and_shift(x.scale * w.scale / y.scale)
        if not 0 <= shift <= 62:
            raise _refuse(node, f"scale {x.scale * w.scale / y.scale} needs shift {shift} "
                                f"(0 to 62)")
        stem = f"layer{len(self.layers)}"
        self.arrays[f"{stem}.weights.npy"] = lanes
        self.arrays[f"{stem}.bias.npy"] = folded.astype(np.int32)
        self.layers.append({"op": op, "name": node.name, **geometry, "multiplier": multiplier,
                            "shift": shift, "relu": relu, "zero_point": y.zero_point,
                            "weights": f"{stem}.weights.npy", "bias": f"{stem}.bias.npy"})
        self.quant = y

    def conv(self, node: Any, x: _Quant, w_q: _Quant, y: _Quant, w_name: str,
             bias: Optional[np.ndarray], relu: bool) -> None:
        a = self.attrs(node)
        if a.get("group", 1) != 1:
            raise _refuse(node, "grouped convolutions are not supported")
        if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            raise _refuse(node, "auto_pad is not supported (give explicit pads)")
        if self.flattened is not None:
            raise _refuse(node, "a convolution after Flatten")
        w = self.weights(node, w_name, w_q)
        if w.ndim != 4 or w.shape[1] != self.shape[2]:
            raise _refuse(node, f"weights of shape {w.shape} for {self.shape[2]} input channels")
        kh, kw = w.shape[2], w.shape[3]
        stride = list(a.get("strides", [1, 1]))
        pads = list(a.get("pads", [0, 0, 0, 0]))
        dilation = list(a.get("dilations", [1, 1]))
        h, wd, _ = self.shape
        oh = (h + pads[0] + pads[2] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
        ow = (wd + pads[1] + pads[3] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
        # [o][c][kh][kw] → lanes [o][kh][kw][c].
        self.gemm_layer(node, "conv", w.transpose(0, 2, 3, 1), bias, x, w_q, y, relu,
                        {"filters": int(w.shape[0]), "kernel": [kh, kw], "stride": stride,
                         "padding": pads, "dilation": dilation})
        self.shape = (oh, ow, int(w.shape[0]))

    def dense(self, node: Any, x: _Quant, w_q: _Quant, y: _Quant, w_nk: np.ndarray,
              bias: Optional[np.ndarray], relu: bool) -> None:
        h, wd, c = self.shape
        if w_nk.shape[1] != h * wd * c:
            raise _refuse(node, f"weights for {w_nk.shape[1]} inputs, the input has {h * wd * c}")
        if self.flattened is not None and (h, wd) != (1, 1):
            # ONNX flattened (c, h, w); ProofGrid's lanes are (h, w, c).
            w_nk = w_nk.reshape(-1, c, h, wd).transpose(0, 2, 3, 1).reshape(w_nk.shape[0], -1)
        self.gemm_layer(node, "dense", w_nk, bias, x, w_q, y, relu,
                        {"outputs": int(w_nk.shape[0])})
        self.shape = (1, 1, int(w_nk.shape[0]))
        self.flattened = None

    def gemm_weights(self, node: Any, name: str, q: _Quant, trans_b: int) -> np.ndarray:
        w = self.weights(node, name, q)
        if w.ndim != 2:
            raise _refuse(node, f"weights of shape {w.shape} (2-D only)")
        return w if trans_b else w.T

    def check_gemm_attrs(self, node: Any) -> int:
        a = self.attrs(node)
        if a.get("transA", 0) != 0 or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
            raise _refuse(node, "transA, alpha or beta other than the defaults")
        return int(a.get("transB", 0))

    def max_pool(self, node: Any) -> None:
        a = self.attrs(node)
        if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET") or a.get("ceil_mode", 0):
            raise _refuse(node, "auto_pad or ceil_mode is not supported")
        if any(d != 1 for d in a.get("dilations", [1, 1])) or a.get("storage_order", 0):
            raise _refuse(node, "dilated pooling is not supported")
        if self.flattened is not None:
            raise _refuse(node, "pooling after Flatten")
        if len(node.output) != 1:
            raise _refuse(node, "pooling with indices is not supported")
        kh, kw = a["kernel_shape"]
        stride = list(a.get("strides", [1, 1]))
        pads = list(a.get("pads", [0, 0, 0, 0]))
        h, w, c = self.shape
        self.layers.append({"op": "max_pool", "name": node.name, "kernel": [kh, kw],
                            "stride": stride, "padding": pads})
        self.shape = ((h + pads[0] + pads[2] - kh) // stride[0] + 1,
                      (w + pads[1] + pads[3] - kw) // stride[1] + 1, c)

    def avg_pool(self, node: Any, x: _Quant, y: _Quant, whole: bool) -> None:
        """Average pooling without padding (or over the whole image): the division by the
        window's size is folded into the scale, ``s_x / (s_y · count)``."""
        if self.flattened is not None:
            raise _refuse(node, "pooling after Flatten")
        h, w, c = self.shape
        if whole:
            kh, kw, stride = h, w, [1, 1]
        else:
            a = self.attrs(node)
            if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET") or a.get("ceil_mode", 0):
                raise _refuse(node, "auto_pad or ceil_mode is not supported")
            if any(a.get("pads", [0, 0, 0, 0])) or a.get("channels_last", 0):
                raise _refuse(node, "padded (or channels-last) average pooling is not supported")
            kh, kw = a["kernel_shape"]
            stride = list(a.get("strides", [1, 1]))
        if whole and self.attrs(node).get("channels_last", 0):
            raise _refuse(node, "channels-last pooling is not supported")
        multiplier, shift = multiplier_and_shift(x.scale / (y.scale * kh * kw))
        if not 0 <= shift <= 62:
            raise _refuse(node, f"scale needs shift {shift} (0 to 62)")
        self.layers.append({"op": "avg_pool", "name": node.name, "kernel": [kh, kw],
                            "stride": stride, "multiplier": multiplier, "shift": shift,
                            "zero_point": y.zero_point})
        self.shape = ((h - kh) // stride[0] + 1, (w - kw) // stride[1] + 1, c)
        self.quant = y

    def flatten(self, node: Any) -> None:
        if node.op_type == "Flatten" and self.attrs(node).get("axis", 1) != 1:
            raise _refuse(node, "Flatten with axis other than 1")
        if node.op_type == "Reshape":
            target = self.const(node, node.input[1]).tolist()
            if len(target) != 2 or target[1] not in (-1, int(np.prod(self.shape))):
                raise _refuse(node, f"Reshape to {target} (only to batch × features)")
        self.flattened = self.shape

    # --- nodes ---------------------------------------------------------------------------------

    def run(self) -> Dict[str, Any]:
        g = self.graph
        inputs = [i for i in g.input if i.name not in self.init]
        if len(inputs) != 1 or len(g.output) != 1:
            raise _refuse(None, "a model with one input and one output only")
        dims = [d.dim_value for d in inputs[0].type.tensor_type.shape.dim]
        if len(dims) == 4:
            self.shape = (dims[2], dims[3], dims[1])
        elif len(dims) == 2:
            self.shape = (1, 1, dims[1])
        else:
            raise _refuse(None, f"input of rank {len(dims)} (NCHW images or batch × features)")
        if min(self.shape) <= 0:
            raise _refuse(None, f"input shape {dims} has unknown sizes beyond the batch")
        self.current = inputs[0].name
        input_shape = self.shape
        for node in g.node:
            self.node(node)
        if self.current != g.output[0].name or self.quant is not None or self.pending:
            raise _refuse(None, "the chain does not end in a DequantizeLinear to the model's output")
        if not self.layers:
            raise _refuse(None, "no layers")
        return {
            "format": FORMAT,
            "input": {"height": input_shape[0], "width": input_shape[1],
                      "channels": input_shape[2], "scale": self.input_quant.scale,
                      "zero_point": self.input_quant.zero_point,
                      "signed": self.input_signed},
            "output": {"scale": self.output_quant.scale,
                       "zero_point": self.output_quant.zero_point},
            "layers": self.layers,
        }

    def node(self, node: Any) -> None:
        op, ins = (node.domain or "") + ":" + node.op_type, list(node.input)
        if op == ":QuantizeLinear":
            self.reads(node, ins[0])
            q = self.quant_of(node, ins[1], ins[2] if len(ins) > 2 else None)
            if self.input_quant is None:
                zero = self.init.get(ins[2]) if len(ins) > 2 else None
                self.input_signed = zero is not None and zero.dtype == np.int8
                self.input_quant = q
            elif self.pending is not None:
                layer, self.pending = self.pending, None
                layer["finish"](q)
            elif self.quant_after_float is not None and q.same(self.quant_after_float):
                pass  # DQ → MaxPool/Flatten → Q with the same parameters
            else:
                raise _refuse(node, "a QuantizeLinear that requantizes outside a layer")
            self.quant, self.quant_after_float = q, None
        elif op == ":DequantizeLinear":
            if ins[0] in self.init:
                return  # a weight or bias, read by the layer that uses it
            self.reads(node, ins[0])
            q = self.quant_of(node, ins[1], ins[2] if len(ins) > 2 else None)
            if self.quant is None or not q.same(self.quant):
                raise _refuse(node, "dequantizes with other parameters than its tensor's")
            self.output_quant, self.quant_after_float, self.quant = q, q, None
        elif op == ":QLinearConv":
            self.reads(node, ins[0])
            x = self.input_of(node, self.quant_of(node, ins[1], ins[2]))
            w_q = self.quant_of(node, ins[4], ins[5])
            y = self.quant_of(node, ins[6], ins[7])
            bias = self.const(node, ins[8]) if len(ins) > 8 and ins[8] else None
            self.conv(node, x, w_q, y, ins[3], bias, relu=False)
        elif op in ("com.microsoft:QGemm", ":QLinearMatMul"):
            self.reads(node, ins[0])
            x = self.input_of(node, self.quant_of(node, ins[1], ins[2]))
            w_q = self.quant_of(node, ins[4], ins[5])
            if op == ":QLinearMatMul":
                trans_b, bias, y = 0, None, self.quant_of(node, ins[6], ins[7])
            else:
                trans_b = self.check_gemm_attrs(node)
                bias = self.const(node, ins[6]) if len(ins) > 6 and ins[6] else None
                if len(ins) < 8 or not ins[7]:
                    raise _refuse(node, "a QGemm with a float output")
                y = self.quant_of(node, ins[7], ins[8] if len(ins) > 8 else None)
            w = self.gemm_weights(node, ins[3], w_q, trans_b)
            self.dense(node, x, w_q, y, w, bias, relu=False)
        elif op in ("com.microsoft:QLinearAveragePool", "com.microsoft:QLinearGlobalAveragePool"):
            self.reads(node, ins[0])
            x = self.input_of(node, self.quant_of(node, ins[1], ins[2]))
            y = self.quant_of(node, ins[3], ins[4])
            self.avg_pool(node, x, y, whole=op.endswith("GlobalAveragePool"))
        elif op in (":AveragePool", ":GlobalAveragePool"):
            self.reads(node, ins[0])
            x = self.quant_after_float
            if x is None:
                raise _refuse(node, "its input is not dequantized from int8")
            self.quant_after_float = None
            whole = op == ":GlobalAveragePool"
            self.pending = {"relu": False, "pool": True,
                            "finish": lambda y: self.avg_pool(node, x, y, whole)}
        elif op in (":Conv", ":Gemm", ":MatMul"):
            self.qdq_gemm(node, op, ins)
        elif op == ":DynamicQuantizeLinear":
            raise _refuse(node, "dynamic quantization: its scale depends on each input, and no "
                                "fixed integer requantization computes it (quantize statically)")
        elif op in (":ConvInteger", ":MatMulInteger"):
            self.integer_gemm(node, op, ins)
        elif op in (":Cast", ":Mul", ":Add") and self.pending and "stage" in self.pending:
            self.integer_epilogue(node, op, ins)
        elif op == ":Relu":
            self.reads(node, ins[0])
            if self.pending is None or self.pending.get("pool"):
                raise _refuse(node, "a Relu that does not follow a convolution or dense layer")
            self.pending["relu"] = True
        elif op == ":MaxPool":
            self.reads(node, ins[0])
            self.max_pool(node)
        elif op in (":Flatten", ":Reshape"):
            self.reads(node, ins[0])
            self.flatten(node)
        else:
            raise _refuse(node, "op is not supported")
        self.current = node.output[0]

    def input_of(self, node: Any, x: _Quant) -> _Quant:
        if self.quant is None or not x.same(self.quant):
            raise _refuse(node, "reads its input with other parameters than it was quantized by")
        return x

    quant_after_float: Optional[_Quant] = None
    input_signed = True

    def qdq_gemm(self, node: Any, op: str, ins: List[str]) -> None:
        """A float Conv/Gemm/MatMul between DequantizeLinear and QuantizeLinear (QDQ form):
        held until its QuantizeLinear gives the output's parameters."""
        self.reads(node, ins[0])
        x = self.quant_after_float
        if x is None:
            raise _refuse(node, "its input is not dequantized from int8")
        self.quant_after_float = None

        def dequantized(name: str, bias: bool = False) -> Tuple[str, _Quant]:
            for n in self.graph.node:
                if n.op_type == "DequantizeLinear" and n.output[0] == name:
                    zero = n.input[2] if len(n.input) > 2 else None
                    return n.input[0], self.quant_of(node, n.input[1], zero, bias)
            raise _refuse(node, f"{name!r} is not dequantized from an integer constant")

        w_name, w_q = dequantized(ins[1])
        bias = None
        if len(ins) > 2 and ins[2]:
            b_name, b_q = dequantized(ins[2], bias=True)
            bias = self.const(node, b_name)
            if b_q.zero_point != 0 or not math.isclose(b_q.scale, x.scale * w_q.scale,
                                                        rel_tol=1e-6):
                raise _refuse(node, "a bias not quantized at the input's times the weights' scale")
        pending: Dict[str, Any] = {"relu": False}

        def finish(y: _Quant) -> None:
            if op == ":Conv":
                self.conv(node, x, w_q, y, w_name, bias, pending["relu"])
            else:
                trans_b = self.check_gemm_attrs(node) if op == ":Gemm" else 0
                w = self.gemm_weights(node, w_name, w_q, trans_b)
                self.dense(node, x, w_q, y, w, bias, pending["relu"])

        pending["finish"] = finish
        self.pending = pending


    def integer_gemm(self, node: Any, op: str, ins: List[str]) -> None:
        """``ConvInteger``/``MatMulInteger`` on the quantized tensor, its int32 accumulators then
        ``Cast`` to float, ``Mul`` by the input's times the weights' scale, optionally ``Add`` a
        float bias and ``Relu``, and ``QuantizeLinear``: the same layer as a ``QLinearConv``
        (``QLinearMatMul``), held until that ``QuantizeLinear`` gives the output's parameters.
        The weights' scale is the ``Mul``'s over the input's; the bias becomes accumulator units,
        rounded to nearest (half a unit of the accumulator at most)."""
        self.reads(node, ins[0])
        if self.quant is None:
            raise _refuse(node, "its input is not quantized to int8")
        x = self.quant
        if self.zero_of(node, ins[2] if len(ins) > 2 and ins[2] else None) != x.zero_point:
            raise _refuse(node, "reads its input with another zero point than it was quantized by")
        if self.zero_of(node, ins[3] if len(ins) > 3 and ins[3] else None) != 0:
            raise _refuse(node, "weights with a nonzero zero point (symmetric weights only)")
        self.quant = None  # int32 accumulators from here to the QuantizeLinear
        pending: Dict[str, Any] = {"relu": False, "stage": "accumulators", "scale": None,
                                   "bias": None}

        def finish(y: _Quant) -> None:
            if pending["stage"] not in ("scaled", "biased"):
                raise _refuse(node, "its accumulators are quantized without a Cast to float and "
                                    "a Mul by the input's times the weights' scale")
            w_q = _Quant(pending["scale"] / x.scale, 0)
            if op == ":ConvInteger":
                self.conv(node, x, w_q, y, ins[1], pending["bias"], pending["relu"])
            else:
                w = self.gemm_weights(node, ins[1], w_q, 0)
                self.dense(node, x, w_q, y, w, pending["bias"], pending["relu"])

        pending["finish"] = finish
        self.pending = pending

    def integer_epilogue(self, node: Any, op: str, ins: List[str]) -> None:
        """The ``Cast``, ``Mul`` and ``Add`` after a ``ConvInteger``/``MatMulInteger``."""
        from onnx import TensorProto

        pending = self.pending
        assert pending is not None
        if self.current not in ins:
            self.reads(node, ins[0])
        constant = [name for name in ins if name != self.current]
        if op == ":Cast":
            if pending["stage"] != "accumulators" or self.attrs(node).get("to") != TensorProto.FLOAT:
                raise _refuse(node, "a Cast other than the accumulators' to float")
            pending["stage"] = "float"
        elif op == ":Mul":
            scale = self.const(node, constant[0]) if len(constant) == 1 else None
            if pending["stage"] != "float" or scale is None or scale.size != 1 \
                    or not float(scale.reshape(())) > 0:
                raise _refuse(node, "not the accumulators times one positive scale")
            pending["scale"], pending["stage"] = float(scale.reshape(())), "scaled"
        else:
            bias = self.const(node, constant[0]) if len(constant) == 1 else None
            if pending["stage"] != "scaled" or bias is None or bias.dtype != np.float32:
                raise _refuse(node, "not a float bias added to the scaled accumulators")
            units = np.rint(bias.reshape(-1).astype(np.float64) / pending["scale"])
            if units.min(initial=0) < I32[0] or units.max(initial=0) > I32[1]:
                raise _refuse(node, "the bias in accumulator units overflows int32")
            pending["bias"], pending["stage"] = units.astype(np.int32), "biased"


def import_onnx(path: str, out_dir: str) -> Dict[str, Any]:
    """Imports the quantized ONNX model at ``path`` into the directory ``out_dir`` (created):
    ``model.json`` and the weights' ``.npy`` files. Returns ``model.json``'s content. Raises
    :class:`ModelImportError` naming the node and op it cannot map."""
    import onnx

    importer = _Importer(onnx.load(path))
    spec = importer.run()
    spec["source"] = os.path.basename(path)
    os.makedirs(out_dir, exist_ok=True)
    for name, array in importer.arrays.items():
        np.save(os.path.join(out_dir, name), array)
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        f.write(_dumps(spec))
    return spec


def _dumps(spec: Dict[str, Any]) -> str:
    """``model.json``'s text: one line per field, one per layer."""
    lines = [f" {json.dumps(k)}: {json.dumps(v)}" for k, v in spec.items() if k != "layers"]
    layers = ",\n".join(f"  {json.dumps(layer)}" for layer in spec["layers"])
    return "{\n" + ",\n".join(lines) + f',\n "layers": [\n{layers}\n ]\n}}\n'



def main(argv: List[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m proofgrid.onnx_import MODEL.onnx OUT_DIR", file=sys.stderr)
        return 2
    try:
        spec = import_onnx(argv[1], argv[2])
    except ModelImportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    ops = ", ".join(layer["op"] for layer in spec["layers"])
    print(f"imported {argv[1]}: {len(spec['layers'])} layers ({ops}) into {argv[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
