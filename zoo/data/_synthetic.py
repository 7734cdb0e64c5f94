"""Built-in synthetic tasks: training data with no download, generated from a seed.

Each split draws from its own random stream (`[seed, split]`), so validation and test data
never overlap training by construction.

- ``sine``     forecast the next value of a noisy sum of three sines (regression)
- ``adding``   the adding problem (Hochreiter & Schmidhuber 1997): two marked values in a
               long sequence must be remembered and summed (regression)
- ``freq``     which of four frequencies a noisy sine has (classification)
- ``freq-var`` the same with sequences of different lengths (a quarter of `seq_len` up to
               all of it), zero-padded and trained on packed sequences via `lengths`

Importing this module imports no numpy; the generators do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from zoo._errors import DataError, did_you_mean
from zoo._limits import DATA_ELEMENTS
from zoo.data._spec import (
    CLASSIFICATION,
    REGRESSION,
    DataOptions,
    Dataset,
    DataSpec,
    Scaling,
    Split,
)

if TYPE_CHECKING:
    import numpy as np

#: Each split of a built-in task draws from its own random stream.
SPLITS = {"train": 0, "val": 1, "test": 2}

#: `generate(rng, n, seq_len) -> (x, y)`, or `(x, y, lengths)` for variable-length tasks.
Generator = Callable[["np.random.Generator", int, int], tuple["np.ndarray", ...]]


@dataclass(frozen=True)
class BuiltinTask:
    """A synthetic task: `generate(rng, n, seq_len) -> (x, y)` with unscaled values."""

    name: str
    task: str
    description: str
    generate: Generator
    input_size: int
    seq_len: int = 50
    samples: int = 4000
    classes: tuple[str, ...] = field(default=())
    variable_length: bool = False

    @property
    def output_size(self) -> int:
        return len(self.classes) if self.task == CLASSIFICATION else 1


def _sine(rng: np.random.Generator, n: int, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Three sines (0.01-0.1 cycles/step, amplitude 0.3-1) plus noise (std 0.1); the target
    is the next noisy value."""
    import numpy as np

    t = np.arange(seq_len + 1, dtype=np.float64)  # (seq + 1,)
    freq = rng.uniform(0.01, 0.1, size=(n, 3, 1))
    phase = rng.uniform(0.0, 2 * np.pi, size=(n, 3, 1))
    amp = rng.uniform(0.3, 1.0, size=(n, 3, 1))
    clean = (amp * np.sin(2 * np.pi * freq * t + phase)).sum(axis=1)  # (n, seq + 1)
    noisy = clean + rng.normal(0.0, 0.1, size=clean.shape)
    x = noisy[:, :seq_len, None]  # (n, seq, 1)
    y = noisy[:, seq_len, None]  # (n, 1)
    return x.astype(np.float32), y.astype(np.float32)


