"""The training loop: Adam, gradient clipping, validation each epoch, best-epoch checkpoint.

Reproducible by construction (CPU): the weights are initialised from `seed`; each epoch's
shuffle comes from a generator seeded with `(seed, epoch)`, independent of anything that
ran before; and the global RNG state (dropout) is saved at the end of every epoch with the
optimizer state. Resuming restores all of it, so a run killed at any point and resumed ends
with the same weights, bit for bit, as one that ran through.

The step does only what training needs: the data lives on the device as two tensors, a
batch is an `index_select`, and the running loss is summed on the device; the host reads it
only when the progress display is redrawn (at most 5 times a second) and once per epoch.

zoo.train._run runs the loop (`Loop`, one process) and checks what it is given;
zoo.train_dist.DistributedLoop is the same loop in each process of a torchrun job.
Importing this module imports no torch; the loop imports it when it is built.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from zoo._errors import CheckpointError, ZooError
from zoo._fs import atomic_write_text
from zoo._limits import dumps_json
from zoo._spec import Architecture, Config
from zoo._version import __version__
from zoo.checkpoint._format import Checkpoint, save_checkpoint
from zoo.checkpoint._train_state import TrainState, save_train_state
from zoo.data._spec import Dataset
from zoo.inference._metrics import compute_metrics, loss_function, predict_tensor
from zoo.train._distributed import PeerFailed
from zoo.train._reporter import Reporter
from zoo.train._schedule import epoch_lr, should_stop
from zoo.train._settings import METRICS_FILE, EpochRecord, TrainSettings

#: Seconds between progress redraws (each one reads the running loss from the device).
REDRAW_SECONDS = 0.2


class Loop:
    """The state of one run: model, optimizer, data on the device, best-so-far, history.

    `run()` trains from epoch `epoch + 1` (after `restore()`, the resumed one) to
    `settings.epochs`, writing the checkpoint, metrics and train state to `out` as it goes.
    """

    #: Whether this process writes the run's files and validates (all but ranks > 0).
    writes = True
    #: The processes training together (zoo.train_dist.DistributedLoop: the world size).
    processes = 1

    def __init__(
        self,
        arch: Architecture,
        config: Config,
        dataset: Dataset,
        settings: TrainSettings,
        out: Path,
        device: Any,
        fingerprint: dict[str, Any],
        name: str | None,
        reporter: Reporter,
    ) -> None:
        import torch

        self.arch, self.config, self.dataset, self.settings = arch, config, dataset, settings
        self.out, self.device, self.fingerprint, self.reporter = out, device, fingerprint, reporter
        self.name = name or arch.name
        self.model = arch.build(**config).to(device)
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = _adam(self.params, settings.lr, settings.weight_decay)
        self.loss_fn = loss_function(dataset.spec.task)
        self.x_train = torch.from_numpy(dataset.train.x).to(device)  # (n, seq, features)
        self.y_train = torch.from_numpy(dataset.train.y).to(device)  # (n, 1) or (n,)
        self.x_val = torch.from_numpy(dataset.val.x).to(device)
        self.y_val = torch.from_numpy(dataset.val.y).to(device)
        # Variable-length data: (n,) valid steps per sequence, fed as the forward's `lengths`.
        self.len_train = _lengths(dataset.train.lengths, device)
        self.len_val = _lengths(dataset.val.lengths, device)
        self.epoch = 0
        self.best_epoch = 0
        self.best_loss = math.inf
        self.best_metrics: dict[str, float] = {}
        self.best_state: dict[str, Any] = {}
        self.history: list[dict[str, Any]] = []
        self._checkpoint: Checkpoint | None = None

    @property
    def checkpoint(self) -> Checkpoint:
        assert self._checkpoint is not None, "run() writes the checkpoint"
        return self._checkpoint

    def restore(self, state: TrainState) -> None:
        try:
            self._restore(state)
        except (RuntimeError, ValueError, KeyError, TypeError) as exc:
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            raise CheckpointError(
                f"{self.out}/train_state does not fit this model ({type(exc).__name__}: "
                f"{first}); cannot resume. Start again without --resume into a new --out."
            ) from None

    def _restore(self, state: TrainState) -> None:
        import torch

        self.model.load_state_dict(state.model, strict=True)
        current = self.optimizer.state_dict()["param_groups"]
        groups = state.optimizer["param_groups"]
        for saved, now in zip(groups, current, strict=True):
            for key, value in now.items():  # JSON made tuples (betas) lists
                if isinstance(value, tuple) and isinstance(saved.get(key), list):
                    saved[key] = tuple(saved[key])
        self.optimizer.load_state_dict(state.optimizer)
        torch.set_rng_state(state.rng)
        if state.cuda_rng is not None and self.device.type == "cuda":
            torch.cuda.set_rng_state(state.cuda_rng, self.device)
        self.epoch = state.epoch
        self.best_epoch, self.best_loss = state.best_epoch, state.best_loss
        self.best_state = {k: v.to(self.device) for k, v in state.best_model.items()}
        self.history = list(state.history)
        best = [r for r in self.history if r["epoch"] == self.best_epoch]
        self.best_metrics = dict(best[0]["val"]) if best else {}

    def run(self) -> None:
        settings = self.settings
        self.reporter.start(settings.epochs, self.epoch, len(self.dataset.train))
        while self.epoch < settings.epochs:
            if self.writes and should_stop(settings.patience, self.epoch, self.best_epoch):
                break  # a resumed run that had stopped early: nothing left to do
            record = self._epoch(self.epoch + 1)
            self.epoch = record.epoch
            if not self.writes:
                continue
            self.history.append(record.to_dict())
            if record.best:
                self._save_checkpoint()
            self._save_metrics()
            self._save_state()
            self.reporter.epoch_end(settings.epochs, record)
            if should_stop(settings.patience, self.epoch, self.best_epoch):
                self.reporter.note(
                    f"early stop after epoch {self.epoch}: no better validation loss in "
                    f"{settings.patience} epochs (best epoch {self.best_epoch})"
                )
                break
        self._finish()

    def _finish(self) -> None:
        assert self.best_state, "epochs >= 1, and the first epoch is always the best so far"
        self._save_checkpoint()  # also when resuming a finished run: config.json up to date

    def _epoch(self, epoch: int) -> EpochRecord:
        settings = self.settings
        lr = epoch_lr(settings.schedule, settings.lr, epoch, settings.epochs, self.history)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        total, seconds = self._train_pass(epoch)
        n = self.x_train.shape[0]
        train_loss = float(total) / n
        if not math.isfinite(train_loss):
            if not self.writes:
                raise PeerFailed("training diverged; rank 0 says so")
            raise ZooError(
                f"Training diverged: loss {train_loss} in epoch {epoch}. Lower --lr (now "
                f"{self.settings.lr:g}) or --set a smaller model; the best epoch so far "
                f"({self.best_epoch}) is in {self.out}."
            )
        if not self.writes:
            return EpochRecord(epoch, train_loss, {}, n / seconds, seconds, False)
        val = self.validate()
        best = not self.best_state or val["loss"] < self.best_loss
        if best:
            self.best_epoch, self.best_loss, self.best_metrics = epoch, val["loss"], val
            self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        return EpochRecord(epoch, train_loss, val, n / seconds, seconds, best)

    def _train_pass(self, epoch: int) -> tuple[Any, float]:
        """One shuffled pass over the training data: the summed loss (a device scalar) and
        the seconds it took."""
        import torch

        n, bs = self.x_train.shape[0], self.settings.batch_size
        order = torch.randperm(n, generator=epoch_generator(self.settings.seed, epoch))
        order = order.to(self.device)
        self.model.train()
        total = torch.zeros((), device=self.device)
        start = last_draw = time.perf_counter()
        for i in range(0, n, bs):
            index = order[i : i + bs]
            x = self.x_train.index_select(0, index)  # (batch, seq, features)
            y = self.y_train.index_select(0, index)  # (batch, 1) or (batch,)
            self.optimizer.zero_grad(set_to_none=True)
            pred = self._forward(self.model, x, index)  # (batch, output_size)
            loss = self.loss_fn(pred, y)
            loss.backward()
            clip_grad_norm(self.params, self.settings.clip)
            self.optimizer.step()
            total.add_(loss.detach(), alpha=index.shape[0])
            now = time.perf_counter()
            if now - last_draw >= REDRAW_SECONDS:
                done = min(i + bs, n)
                rate = done / (now - start)
                self.reporter.step(epoch, done, n, float(total) / done, rate)
                last_draw = now
        return total, time.perf_counter() - start

    def _forward(self, model: Any, x: Any, index: Any) -> Any:
        """`model`'s prediction for the training samples `index` (their inputs `x`)."""
        if self.len_train is None:
            return model(x)[0]
        # Padded batch: run packed, each sequence to its own length.
        return model(x, lengths=self.len_train.index_select(0, index))[0]

    def validate(self) -> dict[str, float]:
        pred = predict_tensor(self.model, self.x_val, lengths=self.len_val)  # (n_val, output_size)
        return compute_metrics(self.dataset.spec.task, pred, self.y_val, self.dataset.spec.scaling)

    def _save_checkpoint(self) -> None:
        extra = {
            "model": self.name,
            "task": self.dataset.spec.task,
            "data": self.dataset.spec.to_dict(),
            "training": {
                **asdict(self.settings),
                "processes": self.processes,
                "optimizer": "adamw" if self.settings.weight_decay else "adam",
                "torch": _torch_version(),
                "zoo": __version__,
            },
            "best": {"epoch": self.best_epoch, "val": self.best_metrics},
        }
        self._checkpoint = save_checkpoint(
            self.out, self.arch, self.config, self.best_state, extra=extra
        )

    def _save_metrics(self) -> None:
        data = {
            "model": self.name,
            "architecture": self.arch.name,
            "data": self.dataset.spec.describe(),
            "task": self.dataset.spec.task,
            "threads": self.settings.threads,  # bit-exact reruns need the same count
            "best_epoch": self.best_epoch,
            "best": self.best_metrics,
            "epochs": self.history,
        }
        atomic_write_text(self.out / METRICS_FILE, dumps_json(data) + "\n")

    def _save_state(self) -> None:
        import torch

        cuda = self.device.type == "cuda"
        state = TrainState(
            epoch=self.epoch,
            model=self.model.state_dict(),
            best_model=self.best_state,
            optimizer=self.optimizer.state_dict(),
            rng=torch.get_rng_state(),
            cuda_rng=torch.cuda.get_rng_state(self.device) if cuda else None,
            best_epoch=self.best_epoch,
            best_loss=self.best_loss,
            history=self.history,
            fingerprint=self.fingerprint,
        )
        save_train_state(self.out, state)


