"""Training progress callbacks, apart from the loop so that the CLI can subclass them
without importing the training machinery (checkpoints, hashing) on every `zoo` start."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zoo.train._settings import EpochRecord


class Reporter:
    """Progress callbacks; this base class reports nothing (the CLI draws a bar)."""

    def start(self, epochs: int, first: int, samples: int) -> None:
        """Training of epochs `first+1..epochs` begins, `samples` sequences each."""

    def step(self, epoch: int, done: int, total: int, loss: float, samples_per_s: float) -> None:
        """Mid-epoch: `done` of `total` samples seen; `loss` is the epoch's running mean."""

    def epoch_end(self, epochs: int, record: EpochRecord) -> None:
        """An epoch finished and was saved."""

    def note(self, message: str) -> None:
        """Something worth saying once (a skipped plot, a resumed run)."""
