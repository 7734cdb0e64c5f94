"""Recurrent stacks as custom ops, so that torch.export keeps the sequence axis dynamic.

`torch.export` (and the ONNX exporter built on it) specializes the sequence length of
nn.LSTM/nn.GRU and unrolls nn.RNN over time. Here a whole (multi-layer, optionally
bidirectional) stack is one opaque `torch.library.custom_op` (`zoo::lstm`, `zoo::gru`,
`zoo::rnn`) with a symbolic fake implementation; the ONNX exporter maps each op through
`custom_translation_table` to one native ONNX LSTM/GRU/RNN node per layer.

The ops take their weights already in ONNX layout (gate order and bias concatenation are
done once, on the tensors, by `onnx_weights`), so the ONNX file holds them as plain
initializers with no reorder ops in the graph. Per layer `l` the flat weight list holds::

    W_l [dirs, G*H, in_l]    R_l [dirs, G*H, H]    B_l [dirs, 2*G*H] = concat(Wb, Rb)

with G = 1 (RNN), 3 (GRU, ONNX gates z,r,h), 4 (LSTM, ONNX gates i,o,f,c).

A process that loads a .pt2 holding these ops must import this module first (`import zoo`
and loading through zoo does it).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from zoo.errors import ExportError

# Gate permutations: _TO_ONNX[f][k] is the torch gate that lands at ONNX position k.
# LSTM torch (i, f, g, o) -> ONNX (i, o, f, c); GRU torch (r, z, n) -> ONNX (z, r, h).
_TO_ONNX: dict[str, tuple[int, ...]] = {"lstm": (0, 3, 1, 2), "gru": (1, 0, 2), "rnn": (0,)}
_TO_TORCH: dict[str, tuple[int, ...]] = {"lstm": (0, 2, 3, 1), "gru": (1, 0, 2), "rnn": (0,)}
_GATES: dict[str, int] = {"lstm": 4, "gru": 3, "rnn": 1}
_MODES = {"LSTM": "lstm", "GRU": "gru", "RNN_TANH": "rnn", "RNN_RELU": "rnn"}


def _permute_gates(t: Tensor, perm: Sequence[int]) -> Tensor:
    if len(perm) == 1:
        return t
    chunks = t.chunk(len(perm), dim=0)
    return torch.cat([chunks[p] for p in perm], dim=0)


@torch.no_grad()
def onnx_weights(module: nn.RNNBase) -> list[Tensor]:
    """A torch recurrent module's parameters in ONNX layout: `[W_0, R_0, B_0, W_1, ...]`."""
    family = _MODES[module.mode]
    perm = _TO_ONNX[family]
    gates_hidden = _GATES[family] * module.hidden_size
    directions = 2 if module.bidirectional else 1
    out: list[Tensor] = []
    for layer in range(module.num_layers):
        ws, rs, bs = [], [], []
        for direction in range(directions):
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            w_ih = getattr(module, "weight_ih" + suffix)
            w_hh = getattr(module, "weight_hh" + suffix)
            zeros = w_ih.new_zeros(gates_hidden)
            b_ih = getattr(module, "bias_ih" + suffix) if module.bias else zeros
            b_hh = getattr(module, "bias_hh" + suffix) if module.bias else zeros
            ws.append(_permute_gates(w_ih, perm))
            rs.append(_permute_gates(w_hh, perm))
            bs.append(torch.cat([_permute_gates(b_ih, perm), _permute_gates(b_hh, perm)]))
        out += [torch.stack(t).detach().clone().contiguous() for t in (ws, rs, bs)]
    return out


def _torch_params(weights: Sequence[Tensor], family: str, layers: int, dirs: int) -> list[Tensor]:
    """ONNX-layout weights back to aten's flat list (w_ih, w_hh, b_ih, b_hh per layer, dir)."""
    perm = _TO_TORCH[family]
    params: list[Tensor] = []
    for layer in range(layers):
        w, r, b = weights[3 * layer : 3 * layer + 3]
        wb, rb = b.chunk(2, dim=1)
        for d in range(dirs):
            params += [_permute_gates(t[d], perm) for t in (w, r, wb, rb)]
    return params


# -- custom ops: eager kernels (used by loaded .pt2 programs) and fake (shape) kernels ----


@torch.library.custom_op("zoo::lstm", mutates_args=())
def lstm_op(
    x: Tensor,
    h0: Tensor,
    c0: Tensor,
    weights: list[Tensor],
    num_layers: int,
    bidirectional: bool,
    hidden_size: int,
) -> tuple[Tensor, Tensor, Tensor]:
    """Batch-first multi-layer LSTM; weights in ONNX layout."""
    params = _torch_params(weights, "lstm", num_layers, 2 if bidirectional else 1)
    y, h_n, c_n = torch.lstm(x, (h0, c0), params, True, num_layers, 0.0, False, bidirectional, True)
    return y, h_n, c_n


@lstm_op.register_fake
def _lstm_fake(
    x: Tensor,
    h0: Tensor,
    c0: Tensor,
    weights: list[Tensor],
    num_layers: int,
    bidirectional: bool,
    hidden_size: int,
) -> tuple[Tensor, Tensor, Tensor]:
    dirs = 2 if bidirectional else 1
    y = x.new_empty((x.shape[0], x.shape[1], dirs * hidden_size))
    return y, torch.empty_like(h0), torch.empty_like(c0)


@torch.library.custom_op("zoo::gru", mutates_args=())
def gru_op(
    x: Tensor,
    h0: Tensor,
    weights: list[Tensor],
    num_layers: int,
    bidirectional: bool,
    hidden_size: int,
) -> tuple[Tensor, Tensor]:
    """Batch-first multi-layer GRU; weights in ONNX layout."""
    params = _torch_params(weights, "gru", num_layers, 2 if bidirectional else 1)
    y, h_n = torch.gru(x, h0, params, True, num_layers, 0.0, False, bidirectional, True)
    return y, h_n


