"""Pictures: loss curves from `zoo train`, hidden-state and prediction plots from `zoo inspect`.

Drawing needs matplotlib (the `plot` extra); those tests skip without it. What zoo does
when it is missing is tested either way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from zoo.data._csv import validation_windows
from zoo.inference import _plots as plots
from zoo.inference._metrics import confusion_counts

PNG = b"\x89PNG\r\n\x1a\n"
TINY = (
    "--samples", "32", "--seq-len", "6", "--batch-size", "16", "--set", "hidden_size=4",
    "--epochs", "2",
)  # fmt: skip


def _train(invoke: Any, out: Path, data: str = "sine") -> Any:
    result = invoke("train", "lstm", "--data", data, *TINY, "--out", str(out))
    assert result.exit_code == 0, result.output
    return result


def test_train_saves_loss_curves(invoke: Any, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    result = _train(invoke, tmp_path / "r")
    assert (tmp_path / "r" / "loss.png").read_bytes().startswith(PNG)
    assert "matplotlib" not in result.output


def test_inspect_draws_hidden_state_and_predictions(invoke: Any, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    _train(invoke, tmp_path / "r")
    out = tmp_path / "pictures"
    result = invoke(
        "inspect", "--checkpoint", str(tmp_path / "r"), "--data", "sine", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"wrote {out / 'hidden.png'}",
        f"wrote {out / 'predictions.png'}",
    ]
    for name in ("hidden.png", "predictions.png"):
        assert (out / name).read_bytes().startswith(PNG)


def test_a_classifier_gets_an_accuracy_curve_and_a_confusion_matrix(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("matplotlib")
    figures = _capture_figures(monkeypatch)
    result = _train(invoke, tmp_path / "c", data="freq")
    pictures = ["accuracy.png", "confusion.png", "loss.png"]
    assert sorted(p.name for p in (tmp_path / "c").glob("*.png")) == pictures
    assert all((tmp_path / "c" / name).read_bytes().startswith(PNG) for name in pictures)
    (accuracy_axes,) = figures["accuracy.png"].axes
    metrics = json.loads((tmp_path / "c" / "metrics.json").read_text())
    history = metrics["epochs"]
    assert list(accuracy_axes.lines[0].get_ydata()) == [e["val"]["accuracy"] for e in history]
    # Training's matrix: the best epoch's weights on the validation set, its accuracy.
    counts = figures["confusion.png"].axes[0].images[0].get_array()
    assert counts.shape == (4, 4)  # freq: four classes
    assert counts.trace() / counts.sum() == pytest.approx(metrics["best"]["accuracy"])
    assert "accuracy.png" not in result.stderr
    out = tmp_path / "pictures"
    result = invoke(
        "inspect", "--checkpoint", str(tmp_path / "c"), "--data", "freq", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["confusion.png", "hidden.png"]
    assert (out / "confusion.png").read_bytes().startswith(PNG)
    # The matrix counts every test sequence once; its diagonal is `zoo eval`'s accuracy.
    counts = figures["confusion.png"].axes[0].images[0].get_array()  # inspect's, on test data
    evaluated = invoke("eval", "--checkpoint", str(tmp_path / "c"), "--data", "freq", "--json")
    metrics = json.loads(evaluated.stdout)
    assert counts.sum() == metrics["samples"]
    assert counts.trace() / counts.sum() == pytest.approx(metrics["metrics"]["accuracy"])


def test_regression_training_draws_no_accuracy_curve(invoke: Any, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    _train(invoke, tmp_path / "r")
    assert [p.name for p in (tmp_path / "r").glob("*.png")] == ["loss.png"]


def test_confusion_counts_rows_are_truth_columns_predictions() -> None:
    counts = confusion_counts(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 2, 0]), 3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


def _capture_figures(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Keep each figure zoo saves, by file name, to look at its matplotlib objects."""
    figures: dict[str, Any] = {}
    real = plots._save

    def save(fig: Any, path: Path) -> Path:
        figures[path.name] = fig
        return real(fig, path)

    monkeypatch.setattr(plots, "_save", save)
    return figures


def _csv_run(invoke: Any, tmp_path: Path, rows: int = 120) -> tuple[Path, Path]:
    data = tmp_path / "series.csv"
    t = np.arange(rows)
    data.write_text("value\n" + "".join(f"{20 + 5 * np.sin(i / 3):.4f}\n" for i in t))
    out = tmp_path / "csv"
    result = invoke(
        "train", "lstm", "--data", str(data), "--target", "value", "--window", "12",
        "--horizon", "2", "--epochs", "1", "--set", "hidden_size=4", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return data, out


def test_the_csv_prediction_plot_marks_where_validation_starts(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("matplotlib")
    data, run = _csv_run(invoke, tmp_path)
    figures = _capture_figures(monkeypatch)
    result = invoke(
        "inspect", "--checkpoint", str(run), "--data", str(data), "--out", str(tmp_path / "p")
    )
    assert result.exit_code == 0, result.output
    (ax,) = figures["predictions.png"].axes
    # 120 rows, window 12, horizon 2: 107 windows forecasting rows 13..119; the last 21
    # (round(0.2 * 107)) validate, so validation starts at row 99.
    assert 107 - validation_windows(107, 0.2) + 13 == 99
    vertical = [line for line in ax.lines if list(line.get_xdata()) == [99, 99]]
    assert len(vertical) == 1 and "validation starts (row 99)" in vertical[0].get_label()
    legend = ax.get_legend()
    labels = [text.get_text() for text in legend.get_texts()]
    assert labels[:3] == ["truth", "prediction", "validation starts (row 99)"]
    # The legend is anchored right of the axes (x >= 1 in axes coordinates): off the data.
    anchor = legend.get_bbox_to_anchor().transformed(ax.transAxes.inverted())
    assert anchor.x0 >= 1.0
    # Another file: no validation there, no marker.
    other = tmp_path / "other.csv"
    other.write_text(data.read_text().replace("20.", "21."))
    result = invoke(
        "inspect", "--checkpoint", str(run), "--data", str(other), "--out", str(tmp_path / "q")
    )
    assert result.exit_code == 0, result.output
    (ax,) = figures["predictions.png"].axes
    assert not [line for line in ax.lines if "validation" in line.get_label()]


def test_the_window_drawn_shows_both_sides_of_the_validation_start() -> None:
    rows = np.arange(1000)
    assert plots.shown_window(rows, None) == slice(0, plots.MAX_POINTS)
    shown = plots.shown_window(rows, 900.0)
    assert shown.stop == 1000 and shown.start == 1000 - plots.MAX_POINTS  # within the data
    shown = plots.shown_window(rows, 500.0)
    assert shown.start < 500 < shown.stop and shown.stop - shown.start == plots.MAX_POINTS


def test_without_matplotlib_train_says_so_once_and_inspect_refuses(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plots, "available", lambda: False)
    result = _train(invoke, tmp_path / "r")
    assert result.stderr.count("matplotlib is not installed") == 1
    assert not (tmp_path / "r" / "loss.png").exists()
    assert (tmp_path / "r" / "model.safetensors").exists()
    result = invoke(
        "inspect",
        "--checkpoint",
        str(tmp_path / "r"),
        "--data",
        "sine",
        "--out",
        str(tmp_path / "p"),
    )
    assert result.exit_code == 1
    assert "Cannot draw: matplotlib is not installed (pip install 'zoo-rnn[plot]')" in result.output
