"""Variable-length batches: `lengths` in, each sequence's own final states out, in eager
PyTorch and in every exported artifact of the built-in models; the ways a wrong artifact
must fail. Third-party models: test_lengths_plugins.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from lengths_support import EXPORTERS, assert_lengths_parity, source_of
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import zoo
from zoo.catalog._source import seeded
from zoo.export._pipeline import export_model
from zoo.nn._lengths import final_state
from zoo.nn._ops import ExportableRecurrent
from zoo.parity._inputs import forward_args, make_inputs, mixed_lengths

BUILTINS = ["rnn", "lstm", "bilstm"]
NATIVE = {"rnn": "RNN", "lstm": "LSTM", "bilstm": "LSTM"}


# -- eager semantics ---------------------------------------------------------------------


@pytest.mark.parametrize("name", BUILTINS)
def test_without_lengths_the_forward_is_the_plain_call_bit_for_bit(
    plugins: zoo.Plugins, name: str
) -> None:
    arch = plugins.architecture(name)
    config = arch.resolve({"num_layers": 2})
    model = seeded(arch, config, seed=1)
    contract = arch.io(config)
    feeds = make_inputs(contract, 3, 11, states=True, seed=2)
    args = forward_args(contract, feeds)
    with torch.no_grad():
        plain = model(*args)
        explicit_none = model(*args, None)
        states = args[1] if len(args) == 2 else (args[1], args[2])
        hidden, finals = model.rnn(args[0], states)
        h_n = finals if len(args) == 2 else finals[0]
        y = model.head(final_state(h_n, model.directions))
    expected = (y, hidden, *([finals] if len(args) == 2 else finals))
    for got, again, want in zip(plain, explicit_none, expected, strict=True):
        assert torch.equal(got, want) and torch.equal(again, want)


@pytest.mark.parametrize("name", BUILTINS)
def test_full_lengths_equal_no_lengths(plugins: zoo.Plugins, name: str) -> None:
    arch = plugins.architecture(name)
    config = arch.resolve({"num_layers": 2})
    model = seeded(arch, config, seed=1)
    contract = arch.io(config, lengths=True)
    feeds = make_inputs(contract, 4, 9, states=True, seed=3)
    feeds["lengths"] = np.full(4, 9, np.int64)
    with torch.no_grad():
        padded = model(*forward_args(contract, feeds))
        plain = model(*forward_args(contract, feeds)[:-1])
    for got, want in zip(padded, plain, strict=True):
        torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-5)


def test_bilstm_backward_direction_starts_at_each_sequences_last_step(
    plugins: zoo.Plugins,
) -> None:
    """Padding after a short sequence must not reach its backward state or the head."""
    arch = plugins.architecture("bilstm")
    config = arch.resolve()
    model = seeded(arch, config, seed=4)
    x = torch.randn(2, 8, 10)
    lengths = torch.tensor([3, 8])
    noisy = x.clone()
    noisy[0, 3:] = torch.randn(5, 10) * 100  # garbage in the padding of sequence 0
    with torch.no_grad():
        clean_out = model(x, None, None, lengths)
        noisy_out = model(noisy, None, None, lengths)
        alone = model(x[:1, :3])
    for got, want in zip(noisy_out, clean_out, strict=True):
        assert torch.equal(got, want)
    torch.testing.assert_close(clean_out[2][:, :1], alone[2], atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(clean_out[0][:1], alone[0], atol=1e-6, rtol=1e-5)
    assert clean_out[1][0, 3:].abs().max() == 0


@pytest.mark.parametrize(
    ("lengths", "message"),
    [
        ([0, 5], "lengths must be in [1, seq] = [1, 5]"),
        ([6, 5], "got min 5, max 6"),
        ([5, 5, 5], "lengths must have shape (batch,) = (2,)"),
    ],
)
def test_bad_lengths_are_an_input_error(
    plugins: zoo.Plugins, lengths: list[int], message: str
) -> None:
    arch = plugins.architecture("lstm")
    model = seeded(arch, arch.resolve(), seed=0)
    with pytest.raises(zoo.InputError) as info:
        model(torch.randn(2, 5, 10), None, None, torch.tensor(lengths))
    assert message in str(info.value)


def test_mixed_lengths_hold_both_extremes() -> None:
    rng = np.random.default_rng(0)
    for batch, seq in ((2, 7), (5, 512), (3, 1)):
        lengths = mixed_lengths(batch, seq, rng)
        assert lengths.dtype == np.int64 and lengths.shape == (batch,)
        assert lengths.min() == 1 and lengths.max() == seq
    assert mixed_lengths(1, 33, rng).tolist() == [17]


def test_forward_args_never_shift_lengths_into_a_state_slot(plugins: zoo.Plugins) -> None:
    arch = plugins.architecture("lstm")
    contract = arch.io(arch.resolve(), lengths=True)
    args = forward_args(contract, make_inputs(contract, 2, 3, states=False))
    assert [a is None for a in args] == [False, True, True, False]
    assert args[3].dtype == torch.int64
    plain = arch.io(arch.resolve())
    assert len(forward_args(plain, make_inputs(plain, 2, 3, states=False))) == 1


# -- the custom ops' eager kernels ------------------------------------------------------


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
def test_op_kernel_with_lengths_equals_the_packed_module(kind: str, batch_first: bool) -> None:
    torch.manual_seed(0)
    cls = {"lstm": nn.LSTM, "gru": nn.GRU}.get(kind, nn.RNN)
    extra = {"nonlinearity": kind.split("_")[1]} if kind.startswith("rnn") else {}
    module = cls(4, 5, 2, batch_first=batch_first, bidirectional=True, **extra).eval()
    lengths = torch.tensor([3, 7, 1, 7])
    x = torch.randn(4, 7, 4) if batch_first else torch.randn(7, 4, 4)
    h = torch.randn(4, 4, 5)
    hx: Any = (h, torch.randn(4, 4, 5)) if kind == "lstm" else h
    with torch.no_grad():
        packed = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
        out, want_state = module(packed, hx)
        want, _ = pad_packed_sequence(out, batch_first=batch_first, total_length=7)
        got, got_state = ExportableRecurrent(module)(x, hx, lengths)
    torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-5)
    for g, w in zip(
        got_state if kind == "lstm" else [got_state],
        want_state if kind == "lstm" else [want_state],
        strict=True,
    ):
        torch.testing.assert_close(g, w, atol=1e-6, rtol=1e-5)


def test_export_copy_refuses_a_packed_sequence_and_says_what_to_do() -> None:
    module = ExportableRecurrent(nn.LSTM(3, 4, batch_first=True))
    packed = pack_padded_sequence(torch.randn(2, 5, 3), torch.tensor([5, 2]), batch_first=True)
    with pytest.raises(zoo.ExportError) as info:
        module(packed)
    assert "torch.export" in str(info.value) and "takes_lengths" in str(info.value)
    assert "--legacy" in str(info.value)


# -- export and parity -------------------------------------------------------------------


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("exporter", EXPORTERS)
def test_lengths_export_passes_parity(
    plugins: zoo.Plugins, arch: zoo.Architecture, exporter: str, layers: int, tmp_path: Path
) -> None:
    source = source_of(plugins, arch.name, layers)
    if not arch.supports_lengths:
        with pytest.raises(zoo.ConfigError, match="supports_lengths=False"):
            export_model(source, [plugins.exporter(exporter)], tmp_path, lengths=True)
        return
    summary = export_model(source, [plugins.exporter(exporter)], tmp_path, lengths=True)
    (result,) = summary.artifacts
    contract = arch.io(source.config, lengths=True)
    assert_lengths_parity(result, contract)
    meta = plugins.exporter(exporter).read_metadata(result.path)
    assert json.loads(meta["zoo.io"])["input_names"][-1] == "lengths"
    assert summary.to_dict()["lengths"] is True


@pytest.mark.parametrize("name", BUILTINS)
def test_legacy_onnx_route_with_lengths(plugins: zoo.Plugins, name: str, tmp_path: Path) -> None:
    from zoo.exporters.onnx import value_sources

    source = source_of(plugins, name, 2)
    summary = export_model(
        source, [plugins.exporter("onnx")], tmp_path, legacy=True, opset=17, lengths=True
    )
    (result,) = summary.artifacts
    assert_lengths_parity(result, source.arch.io(source.config, lengths=True))
    model = onnx.load(str(result.path))
    assert [n.op_type for n in model.graph.node].count(NATIVE[name]) == 2
    for node in model.graph.node:
        if node.op_type == NATIVE[name]:
            assert "lengths" in value_sources(model.graph, node.input[4])


def test_onnx_graph_feeds_lengths_to_every_native_node(
    plugins: zoo.Plugins, tmp_path: Path
) -> None:
    source = source_of(plugins, "bilstm", 2)
    (result,) = export_model(source, [plugins.exporter("onnx")], tmp_path, lengths=True).artifacts
    assert result.passed, result.to_dict()
    model = onnx.load(str(result.path))
    graph = model.graph
    declared = {
        v.name: (
            v.type.tensor_type.elem_type,
            [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim],
        )
        for v in [*graph.input, *graph.output]
    }
    assert [v.name for v in graph.input] == ["x", "h0", "c0", "lengths"]
    assert declared["lengths"] == (onnx.TensorProto.INT64, ["batch"])
    assert declared["x"] == (onnx.TensorProto.FLOAT, ["batch", "seq", 10])
    assert declared["hidden"] == (onnx.TensorProto.FLOAT, ["batch", "seq", 40])
    producers = {out: node for node in graph.node for out in node.output}
    lstms = [n for n in graph.node if n.op_type == "LSTM"]
    assert len(lstms) == 2
    for node in lstms:
        cast = producers[node.input[4]]  # sequence_lens
        assert cast.op_type == "Cast" and list(cast.input) == ["lengths"]
        (to,) = [a.i for a in cast.attribute if a.name == "to"]
        assert to == onnx.TensorProto.INT32
        assert {a.name: a.s for a in node.attribute}["direction"] == b"bidirectional"
    # A plain onnxruntime session at a shape never traced, against eager PyTorch.
    contract = source.arch.io(source.config, lengths=True)
    session = ort.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    feeds = make_inputs(contract, 6, 40, states=True, seed=11)
    got = session.run(None, feeds)
    with torch.no_grad():
        want = source.module(*forward_args(contract, feeds))
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w.numpy(), atol=1e-5, rtol=1e-4)
    assert np.all(got[1][0, feeds["lengths"][0] :] == 0)


def test_check_graph_rejects_a_graph_that_dropped_the_lengths(
    plugins: zoo.Plugins, tmp_path: Path
) -> None:
    from zoo.exporters.onnx import check_graph

    source = source_of(plugins, "lstm")
    (result,) = export_model(source, [plugins.exporter("onnx")], tmp_path, lengths=True).artifacts
    model = onnx.load(str(result.path))
    contract = source.arch.io(source.config, lengths=True)
    check_graph(model, contract)
    (node,) = [n for n in model.graph.node if n.op_type == "LSTM"]
    node.input[4] = ""
    with pytest.raises(zoo.ExportError) as info:
        check_graph(model, contract)
    assert "takes sequence_lens from 'nothing', not from the graph input 'lengths'" in str(
        info.value
    )


def test_default_exports_have_no_lengths_input(plugins: zoo.Plugins, tmp_path: Path) -> None:
    source = source_of(plugins, "lstm")
    (result,) = export_model(source, [plugins.exporter("onnx")], tmp_path).artifacts
    model = onnx.load(str(result.path))
    assert [v.name for v in model.graph.input] == ["x", "h0", "c0"]
    (node,) = [n for n in model.graph.node if n.op_type == "LSTM"]
    assert len(node.input) <= 4 or node.input[4] == ""
    meta = {p.key: p.value for p in model.metadata_props}
    assert "lengths" not in json.loads(meta["zoo.io"])["input_names"]


def _wrapping_exporter(
    plugins: zoo.Plugins, name: str, wrap: Callable[[Any, dict[str, Any]], dict[str, Any]]
) -> zoo.Exporter:
    """zoo's ONNX exporter whose runner goes through `wrap(run, feeds)`."""
    base = plugins.exporter("onnx")

    def load(path: Path) -> Any:
        run = base.load(path)
        return lambda feeds: wrap(run, feeds)

    return zoo.Exporter(
        name=name,
        suffix=f".{name}.onnx",
        export=base.export,
        load=load,
        read_metadata=base.read_metadata,
    )


