"""The model an export, verify or predict starts from: named, seeded or trained.

`SourceModel` pairs an eager `nn.Module` with what it is (architecture, config, where its
weights came from); exports record that as metadata (zoo.export._metadata) so that
`zoo verify` can rebuild it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo._contract import IOContract
from zoo._errors import CheckpointError, ZooError
from zoo._spec import Architecture, Config
from zoo.catalog._registry import check_checkpoint_files
from zoo.catalog._session import App
from zoo.checkpoint._format import build_from_checkpoint, read_checkpoint
from zoo.checkpoint._provenance import CheckpointWeights, RandomWeights, Weights


@dataclass
class SourceModel:
    """An eager model in eval mode plus its identity."""

    name: str
    arch: Architecture
    config: Config
    module: Any
    weights: Weights

    @property
    def contract(self) -> IOContract:
        return self.arch.io(self.config)


def seeded(arch: Architecture, config: Config, seed: int) -> Any:
    """The architecture with deterministic random weights (same seed, same weights)."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return arch.build(**config).eval()


def from_name(
    app: App, name: str, overrides: Mapping[str, Any] | None = None, seed: int = 0
) -> SourceModel:
    """A registry entry: its checkpoint if it has one (its digest checked against the
    entry), else seeded weights."""
    resolved = app.resolve(name, overrides)
    entry = resolved.entry
    if entry.checkpoint is not None:
        if overrides:
            raise ZooError(f"Model {name!r} has trained weights; --set cannot change its config.")
        check_checkpoint_files(entry)  # no file linked outside the registry's folder
        source = from_checkpoint(app, entry.checkpoint, name=name)
        assert isinstance(source.weights, CheckpointWeights)
        if source.weights.digest != entry.sha256:
            weights_only = read_checkpoint(entry.checkpoint).sha256 == entry.sha256
            raise CheckpointError(
                f"{entry.checkpoint}: checkpoint digest {source.weights.digest[:12]}... does not "
                f"match {str(entry.sha256)[:12]}... in registry {entry.source} (entry {name!r})"
                + (
                    ", which pins the weights alone (an older zoo's entry): its config.json is "
                    "not pinned. Re-register the checkpoint with `zoo register`."
                    if weights_only
                    else ". Refusing to load; re-register the checkpoint if the change is intended."
                )
            )
        return source
    module = seeded(resolved.arch, resolved.config, seed)
    return SourceModel(name, resolved.arch, resolved.config, module, RandomWeights(seed))


def from_checkpoint(app: App, path: Path, name: str | None = None) -> SourceModel:
    """A checkpoint directory's architecture with its trained weights."""
    checkpoint = read_checkpoint(path)
    arch = app.plugins.architecture(checkpoint.architecture)
    module = build_from_checkpoint(checkpoint, arch)
    weights = CheckpointWeights(path, checkpoint.digest)
    config = arch.resolve(checkpoint.config)
    return SourceModel(name or path.resolve().name, arch, config, module, weights)
