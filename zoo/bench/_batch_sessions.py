"""Section `batch-sessions`: zoo's onnxruntime sessions for batch work against onnxruntime's
defaults and one thread.

`zoo predict --runtime onnx` runs a data set in passes of up to 2,048 sequences, in a
session opened inside `zoo.export._runtime.batch_sessions` (a thread per core for a model
file of 1 MiB or more, else one thread; zoo.export._batch). Here that session, a session
with onnxruntime's default options and zoo's one-thread session run the same calls
interleaved, on the default LSTM and the 2-layer hidden-256 one, at predict's batch (2,048
sequences of 50 steps, the built-in tasks' length) and at batch 64. The goal: in every cell,
the batch session at least 0.9x the other choice (it has the options of one of the two;
against its twin it is an A/A control).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from zoo.bench._report import Goal, SectionResult, fmt_ratio, fmt_seconds
from zoo.bench._timing import median, paired_ratio, time_calls

if TYPE_CHECKING:
    from zoo.bench._config import BenchConfig

ORT_DEFAULTS, ONE, BATCH = "ort defaults", "1 thread (zoo's session)", "zoo batch session"
GOAL = 0.9

#: (size, batch, seq) per mode.
CELLS = {
    "tiny": (("default", 64, 8),),
    "quick": (("default", 2048, 50), ("2x256", 2048, 50), ("2x256", 64, 100)),
    "full": (("default", 2048, 50), ("default", 64, 100), ("2x256", 2048, 50), ("2x256", 64, 100)),
}
ROUNDS = {"tiny": 3, "quick": 5, "full": 9}


def _caller(session: Any, feeds: dict[str, Any]) -> Callable[[], object]:
    return lambda: session.run(None, feeds)


def run(config: BenchConfig) -> SectionResult:
    import onnxruntime as ort

    from zoo.export._runtime import batch_sessions, ort_session
    from zoo.parity._inputs import make_inputs

    rows: list[tuple[Any, ...]] = []
    records: list[dict[str, Any]] = []
    worst: tuple[float, str] | None = None
    for size, batch, seq in CELLS[config.mode]:
        path = config.artifacts.path("lstm", size, "onnx")
        contract = config.artifacts.source("lstm", size).contract
        feeds = make_inputs(contract, batch, seq, states=True, seed=11)
        with batch_sessions():
            batch_session = ort_session(path)
        threads = batch_session.get_session_options().intra_op_num_threads
        sessions = {
            ORT_DEFAULTS: ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]),
            ONE: ort_session(path),
            BATCH: batch_session,
        }
        calls = {name: _caller(session, feeds) for name, session in sessions.items()}
        times = time_calls(calls, ROUNDS[config.mode], 0.02)
        case = f"lstm {size} b{batch} s{seq}"
        # the batch session has the options of one of the two (its twin, an A/A control);
        # it is judged against the other: the faster of two runs of one setting is luck
        twin, other = (ONE, ORT_DEFAULTS) if threads == 1 else (ORT_DEFAULTS, ONE)
        ratio = paired_ratio(times[other], times[BATCH])
        control = paired_ratio(times[twin], times[BATCH])
        records.append({"case": f"{case}: batch session vs its twin (A/A)", "ratio": control})
        if worst is None or ratio < worst[0]:
            worst = (ratio, f"{case}; A/A {control:.2f}x")
        for name, samples in times.items():
            shown = name if name != BATCH else f"{BATCH} ({threads or 'a thread per core'})"
            speed = fmt_ratio(ratio) if name == BATCH else "-"
            rows.append((case, shown, fmt_seconds(median(samples)), speed))
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
        "zoo's batch sessions vs onnxruntime's defaults and one thread",
        ("CASE", "SESSION", "MEDIAN", "VS BETTER"),
        rows,
        records,
        [
            Goal(
                "batch-sessions",
                "zoo batch session vs the other of ort defaults / 1 thread (worst cell)",
                GOAL,
                False,
                worst[0],
                worst[1],
            )
        ],
        [
            "VS BETTER: median over rounds of (the other choice's time / the batch session's): "
            "the batch session has the options of one of the two (1 thread for a small file, "
            "a thread per core, spinning, for a large one) and is judged against the other; "
            "the A/A ratio against its twin (in DECIDED BY) shows the spread",
        ],
    )
