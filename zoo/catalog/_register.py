"""`zoo register`: add a trained checkpoint to a registry TOML file, with its sha256.

No TOML writer is needed: zoo appends one well-formed ``[models.NAME]`` table, escaping
every string itself, and writes the file atomically after checking that the result parses
and validates as a registry (so a failed registration leaves the file as it was). The
checkpoint path is stored relative to the registry file's folder, which must contain it
and every file it links to (a registry file never names a path outside its folder: see
zoo.catalog._registry). A checkpoint outside that folder, the common case
(`zoo register --checkpoint runs/lstm --registry ~/models/zoo.toml`), is copied first
into `FOLDER/checkpoints/NAME/` (config.json, the weights and metrics.json), and the copy,
its digest checked equal to the original's, is what the entry names.

Registrations of one file run one at a time: the read-modify-write holds a lock file
beside the registry (`lock_path`), so that concurrent `zoo register` runs all keep their
entries. A registry file that is a symbolic link is written through: its target is
replaced, the link stays.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from zoo._errors import RegistryError
from zoo._fs import Locked, atomic_output, ensure_dir, hold_lock
from zoo._spec import NAME_RULE, valid_name
from zoo.catalog import _source as models
from zoo.catalog._registry import ModelEntry, check_inside, read_registry
from zoo.catalog._session import App
from zoo.checkpoint._format import CONFIG_FILE, WEIGHTS_FILE, checkpoint_files, read_checkpoint
from zoo.checkpoint._provenance import CheckpointWeights

#: How long `zoo register` waits for another registration of the same file to finish.
LOCK_WAIT_SECONDS = 30.0

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_value(value: Any) -> str:
    """A TOML literal for a string, bool, int, float, list or table (inline)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)  # '0.1', '1e-05': both valid TOML floats
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, Sequence):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        items = ", ".join(f"{toml_key(str(k))} = {toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    raise TypeError(f"No TOML literal for {type(value).__name__} {value!r}.")


def toml_key(key: str) -> str:
    bare = key and all(c.isascii() and (c.isalnum() or c in "-_") for c in key)
    return key if bare else toml_string(key)


def entry_table(
    name: str,
    architecture: str,
    config: Mapping[str, Any],
    checkpoint: str,
    sha256: str,
    description: str,
    tags: Sequence[str],
) -> str:
    """The `[models.NAME]` table of one trained model."""
    lines = [
        f"[models.{toml_key(name)}]",
        f"architecture = {toml_value(architecture)}",
        f"description = {toml_value(description)}",
        f"tags = {toml_value(list(tags))}",
        f"config = {toml_value(dict(config))}",
        f"checkpoint = {toml_value(checkpoint)}",
        f"sha256 = {toml_value(sha256)}",
    ]
    return "\n".join(lines) + "\n"


def _describe(meta: Mapping[str, Any]) -> str:
    data = meta.get("data") or {}
    best = (meta.get("best") or {}).get("val") or {}
    text = f"{meta['architecture']} trained on {data.get('source', 'unknown data')}"
    if "rel_mse" in best:
        text += f" (validation rel_mse {best['rel_mse']:.4g})"
    elif "accuracy" in best:
        text += f" (validation accuracy {best['accuracy']:.4g})"
    return text


def register_checkpoint(
    app: App,
    checkpoint: Path,
    name: str,
    registry: Path,
    description: str | None = None,
    tags: Sequence[str] = ("trained",),
) -> Registered:
    """Append an entry for `checkpoint` to `registry` (created if missing): a copy of it
    inside the registry file's folder when it lies outside (`COPIES`).

    The checkpoint is loaded first (safetensors only, shapes checked against its config),
    so an entry is only ever written for weights zoo can load.
    """
    if not valid_name(name):
        raise RegistryError(f"Invalid model name {name!r}: use {NAME_RULE}.")
    if name in app.registry.entries:
        raise RegistryError(
            f"Model {name!r} is already defined in {app.registry.entries[name].source}. "
            "Choose another --name."
        )
    source = models.from_checkpoint(app, checkpoint)  # refuses anything but loadable weights
    assert isinstance(source.weights, CheckpointWeights)
    meta = read_checkpoint(checkpoint).meta
    real = registry.resolve()  # a link is written through: its target is the file
    folder = real.parent
    copied: Path | None = None
    if not checkpoint.resolve().is_relative_to(folder):
        copied = copy_checkpoint(checkpoint, folder / COPIES / name, source.weights.digest)
        checkpoint = copied
    target = checkpoint.resolve()
    check_inside(folder, checkpoint_files(checkpoint), f"--registry {registry}")
    table = entry_table(
        name,
        source.arch.name,
        source.config,
        Path(os.path.relpath(target, folder)).as_posix(),
        source.weights.digest,
        description if description is not None else _describe(meta),
        tags,
    )
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(hold_lock(lock_path(real), wait_s=LOCK_WAIT_SECONDS))
        except Locked as exc:
            raise RegistryError(
                f"{registry}: another registration has held {exc.path.name} for over "
                f"{LOCK_WAIT_SECONDS:g} s ({exc.holder}); wait for it to finish, or stop it."
            ) from None
        try:
            entries = _append(app, registry, real, name, table)
        except BaseException:
            if copied is not None:
                shutil.rmtree(copied, ignore_errors=True)
            raise
    return Registered(replace(entries[name], source=registry), copied)


@dataclass(frozen=True)
class Registered:
    """What `register_checkpoint` wrote: the entry, and the copy it names when the
    checkpoint was outside the registry file's folder (None when it names the original)."""

    entry: ModelEntry
    copied: Path | None


#: Where checkpoints from outside a registry file's folder are copied, inside it.
COPIES = "checkpoints"

#: The files of a checkpoint copied for a registry (metrics.json when there is one).
_OPTIONAL = ("metrics.json",)


def copy_checkpoint(checkpoint: Path, dest: Path, digest: str) -> Path:
    """Copy the checkpoint's config.json and weights (as a load reads them) and its
    metrics.json into the new folder `dest`, whole or not at all; its digest must equal
    `digest` (the original's)."""
    if dest.exists():
        raise RegistryError(
            f"{dest} already exists (a copy made for another registration?). Choose another "
            "--name, or remove it."
        )
    ensure_dir(dest.parent)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    try:
        config, weights = checkpoint_files(checkpoint)
        shutil.copyfile(config, staging / CONFIG_FILE)
        shutil.copyfile(weights, staging / WEIGHTS_FILE)
        for name in _OPTIONAL:
            if (checkpoint / name).is_file():
                shutil.copyfile(checkpoint / name, staging / name)
        if read_checkpoint(staging).digest != digest:
            raise RegistryError(
                f"Checkpoint {str(checkpoint)!r} changed while it was copied to {dest}; "
                "register it again."
            )
        os.rename(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return dest


def lock_path(registry: Path) -> Path:
    """The lock file of a registry file (the real file, not a link to it): beside it."""
    return registry.with_name(f".{registry.name}.lock")


def _append(app: App, registry: Path, real: Path, name: str, table: str) -> dict[str, ModelEntry]:
    """Add `table` to the registry file `real` (`registry` as the user named it); under the
    registry's lock, so that the file read is the file replaced."""
    existing = _read_existing(registry)  # through a link, if it is one: the same file
    if name in existing:
        raise RegistryError(f"{registry}: already has a model {name!r}. Choose another --name.")
    text = registry.read_text(encoding="utf-8") if registry.exists() else _HEADER
    if text and not text.endswith("\n"):
        text += "\n"
    text += ("\n" if text.strip() else "") + table
    with atomic_output(real) as tmp:
        tmp.write_text(text, encoding="utf-8")
        try:
            return {e.name: e for e in read_registry(tmp, app.plugins.architectures)}
        except RegistryError as exc:  # name the real file, not the temporary one
            raise RegistryError(str(exc).replace(str(tmp), str(registry))) from None


_HEADER = (
    "# Trained models added by `zoo register`. Use with `zoo --registry FILE ...`,\n"
    "# `zoo list --registry FILE` or ZOO_REGISTRY=FILE. Checkpoint paths are relative to\n"
    "# this file's folder; loading checks each checkpoint's sha256.\n"
)


def _read_existing(registry: Path) -> dict[str, Any]:
    if not registry.exists():
        return {}
    if registry.is_dir():
        raise RegistryError(f"--registry {str(registry)!r} is a directory; name a TOML file.")
    try:
        data = tomllib.loads(registry.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RegistryError(
            f"{registry}: invalid TOML ({exc}); fix it before adding to it."
        ) from None
    models_table = data.get("models", {})
    return models_table if isinstance(models_table, dict) else {}