def _adding(rng: np.random.Generator, n: int, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Values uniform in [0, 1] and a marker channel with one 1 in each half of the sequence;
    the target is the sum of the two marked values (mean 1, variance 1/6)."""
    import numpy as np

    values = rng.uniform(0.0, 1.0, size=(n, seq_len))
    half = seq_len // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, seq_len, size=n)
    markers = np.zeros((n, seq_len))
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1)  # (n, seq, 2)
    y = (values[rows, first] + values[rows, second])[:, None]  # (n, 1)
    return x.astype(np.float32), y.astype(np.float32)


FREQUENCIES = (0.04, 0.06, 0.08, 0.1)


def _freq(rng: np.random.Generator, n: int, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """A sine of one of `FREQUENCIES` (cycles/step), random phase and amplitude 0.5-1.5,
    plus noise (std 0.5); the label is the frequency's index."""
    import numpy as np

    labels = rng.integers(0, len(FREQUENCIES), size=n)
    freq = np.asarray(FREQUENCIES)[labels][:, None]  # (n, 1)
    phase = rng.uniform(0.0, 2 * np.pi, size=(n, 1))
    amp = rng.uniform(0.5, 1.5, size=(n, 1))
    t = np.arange(seq_len, dtype=np.float64)
    signal = amp * np.sin(2 * np.pi * freq * t + phase) + rng.normal(0, 0.5, (n, seq_len))
    return signal[:, :, None].astype(np.float32), labels.astype(np.int64)  # (n, seq, 1), (n,)


def _freq_var(rng: np.random.Generator, n: int, seq_len: int) -> tuple[np.ndarray, ...]:
    """`_freq` with each sequence cut to a random length in [seq_len // 4, seq_len] (at
    least 1) and zero-padded: the label must be read from the valid steps alone."""
    import numpy as np

    x, labels = _freq(rng, n, seq_len)  # (n, seq, 1), (n,)
    lengths = rng.integers(max(1, seq_len // 4), seq_len + 1, size=n)  # (n,)
    x[np.arange(seq_len)[None, :] >= lengths[:, None]] = 0.0  # padding past each length
    return x, labels, lengths.astype(np.int64)


BUILTIN_TASKS: dict[str, BuiltinTask] = {
    task.name: task
    for task in (
        BuiltinTask(
            "sine",
            REGRESSION,
            "forecast the next value of a noisy sum of three sines",
            _sine,
            input_size=1,
        ),
        BuiltinTask(
            "adding",
            REGRESSION,
            "the adding problem: sum the two marked values of a long sequence",
            _adding,
            input_size=2,
            samples=10000,
        ),
        BuiltinTask(
            "freq",
            CLASSIFICATION,
            "classify which of four frequencies a noisy sine has",
            _freq,
            input_size=1,
            classes=tuple(f"{f:g}" for f in FREQUENCIES),
        ),
        BuiltinTask(
            "freq-var",
            CLASSIFICATION,
            "classify the frequency of noisy sines of different lengths (padded, lengths)",
            _freq_var,
            input_size=1,
            classes=tuple(f"{f:g}" for f in FREQUENCIES),
            variable_length=True,
        ),
    )
}


def builtin_task(name: str) -> BuiltinTask:
    try:
        return BUILTIN_TASKS[name]
    except KeyError:
        raise unknown_source(name) from None


def unknown_source(name: str) -> DataError:
    message = f"Unknown data source {name!r}: not a built-in task and not a .csv file."
    guess = did_you_mean(name, BUILTIN_TASKS)
    if guess:
        message += f" Did you mean {guess!r}?"
    return DataError(
        f"{message} Built-in tasks: {', '.join(BUILTIN_TASKS)}; or pass a CSV file path."
    )


def generate_split(task: BuiltinTask, seed: int, split: str, n: int, seq_len: int) -> Split:
    """`n` samples of split `split` ('train', 'val', 'test'), deterministic from `seed`."""
    import numpy as np

    DATA_ELEMENTS.check(
        n * seq_len * task.input_size,
        f"The {split} split of task {task.name!r} ({n:,} sequences x {seq_len:,} steps x "
        f"{task.input_size} feature(s))",
        "Use a smaller --samples or --seq-len",
        DataError,
    )
    rng = np.random.default_rng([seed, SPLITS[split]])
    x, y, *lengths = task.generate(rng, n, seq_len)
    return Split(x, y, lengths=lengths[0] if lengths else None)


def builtin_dataset(name: str, options: DataOptions, seed: int) -> Dataset:
    """A built-in task's train and validation splits (validation: a quarter of the samples)."""
    task = builtin_task(name)
    _reject_csv_options(name, options)
    seq_len = options.seq_len if options.seq_len is not None else task.seq_len
    samples = options.samples if options.samples is not None else task.samples
    if seq_len < 2:
        raise DataError(f"--seq-len must be at least 2 for task {name!r}, got {seq_len}.")
    if samples < 4:
        raise DataError(f"--samples must be at least 4 for task {name!r}, got {samples}.")
    spec = DataSpec(
        kind="builtin",
        source=name,
        task=task.task,
        input_size=task.input_size,
        output_size=task.output_size,
        seq_len=seq_len,
        seed=seed,
        samples=samples,
        classes=task.classes,
        scaling=Scaling.identity(task.input_size),
        variable_length=task.variable_length,
    )
    train = generate_split(task, seed, "train", samples, seq_len)
    val = generate_split(task, seed, "val", val_count(samples), seq_len)
    return Dataset(spec, train, val)


def val_count(samples: int) -> int:
    return max(1, samples // 4)


def _reject_csv_options(name: str, options: DataOptions) -> None:
    given = [
        flag
        for flag, value in (
            ("--target", options.target),
            ("--features", options.features),
            ("--window", options.window),
            ("--horizon", options.horizon),
            ("--task", options.task),
        )
        if value is not None
    ]
    if given:
        raise DataError(
            f"{', '.join(given)} apply to CSV files only; built-in task {name!r} defines its "
            "own inputs and targets (use --seq-len and --samples to size it)."
        )
