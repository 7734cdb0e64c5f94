"""`zoo train --nproc N`: start N training processes on this machine through torchrun.

The launcher is PyTorch's own, `torch.distributed.run` (what the `torchrun` command runs),
in standalone mode: a rendezvous on a free localhost port, then N workers, each running
`python -m zoo` with the same arguments minus `--nproc`. Every worker finds itself under
torchrun (zoo.train._distributed.World.from_env) and trains its share; this process only waits,
and turns a failed worker into one clear error.

Each worker gets `OMP_NUM_THREADS` = the CPUs this process may use divided by N (at least
1) unless the variable is set: N processes with all the threads each would fight over the
cores (torchrun's own default is 1 thread). Each worker then trains on `--threads` torch
threads (zoo.train._threads: 1 by default; `--threads 0` takes this share).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from zoo._errors import ZooError

NPROC = "--nproc"
THREADS_VARIABLE = "OMP_NUM_THREADS"
#: Set for the workers of `zoo train --nproc`: the launcher, not they, reports a Ctrl-C.
LAUNCHED_VARIABLE = "ZOO_TRAIN_LAUNCHED"


def without_nproc(argv: Sequence[str]) -> list[str]:
    """The command line with `--nproc N` / `--nproc=N` removed."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == NPROC:
            skip = True
        elif not arg.startswith(f"{NPROC}="):
            kept.append(arg)
    return kept


def threads_per_process(nproc: int) -> int:
    """The CPUs this process may run on, shared among `nproc` workers (at least 1 each)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, cpus // nproc)


def torchrun_args(argv: Sequence[str], nproc: int) -> list[str]:
    """torchrun's command line: standalone rendezvous, N workers of `python -m zoo ARGV`."""
    return ["--standalone", "--nproc-per-node", str(nproc), "--module", "zoo", *argv]


def check_devices(device: str, nproc: int) -> None:
    """With `--device cuda`, each process needs a GPU of its own."""
    if device != "cuda":
        return
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count < nproc:
        fix = f"Pass --nproc {count} or less, or --device cpu." if count else "Use --device cpu."
        raise ZooError(
            f"--device cuda --nproc {nproc}: one GPU per process, and torch "
            f"{torch.__version__} sees {count} on this machine. {fix}"
        )


@contextlib.contextmanager
def _worker_environment(nproc: int) -> Iterator[None]:
    """Threads per worker, the mark that they run under this launcher (LAUNCHED_VARIABLE),
    and torch's elastic agent quiet (zoo reports failures itself)."""
    added = THREADS_VARIABLE not in os.environ
    if added:
        os.environ[THREADS_VARIABLE] = str(threads_per_process(nproc))
    os.environ[LAUNCHED_VARIABLE] = "1"
    agent_log = logging.getLogger("torch.distributed.elastic")
    level = agent_log.level
    agent_log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        agent_log.setLevel(level)
        os.environ.pop(LAUNCHED_VARIABLE, None)
        if added:
            os.environ.pop(THREADS_VARIABLE, None)


def launch_training(
    argv: Sequence[str], nproc: int, batch_size: int, device: str, out: Path, resume: bool
) -> None:
    """`zoo train ARGV --nproc N`: fail at once on what would fail in every worker (the
    global batch, the GPUs, an existing run in `out` or one training there now), then
    `launch`."""
    from zoo.train._distributed import local_batch
    from zoo.train._run import check_out, run_lock

    local_batch(batch_size, nproc)
    check_devices(device, nproc)
    with run_lock(out):  # free now (rank 0 takes it for the run), or fail before starting
        check_out(out, resume)
    launch(argv, nproc)


def launch(argv: Sequence[str], nproc: int) -> None:
    """Run `zoo ARGV` (without --nproc) in `nproc` processes; return when all succeeded.

    Raises ZooError naming the workers that failed: their exit status (their own errors are
    already on stderr) or the signal that killed them.
    """
    from torch.distributed.elastic.multiprocessing import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    sys.stderr.flush()
    with _worker_environment(nproc):
        try:
            args = torchrun_args(without_nproc(argv), nproc)
            run(parse_args(args))  # type: ignore[no-untyped-call]
        except SignalException as exc:
            if exc.sigval != signal.SIGINT:
                raise
            # torch's agent turns Ctrl-C into SignalException; `zoo train` says where the run
            # stopped (this process: the workers are told they run under it, and keep quiet).
            raise KeyboardInterrupt from None
        except ChildFailedError as exc:
            raise ZooError(
                f"zoo train {NPROC} {nproc} failed: {_failures(exc.failures)}. The errors "
                "the processes reported are above."
            ) from None


def _failures(failures: Mapping[int, Any]) -> str:
    """'rank 0 exited with status 1, rank 1 was killed by SIGKILL'"""
    parts = []
    for rank, failure in sorted(failures.items()):
        if failure.exitcode < 0:
            parts.append(f"rank {rank} was killed by {failure.signal_name()}")
        else:
            parts.append(f"rank {rank} exited with status {failure.exitcode}")
    return ", ".join(parts)
