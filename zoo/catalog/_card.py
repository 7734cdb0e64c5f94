"""The model card of a trained registry entry: what it was trained on, how well it does on
the data set's test split next to a baseline, and the recipe that reproduces it.

A card is the ``[models.NAME.card]`` table of a registry entry with a checkpoint::

    [models.sunspots-lstm.card]
    dataset = "statsmodels:sunspots"   # a --data source
    split = "test"                     # the split the metric was measured on
    task = "regression"                # regression | classification
    metric = "mse"                     # the metric's name (zoo.inference._metrics)
    value = 321.5                      # the model's metric on that split
    baseline = "ar(9)"                 # the baseline, measured by zoo on the same split
    baseline_value = 378.2
    recipe = ["train", "lstm", "--data", "statsmodels:sunspots", "--seed", "0", ...]
    threads = 1                        # torch threads the recipe ran with
    params = 641                       # trainable parameters
    file_size = 4321                   # bytes of the weights file
    torch = "2.13.0"                   # torch version that trained it

The recipe is the `zoo` argument list (without `zoo` itself and without `--out`):
`zoo train --recipe NAME` reruns it. Parsing imports nothing heavy (`zoo list` shows
cards).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from zoo._errors import RegistryError

#: Metrics where lower is better; every other metric (accuracy) is higher-is-better.
LOWER_IS_BETTER = frozenset({"mse", "rmse", "mae", "loss"})

_REQUIRED: dict[str, type] = {
    "dataset": str,
    "split": str,
    "task": str,
    "metric": str,
    "value": float,
    "baseline": str,
    "baseline_value": float,
    "recipe": list,
    "threads": int,
    "params": int,
    "file_size": int,
    "torch": str,
}
_TASKS = ("regression", "classification")
_KINDS = {str: "a string", float: "a finite number", int: "a whole number", list: "a list"}


@dataclass(frozen=True)
class ModelCard:
    """A trained entry's card (see the module docstring for each field)."""

    dataset: str
    split: str
    task: str
    metric: str
    value: float
    baseline: str
    baseline_value: float
    recipe: tuple[str, ...]
    threads: int
    params: int
    file_size: int
    torch: str

    @property
    def beats_baseline(self) -> bool:
        """Whether the model's metric is better than the baseline's (strictly)."""
        if self.metric in LOWER_IS_BETTER:
            return self.value < self.baseline_value
        return self.value > self.baseline_value

    @property
    def verdict(self) -> str:
        """'beats baseline' or 'misses baseline', said plainly on every listing."""
        return "beats baseline" if self.beats_baseline else "misses baseline"

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "split": self.split,
            "task": self.task,
            "metric": self.metric,
            "value": self.value,
            "baseline": self.baseline,
            "baseline_value": self.baseline_value,
            "beats_baseline": self.beats_baseline,
            "recipe": list(self.recipe),
            "threads": self.threads,
            "params": self.params,
            "file_size": self.file_size,
            "torch": self.torch,
        }


def parse_card(where: str, body: Any) -> ModelCard:
    """A card from its TOML table; a `RegistryError` naming the entry and key otherwise."""
    entry = where
    where = f"{entry}, key 'card'"
    if not isinstance(body, dict):
        raise RegistryError(f"{where}: must be a table of {', '.join(_REQUIRED)}.")
    unknown = set(body) - set(_REQUIRED)
    if unknown:
        raise RegistryError(
            f"{where}: unknown key(s) {sorted(unknown)}; valid keys: {sorted(_REQUIRED)}."
        )
    missing = [key for key in _REQUIRED if key not in body]
    if missing:
        raise RegistryError(f"{where}: missing key(s) {missing}.")
    values: dict[str, Any] = {}
    for key, kind in _REQUIRED.items():
        value = body[key]
        ok = isinstance(value, kind) and not isinstance(value, bool)
        if kind is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            ok = ok and math.isfinite(value)
            value = float(value) if ok else value
        if kind is int and ok:
            ok = value >= (1 if key == "threads" else 0)
        if not ok:
            least = 1 if key == "threads" else 0
            want = _KINDS[kind] + (f" >= {least}" if kind is int else "")
            raise RegistryError(
                f"{entry}, key 'card.{key}': must be {want}, got {str(value)[:80]}."
            )
        values[key] = value
    recipe = values["recipe"]
    if not recipe or not all(isinstance(a, str) for a in recipe) or recipe[0] != "train":
        raise RegistryError(
            f"{entry}, key 'card.recipe': must be the `zoo` arguments of a training run, "
            f"strings starting with 'train', got {str(recipe)[:80]}."
        )
    if "--out" in recipe:
        raise RegistryError(
            f"{entry}, key 'card.recipe': leave --out out; "
            "`zoo train --recipe NAME --out DIR` chooses it."
        )
    if values["task"] not in _TASKS:
        raise RegistryError(
            f"{entry}, key 'card.task': must be one of {', '.join(_TASKS)}, got {values['task']!r}."
        )
    values["recipe"] = tuple(recipe)
    return ModelCard(**values)


def format_metric(metric: str, value: float) -> str:
    """'mse 321.5' / 'accuracy 0.9467': four significant digits, enough to compare."""
    return f"{metric} {value:.4g}" if metric != "accuracy" else f"{metric} {value:.4f}"


def format_size(size: int) -> str:
    """Bytes as people read them: '812 B', '5.3 KB'."""
    return f"{size} B" if size < 1024 else f"{size / 1024:.1f} KB"
