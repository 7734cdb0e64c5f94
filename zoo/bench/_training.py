"""Section `training`: `zoo train`'s samples/s against a minimal hand-written PyTorch loop.

Both train the same architecture at the same config on the same arrays, with Adam, the same
learning rate and batch 64, in this process with torch's default threads:

- the minimal loop is what a user writes by hand: a shuffled pass of `index`, `zero_grad`,
  forward, loss, `backward`, `step` (with `lengths` for variable-length data, as the model
  needs them);
- `zoo train` is `zoo.train._run.train_model`, what the command runs once the data is loaded: it
  also clips gradients, keeps the running loss on the device, redraws progress, and after
  each epoch validates and writes the checkpoint, metrics and train state.

The goal compares training-pass throughput, the samples/s that `zoo train` reports (training
samples over the time of the training pass), measured the same way for both. The whole
`train_model` call (validation and files included) is reported beside it, against the same
minimal pass, so what zoo's bookkeeping costs per epoch is visible too. Rounds interleave the
two in a shuffled order, one epoch each; ratios are paired per round.
"""

from __future__ import annotations

import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo.bench._epoch import BATCH, CALIBRATION_SAMPLES, LR, MAX_SAMPLES, minimal_epoch
from zoo.bench._report import Goal, SectionResult, fmt_ratio
from zoo.bench._timing import median, paired_ratio

if TYPE_CHECKING:
    from zoo.bench._config import BenchConfig

MINIMAL, ZOO, ZOO_WHOLE = "minimal loop", "zoo train", "zoo train, whole epoch"


@dataclass(frozen=True)
class Plan:
    seconds: float  # per epoch: the samples are chosen so that a minimal epoch lasts this
    rounds: int
    cells: tuple[tuple[str, str], ...]  # (architecture, data); the first decides the goal


PLANS = {
    "tiny": Plan(0.0, 2, (("lstm", "sine"),)),
    "quick": Plan(1.0, 5, (("lstm", "sine"), ("lstm", "freq-var"))),
    "full": Plan(2.0, 9, (("lstm", "sine"), ("bilstm", "sine"), ("lstm", "freq-var"))),
}


def zoo_epoch(arch: Any, config: Any, dataset: Any, seed: int, out: Path) -> tuple[float, float]:
    """One epoch of `train_model`: its reported samples/s, and samples/s of the whole call."""
    from zoo.train._run import train_model
    from zoo.train._settings import TrainSettings

    settings = TrainSettings(epochs=1, batch_size=BATCH, lr=LR, seed=seed)
    start = time.perf_counter()
    result = train_model(arch, config, dataset, settings, out, plot=False)
    whole = time.perf_counter() - start
    return float(result.history[0]["samples_per_s"]), len(dataset.train) / whole


def measure(
    arch_name: str, data: str, plan: Plan, workdir: Path
) -> tuple[int, dict[str, list[float]]]:
    """The training samples, and samples/s per round of the minimal loop and of `zoo train`
    (its pass and the whole call)."""
    import torch

    from zoo._manager import load_plugins
    from zoo.data._load import DataOptions, load_dataset
    from zoo.train._run import model_config
    from zoo.train._threads import choose_threads, training_threads

    arch = load_plugins(third_party=False).architecture(arch_name)
    dataset = load_dataset(data, DataOptions(samples=CALIBRATION_SAMPLES), seed=0)
    config = model_config(arch, dict(arch.defaults), {}, dataset)
    torch.manual_seed(0)
    model = arch.build(**config)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    # both at the count zoo train chooses for this model, so the goal compares the loops
    with training_threads(choose_threads(None)):
        return _interleave(arch, config, data, dataset, (model, optimizer), plan, workdir)


