"""Section `batch-sessions`: zoo's onnxruntime sessions for batch work against onnxruntime's
defaults and one thread.

`zoo predict --runtime onnx` runs a data set in passes of up to 2,048 sequences, each in
calls of `CALL_ROWS` on the faster, now, of a one-thread and a thread-per-core session of
the file (zoo.export._batch.FasterOfTwo). Here that runner, a session with onnxruntime's
default options and zoo's one-thread session run the same batches interleaved, on the
default LSTM and the 2-layer hidden-256 one, at predict's batch (2,048 sequences of 50
steps, the built-in tasks' length) and at batch 64. The goal: in every cell, the runner at
least 0.9x the faster of the two fixed choices in each round.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from zoo.bench._report import Goal, SectionResult, fmt_ratio, fmt_seconds
from zoo.bench._timing import median, paired_ratio, time_calls

if TYPE_CHECKING:
    from zoo.bench._config import BenchConfig

ORT_DEFAULTS, ONE = "ort defaults", "1 thread (zoo's session)"
BATCH = "zoo predict's runner (faster of 1 thread / a thread per core)"
GOAL = 0.9
#: Calls the runner makes before it is timed: its trial of both sessions (a warm-up and a
#: timed call each), which a data set of more than four calls amortizes.
TRIAL_CALLS = 4

#: (size, batch, seq) per mode.
CELLS = {
    "tiny": (("default", 64, 8),),
    "quick": (("default", 2048, 50), ("2x256", 2048, 50), ("2x256", 64, 100)),
    "full": (("default", 2048, 50), ("default", 64, 100), ("2x256", 2048, 50), ("2x256", 64, 100)),
}
ROUNDS = {"tiny": 3, "quick": 5, "full": 9}


def _caller(session: Any, feeds: dict[str, Any]) -> Callable[[], object]:
    return lambda: session.run(None, feeds)


def _run_session(feeds: dict[str, Any], session: Any) -> object:
    return session.run(None, feeds)


def _predict_runner(path: Any, contract: Any, feeds: dict[str, Any]) -> Callable[[], object]:
    """What `zoo predict --runtime onnx` does with a pass: calls of `CALL_ROWS` sequences on
    the faster of a one-thread and a thread-per-core session (zoo.export._batch), which
    learns across calls as predict's does across passes."""
    from zoo.export._batch import CALL_ROWS, FasterOfTwo, batch_threads
    from zoo.export._runtime import ort_session

    one, many = ort_session(path), ort_session(path, threads=0)
    pick = FasterOfTwo(many, one) if batch_threads(path) == 0 else FasterOfTwo(one, many)
    axes = {s.name: s.shape.index("batch") for s in contract.inputs}
    rows = feeds["x"].shape[0]
    calls = [
        {
            name: value.take(range(i, min(i + CALL_ROWS, rows)), axis=axes[name])
            for name, value in feeds.items()
        }
        for i in range(0, rows, CALL_ROWS)
    ]

    def run() -> None:
        for call in calls:
            pick.run(functools.partial(_run_session, call), call["x"].shape[0])

    while sum(pick.calls) < TRIAL_CALLS:  # its trial of both sessions, before the timing
        run()
    return run


def run(config: BenchConfig) -> SectionResult:
    import onnxruntime as ort

    from zoo.export._runtime import ort_session
    from zoo.parity._inputs import make_inputs

    rows: list[tuple[Any, ...]] = []
    records: list[dict[str, Any]] = []
    worst: tuple[float, str] | None = None
    for size, batch, seq in CELLS[config.mode]:
        path = config.artifacts.path("lstm", size, "onnx")
        contract = config.artifacts.source("lstm", size).contract
        feeds = make_inputs(contract, batch, seq, states=True, seed=11)
        calls = {
            ORT_DEFAULTS: _caller(
                ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]), feeds
            ),
            ONE: _caller(ort_session(path), feeds),
            BATCH: _predict_runner(path, contract, feeds),
        }
        times = time_calls(calls, ROUNDS[config.mode], 0.02)
        case = f"lstm {size} b{batch} s{seq}"
        # per round: the better of the two fixed choices over zoo's runner
        better = [min(a, b) for a, b in zip(times[ORT_DEFAULTS], times[ONE], strict=True)]
        ratio = paired_ratio(better, times[BATCH])
        if worst is None or ratio < worst[0]:
            worst = (ratio, case)
        for name, samples in times.items():
            speed = fmt_ratio(ratio) if name == BATCH else "-"
            rows.append((case, name, fmt_seconds(median(samples)), speed))
            records.append(
                {
                    "case": f"{case}: {name}",
                    "median": median(samples),
                    "unit": "s",
                    "runs": len(samples),
                    "range": [min(samples), max(samples)],
                    "baseline": "faster of ort defaults and 1 thread" if name == BATCH else None,
                    "ratio": ratio if name == BATCH else None,
                }
            )
    assert worst is not None
    return SectionResult(
        "batch-sessions",
        "zoo predict's batch runner vs onnxruntime's defaults and one thread",
        ("CASE", "SESSION", "MEDIAN", "VS BETTER"),
        rows,
        records,
        [
            Goal(
                "batch-sessions",
                "zoo's batch runner vs the better of ort defaults / 1 thread (worst cell)",
                GOAL,
                False,
                worst[0],
                worst[1],
            )
        ],
        [
            "VS BETTER: median over rounds of (the faster of ort defaults and 1 thread in that "
            "round / zoo's runner): the runner splits the batch into calls of CALL_ROWS "
            "sequences on the faster of a one-thread and a thread-per-core session, as zoo "
            "predict --runtime onnx does (zoo.export._batch), timed after its first "
            f"{TRIAL_CALLS} calls (its trial of both); every 16th call rechecks the other",
        ],
    )
