"""Checkpoint directories, safe by construction: safetensors weights and JSON config.

Layout::

    model.safetensors   the weights (never pickle)
    config.json         architecture, config, I/O contract, sha256 of the weights, zoo version
                        (`zoo train` adds its data description, scaling, task and best epoch,
                        and writes metrics.json and train_state/ beside them: zoo.train._run)

A checkpoint is committed as a whole. Both files are written and flushed into a hidden
staging folder inside the directory (`.checkpoint-staging-*`), which one atomic rename turns
into `.checkpoint-commit/`: the commit point. Its files are then renamed over the current
ones, weights first, and the emptied folder is removed. Readers take each file from
`.checkpoint-commit/` while it holds it, from the directory otherwise (`checkpoint_files`),
so a kill at any moment leaves the previous checkpoint or the new one, whole; the next
commit (`zoo train --resume`) finishes moving a committed one in. One writer per directory:
`zoo train` holds the run folder's lock. A directory without any config.json is incomplete
(a run stopped before its first checkpoint), and one whose weights do not hash to the
recorded sha256 is refused. Nothing here ever unpickles a file.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo._errors import CheckpointError
from zoo._fs import current_umask, ensure_dir, fsync_path, sha256_bytes, sha256_file
from zoo._limits import JSON_BYTES, dumps_json, parse_json, read_bounded
from zoo._spec import Architecture, Config
from zoo._version import __version__
from zoo.checkpoint._header import check_safetensors

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
#: A committed checkpoint whose files are being moved into place.
COMMIT_DIR = ".checkpoint-commit"
#: The folder a checkpoint is written into before its commit: this prefix, then random.
STAGING_PREFIX = ".checkpoint-staging-"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


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
    #: Where the weights were read (`path / WEIGHTS_FILE` unless a commit was under way).
    weights_file: Path | None = None

    @property
    def weights_path(self) -> Path:
        return self.weights_file or self.path / WEIGHTS_FILE


def checkpoint_files(path: Path) -> tuple[Path, Path]:
    """The config.json and weights files of the checkpoint in `path`, as a reader takes
    them: from a committed checkpoint still being moved in, else from `path` itself."""
    committed = _committed(path)

    def current(name: str) -> Path:
        return committed / name if committed and (committed / name).is_file() else path / name

    return current(CONFIG_FILE), current(WEIGHTS_FILE)


def _committed(path: Path) -> Path | None:
    folder = path / COMMIT_DIR
    return folder if folder.is_dir() and not folder.is_symlink() else None


def read_checkpoint(path: Path) -> Checkpoint:
    """Validate a checkpoint directory's files and the weights' sha256."""
    if not path.is_dir():
        raise CheckpointError(
            f"Checkpoint {str(path)!r} is not a directory. A checkpoint is the folder "
            f"`zoo train --out` writes ({WEIGHTS_FILE} + {CONFIG_FILE})."
        )
    config_path, weights_path = checkpoint_files(path)
    incomplete = (
        "missing; the checkpoint is incomplete (a training run stopped before its first "
        "checkpoint: `zoo train` with the same options and --resume continues it)."
    )
    if not config_path.is_file():
        raise CheckpointError(f"{config_path}: {incomplete}")
    if not weights_path.is_file():
        raise CheckpointError(f"{weights_path}: {incomplete}")
    raw = _read_bytes(config_path, CONFIG_FILE)
    meta = parse_json(raw, str(config_path), CheckpointError)
    if not isinstance(meta, dict) or not isinstance(meta.get("architecture"), str):
        raise CheckpointError(
            f"{config_path}: needs an 'architecture' string and a 'config' table."
        )
    if not isinstance(meta.get("config"), dict):
        raise CheckpointError(f"{config_path}: needs a 'config' table.")
    recorded = meta.get("sha256")
    if recorded is not None and not (isinstance(recorded, str) and _SHA256.match(recorded)):
        raise CheckpointError(
            f"{config_path}: 'sha256' must be the 64-hex-digit sha256 of {WEIGHTS_FILE}, got "
            f"{str(recorded)[:80]!r}. Remove the key or write the right digest."
        )
    check_safetensors(weights_path)  # sizes from the header, before the file is hashed
    sha256 = sha256_file(weights_path)
    if recorded is not None and recorded != sha256:
        raise CheckpointError(
            f"{weights_path}: sha256 {sha256[:12]}... does not match {recorded[:12]}... recorded "
            f"in {CONFIG_FILE}; the weights were modified or only partly written."
        )
    digest = checkpoint_digest(raw, sha256)
    config = dict(meta["config"])
    return Checkpoint(
        path, meta["architecture"], config, sha256, meta, digest=digest, weights_file=weights_path
    )


def checkpoint_digest(config: bytes, weights_sha256: str) -> str:
    """The sha256 that pins a checkpoint as a whole: its config.json bytes (architecture,
    config, data scaling, labels: everything that changes what it computes) and its
    weights. Registry entries and exported artifacts record this, not the weights alone."""
    lines = ["zoo-checkpoint-v1", f"{CONFIG_FILE} {sha256_bytes(config)}"]
    lines.append(f"{WEIGHTS_FILE} {weights_sha256}")
    return sha256_bytes(("\n".join(lines) + "\n").encode())


def read_json(path: Path, what: str) -> Any:
    """A JSON file zoo wrote, read within `ZOO_MAX_JSON_BYTES` and `MAX_NESTING`."""
    return parse_json(_read_bytes(path, what), str(path), CheckpointError)


def _read_bytes(path: Path, what: str) -> bytes:
    try:
        return read_bounded(path, JSON_BYTES, what, CheckpointError)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read {what}: {exc.strerror}.") from None


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
    """Commit weights and config.json as a whole (see the module docstring); returns the
    checkpoint as read back.

    `model` is an `nn.Module` or a state dict (name -> tensor), for example the best
    epoch's weights kept aside during training. `extra` adds keys to config.json.
    """
    from safetensors.torch import save_file

    ensure_dir(path)
    weights = model if isinstance(model, Mapping) else model.state_dict()
    state = {k: v.detach().contiguous().cpu() for k, v in weights.items()}
    finish_commit(path)
    for stale in path.glob(f"{STAGING_PREFIX}*"):  # a killed writer's: never committed
        shutil.rmtree(stale, ignore_errors=True)
    staging: Path | None = None
    try:
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=path))
        mask = current_umask()
        staging.chmod(0o777 & ~mask)  # readable like the files it will hold
        save_file(state, str(staging / WEIGHTS_FILE))
        meta = {
            "zoo_version": __version__,
            "architecture": arch.name,
            "config": config,
            "io": arch.io(config).to_dict(),
            "sha256": sha256_file(staging / WEIGHTS_FILE),
            **(extra or {}),
        }
        (staging / CONFIG_FILE).write_text(dumps_json(meta) + "\n", encoding="utf-8")
        for name in (WEIGHTS_FILE, CONFIG_FILE):
            (staging / name).chmod(0o666 & ~mask)  # safetensors makes its files 0600
            fsync_path(staging / name)
        fsync_path(staging, directory=True)
        os.rename(staging, path / COMMIT_DIR)  # the commit point
        staging = None
        fsync_path(path, directory=True)
    except OSError as exc:
        raise CheckpointError(
            f"Cannot write a checkpoint to {str(path)!r}: {exc.strerror or exc}. The previous "
            "checkpoint there, if any, is unchanged."
        ) from exc
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    finish_commit(path)
    return read_checkpoint(path)


def finish_commit(path: Path) -> None:
    """Move a committed checkpoint's files into `path` and remove its folder: the end of
    every commit, and of one a kill interrupted (nothing to do without one)."""
    committed = _committed(path)
    if committed is None:
        return
    try:
        for name in (WEIGHTS_FILE, CONFIG_FILE):
            if (committed / name).is_file():
                os.replace(committed / name, path / name)
        fsync_path(path, directory=True)
        committed.rmdir()
        fsync_path(path, directory=True)
    except OSError as exc:
        raise CheckpointError(
            f"Cannot move the checkpoint committed in {committed} into place: "
            f"{exc.strerror or exc}. Fix the folder and run the same command again."
        ) from exc
