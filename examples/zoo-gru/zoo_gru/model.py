"""The GRU model: zoo's canonical forward contract over a plain nn.GRU."""

from __future__ import annotations

from typing import Optional

from torch import Tensor, nn

from zoo.recurrent import pack, unpack


class GRUModel(nn.Module):
    """forward(x, h0=None, lengths=None) -> (y, hidden, h_n), as every zoo architecture."""

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
        self.gru = nn.GRU(
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
        if lengths is None:
            hidden, h_n = self.gru(x, h0)  # (batch, seq, hidden), (num_layers, batch, hidden)
        elif hasattr(self.gru, "takes_lengths"):  # zoo's export copy: lengths go to its op
            hidden, h_n = self.gru(x, h0, lengths)
        else:  # eager and TorchScript: a packed run, zero-padded back to seq
            packed, h_n = self.gru(pack(x, lengths), h0)
            hidden = unpack(packed, x.shape[1])
        y = self.head(h_n[-1])  # (batch, output_size): the top layer's final state
        return y, hidden, h_n
