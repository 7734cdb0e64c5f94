"""What `zoo train --resume` needs to continue a run exactly, saved without pickle.

Layout, inside the run's output directory::

    train_state/state.json                  epoch, best-so-far, history, settings, the
                                            optimizer's non-tensor state, sha256 below
    train_state/state-0003.safetensors      tensors: current and best weights, optimizer
                                            moments, the torch RNG state(s)

Every tensor goes to safetensors and everything else to JSON, so loading runs no code.
The tensors of each epoch go to a new file named after the epoch; `state.json` is then
replaced atomically to point at it, and only then is the previous file removed. A run killed
at any moment leaves a `state.json` that names a complete file of the last completed epoch.
`pack_train_state` puts the same JSON and safetensors in one byte string, which is how a
distributed run's rank 0 hands a resumed state to the other processes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo._errors import CheckpointError
from zoo._fs import atomic_output, atomic_write_text, ensure_dir, sha256_file
from zoo._limits import dumps_json, restore_non_finite
from zoo.checkpoint._format import read_json
from zoo.checkpoint._header import check_safetensors

STATE_DIR = "train_state"
STATE_FILE = "state.json"
FORMAT = 1


@dataclass
class TrainState:
    """A training run after `epoch` completed epochs.

    `model`/`best_model`: state dicts (name -> tensor). `optimizer`: a torch optimizer
    state dict. `rng`: the CPU generator's state (plus `cuda_rng` on CUDA), taken at the end
    of the epoch, so that dropout continues as if never interrupted. `fingerprint`: what
    must be the same to resume (architecture, config, data, settings).
    """

    epoch: int
    model: dict[str, Any]
    best_model: dict[str, Any]
    optimizer: dict[str, Any]
    rng: Any
    best_epoch: int
    best_loss: float
    history: list[dict[str, Any]] = field(default_factory=list)
    fingerprint: dict[str, Any] = field(default_factory=dict)
    cuda_rng: Any = None


def state_dir(out: Path) -> Path:
    return out / STATE_DIR


def save_train_state(out: Path, state: TrainState) -> Path:
    """Write the tensors, then point `state.json` at them, then drop the previous file."""
    from safetensors.torch import save_file

    folder = ensure_dir(state_dir(out))
    previous = _recorded_file(folder)
    meta, tensors = _to_parts(state)
    name = f"state-{state.epoch:04d}.safetensors"
    with atomic_output(folder / name) as tmp:
        save_file(tensors, str(tmp))
    meta = {**meta, "tensors": name, "sha256": sha256_file(folder / name)}
    atomic_write_text(folder / STATE_FILE, dumps_json(meta) + "\n")
    if previous is not None and previous != name:
        (folder / previous).unlink(missing_ok=True)
    return folder / STATE_FILE


def _to_parts(state: TrainState) -> tuple[dict[str, Any], dict[str, Any]]:
    """The state as JSON-able data and a flat dict of CPU tensors (what safetensors saves)."""
    tensors: dict[str, Any] = {}
    for name, value in state.model.items():
        tensors[f"model.{name}"] = value
    for name, value in state.best_model.items():
        tensors[f"best.{name}"] = value
    tensors["rng.cpu"] = state.rng
    if state.cuda_rng is not None:
        tensors["rng.cuda"] = state.cuda_rng
    optimizer_json = _split_optimizer(state.optimizer, tensors)
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    meta = {
        "format": FORMAT,
        "epoch": state.epoch,
        "best_epoch": state.best_epoch,
        "best_loss": state.best_loss,
        "history": state.history,
        "fingerprint": state.fingerprint,
        "optimizer": optimizer_json,
    }
    return meta, tensors


def _from_parts(meta: Mapping[str, Any], tensors: Mapping[str, Any]) -> TrainState:
    return TrainState(
        epoch=int(meta["epoch"]),
        model=_prefixed(tensors, "model."),
        best_model=_prefixed(tensors, "best."),
        optimizer=_join_optimizer(meta["optimizer"], tensors),
        rng=tensors["rng.cpu"],
        cuda_rng=tensors.get("rng.cuda"),
        best_epoch=int(meta["best_epoch"]),
        best_loss=float(meta["best_loss"]),
        history=list(meta["history"]),
        fingerprint=dict(meta["fingerprint"]),
    )


def pack_train_state(state: TrainState) -> bytes:
    """The state as one byte string, in the on-disk formats (JSON, then safetensors).

    What rank 0 of a distributed run sends to the other ranks on `--resume`, so that no
    pickle crosses the wire either. Layout: the JSON's length (8 bytes, little-endian), the
    JSON, the safetensors bytes.
    """
    from safetensors.torch import save

    meta, tensors = _to_parts(state)
    header = json.dumps(meta).encode("utf-8")
    return len(header).to_bytes(8, "little") + header + save(tensors)


def unpack_train_state(blob: bytes) -> TrainState:
    """The inverse of `pack_train_state`."""
    from safetensors.torch import load

    size = int.from_bytes(blob[:8], "little")
    meta = json.loads(blob[8 : 8 + size].decode("utf-8"))
    return _from_parts(meta, load(blob[8 + size :]))


def _recorded_file(folder: Path) -> str | None:
    try:
        return str(read_json(folder / STATE_FILE, STATE_FILE)["tensors"])
    except (CheckpointError, OSError, KeyError, TypeError):
        return None


def _split_optimizer(optimizer: Mapping[str, Any], tensors: dict[str, Any]) -> dict[str, Any]:
    """The optimizer state dict's tensors into `tensors`; the rest as JSON-able data."""
    import torch

    scalars: dict[str, dict[str, Any]] = {}
    for pid, values in optimizer["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{pid}.{key}"] = value
            elif value is None or isinstance(value, bool | int | float | str):
                scalars.setdefault(str(pid), {})[key] = value
            else:
                raise CheckpointError(
                    f"Optimizer state {key!r} of parameter {pid} is a {type(value).__name__}; "
                    "train_state saves only tensors and JSON scalars."
                )
    return {"param_groups": optimizer["param_groups"], "state": scalars}


