"""What a training run is told and what it reports: settings, one epoch's record, the
result, and the names of the files a run writes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from zoo.checkpoint._format import Checkpoint

METRICS_FILE = "metrics.json"
LOSS_PLOT = "loss.png"
ACCURACY_PLOT = "accuracy.png"
CONFUSION_PLOT = "confusion.png"
DEVICES = ("cpu", "cuda")


@dataclass(frozen=True)
class TrainSettings:
    """How to train; everything but `epochs` must stay the same for `--resume` (a different
    `threads` only warns: see zoo.train._threads).

    `threads`: torch's intra-op threads; None until `run_training` resolves it (zoo's
    default of one, or 0 for torch's default: one per core), then the count the run used;
    results can depend on it, so a recipe that must reproduce weights bit for bit records it.
    """

    epochs: int = 20
    batch_size: int = 64
    lr: float = 3e-3
    seed: int = 0
    device: str = "cpu"
    clip: float = 1.0
    #: AdamW's decoupled weight decay (0: plain Adam, as before).
    weight_decay: float = 0.0
    #: The learning-rate schedule: none, cosine or plateau (zoo.train._schedule).
    schedule: str = "none"
    #: Early stopping: end after this many epochs without a better validation loss (0: off).
    patience: int = 0
    threads: int | None = None

    def fingerprint(self) -> dict[str, Any]:
        """What `--resume` compares: all but epochs (a different `threads` only warns)."""
        values = asdict(self)
        del values["epochs"]
        return values


@dataclass(frozen=True)
class EpochRecord:
    """One epoch's results; `val` holds the validation metrics (see zoo.inference._metrics)."""

    epoch: int
    train_loss: float
    val: dict[str, float]
    samples_per_s: float
    seconds: float
    best: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainResult:
    """A finished run: where it is, the best epoch and its validation metrics."""

    out: Path
    checkpoint: Checkpoint
    task: str
    best_epoch: int
    best: dict[str, float]
    history: list[dict[str, Any]]
    resumed_from: int | None = None
    plots: list[Path] = field(default_factory=list)
    processes: int = 1
    threads: int | None = None

    @property
    def samples_per_s(self) -> float:
        rates = [r["samples_per_s"] for r in self.history]
        return sum(rates) / len(rates) if rates else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "sha256": self.checkpoint.sha256,
            "digest": self.checkpoint.digest,
            "task": self.task,
            "best_epoch": self.best_epoch,
            "best": self.best,
            "epochs": len(self.history),
            "resumed_from": self.resumed_from,
            "samples_per_s": self.samples_per_s,
            "processes": self.processes,
            "threads": self.threads,
            "plots": [str(p) for p in self.plots],
        }
