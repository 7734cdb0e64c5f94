"""`zoo train`, `eval` and `predict` on a CSV time series: regression with a horizon, and
classification, scaled and labelled in the series' own units."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from zoo.checkpoint._format import read_checkpoint


def _write_series(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    t = np.arange(rows)
    value = 20 + 5 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.3, rows)
    other = np.cos(2 * np.pi * t / 12)
    lines = ["step,value,other,kind"] + [
        f"{i},{value[i]:.4f},{other[i]:.4f},{'up' if other[i] > 0 else 'down'}" for i in t
    ]
    path.write_text("\n".join(lines) + "\n")


def test_csv_train_eval_predict(invoke: Any, tmp_path: Path) -> None:
    data = tmp_path / "series.csv"
    _write_series(data, 120)
    out = tmp_path / "csv"
    result = invoke(
        "train", "lstm", "--data", str(data), "--target", "value", "--features", "value,other",
        "--window", "12", "--horizon", "2", "--epochs", "3", "--set", "hidden_size=8",
        "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    meta = read_checkpoint(out).meta
    scaling = meta["data"]["scaling"]
    assert meta["data"]["features"] == ["value", "other"] and meta["config"]["input_size"] == 2
    assert scaling["y_mean"] == pytest.approx(20, abs=1.0) and scaling["y_std"] > 1

    evaluated = json.loads(
        invoke("eval", "--checkpoint", str(out), "--data", str(data), "--json").stdout
    )
    assert evaluated["samples"] == 120 - 12 - 2 + 1
    new = tmp_path / "new.csv"
    new.write_text("value,other\n" + "".join(f"{20 + i},{0.5}\n" for i in range(14)))
    rows = json.loads(
        invoke("predict", "--checkpoint", str(out), "--data", str(new), "--json").stdout
    )
    # Windows end at rows 11, 12, 13 and forecast rows 13 (known), 14 and 15 (future).
    assert [r["row"] for r in rows] == [13, 14, 15]
    assert rows[0]["truth"] == pytest.approx(33.0) and rows[1]["truth"] is None
    assert all(5 < r["prediction"] < 40 for r in rows)  # unscaled: the series' own units
    table = invoke("predict", "--checkpoint", str(out), "--data", str(new)).stdout
    assert table.splitlines()[0].split() == ["ROW", "PREDICTION", "TRUTH"]


def test_csv_classification(invoke: Any, tmp_path: Path) -> None:
    data = tmp_path / "series.csv"
    _write_series(data, 80)
    out = tmp_path / "cls"
    result = invoke(
        "train", "lstm", "--data", str(data), "--target", "kind", "--task", "classification",
        "--window", "6", "--epochs", "2", "--set", "hidden_size=8", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    meta = read_checkpoint(out).meta
    assert meta["data"]["classes"] == ["down", "up"] and meta["config"]["output_size"] == 2
    assert meta["data"]["features"] == ["step", "value", "other"]
    rows = json.loads(
        invoke("predict", "--checkpoint", str(out), "--data", str(data), "--json").stdout
    )
    assert {r["prediction"] for r in rows} <= {"down", "up"}
