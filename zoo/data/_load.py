"""Training data with no download: built-in synthetic tasks and the user's CSV time series.

`load_dataset(source, ...)` turns a built-in task name (zoo.data._synthetic) or a CSV file
(zoo.data._csv) into a `Dataset` (zoo.data._spec); `evaluation_split` prepares new data for a
trained model exactly as its training data was prepared. Importing this module imports no
numpy.
"""

from __future__ import annotations

from pathlib import Path

from zoo._errors import DataError
from zoo.data._csv import Windows, csv_dataset, csv_windows, validation_windows
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
from zoo.data._synthetic import (
    BUILTIN_TASKS,
    builtin_dataset,
    builtin_task,
    generate_split,
    unknown_source,
    val_count,
)
from zoo.data._table import read_table

__all__ = [
    "BUILTIN_TASKS",
    "CLASSIFICATION",
    "REGRESSION",
    "TASKS",
    "DataOptions",
    "DataSpec",
    "Dataset",
    "Scaling",
    "Split",
    "Windows",
    "builtin_dataset",
    "csv_dataset",
    "csv_windows",
    "evaluation_split",
    "is_csv",
    "load_dataset",
    "read_table",
]


def is_csv(source: str) -> bool:
    """Whether `source` names a CSV file rather than a built-in task."""
    return source.lower().endswith(".csv") or (
        source not in BUILTIN_TASKS and Path(source).exists()
    )


def load_dataset(source: str, options: DataOptions, seed: int) -> Dataset:
    """The train/validation data of `source`: a built-in task name or a CSV file path."""
    if source in BUILTIN_TASKS:
        return builtin_dataset(source, options, seed)
    if is_csv(source):
        return csv_dataset(Path(source), options)
    raise unknown_source(source)


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
            val_count(spec.samples or task.samples),
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


def held_out(spec: DataSpec, split: Split) -> Split:
    """Of every labelled window of the training CSV (`evaluation_split` on it), the ones
    training held out: the last `val_fraction`, as `zoo train` split them."""
    assert spec.kind == "csv" and spec.val_fraction is not None
    start = len(split) - validation_windows(len(split), spec.val_fraction)
    rows = None if split.rows is None else split.rows[start:]
    return Split(split.x[start:], split.y[start:], rows)


def _needed_columns(spec: DataSpec) -> list[str]:
    return list(dict.fromkeys([*spec.features, *([spec.target] if spec.target else [])]))
