"""The training loop shared by the processes of a torchrun job (DistributedDataParallel).

The run is the single-process run (zoo.train._run) split across processes, step for step:

- every rank draws the same permutation of the training set each epoch (the
  `(seed, epoch)` shuffle of zoo.train_loop); global batch `k` is the single-process run's
  batch `k`, and rank `r` of `N` takes its elements `r, r + N, r + 2N, ...` (the
  interleaving of `torch.utils.data.DistributedSampler`);
- `--batch-size` is the global batch, so each rank computes on batch/N sequences, and DDP
  averages the ranks' gradients: the step sees the gradient of the whole global batch;
- the epoch's last batch may be smaller than the global batch and not divide by N: each
  rank's loss is weighted by its share of that batch, so the average is still the batch's
  mean; a rank left with no sequence runs a stand-in one with weight 0, because DDP needs
  every rank in every step.

`DistributedSampler` itself is not used: it pads the epoch with repeated samples (or drops
the tail) so that every rank gets as many, which changes the last batch, and it draws its own
permutation. The gradient of every step is therefore the single-process gradient up to the
order of floating-point sums (the all-reduce), and the same command with another number of
processes trains the same optimization problem.

Rank 0 alone validates and writes checkpoints, metrics, train_state and progress; the other
ranks compute. Dropout draws from a per-rank RNG reseeded every epoch (zoo.train._distributed
.rank_seed). At the end every rank proves it holds the same weights as the others.
"""

from __future__ import annotations

import time
from typing import Any

from zoo.train._distributed import Group, rank_seed
from zoo.train._loop import REDRAW_SECONDS, Loop, clip_grad_norm, epoch_generator


def rank_share(batch: Any, rank: int, world: int) -> tuple[Any, int, float]:
    """Rank `rank`'s part of a global batch (a 1-d tensor of sample indices).

    Returns the indices to run, how many of them count, and the weight of their mean loss:
    `count * world / len(batch)`, so that DDP's average over the ranks of the weighted means
    is the mean over the whole batch. The weight is 1.0 for a full batch. A rank with no
    sample of a short last batch runs the batch's first sample with weight 0.
    """
    index = batch[rank::world]  # elements rank, rank + world, ... (DistributedSampler's order)
    count = int(index.shape[0])
    if count == 0:
        index = batch[:1]
    return index, count, count * world / int(batch.shape[0])


class DistributedLoop(Loop):
    """zoo.train._loop.Loop with a DDP-wrapped model and this rank's share of each batch."""

    def __init__(self, *args: Any, group: Group) -> None:
        super().__init__(*args)
        self.group = group
        self.writes = group.rank == 0
        self.processes = group.world_size
        self.ddp: Any = None

    def run(self) -> None:
        # Wrapped after restore(), so that the weights DDP broadcasts are the resumed ones.
        self.ddp = self.group.wrap(self.model)
        super().run()

    def _finish(self) -> None:
        self.group.check_same_weights(self.model.state_dict())
        if self.writes:
            super()._finish()

    def _train_pass(self, epoch: int) -> tuple[Any, float]:
        import torch

        world, rank = self.group.world_size, self.group.rank
        n, bs = self.x_train.shape[0], self.settings.batch_size
        order = torch.randperm(n, generator=epoch_generator(self.settings.seed, epoch))
        order = order.to(self.device)
        torch.manual_seed(rank_seed(self.settings.seed, epoch, rank))  # this rank's dropout
        self.ddp.train()
        total = torch.zeros((), device=self.device)
        mine = 0
        start = last_draw = time.perf_counter()
        for i in range(0, n, bs):
            index, count, weight = rank_share(order[i : i + bs], rank, world)
            x = self.x_train.index_select(0, index)  # (batch / world, seq, features)
            y = self.y_train.index_select(0, index)  # (batch / world, 1) or (batch / world,)
            self.optimizer.zero_grad(set_to_none=True)
            pred = self._forward(self.ddp, x, index)  # (batch / world, output_size)
            loss = self.loss_fn(pred, y)  # the mean over this rank's share
            (loss if weight == 1.0 else loss * weight).backward()  # DDP averages the ranks
            clip_grad_norm(self.params, self.settings.clip)
            self.optimizer.step()
            if count:
                total.add_(loss.detach(), alpha=count)
                mine += count
            now = time.perf_counter()
            if self.writes and now - last_draw >= REDRAW_SECONDS:
                done = min(i + bs, n)
                rate = done / (now - start)
                # The running loss is rank 0's share's: reading the others' would cost a
                # collective per redraw.
                self.reporter.step(epoch, done, n, float(total) / max(mine, 1), rate)
                last_draw = now
        total = self.group.all_reduce_sum(total)
        return total, time.perf_counter() - start
