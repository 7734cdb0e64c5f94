"""What every data source produces, and the description saved with a trained model.

A `Dataset` is float32 sequences `x` (n, seq, features) with targets `y`, split into train,
validation and (for real data sets) test, plus a `DataSpec` that says how they were made
(source, task, window, columns, scaling, class labels, split rule, what was done to the
data). The spec is saved in the checkpoint's config.json, so
`zoo eval` / `zoo predict` can rebuild the same windows and apply the same scaling to new
data. Importing this module imports no numpy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zoo._errors import DataError

if TYPE_CHECKING:
    import numpy as np

REGRESSION = "regression"
CLASSIFICATION = "classification"
TASKS = (REGRESSION, CLASSIFICATION)
#: `DataSpec.kind`: a built-in synthetic task, a CSV file, or a registered data source.
KINDS = ("builtin", "csv", "source")


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
        return _standardize(x, mean, std)

    def scale_y(self, y: np.ndarray) -> np.ndarray:
        return _standardize(y, self.y_mean, self.y_std)

    def unscale_y(self, y: np.ndarray) -> np.ndarray:
        """Scaled targets back in the target's units, computed in float64: a float32 product
        near a mean of 1e8 would round every prediction to a multiple of 8."""
        import numpy as np

        return np.asarray(y, dtype=np.float64) * self.y_std + self.y_mean

    def to_dict(self) -> dict[str, Any]:
        return {
            "x_mean": list(self.x_mean),
            "x_std": list(self.x_std),
            "y_mean": self.y_mean,
            "y_std": self.y_std,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scaling:
        """The scaling `to_dict` wrote: finite numbers, positive deviations; else ValueError."""
        x_mean, x_std = _numbers(data["x_mean"]), _numbers(data["x_std"])
        y_mean, y_std = _numbers([data["y_mean"]])[0], _numbers([data["y_std"]])[0]
        if len(x_mean) != len(x_std) or not all(s > 0 for s in (*x_std, y_std)):
            raise ValueError("scaling: x_mean and x_std differ in length, or a std is not > 0")
        return cls(x_mean, x_std, y_mean, y_std)


def _standardize(values: np.ndarray, mean: Any, std: Any) -> np.ndarray:
    """`(values - mean) / std` as float32. Values near the ends of the float64 range (a
    difference past 1.8e308) are taken as `values / std - mean / std` instead, which cannot
    overflow there; what still does not fit float32 is left inf for the caller to refuse."""
    import numpy as np

    with np.errstate(over="ignore", invalid="ignore"):
        out: np.ndarray = (values - mean) / std
        if not np.isfinite(out).all():
            out = values / std - mean / std
        return out.astype(np.float32)


def _numbers(values: Any) -> tuple[float, ...]:
    if not isinstance(values, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values
    ):
        raise ValueError(f"scaling: expected finite numbers, got {str(values)[:80]}")
    return tuple(float(v) for v in values)


@dataclass(frozen=True)
class DataSpec:
    """How a dataset was made: saved in config.json as `data` so it can be made again.

    `seq_len` is the sequence length (a built-in task's, or a CSV window). `classes` are the
    class labels of a classification task, in the order of the model's outputs.
    """

    kind: str  # "builtin" | "csv" | "source" (a registered data set with a test split)
    source: str  # the task or data source name, or the CSV file's name
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
    #: Sequences have different lengths (padded, with `lengths`); `seq_len` is the longest.
    variable_length: bool = False
    #: How train/validation/test were split (a sentence; empty for built-in tasks and CSV).
    split: str = ""
    #: What was done to the raw data, one sentence each (e.g. missing values interpolated).
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON description (`split` and `notes` only when set, so the description of a
        built-in task or CSV model is what it was before they existed)."""
        extra = {"split": self.split, "notes": list(self.notes)} if self.kind == "source" else {}
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
            "variable_length": self.variable_length,
            **extra,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DataSpec:
        """The description `to_dict` wrote, every key's type and range checked (config.json
        is a file anyone can edit); a `DataError` naming the key otherwise."""
        try:
            scaling = data.get("scaling")
            spec = cls(
                kind=_field(data, "kind", str, choices=KINDS),
                source=_field(data, "source", str),
                task=_field(data, "task", str, choices=TASKS),
                input_size=_field(data, "input_size", int, least=1),
                output_size=_field(data, "output_size", int, least=1),
                seq_len=_field(data, "seq_len", int, least=1),
                seed=_field(data, "seed", int, least=0, optional=True),
                samples=_field(data, "samples", int, least=1, optional=True),
                target=_field(data, "target", str, optional=True),
                features=tuple(_strings(data, "features")),
                horizon=_field(data, "horizon", int, least=0, optional=True),
                val_fraction=_field(data, "val_fraction", float, optional=True),
                classes=tuple(_strings(data, "classes")),
                scaling=Scaling.from_dict(scaling) if scaling is not None else None,
                file_sha256=_field(data, "file_sha256", str, optional=True),
                variable_length=_field(data, "variable_length", bool, optional=True) or False,
                split=_field(data, "split", str, optional=True) or "",
                notes=tuple(_strings(data, "notes")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"Malformed 'data' description in a checkpoint: {exc}.") from None
        sizes = [(spec.task == CLASSIFICATION, len(spec.classes), spec.output_size)]
        if spec.scaling is not None:
            sizes.append((True, len(spec.scaling.x_mean), spec.input_size))
        if spec.kind == "csv":
            sizes.append((True, len(spec.features), spec.input_size))
        if any(applies and have != want for applies, have, want in sizes):
            raise DataError(
                "Malformed 'data' description in a checkpoint: its features, classes or "
                "scaling do not match input_size/output_size."
            )
        return spec

    def describe(self) -> str:
        """'adding (seq 50, 10000 samples, regression)'"""
        if self.kind == "builtin":
            return f"{self.source} (seq {self.seq_len}, {self.samples} samples, {self.task})"
        if self.kind == "source":
            shape = f"seq up to {self.seq_len}" if self.variable_length else f"seq {self.seq_len}"
            return f"{self.source} ({shape}, {self.task}, {self.split or 'its own split'})"
        return (
            f"{self.source} (target {self.target!r}, window {self.seq_len}, "
            f"horizon {self.horizon}, {self.task})"
        )


def _field(
    data: Mapping[str, Any],
    key: str,
    kind: type,
    *,
    optional: bool = False,
    least: int | None = None,
    choices: tuple[str, ...] = (),
) -> Any:
    """`data[key]`, of type `kind` (an int is a float too, a bool is no int), else ValueError."""
    value: Any = data.get(key) if optional else data[key]
    if value is None and optional:
        return None
    ok = isinstance(value, int | float) if kind is float else isinstance(value, kind)
    if kind is not bool and isinstance(value, bool):
        ok = False
    if kind is float and ok and not math.isfinite(value):
        ok = False
    if ok and least is not None and value < least:
        ok = False
    if ok and choices and value not in choices:
        ok = False
    if not ok:
        want = f"one of {', '.join(choices)}" if choices else kind.__name__
        raise ValueError(f"key {key!r} must be {want}, got {str(value)[:80]}")
    return float(value) if kind is float else value


def _strings(data: Mapping[str, Any], key: str) -> list[str]:
    values = data.get(key) or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError(f"key {key!r} must be a list of strings, got {str(values)[:80]}")
    return values


@dataclass
class Split:
    """Model-ready arrays: `x` (n, seq, features) float32, scaled; `y` (n, 1) float32 scaled
    targets for regression or (n,) int64 class indices for classification."""

    x: np.ndarray
    y: np.ndarray
    #: For CSV windows: the row (0-based, header excluded) each target comes from.
    rows: np.ndarray | None = None
    #: For variable-length data: each sequence's valid steps (n,) int64; `x` is zero-padded
    #: past them, and models run on packed sequences (the forward's `lengths`).
    lengths: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.x.shape[0])


@dataclass(frozen=True)
class SeriesSplit:
    """The raw (unscaled) series behind a forecasting data set and where its splits start:
    targets at indices `[val_start, test_start)` validate, those from `test_start` on test,
    the earlier ones train (input windows may reach back across a boundary). Baselines
    (zoo.data._baselines) fit on it with all the history a split allows."""

    values: np.ndarray  # (n,) float64
    val_start: int
    test_start: int
    horizon: int = 1


@dataclass
class Dataset:
    """A training, a validation and optionally a test split of one source, with its
    description. Built-in tasks and CSV files have no test split here (a built-in task
    draws a fresh one at evaluation); registered data sets have their official one."""

    spec: DataSpec
    train: Split
    val: Split
    test: Split | None = None
    #: For a univariate forecasting source: the raw series and its split boundaries.
    series: SeriesSplit | None = None
