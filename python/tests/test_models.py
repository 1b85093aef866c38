"""Whole models: the digits CNN (examples/cnn) imported from ONNX in both of ONNX Runtime's
forms and run by the Rust primitives' integer definition, against ONNX Runtime on the whole
test split; models the importer cannot map, refused by node and op. Then on the session's
chain: registered, and a batch of real test digits run as one verified, settled job."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import onnx  # scripts/setup.sh installs onnx, onnxruntime and scikit-learn: required, not skipped
import onnxruntime as ort
import pytest

import proofgrid
from proofgrid.onnx_import import ModelImportError, import_onnx, multiplier_and_shift

CNN = Path(__file__).resolve().parents[2] / "examples" / "cnn"


def digits_test_split():
    spec = importlib.util.spec_from_file_location("make", CNN / "make.py")
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    _, _, x, y = make.split()
    return x, y


def onnx_runtime_int8(source, model, x):
    """ONNX Runtime's float logits on `x`, and its int8 logits: its DequantizeLinear output,
    inverted exactly with the model's output scale and zero point."""
    logits = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    o = model.spec["output"]
    return logits, (np.rint(logits / np.float32(o["scale"])) + o["zero_point"]).astype(np.int64)


def compared(ours, theirs):
    """ProofGrid's int8 logits against ONNX Runtime's: the differences, how many rows agree on
    their class, and how often each difference occurs."""
    diff = ours.astype(np.int64) - theirs
    agree = (ours.argmax(1) == theirs.argmax(1)).sum()
    values, counts = np.unique(diff, return_counts=True)
    return diff, agree, dict(zip(values.tolist(), counts.tolist()))


@pytest.mark.parametrize("form", ["int8", "qdq"])
def test_the_imported_cnn_computes_onnx_runtimes_logits(form, tmp_path):
    source = CNN / f"cnn.{form}.onnx"
    spec = import_onnx(str(source), str(tmp_path))
    assert [layer["op"] for layer in spec["layers"]] == ["conv", "max_pool", "conv", "max_pool", "dense"]
    model = proofgrid.Model(tmp_path)
    x, labels = digits_test_split()
    ours = model.output(model.quantize(x))
    logits, theirs = onnx_runtime_int8(source, model, x)
    diff, agree, differences = compared(ours, theirs)
    print(f"\n[models] {source.name}: {len(x)} test images, classes agree on {agree}; "
          f"int8 logit differences {differences}; "
          f"accuracy {(ours.argmax(1) == labels).mean():.1%} (ONNX Runtime "
          f"{(logits.argmax(1) == labels).mean():.1%})")
    assert np.abs(diff).max() <= 1, "ONNX Runtime rounds its float requantization otherwise"
    assert agree == len(x)
    assert (ours.argmax(1) == labels).mean() > 0.9


