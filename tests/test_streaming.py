"""Streaming is a property of the model, parity a property of the export: the streaming
case runs eager PyTorch chunk by chunk too, and `Architecture.streamable` declares whether a
stream equals one full pass (issue #15). A CNN-LSTM (a centered convolution over time, then
an LSTM) is the common architecture that is not streamable."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pytest
import torch
from torch import Tensor, nn

import zoo
import zoo.nn
from zoo._manager import Plugins
from zoo.parity._check import STREAM_CASE, eager_runner, references, stream
from zoo.testing import check_architecture, check_forward_contract

DEFAULTS = {"input_size": 3, "hidden_size": 8, "num_layers": 1, "output_size": 1, "dropout": 0.0}


class CNNLSTM(zoo.nn.Recurrent):
    """A length-preserving Conv1d over time (it sees one step ahead), an LSTM, a head."""

    def __init__(
        self, *, input_size: int, hidden_size: int, num_layers: int, output_size: int,
        dropout: float,
    ) -> None:  # fmt: skip
        super().__init__()
        self.conv = nn.Conv1d(input_size, 8, kernel_size=3, padding=1)
        self.rnn = nn.LSTM(8, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, output_size)

    def forward(
        self,
        x: Tensor,
        h0: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
        c0: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        z = torch.relu(self.conv(x.transpose(1, 2))).transpose(1, 2)  # (batch, seq, 8)
        hidden, h_n, c_n = self.run_lstm(z, h0, c0)
        return self.head(h_n[-1]), hidden, h_n, c_n


def _cnn_lstm(**config: Any) -> CNNLSTM:
    return CNNLSTM(**config)


def _plugin(streamable: bool) -> object:
    class Plugin:
        @zoo.hookimpl
        def register_architectures(self, register: Callable[[zoo.Architecture], None]) -> None:
            register(
                zoo.Architecture(
                    name="cnn-lstm", build=_cnn_lstm, defaults=DEFAULTS, states=("h", "c"),
                    streamable=streamable,
                )
            )  # fmt: skip

    return Plugin()


@pytest.mark.slow
def test_a_cnn_lstm_declared_not_streamable_exports_with_every_exporter(
    make_plugins: Callable[..., Plugins], tmp_path: Path
) -> None:
    plugins = make_plugins(_plugin(streamable=False), strict=True)
    exporters = ["onnx", "torchscript", "pt2", "onnx-int8"]
    check_architecture("cnn-lstm", plugins=plugins, exporters=exporters, out_dir=tmp_path)
    for exporter in exporters:
        suffix = plugins.exporter(exporter).suffix
        report = json.loads((tmp_path / f"cnn-lstm{suffix}.parity.json").read_text())
        assert report["streaming"].startswith("no: declared streamable=False")
        (artifact,) = report["artifacts"]
        cases = {c["case"] for c in artifact["parity"]["checks"]}
        assert any(c.startswith("stream") for c in cases), artifact["exporter"]


def test_the_test_kit_fails_a_false_streamable_declaration(
    make_plugins: Callable[..., Plugins],
) -> None:
    plugins = make_plugins(_plugin(streamable=True))
    with pytest.raises(zoo.PluginError, match="declares streamable=True"):
        check_forward_contract(plugins.architecture("cnn-lstm"))


def test_the_test_kit_passes_a_true_declaration(plugins: Plugins) -> None:
    for name in ("rnn", "lstm"):
        assert plugins.architecture(name).streamable
        check_forward_contract(plugins.architecture(name))


def test_the_streaming_reference_runs_pytorch_chunk_by_chunk(
    make_plugins: Callable[..., Plugins],
) -> None:
    arch = make_plugins(_plugin(streamable=False)).architecture("cnn-lstm")
    config = arch.resolve()
    torch.manual_seed(0)
    model = arch.build(**config).eval()
    contract = arch.io(config)
    (ref,) = references(model, contract, cases=[], stream=True)
    assert ref.case == STREAM_CASE
    runner = eager_runner(model, contract)
    chunked = stream(runner, contract, ref.inputs, STREAM_CASE.chunks)
    whole = runner(ref.inputs)
    assert np.array_equal(ref.expected["hidden"], chunked["hidden"])
    assert not np.allclose(ref.expected["hidden"], whole["hidden"], atol=1e-4)  # not streamable


def test_zoo_info_reports_streaming(invoke: Any, plugins: Plugins) -> None:
    for name, arch in plugins.architectures.items():
        data = json.loads(invoke("info", name, "--json").output)
        assert data["streamable"] == (not arch.bidirectional and arch.streamable), name
        assert data["streaming"] == arch.streaming()
    assert "streaming     no: bidirectional" in invoke("info", "bilstm").output
