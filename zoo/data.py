"""Training data with no download: built-in synthetic tasks and the user's CSV time series.

Every source becomes the same thing, a `Dataset`: float32 sequences `x` (n, seq, features)
and targets `y`, split into train and validation, plus a `DataSpec` that says how they were
made. The spec is saved in the checkpoint, so `zoo eval` / `zoo predict` can rebuild the
same windows and apply the same scaling to new data.

Built-in tasks are generated deterministically from a seed; each split draws from its own
stream (`[seed, split]`), so validation and test never overlap training by construction.

- ``sine``     forecast the next value of a noisy sum of three sines (regression)
- ``adding``   the adding problem (Hochreiter & Schmidhuber 1997): two marked values in a
               long sequence must be remembered and summed (regression)
- ``freq``     which of four frequencies a noisy sine has (classification)

A CSV file (``--data file.csv --target COL --window N --horizon H``) is windowed
chronologically: the window ending at row ``i`` predicts the target at row ``i + H``. The
first windows train, the last ``val_fraction`` validate; features (and a regression target)
are standardized with statistics of the training rows only, saved with the model.

Importing this module imports no numpy; the functions do.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo.errors import DataError, did_you_mean

if TYPE_CHECKING:
    import numpy as np

REGRESSION = "regression"
CLASSIFICATION = "classification"
TASKS = (REGRESSION, CLASSIFICATION)

#: Each split of a built-in task draws from its own random stream.
SPLITS = {"train": 0, "val": 1, "test": 2}


@dataclass(frozen=True)
class DataOptions:
    """What the user chose for a data source; `None` means the source's default."""

    seq_len: int | None = None
    samples: int | None = None
    target: str | None = None
    features: tuple[str, ...] | None = None
    window: int | None = None
    horizon: int | None = None
    task: str | None = None
    val_fraction: float = 0.2


@dataclass(frozen=True)
class Scaling:
    """Per-feature standardization `(x - mean) / std`, and the target's for regression."""

    x_mean: tuple[float, ...]
    x_std: tuple[float, ...]
    y_mean: float = 0.0
    y_std: float = 1.0

    @classmethod
    def identity(cls, features: int) -> Scaling:
        return cls((0.0,) * features, (1.0,) * features)

    def scale_x(self, x: np.ndarray) -> np.ndarray:
        import numpy as np

        mean = np.asarray(self.x_mean, dtype=np.float64)
        std = np.asarray(self.x_std, dtype=np.float64)
        return ((x - mean) / std).astype(np.float32)

    def scale_y(self, y: np.ndarray) -> np.ndarray:
        return ((y - self.y_mean) / self.y_std).astype("float32")

    def unscale_y(self, y: np.ndarray) -> np.ndarray:
        return (y * self.y_std + self.y_mean).astype("float64")

    def to_dict(self) -> dict[str, Any]:
        return {
            "x_mean": list(self.x_mean),
            "x_std": list(self.x_std),
            "y_mean": self.y_mean,
            "y_std": self.y_std,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scaling:
        return cls(
            tuple(float(v) for v in data["x_mean"]),
            tuple(float(v) for v in data["x_std"]),
            float(data["y_mean"]),
            float(data["y_std"]),
        )


@dataclass(frozen=True)
class DataSpec:
    """How a dataset was made: saved in config.json as `data` so it can be made again.

    `seq_len` is the sequence length (a built-in task's, or a CSV window). `classes` are the
    class labels of a classification task, in the order of the model's outputs.
    """

    kind: str  # "builtin" | "csv"
    source: str  # the task name, or the CSV file's name
    task: str
    input_size: int
    output_size: int
    seq_len: int
    seed: int | None = None
    samples: int | None = None
    target: str | None = None
    features: tuple[str, ...] = ()
    horizon: int | None = None
    val_fraction: float | None = None
    classes: tuple[str, ...] = ()
    scaling: Scaling | None = None
    file_sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "task": self.task,
            "input_size": self.input_size,
            "output_size": self.output_size,
            "seq_len": self.seq_len,
            "seed": self.seed,
            "samples": self.samples,
            "target": self.target,
            "features": list(self.features),
            "horizon": self.horizon,
            "val_fraction": self.val_fraction,
            "classes": list(self.classes),
            "scaling": self.scaling.to_dict() if self.scaling else None,
            "file_sha256": self.file_sha256,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DataSpec:
        try:
            scaling = data.get("scaling")
            return cls(
                kind=str(data["kind"]),
                source=str(data["source"]),
                task=str(data["task"]),
                input_size=int(data["input_size"]),
                output_size=int(data["output_size"]),
                seq_len=int(data["seq_len"]),
                seed=data.get("seed"),
                samples=data.get("samples"),
                target=data.get("target"),
                features=tuple(data.get("features") or ()),
                horizon=data.get("horizon"),
                val_fraction=data.get("val_fraction"),
                classes=tuple(str(c) for c in data.get("classes") or ()),
                scaling=Scaling.from_dict(scaling) if scaling else None,
                file_sha256=data.get("file_sha256"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"Malformed 'data' description in a checkpoint: {exc!r}.") from None

    def describe(self) -> str:
        """'adding (seq 50, 10000 samples, regression)'"""
        if self.kind == "builtin":
            return f"{self.source} (seq {self.seq_len}, {self.samples} samples, {self.task})"
        return (
            f"{self.source} (target {self.target!r}, window {self.seq_len}, "
            f"horizon {self.horizon}, {self.task})"
        )


@dataclass
class Split:
    """Model-ready arrays: `x` (n, seq, features) float32, scaled; `y` (n, 1) float32 scaled
    targets for regression or (n,) int64 class indices for classification."""

    x: np.ndarray
    y: np.ndarray
    #: For CSV windows: the row (0-based, header excluded) each target comes from.
    rows: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.x.shape[0])


@dataclass
class Dataset:
    """A training and a validation split of one source, with its description."""

    spec: DataSpec
    train: Split
    val: Split


# --- built-in synthetic tasks --------------------------------------------------------------

Generator = Callable[["np.random.Generator", int, int], tuple["np.ndarray", "np.ndarray"]]


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
    )
}


