"""The session behind every CLI command: plugins, the registry, and named-model lookups.

Nothing here imports torch: listing and describing models works from the specs alone.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from zoo._errors import UnknownNameError, ZooError
from zoo._manager import Plugins, load_plugins
from zoo._spec import Architecture, Config
from zoo.catalog._registry import ModelEntry, Registry, builtin_registry, env_registries


@dataclass
class App:
    """Loaded plugins plus the registry files in effect (built-in, plugins, env, flags)."""

    plugins: Plugins = field(default_factory=load_plugins)
    extra_registries: Sequence[Path] = ()

    @cached_property
    def registry(self) -> Registry:
        paths = [builtin_registry()]
        paths += [path for path, _ in self.plugins.registry_files]
        paths += env_registries()
        paths += list(self.extra_registries)
        return Registry.load(paths, self.plugins.architectures)

    def model_names(
        self,
        pattern: str | Sequence[str] | None = None,
        exclude: Sequence[str] = (),
        trained: bool = False,
    ) -> list[str]:
        """Every name `resolve` takes: registry entries, and architectures no entry is named
        after (at their defaults), sorted; filtered as timm's `list_models` does: kept if
        a name matches any fnmatch `pattern` (all without one) and no `exclude` pattern,
        and with `trained` only entries with trained weights."""
        names = set(self.registry.entries) | set(self.plugins.architectures)
        include = [pattern] if isinstance(pattern, str) else list(pattern or ())
        if include:
            names = {n for n in names if any(fnmatch.fnmatchcase(n, p) for p in include)}
        names = {n for n in names if not any(fnmatch.fnmatchcase(n, p) for p in exclude)}
        if trained:
            entries = self.registry.entries
            names = {n for n in names if n in entries and entries[n].checkpoint is not None}
        return sorted(names)

    def entry(self, name: str) -> ModelEntry:
        return self.registry.get(name)

    def resolve(self, name: str, overrides: Mapping[str, Any] | None = None) -> ResolvedModel:
        """A registry entry (or, failing that, an architecture at its defaults) with its config."""
        if name in self.registry.entries:
            entry = self.registry.entries[name]
            arch = self.plugins.architecture(entry.architecture)
        elif name in self.plugins.architectures:
            arch = self.plugins.architectures[name]
            entry = ModelEntry(name=name, architecture=name, description=arch.description)
        elif "/" in name or Path(name).is_dir():
            raise ZooError(
                f"{name!r} is a path, not a model name. A trained checkpoint folder goes "
                f"after --checkpoint (zoo info/export/eval/predict --checkpoint {name}); "
                "`zoo list` shows the model names."
            )
        else:
            raise UnknownNameError("model", name, self.registry.entries, "Run `zoo list`.")
        return ResolvedModel(entry, arch, arch.resolve({**entry.config, **(overrides or {})}))


@dataclass(frozen=True)
class ResolvedModel:
    """A named model with its architecture and full, validated config."""

    entry: ModelEntry
    arch: Architecture
    config: Config

    @property
    def num_params(self) -> int | None:
        return self.arch.count_params(self.config)

    def summary(self) -> dict[str, Any]:
        """One row of `zoo list`."""
        return {
            "name": self.entry.name,
            "architecture": self.arch.name,
            "plugin": self.arch.plugin,
            "description": self.entry.description or self.arch.description,
            "tags": list(self.entry.tags),
            "num_params": self.num_params,
            "trained": self.entry.checkpoint is not None,
            "card": self.entry.card.to_dict() if self.entry.card else None,
        }

    def describe(self) -> dict[str, Any]:
        """What `zoo info` shows."""
        return {
            **self.summary(),
            "config": self.config,
            "io": self.arch.io(self.config).to_dict(),
            "supports_lengths": self.arch.supports_lengths,
            "streamable": self.arch.streaming() == "yes",
            "streaming": self.arch.streaming(),
            "checkpoint": str(self.entry.checkpoint) if self.entry.checkpoint else None,
            "sha256": self.entry.sha256,
            "source": str(self.entry.source) if self.entry.source else None,
        }
