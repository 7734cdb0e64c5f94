"""The built-in recurrent models: a torch RNN/GRU/LSTM stack with a linear head.

Both classes follow the canonical contract (see `zoo.spec`). The head reads the final state
of the top layer from every direction (`h_n[-directions:]`): for a bidirectional model that
is the forward direction's state after the last step *and* the backward direction's state
after it has read the whole sequence, not `hidden[:, -1]`, whose backward half has seen only
the last step. Importing this module imports torch; builders import it lazily.

Variable-length batches: with `lengths` (int64, `(batch,)`) the stack runs on a packed
sequence, so each sequence's final states are taken after its own last valid step and
`hidden` is zero past it. Without `lengths` the forward is exactly the plain call. The
pattern, for plugin authors whose models should export with lengths everywhere::

    if lengths is None:
        hidden, h_n = self.rnn(x, h0)
    elif hasattr(self.rnn, "takes_lengths"):  # zoo's export copy: lengths go to its op
        hidden, h_n = self.rnn(x, h0, lengths)
    else:  # eager PyTorch and TorchScript
        packed, h_n = self.rnn(pack(x, lengths), h0)
        hidden = unpack(packed, x.shape[1])

TorchScript resolves the `hasattr` when it compiles, so the model stays scriptable. A model
that only packs (the `else` branch alone) exports with lengths through TorchScript and the
legacy ONNX exporter, but not through torch.export (pt2, default ONNX route), which cannot
trace a PackedSequence.
"""

from __future__ import annotations

from typing import Any, Optional

from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from zoo.errors import InputError

_CELLS = {"rnn": nn.RNN, "gru": nn.GRU}


def check_lengths(x: Tensor, lengths: Tensor) -> None:
    """InputError unless `lengths` is `(batch,)` with every value in [1, seq] of `x`."""
    batch, seq = x.shape[0], x.shape[1]
    if lengths.dim() != 1 or lengths.shape[0] != batch:
        raise InputError(
            f"lengths must have shape (batch,) = ({batch},), one per sequence of x "
            f"{list(x.shape)}; got shape {list(lengths.shape)}."
        )
    low, high = int(lengths.min()), int(lengths.max())
    if low < 1 or high > seq:
        raise InputError(
            f"lengths must be in [1, seq] = [1, {seq}] (valid steps of each sequence of the "
            f"padded x); got min {low}, max {high}. Every sequence needs at least one step "
            "and x must be padded to the longest one."
        )


def pack(x: Tensor, lengths: Tensor) -> PackedSequence:
    """A padded batch-first `x` (batch, seq, features) packed by `lengths`, any order.

    Checks the lengths first (`check_lengths`): torch's own errors for a length of 0 or
    past `seq` do not name the input.
    """
    check_lengths(x, lengths)
    return pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)


def unpack(packed: PackedSequence, seq: int) -> Tensor:
    """A packed output back to (batch, seq, features), in the input's order, zero-padded."""
    padded, _ = pad_packed_sequence(packed, batch_first=True, total_length=seq)
    return padded


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

    def forward(
        self,
        x: Tensor,
        h0: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
        lengths: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
    ) -> tuple[Tensor, Tensor, Tensor]:
        # x: (batch, seq, input_size); h0: (layers * directions, batch, hidden); lengths: (batch,)
        if lengths is None:
            hidden, h_n = self.rnn(x, h0)  # (batch, seq, directions * hidden), like h0
        elif hasattr(self.rnn, "takes_lengths"):  # zoo's export copy: lengths go to its op
            hidden, h_n = self.rnn(x, h0, lengths)
        else:
            packed, h_n = self.rnn(pack(x, lengths), h0)  # h_n: after each own last step
            hidden = unpack(packed, x.shape[1])  # (batch, seq, directions * hidden), 0-padded
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
        lengths: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        # x: (batch, seq, input_size); h0, c0: (layers * directions, batch, hidden)
        # lengths: (batch,) int64, valid steps of each sequence
        hx: Optional[tuple[Tensor, Tensor]] = None  # noqa: UP045 - TorchScript
        if h0 is not None or c0 is not None:
            shape = (self.rnn.num_layers * self.directions, x.shape[0], self.rnn.hidden_size)
            h = h0 if h0 is not None else x.new_zeros(shape)
            c = c0 if c0 is not None else x.new_zeros(shape)
            hx = (h, c)
        if lengths is None:
            hidden, (h_n, c_n) = self.rnn(x, hx)  # (batch, seq, directions * hidden)
        elif hasattr(self.rnn, "takes_lengths"):  # zoo's export copy: lengths go to its op
            hidden, (h_n, c_n) = self.rnn(x, hx, lengths)
        else:
            packed, (h_n, c_n) = self.rnn(pack(x, lengths), hx)  # after each own last step
            hidden = unpack(packed, x.shape[1])  # (batch, seq, directions * hidden), 0-padded
        y = self.head(final_state(h_n, self.directions))  # (batch, output_size)
        return y, hidden, h_n, c_n


def build_recurrent(cell: str, bidirectional: bool, **config: Any) -> nn.Module:
    """A model for a built-in cell kind from a resolved config."""
    if cell == "lstm":
        return LSTMModel(bidirectional=bidirectional, **config)
    return RecurrentModel(cell=cell, bidirectional=bidirectional, **config)
