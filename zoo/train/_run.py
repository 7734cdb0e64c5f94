"""Training a model: settings and results, the checks before a run, and the run itself.

`run_training` checks the settings, the device and the output directory (for `--resume`:
that the saved run was trained the same way), runs the loop of zoo.train_loop, and plots
the loss curves. Nothing here imports torch at module level; the run imports it.

Several processes (torchrun, DDP) run the same loop through zoo.train_dist; one process
never touches torch.distributed.

Output directory (`out`)::

    model.safetensors, config.json   the best epoch's weights (zoo.checkpoint)
    metrics.json                     every epoch's losses and metrics, the best epoch
    train_state/                     what --resume needs (zoo.train_state)
    loss.png                         loss curves, when matplotlib is installed
    accuracy.png, confusion.png      classification: validation accuracy per epoch, and
                                     the best epoch's confusion matrix (idem)
    .zoo-train.lock                  while a run trains there (`run_lock`)

One run at a time per folder: a run holds the folder's lock from its start-up checks to its
last write (in a torchrun job, rank 0 does), and a second run into the same folder stops at
once with an error naming the first (pid, host, start, command). A run's lock dies with
its process, so a killed run never blocks the next one.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo._errors import ZooError
from zoo._fs import Locked, ensure_dir, hold_lock
from zoo._spec import Architecture, Config
from zoo.checkpoint._format import checkpoint_files
from zoo.checkpoint._train_state import (
    STATE_DIR,
    TrainState,
    has_train_state,
    load_train_state,
    pack_train_state,
    unpack_train_state,
)
from zoo.data._spec import CLASSIFICATION, Dataset
from zoo.train._dist_loop import DistributedLoop
from zoo.train._loop import Loop
from zoo.train._pictures import draw_run
from zoo.train._reporter import Reporter
from zoo.train._schedule import SCHEDULES
from zoo.train._settings import DEVICES, TrainResult, TrainSettings
from zoo.train._threads import recorded_threads, run_threads, training_threads

if TYPE_CHECKING:
    from zoo.train._distributed import Group


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


#: The lock file a training run holds in its output folder.
LOCK_FILE = ".zoo-train.lock"


@contextlib.contextmanager
def run_lock(out: Path) -> Iterator[None]:
    """Be the one training run writing to `out` for the block (the folder is created)."""
    ensure_dir(out)
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(hold_lock(out / LOCK_FILE))
        except Locked as exc:
            raise ZooError(
                f"{str(out)!r} is in use by another training run ({exc.holder}). Wait for it "
                "to finish, or choose another --out."
            ) from None
        yield


def check_out(out: Path, resume: bool) -> None:
    """Refuse to start a new run over an existing one (`--resume` continues it instead)."""
    if resume:
        return
    if has_train_state(out) or checkpoint_files(out)[0].exists():
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
    fresh_if_missing: bool = False,
) -> TrainResult:
    """Train `arch` at `config` on `dataset`; the best epoch's checkpoint goes to `out`.

    One process, no process group. `run_training` with a `group` is the same run shared
    by the processes of a torchrun job.
    """
    result = run_training(
        arch, config, dataset, settings, out, name=name, resume=resume, plot=plot,
        reporter=reporter or Reporter(), group=None, fresh_if_missing=fresh_if_missing,
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
    fresh_if_missing: bool = False,
) -> TrainResult | None:
    """`train_model`, or with `group` this rank's part of a distributed run: every rank
    calls it with the same arguments (the same data, in particular); only rank 0 reads
    `out` (for `--resume`) and writes to it, so `out` need not be shared. None on the ranks
    that write nothing.

    `resume` with no run in `out` is an error (a typo in the folder would cost a whole run),
    unless `fresh_if_missing` (`--resume-if-exists`): then a new run starts there."""
    import torch

    check_lengths_support(arch, dataset)
    if settings.epochs < 1 or settings.batch_size < 1 or not settings.lr > 0:
        raise ZooError(
            f"epochs and batch size must be positive and lr > 0, got {settings.epochs}, "
            f"{settings.batch_size}, {settings.lr}."
        )
    check_schedule(settings, distributed=group is not None)
    device = _device(settings.device)
    settings = replace(
        settings,
        threads=run_threads(
            settings.threads,
            (arch, config, dataset, settings.batch_size),
            probe=device.type == "cpu" and group is None,
            recorded=recorded_threads(out) if resume else None,
            note=reporter.note,
        ),
    )
    fingerprint = _fingerprint(arch, config, dataset, settings)
    with contextlib.ExitStack() as held:  # the run lock, from the checks to the last write

        def prepare() -> TrainState | None:
            if resume and not fresh_if_missing and not has_train_state(out):
                raise ZooError(nothing_to_resume(out))  # before the lock creates `out`
            held.enter_context(run_lock(out))
            return _prepare(out, resume, settings, fingerprint, reporter, fresh_if_missing)

        if group is None:
            state = prepare()
        else:
            from zoo.train._distributed import local_batch

            local_batch(settings.batch_size, group.world_size)
            device = group.device
            blob = group.share(
                lambda: _packed(prepare())
            )  # rank 0 locks, reads and checks the files; every rank gets the same state
            state = unpack_train_state(blob) if blob is not None else None
        cuda_devices = [device.index or 0] if device.type == "cuda" else []
        assert settings.threads is not None
        with torch.random.fork_rng(devices=cuda_devices), training_threads(settings.threads):
            torch.manual_seed(settings.seed)
            args = (arch, config, dataset, settings, out, device, fingerprint, name, reporter)
            loop = Loop(*args) if group is None else DistributedLoop(*args, group=group)
            if state is not None:
                loop.restore(state)
                reporter.note(f"resuming {out} after epoch {state.epoch} of {settings.epochs}")
            loop.run()
        if not loop.writes:
            return None
        plots = draw_run(loop, out, reporter) if plot else []
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
        threads=settings.threads,
    )


def check_schedule(settings: TrainSettings, distributed: bool) -> None:
    """Refuse a schedule zoo does not know, and what only one process could decide."""
    if settings.schedule not in SCHEDULES:
        raise ZooError(
            f"Unknown learning-rate schedule {settings.schedule!r}; choose one of "
            f"{', '.join(SCHEDULES)}."
        )
    if settings.weight_decay < 0 or settings.patience < 0:
        raise ZooError(
            f"weight decay and patience must be >= 0, got {settings.weight_decay}, "
            f"{settings.patience}."
        )
    if distributed and (settings.patience or settings.schedule == "plateau"):
        raise ZooError(
            "--patience and --schedule plateau follow the validation loss, which only rank 0 "
            "computes in a distributed run; leave them out with --nproc (cosine works)."
        )


def _prepare(
    out: Path,
    resume: bool,
    settings: TrainSettings,
    fingerprint: dict[str, Any],
    reporter: Reporter,
    fresh_if_missing: bool,
) -> TrainState | None:
    """Check `out` and, for `--resume`, load its train state and check that it fits."""
    check_out(out, resume)
    state = load_train_state(out) if resume and has_train_state(out) else None
    if resume and state is None:
        if not fresh_if_missing:
            raise ZooError(nothing_to_resume(out))
        reporter.note(f"--resume-if-exists: no run in {out} to resume; starting at epoch 1")
    if state is not None:
        if state.epoch > settings.epochs:
            raise ZooError(
                f"--resume: {out} has already completed {state.epoch} epochs, more than "
                f"--epochs {settings.epochs}. Pass --epochs {state.epoch} or more."
            )
        problems = _fingerprint_mismatch(state.fingerprint, fingerprint)
        threads = [p for p in problems if p.startswith(THREADS_KEY)]
        if threads:  # a different sum order, not a different run: see zoo.train._threads
            reporter.note(
                f"--resume: {out} trained on another number of torch threads "
                f"({threads[0][len(THREADS_KEY) + 2 :]}); the weights match a run that never "
                "stopped bit for bit only at the same count (--threads)"
            )
        problems = [p for p in problems if not p.startswith(THREADS_KEY)]
        if problems:
            raise ZooError(
                f"--resume: {out} was trained differently: {'; '.join(problems)}. Resume with "
                "the same options (only --epochs may grow), or choose another --out."
            )
    ensure_dir(out)
    return state


def nothing_to_resume(out: Path) -> str:
    """The error for `--resume` into a folder that holds no run to continue."""
    where = "does not exist" if not out.exists() else f"has no {STATE_DIR}/ to continue from"
    return (
        f"--resume: no run to resume: {str(out)!r} {where}. Check --out (the folder of the "
        "run to continue), or pass --resume-if-exists to start a new run there when none exists."
    )


#: The fingerprint entry of the thread count (a mismatch warns rather than refuses).
THREADS_KEY = "settings.threads"


def _packed(state: TrainState | None) -> bytes | None:
    return pack_train_state(state) if state is not None else None


def check_lengths_support(arch: Architecture, dataset: Dataset) -> None:
    """Variable-length data needs an architecture whose forward takes `lengths`."""
    if dataset.spec.variable_length and not arch.supports_lengths:
        raise ZooError(
            f"{dataset.spec.describe()} has sequences of different lengths, but architecture "
            f"{arch.name!r} does not take `lengths` (supports_lengths=False). Train an "
            "architecture that does (rnn, lstm, bilstm, ...) or use fixed-length data."
        )
