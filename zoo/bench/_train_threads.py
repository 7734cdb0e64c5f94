"""Part of section `training`: `zoo train`'s default thread count against one thread and all.

For each size (the default LSTM, and the 2-layer hidden-256 one), the same hand-written
epoch (`_epoch.minimal_epoch`, Adam, batch 64) runs with torch's intra-op threads set to
1, to all (torch's default: one per core) and to what `zoo train` chooses by default
(zoo.train._threads: one thread for a small model, a probe's choice, made once before the
rounds, for a large one), interleaved in a shuffled order each round; each epoch is sized
so that the slower of 1 and all threads takes about the plan's seconds. The goal compares the
default with the faster of the other two in the same round: at its default, `zoo train`
should never be slower than the better fixed choice (0.95x allows for timing spread; when
the default is one of the two, it is compared with the other, and with its twin as an A/A
control of the spread).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from zoo.bench._epoch import BATCH, LR
from zoo.bench._timing import median

SIZES = {"default": {}, "2x256": {"hidden_size": 256, "num_layers": 2}}
GOAL = 0.95


@dataclass(frozen=True)
class ThreadCell:
    """One size's samples/s per round at each setting, and the counts compared."""

    size: str
    rates: dict[str, list[float]]
    everything: int
    default: int


def measure(size: str, seconds: float, rounds: int) -> ThreadCell:
    import torch

    from zoo._manager import load_plugins
    from zoo.bench._epoch import CALIBRATION_SAMPLES, MAX_SAMPLES, minimal_epoch
    from zoo.data._load import DataOptions, load_dataset
    from zoo.train._run import model_config
    from zoo.train._threads import DEFAULT_THREADS, auto_threads

    arch = load_plugins(third_party=False).architecture("lstm")
    dataset = load_dataset("sine", DataOptions(samples=CALIBRATION_SAMPLES), seed=0)
    config = model_config(arch, dict(arch.defaults), SIZES[size], dataset)
    torch.manual_seed(0)
    model = arch.build(**config)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    everything = torch.get_num_threads()
    probe = auto_threads(arch, config, dataset, BATCH)  # as zoo train decides, once
    default = DEFAULT_THREADS if probe is None else probe.chosen
    counts = {"1 thread": 1, f"all threads ({everything})": everything}
    counts[f"zoo train's default ({default})"] = default
    try:
        slowest = float("inf")  # size the epoch by the slower count: bounded rounds
        for count in (1, everything):
            torch.set_num_threads(count)
            minimal_epoch(model, optimizer, dataset, seed=98)  # warm-up
            slowest = min(slowest, minimal_epoch(model, optimizer, dataset, seed=99))
        samples = round(slowest * seconds / 0.8)
        if samples > CALIBRATION_SAMPLES:
            options = DataOptions(samples=min(samples, MAX_SAMPLES))
            dataset = load_dataset("sine", options, seed=0)
        rates: dict[str, list[float]] = {case: [] for case in counts}
        order = list(counts)
        shuffle = random.Random(rounds).shuffle
        for round_ in range(rounds):
            shuffle(order)
            for case in order:
                torch.set_num_threads(counts[case])
                rates[case].append(minimal_epoch(model, optimizer, dataset, round_))
    finally:
        torch.set_num_threads(everything)
    return ThreadCell(size, rates, everything, default)


def default_vs_best(cell: ThreadCell) -> list[float]:
    """Per round: the default's rate over the faster of the settings that differ from it.

    The default is the same setting as one of the fixed choices (1 thread, or all); the
    faster of two runs of one setting is a low draw of the noise, so taking it would
    judge the default against its own luck. The twin is the A/A control (`aa_control`).
    """
    one, every, default = cell.rates.values()
    others = [one] if cell.default != 1 else []
    others += [every] if cell.default != cell.everything else []
    if not others:  # one core: nothing else to compare with
        return [1.0 for _ in default]
    return [d / max(o[i] for o in others) for i, d in enumerate(default)]


def aa_control(cell: ThreadCell) -> float:
    """The default's rate over its twin's (the same setting run again): the spread."""
    one, every, default = cell.rates.values()
    twin = one if cell.default == 1 else every
    return median([d / t for d, t in zip(default, twin, strict=True)])


def rows_and_records(cell: ThreadCell) -> tuple[list[tuple[Any, ...]], list[dict[str, Any]]]:
    rows: list[tuple[Any, ...]] = []
    records: list[dict[str, Any]] = []
    one = next(iter(cell.rates.values()))
    for case, samples in cell.rates.items():
        name = f"lstm {cell.size} on sine, batch {BATCH}: {case}"
        ratio = (
            None if samples is one else median([a / b for a, b in zip(samples, one, strict=True)])
        )
        rows.append(
            (
                name,
                f"{median(samples):,.0f}",
                str(len(samples)),
                "-" if ratio is None else "1 thread",
                "-" if ratio is None else f"{ratio:.2f}x",
            )
        )
        records.append(
            {
                "case": name,
                "median": median(samples),
                "unit": "samples/s",
                "runs": len(samples),
                "baseline": None if ratio is None else "1 thread",
                "ratio": ratio,
                "range": [min(samples), max(samples)],
            }
        )
    return rows, records
