"""The built-in recurrent models: a torch RNN/GRU/LSTM stack with a linear head.

Both classes follow the canonical contract (see `zoo.spec`). The head reads the final state
of the top layer from every direction (`h_n[-directions:]`): for a bidirectional model that
is the forward direction's state after the last step *and* the backward direction's state
after it has read the whole sequence, not `hidden[:, -1]`, whose backward half has seen only
the last step. Importing this module imports torch; builders import it lazily.
"""

from __future__ import annotations

from typing import Any, Optional

from torch import Tensor, nn

_CELLS = {"rnn": nn.RNN, "gru": nn.GRU}


def final_state(h_n: Tensor, directions: int) -> Tensor:
    """The top layer's final state of each direction, side by side."""
    top = h_n[h_n.shape[0] - directions :]  # (directions, batch, hidden)
    return top.transpose(0, 1).flatten(1)  # (batch, directions * hidden)


class RecurrentModel(nn.Module):
    """A `tanh` RNN or GRU stack (one state, `h`) and a linear head."""

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

    def forward(self, x: Tensor, h0: Optional[Tensor] = None) -> tuple[Tensor, Tensor, Tensor]:  # noqa: UP045 - TorchScript
        # x: (batch, seq, input_size); h0: (layers * directions, batch, hidden)
        hidden, h_n = self.rnn(x, h0)  # (batch, seq, directions * hidden), like h0
        y = self.head(final_state(h_n, self.directions))  # (batch, output_size)
        return y, hidden, h_n


class LSTMModel(nn.Module):
    """An LSTM stack (states `h` and `c`) and a linear head."""

    def __init__(
        self,
        *,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        output_size: int,
        dropout: float = 0.0,
        bidirectional: bool = False,
    ) -> None:
        super().__init__()
        self.directions = 2 if bidirectional else 1
        self.rnn = nn.LSTM(
            input_size,
            hidden_size,
            num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
            bidirectional=bidirectional,
        )
        self.head = nn.Linear(self.directions * hidden_size, output_size)

    def forward(
        self,
        x: Tensor,
        h0: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
        c0: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        # x: (batch, seq, input_size); h0, c0: (layers * directions, batch, hidden)
        hx: Optional[tuple[Tensor, Tensor]] = None  # noqa: UP045 - TorchScript
        if h0 is not None or c0 is not None:
            shape = (self.rnn.num_layers * self.directions, x.shape[0], self.rnn.hidden_size)
            h = h0 if h0 is not None else x.new_zeros(shape)
            c = c0 if c0 is not None else x.new_zeros(shape)
            hx = (h, c)
        hidden, (h_n, c_n) = self.rnn(x, hx)  # (batch, seq, directions * hidden)
        y = self.head(final_state(h_n, self.directions))  # (batch, output_size)
        return y, hidden, h_n, c_n


def build_recurrent(cell: str, bidirectional: bool, **config: Any) -> nn.Module:
    """A model for a built-in cell kind from a resolved config."""
    if cell == "lstm":
        return LSTMModel(bidirectional=bidirectional, **config)
    return RecurrentModel(cell=cell, bidirectional=bidirectional, **config)
