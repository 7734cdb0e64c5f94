"""Section `inference`: latency and throughput of every runtime, side by side.

For each model (architecture x size), batch and sequence length, the runtimes of
`zoo.bench._runtimes` run the same inputs (initial states given) in interleaved chunks;
the table shows each one's median latency and its speed-up over the faster of the two eager
runs (per round; the median over rounds). Throughput
is batch * seq / latency (time steps per second). `stream` rows time one step of a stream:
batch 1, one time step, the final states fed back as the next call's initial states.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zoo.bench._report import Goal, SectionResult, fmt_ratio, fmt_seconds
from zoo.bench._runtimes import EAGER, RUNTIMES, load, streaming_step, torch_threads
from zoo.bench._timing import median, paired_ratio, time_calls

if TYPE_CHECKING:
    from zoo.bench._config import BenchConfig


@dataclass(frozen=True)
class Grid:
    models: tuple[tuple[str, str], ...]  # (architecture, size)
    batches: tuple[int, ...]
    seqs: tuple[int, ...]
    rounds: int
    chunk_seconds: float


_ALL_MODELS = tuple((a, s) for s in ("default", "2x256") for a in ("rnn", "lstm", "bilstm"))
GRIDS = {
    "tiny": Grid((("lstm", "default"),), (1,), (1, 10), 3, 0.005),
    "quick": Grid(_ALL_MODELS, (1, 64), (1, 100), 5, 0.02),
    "full": Grid(_ALL_MODELS, (1, 64), (1, 100, 1000), 7, 0.05),
}
#: Cells whose one-thread eager call is slower than this get 3 rounds (a 2x256 bilstm at
#: batch 64, seq 1000 takes seconds).
SLOW_CALL_SECONDS = 0.5
STREAM = "stream"


def _cells(grid: Grid, contract: Any) -> list[tuple[int, int | str]]:
    cells: list[tuple[int, int | str]] = [(b, s) for b in grid.batches for s in grid.seqs]
    if contract.can_stream:
        cells.append((1, STREAM))
    return cells


def _measure_cell(
    models: dict[str, Any], contract: Any, batch: int, seq: int | str, grid: Grid
) -> dict[str, list[float]]:
    from zoo.parity._inputs import make_inputs

    steps = 1 if seq == STREAM else int(seq)
    feeds = make_inputs(contract, batch, steps, states=True, seed=3)
    calls: dict[str, Any] = {}
    for runtime, model in models.items():
        if seq == STREAM:
            calls[runtime] = streaming_step(model, contract, feeds)
        else:
            prepare, call = model
            prepared = prepare(feeds)
            calls[runtime] = lambda call=call, prepared=prepared: call(prepared)
    before = {r: torch_threads(r) for r in models if not r.startswith("ort-")}
    probe = time_calls({"eager-1t": calls["eager-1t"]}, 1, 0.0, before)["eager-1t"][0]
    rounds = grid.rounds if probe < SLOW_CALL_SECONDS else 3
    try:
        return time_calls(calls, rounds, grid.chunk_seconds, before)
    finally:
        before["eager"]()  # back to torch's default threads


def run(config: BenchConfig) -> SectionResult:
    grid = GRIDS[config.mode]
    rows: list[tuple[Any, ...]] = []
    records: list[dict[str, Any]] = []
    batch1: dict[str, list[tuple[float, str]]] = {}
    int8: list[tuple[float, str]] = []
    stream: list[tuple[float, str]] = []
    for arch, size in grid.models:
        contract = config.artifacts.source(arch, size).contract
        models = {r: load(config.artifacts, r, arch, size) for r in RUNTIMES}
        for batch, seq in _cells(grid, contract):
            times = _measure_cell(models, contract, batch, seq, grid)
            medians = {r: median(t) for r, t in times.items()}
            # Per round, the faster of the two eager runs; ratios are medians over rounds.
            eager = [min(pair) for pair in zip(*(times[r] for r in EAGER), strict=True)]
            ratios = {r: paired_ratio(eager, times[r]) for r in RUNTIMES}
            label = f"{arch} {size} b{batch} " + (STREAM if seq == STREAM else f"s{seq}")
            steps = batch * (1 if seq == STREAM else int(seq))
            cells = [fmt_seconds(medians[r]) for r in EAGER]
            for runtime in RUNTIMES[len(EAGER) :]:
                cells.append(f"{fmt_seconds(medians[runtime])} ({fmt_ratio(ratios[runtime])})")
            rows.append((label, *cells))
            for runtime in RUNTIMES:
                records.append(
                    {
                        "case": label,
                        "arch": arch,
                        "size": size,
                        "batch": batch,
                        "seq": seq,
                        "runtime": runtime,
                        "median": medians[runtime],
                        "unit": "s",
                        "runs": len(times[runtime]),
                        "throughput_steps_per_s": steps / medians[runtime],
                        "baseline": "faster eager",
                        "ratio": ratios[runtime],
                    }
                )
            if batch == 1:
                batch1.setdefault(size, []).append((ratios["ort-fp32"], label))
            if size != "default" and arch != "rnn":
                int8_over_fp32 = paired_ratio(times["ort-fp32"], times["ort-int8"])
                int8.append((int8_over_fp32, label))
            if seq == STREAM and size == "default":
                stream.append((medians["ort-fp32"] * 1e6, label))
    return SectionResult(
        "inference",
        "latency per call (speed-up over the faster eager); throughput in the JSON",
        ("CASE", *RUNTIMES),
        rows,
        records,
        _goals(batch1, int8, stream),
        [
            "eager: torch's default threads; every other runtime one thread (torch's set to 1, "
            "onnxruntime's by zoo's session defaults); speed-ups over the faster eager",
            "int8 quantizes LSTM nodes (DynamicQuantizeLSTM) and the head; RNN nodes stay "
            "fp32, so its int8 goal covers lstm and bilstm",
        ],
    )


def _goals(
    batch1: dict[str, list[tuple[float, str]]],
    int8: Sequence[tuple[float, str]],
    stream: Sequence[tuple[float, str]],
) -> list[Goal]:
    goals = []
    for size, cells in batch1.items():
        worst, where = min(cells)
        name = f"ort fp32 vs eager, batch 1, {size} size (worst cell)"
        goals.append(Goal("inference", name, 2.0, False, worst, where))
    if int8:
        worst, where = min(int8)
        goals.append(
            Goal("inference", "ort int8 vs fp32, large size (worst cell)", 1.4, False, worst, where)
        )
    if stream:
        worst, where = max(stream)
        goals.append(
            Goal("inference", "ort streaming step (worst model)", 50.0, True, worst, where, "us")
        )
    return goals
