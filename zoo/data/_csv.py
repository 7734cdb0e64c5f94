"""CSV time series: parsed, windowed chronologically, split and standardized.

The window ending at row ``i`` predicts the target at row ``i + H`` (the horizon). The
first windows train and the last ``val_fraction`` validate; features (and a regression
target) are standardized with statistics of the training rows only. Every malformed input
is a `DataError` naming the file, row and column. Importing this module imports no numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from zoo._errors import DataError
from zoo._limits import DATA_ELEMENTS
from zoo.data._spec import (
    CLASSIFICATION,
    REGRESSION,
    TASKS,
    DataOptions,
    Dataset,
    DataSpec,
    Scaling,
    Split,
)
from zoo.data._table import (
    SHOWN_COLUMNS,
    Table,
    default_features,
    list_columns,
    number,
    read_table,
)

if TYPE_CHECKING:
    import numpy as np


def _windows(values: np.ndarray, window: int, ends: np.ndarray) -> np.ndarray:
    """`values` (rows, features) cut into the windows that end at rows `ends`."""
    import numpy as np

    view = np.lib.stride_tricks.sliding_window_view(values, window, axis=0)  # (n', f, window)
    return np.ascontiguousarray(view[ends - window + 1].transpose(0, 2, 1))  # (k, window, f)


#: The next step of a too-short file when training (--window and --horizon are choices).
TRAIN_FIX = "Use a smaller --window/--horizon or more data."


def _check_window(
    path: Path, rows: int, window: int, horizon: int, needed: int, fix: str | None = None
) -> None:
    """Enough rows for `needed` windows; `fix`: the next step when the window and horizon
    are the model's, not options (default: the training options' fix, naming them)."""
    if window < 1:
        raise DataError(f"--window must be at least 1, got {window}.")
    if horizon < 0:
        raise DataError(f"--horizon must be 0 or more, got {horizon}.")
    windows = rows - window - horizon + 1
    if windows < needed:
        shape = (
            f"--window {window} and --horizon {horizon}"
            if fix is None
            else f"windows of {window} rows" + (f" and horizon {horizon}" if horizon else "")
        )
        raise DataError(
            f"{path}: too few rows ({rows}) for {shape}: that makes {max(windows, 0)} "
            f"window(s), at least {needed} needed ({window + horizon + needed - 1} rows). "
            f"{fix or TRAIN_FIX}"
        )


def _labels(table: Table, target: str) -> tuple[list[str], tuple[str, ...]]:
    labels = table.column(target)
    for i, label in enumerate(labels):
        if not label:
            raise DataError(f"{table.path}: row {i + 1} (line {i + 2}) has an empty label.")
    classes = tuple(sorted(set(labels), key=_label_order))
    if _continuous(labels, classes):
        raise DataError(
            f"{table.path}: column {target!r} has {len(classes):,} distinct values in "
            f"{len(labels):,} rows: a continuous value, not class labels (classification "
            "learns one output per class). Predict it with --task regression (the default), "
            "or bin it into a few labels first."
        )
    if len(classes) < 2:
        raise DataError(
            f"{table.path}: column {target!r} has {len(classes)} distinct label(s) "
            f"({', '.join(classes)}); classification needs at least 2."
        )
    return labels, classes


#: Up to this many classes a label column is never called continuous.
FEW_CLASSES = 20


def _continuous(labels: list[str], classes: tuple[str, ...]) -> bool:
    """A target column that holds measurements rather than labels: more than FEW_CLASSES
    distinct values, and either fewer than two rows per value on average or numbers that are
    not whole (1.25, 3.7: a price, a temperature)."""
    if len(classes) <= FEW_CLASSES:
        return False
    if 2 * len(classes) > len(labels):
        return True
    try:
        return any(not float(c).is_integer() for c in classes)
    except ValueError:  # text labels
        return False


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
    features = options.features or default_features(table, target, task)
    horizon = options.horizon if options.horizon is not None else _default_horizon(task)
    if task == REGRESSION and horizon == 0 and target in features:
        raise DataError(
            f"{path}: --horizon 0 with the target {target!r} among the features: each window's "
            "last row holds the very value it predicts (the target leaks into the input). "
            f"Forecast with --horizon 1 or more, or leave {target!r} out of --features."
        )
    _check_window(path, len(table.rows), options.window, horizon, needed=2)
    window = options.window
    ends = np.arange(window - 1, len(table.rows) - horizon)  # rows where windows end
    _check_size(path, len(ends), window, len(features))
    values = np.stack([table.numeric(f) for f in features], axis=1)  # (rows, features)
    n_val = validation_windows(len(ends), options.val_fraction)
    n_train = len(ends) - n_val
    # Statistics of the rows the training windows see (no peeking at validation rows).
    seen = values[: ends[n_train - 1] + 1]
    x_mean, x_std = _moments(path, seen, features)
    scaling = Scaling(x_mean, x_std)
    x = _scaled(path, scaling.scale_x, _windows(values, window, ends), features)
    target_rows = ends + horizon
    classes: tuple[str, ...] = ()
    if task == CLASSIFICATION:
        labels, classes = _labels(table, target)
        index = {c: i for i, c in enumerate(classes)}
        y = np.asarray([index[labels[r]] for r in target_rows], dtype=np.int64)  # (windows,)
    else:
        fix = (
            f"A regression target must hold numbers; if {target!r} holds class labels, "
            "train with --task classification."
        )
        raw_y = table.numeric(target, fix)[target_rows]
        (y_mean,), (y_std,) = _moments(path, raw_y[:n_train, None], [target])
        scaling = replace(scaling, y_mean=y_mean, y_std=y_std)
        y = _scaled(path, scaling.scale_y, raw_y[:, None], [target])  # (windows, 1)
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


def _check_size(path: Path, windows: int, window: int, features: int) -> None:
    """The windows' inputs (windows x window x features) within `ZOO_MAX_DATA_ELEMENTS`,
    checked before they are cut."""
    DATA_ELEMENTS.check(
        windows * window * features,
        f"{path}: {windows:,} windows of {window:,} rows x {features:,} feature(s)",
        "Use a smaller --window, fewer --features or fewer rows",
        DataError,
    )


def _moments(
    path: Path, values: np.ndarray, names: Sequence[str]
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Each column's mean and standard deviation (1.0 for a constant column, which stays as
    it is). Where the plain float64 sums overflow (values near 1e154 and beyond), they are
    taken on the column divided by its largest magnitude; a column whose statistics still
    do not fit is an error, never an `Infinity` in config.json."""
    import numpy as np

    with np.errstate(over="ignore", invalid="ignore"):
        mean, std = values.mean(axis=0), values.std(axis=0)
        if not (np.isfinite(mean).all() and np.isfinite(std).all()):
            top = np.abs(values).max(axis=0)
            top[top == 0] = 1.0
            unit = values / top
            mean, std = unit.mean(axis=0) * top, unit.std(axis=0) * top
    for i, name in enumerate(names):
        if not (np.isfinite(mean[i]) and np.isfinite(std[i])):
            raise DataError(
                f"{path}: column {name!r} holds values up to {np.abs(values[:, i]).max():.4g}, "
                "too large to standardize in float64. Rescale the column (other units)."
            )
    return tuple(float(m) for m in mean), tuple(float(s) if s > 0 else 1.0 for s in std)


