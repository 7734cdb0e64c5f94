"""Pictures of training and of a trained model, drawn with matplotlib when it is installed.

matplotlib is the optional extra ``zoo[plot]``; nothing imports it until a picture is asked
for, and `available()` says whether it can be. Figures are drawn with the object API
(`matplotlib.figure.Figure`, no pyplot, no global backend) and written atomically.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo._errors import ZooError
from zoo._fs import atomic_output

if TYPE_CHECKING:
    import numpy as np

MISSING = "matplotlib is not installed (pip install 'zoo-rnn[plot]')"
#: Points drawn in a prediction-vs-truth plot (the first ones, in order).
MAX_POINTS = 300


def available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def require() -> None:
    """A clear error for a command whose whole job is drawing."""
    if not available():
        raise ZooError(f"Cannot draw: {MISSING}.")


def _figure(width: float = 7.0, height: float = 4.0) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _save(fig: Any, path: Path) -> Path:
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png")
    return path


def loss_curves(history: Sequence[dict[str, Any]], path: Path) -> Path:
    """Training and validation loss per epoch (log scale), the best epoch marked."""
    from matplotlib.ticker import MaxNLocator

    fig = _figure()
    ax = fig.subplots()
    epochs = [r["epoch"] for r in history]
    train = [r["train_loss"] for r in history]
    val = [r["val"]["loss"] for r in history]
    ax.plot(epochs, train, marker="o", markersize=3, label="train loss")
    ax.plot(epochs, val, marker="o", markersize=3, label="validation loss")
    best = [r for r in history if r["best"]]
    if best:
        last = best[-1]
        ax.axvline(
            last["epoch"], color="grey", linestyle=":", label=f"best (epoch {last['epoch']})"
        )
    if all(v > 0 for v in train + val):
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title("Loss curves")
    ax.legend()
    return _save(fig, path)


def hidden_heatmap(hidden: np.ndarray, path: Path, title: str) -> Path:
    """The hidden state (seq, units) of one sequence as an image: units down, time across."""
    from matplotlib.ticker import MaxNLocator

    fig = _figure(8.0, 4.5)
    ax = fig.subplots()
    image = ax.imshow(hidden.T, aspect="auto", cmap="RdBu_r", vmin=-1.0, vmax=1.0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("time step")
    ax.set_ylabel("hidden unit")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="activation")
    return _save(fig, path)


def _legend_outside(ax: Any) -> None:
    """The legend right of the axes, where it cannot hide data (constrained layout makes
    room for it)."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, framealpha=0.9)


def shown_window(x: np.ndarray, val_start: float | None) -> slice:
    """The MAX_POINTS rows drawn: the first ones, or with `val_start` the ones around it
    (half before, half after, within the data)."""
    n = len(x)
    if val_start is None or n <= MAX_POINTS:
        return slice(0, min(n, MAX_POINTS))
    first_val = int((x < val_start).sum())
    lo = min(max(first_val - MAX_POINTS // 2, 0), n - MAX_POINTS)
    return slice(lo, lo + MAX_POINTS)


def prediction_vs_truth(
    x: np.ndarray,
    truth: np.ndarray,
    pred: np.ndarray,
    path: Path,
    title: str,
    val_start: float | None = None,
) -> Path:
    """Predictions and true targets along time rows `x` (MAX_POINTS of them: see
    `shown_window`); `val_start`, the first validation row, is marked with a vertical line
    and the validation part shaded. The legend sits outside the axes."""
    fig = _figure(10.0, 4.0)
    ax = fig.subplots()
    shown = shown_window(x, val_start)
    ax.plot(x[shown], truth[shown], label="truth", linewidth=1.2)
    ax.plot(x[shown], pred[shown], label="prediction", linewidth=1.2, linestyle="--")
    if val_start is not None:
        ax.axvline(
            val_start, color="black", linestyle=":", linewidth=1.2,
            label=f"validation starts (row {val_start:g})",
        )  # fmt: skip
        ax.axvspan(val_start, float(x[shown][-1]), color="grey", alpha=0.12, label="validation")
    ax.set_xlabel("row")
    ax.set_ylabel("target")
    ax.set_title(title)
    _legend_outside(ax)
    return _save(fig, path)


def accuracy_curve(history: Sequence[dict[str, Any]], path: Path) -> Path:
    """Validation accuracy per epoch (a classification run), the best epoch marked."""
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    fig = _figure()
    ax = fig.subplots()
    epochs = [r["epoch"] for r in history]
    accuracy = [r["val"].get("accuracy") for r in history]
    ax.plot(epochs, accuracy, marker="o", markersize=3, label="validation accuracy")
    best = [r for r in history if r["best"]]
    if best:
        last = best[-1]
        ax.axvline(
            last["epoch"], color="grey", linestyle=":", label=f"best (epoch {last['epoch']})"
        )
    ax.set_ylim(0.0, 1.0)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_title("Validation accuracy")
    _legend_outside(ax)
    return _save(fig, path)


def confusion_matrix(counts: np.ndarray, labels: Sequence[str], path: Path, title: str) -> Path:
    """`counts[true, predicted]` as an image, each cell's count written in it."""
    size = min(3.0 + 0.5 * len(labels), 12.0)
    fig = _figure(size + 1.0, size)
    ax = fig.subplots()
    image = ax.imshow(counts, cmap="Blues")
    ticks = range(len(labels))
    ax.set_xticks(ticks, labels=list(labels), rotation=45 if len(labels) > 6 else 0)
    ax.set_yticks(ticks, labels=list(labels))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    if len(labels) <= 20:  # beyond that the numbers would not be readable
        high = counts.max() if counts.size else 0
        for (row, col), value in _cells(counts):
            color = "white" if high and value > high / 2 else "black"
            ax.text(col, row, str(value), ha="center", va="center", color=color, fontsize=8)
    fig.colorbar(image, ax=ax, label="sequences")
    return _save(fig, path)


def _cells(counts: np.ndarray) -> list[tuple[tuple[int, int], int]]:
    return [
        ((r, c), int(counts[r, c])) for r in range(counts.shape[0]) for c in range(counts.shape[1])
    ]


def prediction_scatter(truth: np.ndarray, pred: np.ndarray, path: Path, title: str) -> Path:
    """Prediction against truth for independent sequences; perfect predictions lie on the
    diagonal."""
    fig = _figure(5.0, 5.0)
    ax = fig.subplots()
    ax.scatter(truth, pred, s=6, alpha=0.5, label="test sequences")
    low, high = float(min(truth.min(), pred.min())), float(max(truth.max(), pred.max()))
    ax.plot([low, high], [low, high], color="grey", linestyle=":", label="prediction = truth")
    ax.set_xlabel("truth")
    ax.set_ylabel("prediction")
    ax.set_title(title)
    ax.legend()
    return _save(fig, path)
