#!/usr/bin/env python3
"""Trains a small CNN on scikit-learn's digits, exports it to ONNX and quantizes it to int8
with ONNX Runtime's own tool: the model `proofgrid model import` is shown on.

    python3 examples/cnn/make.py   # writes examples/cnn/cnn.onnx, cnn.int8.onnx, cnn.qdq.onnx

The network (NCHW, as ONNX has it): 8×8×1 → Conv 3×3 (8, padding 1) → ReLU → MaxPool 2 →
Conv 3×3 (16, padding 1) → ReLU → MaxPool 2 → Flatten (64) → Gemm (10). It is trained here with
NumPy (no deep-learning framework: a few seconds, fixed seed) on the first 1 347 images of
`load_digits` (the split `split()` defines) and quantized by `quantize_static`, int8 activations
and weights with one scale per tensor, calibrated on 200 training images, in both of ONNX
Runtime's forms: QOperator (`QLinearConv`, `QGemm`: cnn.int8.onnx) and QDQ (float ops between
`DequantizeLinear` and `QuantizeLinear`: cnn.qdq.onnx). Needs numpy, onnx, onnxruntime and scikit-learn.
"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261207


def split():
    """The digits as float NCHW in [0, 1], split into (train_x, train_y, test_x, test_y): the
    last 450 images are the test split."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    y = digits.target.astype(np.int64)
    return x[:-450], y[:-450], x[-450:], y[-450:]


# --- a minimal CNN in NumPy: im2col convolutions, 2×2 max pooling, softmax cross-entropy ---


def im2col(x, k, pad):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = h + 2 * pad - k + 1, w + 2 * pad - k + 1
    cols = np.empty((n, c, k, k, oh, ow), x.dtype)
    for ky in range(k):
        for kx in range(k):
            cols[:, :, ky, kx] = xp[:, :, ky : ky + oh, kx : kx + ow]
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, c * k * k), (n, oh, ow)


def col2im(dcols, shape, k, pad):
    n, c, h, w = shape
    oh, ow = h + 2 * pad - k + 1, w + 2 * pad - k + 1
    d = dcols.reshape(n, oh, ow, c, k, k).transpose(0, 3, 4, 5, 1, 2)
    dx = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dcols.dtype)
    for ky in range(k):
        for kx in range(k):
            dx[:, :, ky : ky + oh, kx : kx + ow] += d[:, :, ky, kx]
    return dx[:, :, pad : pad + h, pad : pad + w]


def conv(x, w, b):
    cols, (n, oh, ow) = im2col(x, w.shape[2], 1)
    y = cols @ w.reshape(w.shape[0], -1).T + b
    return y.reshape(n, oh, ow, -1).transpose(0, 3, 1, 2), cols


