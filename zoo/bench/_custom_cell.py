"""Section `custom-cell`: a hand-written cell (zoo-cells' `mgu`, run by `zoo.nn.Scan`) in
eager PyTorch (its Python loop over time) against its ONNX export (one `Scan` node) in
onnxruntime, at batch 1 and 64, side by side in interleaved rounds.

Needs the example plugin zoo-cells (`pip install -e examples/zoo-cells`); without it the
section says so and measures nothing. Both sides use zoo's defaults: torch's threads for
eager, `zoo.export.ort_session` (one intra-op thread) for onnxruntime.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zoo.bench._report import Goal, SectionResult, fmt_ratio, fmt_seconds
from zoo.bench._timing import median, paired_ratio, time_calls

if TYPE_CHECKING:
    from zoo.bench._config import BenchConfig

EAGER, ORT = "eager loop", "onnxruntime Scan"
ARCHITECTURE = "mgu"


@dataclass(frozen=True)
class Plan:
    hidden: int
    cells: tuple[tuple[int, int], ...]  # (batch, seq)
    seconds: float
    rounds: int


PLANS = {
    "tiny": Plan(16, ((1, 50), (8, 50)), 0.05, 3),
    "quick": Plan(64, ((1, 500), (64, 500)), 1.0, 7),
    "full": Plan(64, ((1, 500), (64, 500)), 3.0, 15),
}


def run(config: BenchConfig) -> SectionResult:
    import torch

    from zoo._manager import load_plugins
    from zoo.catalog._source import SourceModel, seeded
    from zoo.checkpoint._provenance import RandomWeights
    from zoo.export import ort_session
    from zoo.export._pipeline import export_model
    from zoo.parity._inputs import make_inputs

    plan = PLANS[config.mode]
    headers = ("CASE", "MEDIAN", "RUNS", "VS", "RATIO")
    title = "a hand-written cell: eager loop vs onnxruntime (`zoo.nn.Scan`)"
    plugins = load_plugins()
    if ARCHITECTURE not in plugins.architectures:
        note = "skipped: needs the example plugin zoo-cells (pip install -e examples/zoo-cells)"
        return SectionResult("custom-cell", title, headers, [], notes=[note])
    arch = plugins.architecture(ARCHITECTURE)
    model_config = arch.resolve({"hidden_size": plan.hidden})
    source = SourceModel("mgu", arch, model_config, seeded(arch, model_config, 0), RandomWeights(0))
    folder = config.workdir / "custom-cell"  # the bench's own scratch files: replaced
    summary = export_model(source, [plugins.exporter("onnx")], folder, force=True)
    if not summary.passed:
        raise RuntimeError(f"the mgu export failed parity: {summary.to_dict()}")
    session = ort_session(summary.artifacts[0].path)
    contract = arch.io(model_config)
    rows: list[tuple[Any, ...]] = []
    records: list[dict[str, Any]] = []
    goals: list[Goal] = []
    for batch, seq in plan.cells:
        feeds = make_inputs(contract, batch, seq, states=True)
        tensors = [torch.from_numpy(feeds[n]) for n in contract.input_names]

        def eager(tensors: list[Any] = tensors) -> object:
            with torch.no_grad():
                return source.module(*tensors)

        def ort(feeds: dict[str, Any] = feeds) -> object:
            return session.run(None, feeds)

        times = time_calls({EAGER: eager, ORT: ort}, plan.rounds, plan.seconds)
        cell = f"hidden {plan.hidden}, batch {batch}, seq {seq}"
        speedup = paired_ratio(times[EAGER], times[ORT])
        for case, samples in times.items():
            ratio = None if case == EAGER else speedup
            rows.append((f"{cell}: {case}", fmt_seconds(median(samples)), str(len(samples)),
                         "-" if ratio is None else EAGER,
                         "-" if ratio is None else fmt_ratio(ratio)))  # fmt: skip
            records.append({"case": f"{cell}: {case}", "median": median(samples), "unit": "s",
                            "runs": len(samples), "baseline": None if ratio is None else EAGER,
                            "ratio": ratio})  # fmt: skip
        goals.append(Goal("custom-cell", f"onnxruntime speed-up over eager, batch {batch}",
                          2.0, False, speedup, cell))  # fmt: skip
    return SectionResult(
        "custom-cell", title, headers, rows, records, goals,
        ["RATIO: median over rounds of (eager's time / onnxruntime's time); > 1: ORT faster",
         "the ONNX file passed zoo's parity (batch and seq symbolic, one Scan node)"],
    )  # fmt: skip