def test_parity_fails_an_artifact_that_ignores_the_lengths(
    plugins: zoo.Plugins, tmp_path: Path
) -> None:
    def full_length(run: Any, feeds: dict[str, Any]) -> dict[str, Any]:
        seq = feeds["x"].shape[1]
        return run({**feeds, "lengths": np.full_like(feeds["lengths"], seq)})

    exporter = _wrapping_exporter(plugins, "ignores", full_length)
    source = source_of(plugins, "bilstm")
    (result,) = export_model(source, [exporter], tmp_path, lengths=True).artifacts
    assert not result.passed and not result.path.exists()
    failing = {c.output for c in result.report.failures}
    assert {"y", "h_n", "c_n", "hidden past lengths"} <= failing


def test_parity_fails_an_artifact_that_is_not_zero_past_the_lengths(
    plugins: zoo.Plugins, tmp_path: Path
) -> None:
    """Values within atol of zero still fail: padding must be exactly zero, as in PyTorch."""

    def noisy_padding(run: Any, feeds: dict[str, Any]) -> dict[str, Any]:
        out = run(feeds)
        hidden = out["hidden"].copy()
        for b, length in enumerate(feeds["lengths"]):
            hidden[b, length:] = 1e-9
        return {**out, "hidden": hidden}

    exporter = _wrapping_exporter(plugins, "noisy", noisy_padding)
    source = source_of(plugins, "lstm")
    (result,) = export_model(source, [exporter], tmp_path, lengths=True).artifacts
    assert not result.passed
    failing = result.report.failures
    assert {c.output for c in failing} == {"hidden past lengths"}
    assert "not zero past each length (max |value| 1e-09)" in failing[0].problem
