"""The catalogue of named models: registry TOML files, validated.

Sources, in order: the built-in ``registry.toml`` (shipped inside the package), files that
plugins contribute, ``ZOO_REGISTRY`` (paths separated by ``os.pathsep``) and ``--registry``.
A name defined twice is an error naming both files. Format::

    [models.lstm-2x128]
    architecture = "lstm"                 # required: a registered architecture
    description = "2-layer LSTM"
    tags = ["preset"]
    config = { num_layers = 2, hidden_size = 128 }
    checkpoint = "runs/lstm"              # optional, relative to this file's folder
    sha256 = "..."                        # required with checkpoint: sha256 of its weights
    [models.lstm-2x128.card]              # optional, with checkpoint: the model card
    dataset = "statsmodels:sunspots"      # (zoo.catalog._card lists its keys)
"""

from __future__ import annotations

import fnmatch
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from zoo._errors import ConfigError, RegistryError, UnknownNameError
from zoo._limits import REGISTRY_BYTES, check_nesting, check_regular_size, too_deep
from zoo._spec import NAME_RULE, Architecture, Config, valid_name
from zoo.catalog._card import ModelCard, parse_card
from zoo.catalog._tomlcache import load_toml

_ENTRY_KEYS = {
    "architecture", "description", "tags", "config", "checkpoint", "sha256", "card"
}  # fmt: skip
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ModelEntry:
    """One named model: an architecture, config overrides and optionally trained weights."""

    name: str
    architecture: str
    description: str = ""
    tags: tuple[str, ...] = ()
    config: Mapping[str, Any] = field(default_factory=dict)
    checkpoint: Path | None = None
    sha256: str | None = None
    source: Path | None = None
    card: ModelCard | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "architecture": self.architecture,
            "description": self.description,
            "tags": list(self.tags),
            "config": dict(self.config),
            "checkpoint": str(self.checkpoint) if self.checkpoint else None,
            "sha256": self.sha256,
            "source": str(self.source) if self.source else None,
            "card": self.card.to_dict() if self.card else None,
        }


def builtin_registry() -> Path:
    """The registry.toml shipped inside the zoo package."""
    return Path(str(resources.files("zoo") / "registry.toml"))


def env_registries() -> list[Path]:
    value = os.environ.get("ZOO_REGISTRY", "")
    return [Path(p) for p in value.split(os.pathsep) if p.strip()]


class Registry:
    """Named models from one or more registry files, checked against the architectures."""

    def __init__(self, entries: dict[str, ModelEntry]) -> None:
        self.entries = entries

    @classmethod
    def load(cls, paths: Iterable[Path], architectures: Mapping[str, Architecture]) -> Registry:
        entries: dict[str, ModelEntry] = {}
        for path in paths:
            for entry in read_registry(path, architectures):
                if entry.name in entries:
                    raise RegistryError(
                        f"{path}: entry {entry.name!r} is already defined in "
                        f"{entries[entry.name].source}. Rename one of them."
                    )
                entries[entry.name] = entry
        return cls(entries)

    def get(self, name: str) -> ModelEntry:
        try:
            return self.entries[name]
        except KeyError:
            raise UnknownNameError("model", name, self.entries, "Run `zoo list`.") from None

    def match(self, pattern: str | None = None) -> list[ModelEntry]:
        """Entries whose name matches an fnmatch pattern (all without one), sorted by name."""
        names = sorted(self.entries)
        if pattern:
            names = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
        return [self.entries[n] for n in names]


def read_registry(path: Path, architectures: Mapping[str, Architecture]) -> list[ModelEntry]:
    """Parse and validate one registry file; every error names the file, entry and key."""
    try:
        check_regular_size(path, REGISTRY_BYTES, "registry file", RegistryError)
        data = load_toml(path)
    except FileNotFoundError:
        raise RegistryError(f"{path}: registry file not found.") from None
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read registry file: {exc.strerror}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{path}: invalid TOML: {exc}.") from None
    except UnicodeDecodeError as exc:
        raise RegistryError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); TOML files are UTF-8."
        ) from None
    except RecursionError:
        raise RegistryError(too_deep(str(path))) from None
    check_nesting(data, str(path), RegistryError)
    unknown = set(data) - {"models"}
    if unknown:
        raise RegistryError(
            f"{path}: unknown top-level key(s) {sorted(unknown)}; entries go under [models.NAME]."
        )
    models = data.get("models", {})
    if not isinstance(models, dict):
        raise RegistryError(f"{path}: 'models' must be a table of [models.NAME] entries.")
    return [_entry(path, name, body, architectures) for name, body in models.items()]


