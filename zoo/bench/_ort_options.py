"""Section `ort-options`: onnxruntime session options side by side, on zoo's own files.

The evidence behind `zoo.export.ort_session`'s defaults. Each configuration opens its own session on
the same file; they run in interleaved chunks on three typical calls: one streaming step of
the default LSTM, and the 2-layer hidden-256 LSTM at batch 1 over a long sequence and at
batch 64. Ratios are against onnxruntime's own defaults (intra-op threads = physical cores,
spinning on, parallel-capable executor, all graph optimizations).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from zoo.bench._report import SectionResult, fmt_ratio, fmt_seconds
from zoo.bench._timing import median, paired_ratio, time_calls

if TYPE_CHECKING:
    from zoo.bench._config import BenchConfig

ORT_DEFAULTS = "ort defaults"

#: (architecture, size, batch, seq) per mode; seq 0 means one streaming step.
CELLS = {
    "tiny": (("lstm", "default", 1, 0),),
    "quick": (("lstm", "default", 1, 0), ("lstm", "2x256", 1, 500), ("lstm", "2x256", 64, 100)),
    "full": (("lstm", "default", 1, 0), ("lstm", "2x256", 1, 1000), ("lstm", "2x256", 64, 500)),
}
#: (seconds per configuration and cell, fewest rounds, most rounds) per mode.
BUDGET = {"tiny": (0.05, 3, 3), "quick": (1.5, 5, 21), "full": (3.0, 7, 41)}


ZOO = "zoo defaults: 1 thread"


def configurations() -> dict[str, Callable[[], Any]]:
    """Name -> a factory of `SessionOptions` (None: onnxruntime's defaults).

    Each variant changes one thing from zoo's defaults (`zoo.export._runtime.session_options`).
    """
    import onnxruntime as ort

    from zoo.export._runtime import session_options

    def with_level(level: Any) -> Callable[[], Any]:
        def make() -> Any:
            options = session_options()
            options.graph_optimization_level = level
            return options

        return make

    def parallel() -> Any:
        options = session_options()
        options.execution_mode = ort.ExecutionMode.ORT_PARALLEL
        options.inter_op_num_threads = 2
        return options

    return {
        ORT_DEFAULTS: lambda: None,
        ZOO: session_options,
        "zoo, but a thread per core": lambda: session_options(0, spinning=False),
        "zoo, but a thread per core, spinning": lambda: session_options(0, spinning=True),
        "zoo, but parallel executor (2 inter-op)": parallel,
        "zoo, but basic graph optimizations": with_level(
            ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        ),
    }


def _call(session: Any, contract: Any, feeds: dict[str, Any], stream: bool) -> Callable[[], Any]:
    """One timed call: a streaming step (states fed back) or a run on `feeds`."""
    from zoo.bench._runtimes import streaming_step

    def run(prepared: Any) -> list[Any]:
        return list(session.run(None, prepared))

    if stream:
        return streaming_step((dict, run), contract, feeds)
    return lambda: run(feeds)


def run(config: BenchConfig) -> SectionResult:
    import onnxruntime as ort

    from zoo.export._runtime import ort_session
    from zoo.parity._inputs import make_inputs

    factories = configurations()
    rows: list[tuple[Any, ...]] = []
    records: list[dict[str, Any]] = []
    for arch, size, batch, seq in CELLS[config.mode]:
        path = config.artifacts.path(arch, size, "onnx")
        contract = config.artifacts.source(arch, size).contract
        feeds = make_inputs(contract, batch, max(seq, 1), states=True, seed=11)
        calls: dict[str, Callable[[], object]] = {}
        for name, factory in factories.items():
            options = factory()
            session = (
                ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
                if options is None
                else ort_session(path, options=options)
            )
            calls[name] = _call(session, contract, feeds, stream=seq == 0)
        seconds, fewest, most = BUDGET[config.mode]
        once = time_calls({ORT_DEFAULTS: calls[ORT_DEFAULTS]}, 1, 0.0)[ORT_DEFAULTS][0]
        rounds = max(fewest, min(most, round(seconds / max(once, 0.02))))
        times = time_calls(calls, rounds, 0.02)
        case = f"{arch} {size} b{batch} " + ("stream step" if seq == 0 else f"s{seq}")
        for name, samples in times.items():
            ratio = paired_ratio(times[ORT_DEFAULTS], samples)
            rows.append((case, name, fmt_seconds(median(samples)), fmt_ratio(ratio)))
            records.append(
                {
                    "case": case,
                    "options": name,
                    "median": median(samples),
                    "unit": "s",
                    "runs": len(samples),
                    "baseline": ORT_DEFAULTS,
                    "ratio": ratio,
                }
            )
    return SectionResult(
        "ort-options",
        "onnxruntime session options (speed-up over onnxruntime's defaults)",
        ("CASE", "OPTIONS", "MEDIAN", "SPEED-UP"),
        rows,
        records,
        notes=[f"zoo.export._runtime.ort_session uses '{ZOO}'"],
    )
