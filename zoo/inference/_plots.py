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


def prediction_vs_truth(
    x: np.ndarray, truth: np.ndarray, pred: np.ndarray, path: Path, title: str
) -> Path:
    """Predictions and true targets along time rows `x` (the first MAX_POINTS)."""
    fig = _figure(9.0, 4.0)
    ax = fig.subplots()
    n = min(len(x), MAX_POINTS)
    ax.plot(x[:n], truth[:n], label="truth", linewidth=1.2)
    ax.plot(x[:n], pred[:n], label="prediction", linewidth=1.2, linestyle="--")
    ax.set_xlabel("row")
    ax.set_ylabel("target")
    ax.set_title(title)
    ax.legend()
    return _save(fig, path)


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
