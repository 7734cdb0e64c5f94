"""How many onnxruntime threads batch work gets: the faster, now, of one thread and a thread
per core (`FasterOfTwo`), starting from a rule by file size (`batch_threads`).

zoo's sessions run on one intra-op thread (zoo.export._runtime): steady for the parity
proof's small batches and for batch-1 streaming, where a second thread only adds a
hand-off per step. Batch work is different: `zoo predict --runtime onnx` runs a data set
in passes of up to 2,048 sequences, and each step's matmul is then large enough to split.
Measured on a 2-core machine (`zoo bench`, sections `batch-sessions` and `inference`;
docs/benchmarks.md), onnxruntime's default (a thread per core) against one thread:

- the 2-layer hidden-256 LSTM (a 3 MB file): at batch 64, seq 500, the default ran 1.6-1.8x
  faster when the second core was free and 0.6-1.2x under load; at batch 2,048 it tied or
  won (1.28x under load);
- the default LSTM (hidden 20, a few KB): at batch 2,048, seq 50, one thread was 1.25x
  faster under a load average of 4, and the default 1.85x faster on a calm machine.

No count is the faster at every load, so batch work runs in calls of `CALL_ROWS` sequences
on two sessions of the same (proven) file, one thread and a thread per core, and each call
goes to the one that was faster per sequence on its latest calls (the least of its last
`KEPT`); the first calls try both, and every `RECHECK_EVERY`th call goes to the other, so a
change of load is noticed. The
rule by file size (a file of `LARGE_MODEL_BYTES` or more starts on a thread per core)
decides the first call and ties (`MARGIN`).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

#: Files at least this large start batch work on a thread per core.
LARGE_MODEL_BYTES = 1 << 20
#: Sequences per onnxruntime call in batch work: a step's matmuls stay large, and a pass of
#: 2,048 sequences gives four calls to compare the two sessions with.
CALL_ROWS = 512
#: Every this many calls, the session not chosen gets one (to notice a change of load).
RECHECK_EVERY = 16
#: The other session is chosen only when it was at least this much faster per sequence.
MARGIN = 1.05
#: Timed calls kept per session; its estimate is the least of them.
KEPT = 3

Runner = TypeVar("Runner")
Result = TypeVar("Result")


def batch_threads(path: Path) -> int:
    """0 (a thread per core) for a large model file, else 1."""
    try:
        size = path.stat().st_size
    except OSError:
        return 1  # onnxruntime will say what is wrong with the path
    return 0 if size >= LARGE_MODEL_BYTES else 1


class FasterOfTwo(Generic[Runner]):
    """Calls go to whichever of two runners (sessions of one file) was faster per row on
    its latest calls: `preferred` first and on ties, `other` tried on the second call and
    every `RECHECK_EVERY`th after. Each runner's first call is not timed (it allocates)."""

    def __init__(
        self, preferred: Runner, other: Runner, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self.runners = (preferred, other)
        self.clock = clock
        self.calls = [0, 0]
        #: Seconds per row of each runner's latest `KEPT` timed calls.
        self.timed: tuple[deque[float], deque[float]] = (deque(maxlen=KEPT), deque(maxlen=KEPT))

    @property
    def per_row(self) -> list[float | None]:
        """Each runner's estimate: the least of its kept times per row (a call slowed by a
        passing neighbour does not decide; a lasting change of load moves every kept
        time), or None before its first timed call."""
        return [min(times) if times else None for times in self.timed]

    def choice(self) -> int:
        """The index of the runner the next call goes to."""
        total = sum(self.calls)
        for i in (0, 1):  # each runs twice first: a warm-up, then a timed call
            if not self.timed[i] and self.calls[i] <= total // 2:
                return i
        one, other = self.per_row
        best = 1 if _faster(other, one) else 0
        return 1 - best if total % RECHECK_EVERY == RECHECK_EVERY - 1 else best

    def run(self, work: Callable[[Runner], Result], rows: int) -> Result:
        """`work(runner)` on the chosen runner, timed per row of the call."""
        i = self.choice()
        start = self.clock()
        result = work(self.runners[i])
        seconds = self.clock() - start
        if self.calls[i] > 0 and rows > 0:
            self.timed[i].append(seconds / rows)
        self.calls[i] += 1
        return result


def _faster(candidate: float | None, current: float | None) -> bool:
    return candidate is not None and (current is None or candidate * MARGIN < current)
