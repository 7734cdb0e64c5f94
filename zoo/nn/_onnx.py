"""ONNX translations of zoo's recurrent ops: one native LSTM/GRU/RNN node per layer.

Plain functions traced by the torch.export-based ONNX exporter: tensors arrive as symbolic
values, `Tensor[]` as a list, int/bool/str attributes as Python values. Written against
opset 18; the exporter converts the model to the requested opset. onnxruntime rejects the
batch-major `layout=1`, so the glue transposes to (seq, batch, features) once at the start
and back once at the end.

With `lengths` (int64, (batch,)), every layer gets them, cast once to int32, as its
`sequence_lens` input: onnxruntime then stops each sequence at its own last step (the
reverse direction starts there) and writes zeros past it, which is what PyTorch computes on
a packed sequence, layer after layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from onnx import TensorProto
from onnxscript import opset18

# Symbolic values during tracing; onnxscript's static types describe eager values.
op: Any = opset18


def _stack(
    family: str,
    x: Any,
    h0: Any,
    c0: Any | None,
    weights: Sequence[Any],
    num_layers: int,
    bidirectional: bool,
    hidden_size: int,
    lengths: Any | None,
    activation: str = "Tanh",
) -> tuple[Any, ...]:
    dirs = 2 if bidirectional else 1
    direction = "bidirectional" if bidirectional else "forward"
    seq_major = op.Transpose(x, perm=[1, 0, 2])  # (seq, batch, features)
    # sequence_lens: (batch,) int32, the ONNX type; None: every sequence is full length
    seq_lens = None if lengths is None else op.Cast(lengths, to=TensorProto.INT32)
    flat = op.Constant(value_ints=[0, 0, -1])
    axis0 = op.Constant(value_ints=[0])
    axis1 = op.Constant(value_ints=[1])
    finals_h: list[Any] = []
    finals_c: list[Any] = []
    y: Any = None
    for layer in range(num_layers):
        h_l, c_l = h0, c0
        if num_layers > 1:  # this layer's slice of the stacked states
            start = op.Constant(value_ints=[layer * dirs])
            end = op.Constant(value_ints=[(layer + 1) * dirs])
            h_l = op.Slice(h0, start, end, axis0)
            c_l = op.Slice(c0, start, end, axis0) if c0 is not None else None
        w, r, b = weights[3 * layer : 3 * layer + 3]
        if family == "lstm":
            y, y_h, y_c = op.LSTM(
                seq_major, w, r, b, seq_lens, h_l, c_l, hidden_size=hidden_size, direction=direction
            )
            finals_c.append(y_c)
        elif family == "gru":
            y, y_h = op.GRU(
                seq_major,
                w,
                r,
                b,
                seq_lens,
                h_l,
                hidden_size=hidden_size,
                direction=direction,
                linear_before_reset=1,
            )
        else:
            y, y_h = op.RNN(
                seq_major,
                w,
                r,
                b,
                seq_lens,
                h_l,
                hidden_size=hidden_size,
                direction=direction,
                activations=[activation] * dirs,
            )
        finals_h.append(y_h)
        if layer + 1 < num_layers and dirs == 1:  # (seq, 1, batch, H) -> (seq, batch, H)
            seq_major = op.Squeeze(y, axis1)  # a view: no copy of the sequence
        elif layer + 1 < num_layers:  # (seq, dirs, batch, H) -> (seq, batch, dirs * H)
            seq_major = op.Reshape(op.Transpose(y, perm=[0, 2, 1, 3]), flat)
    hidden = op.Reshape(op.Transpose(y, perm=[2, 0, 1, 3]), flat)  # (batch, seq, dirs * H)
    h_n = finals_h[0] if num_layers == 1 else op.Concat(*finals_h, axis=0)
    if family != "lstm":
        return hidden, h_n
    c_n = finals_c[0] if num_layers == 1 else op.Concat(*finals_c, axis=0)
    return hidden, h_n, c_n


def lstm_onnx(
    x: Any,
    h0: Any,
    c0: Any,
    weights: Sequence[Any],
    num_layers: int,
    bidirectional: bool,
    hidden_size: int,
    lengths: Any | None = None,
) -> tuple[Any, ...]:
    return _stack("lstm", x, h0, c0, weights, num_layers, bidirectional, hidden_size, lengths)


def gru_onnx(
    x: Any,
    h0: Any,
    weights: Sequence[Any],
    num_layers: int,
    bidirectional: bool,
    hidden_size: int,
    lengths: Any | None = None,
) -> tuple[Any, ...]:
    return _stack("gru", x, h0, None, weights, num_layers, bidirectional, hidden_size, lengths)


def rnn_onnx(
    x: Any,
    h0: Any,
    weights: Sequence[Any],
    num_layers: int,
    bidirectional: bool,
    hidden_size: int,
    nonlinearity: str,
    lengths: Any | None = None,
) -> tuple[Any, ...]:
    activation = {"tanh": "Tanh", "relu": "Relu"}[nonlinearity]
    return _stack(
        "rnn", x, h0, None, weights, num_layers, bidirectional, hidden_size, lengths, activation
    )
