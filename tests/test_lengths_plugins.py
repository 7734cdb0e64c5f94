"""Third-party architectures with `lengths`: the zoo.nn.Recurrent pattern and plain packing,
through check_forward_contract, every exporter and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import onnx
import pytest
from lengths_support import EXPORTERS, assert_lengths_parity, source_of
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import zoo
import zoo.nn
from zoo.export._pipeline import export_model
from zoo.nn import final_state
from zoo.testing import check_forward_contract

DEFAULTS = {"input_size": 4, "hidden_size": 6, "num_layers": 2, "output_size": 2, "dropout": 0.0}

# -- models ------------------------------------------------------------------------------


class PatternGRU(zoo.nn.Recurrent):
    """A plugin's bidirectional GRU on zoo.nn.Recurrent (the lengths pattern)."""

    def __init__(self, **config: Any) -> None:
        super().__init__()
        self.rnn = nn.GRU(
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
        hidden, h_n = self.run(x, h0, lengths)
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
    source = source_of(plugins, "pattern-gru")
    (result,) = export_model(source, [plugins.exporter(exporter)], tmp_path, lengths=True).artifacts
    assert_lengths_parity(result, source.arch.io(source.config, lengths=True))
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
    source = source_of(plugins, "pack-gru")
    (result,) = export_model(
        source, [plugins.exporter(exporter)], tmp_path, lengths=True, legacy=legacy, opset=17
    ).artifacts
    if passes:
        assert_lengths_parity(result, source.arch.io(source.config, lengths=True))
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
    source = source_of(plugins, "traced-gru")
    (result,) = export_model(
        source, [plugins.exporter("torchscript")], tmp_path, lengths=True
    ).artifacts
    assert result.report is not None and result.report.info["route"] == "trace"
    assert_lengths_parity(result, source.arch.io(source.config, lengths=True))


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
    report = json.loads((tmp_path / "bilstm.onnx.parity.json").read_text())
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
