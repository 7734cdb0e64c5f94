"""How many intra-op threads `zoo train` gives torch: one unless `--threads` says otherwise.

A recurrent model trains step after step, and each step's ops are small; split over
threads, a step costs hand-offs, and on a busy machine every hand-off waits for a thread
the system has not scheduled. Measured with `zoo bench` (section `training`,
docs/benchmarks.md) on the shared 2-core machine, one hand-written epoch against torch's
default (a thread per core):

- the default LSTM (hidden 20): all threads ran 0.03-0.3x the speed of one thread, at
  every load seen (hidden 32-48 alike);
- the 2-layer hidden-256 LSTM: all threads ran 1.7x faster at a load average near 3.5,
  and 0.1x (ten times slower) at a load near 7.

No fixed count is the faster one everywhere. One thread loses at most the ~1.7x of a large
model on idle cores; all threads lose 3-30x whenever the cores are busy. One thread also
makes a seed give the same weights on machines with different core counts. So the default
is 1; `--threads N` sets N, and `--threads 0` gives torch's default (one per core, or
`OMP_NUM_THREADS`, which `zoo train --nproc` sets to each worker's share): the choice for a
large model on cores nothing else uses.

Only intra-op threads are set: torch's inter-op pool can be sized only once per process,
before any parallel work, and a training step is a chain of ops that never uses it. The
count is restored when the run ends (zoo's tests train many times in one process).

The count changes how torch sums in parallel, so "the same weights bit for bit" (a run and
its `--resume`, or two runs with one seed) holds only at the same thread count: the run
records it (`threads` in the checkpoint's `training` block, metrics.json and the train
state), and `--resume` at another count warns.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

#: Intra-op threads of a training run unless `--threads` says otherwise.
DEFAULT_THREADS = 1


def choose_threads(requested: int | None) -> int:
    """The intra-op thread count to train with: `requested` if given (0: torch's default),
    else `DEFAULT_THREADS`."""
    import torch

    if requested is not None and requested < 0:
        from zoo._errors import ZooError

        raise ZooError(f"--threads {requested}: pass N >= 1, or 0 for one per core.")
    if requested == 0:
        return torch.get_num_threads()
    return DEFAULT_THREADS if requested is None else requested


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
