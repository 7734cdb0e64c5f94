"""The models of zoo-cells: a minimal gated unit (a hand-written cell) and a CNN-LSTM."""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

import zoo.nn


class MGUCell(nn.Module):
    """One step of a minimal gated unit (Zhou et al., 2016)::

    f  = sigmoid(W_f [x, h] + b_f)         forget gate
    h~ = tanh(W_h x + b_h + U_h (f * h))   candidate
    h' = (1 - f) * h + f * h~
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.forget = nn.Linear(input_size + hidden_size, hidden_size)
        self.candidate = nn.Linear(input_size, hidden_size)
        self.recurrent = nn.Linear(hidden_size, hidden_size, bias=False)

    def forward(self, x: Tensor, states: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
        # x: (batch, input_size); states: [h (batch, hidden)]
        h = states[0]
        f = torch.sigmoid(self.forget(torch.cat([x, h], -1)))  # (batch, hidden)
        h = (1 - f) * h + f * torch.tanh(self.candidate(x) + self.recurrent(f * h))
        return h, [h]


class MGU(nn.Module):
    """A stack of minimal gated units and a linear head on the top layer's final state;
    forward(x, h0=None, lengths=None) -> (y, hidden, h_n), zoo's contract."""

    def __init__(
        self, *, input_size: int, hidden_size: int, num_layers: int, output_size: int,
        dropout: float,
    ) -> None:  # fmt: skip
        super().__init__()
        self.hidden_size = hidden_size
        sizes = [input_size] + [hidden_size] * (num_layers - 1)
        self.layers = nn.ModuleList([zoo.nn.Scan(MGUCell(n, hidden_size)) for n in sizes])
        self.dropout = nn.Dropout(dropout if num_layers > 1 else 0.0)
        self.head = nn.Linear(hidden_size, output_size)

    def forward(
        self,
        x: Tensor,
        h0: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
        lengths: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
    ) -> tuple[Tensor, Tensor, Tensor]:
        # x: (batch, seq, input_size); h0: (num_layers, batch, hidden); lengths: (batch,)
        finals: list[Tensor] = []
        hidden = x
        for i, layer in enumerate(self.layers):
            if i > 0:
                hidden = self.dropout(hidden)
            h = h0[i] if h0 is not None else x.new_zeros(x.shape[0], self.hidden_size)
            hidden, states = layer(hidden, [h], lengths)  # (batch, seq, hidden)
            finals.append(states[0])
        h_n = torch.stack(finals)  # (num_layers, batch, hidden)
        return self.head(h_n[-1]), hidden, h_n


class CNNLSTM(zoo.nn.Recurrent):
    """Conv1d over time (kernel 3, padding 1: the length is kept, each step sees its
    neighbours), ReLU, an LSTM stack and a head on the top layer's final state."""

    def __init__(
        self, *, input_size: int, hidden_size: int, num_layers: int, output_size: int,
        dropout: float, channels: int,
    ) -> None:  # fmt: skip
        super().__init__()
        self.conv = nn.Conv1d(input_size, channels, kernel_size=3, padding=1)
        self.rnn = nn.LSTM(
            channels, hidden_size, num_layers, batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )  # fmt: skip
        self.head = nn.Linear(hidden_size, output_size)

    def forward(
        self,
        x: Tensor,
        h0: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
        c0: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        # x: (batch, seq, input_size); h0, c0: (num_layers, batch, hidden)
        z = torch.relu(self.conv(x.transpose(1, 2))).transpose(1, 2)  # (batch, seq, channels)
        hidden, h_n, c_n = self.run_lstm(z, h0, c0)  # (batch, seq, hidden)
        return self.head(h_n[-1]), hidden, h_n, c_n
