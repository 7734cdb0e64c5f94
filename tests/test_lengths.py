"""Variable-length batches: `lengths` in, each sequence's own final states out, in eager
PyTorch and in every exported artifact; the ways a wrong model or artifact must fail."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import zoo
from zoo.app import App
from zoo.exporting import export_model
from zoo.inputs import forward_args, make_inputs, mixed_lengths
from zoo.models import SourceModel, from_name, seeded
from zoo.parity import LENGTHS_CASES
from zoo.recurrent import final_state, pack, unpack
from zoo.recurrent_ops import ExportableRecurrent
from zoo.testing import check_forward_contract

EXPORTERS = sorted(zoo.load_plugins().exporters)
BUILTINS = ["rnn", "lstm", "bilstm"]
NATIVE = {"rnn": "RNN", "lstm": "LSTM", "bilstm": "LSTM"}
DEFAULTS = {"input_size": 4, "hidden_size": 6, "num_layers": 2, "output_size": 2, "dropout": 0.0}


def _source(plugins: zoo.Plugins, name: str, layers: int | None = None) -> SourceModel:
    return from_name(App(plugins), name, {"num_layers": layers} if layers else None)


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


def _assert_lengths_parity(result: Any, contract: zoo.IOContract) -> None:
    assert result.passed, result.to_dict()
    report = result.report
    checked = {(c.case, c.output) for c in report.checks}
    outputs = {o for _, o in checked}
    assert outputs == {*contract.output_names, "hidden past lengths"}
    cases = {c for c, _ in checked}
    assert len(cases) == len(LENGTHS_CASES)
    assert not any(c.startswith("stream") for c in cases)
    assert any("batch=5 seq=512" in c and ",512]" in c and "lengths=[1," in c for c in cases)
    assert any("batch=1 seq=33" in c and "lengths=[17]" in c for c in cases)
    padding = [c for c in report.checks if c.output == "hidden past lengths"]
    assert padding and all(c.passed and c.max_abs == 0.0 for c in padding)


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("exporter", EXPORTERS)
def test_lengths_export_passes_parity(
    plugins: zoo.Plugins, arch: zoo.Architecture, exporter: str, layers: int, tmp_path: Path
) -> None:
    source = _source(plugins, arch.name, layers)
    if not arch.supports_lengths:
        with pytest.raises(zoo.ConfigError, match="supports_lengths=False"):
            export_model(source, [plugins.exporter(exporter)], tmp_path, lengths=True)
        return
    summary = export_model(source, [plugins.exporter(exporter)], tmp_path, lengths=True)
    (result,) = summary.artifacts
    contract = arch.io(source.config, lengths=True)
    _assert_lengths_parity(result, contract)
    meta = plugins.exporter(exporter).read_metadata(result.path)
    assert json.loads(meta["zoo.io"])["input_names"][-1] == "lengths"
    assert summary.to_dict()["lengths"] is True


@pytest.mark.parametrize("name", BUILTINS)
def test_legacy_onnx_route_with_lengths(plugins: zoo.Plugins, name: str, tmp_path: Path) -> None:
    from zoo.exporters.onnx import value_sources

    source = _source(plugins, name, 2)
    summary = export_model(
        source, [plugins.exporter("onnx")], tmp_path, legacy=True, opset=17, lengths=True
    )
    (result,) = summary.artifacts
    _assert_lengths_parity(result, source.arch.io(source.config, lengths=True))
    model = onnx.load(str(result.path))
    assert [n.op_type for n in model.graph.node].count(NATIVE[name]) == 2
    for node in model.graph.node:
        if node.op_type == NATIVE[name]:
            assert "lengths" in value_sources(model.graph, node.input[4])


def test_onnx_graph_feeds_lengths_to_every_native_node(
    plugins: zoo.Plugins, tmp_path: Path
) -> None:
    source = _source(plugins, "bilstm", 2)
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

    source = _source(plugins, "lstm")
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
    source = _source(plugins, "lstm")
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
    source = _source(plugins, "bilstm")
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
    source = _source(plugins, "lstm")
    (result,) = export_model(source, [exporter], tmp_path, lengths=True).artifacts
    assert not result.passed
    failing = result.report.failures
    assert {c.output for c in failing} == {"hidden past lengths"}
    assert "not zero past each length (max |value| 1e-09)" in failing[0].problem


# -- third-party models ------------------------------------------------------------------


class PatternGRU(nn.Module):
    """A plugin's bidirectional GRU following zoo.recurrent's lengths pattern."""

    def __init__(self, **config: Any) -> None:
        super().__init__()
        self.gru = nn.GRU(
            config["input_size"],
            config["hidden_size"],
            config["num_layers"],
            batch_first=True,
            bidirectional=True,
        )
        self.head = nn.Linear(2 * config["hidden_size"], config["output_size"])

    def forward(
        self,
        x: Tensor,
        h0: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
        lengths: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
    ) -> tuple[Tensor, Tensor, Tensor]:
        if lengths is None:
            hidden, h_n = self.gru(x, h0)
        elif hasattr(self.gru, "takes_lengths"):
            hidden, h_n = self.gru(x, h0, lengths)
        else:
            packed, h_n = self.gru(pack(x, lengths), h0)
            hidden = unpack(packed, x.shape[1])
        return self.head(final_state(h_n, 2)), hidden, h_n


class PackOnlyGRU(nn.Module):
    """Plain PyTorch: pack_padded_sequence around nn.GRU, nothing zoo-specific."""

    def __init__(self, **config: Any) -> None:
        super().__init__()
        self.gru = nn.GRU(
            config["input_size"], config["hidden_size"], config["num_layers"], batch_first=True
        )
        self.head = nn.Linear(config["hidden_size"], config["output_size"])

    def forward(
        self,
        x: Tensor,
        h0: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
        lengths: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
    ) -> tuple[Tensor, Tensor, Tensor]:
        if lengths is None:
            hidden, h_n = self.gru(x, h0)
        else:
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out, h_n = self.gru(packed, h0)
            hidden, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return self.head(h_n[-1]), hidden, h_n


class IgnoresLengths(PackOnlyGRU):
    def forward(
        self,
        x: Tensor,
        h0: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
        lengths: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
    ) -> tuple[Tensor, Tensor, Tensor]:
        return super().forward(x, h0)


class UnmaskedHidden(PackOnlyGRU):
    """Right final states, but `hidden` from a run over the padding."""

    def forward(
        self,
        x: Tensor,
        h0: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
        lengths: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
    ) -> tuple[Tensor, Tensor, Tensor]:
        y, _, h_n = super().forward(x, h0, lengths)
        return y, self.gru(x, h0)[0], h_n


class NoLengthsArgument(PackOnlyGRU):
    def forward(self, x: Tensor, h0: Optional[Tensor] = None) -> tuple[Tensor, Tensor, Tensor]:  # type: ignore[override]  # noqa: UP045
        return super().forward(x, h0)


class UnscriptableGRU(PatternGRU):
    """The pattern behind a signature TorchScript cannot compile: the exporter traces."""

    def forward(  # type: ignore[override]
        self,
        x: Tensor,
        h0: Optional[Tensor] = None,  # noqa: UP045
        lengths: Optional[Tensor] = None,  # noqa: UP045
        *unused: Any,
    ) -> tuple[Tensor, Tensor, Tensor]:
        return super().forward(x, h0, lengths)


def _plugin(name: str, model: type[nn.Module], **spec: Any) -> object:
    class Plugin:
        @zoo.hookimpl
        def register_architectures(self, register: Any) -> None:
            register(
                zoo.Architecture(
                    name=name,
                    build=lambda **config: model(**config),
                    defaults=DEFAULTS,
                    **spec,
                )
            )

    return Plugin()


def test_check_forward_contract_passes_both_third_party_styles(make_plugins: Any) -> None:
    plugins = make_plugins(
        _plugin("pattern-gru", PatternGRU, bidirectional=True, supports_lengths=True),
        _plugin("pack-gru", PackOnlyGRU, supports_lengths=True),
    )
    check_forward_contract(plugins.architecture("pattern-gru"))
    check_forward_contract(plugins.architecture("pack-gru"))


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (IgnoresLengths, "output 'y' of sequence 0 differs from running it alone, truncated"),
        (UnmaskedHidden, "output 'hidden' of sequence 0 is not zero past its length 5"),
        (NoLengthsArgument, "supports_lengths=True, so forward must take `lengths`"),
    ],
)
def test_check_forward_contract_catches_wrong_lengths_semantics(
    make_plugins: Any, model: type[nn.Module], message: str
) -> None:
    plugins = make_plugins(_plugin("wrong-gru", model, supports_lengths=True))
    with pytest.raises(zoo.PluginError) as info:
        check_forward_contract(plugins.architecture("wrong-gru"))
    assert "Plugin 'test-plugin-0'" in str(info.value) and message in str(info.value)


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_third_party_gru_following_the_pattern_exports_everywhere(
    make_plugins: Any, exporter: str, tmp_path: Path
) -> None:
    plugins = make_plugins(
        _plugin("pattern-gru", PatternGRU, bidirectional=True, supports_lengths=True),
        third_party=True,  # every installed exporter, as EXPORTERS lists them
    )
    source = _source(plugins, "pattern-gru")
    (result,) = export_model(source, [plugins.exporter(exporter)], tmp_path, lengths=True).artifacts
    _assert_lengths_parity(result, source.arch.io(source.config, lengths=True))
    if exporter == "onnx":
        model = onnx.load(str(result.path))
        grus = [n for n in model.graph.node if n.op_type == "GRU"]
        assert len(grus) == 2
        assert all(producer_is_cast_of_lengths(model.graph, n.input[4]) for n in grus)


def producer_is_cast_of_lengths(graph: Any, value: str) -> bool:
    (node,) = [n for n in graph.node if value in n.output]
    return node.op_type == "Cast" and list(node.input) == ["lengths"]


@pytest.mark.parametrize(
    ("exporter", "legacy", "passes"),
    [
        ("torchscript", False, True),
        ("onnx", True, True),
        ("onnx", False, False),
        ("pt2", False, False),
    ],
)
def test_third_party_model_that_only_packs(
    make_plugins: Any, exporter: str, legacy: bool, passes: bool, tmp_path: Path
) -> None:
    """TorchScript and the legacy ONNX exporter handle packing; torch.export cannot."""
    plugins = make_plugins(_plugin("pack-gru", PackOnlyGRU, supports_lengths=True))
    source = _source(plugins, "pack-gru")
    (result,) = export_model(
        source, [plugins.exporter(exporter)], tmp_path, lengths=True, legacy=legacy, opset=17
    ).artifacts
    if passes:
        _assert_lengths_parity(result, source.arch.io(source.config, lengths=True))
    else:
        assert not result.passed and not result.path.exists()
        assert result.error.startswith("The model feeds a PackedSequence to its recurrent")
        assert "torch.export" in result.error and "--legacy" in result.error


# Tracing bakes torch's packed-input checks in as constants and says so; parity at other
# batches and lengths is the proof that matters here.
@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")
def test_torchscript_trace_fallback_takes_lengths(make_plugins: Any, tmp_path: Path) -> None:
    plugins = make_plugins(
        _plugin("traced-gru", UnscriptableGRU, bidirectional=True, supports_lengths=True)
    )
    source = _source(plugins, "traced-gru")
    (result,) = export_model(
        source, [plugins.exporter("torchscript")], tmp_path, lengths=True
    ).artifacts
    assert result.report is not None and result.report.info["route"] == "trace"
    _assert_lengths_parity(result, source.arch.io(source.config, lengths=True))


# -- CLI ---------------------------------------------------------------------------------


def test_cli_exports_bilstm_everywhere_with_lengths_and_verifies(
    invoke: Any, tmp_path: Path
) -> None:
    result = invoke("export", "bilstm", "--all", "--lengths", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "streaming is not checked for artifacts with lengths" in result.output
    rows = [line for line in result.output.splitlines() if "hidden past lengths" in line]
    assert len(rows) == len(EXPORTERS) and all(line.endswith("pass") for line in rows)
    assert "FAIL" not in result.output
    report = json.loads((tmp_path / "bilstm.parity.json").read_text())
    assert report["lengths"] is True and report["passed"] is True
    verified = invoke("verify", str(tmp_path / "bilstm.pt2"), "--json")
    assert verified.exit_code == 0, verified.output
    cases = {c["case"] for c in json.loads(verified.output)["checks"]}
    assert all("lengths=[" in c for c in cases)


def test_cli_lengths_for_an_architecture_without_support(
    make_plugins: Any, invoke: Any, tmp_path: Path
) -> None:
    plugins = make_plugins(_plugin("plain-gru", NoLengthsArgument))
    result = invoke("export", "plain-gru", "--lengths", "--out", str(tmp_path), cli_plugins=plugins)
    assert result.exit_code == 1
    assert (
        "Error: Architecture 'plain-gru' (plugin 'test-plugin-0') does not take a 'lengths' "
        "input: its Architecture has supports_lengths=False." in result.output
    )
    assert "Traceback" not in result.output


def test_info_says_whether_lengths_are_supported(make_plugins: Any, invoke: Any) -> None:
    assert "lengths input yes (zoo export --lengths)" in invoke("info", "bilstm").output
    plugins = make_plugins(_plugin("plain-gru", NoLengthsArgument))
    result = invoke("info", "plain-gru", "--json", cli_plugins=plugins)
    assert json.loads(result.output)["supports_lengths"] is False


def test_supports_lengths_must_be_a_bool(make_plugins: Any) -> None:
    plugins = make_plugins(_plugin("odd-gru", PackOnlyGRU, supports_lengths="yes"))
    assert "odd-gru" not in plugins.architectures
    (problem,) = plugins.problems
    assert "supports_lengths 'yes' must be True or False" in str(problem)
