"""The ONNX runtimes a bundle can be replayed on (`zoo verify --runtime R`), each optional.

- `onnxruntime`: zoo's sessions (`zoo.export.ort_session`), on the CPU provider or the one
  `--ort-provider` chose; `--runtime all` adds `onnxruntime-cuda` where that provider exists.
- `onnx-reference`: `onnx.reference.ReferenceEvaluator`, the ONNX spec's Python evaluator.
- `openvino`: the CPU plugin, with `INFERENCE_PRECISION_HINT=f32`. Its default on CPUs with
  bf16 units is bf16, which measured up to 3.5e-3 off on zoo's RNN (docs/deploy.md).
- `tract`: Sonos' tract (`tract.onnx().load(...).into_model()`), symbolic batch and seq.

A runtime that is not installed, or that refuses the file when loading it (an op or an
input it does not support), is `RuntimeUnavailable`: shown as "not installed" or
"unsupported", never as a pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo._errors import ZooError

if TYPE_CHECKING:
    from zoo.parity._check import Runner
    from zoo.parity._report import ParityReport

RUNTIMES = ("onnxruntime", "onnx-reference", "openvino", "tract")
#: What `--runtime all` may add: onnxruntime on CUDA, where onnxruntime-gpu has it.
CUDA = "onnxruntime-cuda"
#: The Python module each runtime needs, and the pip line that installs it.
_NEEDS = {
    "onnxruntime": ("onnxruntime", "pip install onnxruntime"),
    CUDA: ("onnxruntime", "pip install onnxruntime-gpu"),
    "onnx-reference": ("onnx.reference", "pip install onnx"),
    "openvino": ("openvino", "pip install zoo-rnn[openvino]"),
    "tract": ("tract", "pip install zoo-rnn[tract]"),
}


class RuntimeUnavailable(ZooError):
    """A runtime that cannot run this artifact: `state` is "not installed" or "unsupported"."""

    def __init__(self, runtime: str, state: str, reason: str) -> None:
        super().__init__(f"--runtime {runtime}: {state}: {reason}")
        self.runtime, self.state, self.reason = runtime, state, reason


def chosen_runtimes(name: str) -> list[str]:
    """`all` -> every runtime (plus onnxruntime-cuda where present); else `[name]`."""
    if name != "all":
        if name not in RUNTIMES:
            raise ZooError(f"Unknown runtime {name!r}; choose one of {', '.join(RUNTIMES)}, all.")
        return [name]
    names = list(RUNTIMES)
    try:
        import onnxruntime as ort

        if "CUDAExecutionProvider" in ort.get_available_providers():
            names.insert(1, CUDA)
    except ImportError:
        pass
    return names


def open_runner(runtime: str, path: Path) -> Runner:
    """A runner of `path` on `runtime`; RuntimeUnavailable when it is missing or refuses."""
    import importlib

    module, hint = _NEEDS[runtime]
    try:
        importlib.import_module(module)
    except ImportError:
        raise RuntimeUnavailable(runtime, "not installed", hint) from None
    try:
        return _OPENERS[runtime](path)
    except RuntimeUnavailable:
        raise
    except Exception as exc:
        raise RuntimeUnavailable(runtime, "unsupported", describe(exc)) from None


def describe(exc: BaseException) -> str:
    """An exception in one line: its type and first three lines of substance (tract's
    "Caused by:" and backtrace, OpenVINO's source locations dropped)."""
    skip = ("Caused by:", "Exception from ", "Check '")  # tract's and OpenVINO's framing
    lines = [
        line.strip()
        for line in str(exc).splitlines()
        if line.strip() and not line.strip().startswith(skip)
    ]
    lines = lines[: lines.index("Stack backtrace:")] if "Stack backtrace:" in lines else lines
    return f"{type(exc).__name__}: {'; '.join(lines[:3])[:300]}"


def refused_at_once(runtime: str, report: ParityReport) -> RuntimeUnavailable | None:
    """A runtime that raised on every call it was given (an op or attribute it lacks, found
    only when running): unsupported, not a parity failure."""
    problems = {c.problem for c in report.checks}
    if report.checks and all(p.startswith("runtime error: ") for p in problems):
        reason = sorted(problems)[0].removeprefix("runtime error: ")
        return RuntimeUnavailable(runtime, "unsupported", reason)
    return None


def _onnxruntime(path: Path) -> Runner:
    from zoo.export._runtime import ort_session

    return _session_runner(ort_session(path))


def _onnxruntime_cuda(path: Path) -> Runner:
    from zoo.export._runtime import ort_session, use_provider

    with use_provider("cuda"):
        return _session_runner(ort_session(path))


def _session_runner(session: Any) -> Runner:
    names = [o.name for o in session.get_outputs()]
    inputs = [i.name for i in session.get_inputs()]

    def run(feeds: dict[str, Any]) -> dict[str, Any]:
        return dict(zip(names, session.run(None, {n: feeds[n] for n in inputs}), strict=True))

    return run


def _reference(path: Path) -> Runner:
    import onnx
    from onnx.reference import ReferenceEvaluator

    model = onnx.load(str(path))
    evaluator = ReferenceEvaluator(model)
    inputs = [i.name for i in model.graph.input]
    names = [o.name for o in model.graph.output]

    def run(feeds: dict[str, Any]) -> dict[str, Any]:
        outputs = evaluator.run(None, {n: feeds[n] for n in inputs})
        return dict(zip(names, outputs, strict=True))

    return run


def _openvino(path: Path) -> Runner:
    import numpy as np
    import openvino as ov

    compiled = ov.Core().compile_model(str(path), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    inputs = [port.get_any_name() for port in compiled.inputs]
    outputs = [(port, port.get_any_name()) for port in compiled.outputs]

    def run(feeds: dict[str, Any]) -> dict[str, Any]:
        result = compiled({n: feeds[n] for n in inputs})
        return {name: np.asarray(result[port]) for port, name in outputs}

    return run


def _tract(path: Path) -> Runner:
    import onnx
    import tract

    # tract keeps the graph's input and output order but names outputs by their nodes.
    graph = onnx.load(str(path), load_external_data=False).graph
    inputs = [i.name for i in graph.input]
    names = [o.name for o in graph.output]
    runnable = tract.onnx().load(str(path)).into_model().into_runnable()

    def run(feeds: dict[str, Any]) -> dict[str, Any]:
        outputs = runnable.run([feeds[n] for n in inputs])
        return {n: t.to_numpy() for n, t in zip(names, outputs, strict=True)}

    return run


_OPENERS: dict[str, Callable[[Path], Runner]] = {
    "onnxruntime": _onnxruntime,
    CUDA: _onnxruntime_cuda,
    "onnx-reference": _reference,
    "openvino": _openvino,
    "tract": _tract,
}


def matrix_rows(
    results: Sequence[tuple[str, ParityReport | RuntimeUnavailable]],
) -> list[tuple[Any, ...]]:
    """One row per runtime and output (streamed outputs apart): worst abs error, result;
    one row per runtime that could not run the file, saying why."""
    rows: list[tuple[Any, ...]] = []
    for runtime, result in results:
        if isinstance(result, RuntimeUnavailable):
            rows.append((runtime, "-", "-", "-", f"{result.state}: {result.reason}"))
            continue
        for row in result.rows():
            worst = "-" if row["max_abs"] is None else f"{row['max_abs']:.2e}"
            if row.get("advisory"):
                verdict = "info"
            else:
                verdict = "pass" if row["passed"] else f"FAIL {row['problem']}"
            rows.append((runtime, row["output"], row["cases"], worst, verdict))
    return rows


MATRIX_HEADERS = ("RUNTIME", "OUTPUT", "CASES", "MAX ABS", "RESULT")
