"""Baselines a trained model must beat, computed by zoo's own numpy code on the model's split.

- Forecasting (a `Dataset` with a `series`): persistence, `y_hat[t] = y[t - h]`, and a
  least-squares AR(p) with intercept, `y_hat[t] = c + sum_i a_i y[t - h - i]` (i < p; the
  direct h-step form, one-step for h = 1). p is chosen in 1..20 by validation MSE (fit on
  the training targets), then the model is refit on training and validation targets and
  scored on the test targets. Every fit uses every target whose lags lie in the series
  (`t >= p + h - 1`), not only those with a full model window. Metric: MSE in the target's
  own units.
- Classification (a `Dataset` with a test split): 1-nearest neighbour, Euclidean distance on
  the raw (unscaled, as the UCR archive reports it) sequences; the references are the
  training and validation samples together (the official TRAIN), in file order (the first
  wins a tie). Variable-length sequences are compared zero-padded to the longest sequence
  of the data set (the padding the splits already have). Metric: accuracy.

Importing this module imports no numpy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from zoo._errors import DataError
from zoo.data._spec import CLASSIFICATION, Dataset, SeriesSplit, Split

if TYPE_CHECKING:
    import numpy as np

#: AR orders tried for the autoregressive baseline.
MAX_ORDER = 20


@dataclass(frozen=True)
class BaselineResult:
    """One baseline's score on a data set's test split: `metric` is "mse" (target units,
    lower is better) or "accuracy"; `detail` says how it was computed."""

    name: str
    metric: str
    value: float
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def baselines(dataset: Dataset) -> list[BaselineResult]:
    """Every baseline that applies to `dataset` (see the module docstring)."""
    if dataset.series is not None:
        return [persistence(dataset.series), autoregressive(dataset.series)]
    if dataset.spec.task == CLASSIFICATION and dataset.test is not None:
        return [nearest_neighbour(dataset)]
    raise DataError(
        f"No baseline for {dataset.spec.source!r}: baselines need a forecasting series or "
        "a classification data set with a test split (registered data sets have them)."
    )


def persistence(series: SeriesSplit) -> BaselineResult:
    """MSE of `y_hat[t] = y[t - h]` on the test targets."""
    import numpy as np

    v, h = series.values, series.horizon
    t = np.arange(series.test_start, len(v))
    mse = float(np.mean((v[t] - v[t - h]) ** 2))
    return BaselineResult("persistence", "mse", mse, f"y_hat[t] = y[t-{h}]; {len(t)} targets")


def _design(v: np.ndarray, t: np.ndarray, order: int, horizon: int) -> np.ndarray:
    """Rows `[1, v[t-h], v[t-h-1], ..., v[t-h-order+1]]` for each target index in `t`."""
    import numpy as np

    lags = t[:, None] - horizon - np.arange(order)[None, :]  # (targets, order)
    return np.concatenate([np.ones((len(t), 1)), v[lags]], axis=1)


def _fit(v: np.ndarray, t: np.ndarray, order: int, horizon: int) -> np.ndarray:
    import numpy as np

    coef, *_ = np.linalg.lstsq(_design(v, t, order, horizon), v[t], rcond=None)
    return np.asarray(coef)


def _mse(v: np.ndarray, t: np.ndarray, coef: np.ndarray, order: int, horizon: int) -> float:
    import numpy as np

    return float(np.mean((_design(v, t, order, horizon) @ coef - v[t]) ** 2))


def autoregressive(series: SeriesSplit, max_order: int = MAX_ORDER) -> BaselineResult:
    """Least-squares AR(p) with intercept, p chosen by validation MSE (module docstring)."""
    import numpy as np

    v, h = series.values, series.horizon
    val = np.arange(series.val_start, series.test_start)
    test = np.arange(series.test_start, len(v))
    scores: dict[int, float] = {}
    for order in range(1, max_order + 1):
        train = np.arange(order + h - 1, series.val_start)
        if len(train) <= order + 1:  # fewer targets than coefficients: not identifiable
            break
        scores[order] = _mse(v, val, _fit(v, train, order, h), order, h)
    if not scores:
        raise DataError("The training part is too short for an AR(1) baseline.")
    best = min(scores, key=lambda p: scores[p])
    coef = _fit(v, np.arange(best + h - 1, series.test_start), best, h)
    mse = _mse(v, test, coef, best, h)
    return BaselineResult(
        f"ar({best})",
        "mse",
        mse,
        f"least-squares AR({best}) with intercept, p in 1..{max(scores)} chosen by "
        f"validation MSE {scores[best]:.4g}, refit on train+validation; {len(test)} targets",
    )


def _raw(dataset: Dataset, split: Split) -> np.ndarray:
    """`split.x` unscaled (float64), zero past each sequence's length, flattened per sample."""
    import numpy as np

    assert dataset.spec.scaling is not None
    scaling = dataset.spec.scaling
    x = split.x.astype(np.float64) * np.asarray(scaling.x_std) + np.asarray(scaling.x_mean)
    if split.lengths is not None:
        x[np.arange(x.shape[1])[None, :] >= split.lengths[:, None]] = 0.0
    flat: np.ndarray = x.reshape(len(x), -1)
    return flat


def nearest_neighbour(dataset: Dataset) -> BaselineResult:
    """Accuracy of 1-NN (Euclidean, raw values) on the test split, TRAIN as references."""
    import numpy as np

    assert dataset.test is not None
    refs = np.concatenate([_raw(dataset, dataset.train), _raw(dataset, dataset.val)])
    labels = np.concatenate([dataset.train.y, dataset.val.y])
    train_rows, val_rows = dataset.train.rows, dataset.val.rows
    if train_rows is not None and val_rows is not None:  # file order: the first wins a tie
        order = np.argsort(np.concatenate([train_rows, val_rows]), kind="stable")
        refs, labels = refs[order], labels[order]
    queries = _raw(dataset, dataset.test)
    predicted = np.empty(len(queries), dtype=np.int64)
    step = max(1, 50_000_000 // max(1, refs.size))  # queries per pass: ~400 MB of float64
    for i in range(0, len(queries), step):
        diff = queries[i : i + step, None, :] - refs[None, :, :]
        predicted[i : i + step] = labels[np.argmin((diff * diff).sum(axis=2), axis=1)]
    accuracy = float(np.mean(predicted == dataset.test.y))
    padded = " (zero-padded to the longest)" if dataset.test.lengths is not None else ""
    return BaselineResult(
        "1nn",
        "accuracy",
        accuracy,
        f"1-nearest neighbour, Euclidean on raw values{padded}; {len(refs)} references, "
        f"{len(queries)} test sequences",
    )
