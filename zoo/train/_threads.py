"""How many intra-op threads `zoo train` gives torch: chosen from the model's size.

A recurrent model trains step after step; each step's matmuls are `batch x params` in size.
Split over threads, a small step costs more in hand-offs than it saves: measured with
`zoo bench` (section `training`, docs/benchmarks.md) on the shared 2-core machine, the
default LSTM (hidden 20, ~3k parameters, batch 64) trained 7-30x slower on torch's default
two threads than on one, while the 2-layer hidden-256 LSTM (~800k parameters) trained
1.7x faster on two. Hidden 64 (~20k parameters) gained 1.05-1.3x, hidden 32-48 lost
12-30x. So the default (`--threads` left out) is one thread unless a step is large:
`batch_size x parameters >= LARGE_STEP`, then every thread torch would use (its default:
one per core, or `OMP_NUM_THREADS`, which `zoo train --nproc` sets to each worker's share).

`--threads N` sets N; `--threads 0` is torch's default. Only intra-op threads are set:
torch's inter-op pool can be sized only once per process, before any parallel work, and a
training step is a chain of ops that never uses it. The count is restored when the run
ends (zoo's tests train many times in one process).

The count changes how torch sums in parallel, so "the same weights bit for bit" (a run
and its `--resume`, or two runs with one seed) holds only at the same thread count: the
run records it (`threads` in the checkpoint's `training` block, metrics.json and the train
state), and `--resume` at another count warns.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

#: `batch_size x trainable parameters` from which a step is split over all threads: between
#: the hidden-48 LSTM (~12k parameters x 64, lost on 2 threads) and hidden 128 (~70k x 64,
#: gained); hidden 64 (~20k x 64) is left on one thread, where it lost at most 1.3x.
LARGE_STEP = 2**22


def parameter_count(module: Any) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def choose_threads(requested: int | None, parameters: int, batch_size: int) -> int:
    """The intra-op thread count to train with: `requested` if given (0: torch's default),
    else by the rule in the module docstring."""
    import torch

    if requested is not None and requested < 0:
        from zoo._errors import ZooError

        raise ZooError(f"--threads {requested}: pass N >= 1, or 0 for one per core.")
    everything = torch.get_num_threads()
    if requested == 0:
        return everything
    if requested is not None:
        return requested
    return everything if batch_size * parameters >= LARGE_STEP else 1


@contextlib.contextmanager
def training_threads(threads: int) -> Iterator[None]:
    """torch's intra-op threads set to `threads` for the block, restored after it."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
