"""`zoo bench` / `python -m zoo.bench`: zoo's speed goals, measured side by side in one run.

Each section times what it compares in the same run, interleaved (A B A B ...), and reports
medians and their ratios; goals are met or missed on those ratios. Modes:

- `tiny`: every section on the smallest settings, a few repeats; checks that the benchmark
  runs (the test suite uses it); its numbers are not for reading.
- `quick`: every section on the real settings with fewer repeats and no seq-1000 cells.
- `full`: the whole grid (a few minutes more).

Sections are the list `SECTIONS`; a new benchmark is one more `Section` whose `run(config)`
returns a `SectionResult` with its table and goals; `zoo bench`, its report files and the
tests pick it up from the list.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from zoo._errors import ZooError
from zoo.bench import _batch_sessions as batch_sessions
from zoo.bench import _custom_cell as custom_cell
from zoo.bench import _efficiency as efficiency
from zoo.bench import _export as export
from zoo.bench import _inference as inference
from zoo.bench import _ort_options as ort_options
from zoo.bench import _startup as startup
from zoo.bench import _training as training
from zoo.bench._artifacts import Artifacts
from zoo.bench._config import MODES, BenchConfig
from zoo.bench._report import BenchResult, SectionResult, to_markdown


@dataclass(frozen=True)
class Section:
    name: str
    run: Callable[[BenchConfig], SectionResult]
    what: str


#: The benchmark, in the order it runs and reports. Add a section by appending to it.
SECTIONS: list[Section] = [
    Section("cli", startup.run_cli, "zoo list vs import click, pluggy"),
    Section("cli-scale", startup.run_cli_scale, "zoo list with 20 plugins, 1,000 entries"),
    Section("export", export.run, "zoo export bilstm --onnx vs the working hand script"),
    Section("export-steps", export.run_steps, "where zoo export bilstm --onnx spends its time"),
    Section("ort-options", ort_options.run, "onnxruntime session options"),
    Section("batch-sessions", batch_sessions.run, "predict's batch runner vs fixed threads"),
    Section("inference", inference.run, "latency of eager, TorchScript, pt2, ORT fp32/int8"),
    Section("efficiency", efficiency.run, "GFLOP/s of the large LSTM vs matmul"),
    Section("training", training.run, "zoo train samples/s vs a minimal loop"),
    Section("custom-cell", custom_cell.run, "a hand-written cell: eager loop vs onnxruntime"),
]


def section_names() -> list[str]:
    return [s.name for s in SECTIONS]


def run_bench(
    mode: str = "quick",
    sections: Sequence[str] | None = None,
    out: Path | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> BenchResult:
    """Run the chosen sections (all by default); write bench.json and bench.md to `out`."""
    from zoo.bench import _machine as machine

    if mode not in MODES:
        raise ZooError(f"Unknown benchmark mode {mode!r}; choose one of {', '.join(MODES)}.")
    chosen = [s for s in SECTIONS if sections is None or s.name in sections]
    unknown = set(sections or ()) - set(section_names())
    if unknown:
        raise ZooError(
            f"Unknown benchmark section(s) {sorted(unknown)}; "
            f"choose from {', '.join(section_names())}."
        )
    start = time.perf_counter()
    info = machine.describe()
    results = []
    with tempfile.TemporaryDirectory(prefix="zoo-bench-") as scratch:
        workdir = Path(scratch)
        config = BenchConfig(mode, workdir, Artifacts(workdir, legacy_onnx=mode == "tiny"))
        for i, section in enumerate(chosen, 1):
            progress(f"[{i}/{len(chosen)}] {section.name}: {section.what}")
            began = time.perf_counter()
            result = section.run(config)
            result.seconds = time.perf_counter() - began
            results.append(result)
    info["load_after"] = machine.load_average()
    bench = BenchResult(mode, info, results, time.perf_counter() - start)
    if out is not None:
        from zoo._fs import atomic_write_text, ensure_dir

        ensure_dir(out)
        atomic_write_text(out / "bench.json", bench.to_json())
        atomic_write_text(out / "bench.md", to_markdown(bench))
    return bench