@torch.library.custom_op("zoo::rnn", mutates_args=())
def rnn_op(
    x: Tensor,
    h0: Tensor,
    weights: list[Tensor],
    num_layers: int,
    bidirectional: bool,
    hidden_size: int,
    nonlinearity: str,
) -> tuple[Tensor, Tensor]:
    """Batch-first multi-layer Elman RNN (`nonlinearity` 'tanh' or 'relu')."""
    params = _torch_params(weights, "rnn", num_layers, 2 if bidirectional else 1)
    kernel = torch.rnn_tanh if nonlinearity == "tanh" else torch.rnn_relu
    y, h_n = kernel(x, h0, params, True, num_layers, 0.0, False, bidirectional, True)
    return y, h_n


def _one_state_fake(
    x: Tensor, h0: Tensor, hidden_size: int, bidirectional: bool
) -> tuple[Tensor, Tensor]:
    dirs = 2 if bidirectional else 1
    return x.new_empty((x.shape[0], x.shape[1], dirs * hidden_size)), torch.empty_like(h0)


@gru_op.register_fake
def _gru_fake(
    x: Tensor,
    h0: Tensor,
    weights: list[Tensor],
    num_layers: int,
    bidirectional: bool,
    hidden_size: int,
) -> tuple[Tensor, Tensor]:
    return _one_state_fake(x, h0, hidden_size, bidirectional)


@rnn_op.register_fake
def _rnn_fake(
    x: Tensor,
    h0: Tensor,
    weights: list[Tensor],
    num_layers: int,
    bidirectional: bool,
    hidden_size: int,
    nonlinearity: str,
) -> tuple[Tensor, Tensor]:
    return _one_state_fake(x, h0, hidden_size, bidirectional)


# -- drop-in module ------------------------------------------------------------------------


class ExportableRecurrent(nn.Module):
    """Stands in for an nn.RNN/nn.LSTM/nn.GRU (same call signature) and calls zoo's ops.

    Holds the weights in ONNX layout as buffers. Inference only: no dropout, no gradients.
    """

    def __init__(self, module: nn.RNNBase) -> None:
        super().__init__()
        if getattr(module, "proj_size", 0):
            raise ExportError("nn.LSTM with proj_size is not supported by zoo's exporters.")
        self.mode = module.mode
        self.family = _MODES[module.mode]
        self.input_size = module.input_size
        self.hidden_size = module.hidden_size
        self.num_layers = module.num_layers
        self.bidirectional = module.bidirectional
        self.batch_first = module.batch_first
        self.directions = 2 if module.bidirectional else 1
        self._names: list[str] = []
        for i, weight in enumerate(onnx_weights(module)):
            name = f"{'WRB'[i % 3]}_l{i // 3}"
            self.register_buffer(name, weight)
            self._names.append(name)

    def flatten_parameters(self) -> None:
        """No-op, for code written against nn.RNNBase."""

    def _zeros(self, x: Tensor) -> Tensor:
        return x.new_zeros((self.num_layers * self.directions, x.shape[0], self.hidden_size))

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Any]:
        if isinstance(input, nn.utils.rnn.PackedSequence):
            raise ExportError("PackedSequence inputs are not supported by this exporter path.")
        x = input if self.batch_first else input.transpose(0, 1)  # (batch, seq, features)
        weights = [getattr(self, n) for n in self._names]
        args = (self.num_layers, self.bidirectional, self.hidden_size)
        if self.family == "lstm":
            h0, c0 = hx if hx is not None else (self._zeros(x), self._zeros(x))
            y, h_n, c_n = lstm_op(x, h0, c0, weights, *args)
            state: Any = (h_n, c_n)
        elif self.family == "gru":
            y, state = gru_op(x, hx if hx is not None else self._zeros(x), weights, *args)
        else:
            nonlinearity = "tanh" if self.mode == "RNN_TANH" else "relu"
            h0 = hx if hx is not None else self._zeros(x)
            y, state = rnn_op(x, h0, weights, *args, nonlinearity)
        return (y if self.batch_first else y.transpose(0, 1)), state


def exportable_copy(model: nn.Module) -> nn.Module:
    """A deep copy of `model` with every nn.RNN/LSTM/GRU replaced by `ExportableRecurrent`.

    Works for any model built from torch's recurrent modules, third-party ones included.
    """
    clone = copy.deepcopy(model).eval()
    targets = [
        name for name, m in clone.named_modules() if type(m) in (nn.RNN, nn.LSTM, nn.GRU) and name
    ]
    for name in targets:
        parent_name, _, attr = name.rpartition(".")
        parent = clone.get_submodule(parent_name) if parent_name else clone
        setattr(parent, attr, ExportableRecurrent(getattr(parent, attr)))
    if type(clone) in (nn.RNN, nn.LSTM, nn.GRU):
        return ExportableRecurrent(clone)  # type: ignore[arg-type]
    return clone


def onnx_translation_table() -> dict[Callable[..., Any], Callable[..., Any]]:
    """`custom_translation_table` for `torch.onnx.export`, mapping zoo's ops to native ONNX."""
    from zoo import recurrent_onnx

    return {
        torch.ops.zoo.lstm.default: recurrent_onnx.lstm_onnx,
        torch.ops.zoo.gru.default: recurrent_onnx.gru_onnx,
        torch.ops.zoo.rnn.default: recurrent_onnx.rnn_onnx,
    }
