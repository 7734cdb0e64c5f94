"""The training loop: Adam, gradient clipping, validation each epoch, best-epoch checkpoint.

Reproducible by construction (CPU): the weights are initialised from `seed`; each epoch's
shuffle comes from a generator seeded with `(seed, epoch)`, independent of anything that
ran before; and the global RNG state (dropout) is saved at the end of every epoch with the
optimizer state. Resuming restores all of it, so a run killed at any point and resumed ends
with the same weights, bit for bit, as one that ran through.

The step does only what training needs: the data lives on the device as two tensors, a
batch is an `index_select`, and the running loss is summed on the device; the host reads it
only when the progress display is redrawn (at most 5 times a second) and once per epoch.

Several processes (torchrun, DDP) run the same loop through zoo.train_dist; one process
never touches torch.distributed.

Output directory (`out`)::

    model.safetensors, config.json   the best epoch's weights (zoo.checkpoint)
    metrics.json                     every epoch's losses and metrics, the best epoch
    train_state/                     what --resume needs (zoo.train_state)
    loss.png                         loss curves, when matplotlib is installed
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo._version import __version__
from zoo.checkpoint import CONFIG_FILE, Checkpoint, save_checkpoint
from zoo.dataspec import CLASSIFICATION, Dataset
from zoo.distributed import PeerFailed
from zoo.errors import ZooError
from zoo.fsutil import atomic_write_text, ensure_dir
from zoo.metrics import compute_metrics, loss_function, predict_tensor
from zoo.reporter import Reporter
from zoo.spec import Architecture, Config
from zoo.train_state import (
    TrainState,
    has_train_state,
    load_train_state,
    pack_train_state,
    save_train_state,
    unpack_train_state,
)

if TYPE_CHECKING:
    from zoo.distributed import Group

METRICS_FILE = "metrics.json"
LOSS_PLOT = "loss.png"
#: Seconds between progress redraws (each one reads the running loss from the device).
REDRAW_SECONDS = 0.2
DEVICES = ("cpu", "cuda")


@dataclass(frozen=True)
class TrainSettings:
    """How to train; everything but `epochs` must stay the same for `--resume`."""

    epochs: int = 20
    batch_size: int = 64
    lr: float = 3e-3
    seed: int = 0
    device: str = "cpu"
    clip: float = 1.0

    def fingerprint(self) -> dict[str, Any]:
        values = asdict(self)
        del values["epochs"]
        return values


@dataclass(frozen=True)
class EpochRecord:
    """One epoch's results; `val` holds the validation metrics (see zoo.metrics)."""

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

    @property
    def samples_per_s(self) -> float:
        rates = [r["samples_per_s"] for r in self.history]
        return sum(rates) / len(rates) if rates else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "sha256": self.checkpoint.sha256,
            "task": self.task,
            "best_epoch": self.best_epoch,
            "best": self.best,
            "epochs": len(self.history),
            "resumed_from": self.resumed_from,
            "samples_per_s": self.samples_per_s,
            "processes": self.processes,
            "plots": [str(p) for p in self.plots],
        }


def model_config(arch: Architecture, base: Config, overrides: Config, dataset: Dataset) -> Config:
    """The architecture's config with input/output sizes taken from the data.

    `overrides` (from --set) may repeat the data's sizes but not contradict them.
    """
    spec = dataset.spec
    sizes = {"input_size": spec.input_size, "output_size": spec.output_size}
    for key, value in sizes.items():
        if key in overrides and overrides[key] != value:
            what = "classes" if key == "output_size" and spec.task == CLASSIFICATION else "values"
            raise ZooError(
                f"--set {key}={overrides[key]!r} contradicts the data: {spec.describe()} has "
                f"{value} {'features' if key == 'input_size' else what}. Leave {key} out; "
                "zoo sets it from the data."
            )
        if key not in arch.defaults:
            raise ZooError(
                f"Architecture {arch.name!r} has no {key!r} config key, so zoo cannot size it "
                "for the data; train an architecture with the standard keys."
            )
    return arch.resolve({**base, **overrides, **sizes})


