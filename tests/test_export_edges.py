"""Export edges people hit: nn.LSTM(proj_size=...) exports with TorchScript (ONNX and pt2
refuse it naming TorchScript), int32 lengths where a format allows them, and a forward
written without Optional annotations falls back to a trace (issue #15)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Optional

import pytest
from torch import Tensor, nn

import zoo
import zoo.nn
from zoo._contract import BATCH, SEQ, IOContract, TensorSpec
from zoo._manager import Plugins
from zoo.catalog._source import SourceModel, seeded
from zoo.checkpoint._provenance import RandomWeights
from zoo.export._pipeline import export_model

PROJ, HIDDEN = 4, 8


class Projected(nn.Module):
    def __init__(self, **config: Any) -> None:
        super().__init__()
        self.rnn = nn.LSTM(config["input_size"], HIDDEN, batch_first=True, proj_size=PROJ)
        self.head = nn.Linear(PROJ, config["output_size"])

    def forward(
        self,
        x: Tensor,
        h0: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
        c0: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        hx: Optional[tuple[Tensor, Tensor]] = None  # noqa: UP045 - TorchScript
        if h0 is not None and c0 is not None:
            hx = (h0, c0)
        hidden, (h_n, c_n) = self.rnn(x, hx)  # h: (1, batch, PROJ), c: (1, batch, HIDDEN)
        return self.head(h_n[-1]), hidden, h_n, c_n


def _contract(config: Mapping[str, Any]) -> IOContract:
    h, c = (1, BATCH, PROJ), (1, BATCH, HIDDEN)
    inputs = (TensorSpec("x", (BATCH, SEQ, config["input_size"])), TensorSpec("h0", h),
              TensorSpec("c0", c))  # fmt: skip
    outputs = (TensorSpec("y", (BATCH, config["output_size"])),
               TensorSpec("hidden", (BATCH, SEQ, PROJ)), TensorSpec("h_n", h),
               TensorSpec("c_n", c))  # fmt: skip
    return IOContract(inputs, outputs, ("h", "c"))


class Plugin:
    @zoo.hookimpl
    def register_architectures(self, register: Callable[[zoo.Architecture], None]) -> None:
        defaults = {"input_size": 3, "output_size": 1}
        register(zoo.Architecture(name="proj", build=Projected, defaults=defaults,
                                  states=("h", "c"), contract=_contract))  # fmt: skip


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
def test_proj_size_exports_with_torchscript_and_the_others_say_so(
    make_plugins: Callable[..., Plugins], tmp_path: Path
) -> None:
    plugins = make_plugins(Plugin(), strict=True)
    arch = plugins.architecture("proj")
    config = arch.resolve()
    source = SourceModel("proj", arch, config, seeded(arch, config, 0), RandomWeights(0))
    chosen = [plugins.exporter(n) for n in ("torchscript", "onnx", "pt2")]
    results = {a.exporter: a for a in export_model(source, chosen, tmp_path).artifacts}
    assert results["torchscript"].passed
    for name in ("onnx", "pt2"):
        assert not results[name].passed
        assert "exports only with --torchscript" in results[name].error


@pytest.mark.slow
def test_int32_lengths_work_where_the_format_allows_them(plugins: Plugins, tmp_path: Path) -> None:
    """PyTorch's own tests pass int32 lengths: the torch formats take them; an ONNX input
    has one type (int64), which onnxruntime enforces: the README says to cast."""
    import numpy as np

    from zoo.catalog._session import App
    from zoo.catalog._source import from_name

    source = from_name(App(plugins), "lstm")
    chosen = [plugins.exporter(n) for n in ("torchscript", "pt2", "onnx")]
    summary = export_model(source, chosen, tmp_path, lengths=True)
    assert summary.passed
    rng = np.random.default_rng(0)
    zeros = np.zeros((1, 2, 20), np.float32)
    feeds = {"x": rng.standard_normal((2, 5, 10)).astype(np.float32), "h0": zeros, "c0": zeros}
    results = {}
    for artifact in summary.artifacts:
        run = plugins.exporter(artifact.exporter).load(artifact.path)
        wide = run({**feeds, "lengths": np.array([5, 2], np.int64)})["h_n"]
        try:
            narrow = run({**feeds, "lengths": np.array([5, 2], np.int32)})["h_n"]
        except Exception as exc:  # onnxruntime: "Unexpected input data type"
            results[artifact.exporter] = str(exc)
        else:
            np.testing.assert_array_equal(narrow, wide)
            results[artifact.exporter] = "ok"
    assert results["torchscript"] == results["pt2"] == "ok"
    assert "Unexpected input data type" in results["onnx"]


class Unannotated(nn.Module):
    """A forward as a plugin author writes it: defaults of None, no Optional annotations."""

    def __init__(self, **config: Any) -> None:
        super().__init__()
        self.rnn = nn.LSTM(config["input_size"], config["hidden_size"], batch_first=True)
        self.head = nn.Linear(config["hidden_size"], config["output_size"])

    def forward(self, x, h0=None, c0=None):  # type: ignore[no-untyped-def]
        state = None if h0 is None else (h0, c0)
        hidden, (h_n, c_n) = self.rnn(x, state)
        return self.head(h_n[-1]), hidden, h_n, c_n


class UnannotatedPlugin:
    @zoo.hookimpl
    def register_architectures(self, register: Callable[[zoo.Architecture], None]) -> None:
        defaults = {"input_size": 3, "hidden_size": 5, "num_layers": 1, "output_size": 1}
        register(zoo.Architecture(name="plain", build=Unannotated, defaults=defaults,
                                  states=("h", "c")))  # fmt: skip


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")  # parity judges the trace
def test_torchscript_falls_back_to_a_trace_for_an_unannotated_forward(
    make_plugins: Callable[..., Plugins], tmp_path: Path
) -> None:
    """Scripting it succeeds but saving fails ('strides() called on an undefined Tensor');
    the fallback used to miss that, since the save was outside it."""
    plugins = make_plugins(UnannotatedPlugin(), strict=True)
    arch = plugins.architecture("plain")
    config = arch.resolve()
    source = SourceModel("plain", arch, config, seeded(arch, config, 0), RandomWeights(0))
    (artifact,) = export_model(source, [plugins.exporter("torchscript")], tmp_path).artifacts
    assert artifact.passed, artifact.error
    assert artifact.report is not None and artifact.report.info["route"] == "trace"
    assert artifact.report.info["script_error"]
    meta = plugins.exporter("torchscript").read_metadata(tmp_path / "plain.torchscript.pt")
    assert meta["zoo.exporter"] == "torchscript:trace"
