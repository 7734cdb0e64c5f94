"""Deterministic example inputs for a contract: what forward checks, parity and benchmarks feed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from zoo._contract import BATCH, LENGTHS, SEQ, IOContract

if TYPE_CHECKING:
    import numpy as np

#: The shape exporters trace at (`ExportJob.example`); no parity case uses it.
TRACE_BATCH, TRACE_SEQ = 2, 7


def mixed_lengths(batch: int, seq: int, rng: np.random.Generator) -> np.ndarray:
    """Valid lengths in [1, seq] for a padded batch, int64, shape `(batch,)`.

    With two or more sequences the batch holds both extremes, length 1 first and the full
    `seq` last (so sorting by length reorders the batch), and random lengths between. A
    single sequence is shorter than `seq` where it can be, so its padding is exercised.
    """
    import numpy as np

    lengths = rng.integers(1, seq + 1, size=batch).astype(np.int64)
    if batch >= 2:
        lengths[0], lengths[-1] = 1, seq
    else:
        lengths[0] = max(1, (seq + 1) // 2)
    return lengths


def make_inputs(
    contract: IOContract, batch: int, seq: int, *, states: bool, seed: int = 0
) -> dict[str, np.ndarray]:
    """Named arrays: `x` always, the initial states only when `states` is true, and
    `lengths` (from `mixed_lengths`) when the contract has it.

    Values are standard normal for `x` and scaled by 0.5 for states, so that tanh/sigmoid
    gates stay out of saturation and a parity check compares informative numbers.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    arrays: dict[str, np.ndarray] = {}
    for spec in contract.inputs:
        if spec.name in contract.state_inputs and not states:
            continue
        if spec.name == LENGTHS:
            arrays[spec.name] = mixed_lengths(batch, seq, rng)
            continue
        shape = spec.concrete(**{BATCH: batch, SEQ: seq})
        scale = 0.5 if spec.name in contract.state_inputs else 1.0
        arrays[spec.name] = (rng.standard_normal(shape) * scale).astype(np.float32)
    return arrays


def forward_args(contract: IOContract, arrays: Mapping[str, Any]) -> list[Any]:
    """Positional arguments for a model's forward: tensors in the contract's input order.

    An input missing from `arrays` is passed as None (the forward's default) when a later
    one is given, and left out when none is: `(x, None, None, lengths)` without states,
    exactly `(x,)` with neither states nor lengths.
    """
    import torch

    args: list[Any] = [
        torch.from_numpy(arrays[n]) if n in arrays else None for n in contract.input_names
    ]
    while args and args[-1] is None:
        args.pop()
    return args
