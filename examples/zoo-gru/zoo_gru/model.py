"""The GRU model: zoo's canonical forward contract over a plain nn.GRU."""

from __future__ import annotations

from typing import Optional

from torch import Tensor, nn

import zoo.nn


class GRUModel(zoo.nn.Recurrent):
    """forward(x, h0=None, lengths=None) -> (y, hidden, h_n), as every zoo architecture.

    `zoo.nn.Recurrent` runs `self.rnn` with or without `lengths` (packed in eager and
    TorchScript, through zoo's op in an export), so every exporter takes `--lengths`.
    """

    def __init__(
        self,
        *,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        output_size: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.rnn = nn.GRU(
            input_size,
            hidden_size,
            num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.head = nn.Linear(hidden_size, output_size)

    def forward(
        self,
        x: Tensor,
        h0: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
        lengths: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
    ) -> tuple[Tensor, Tensor, Tensor]:
        # x: (batch, seq, input_size); h0: (num_layers, batch, hidden); lengths: (batch,)
        hidden, h_n = self.run(x, h0, lengths)  # (batch, seq, hidden), (layers, batch, hidden)
        y = self.head(h_n[-1])  # (batch, output_size): the top layer's final state
        return y, hidden, h_n
