"""The built-in recurrent models: a torch RNN/GRU/LSTM stack with a linear head.

Both classes follow the canonical contract (see `zoo.Architecture`). The head reads the
final state of the top layer from every direction (`h_n[-directions:]`): for a
bidirectional model that is the forward direction's state after the last step *and* the
backward direction's state after it has read the whole sequence, not `hidden[:, -1]`, whose
backward half has seen only the last step. With `lengths` the stack runs packed
(`zoo.nn.Recurrent`). Importing this module imports torch; builders import it lazily.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional

from torch import Tensor, nn

from zoo.nn._lengths import Recurrent, final_state

_CELLS: dict[str, Callable[..., nn.RNNBase]] = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


class _Stack(Recurrent):
    """A torch recurrent stack (`self.rnn`, batch-first) and a linear head on its final
    states; the constructor both built-in models share."""

    def __init__(
        self,
        *,
        cell: str,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        output_size: int,
        dropout: float = 0.0,
        bidirectional: bool = False,
    ) -> None:
        super().__init__()
        self.directions = 2 if bidirectional else 1
        self.rnn = _CELLS[cell](
            input_size,
            hidden_size,
            num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
            bidirectional=bidirectional,
        )
        self.head = nn.Linear(self.directions * hidden_size, output_size)


class RecurrentModel(_Stack):
    """A `tanh` RNN or GRU stack (one state, `h`) and a linear head."""

    def forward(
        self,
        x: Tensor,
        h0: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
        lengths: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
    ) -> tuple[Tensor, Tensor, Tensor]:
        # x: (batch, seq, input_size); h0: (layers * directions, batch, hidden); lengths: (batch,)
        hidden, h_n = self.run(x, h0, lengths)  # (batch, seq, directions * hidden), like h0
        y = self.head(final_state(h_n, self.directions))  # (batch, output_size)
        return y, hidden, h_n


class LSTMModel(_Stack):
    """An LSTM stack (states `h` and `c`) and a linear head."""

    def __init__(self, **config: Any) -> None:
        super().__init__(cell="lstm", **config)

    def forward(
        self,
        x: Tensor,
        h0: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
        c0: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
        lengths: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        # x: (batch, seq, input_size); h0, c0: (layers * directions, batch, hidden)
        # lengths: (batch,) int64, valid steps of each sequence
        hidden, h_n, c_n = self.run_lstm(x, h0, c0, lengths)  # (batch, seq, dirs * hidden)
        y = self.head(final_state(h_n, self.directions))  # (batch, output_size)
        return y, hidden, h_n, c_n


def build_recurrent(cell: str, bidirectional: bool, **config: Any) -> nn.Module:
    """A model for a built-in cell kind from a resolved config."""
    if cell == "lstm":
        return LSTMModel(bidirectional=bidirectional, **config)
    return RecurrentModel(cell=cell, bidirectional=bidirectional, **config)