def average_pooling_cnn(path):
    """A CNN with average pooling and global average pooling (seeded random weights: what is
    compared is the arithmetic, not the accuracy)."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(7)

    def he(*shape):
        return (rng.standard_normal(shape) * np.sqrt(2.0 / np.prod(shape[1:]))).astype(np.float32)

    params = {"w1": he(8, 1, 3, 3), "b1": np.full(8, 0.05, np.float32), "w2": he(16, 8, 3, 3),
              "b2": np.zeros(16, np.float32), "w3": he(10, 16), "b3": np.zeros(10, np.float32)}
    nodes = [
        helper.make_node("Conv", ["input", "w1", "b1"], ["z1"], "conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["z1"], ["a1"], "relu1"),
        helper.make_node("AveragePool", ["a1"], ["p1"], "avg1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["z2"], "conv2", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["z2"], ["a2"], "relu2"),
        helper.make_node("GlobalAveragePool", ["a2"], ["g"], "gap"),
        helper.make_node("Flatten", ["g"], ["f"], "flatten", axis=1),
        helper.make_node("Gemm", ["f", "w3", "b3"], ["logits"], "dense", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "average-pooling",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])],
        [numpy_helper.from_array(v, k) for k, v in params.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))


@pytest.mark.parametrize("form", ["int8", "qdq"])
def test_average_pooling_imports_and_computes_onnx_runtimes_logits(form, tmp_path):
    spec = importlib.util.spec_from_file_location("make", CNN / "make.py")
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    train_x, _, x, _ = make.split()
    average_pooling_cnn(tmp_path / "avg.onnx")
    source = tmp_path / f"avg.{form}.onnx"
    make.quantize(str(tmp_path / "avg.onnx"), str(source), train_x[:100], qdq=form == "qdq")
    spec = import_onnx(str(source), str(tmp_path / "model"))
    assert [layer["op"] for layer in spec["layers"]] == ["conv", "avg_pool", "conv", "avg_pool", "dense"]
    assert spec["layers"][3]["kernel"] == [4, 4], "global average pooling: the whole 4×4 image"
    model = proofgrid.Model(tmp_path / "model")
    ours = model.output(model.quantize(x))
    logits, theirs = onnx_runtime_int8(source, model, x)
    diff, agree, differences = compared(ours, theirs)
    print(f"\n[models] average pooling, {form}: classes agree on {agree} of {len(x)}; int8 logit "
          f"differences {differences}")
    # QOperator: ONNX Runtime's integer kernels. QDQ: it averages in float and rounds a half to
    # even where ProofGrid rounds it away from zero; one such ±1 in the first pooling can grow
    # to ±2 through the next convolution.
    assert np.abs(diff).max() <= (1 if form == "int8" else 2)
    assert agree >= 0.99 * len(x)


def integer_ops_cnn(path):
    """The committed int8 CNN with each QLinearConv as ConvInteger and its QGemm as
    MatMulInteger, each followed by Cast to float, Mul by the input's times the weights' scale,
    Add of the bias in float, and QuantizeLinear: the integer-op form of the same layers."""
    from onnx import TensorProto, helper, numpy_helper

    m = onnx.load(str(CNN / "cnn.int8.onnx"))
    init = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    nodes, extra = [], []
    for n in m.graph.node:
        if n.op_type not in ("QLinearConv", "QGemm"):
            nodes.append(n)
            continue
        x, sx, zx, w, sw, zw = n.input[:6]
        scale = np.float32(np.float64(init[sx]) * np.float64(init[sw]))
        name = n.name
        if n.op_type == "QLinearConv":
            sy, zy, b = n.input[6], n.input[7], n.input[8]
            attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            nodes.append(helper.make_node("ConvInteger", [x, w, zx, zw], [f"{name}_acc"], name, **attrs))
            bias = (init[b].astype(np.float32) * scale).reshape(1, -1, 1, 1)
        else:
            b, sy, zy = n.input[6], n.input[7], n.input[8]
            # QGemm's weights are n × k (transB); MatMulInteger's are k × n.
            extra.append(numpy_helper.from_array(np.ascontiguousarray(init[w].T), f"{w}_kn"))
            nodes.append(helper.make_node("MatMulInteger", [x, f"{w}_kn", zx, zw], [f"{name}_acc"], name))
            bias = init[b].astype(np.float32) * scale
        extra += [numpy_helper.from_array(np.array(scale, np.float32), f"{name}_scale"),
                  numpy_helper.from_array(bias, f"{name}_bias")]
        nodes += [
            helper.make_node("Cast", [f"{name}_acc"], [f"{name}_f"], f"{name}_cast", to=TensorProto.FLOAT),
            helper.make_node("Mul", [f"{name}_f", f"{name}_scale"], [f"{name}_s"], f"{name}_mul"),
            helper.make_node("Add", [f"{name}_s", f"{name}_bias"], [f"{name}_b"], f"{name}_add"),
            helper.make_node("QuantizeLinear", [f"{name}_b", sy, zy], [n.output[0]], f"{name}_q"),
        ]
    used = {name for n in nodes for name in n.input}
    kept = [t for t in list(m.graph.initializer) + extra if t.name in used]
    del m.graph.node[:], m.graph.initializer[:]
    m.graph.node.extend(nodes)
    m.graph.initializer.extend(kept)
    onnx.save(m, str(path))


def test_integer_ops_import_as_the_same_layers_and_compute_onnx_runtimes_logits(tmp_path):
    source = tmp_path / "cnn.integer.onnx"
    integer_ops_cnn(source)
    assert {"ConvInteger", "MatMulInteger"} <= {n.op_type for n in onnx.load(str(source)).graph.node}
    spec = import_onnx(str(source), str(tmp_path / "integer"))
    reference = import_onnx(str(CNN / "cnn.int8.onnx"), str(tmp_path / "qlinear"))
    # The same layers: weights and biases byte for byte, each multiplier within the rounding
    # of the float32 scale product the Mul holds.
    for ours, theirs in zip(spec["layers"], reference["layers"], strict=True):
        assert {k: v for k, v in ours.items() if k != "multiplier"} == \
            {k: v for k, v in theirs.items() if k != "multiplier"}
        if "multiplier" in ours:
            assert abs(ours["multiplier"] - theirs["multiplier"]) <= 2**31 * 2**-22
    for path in (tmp_path / "qlinear").glob("*.npy"):
        assert path.read_bytes() == (tmp_path / "integer" / path.name).read_bytes(), path.name
    model = proofgrid.Model(tmp_path / "integer")
    x, labels = digits_test_split()
    ours = model.output(model.quantize(x))
    logits, theirs = onnx_runtime_int8(source, model, x)
    diff, agree, differences = compared(ours, theirs)
    print(f"\n[models] integer ops (ConvInteger, MatMulInteger): classes agree on {agree} of "
          f"{len(x)}; int8 logit differences {differences}")
    assert np.abs(diff).max() <= 1
    assert agree >= 0.99 * len(x)


def test_a_dynamically_quantized_model_is_refused_at_its_dynamic_quantization(tmp_path):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    source = tmp_path / "cnn.dynamic.onnx"
    quantize_dynamic(str(CNN / "cnn.onnx"), str(source), weight_type=QuantType.QInt8)
    assert "DynamicQuantizeLinear" in {n.op_type for n in onnx.load(str(source)).graph.node}
    with pytest.raises(ModelImportError, match="dynamic quantization") as refused:
        import_onnx(str(source), str(tmp_path / "out"))
    assert refused.value.op == "DynamicQuantizeLinear"


def test_an_integer_layer_without_its_scale_is_refused(tmp_path):
    source = tmp_path / "cnn.integer.onnx"
    integer_ops_cnn(source)
    m = onnx.load(str(source))
    mul = next(n for n in m.graph.node if n.name == "conv2_quant_mul")
    add = next(n for n in m.graph.node if n.name == "conv2_quant_add")
    add.input[0] = mul.input[0]  # the bias added to the unscaled accumulators
    m.graph.node.remove(mul)
    onnx.save(m, str(source))
    with pytest.raises(ModelImportError, match="not a float bias added to the scaled") as refused:
        import_onnx(str(source), str(tmp_path / "out"))
    assert (refused.value.node, refused.value.op) == ("conv2_quant_add", "Add")


def test_the_committed_model_directory_is_the_import_of_the_committed_onnx(tmp_path):
    import_onnx(str(CNN / "cnn.int8.onnx"), str(tmp_path))
    committed = CNN / "model"
    assert sorted(p.name for p in committed.iterdir()) == sorted(p.name for p in tmp_path.iterdir())
    for path in tmp_path.iterdir():
        assert path.read_bytes() == (committed / path.name).read_bytes(), path.name


def test_inner_layers_are_nhwc_and_every_layer_is_returned():
    model = proofgrid.Model(CNN / "model")
    x, _ = digits_test_split()
    outputs = model.outputs(model.quantize(x[:3]))
    assert [o.shape for o in outputs] == [(3, 8 * 8 * 8), (3, 4 * 4 * 8), (3, 4 * 4 * 16), (3, 2 * 2 * 16), (3, 10)]
    # ReLU folded into the zero point −128: nothing below it, and max pooling only selects.
    assert outputs[0].min() == -128
    pooled = outputs[0].reshape(3, 4, 2, 4, 2, 8).max(axis=(2, 4)).reshape(3, -1)
    assert np.array_equal(outputs[1], pooled)


def patched(tmp_path, edit):
    m = onnx.load(str(CNN / "cnn.int8.onnx"))
    edit(m)
    path = tmp_path / "patched.onnx"
    onnx.save(m, str(path))
    return path


def test_an_unsupported_op_is_refused_with_its_node_and_op(tmp_path):
    def lp_pool(m):
        next(n for n in m.graph.node if n.name == "pool1").op_type = "LpPool"

    with pytest.raises(ModelImportError) as refused:
        import_onnx(str(patched(tmp_path, lp_pool)), str(tmp_path / "out"))
    assert (refused.value.node, refused.value.op) == ("pool1", "LpPool")
    assert "node 'pool1' (LpPool): op is not supported" in str(refused.value)
    assert not (tmp_path / "out").exists(), "nothing written for a refused model"


def test_per_channel_and_asymmetric_weights_are_refused(tmp_path):
    from onnx import numpy_helper

    def per_channel(m):
        i = next(i for i, t in enumerate(m.graph.initializer) if t.name == "w2_scale")
        m.graph.initializer[i].CopyFrom(numpy_helper.from_array(np.full(16, 0.01, np.float32), "w2_scale"))

    with pytest.raises(ModelImportError, match="per-channel scales") as refused:
        import_onnx(str(patched(tmp_path, per_channel)), str(tmp_path / "a"))
    assert refused.value.node == "conv2_quant"

    def asymmetric(m):
        i = next(i for i, t in enumerate(m.graph.initializer) if t.name == "w3_zero_point")
        m.graph.initializer[i].CopyFrom(numpy_helper.from_array(np.array(3, np.int8), "w3_zero_point"))

    with pytest.raises(ModelImportError, match="nonzero zero point") as refused:
        import_onnx(str(patched(tmp_path, asymmetric)), str(tmp_path / "b"))
    assert (refused.value.node, refused.value.op) == ("dense_quant", "QGemm")


def test_a_scale_becomes_a_multiplier_in_range_rounded_to_nearest():
    for scale in [0.5, 0.75, 1e-6, 0.0123456789, 0.999999999999, 3.0]:
        multiplier, shift = multiplier_and_shift(scale)
        assert 2**30 <= multiplier < 2**31
        assert abs(multiplier / 2**shift - scale) <= 2 ** -(shift + 1)
    assert multiplier_and_shift(0.5) == (2**30, 31)
    # A fraction that rounds up to 2³¹ moves to the next power of two.
    assert multiplier_and_shift(1 - 2**-40) == (2**30, 30)
    with pytest.raises(ValueError):
        multiplier_and_shift(0.0)


def test_the_cnn_registers_on_chain_with_a_deposit_and_is_removed_with_it_returned(client, tmp_path):
    """Against the session's chain: the registration names the weights' roots (recomputed here
    from the files), holds a deposit, and removal returns it whole; someone else cannot remove
    it, and a model whose files do not match its layers never reaches the chain."""
    import proofgrid

    # An owner no other test uses: the session's client (Eve) has job deposits that other tests'
    # jobs release at their own pace, which would move her held balance under this test.
    client = proofgrid.Client(client.url, suri="//Alice//stash")
    before = client.balance()
    id = client.register_model(CNN / "model", weights_url="https://models.example/cnn")
    registered = client.model(id)
    assert registered["owner"] == client.address
    assert registered["weights_url"] == "https://models.example/cnn"
    assert registered["users"] == 0
    deposit = registered["deposit"]
    after = client.balance()
    print(f"\n[models] model {id} registered: deposit {proofgrid.format_grid(deposit)} GRID held")
    assert after["held"] - before["held"] == deposit
    assert deposit > 10**12, "at least the 1 GRID base"

    other = proofgrid.Client(client.url, suri="//Ferdie")
    with pytest.raises(proofgrid.PalletError) as refused:
        other.remove_model(id)
    assert (refused.value.pallet, refused.value.error) == ("Models", "NotOwner")

    client.remove_model(id)
    assert client.model(id) is None
    assert client.balance()["held"] == before["held"]

    # Weights of the wrong shape are refused before anything is signed.
    broken = tmp_path / "broken"
    import shutil

    shutil.copytree(CNN / "model", broken)
    np.save(broken / "layer2.weights.npy", np.zeros((16, 8), np.int8))
    with pytest.raises(proofgrid.InputError, match="layer2.weights.npy"):
        client.register_model(broken)


def test_a_batch_of_test_digits_runs_on_chain_as_one_job_checked_and_settled(client):
    """The CNN registered (by its own owner), then 64 test digits as one job: every layer
    checked here against the committed root, the logits ProofGrid's integer definition byte for
    byte and ONNX Runtime's within ±1, the job settled and paid."""
    owner = proofgrid.Client(client.url, suri="//Alice//stash")
    model_id = owner.register_model(CNN / "model")
    model = proofgrid.Model(CNN / "model")
    x, labels = digits_test_split()
    x, labels = x[:64], labels[:64]
    q = model.quantize(x)
    run = client.run_registered_model(model_id, CNN / "model", q, price_cap="1")
    assert len(run.jobs) == 1, "one job for the whole model"
    assert len(run.layers) == 5
    for ours, reference in zip(run.layers, model.outputs(q)):
        assert np.array_equal(ours, reference), "every layer, byte for byte"
    source = CNN / "cnn.int8.onnx"
    _, theirs = onnx_runtime_int8(source, model, x)
    diff = run.logits.astype(np.int64) - theirs
    accuracy = (run.classes == labels).mean()
    print(f"\n[models] job {run.jobs[0]}: 64 test digits in one job, settled; accuracy {accuracy:.1%}, "
          f"classes agree with ONNX Runtime on {(run.classes == theirs.argmax(1)).sum()} of 64, "
          f"max |logit difference| {np.abs(diff).max()}")
    assert np.abs(diff).max() <= 1
    assert accuracy > 0.9
    assert client.job(run.jobs[0]) is None, "settled: no longer open"
