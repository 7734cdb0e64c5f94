"""Forecasting data sets read from the CSV files in statsmodels' wheel.

`statsmodels:NAME` reads `statsmodels/datasets/NAME/NAME.csv` itself (found with
`importlib.util.find_spec`: statsmodels is never imported, and nothing is downloaded;
`get_rdataset`, which downloads, is never used) and makes a one-step (or `--horizon h`)
forecasting task of windows: the input is `--window` consecutive values, the target the
value `h` steps after the window's last one.

Chronological split, by the index `t` of each window's target in the series of `n` values:
test is `t >= floor(0.8 n)` (the last 20%, input windows may reach back into the training
part), validation is `t >= floor(test_start * (1 - val_fraction))` before that, training the
rest. Scaling: mean and standard deviation of the values before the validation part.

Importing this module imports no numpy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from zoo._errors import DataError
from zoo.data._source import package_dir
from zoo.data._spec import REGRESSION, DataOptions, Dataset, DataSpec, Scaling, SeriesSplit, Split

PACKAGE = "statsmodels"
#: The share of the series whose targets are the test split.
TEST_FRACTION = 0.2


@dataclass(frozen=True)
class SeriesSet:
    """A bundled series: `read(rows)` turns the CSV rows (header first) into the values
    (None where missing)."""

    name: str
    description: str
    target: str
    observations: int
    window: int
    read: Callable[[list[list[str]]], list[float | None]]


def _column(index: int) -> Callable[[list[list[str]]], list[float | None]]:
    return lambda rows: [_number(row[index]) for row in rows[1:]]


def _months(rows: list[list[str]]) -> list[float | None]:
    """elnino: one row per year, YEAR then JAN..DEC: the months in order."""
    return [_number(value) for row in rows[1:] for value in row[1:13]]


def _number(text: str) -> float | None:
    if text.strip() in ("", "NA", "NaN", "nan"):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


SERIES_SETS = (
    SeriesSet("sunspots", "yearly sunspot activity, 1700-2008", "SUNACTIVITY", 309, 20,
              _column(1)),
    SeriesSet("co2", "weekly Mauna Loa CO2 (ppm), 1958-2001; missing weeks interpolated",
              "co2", 2284, 52, _column(1)),
    SeriesSet("nile", "yearly Nile flow at Aswan (1e8 m^3), 1871-1970", "volume", 100, 20,
              _column(1)),
    SeriesSet("elnino", "monthly Pacific sea surface temperature (C), 1950-2010", "SST", 732,
              24, _months),
)  # fmt: skip


def read_series(item: SeriesSet) -> tuple[list[float], tuple[str, ...], str]:
    """The values of `item` (missing ones linearly interpolated), notes on what was done,
    and the sha256 of the file."""
    import csv
    import hashlib
    import io

    root = package_dir(PACKAGE)
    if root is None:
        raise DataError(
            f"statsmodels:{item.name} needs statsmodels: pip install 'zoo-rnn[datasets]'."
        )
    path = root / "datasets" / item.name / f"{item.name}.csv"
    if not path.is_file():
        raise DataError(f"{path} not found: this statsmodels does not bundle {item.name}.")
    raw = path.read_bytes()
    rows = [row for row in csv.reader(io.StringIO(raw.decode("utf-8"))) if row]
    try:
        values = item.read(rows)
    except (ValueError, IndexError) as exc:
        raise DataError(f"{path}: not the expected layout ({exc}).") from None
    filled, notes = interpolate(values)
    return filled, notes, hashlib.sha256(raw).hexdigest()


def interpolate(values: list[float | None]) -> tuple[list[float], tuple[str, ...]]:
    """Missing values filled linearly between their neighbours (the nearest value at the
    ends), and a note saying how many were."""
    known = [i for i, v in enumerate(values) if v is not None]
    if not known:
        raise DataError("the series has no values.")
    given = {i: v for i, v in enumerate(values) if v is not None}
    out: list[float] = []
    for i, value in enumerate(values):
        if value is not None:
            out.append(value)
            continue
        before = max((k for k in known if k < i), default=known[0])
        after = min((k for k in known if k > i), default=known[-1])
        if before >= i or after <= i:  # before the first or after the last value
            out.append(given[after if before >= i else before])
            continue
        lo, hi = given[before], given[after]
        out.append(lo + (hi - lo) * (i - before) / (after - before))
    missing = len(values) - len(known)
    notes = (f"{missing} missing values interpolated linearly",) if missing else ()
    return out, notes


def boundaries(n: int, val_fraction: float) -> tuple[int, int]:
    """`(val_start, test_start)`: series indices where validation and test targets start."""
    test_start = int(n * (1 - TEST_FRACTION))
    return int(test_start * (1 - val_fraction)), test_start


def forecast_dataset(item: SeriesSet, options: DataOptions, seed: int) -> Dataset:
    """Windows of `item`, split chronologically and scaled as the module docstring says."""
    import numpy as np

    name = f"statsmodels:{item.name}"
    given = [f for f, v in (("--target", options.target), ("--features", options.features),
                            ("--seq-len", options.seq_len), ("--samples", options.samples))
             if v is not None]  # fmt: skip
    if given or options.task not in (None, REGRESSION):
        raise DataError(
            f"{', '.join(given) or '--task'} do not apply to {name}: it is a one-series "
            "forecast (choose --window and --horizon)."
        )
    window = options.window if options.window is not None else item.window
    horizon = options.horizon if options.horizon is not None else 1
    if horizon < 1:
        raise DataError(f"--horizon must be at least 1 for forecasting {name}, got {horizon}.")
    values, notes, digest = read_series(item)
    series = np.asarray(values, dtype=np.float64)
    n = len(series)
    val_start, test_start = boundaries(n, options.val_fraction)
    first = window + horizon - 1  # the first target with a full window
    if first >= val_start:
        raise DataError(
            f"--window {window} with --horizon {horizon} leaves no training window in {name} "
            f"({n} values, validation from index {val_start}); use a smaller --window."
        )
    train_values = series[:val_start]
    mean, std = float(train_values.mean()), float(train_values.std()) or 1.0
    scaling = Scaling((mean,), (std,), mean, std)
    targets = np.arange(first, n)  # (windows,)
    steps = targets[:, None] - horizon - window + 1 + np.arange(window)[None, :]
    x = scaling.scale_x(series[steps][:, :, None])  # (windows, window, 1)
    y = scaling.scale_y(series[targets][:, None])  # (windows, 1)

    def split(lo: int, hi: int) -> Split:
        keep = (targets >= lo) & (targets < hi)
        return Split(x[keep], y[keep], rows=targets[keep])

    spec = DataSpec(
        kind="source",
        source=name,
        task=REGRESSION,
        input_size=1,
        output_size=1,
        seq_len=window,
        seed=seed,
        samples=n,
        target=item.target,
        features=(item.target,),
        horizon=horizon,
        val_fraction=options.val_fraction,
        scaling=scaling,
        file_sha256=digest,
        split=(
            f"chronological: test targets t >= {test_start} (last {TEST_FRACTION:g} of {n}), "
            f"validation {val_start} <= t < {test_start}, training the earlier ones"
        ),
        notes=notes,
    )
    return Dataset(
        spec,
        split(first, val_start),
        split(val_start, test_start),
        test=split(test_start, n),
        series=SeriesSplit(series, val_start, test_start, horizon),
    )
