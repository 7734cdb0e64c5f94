"""The I/O contract every architecture, exporter and parity check relies on.

The canonical contract (every built-in, and the default for plugins)::

    forward(x, h0=None, c0=None, lengths=None) -> (y, hidden, h_n, c_n)
    x       (batch, seq, input_size)
    h0, c0  (num_layers * directions, batch, hidden_size)      one per state, optional
    lengths (batch,) int64                                     optional, see below
    y       (batch, output_size)                               head on the final state
    hidden  (batch, seq, directions * hidden_size)             top layer, every step
    h_n,c_n (num_layers * directions, batch, hidden_size)      one per state

`lengths` (only for architectures with `supports_lengths=True`, and in an exported
artifact only when the export asked for it): the number of valid steps of each sequence of
a padded batch, each in [1, seq]. Each sequence's `h_n`/`c_n` is its state after its own
last valid step (the backward direction starts there), `hidden` is zero past each length
and `y` reads those states: what PyTorch computes on a packed sequence.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

#: Named dynamic axes; exporters declare these names in the graphs they write.
BATCH = "batch"
SEQ = "seq"
#: The optional per-sequence lengths input (int64, one per batch entry).
LENGTHS = "lengths"


@dataclass(frozen=True)
class TensorSpec:
    """One named tensor of the contract; a `str` dimension is a named dynamic axis."""

    name: str
    shape: tuple[int | str, ...]
    dtype: str = "float32"

    def concrete(self, **axes: int) -> tuple[int, ...]:
        """The shape with each named axis replaced by its size in `axes`."""
        return tuple(axes[d] if isinstance(d, str) else d for d in self.shape)

    def describe(self) -> str:
        """'(batch, seq, 10) float32'"""
        return f"({', '.join(str(d) for d in self.shape)}) {self.dtype}"


@dataclass(frozen=True)
class IOContract:
    """The resolved inputs and outputs of one architecture at one config.

    `inputs[0]` is the sequence input; then the optional initial states, one per name in
    `states` (`h` -> input `h0`, output `h_n`); last, only in a contract made by
    `with_lengths()`, the `lengths` input. `sequence_outputs` are the outputs with a
    per-step `seq` axis at position 1 (what streaming concatenates, and what is zero past
    each length).
    """

    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    states: tuple[str, ...]
    sequence_outputs: tuple[str, ...] = ("hidden",)
    bidirectional: bool = False

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.inputs)

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.outputs)

    @property
    def state_inputs(self) -> tuple[str, ...]:
        return tuple(f"{s}0" for s in self.states)

    @property
    def state_outputs(self) -> tuple[str, ...]:
        return tuple(f"{s}_n" for s in self.states)

    @property
    def state_specs(self) -> tuple[TensorSpec, ...]:
        """The initial-state inputs (`h0`, `c0`), in order."""
        names = set(self.state_inputs)
        return tuple(t for t in self.inputs if t.name in names)

    @property
    def has_lengths(self) -> bool:
        """Whether the contract takes the `lengths` input (see `with_lengths`)."""
        return LENGTHS in self.input_names

    @property
    def can_stream(self) -> bool:
        """Whether streaming is defined: calls on chunks of a sequence, each fed the states
        the previous call returned. Unidirectional models without `lengths` (a chunk of a
        padded batch would need each sequence's length within the chunk, which the contract
        does not define). Whether a stream then equals one full pass is the architecture's
        own property (`Architecture.streamable`)."""
        return not self.bidirectional and not self.has_lengths

    def with_lengths(self) -> IOContract:
        """This contract plus the last input `lengths` (int64, `(batch,)`); idempotent."""
        if self.has_lengths:
            return self
        return replace(self, inputs=(*self.inputs, TensorSpec(LENGTHS, (BATCH,), "int64")))

    def to_dict(self) -> dict[str, Any]:
        return {
            "input_names": list(self.input_names),
            "output_names": list(self.output_names),
            "inputs": {t.name: {"shape": list(t.shape), "dtype": t.dtype} for t in self.inputs},
            "outputs": {t.name: {"shape": list(t.shape), "dtype": t.dtype} for t in self.outputs},
            "states": list(self.states),
            "sequence_outputs": list(self.sequence_outputs),
            "bidirectional": self.bidirectional,
            "dynamic_axes": [BATCH, SEQ],
            # For a consumer that carries states between calls (docs/deploy.md): which
            # output feeds which input on the next call, and where the time axis is.
            "state_map": dict(zip(self.state_outputs, self.state_inputs, strict=True)),
            "sequence_axis": 1,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


def recurrent_contract(
    config: Mapping[str, Any], states: tuple[str, ...], bidirectional: bool
) -> IOContract:
    """The canonical contract, read from the standard config keys."""
    directions = 2 if bidirectional else 1
    hidden = int(config["hidden_size"])
    state_shape: tuple[int | str, ...] = (int(config["num_layers"]) * directions, BATCH, hidden)
    inputs = (
        TensorSpec("x", (BATCH, SEQ, int(config["input_size"]))),
        *(TensorSpec(f"{s}0", state_shape) for s in states),
    )
    outputs = (
        TensorSpec("y", (BATCH, int(config["output_size"]))),
        TensorSpec("hidden", (BATCH, SEQ, directions * hidden)),
        *(TensorSpec(f"{s}_n", state_shape) for s in states),
    )
    return IOContract(inputs, outputs, states, ("hidden",), bidirectional)