def _entry(
    path: Path, name: str, body: Any, architectures: Mapping[str, Architecture]
) -> ModelEntry:
    where = f"{path}: entry {name!r}"
    if not valid_name(name):
        raise RegistryError(f"{where}: names use {NAME_RULE}.")
    if not isinstance(body, dict):
        raise RegistryError(f"{where}: must be a table.")
    unknown = set(body) - _ENTRY_KEYS
    if unknown:
        raise RegistryError(
            f"{where}: unknown key(s) {sorted(unknown)}; valid keys: {sorted(_ENTRY_KEYS)}."
        )
    arch = _typed(where, body, "architecture", str, required=True)
    if arch not in architectures:
        raise RegistryError(
            f"{where}, key 'architecture': unknown architecture {arch!r}; "
            f"registered: {', '.join(sorted(architectures))}. Is its plugin installed?"
        )
    config = _typed(where, body, "config", dict) or {}
    try:
        architectures[arch].resolve(config)
    except ConfigError as exc:
        raise RegistryError(f"{where}, key 'config': {exc}") from None
    tags = _typed(where, body, "tags", list) or []
    if not all(isinstance(t, str) for t in tags):
        raise RegistryError(f"{where}, key 'tags': must be a list of strings.")
    checkpoint, sha256 = _checkpoint(where, path, body)
    card = parse_card(where, body["card"]) if "card" in body else None
    if card is not None and checkpoint is None:
        raise RegistryError(
            f"{where}, key 'card': a model card needs the 'checkpoint' it describes."
        )
    return ModelEntry(
        name=name,
        architecture=arch,
        description=_typed(where, body, "description", str) or "",
        tags=tuple(tags),
        config=config,
        checkpoint=checkpoint,
        sha256=sha256,
        source=path,
        card=card,
    )


def _typed(where: str, body: dict[str, Any], key: str, kind: type, required: bool = False) -> Any:
    if key not in body:
        if required:
            raise RegistryError(f"{where}: missing required key {key!r}.")
        return None
    value = body[key]
    if not isinstance(value, kind):
        raise RegistryError(
            f"{where}, key {key!r}: must be {kind.__name__}, got {type(value).__name__} {value!r}."
        )
    return value


def _checkpoint(where: str, path: Path, body: dict[str, Any]) -> tuple[Path | None, str | None]:
    raw = _typed(where, body, "checkpoint", str)
    sha256 = _typed(where, body, "sha256", str)
    if raw is None:
        if sha256 is not None:
            raise RegistryError(f"{where}, key 'sha256': given without 'checkpoint'.")
        return None, None
    if sha256 is None or not _SHA256.match(sha256):
        raise RegistryError(
            f"{where}, key 'sha256': a checkpoint needs the 64-hex-digit digest that pins it "
            f"(config.json and weights; got {sha256!r}). `zoo register` writes it."
        )
    folder = path.resolve().parent  # a registry file's folder: its target's, if a link
    target = (folder / raw).resolve()
    if Path(raw).is_absolute() or not target.is_relative_to(folder):
        raise RegistryError(
            f"{where}, key 'checkpoint': {raw!r} escapes the registry's folder {folder}; "
            "use a path relative to it, inside it."
        )
    return target, sha256


def check_checkpoint_files(entry: ModelEntry) -> None:
    """Refuse an entry whose checkpoint files (config and weights, as a load would read
    them) are links that leave the registry file's folder; call it before loading."""
    if entry.checkpoint is None or entry.source is None:
        return
    from zoo.checkpoint._format import checkpoint_files

    where = f"{entry.source}: entry {entry.name!r}"
    check_inside(entry.source.resolve().parent, checkpoint_files(entry.checkpoint), where)


def check_inside(folder: Path, files: Iterable[Path], where: str) -> None:
    """Raise unless each of `files`, links followed, lies inside `folder` (resolved)."""
    for file in files:
        target = file.resolve()
        if not target.is_relative_to(folder):
            raise RegistryError(
                f"{where}: {file} links to {target}, outside the registry's folder {folder}; "
                "a registered checkpoint's files must lie inside it. Replace the link by a "
                "copy of the file."
            )


def resolve_config(entry: ModelEntry, arch: Architecture, overrides: Mapping[str, Any]) -> Config:
    """The entry's full config with user overrides on top."""
    return arch.resolve({**entry.config, **overrides})
