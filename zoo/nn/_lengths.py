"""Variable-length batches: `lengths`, packing, and `Recurrent`, the one place models run
their torch recurrent module with or without lengths.

With `lengths` (int64, `(batch,)`) a model runs its stack on a packed sequence, so each
sequence's final states are taken after its own last valid step and `hidden` is zero past
it. Without `lengths` the forward is exactly the plain call. Models get this by
subclassing `Recurrent`, holding their torch RNN/GRU/LSTM as `self.rnn`, and calling
`self.run(x, h0, lengths)` (RNN, GRU) or `self.run_lstm(x, h0, c0, lengths)` (LSTM) in
`forward`. That is scriptable (TorchScript resolves the `hasattr` when it compiles) and
exports with lengths everywhere: in zoo's export copy `self.rnn` is zoo's custom op module,
which takes the lengths itself, since torch.export cannot trace a PackedSequence. A model
that only packs exports with lengths through TorchScript and the legacy ONNX exporter only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from zoo._errors import InputError


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


class Recurrent(nn.Module):
    """Base class of a model whose torch recurrent module is `self.rnn` (batch-first).

    `run` (one state: RNN, GRU) and `run_lstm` (LSTM) do the lengths pattern, so a model's
    `forward` stays one line per call and exports with `lengths` through every exporter.
    """

    if TYPE_CHECKING:
        rnn: nn.RNNBase

    def run(
        self,
        x: Tensor,
        h0: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
        lengths: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
    ) -> tuple[Tensor, Tensor]:
        """`self.rnn` (RNN or GRU) over `x` (batch, seq, features): `(hidden, h_n)`."""
        if lengths is None:
            return self.rnn(x, h0)  # type: ignore[no-any-return]
        if hasattr(self.rnn, "takes_lengths"):  # zoo's export copy: lengths go to its op
            return self.rnn(x, h0, lengths)  # type: ignore[no-any-return]
        packed, h_n = self.rnn(pack(x, lengths), h0)  # h_n: after each own last step
        return unpack(packed, x.shape[1]), h_n  # (batch, seq, directions * hidden), 0-padded

    def run_lstm(
        self,
        x: Tensor,
        h0: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
        c0: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
        lengths: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
    ) -> tuple[Tensor, Tensor, Tensor]:
        """`self.rnn` (an LSTM) over `x`: `(hidden, h_n, c_n)`; a missing state is zeros."""
        hx: Optional[tuple[Tensor, Tensor]] = None  # noqa: UP045 - TorchScript
        if h0 is not None or c0 is not None:
            directions = 2 if self.rnn.bidirectional else 1
            shape = (self.rnn.num_layers * directions, x.shape[0], self.rnn.hidden_size)
            hx = (
                h0 if h0 is not None else x.new_zeros(shape),
                c0 if c0 is not None else x.new_zeros(shape),
            )
        if lengths is None:
            hidden, (h_n, c_n) = self.rnn(x, hx)
        elif hasattr(self.rnn, "takes_lengths"):  # zoo's export copy: lengths go to its op
            hidden, (h_n, c_n) = self.rnn(x, hx, lengths)
        else:
            packed, (h_n, c_n) = self.rnn(pack(x, lengths), hx)  # after each own last step
            hidden = unpack(packed, x.shape[1])  # (batch, seq, directions * hidden), 0-padded
        return hidden, h_n, c_n