def _device(name: str) -> Any:
    import torch

    if name not in DEVICES:
        raise ZooError(f"Unknown device {name!r}; choose one of {', '.join(DEVICES)}.")
    if name == "cuda" and not torch.cuda.is_available():
        raise ZooError(
            f"--device cuda: no CUDA device is available to torch {torch.__version__}. "
            "Use --device cpu."
        )
    return torch.device(name)


def _epoch_generator(seed: int, epoch: int) -> Any:
    """A CPU generator for epoch `epoch`'s shuffle, a pure function of (seed, epoch)."""
    import numpy as np
    import torch

    (state,) = np.random.SeedSequence([seed, epoch]).generate_state(1, dtype=np.uint64)
    return torch.Generator().manual_seed(int(state))


def _fingerprint(
    arch: Architecture, config: Config, dataset: Dataset, settings: TrainSettings
) -> dict[str, Any]:
    raw = {
        "architecture": arch.name,
        "config": config,
        "data": dataset.spec.to_dict(),
        "settings": settings.fingerprint(),
    }
    normalized: dict[str, Any] = json.loads(json.dumps(raw))  # tuples as lists, like on disk
    return normalized


def _fingerprint_mismatch(
    saved: dict[str, Any], now: dict[str, Any], prefix: str = ""
) -> list[str]:
    problems = []
    for key in sorted(set(saved) | set(now)):
        old, new = saved.get(key), now.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            problems += _fingerprint_mismatch(old, new, f"{prefix}{key}.")
        elif old != new:
            problems.append(f"{prefix}{key}: was {old!r}, now {new!r}")
    return problems


def check_out(out: Path, resume: bool) -> None:
    """Refuse to start a new run over an existing one (`--resume` continues it instead)."""
    if resume:
        return
    if has_train_state(out) or (out / CONFIG_FILE).exists():
        raise ZooError(
            f"{str(out)!r} already holds a training run. Pass --resume to continue it (a "
            "larger --epochs extends it), or choose another --out."
        )


def train_model(
    arch: Architecture,
    config: Config,
    dataset: Dataset,
    settings: TrainSettings,
    out: Path,
    *,
    name: str | None = None,
    resume: bool = False,
    plot: bool = True,
    reporter: Reporter | None = None,
) -> TrainResult:
    """Train `arch` at `config` on `dataset`; the best epoch's checkpoint goes to `out`.

    One process, no process group. `zoo.train_dist.train_distributed` is the same run
    shared by the processes of a torchrun job.
    """
    result = run_training(
        arch, config, dataset, settings, out, name=name, resume=resume, plot=plot,
        reporter=reporter or Reporter(), group=None,
    )  # fmt: skip
    assert result is not None, "a single process always writes"
    return result


def run_training(
    arch: Architecture,
    config: Config,
    dataset: Dataset,
    settings: TrainSettings,
    out: Path,
    *,
    name: str | None,
    resume: bool,
    plot: bool,
    reporter: Reporter,
    group: Group | None,
) -> TrainResult | None:
    """`train_model`, or with `group` one rank's part of a distributed run (None on the
    ranks that write nothing)."""
    import torch

    check_lengths_support(arch, dataset)
    if settings.epochs < 1 or settings.batch_size < 1 or not settings.lr > 0:
        raise ZooError(
            f"epochs and batch size must be positive and lr > 0, got {settings.epochs}, "
            f"{settings.batch_size}, {settings.lr}."
        )
    device = _device(settings.device)
    fingerprint = _fingerprint(arch, config, dataset, settings)
    if group is None:
        state = _prepare(out, resume, settings, fingerprint, reporter)
    else:
        from zoo.distributed import local_batch

        local_batch(settings.batch_size, group.world_size)
        device = group.device
        blob = group.share(
            lambda: _packed(_prepare(out, resume, settings, fingerprint, reporter))
        )  # rank 0 reads and checks the files; every rank gets the same state
        state = unpack_train_state(blob) if blob is not None else None
    cuda_devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(settings.seed)
        args = (arch, config, dataset, settings, out, device, fingerprint, name, reporter)
        if group is None:
            loop = _Loop(*args)
        else:
            from zoo.train_dist import DistributedLoop

            loop = DistributedLoop(*args, group=group)
        if state is not None:
            loop.restore(state)
            reporter.note(f"resuming {out} after epoch {state.epoch} of {settings.epochs}")
        loop.run()
    if not loop.writes:
        return None
    plots = _plot_losses(loop.history, out, reporter) if plot else []
    return TrainResult(
        out=out,
        checkpoint=loop.checkpoint,
        task=dataset.spec.task,
        best_epoch=loop.best_epoch,
        best=loop.best_metrics,
        history=loop.history,
        resumed_from=state.epoch if state is not None else None,
        plots=plots,
        processes=loop.processes,
    )


