"""Checkpoint directories, safe by construction: safetensors weights and JSON config.

Layout::

    model.safetensors   the weights (never pickle)
    config.json         architecture, config, I/O contract, sha256 of the weights, zoo version
                        (`zoo train` adds its data description, scaling, task and best epoch,
                        and writes metrics.json and train_state/ beside them: zoo.train._run)

Weights are written first and config.json last, each atomically, so a directory without
config.json is clearly incomplete, and one whose weights do not hash to the recorded sha256
is refused. Nothing here ever unpickles a file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo._errors import CheckpointError
from zoo._fs import atomic_output, atomic_write_text, ensure_dir, sha256_bytes, sha256_file
from zoo._spec import Architecture, Config
from zoo._version import __version__

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"


@dataclass(frozen=True)
class Checkpoint:
    """A validated checkpoint directory (weights not loaded yet)."""

    path: Path
    architecture: str
    config: Config
    sha256: str
    meta: dict[str, Any]
    #: The whole checkpoint's pin (`checkpoint_digest`): weights and config.json together.
    digest: str = ""

    @property
    def weights_path(self) -> Path:
        return self.path / WEIGHTS_FILE


def read_checkpoint(path: Path) -> Checkpoint:
    """Validate a checkpoint directory's files and the weights' sha256."""
    if not path.is_dir():
        raise CheckpointError(
            f"Checkpoint {str(path)!r} is not a directory. A checkpoint is the folder "
            f"`zoo train --out` writes ({WEIGHTS_FILE} + {CONFIG_FILE})."
        )
    config_path, weights_path = path / CONFIG_FILE, path / WEIGHTS_FILE
    if not config_path.is_file():
        raise CheckpointError(f"{config_path}: missing; the checkpoint is incomplete.")
    if not weights_path.is_file():
        raise CheckpointError(f"{weights_path}: missing; the checkpoint is incomplete.")
    raw = config_path.read_bytes()
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{config_path}: not valid JSON ({exc}).") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("architecture"), str):
        raise CheckpointError(
            f"{config_path}: needs an 'architecture' string and a 'config' table."
        )
    if not isinstance(meta.get("config"), dict):
        raise CheckpointError(f"{config_path}: needs a 'config' table.")
    sha256 = sha256_file(weights_path)
    recorded = meta.get("sha256")
    if recorded is not None and recorded != sha256:
        raise CheckpointError(
            f"{weights_path}: sha256 {sha256[:12]}... does not match {recorded[:12]}... recorded "
            f"in {CONFIG_FILE}; the weights were modified or only partly written."
        )
    digest = checkpoint_digest(raw, sha256)
    return Checkpoint(path, meta["architecture"], dict(meta["config"]), sha256, meta, digest)


def checkpoint_digest(config: bytes, weights_sha256: str) -> str:
    """The sha256 that pins a checkpoint as a whole: its config.json bytes (architecture,
    config, data scaling, labels: everything that changes what it computes) and its
    weights. Registry entries and exported artifacts record this, not the weights alone."""
    lines = ["zoo-checkpoint-v1", f"{CONFIG_FILE} {sha256_bytes(config)}"]
    lines.append(f"{WEIGHTS_FILE} {weights_sha256}")
    return sha256_bytes(("\n".join(lines) + "\n").encode())


def load_state(checkpoint: Checkpoint) -> dict[str, Any]:
    """The weights as tensors, parsed by safetensors (a format that cannot run code)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(checkpoint.weights_path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(
            f"{checkpoint.weights_path}: not a valid safetensors file ({exc}). zoo never "
            "loads pickle/torch.save files; re-save the weights with safetensors."
        ) from None


def build_from_checkpoint(checkpoint: Checkpoint, arch: Architecture) -> Any:
    """The architecture built at the checkpoint's config with its weights loaded (strict)."""
    config = arch.resolve(checkpoint.config)
    model = arch.build(**config)
    state = load_state(checkpoint)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(
        f"{k} {tuple(state[k].shape)} != {tuple(expected[k].shape)}"
        for k in set(state) & set(expected)
        if state[k].shape != expected[k].shape
    )
    if missing or unexpected or wrong:
        details = "; ".join(
            part
            for part in (
                f"missing {missing}" if missing else "",
                f"unexpected {unexpected}" if unexpected else "",
                f"shape {', '.join(wrong)}" if wrong else "",
            )
            if part
        )
        raise CheckpointError(
            f"{checkpoint.weights_path}: weights do not match {CONFIG_FILE} "
            f"({arch.name} {config}): {details}."
        )
    model.load_state_dict(state, strict=True)
    return model.eval()


def save_checkpoint(
    path: Path, arch: Architecture, config: Config, model: Any, extra: dict[str, Any] | None = None
) -> Checkpoint:
    """Write weights then config.json, each atomically; returns the checkpoint as read back.

    `model` is an `nn.Module` or a state dict (name -> tensor), for example the best
    epoch's weights kept aside during training. `extra` adds keys to config.json.
    """
    from safetensors.torch import save_file

    ensure_dir(path)
    weights = model if isinstance(model, Mapping) else model.state_dict()
    state = {k: v.detach().contiguous().cpu() for k, v in weights.items()}
    with atomic_output(path / WEIGHTS_FILE) as tmp:
        save_file(state, str(tmp))
    meta = {
        "zoo_version": __version__,
        "architecture": arch.name,
        "config": config,
        "io": arch.io(config).to_dict(),
        "sha256": sha256_file(path / WEIGHTS_FILE),
        **(extra or {}),
    }
    atomic_write_text(path / CONFIG_FILE, json.dumps(meta, indent=2) + "\n")
    return read_checkpoint(path)
