"""The learning rate of each epoch and when to stop early, as pure functions of the
settings and the run's history (the validation losses so far).

Nothing here keeps state of its own: a resumed run recomputes the same rate and the same
stopping decision from the history saved in its train state, so `--resume` stays exact.

- `none`: the rate stays `--lr`.
- `cosine`: from `--lr` down to 0 along half a cosine over `--epochs`.
- `plateau`: halved whenever the validation loss has not improved for `PLATEAU_EPOCHS`
  epochs in a row (reduce-on-plateau), never below `--lr` / 1000.

Early stopping (`--patience N`): stop once N epochs in a row have not improved on the best
validation loss; the checkpoint holds the best epoch either way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

SCHEDULES = ("none", "cosine", "plateau")
#: Epochs without improvement before `plateau` halves the rate.
PLATEAU_EPOCHS = 4
PLATEAU_FACTOR = 0.5
PLATEAU_FLOOR = 1e-3


def epoch_lr(schedule: str, lr: float, epoch: int, epochs: int, history: Sequence[Any]) -> float:
    """The learning rate of epoch `epoch` (1-based) of `epochs`, after the epochs in
    `history` (records with `val.loss`)."""
    if schedule == "cosine":
        return lr * 0.5 * (1.0 + math.cos(math.pi * (epoch - 1) / epochs))
    if schedule == "plateau":
        rate, best, bad = lr, math.inf, 0
        for record in history:
            loss = record["val"]["loss"]
            if loss < best:
                best, bad = loss, 0
                continue
            bad += 1
            if bad >= PLATEAU_EPOCHS:
                rate, bad = max(rate * PLATEAU_FACTOR, lr * PLATEAU_FLOOR), 0
        return rate
    return lr


def should_stop(patience: int, epoch: int, best_epoch: int) -> bool:
    """Whether early stopping ends the run after `epoch` (patience 0: never)."""
    return patience > 0 and epoch - best_epoch >= patience