def builtin_task(name: str) -> BuiltinTask:
    try:
        return BUILTIN_TASKS[name]
    except KeyError:
        raise _unknown_source(name) from None


def _unknown_source(name: str) -> DataError:
    message = f"Unknown data source {name!r}: not a built-in task and not a .csv file."
    guess = did_you_mean(name, BUILTIN_TASKS)
    if guess:
        message += f" Did you mean {guess!r}?"
    return DataError(
        f"{message} Built-in tasks: {', '.join(BUILTIN_TASKS)}; or pass a CSV file path."
    )


def is_csv(source: str) -> bool:
    """Whether `source` names a CSV file rather than a built-in task."""
    return source.lower().endswith(".csv") or (
        source not in BUILTIN_TASKS and Path(source).exists()
    )


def generate_split(task: BuiltinTask, seed: int, split: str, n: int, seq_len: int) -> Split:
    """`n` samples of split `split` ('train', 'val', 'test'), deterministic from `seed`."""
    import numpy as np

    rng = np.random.default_rng([seed, SPLITS[split]])
    x, y = task.generate(rng, n, seq_len)
    return Split(x, y)


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
    )
    train = generate_split(task, seed, "train", samples, seq_len)
    val = generate_split(task, seed, "val", _val_count(samples), seq_len)
    return Dataset(spec, train, val)


def _val_count(samples: int) -> int:
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


# --- CSV time series ------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """A CSV file's header and rows, as text."""

    path: Path
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    sha256: str

    def column(self, name: str) -> list[str]:
        if name not in self.columns:
            message = f"{self.path}: no column {name!r}."
            guess = did_you_mean(name, self.columns)
            if guess:
                message += f" Did you mean {guess!r}?"
            raise DataError(f"{message} Columns: {', '.join(self.columns)}.")
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def numeric(self, name: str) -> np.ndarray:
        """A column as float64; the first empty, non-numeric or non-finite cell is an error."""
        import numpy as np

        values = self.column(name)
        out = np.empty(len(values), dtype=np.float64)
        for i, text in enumerate(values):
            out[i] = _number(self.path, i, name, text)
        return out