def _scaled(
    path: Path, scale: Callable[[np.ndarray], np.ndarray], values: np.ndarray, names: Sequence[str]
) -> np.ndarray:
    """`scale(values)` (float32, standardized), or an error naming the first column whose
    standardized values overflow: new data far outside what the model was trained on."""
    import numpy as np

    with np.errstate(over="ignore", invalid="ignore"):
        out = scale(values)
    finite = np.isfinite(out)
    if not finite.all():
        column = int(np.argwhere(~finite)[0][-1])
        raise DataError(
            f"{path}: column {names[column]!r} holds values up to "
            f"{np.abs(values[..., column]).max():.4g}, more than float32 can hold once "
            "standardized with the training statistics: far outside the data the model was "
            "trained on. Check the column's units."
        )
    return out


def validation_windows(count: int, fraction: float) -> int:
    """How many of `count` chronological windows validate: the last `fraction` of them, at
    least one, leaving at least one to train on."""
    return min(count - 1, max(1, round(count * fraction)))


@dataclass
class Windows:
    """Inputs for prediction: windows `x`, the row each prediction is for (may lie past the
    end of the file), and the scaled targets where the file has them (else None); for
    regression, `truth`: the targets as the file has them (float64, NaN where unknown)."""

    x: np.ndarray
    rows: np.ndarray
    y: np.ndarray | None
    has_target: np.ndarray
    truth: np.ndarray | None = None


def csv_windows(spec: DataSpec, path: Path, labelled: bool) -> Windows:
    """Every window of a CSV file, cut and scaled as `spec` says.

    With `labelled`, only windows whose target row exists (evaluation); otherwise also the
    last `horizon` windows, whose targets lie in the future (forecasting).
    """
    import numpy as np

    assert spec.scaling is not None and spec.horizon is not None
    table = read_table(path)
    missing = [c for c in spec.features if c not in table.index]
    if missing:
        more = len(missing) - SHOWN_COLUMNS
        raise DataError(
            f"{path}: missing feature column(s) {missing[:SHOWN_COLUMNS]}"
            f"{f' and {more:,} more' if more > 0 else ''} the model was trained with. "
            f"Columns: {list_columns(table.columns)}."
        )
    window, horizon = spec.seq_len, spec.horizon
    rows = len(table.rows)
    fix = (  # the model fixed window and horizon when it was trained: only the file can change
        f"The model was trained on windows of {window} rows"
        + (f" predicting {horizon} rows ahead" if labelled and horizon else "")
        + "; give a file with more rows."
    )
    _check_window(path, rows, window, horizon if labelled else 0, needed=1, fix=fix)
    last = rows - horizon if labelled else rows
    ends = np.arange(window - 1, last)
    _check_size(path, len(ends), window, len(spec.features))
    values = np.stack([table.numeric(f) for f in spec.features], axis=1)  # (rows, features)
    target_rows = ends + horizon
    x = _scaled(path, spec.scaling.scale_x, _windows(values, window, ends), spec.features)
    has_target = target_rows < rows
    target = spec.target
    if target is None or target not in table.index:
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
        y[has_target] = _scaled(path, spec.scaling.scale_y, raw[known, None], [target])
        truth = np.full(len(ends), np.nan)
        truth[has_target] = raw[known]
        return Windows(x, target_rows, y, has_target, truth)
    return Windows(x, target_rows, y, has_target)


def _partial_numeric(table: Table, column: str, rows: np.ndarray) -> np.ndarray:
    """The target column as numbers, checked only on the rows that are targets."""
    import numpy as np

    values = table.column(column)
    out = np.full(len(values), np.nan)
    for r in rows:
        out[r] = number(table.path, int(r), column, values[r])
    return out
