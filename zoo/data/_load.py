"""Training data with no download: registered data sources and the user's CSV time series.

`load_dataset(source, ...)` turns a registered data source's name (`zoo datasets`: the
built-in tasks of zoo.data._synthetic, the bundled real data sets of zoo.data._forecast and
zoo.data._ucr, any plugin's) or a CSV file (zoo.data._csv) into a `Dataset`
(zoo.data._spec); `evaluation_split` prepares new data for a trained model exactly as its
training data was prepared. Importing this module imports no numpy.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from zoo._errors import DataError
from zoo.data._csv import Windows, csv_dataset, csv_windows, validation_windows
from zoo.data._source import DataSource, find_source
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
    val_count,
)
from zoo.data._table import read_table

__all__ = [
    "BUILTIN_TASKS",
    "CLASSIFICATION",
    "REGRESSION",
    "TASKS",
    "DataOptions",
    "DataSource",
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
    "reload_dataset",
]


Sources = Mapping[str, DataSource]


def is_csv(source: str, sources: Sources | None = None) -> bool:
    """Whether `source` names a CSV file rather than a data source (registered, or built in
    when `sources` is not given)."""
    names = BUILTIN_TASKS if sources is None else sources
    return source not in names and (source.lower().endswith(".csv") or Path(source).exists())


def registered(sources: Sources | None) -> Sources:
    """`sources`, or when None every data source the installed plugins register."""
    if sources is not None:
        return sources
    from zoo._manager import load_plugins

    return load_plugins().datasets


def load_dataset(
    source: str, options: DataOptions, seed: int, sources: Sources | None = None
) -> Dataset:
    """The train/validation (and test, where the source has one) data of `source`: a
    registered data source's name or a CSV file path. `sources` are the registered ones
    (`Plugins.datasets`); None loads the plugins to find them."""
    if source in BUILTIN_TASKS and sources is None:  # the common case, without plugins
        return builtin_dataset(source, options, seed)
    if is_csv(source, sources):
        return csv_dataset(Path(source), options)
    return find_source(source, registered(sources)).open(options, seed)


def evaluation_split(
    spec: DataSpec,
    source: str,
    seed: int | None = None,
    seq_len: int | None = None,
    sources: Sources | None = None,
) -> Split:
    """Labelled data from `source` prepared exactly as the model's training data was.

    A built-in task gives a fresh test split (its own random stream; `seq_len` may differ
    from training to test generalization). A registered data source gives its test split,
    made again as at training (same file, same scaling, else a `DataError`). A CSV file
    gives every window that has a target, scaled with the saved statistics.
    """
    if spec.kind == "source":
        return source_test_split(spec, source, seed, seq_len, sources)
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
    if not is_csv(source, sources):
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


def source_test_split(
    spec: DataSpec,
    source: str,
    seed: int | None = None,
    seq_len: int | None = None,
    sources: Sources | None = None,
) -> Split:
    """The test split of the registered data source a model was trained on."""
    if source != spec.source:
        raise DataError(
            f"The model was trained on data source {spec.source!r}; it is evaluated on that "
            f"source's test split, not on {source!r}. Use --data {spec.source}."
        )
    if seed is not None or seq_len is not None:
        raise DataError(
            f"--seed and --seq-len apply to built-in tasks; {spec.source} has a fixed test split."
        )
    dataset = reload_dataset(spec, sources)
    if dataset.test is None:
        raise DataError(f"Data source {source!r} has no test split to evaluate on.")
    return dataset.test


def reload_dataset(spec: DataSpec, sources: Sources | None = None) -> Dataset:
    """The registered data source a model was trained on (`spec.kind == "source"`), made
    again with the recorded options and seed: train, validation, test and, for a forecast,
    the series, e.g. for `baselines(reload_dataset(spec))` on the model's own split.

    A `DataError` if the source's files or scaling differ from those recorded at training.
    """
    if spec.kind != "source":
        raise DataError(
            f"{spec.source!r} is not a registered data source ({spec.kind}); only those "
            "can be made again with their own test split."
        )
    forecast = spec.horizon is not None
    options = DataOptions(
        window=spec.seq_len if forecast else None,
        horizon=spec.horizon,
        val_fraction=spec.val_fraction if spec.val_fraction is not None else 0.2,
    )
    dataset = find_source(spec.source, registered(sources)).open(options, spec.seed or 0)
    made = dataset.spec
    if made.file_sha256 != spec.file_sha256 or made.scaling != spec.scaling:
        raise DataError(
            f"{spec.source} is not the data the model was trained on: its "
            f"{'files differ' if made.file_sha256 != spec.file_sha256 else 'scaling differs'} "
            "(another version of the package that ships it?). Retrain on this data."
        )
    return dataset


def held_out(spec: DataSpec, split: Split) -> Split:
    """Of every labelled window of the training CSV (`evaluation_split` on it), the ones
    training held out: the last `val_fraction`, as `zoo train` split them."""
    assert spec.kind == "csv" and spec.val_fraction is not None
    start = len(split) - validation_windows(len(split), spec.val_fraction)
    rows = None if split.rows is None else split.rows[start:]
    return Split(split.x[start:], split.y[start:], rows)


def _needed_columns(spec: DataSpec) -> list[str]:
    return list(dict.fromkeys([*spec.features, *([spec.target] if spec.target else [])]))
