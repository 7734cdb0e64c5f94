"""Side-by-side timing on a busy machine: interleave what is compared, report medians.

Other work on the machine slows whatever runs while it runs. Running the things compared in
turn (A B C A B C ...) spreads that load over all of them alike, and the median of each
ignores the worst rounds, so the ratios between medians are what the benchmark reports.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from zoo._errors import ZooError


class BenchError(ZooError):
    """A benchmarked command failed (its output is in the message)."""


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def paired_ratio(numerator: Sequence[float], denominator: Sequence[float]) -> float:
    """The median over rounds of `numerator[i] / denominator[i]`.

    The two measurements of a round ran seconds apart, under the same load; their ratio
    cancels most of what the load does to both, which a ratio of two overall medians (taken
    from different rounds) does not.
    """
    return median([a / b for a, b in zip(numerator, denominator, strict=True)])


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for timed child processes.

    Without PYTHONDONTWRITEBYTECODE, so that the warm-up run writes bytecode caches as an
    ordinary install has them: a process compiling zoo's sources on every start is not what
    users run. ZOO_* settings of the caller are dropped so that every run sees the defaults.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith("ZOO_")
    }
    env.update(extra or {})
    return env


def run_checked(command: Sequence[str], env: Mapping[str, str], cwd: Path) -> None:
    """Run a command once; a failure is a BenchError quoting the end of its output."""
    done = subprocess.run(
        list(command), env=dict(env), cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-8:]
        raise BenchError(
            f"benchmark command failed (exit {done.returncode}): {' '.join(command)}\n  "
            + "\n  ".join(tail)
        )


def time_commands(
    commands: Mapping[str, tuple[Sequence[str], Mapping[str, str]]],
    repeats: int,
    cwd: Path,
    warmup: int = 1,
) -> dict[str, list[float]]:
    """Wall seconds of each `name: (argv, env)` command: `repeats` rounds, each running every
    command once, in a shuffled order."""
    for _ in range(warmup):
        for command, env in commands.values():
            run_checked(command, env, cwd)
    times: dict[str, list[float]] = {name: [] for name in commands}
    order = list(commands)
    shuffle = random.Random(len(order) * 1000 + repeats).shuffle
    for _ in range(repeats):
        shuffle(order)  # see time_calls
        for name in order:
            command, env = commands[name]
            start = time.perf_counter()
            run_checked(command, env, cwd)
            times[name].append(time.perf_counter() - start)
    return times


def calibrate(call: Callable[[], object], chunk_seconds: float) -> int:
    """How many calls make a chunk of about `chunk_seconds` (at least 1)."""
    start = time.perf_counter()
    call()  # warm-up: first-call allocations, lazy initialization
    if time.perf_counter() - start >= chunk_seconds:
        return 1  # a slow call: one per chunk; no need to time a second one
    start = time.perf_counter()
    call()
    once = max(time.perf_counter() - start, 1e-7)
    return max(1, min(10_000, round(chunk_seconds / once)))


#: Untimed pause between chunks: lets the threads of what ran before go idle (onnxruntime's
#: and OpenMP's workers spin for a while after a call returns) so they do not slow the next.
SETTLE_SECONDS = 0.01


def time_calls(
    calls: Mapping[str, Callable[[], object]],
    rounds: int,
    chunk_seconds: float,
    before: Mapping[str, Callable[[], object]] | None = None,
) -> dict[str, list[float]]:
    """Seconds per call of each callable: `rounds` interleaved chunks of repeated calls.

    Each chunk runs one callable `n` times back to back (n calibrated so a chunk lasts about
    `chunk_seconds`) and records the mean. The callables take turns chunk by chunk in an
    order shuffled every round (seeded, so runs are repeatable): a fixed order would have
    each one always run right after the same other one, whose spinning threads or cache
    footprint would then count against it. `before[name]()` runs untimed before each of
    that callable's chunks (e.g. setting torch's thread count).
    """
    prepare = before or {}
    counts = {}
    for name, call in calls.items():
        prepare.get(name, _nothing)()
        counts[name] = calibrate(call, chunk_seconds)
    order = list(calls)
    shuffle = random.Random(len(order) * 1000 + rounds).shuffle
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        shuffle(order)
        for name in order:
            call, n = calls[name], counts[name]
            prepare.get(name, _nothing)()
            time.sleep(SETTLE_SECONDS)
            start = time.perf_counter()
            for _ in range(n):
                call()
            times[name].append((time.perf_counter() - start) / n)
    return times


def _nothing() -> None:
    return None
