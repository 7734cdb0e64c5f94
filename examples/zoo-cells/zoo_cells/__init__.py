"""zoo-cells: the architectures people write by hand, as a zoo plugin.

- `mgu`: a minimal gated unit, a cell written with `nn.Linear` gates and run over time by
  `zoo.nn.Scan`: it exports with a dynamic sequence axis through ONNX (one `Scan` node),
  TorchScript and pt2, with `lengths`, and streams (chunks with fed-back states).
- `cnn-lstm`: a length-preserving `Conv1d` over time, then an LSTM, then a head: the most
  common time-series model after the plain LSTM. Its centered convolution sees one step
  ahead, so it is declared `streamable=False`; parity still runs it chunk by chunk, against
  PyTorch run the same way.

Everything heavy is imported inside `build`, so `zoo list` stays free of torch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import zoo

DEFAULTS: dict[str, Any] = {
    "input_size": 10,
    "hidden_size": 20,
    "num_layers": 1,
    "output_size": 1,
    "dropout": 0.0,
}


def build_mgu(**config: Any) -> Any:
    from zoo_cells.model import MGU

    return MGU(**config)


def build_cnn_lstm(**config: Any) -> Any:
    from zoo_cells.model import CNNLSTM

    return CNNLSTM(**config)


def mgu_params(config: Any) -> int:
    """Per layer: the forget gate sees [x, h], the candidate x and f*h (no bias); a head."""
    hidden, total, inputs = config["hidden_size"], 0, config["input_size"]
    for _ in range(config["num_layers"]):
        total += (inputs + hidden + 1) * hidden + (inputs + 1) * hidden + hidden * hidden
        inputs = hidden
    return total + (hidden + 1) * config["output_size"]


def cnn_lstm_params(config: Any) -> int:
    """The convolution (kernel 3), then zoo's count for an LSTM stack with a head."""
    conv = config["channels"] * (3 * config["input_size"] + 1)
    lstm = {**config, "input_size": config["channels"]}
    return conv + zoo.recurrent_num_params(lstm, gates=4, bidirectional=False)


@zoo.hookimpl
def register_architectures(register: Callable[[zoo.Architecture], None]) -> None:
    register(
        zoo.Architecture(
            name="mgu",
            description="Minimal gated unit, a hand-written cell run by zoo.nn.Scan.",
            build=build_mgu,
            defaults=DEFAULTS,
            states=("h",),
            num_params=mgu_params,
            supports_lengths=True,
        )
    )
    register(
        zoo.Architecture(
            name="cnn-lstm",
            description="Conv1d over time (kernel 3, centered), an LSTM, a linear head.",
            build=build_cnn_lstm,
            defaults={**DEFAULTS, "channels": 16},
            states=("h", "c"),
            num_params=cnn_lstm_params,
            streamable=False,  # the centered convolution sees one step ahead
        )
    )