def _number(path: Path, row: int, column: str, text: str) -> float:
    where = f"{path}: row {row + 1} (line {row + 2}), column {column!r}"
    if not text.strip():
        raise DataError(f"{where} is empty. Fill or drop the row, or leave the column out.")
    try:
        value = float(text)
    except ValueError:
        raise DataError(
            f"{where}: {text!r} is not a number. Clean the file, or leave the column out "
            "with --features."
        ) from None
    if not math.isfinite(value):
        raise DataError(f"{where}: {text!r} is not a finite number.")
    return value


def read_table(path: Path) -> Table:
    """Parse a CSV file with a header row; every row must have as many fields as the header."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"CSV file {str(path)!r} not found.") from None
    except OSError as exc:
        raise DataError(f"Cannot read CSV file {str(path)!r}: {exc.strerror}.") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from None
    try:
        records = [r for r in csv.reader(text.splitlines()) if any(c.strip() for c in r)]
    except csv.Error as exc:
        raise DataError(f"{path}: not a valid CSV file ({exc}).") from None
    if not records:
        raise DataError(f"{path}: empty file; expected a header row and data rows.")
    columns = tuple(c.strip() for c in records[0])
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates or not all(columns):
        problem = f"duplicate column(s) {duplicates}" if duplicates else "an empty column name"
        raise DataError(f"{path}: the header has {problem}; every column needs a unique name.")
    rows = []
    for number, record in enumerate(records[1:], 1):
        if len(record) != len(columns):
            raise DataError(
                f"{path}: row {number} has {len(record)} fields, the header has "
                f"{len(columns)} ({', '.join(columns)})."
            )
        rows.append(tuple(c.strip() for c in record))
    return Table(path, columns, tuple(rows), hashlib.sha256(raw).hexdigest())


def _windows(values: np.ndarray, window: int, ends: np.ndarray) -> np.ndarray:
    """`values` (rows, features) cut into the windows that end at rows `ends`."""
    import numpy as np

    view = np.lib.stride_tricks.sliding_window_view(values, window, axis=0)  # (n', f, window)
    return np.ascontiguousarray(view[ends - window + 1].transpose(0, 2, 1))  # (k, window, f)


def _check_window(path: Path, rows: int, window: int, horizon: int, needed: int) -> None:
    if window < 1:
        raise DataError(f"--window must be at least 1, got {window}.")
    if horizon < 0:
        raise DataError(f"--horizon must be 0 or more, got {horizon}.")
    windows = rows - window - horizon + 1
    if windows < needed:
        raise DataError(
            f"{path}: too few rows ({rows}) for --window {window} and --horizon {horizon}: "
            f"that makes {max(windows, 0)} window(s), at least {needed} needed "
            f"({window + horizon + needed - 1} rows). Use a smaller --window/--horizon or "
            "more data."
        )


def _default_features(table: Table, target: str, task: str) -> tuple[str, ...]:
    """Every numeric column; a classification label is never a feature.

    A column is numeric when all its non-empty cells parse as numbers, so that an empty
    cell in a numeric column is reported rather than the column silently left out.
    """
    features = []
    for name in table.columns:
        if task == CLASSIFICATION and name == target:
            continue
        try:
            [float(v) for v in table.column(name) if v]
        except ValueError:
            continue
        features.append(name)
    if not features:
        raise DataError(
            f"{table.path}: no numeric column to use as a feature. Columns: "
            f"{', '.join(table.columns)}; choose them with --features."
        )
    return tuple(features)


def _labels(table: Table, target: str) -> tuple[list[str], tuple[str, ...]]:
    labels = table.column(target)
    for i, label in enumerate(labels):
        if not label:
            raise DataError(f"{table.path}: row {i + 1} (line {i + 2}) has an empty label.")
    classes = tuple(sorted(set(labels), key=_label_order))
    if len(classes) < 2:
        raise DataError(
            f"{table.path}: column {target!r} has {len(classes)} distinct label(s) "
            f"({', '.join(classes)}); classification needs at least 2."
        )
    return labels, classes


def _label_order(label: str) -> tuple[int, float, str]:
    """Numeric labels in numeric order, then text labels alphabetically."""
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def csv_dataset(path: Path, options: DataOptions) -> Dataset:
    """Windows of a CSV time series, split chronologically and standardized (train stats)."""
    import numpy as np

    if options.target is None:
        raise DataError(f"{path}: a CSV source needs --target COLUMN (the column to predict).")
    if options.seq_len is not None or options.samples is not None:
        raise DataError(
            "--seq-len and --samples size built-in tasks; a CSV source uses --window and its rows."
        )
    task = options.task or REGRESSION
    if task not in TASKS:
        raise DataError(f"--task must be one of {', '.join(TASKS)}, got {task!r}.")
    if not 0.0 < options.val_fraction < 1.0:
        raise DataError(f"--val-fraction must be in (0, 1), got {options.val_fraction}.")
    if options.window is None:
        raise DataError(f"{path}: a CSV source needs --window N (the steps each sample sees).")
    table = read_table(path)
    target = options.target
    table.column(target)  # a clear error for a missing target before anything else
    features = options.features or _default_features(table, target, task)
    horizon = options.horizon if options.horizon is not None else _default_horizon(task)
    _check_window(path, len(table.rows), options.window, horizon, needed=2)
    values = np.stack([table.numeric(f) for f in features], axis=1)  # (rows, features)
    window = options.window
    ends = np.arange(window - 1, len(table.rows) - horizon)  # rows where windows end
    n_val = min(len(ends) - 1, max(1, round(len(ends) * options.val_fraction)))
    n_train = len(ends) - n_val
    # Statistics of the rows the training windows see (no peeking at validation rows).
    seen = values[: ends[n_train - 1] + 1]
    scaling = _fit_scaling(seen)
    x = scaling.scale_x(_windows(values, window, ends))  # (windows, window, features)
    target_rows = ends + horizon
    classes: tuple[str, ...] = ()
    if task == CLASSIFICATION:
        labels, classes = _labels(table, target)
        index = {c: i for i, c in enumerate(classes)}
        y = np.asarray([index[labels[r]] for r in target_rows], dtype=np.int64)  # (windows,)
    else:
        raw_y = table.numeric(target)[target_rows]
        train_y = raw_y[:n_train]
        y_std = float(train_y.std())
        scaling = replace(scaling, y_mean=float(train_y.mean()), y_std=y_std if y_std > 0 else 1.0)
        y = scaling.scale_y(raw_y)[:, None]  # (windows, 1)
    spec = DataSpec(
        kind="csv",
        source=path.name,
        task=task,
        input_size=len(features),
        output_size=len(classes) if task == CLASSIFICATION else 1,
        seq_len=window,
        target=target,
        features=tuple(features),
        horizon=horizon,
        val_fraction=options.val_fraction,
        classes=classes,
        scaling=scaling,
        file_sha256=table.sha256,
    )
    train = Split(x[:n_train], y[:n_train], target_rows[:n_train])
    val = Split(x[n_train:], y[n_train:], target_rows[n_train:])
    return Dataset(spec, train, val)


def _default_horizon(task: str) -> int:
    """Forecast the next row; classify the window's last row."""
    return 1 if task == REGRESSION else 0


