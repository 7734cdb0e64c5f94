"""An attack suite: no silent wrong numbers: predictions unscaled in float64, values near
1e308 standardized or refused, non-finite results written as strict JSON with notes."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from limits_support import fails, strict

from zoo.data._spec import Scaling


def test_predictions_are_unscaled_in_float64() -> None:
    scaling = Scaling((0.0,), (1.0,), y_mean=1.2e8, y_std=3.0)
    values = scaling.unscale_y(np.asarray([0.1, 0.2, 0.3], dtype=np.float32))
    assert values.dtype == np.float64 and len(set(values.tolist())) == 3
    np.testing.assert_allclose(values - 1.2e8, [0.3, 0.6, 0.9], rtol=1e-6)


def test_a_target_near_1e8_gets_its_own_prediction_per_window(invoke: Any, tmp_path: Path) -> None:
    data = tmp_path / "level.csv"
    level = [f"{1.2e8 + 7 * math.sin(i / 5):.3f}" for i in range(60)]
    data.write_text("t,a\n" + "".join(f"{math.sin(i / 3):.4f},{v}\n" for i, v in enumerate(level)))
    out = tmp_path / "level"
    trained = invoke(
        "train", "lstm", "--data", str(data), "--target", "a", "--window", "4", "--epochs",
        "1", "--set", "hidden_size=4", "--out", str(out),
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    result = invoke("predict", "--checkpoint", str(out), "--data", str(data), "--json")
    rows = strict(result.stdout)
    predictions = [r["prediction"] for r in rows]
    assert len(set(predictions)) == len(rows), predictions[:8]  # float32 gave a few values
    known = [r for r in rows if r["truth"] is not None]
    assert [r["truth"] for r in known] == [float(level[r["row"]]) for r in known]  # exact
    far = tmp_path / "far.csv"  # new data 1e300 standard deviations away: refused, not inf
    far.write_text("t,a\n" + "1e300,1\n" * 3 + "-1e300,1\n")
    fails(
        invoke("predict", "--checkpoint", str(out), "--data", str(far)),
        "far.csv: column 't' holds values up to 1e+300, more than float32 can hold once "
        "standardized with the training statistics",
    )


def test_values_near_1e308_are_standardized_or_refused_never_infinity(
    invoke: Any, tmp_path: Path
) -> None:
    """Features and a target near the top of the float64 range train (the statistics are
    taken without overflow); what cannot be a number (the MSE in the target's units) is
    written as null with a note, never `Infinity` in a file or `NaN` on stdout."""
    data = tmp_path / "huge.csv"
    lines = [f"{1.7e308 * math.sin(i / 3)!r},{1.7e308 if i % 2 else -1.7e308!r}" for i in range(40)]
    data.write_text("t,a\n" + "\n".join(lines) + "\n")
    out = tmp_path / "huge"
    result = invoke(
        "train", "lstm", "--data", str(data), "--target", "a", "--window", "3", "--epochs",
        "1", "--set", "hidden_size=2", "--out", str(out), "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    printed = strict(result.stdout)
    assert printed["best"]["mse"] is None and printed["non_finite"]["/best/mse"] == "Infinity"
    config = strict((out / "config.json").read_text())
    assert all(math.isfinite(v) for v in config["data"]["scaling"]["x_std"])
    metrics = strict((out / "metrics.json").read_text())
    assert metrics["non_finite"]["/best/mse"] == "Infinity"


def test_an_undefined_metric_is_null_with_a_note(invoke: Any, tmp_path: Path) -> None:
    """rel_mse of a constant target is 0/0: NaN in Python, null plus a note in JSON."""
    data = tmp_path / "flat.csv"
    rows = [f"{math.sin(i / 3):.4f},{5 if i >= 20 else i}\n" for i in range(30)]
    data.write_text("t,a\n" + "".join(rows))
    out = tmp_path / "flat"
    trained = invoke(
        "train", "lstm", "--data", str(data), "--target", "a", "--window", "3", "--epochs",
        "1", "--set", "hidden_size=2", "--out", str(out),
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    metrics = strict((out / "metrics.json").read_text())
    assert metrics["best"]["rel_mse"] is None and metrics["non_finite"]["/best/rel_mse"] == "NaN"
    strict((out / "config.json").read_text())
    flat = tmp_path / "flat-only.csv"
    flat.write_text("t,a\n" + "".join(f"{math.sin(i / 3):.4f},5\n" for i in range(10)))
    evaluated = strict(
        invoke("eval", "--checkpoint", str(out), "--data", str(flat), "--json").stdout
    )
    assert evaluated["metrics"]["rel_mse"] is None
    assert evaluated["non_finite"] == {"/metrics/rel_mse": "NaN"}


def test_strict_json_round_trips_through_its_notes() -> None:
    from zoo._limits import dumps_json, restore_non_finite

    data = {"a": [1.0, math.nan], "b/c": {"~d": -math.inf}, "e": math.inf}
    text = dumps_json(data)
    parsed = strict(text)
    assert parsed["a"] == [1.0, None] and parsed["e"] is None
    back = restore_non_finite(parsed)
    assert math.isnan(back["a"][1]) and back["b/c"]["~d"] == -math.inf and back["e"] == math.inf