def _prepare(
    out: Path,
    resume: bool,
    settings: TrainSettings,
    fingerprint: dict[str, Any],
    reporter: Reporter,
) -> TrainState | None:
    """Check `out` and, for `--resume`, load its train state and check that it fits."""
    check_out(out, resume)
    state = load_train_state(out) if resume and has_train_state(out) else None
    if resume and state is None:
        reporter.note(f"no train_state in {out}: starting from epoch 1")
    if state is not None:
        if state.epoch > settings.epochs:
            raise ZooError(
                f"--resume: {out} has already completed {state.epoch} epochs, more than "
                f"--epochs {settings.epochs}. Pass --epochs {state.epoch} or more."
            )
        problems = _fingerprint_mismatch(state.fingerprint, fingerprint)
        if problems:
            raise ZooError(
                f"--resume: {out} was trained differently: {'; '.join(problems)}. Resume with "
                "the same options (only --epochs may grow), or choose another --out."
            )
    ensure_dir(out)
    return state


def _packed(state: TrainState | None) -> bytes | None:
    return pack_train_state(state) if state is not None else None


class _Loop:
    """The state of one run: model, optimizer, data on the device, best-so-far, history."""

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
        self.optimizer = _adam(self.params, settings.lr)
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
        self._finish()

    def _finish(self) -> None:
        assert self.best_state, "epochs >= 1, and the first epoch is always the best so far"
        self._save_checkpoint()  # also when resuming a finished run: config.json up to date

    def _epoch(self, epoch: int) -> EpochRecord:
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
        order = torch.randperm(n, generator=_epoch_generator(self.settings.seed, epoch))
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
                "optimizer": "adam",
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
            "best_epoch": self.best_epoch,
            "best": self.best_metrics,
            "epochs": self.history,
        }
        atomic_write_text(self.out / METRICS_FILE, json.dumps(data, indent=2) + "\n")

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


def _lengths(lengths: Any, device: Any) -> Any:
    import torch

    return None if lengths is None else torch.from_numpy(lengths).to(device)


def check_lengths_support(arch: Architecture, dataset: Dataset) -> None:
    """Variable-length data needs an architecture whose forward takes `lengths`."""
    if dataset.spec.variable_length and not arch.supports_lengths:
        raise ZooError(
            f"{dataset.spec.describe()} has sequences of different lengths, but architecture "
            f"{arch.name!r} does not take `lengths` (supports_lengths=False). Train an "
            "architecture that does (rnn, lstm, bilstm, ...) or use fixed-length data."
        )


def _adam(params: list[Any], lr: float) -> Any:
    """Adam with the fused kernel (one pass per parameter instead of a dozen small ops)
    where the parameters allow it, the default implementation otherwise."""
    import torch

    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except RuntimeError:  # a device or dtype the fused kernel does not support
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


def _plot_losses(history: list[dict[str, Any]], out: Path, reporter: Reporter) -> list[Path]:
    from zoo import plots

    if not plots.available():
        reporter.note(f"loss curves not saved: {plots.MISSING}")
        return []
    path = out / LOSS_PLOT
    plots.loss_curves(history, path)
    return [path]