def pool(x):
    n, c, h, w = x.shape
    r = x.reshape(n, c, h // 2, 2, w // 2, 2)
    y = r.max(axis=(3, 5))
    mask = r == y[:, :, :, None, :, None]
    return y, mask


def unpool(dy, mask):
    d = mask * dy[:, :, :, None, :, None]
    n, c, h2, _, w2, _ = d.shape
    return d.reshape(n, c, h2 * 2, w2 * 2)


def forward(p, x):
    z1, c1 = conv(x, p["w1"], p["b1"])
    a1 = np.maximum(z1, 0)
    p1, m1 = pool(a1)
    z2, c2 = conv(p1, p["w2"], p["b2"])
    a2 = np.maximum(z2, 0)
    p2, m2 = pool(a2)
    f = p2.reshape(len(x), -1)
    logits = f @ p["w3"].T + p["b3"]
    return logits, (x, z1, c1, p1, m1, z2, c2, m2, p2, f)


def gradients(p, x, y):
    logits, (x, z1, c1, p1, m1, z2, c2, m2, p2, f) = forward(p, x)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    prob = e / e.sum(axis=1, keepdims=True)
    d = prob
    d[np.arange(len(y)), y] -= 1
    d /= len(y)
    g = {"w3": d.T @ f, "b3": d.sum(0)}
    dp2 = (d @ p["w3"]).reshape(p2.shape)
    dz2 = unpool(dp2, m2) * (z2 > 0)
    dz2f = dz2.transpose(0, 2, 3, 1).reshape(-1, dz2.shape[1])
    g["w2"] = (dz2f.T @ c2).reshape(p["w2"].shape)
    g["b2"] = dz2f.sum(0)
    dp1 = col2im(dz2f @ p["w2"].reshape(p["w2"].shape[0], -1), p1.shape, 3, 1)
    dz1 = unpool(dp1, m1) * (z1 > 0)
    dz1f = dz1.transpose(0, 2, 3, 1).reshape(-1, dz1.shape[1])
    g["w1"] = (dz1f.T @ c1).reshape(p["w1"].shape)
    g["b1"] = dz1f.sum(0)
    return g


def train(x, y):
    rng = np.random.default_rng(SEED)

    def he(*shape):
        fan_in = int(np.prod(shape[1:]))
        return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)

    p = {"w1": he(8, 1, 3, 3), "b1": np.zeros(8, np.float32), "w2": he(16, 8, 3, 3),
         "b2": np.zeros(16, np.float32), "w3": he(10, 64), "b3": np.zeros(10, np.float32)}
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(val) for k, val in p.items()}
    step = 0
    for _epoch in range(40):
        order = rng.permutation(len(x))
        for start in range(0, len(x), 32):
            batch = order[start : start + 32]
            g = gradients(p, x[batch], y[batch])
            step += 1
            for k in p:  # Adam
                m[k] = 0.9 * m[k] + 0.1 * g[k]
                v[k] = 0.999 * v[k] + 0.001 * g[k] ** 2
                mh, vh = m[k] / (1 - 0.9**step), v[k] / (1 - 0.999**step)
                p[k] = (p[k] - 0.003 * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)
    return p


def export(p, path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    init = [numpy_helper.from_array(v, k) for k, v in p.items()]
    nodes = [
        helper.make_node("Conv", ["input", "w1", "b1"], ["z1"], "conv1", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["z1"], ["a1"], "relu1"),
        helper.make_node("MaxPool", ["a1"], ["p1"], "pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["z2"], "conv2", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["z2"], ["a2"], "relu2"),
        helper.make_node("MaxPool", ["a2"], ["p2"], "pool2", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p2"], ["f"], "flatten", axis=1),
        helper.make_node("Gemm", ["f", "w3", "b3"], ["logits"], "dense", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "digits-cnn",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])], init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="proofgrid examples/cnn/make.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def quantize(float_path, int8_path, calibration, qdq=False):
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{"input": calibration[i : i + 1]} for i in range(len(calibration))])

        def get_next(self):
            return next(self.batches, None)

    form = QuantFormat.QDQ if qdq else QuantFormat.QOperator
    quantize_static(float_path, int8_path, Reader(), quant_format=form,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                    per_channel=False)


def main():
    train_x, train_y, test_x, test_y = split()
    p = train(train_x, train_y)
    accuracy = (forward(p, test_x)[0].argmax(1) == test_y).mean()
    print(f"float model: {accuracy:.1%} of {len(test_y)} test images right")
    float_path = os.path.join(HERE, "cnn.onnx")
    int8_path = os.path.join(HERE, "cnn.int8.onnx")
    export(p, float_path)
    quantize(float_path, int8_path, train_x[:200])
    qdq_path = os.path.join(HERE, "cnn.qdq.onnx")
    quantize(float_path, qdq_path, train_x[:200], qdq=True)
    import onnxruntime as ort

    session = ort.InferenceSession(int8_path, providers=["CPUExecutionProvider"])
    logits = session.run(None, {"input": test_x})[0]
    print(f"int8 model (ONNX Runtime): {(logits.argmax(1) == test_y).mean():.1%} right")
    for path in (float_path, int8_path, qdq_path):
        print(f"wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    sys.exit(main())
