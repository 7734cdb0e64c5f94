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

from zoo._errors import ExportError
from zoo.nn._lengths import check_lengths

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
#
# Every op takes an optional `lengths` (int64, (batch,)): the valid steps of each sequence
# of a padded batch. The eager kernel then runs aten's packed kernel, exactly what nn.LSTM
# does on pack_padded_sequence(..., enforce_sorted=False): final states after each
# sequence's own last step, output zero past it. Shapes do not depend on it, so the fake
# kernels ignore it, and torch.export never sees a data-dependent size.

_KERNELS: dict[str, Callable[..., Any]] = {
    "lstm": torch.lstm,
    "gru": torch.gru,
    "tanh": torch.rnn_tanh,
    "relu": torch.rnn_relu,
}


def _run(
    kernel: str,
    x: Tensor,
    states: list[Tensor],
    weights: Sequence[Tensor],
    num_layers: int,
    bidirectional: bool,
    lengths: Tensor | None,
) -> tuple[Tensor, ...]:
    """Batch-first aten recurrent kernel on ONNX-layout weights: `(y, *final_states)`."""
    family = kernel if kernel in ("lstm", "gru") else "rnn"
    params = _torch_params(weights, family, num_layers, 2 if bidirectional else 1)
    run = _KERNELS[kernel]
    hx: Any = tuple(states) if family == "lstm" else states[0]
    common = (params, True, num_layers, 0.0, False, bidirectional)
    if lengths is None:
        return tuple(run(x, hx, *common, True))  # y: (batch, seq, dirs * hidden)
    check_lengths(x, lengths)
    packed = nn.utils.rnn.pack_padded_sequence(
        x, lengths.cpu(), batch_first=True, enforce_sorted=False
    )
    order, restore = packed.sorted_indices, packed.unsorted_indices
    assert order is not None and restore is not None  # enforce_sorted=False sets both
    sorted_hx = [h.index_select(1, order) for h in states]  # batch sorted by length
    hx = tuple(sorted_hx) if family == "lstm" else sorted_hx[0]
    data, *finals = run(packed.data, packed.batch_sizes, hx, *common)
    out = nn.utils.rnn.PackedSequence(data, packed.batch_sizes, order, restore)
    y, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    return (y, *(h.index_select(1, restore) for h in finals))  # back in input order


@torch.library.custom_op("zoo::lstm", mutates_args=())
def lstm_op(
    x: Tensor,
    h0: Tensor,
    c0: Tensor,
    weights: list[Tensor],
    num_layers: int,
    bidirectional: bool,
    hidden_size: int,
    lengths: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Batch-first multi-layer LSTM; weights in ONNX layout; optional per-sequence lengths."""
    y, h_n, c_n = _run("lstm", x, [h0, c0], weights, num_layers, bidirectional, lengths)
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
    lengths: Tensor | None = None,
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
    lengths: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Batch-first multi-layer GRU; weights in ONNX layout; optional per-sequence lengths."""
    y, h_n = _run("gru", x, [h0], weights, num_layers, bidirectional, lengths)
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
    lengths: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Batch-first multi-layer Elman RNN (`nonlinearity` 'tanh' or 'relu'); optional lengths."""
    y, h_n = _run(nonlinearity, x, [h0], weights, num_layers, bidirectional, lengths)
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
    lengths: Tensor | None = None,
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
    lengths: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    return _one_state_fake(x, h0, hidden_size, bidirectional)


# -- drop-in module ------------------------------------------------------------------------

#: Why a packed input cannot be exported through torch.export, and what to do instead.
PACKED_INPUT = (
    "The model feeds a PackedSequence to its recurrent module, and torch.export (used by "
    "the pt2 exporter and the default ONNX route) cannot trace packed sequences: their "
    "size depends on the lengths' values. Pass the lengths to the module instead when it "
    "has `takes_lengths` (the lengths pattern of zoo.nn.Recurrent), or export this "
    "model with TorchScript or `zoo export --onnx --legacy`, which handle packing."
)


class ExportableRecurrent(nn.Module):
    """Stands in for an nn.RNN/nn.LSTM/nn.GRU (same call signature) and calls zoo's ops.

    Holds the weights in ONNX layout as buffers. Inference only: no dropout, no gradients.
    A padded batch's lengths come as a third argument, `module(x, hx, lengths)`, instead of
    a PackedSequence, which torch.export cannot trace; `takes_lengths` tells a model so
    (see `zoo.nn.Recurrent`).
    """

    #: Models test `hasattr(self.rnn, "takes_lengths")` to pass lengths instead of packing.
    takes_lengths = True

    def __init__(self, module: nn.RNNBase) -> None:
        super().__init__()
        if getattr(module, "proj_size", 0):
            raise ExportError(
                "nn.LSTM with proj_size exports only with --torchscript (scripted, parity "
                "proven): ONNX's LSTM has no projection (torch's legacy exporter refuses it "
                "too), and torch.export would freeze the sequence length without zoo's op."
            )
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

    def forward(
        self, input: Tensor, hx: Any = None, lengths: Tensor | None = None
    ) -> tuple[Tensor, Any]:
        if isinstance(input, nn.utils.rnn.PackedSequence):
            raise ExportError(PACKED_INPUT)
        x = input if self.batch_first else input.transpose(0, 1)  # (batch, seq, features)
        weights = [getattr(self, n) for n in self._names]
        args = (self.num_layers, self.bidirectional, self.hidden_size)
        if self.family == "lstm":
            h0, c0 = hx if hx is not None else (self._zeros(x), self._zeros(x))
            y, h_n, c_n = lstm_op(x, h0, c0, weights, *args, lengths=lengths)
            state: Any = (h_n, c_n)
        elif self.family == "gru":
            h0 = hx if hx is not None else self._zeros(x)
            y, state = gru_op(x, h0, weights, *args, lengths=lengths)
        else:
            nonlinearity = "tanh" if self.mode == "RNN_TANH" else "relu"
            h0 = hx if hx is not None else self._zeros(x)
            y, state = rnn_op(x, h0, weights, *args, nonlinearity, lengths=lengths)
        # y: (batch, seq, dirs * hidden), zero past each length when lengths are given
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
    from zoo.nn import _onnx as recurrent_onnx

    return {
        torch.ops.zoo.lstm.default: recurrent_onnx.lstm_onnx,
        torch.ops.zoo.gru.default: recurrent_onnx.gru_onnx,
        torch.ops.zoo.rnn.default: recurrent_onnx.rnn_onnx,
    }