def _fit_scaling(values: np.ndarray) -> Scaling:
    mean = values.mean(axis=0)
    std = values.std(axis=0)
    std = [float(s) if s > 0 else 1.0 for s in std]  # a constant column stays as it is
    return Scaling(tuple(float(m) for m in mean), tuple(std))


def load_dataset(source: str, options: DataOptions, seed: int) -> Dataset:
    """The train/validation data of `source`: a built-in task name or a CSV file path."""
    if source in BUILTIN_TASKS:
        return builtin_dataset(source, options, seed)
    if is_csv(source):
        return csv_dataset(Path(source), options)
    raise _unknown_source(source)


# --- data for a trained model ---------------------------------------------------------------


def evaluation_split(
    spec: DataSpec, source: str, seed: int | None = None, seq_len: int | None = None
) -> Split:
    """Labelled data from `source` prepared exactly as the model's training data was.

    A built-in task gives a fresh test split (its own random stream; `seq_len` may differ
    from training to test generalization). A CSV file gives every window that has a
    target, scaled with the saved statistics.
    """
    if spec.kind == "builtin":
        if source != spec.source:
            raise DataError(
                f"The model was trained on built-in task {spec.source!r}; it cannot be "
                f"evaluated on {source!r}. Use --data {spec.source}."
            )
        task = builtin_task(source)
        split = generate_split(
            task,
            seed if seed is not None else spec.seed or 0,
            "test",
            _val_count(spec.samples or task.samples),
            seq_len or spec.seq_len,
        )
        return split
    if source in BUILTIN_TASKS or not is_csv(source):
        raise DataError(
            f"The model was trained on CSV data ({spec.source}); evaluate it on a CSV file "
            f"with columns {', '.join(_needed_columns(spec))}, not {source!r}."
        )
    if seq_len is not None or seed is not None:
        raise DataError(
            "--seq-len and --seed apply to built-in tasks; a CSV model uses its window and "
            "the file's rows."
        )
    windows = csv_windows(spec, Path(source), labelled=True)
    assert windows.y is not None
    return Split(windows.x, windows.y, windows.rows)


