"""The hand-written training epoch the `training` section compares against (also used to
compare thread counts), and the sizes its epochs are calibrated with."""

from __future__ import annotations

import time
from typing import Any

BATCH, LR = 64, 3e-3
#: Samples (80% of them train) of the calibration epoch, and the range chosen from.
CALIBRATION_SAMPLES, MAX_SAMPLES = 200, 100_000


def minimal_epoch(model: Any, optimizer: Any, dataset: Any, seed: int) -> float:
    """One epoch of the hand-written loop; returns its training samples/s."""
    import torch

    from zoo.inference._metrics import loss_function

    x, y = torch.from_numpy(dataset.train.x), torch.from_numpy(dataset.train.y)
    lengths = dataset.train.lengths
    lens = None if lengths is None else torch.as_tensor(lengths, dtype=torch.int64)
    loss_fn = loss_function(dataset.spec.task)
    n = x.shape[0]
    start = time.perf_counter()
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    model.train()
    for i in range(0, n, BATCH):
        index = order[i : i + BATCH]
        optimizer.zero_grad()
        extra = {} if lens is None else {"lengths": lens[index]}
        pred = model(x[index], **extra)[0]  # (batch, output_size)
        loss = loss_fn(pred, y[index])
        loss.backward()
        optimizer.step()
    return n / (time.perf_counter() - start)
