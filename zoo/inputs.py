"""Deterministic example inputs for a contract: what forward checks, parity and benchmarks feed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zoo.spec import BATCH, SEQ, IOContract

if TYPE_CHECKING:
    import numpy as np

#: The shape exporters trace at (`ExportJob.example`); no parity case uses it.
TRACE_BATCH, TRACE_SEQ = 2, 7


def make_inputs(
    contract: IOContract, batch: int, seq: int, *, states: bool, seed: int = 0
) -> dict[str, np.ndarray]:
    """Named float32 arrays: `x` always, the initial states only when `states` is true.

    Values are standard normal for `x` and scaled by 0.5 for states, so that tanh/sigmoid
    gates stay out of saturation and a parity check compares informative numbers.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    arrays: dict[str, np.ndarray] = {}
    for spec in contract.inputs:
        if spec.name in contract.state_inputs and not states:
            continue
        shape = spec.concrete(**{BATCH: batch, SEQ: seq})
        scale = 0.5 if spec.name in contract.state_inputs else 1.0
        arrays[spec.name] = (rng.standard_normal(shape) * scale).astype(np.float32)
    return arrays