def epoch_generator(seed: int, epoch: int) -> Any:
    """A CPU generator for epoch `epoch`'s shuffle, a pure function of (seed, epoch)."""
    import numpy as np
    import torch

    (state,) = np.random.SeedSequence([seed, epoch]).generate_state(1, dtype=np.uint64)
    return torch.Generator().manual_seed(int(state))


def _lengths(lengths: Any, device: Any) -> Any:
    import torch

    return None if lengths is None else torch.from_numpy(lengths).to(device)


def _adam(params: list[Any], lr: float, weight_decay: float = 0.0) -> Any:
    """Adam (AdamW with decoupled `weight_decay` when it is not 0) with the fused kernel
    (one pass per parameter instead of a dozen small ops) where the parameters allow it,
    the default implementation otherwise."""
    import torch

    try:
        if weight_decay:
            return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, fused=True)
        return torch.optim.Adam(params, lr=lr, fused=True)
    except RuntimeError:  # a device or dtype the fused kernel does not support
        if weight_decay:
            return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
        return torch.optim.Adam(params, lr=lr)


def clip_grad_norm(params: list[Any], max_norm: float) -> None:
    """Scale the gradients so that their global L2 norm is at most `max_norm`.

    The arithmetic of `torch.nn.utils.clip_grad_norm_` (same epsilon, same clamp) without
    its per-call grouping by device and dtype: a training run has one of each, and for
    small recurrent models that bookkeeping costs as much as the clipping itself.
    """
    import torch

    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    norms = torch._foreach_norm(grads)
    total = torch.linalg.vector_norm(torch.stack(norms))
    coef = (max_norm / (total + 1e-6)).clamp_(max=1.0)
    torch._foreach_mul_(grads, coef)


def _torch_version() -> str:
    import torch

    return str(torch.__version__)
