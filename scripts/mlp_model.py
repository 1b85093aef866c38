#!/usr/bin/env python3
"""The int8 MLP of the `mlp` example: trains a small 784-256-10 network on a synthetic
10-class dataset (fixed seed, seconds on a laptop), quantizes it to int8 layers the way the
`linear-i8` kernel computes them, and writes it to examples/mlp/:

  x.npy        int8, 64 x 784   the test batch (A of layer 1: one input per row)
  w1.npy       int8, 784 x 256  layer 1's weights (W: k x n)
  b1.npy       int32, 256       layer 1's biases, in accumulator units
  w2.npy       int8, 256 x 10   layer 2's weights
  b2.npy       int32, 10        layer 2's biases
  model.json   the two requantizations (multiplier, shift, relu), the labels of the batch,
               and the logits and classes this script's integer pipeline computes

  scripts/mlp_model.py [OUT_DIR]      (needs NumPy; the files are committed, so running the
                                       example does not)

The integer pipeline here is a plain reimplementation of proofgrid_primitives::linear
(requantization rounds to nearest, ties away from zero, then saturates, then ReLU), so the
example can check that the chain's definition gives the same bytes.
"""
import json
import os
import sys

import numpy as np

SEED = 20261130
CLASSES, FEATURES, HIDDEN = 10, 784, 256
TRAIN, BATCH = 3000, 64


def dataset(rng, count, prototypes):
    """Inputs in [0, 1]: a class's prototype, blurred by noise; and the labels."""
    labels = rng.integers(0, CLASSES, count)
    x = prototypes[labels] + rng.normal(0.0, 1.0, (count, FEATURES))
    return np.clip(x, 0.0, 1.0), labels


def train(rng, x, labels):
    """A float 784-256-10 ReLU network, plain SGD with momentum on cross-entropy."""
    w1 = rng.normal(0, np.sqrt(2 / FEATURES), (FEATURES, HIDDEN))
    b1 = np.zeros(HIDDEN)
    w2 = rng.normal(0, np.sqrt(2 / HIDDEN), (HIDDEN, CLASSES))
    b2 = np.zeros(CLASSES)
    params = [w1, b1, w2, b2]
    velocity = [np.zeros_like(p) for p in params]
    onehot = np.eye(CLASSES)[labels]
    for epoch in range(8):
        order = rng.permutation(len(x))
        for start in range(0, len(x), 100):
            i = order[start:start + 100]
            h = np.maximum(x[i] @ w1 + b1, 0)
            logits = h @ w2 + b2
            p = np.exp(logits - logits.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            d_logits = (p - onehot[i]) / len(i)
            d_h = (d_logits @ w2.T) * (h > 0)
            grads = [x[i].T @ d_h, d_h.sum(0), h.T @ d_logits, d_logits.sum(0)]
            for p_, v, g in zip(params, velocity, grads):
                v *= 0.9
                v -= 0.05 * g
                p_ += v
    return w1, b1, w2, b2


def requant_of(scale):
    """multiplier in [2^30, 2^31) and shift with multiplier / 2^shift ~ scale (0 < scale < 1)."""
    shift = 0
    while scale * 2 ** shift < 2 ** 30:
        shift += 1
    multiplier = int(round(scale * 2 ** shift))
    if multiplier == 2 ** 31:
        multiplier, shift = 2 ** 30, shift - 1
    return multiplier, shift


def apply(acc, bias, multiplier, shift, relu):
    """proofgrid_primitives::linear::Requant::apply, elementwise, exactly (int64 fits: |z| <
    2^32, multiplier < 2^31)."""
    z = acc.astype(np.int64) + bias.astype(np.int64)
    p = z * np.int64(multiplier)
    magnitude = np.abs(p).astype(np.uint64)
    if shift > 0:
        magnitude = (magnitude + np.uint64(1 << (shift - 1))) >> np.uint64(shift)
    rounded = np.where(p < 0, -magnitude.astype(np.int64), magnitude.astype(np.int64))
    out = np.clip(rounded, -128, 127)
    if relu:
        out = np.maximum(out, 0)
    return out.astype(np.int8)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "examples", "mlp")
    rng = np.random.default_rng(SEED)
    # Classes that overlap: each prototype lights 6% of the pixels, half of them shared.
    shared = rng.random(FEATURES) < 0.03
    prototypes = (shared | (rng.random((CLASSES, FEATURES)) < 0.03)).astype(np.float64)
    x_train, y_train = dataset(rng, TRAIN, prototypes)
    x_test, y_test = dataset(rng, BATCH, prototypes)
    w1, b1, w2, b2 = train(rng, x_train, y_train)
    float_classes = (np.maximum(x_test @ w1 + b1, 0) @ w2 + b2).argmax(1)

    # Symmetric int8 quantization, one scale per tensor; biases in accumulator units.
    s_x = 1 / 127
    s_w1, s_w2 = np.abs(w1).max() / 127, np.abs(w2).max() / 127
    s_h = np.maximum(x_train @ w1 + b1, 0).max() / 127
    s_out = np.abs(np.maximum(x_train @ w1 + b1, 0) @ w2 + b2).max() / 127
    xq = np.round(x_test / s_x).astype(np.int8)
    w1q, w2q = np.round(w1 / s_w1).astype(np.int8), np.round(w2 / s_w2).astype(np.int8)
    b1q = np.round(b1 / (s_x * s_w1)).astype(np.int32)
    b2q = np.round(b2 / (s_h * s_w2)).astype(np.int32)
    m1, sh1 = requant_of(s_x * s_w1 / s_h)
    m2, sh2 = requant_of(s_h * s_w2 / s_out)

    h = apply(xq.astype(np.int32) @ w1q.astype(np.int32), b1q, m1, sh1, True)
    logits = apply(h.astype(np.int32) @ w2q.astype(np.int32), b2q, m2, sh2, False)
    classes = logits.astype(np.int32).argmax(1)

    os.makedirs(out, exist_ok=True)
    for name, array in [("x", xq), ("w1", w1q), ("b1", b1q), ("w2", w2q), ("b2", b2q)]:
        np.save(os.path.join(out, name + ".npy"), array)
    model = {
        "seed": SEED,
        "layers": [
            {"weights": "w1.npy", "bias": "b1.npy", "multiplier": m1, "shift": sh1, "relu": True},
            {"weights": "w2.npy", "bias": "b2.npy", "multiplier": m2, "shift": sh2, "relu": False},
        ],
        "labels": y_test.tolist(),
        "logits": logits.tolist(),
        "classes": classes.tolist(),
    }
    with open(os.path.join(out, "model.json"), "w") as f:
        json.dump(model, f)
    print(f"float model: {np.mean(float_classes == y_test):.1%} of {BATCH} test inputs right")
    print(f"int8 model:  {np.mean(classes == y_test):.1%} right, "
          f"{np.mean(classes == float_classes):.1%} agree with the float model")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