def _needed_columns(spec: DataSpec) -> list[str]:
    return list(dict.fromkeys([*spec.features, *([spec.target] if spec.target else [])]))


@dataclass
class Windows:
    """Inputs for prediction: windows `x`, the row each prediction is for (may lie past the
    end of the file), and the scaled targets where the file has them (else None)."""

    x: np.ndarray
    rows: np.ndarray
    y: np.ndarray | None
    has_target: np.ndarray


def csv_windows(spec: DataSpec, path: Path, labelled: bool) -> Windows:
    """Every window of a CSV file, cut and scaled as `spec` says.

    With `labelled`, only windows whose target row exists (evaluation); otherwise also the
    last `horizon` windows, whose targets lie in the future (forecasting).
    """
    import numpy as np

    assert spec.scaling is not None and spec.horizon is not None
    table = read_table(path)
    missing = [c for c in spec.features if c not in table.columns]
    if missing:
        raise DataError(
            f"{path}: missing feature column(s) {missing} the model was trained with. "
            f"Columns: {', '.join(table.columns)}."
        )
    window, horizon = spec.seq_len, spec.horizon
    rows = len(table.rows)
    _check_window(path, rows, window, horizon if labelled else 0, needed=1)
    values = np.stack([table.numeric(f) for f in spec.features], axis=1)  # (rows, features)
    last = rows - horizon if labelled else rows
    ends = np.arange(window - 1, last)
    target_rows = ends + horizon
    x = spec.scaling.scale_x(_windows(values, window, ends))  # (windows, window, features)
    has_target = target_rows < rows
    target = spec.target
    if target is None or target not in table.columns:
        if labelled:
            table.column(str(target))  # the missing-column error
        return Windows(x, target_rows, None, np.zeros(len(ends), dtype=bool))
    known = target_rows[has_target]
    if spec.task == CLASSIFICATION:
        labels = table.column(target)
        index = {c: i for i, c in enumerate(spec.classes)}
        unknown = sorted({labels[r] for r in known} - set(index))
        if unknown:
            raise DataError(
                f"{path}: label(s) {unknown} in column {target!r} were not seen in training; "
                f"the model knows {', '.join(spec.classes)}."
            )
        y = np.full(len(ends), -1, dtype=np.int64)
        y[has_target] = [index[labels[r]] for r in known]
    else:
        raw = table.numeric(target) if labelled else _partial_numeric(table, target, known)
        y = np.full((len(ends), 1), np.nan, dtype=np.float32)
        y[has_target, 0] = spec.scaling.scale_y(raw[known])
    return Windows(x, target_rows, y, has_target)


def _partial_numeric(table: Table, column: str, rows: np.ndarray) -> np.ndarray:
    """The target column as numbers, checked only on the rows that are targets."""
    import numpy as np

    values = table.column(column)
    out = np.full(len(values), np.nan)
    for r in rows:
        out[r] = _number(table.path, int(r), column, values[r])
    return out
