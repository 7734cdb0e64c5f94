"""How many intra-op threads `zoo train` gives torch: `--threads N` if given; else one
thread for a small model, and for a large one whichever of one thread and all threads a
short probe finds faster on this machine now.

A recurrent model trains step after step, and each step's ops are small; split over
threads, a step costs hand-offs, and on a busy machine every hand-off waits for a thread
the system has not scheduled. Measured with `zoo bench` (section `training`,
docs/benchmarks.md) on a 2-core machine, one hand-written epoch against torch's default (a
thread per core):

- the default LSTM (hidden 20): all threads ran 0.03-0.3x the speed of one thread under
  load, and 1.01x on a calm machine (hidden 32-48 alike);
- the 2-layer hidden-256 LSTM: all threads ran 1.7x faster with the second core free (load
  0.5-3.5), and 0.1-0.25x (four to ten times slower) at a load near 7.

No fixed count is the faster one everywhere, and for a large model the difference goes
both ways by 1.7x or more. So a model whose step is large enough to split (`PROBE_FROM`
multiply-adds per time step: parameters x batch) is probed before training: a few
forward and backward passes of one batch on a copy of the model, alternating one thread
and all threads, and the run trains with the faster (all threads only if at least
`PROBE_MARGIN` faster). The probe takes under a second for the 2x256 LSTM and touches
neither the run's model nor its random numbers. Smaller models train on one thread, which
is as fast or faster at every load seen. `--threads 0` gives torch's default (one per
core, or `OMP_NUM_THREADS`, which `zoo train --nproc` sets to each worker's share).

Only intra-op threads are set: torch's inter-op pool can be sized only once per process,
before any parallel work, and a training step is a chain of ops that never uses it. The
count is restored when the run ends (zoo's tests train many times in one process).

The count changes how torch sums in parallel, so "the same weights bit for bit" (a run and
its `--resume`, or two runs with one seed) holds only at the same thread count: the run
records it (`threads` in the checkpoint's `training` block, metrics.json and the train
state); `--resume` without `--threads` trains on the recorded count, and `--resume` at
another count warns. A probed choice depends on the machine's load: pass `--threads N` (or
a recipe's count) for runs that must match bit for bit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from zoo._spec import Architecture, Config
    from zoo.data._spec import Dataset

#: Intra-op threads of a training run of a small model unless `--threads` says otherwise.
DEFAULT_THREADS = 1
#: Models with at least this many multiply-adds per time step (parameters x batch) are
#: probed: about the 1-layer hidden-64 LSTM at batch 64, the smallest size where all
#: threads were ever measured faster (1.05-1.27x).
PROBE_FROM = 1_000_000
#: All threads must be at least this much faster in the probe (median time per pass) to
#: be chosen: one thread is the steadier choice when the two are close.
PROBE_MARGIN = 1.1
#: Timed passes per thread count in the probe (after one untimed pass each).
PROBE_ROUNDS = 3


def choose_threads(requested: int | None) -> int:
    """The intra-op thread count to train with: `requested` if given (0: torch's default),
    else `DEFAULT_THREADS` (`probe_threads` decides for a large model)."""
    import torch

    if requested is not None and requested < 0:
        from zoo._errors import ZooError

        raise ZooError(f"--threads {requested}: pass N >= 1, or 0 for one per core.")
    if requested == 0:
        return torch.get_num_threads()
    return DEFAULT_THREADS if requested is None else requested


@dataclass(frozen=True)
class ThreadProbe:
    """What the probe measured: seconds per training pass of one batch at one thread and at
    `all_threads`, and the count chosen."""

    all_threads: int
    one_thread_s: float
    all_threads_s: float
    chosen: int

    def describe(self) -> str:
        return (
            f"torch threads: {self.chosen} (a pass of one batch took "
            f"{self.one_thread_s * 1e3:.1f} ms on 1 thread, {self.all_threads_s * 1e3:.1f} ms "
            f"on {self.all_threads}; --threads N to choose)"
        )


def probe_threads(
    step: Callable[[], None], timer: Callable[[], float] | None = None
) -> ThreadProbe:
    """Time `step` (one forward and backward pass of a batch, on a copy of the model) on one
    thread and on all threads, alternating, and choose the faster (`PROBE_MARGIN`)."""
    import statistics
    import time

    import torch

    clock = timer or time.perf_counter
    everything = torch.get_num_threads()
    seconds: dict[int, list[float]] = {1: [], everything: []}
    for count in (1, everything):  # untimed: first-call allocations and caches
        with training_threads(count):
            step()
    for _ in range(PROBE_ROUNDS):
        for count in (1, everything):
            with training_threads(count):
                start = clock()
                step()
                seconds[count].append(clock() - start)
    one, many = statistics.median(seconds[1]), statistics.median(seconds[everything])
    chosen = everything if many * PROBE_MARGIN <= one else 1
    return ThreadProbe(everything, one, many, chosen)


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


def auto_threads(
    arch: Architecture, config: Config, dataset: Dataset, batch_size: int
) -> ThreadProbe | None:
    """For a model large enough (`PROBE_FROM`) on more than one core, the probe's choice;
    else None (train on `DEFAULT_THREADS`). The probe trains a seeded copy of the model on
    the first batch, inside `fork_rng`: the run's own model and random numbers are not
    touched, so a probed run equals a `--threads N` run at the count chosen."""
    import torch

    from zoo.inference._metrics import loss_function

    if torch.get_num_threads() < 2:
        return None
    batch = min(batch_size, len(dataset.train))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        params = arch.count_params(config)
        model = arch.build(**config) if params is None or params * batch >= PROBE_FROM else None
        if model is None:
            return None
        params = sum(p.numel() for p in model.parameters())
        if params * batch < PROBE_FROM:
            return None
        model.train()
        x = torch.from_numpy(dataset.train.x[:batch])  # (batch, seq, features)
        y = torch.from_numpy(dataset.train.y[:batch])  # (batch, 1) or (batch,)
        lengths = dataset.train.lengths
        extra = {} if lengths is None else {"lengths": torch.from_numpy(lengths[:batch])}
        loss_fn = loss_function(dataset.spec.task)

        def step() -> None:
            model.zero_grad(set_to_none=True)
            loss_fn(model(x, **extra)[0], y).backward()

        return probe_threads(step)


def run_threads(
    requested: int | None,
    model: tuple[Architecture, Config, Dataset, int],
    *,
    probe: bool,
    recorded: int | None,
    note: Callable[[str], None],
) -> int:
    """The count a run trains on: `requested` (`--threads`; 0: torch's default); else the
    count the run being resumed `recorded`; else, where `probe` (one process on the CPU),
    the probe's choice for a large `model` (architecture, config, data, batch size), said
    through `note`; else `DEFAULT_THREADS`."""
    if requested is not None:
        return choose_threads(requested)
    if recorded is not None:
        return recorded
    found = auto_threads(*model) if probe else None
    if found is None:
        return DEFAULT_THREADS
    note(found.describe())
    return found.chosen


def recorded_threads(out: Path) -> int | None:
    """The thread count the run in `out` trained on, if it has a train state saying so."""
    from zoo._errors import ZooError
    from zoo.checkpoint._format import read_json
    from zoo.checkpoint._train_state import STATE_DIR, STATE_FILE, has_train_state, state_dir

    if not has_train_state(out):
        return None
    try:
        meta = read_json(state_dir(out) / STATE_FILE, f"{STATE_DIR}/{STATE_FILE}")
        value = meta["fingerprint"]["settings"]["threads"]
    except (ZooError, KeyError, TypeError):
        return None  # loading the state says what is wrong with it
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