def _interleave(
    arch: Any,
    config: Any,
    data: str,
    dataset: Any,
    trained: tuple[Any, Any],
    plan: Plan,
    workdir: Path,
) -> tuple[int, dict[str, list[float]]]:
    """The rounds of `measure`: the minimal loop (`trained`: model and optimizer) and
    `zoo train`, interleaved."""
    from zoo.data._load import DataOptions, load_dataset

    model, optimizer = trained

    minimal_epoch(model, optimizer, dataset, seed=98)  # warm-up: first-call allocations
    rate = minimal_epoch(model, optimizer, dataset, seed=99)
    samples = round(rate * plan.seconds / 0.8)  # epochs long enough to time steadily
    if samples > CALIBRATION_SAMPLES:
        options = DataOptions(samples=min(samples, MAX_SAMPLES))
        dataset = load_dataset(data, options, seed=0)
    rates: dict[str, list[float]] = {MINIMAL: [], ZOO: [], ZOO_WHOLE: []}
    shuffle = random.Random(plan.rounds).shuffle
    order = [MINIMAL, ZOO]
    with tempfile.TemporaryDirectory(dir=workdir) as scratch:
        zoo_epoch(arch, config, dataset, 99, Path(scratch) / "warmup")
        for round_ in range(plan.rounds):
            shuffle(order)
            for case in order:
                if case == MINIMAL:
                    rates[MINIMAL].append(minimal_epoch(model, optimizer, dataset, round_))
                else:
                    run = Path(scratch) / f"round-{round_}"
                    passed, whole = zoo_epoch(arch, config, dataset, round_, run)
                    rates[ZOO].append(passed)
                    rates[ZOO_WHOLE].append(whole)
    return len(dataset.train), rates


def run(config: BenchConfig) -> SectionResult:
    plan = PLANS[config.mode]
    rows: list[tuple[Any, ...]] = []
    records: list[dict[str, Any]] = []
    goals: list[Goal] = []
    sizes: list[str] = []
    for arch_name, data in plan.cells:
        train, rates = measure(arch_name, data, plan, config.workdir)
        cell = f"{arch_name} default on {data}, batch {BATCH}"
        sizes.append(f"{data}: {train}")
        for case, samples in rates.items():
            ratio = None if case == MINIMAL else paired_ratio(samples, rates[MINIMAL])
            rows.append(
                (
                    f"{cell}: {case}",
                    f"{median(samples):,.0f}",
                    str(len(samples)),
                    "-" if ratio is None else MINIMAL,
                    "-" if ratio is None else fmt_ratio(ratio),
                )
            )
            records.append(
                {
                    "case": f"{cell}: {case}",
                    "median": median(samples),
                    "unit": "samples/s",
                    "runs": len(samples),
                    "baseline": None if ratio is None else MINIMAL,
                    "ratio": ratio,
                }
            )
        if not goals:
            goals.append(
                Goal(
                    "training",
                    "zoo train samples/s vs a minimal loop",
                    0.95,
                    False,
                    paired_ratio(rates[ZOO], rates[MINIMAL]),
                    cell,
                )
            )
    from zoo.bench import _train_threads as threads

    worst: tuple[float, str] | None = None
    for size in threads.SIZES:
        measured = threads.measure(size, plan.seconds, plan.rounds)
        more_rows, more_records = threads.rows_and_records(measured)
        rows += more_rows
        records += more_records
        ratio = median(threads.default_vs_best(measured))
        control = threads.aa_control(measured)
        records.append({"case": f"lstm {size}: default vs its twin (A/A)", "ratio": control})
        if worst is None or ratio < worst[0]:
            where = f"lstm {measured.size}, default {measured.default}; A/A {control:.2f}x"
            worst = (ratio, where)
    assert worst is not None
    goals.append(
        Goal(
            "training",
            "zoo train's default threads vs the other of 1 / all threads",
            threads.GOAL,
            False,
            worst[0],
            worst[1],
        )
    )
    return SectionResult(
        "training",
        "`zoo train` samples/s vs a minimal hand-written PyTorch loop",
        ("CASE", "SAMPLES/S", "RUNS", "VS", "RATIO"),
        rows,
        records,
        goals,
        [
            f"one epoch per round of {', '.join(sizes)} training samples (a minimal epoch of "
            f"about {plan.seconds:g} s), Adam lr {LR:g}, both at zoo train's default thread "
            "count, in this process",
            "zoo train: the training pass, as zoo train reports samples/s; 'whole epoch' adds "
            "validation and writing the checkpoint, metrics and train state",
            "RATIO: median over rounds of (this rate / the minimal loop's rate); > 1 is faster",
            "thread rows: the minimal loop at 1 thread, all threads and zoo train's default "
            "count, interleaved; RATIO against 1 thread; the goal takes, per round, the default "
            "over the other setting (the default is one of the two; its twin is an A/A "
            "control, in DECIDED BY), worst size",
        ],
    )