def has_train_state(out: Path) -> bool:
    return (state_dir(out) / STATE_FILE).is_file()


def load_train_state(out: Path) -> TrainState:
    """Read and verify the last completed epoch's state (sha256 checked, no pickle)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = state_dir(out)
    path = folder / STATE_FILE
    meta = read_json(path, f"{STATE_DIR}/{STATE_FILE}")
    if isinstance(meta, dict) and meta.get("format") != FORMAT:
        raise CheckpointError(
            f"{path}: train_state format {meta.get('format')!r}, this zoo reads {FORMAT}."
        )
    try:
        meta = _checked(meta)
    except (ValueError, KeyError, TypeError) as exc:
        why = f"no key {exc}" if isinstance(exc, KeyError) else str(exc)
        raise CheckpointError(
            f"{path}: unreadable train_state ({why}); cannot resume. Start again without "
            "--resume into a new --out."
        ) from None
    tensors_path, recorded = folder / meta["tensors"], meta["sha256"]
    if tensors_path.parent != folder:
        raise CheckpointError(f"{path}: 'tensors' must name a file inside {folder}.")
    if tensors_path.is_file():  # sizes from the header, before the file is hashed
        check_safetensors(tensors_path, params_scale=COPIES, extra=1 << 20)
    if not tensors_path.is_file() or sha256_file(tensors_path) != recorded:
        raise CheckpointError(
            f"{tensors_path}: missing or its sha256 does not match {STATE_FILE}; the train "
            "state is corrupt. Start again without --resume into a new --out."
        )
    try:
        tensors = load_file(str(tensors_path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(
            f"{tensors_path}: not a valid safetensors file ({exc}). zoo never loads pickle."
        ) from None
    if "rng.cpu" not in tensors:
        raise CheckpointError(f"{tensors_path}: no 'rng.cpu' tensor; the train state is corrupt.")
    return _from_parts(meta, tensors)


#: Copies of the weights a train state holds: current, best, Adam's two moments.
COPIES = 4


def _checked(meta: Any) -> dict[str, Any]:
    """state.json's keys with the types `_from_parts` and the loop rely on, else
    ValueError/TypeError/KeyError naming the key (state.json is a file anyone can edit)."""

    def need(ok: bool, what: str, value: Any = None) -> None:
        if not ok:
            raise ValueError(f"{what}, got {str(value)[:60]}")

    def whole(value: Any, least: int = 0) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= least

    def number(value: Any) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    need(isinstance(meta, dict), "state.json must be a JSON object", meta)
    meta = restore_non_finite(meta)
    for key in ("tensors", "sha256"):
        need(isinstance(meta[key], str), f"key {key!r} must be a string", meta[key])
    epoch, best = meta["epoch"], meta["best_epoch"]
    need(whole(epoch), "key 'epoch' must be a whole number >= 0", epoch)
    need(whole(best) and best <= epoch, "key 'best_epoch' must be in [0, epoch]", best)
    need(number(meta["best_loss"]), "key 'best_loss' must be a number", meta["best_loss"])
    fingerprint = meta["fingerprint"]
    need(isinstance(fingerprint, dict), "key 'fingerprint' must be an object", fingerprint)
    history = meta["history"]
    need(
        isinstance(history, list) and len(history) <= epoch,
        "key 'history' must be a list of at most 'epoch' records",
        history,
    )
    for i, record in enumerate(history):
        need(
            isinstance(record, dict)
            and whole(record["epoch"], 1)
            and record["epoch"] <= epoch
            and number(record["train_loss"])
            and isinstance(record["val"], dict)
            and all(number(v) for v in record["val"].values())
            and isinstance(record.get("best", False), bool),
            f"history record {i} needs epoch (1 to 'epoch'), train_loss, val metrics, best",
            record,
        )
    optimizer = meta["optimizer"]
    need(isinstance(optimizer, dict), "key 'optimizer' must be an object", optimizer)
    groups, state = optimizer["param_groups"], optimizer["state"]
    need(
        isinstance(groups, list)
        and all(isinstance(g, dict) and isinstance(g.get("params"), list) for g in groups)
        and all(whole(p) for g in groups for p in g["params"]),
        "key 'optimizer.param_groups' must be a list of objects with 'params'",
        groups,
    )
    need(
        isinstance(state, dict)
        and all(k.isdigit() and isinstance(v, dict) for k, v in state.items()),
        "key 'optimizer.state' must map parameter numbers to objects",
        state,
    )
    return dict(meta)


def _prefixed(tensors: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}


def _join_optimizer(saved: Mapping[str, Any], tensors: Mapping[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for pid, values in saved["state"].items():
        state.setdefault(int(pid), {}).update(values)
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, pid, name = key.split(".", 2)
            state.setdefault(int(pid), {})[name] = value
    return {"state": state, "param_groups": saved["param_groups"]}
