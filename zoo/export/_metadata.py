"""The `zoo.*` metadata every artifact carries: the one place that names the keys, writes
them and reads them back.

Exporters embed `ExportJob.metadata()` (ONNX `metadata_props`, or the `zoo.json` extra file
of TorchScript and pt2 archives); `zoo verify`, `zoo predict --runtime onnx` and the torch
runners read it through `ArtifactMetadata.read`, which names the key at fault when a file's
metadata is missing or malformed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zoo._errors import ZooError
from zoo._version import __version__

if TYPE_CHECKING:
    from zoo._contract import IOContract
    from zoo.catalog._source import SourceModel
    from zoo.checkpoint._provenance import Weights

VERSION = "zoo.version"
MODEL = "zoo.model"
ARCHITECTURE = "zoo.architecture"
PLUGIN = "zoo.plugin"
CONFIG = "zoo.config"
IO = "zoo.io"
WEIGHTS = "zoo.weights"
CHECKPOINT_SHA256 = "zoo.checkpoint_sha256"
EXPORTER = "zoo.exporter"
PARITY = "zoo.parity"
TORCH_VERSION = "torch.version"


def artifact_metadata(source: SourceModel, contract: IOContract, exporter: str) -> dict[str, str]:
    """The string metadata of an artifact of `source` with `contract`, made by `exporter`."""
    import torch

    from zoo.checkpoint._provenance import CheckpointWeights

    weights = source.weights
    return {
        VERSION: __version__,
        MODEL: source.name,
        ARCHITECTURE: source.arch.name,
        PLUGIN: source.arch.plugin,
        CONFIG: json.dumps(source.config, sort_keys=True),
        IO: contract.to_json(),
        WEIGHTS: json.dumps(weights.to_dict(), sort_keys=True),
        CHECKPOINT_SHA256: weights.digest if isinstance(weights, CheckpointWeights) else "",
        EXPORTER: exporter,
        TORCH_VERSION: torch.__version__,
    }


def parity_metadata(summary: Mapping[str, Any]) -> dict[str, str]:
    """The metadata entry an exporter's `annotate` embeds: the parity summary that passed."""
    return {PARITY: json.dumps(summary, sort_keys=True)}


@dataclass(frozen=True)
class ArtifactMetadata:
    """An artifact's `zoo.*` metadata, parsed and checked."""

    model: str
    architecture: str
    plugin: str
    config: dict[str, Any]
    io: dict[str, Any]
    weights: Weights
    checkpoint_sha256: str
    exporter: str

    @property
    def input_names(self) -> list[str]:
        return [str(n) for n in self.io["input_names"]]

    @property
    def output_names(self) -> list[str]:
        return [str(n) for n in self.io["output_names"]]

    @classmethod
    def read(cls, meta: Mapping[str, str], where: str = "The artifact") -> ArtifactMetadata:
        """Parse `meta` (what an exporter's `read_metadata` returns); a ZooError naming the
        missing or malformed key otherwise."""
        from zoo.checkpoint._provenance import weights_from_dict

        _json(meta, ARCHITECTURE, str, where, parse=False)
        config = _json(meta, CONFIG, dict, where)
        io = read_io(meta, where)
        try:
            weights = weights_from_dict(_json(meta, WEIGHTS, dict, where))
        except ZooError as exc:
            raise ZooError(f"{where}: metadata {WEIGHTS!r}: {exc}") from None
        return cls(
            model=meta.get(MODEL) or meta[ARCHITECTURE],
            architecture=meta[ARCHITECTURE],
            plugin=meta.get(PLUGIN, ""),
            config=config,
            io=io,
            weights=weights,
            checkpoint_sha256=meta.get(CHECKPOINT_SHA256, ""),
            exporter=meta.get(EXPORTER, ""),
        )


def read_io(meta: Mapping[str, str], where: str = "The artifact") -> dict[str, Any]:
    """Just the recorded contract (`zoo.io`): what a runner needs to order its inputs."""
    io: dict[str, Any] = _json(meta, IO, dict, where)
    if not all(isinstance(io.get(k), list) for k in ("input_names", "output_names")):
        raise ZooError(f"{where}: metadata {IO!r} lacks input_names/output_names.")
    return io


def _json(meta: Mapping[str, str], key: str, kind: type, where: str, parse: bool = True) -> Any:
    """The value of `key` (parsed as JSON unless `parse` is false), of type `kind`."""
    if key not in meta:
        raise ZooError(f"{where} has no zoo metadata {key!r}; was it exported by zoo?")
    if not parse:
        value: Any = meta[key]
    else:
        try:
            value = json.loads(meta[key])
        except (TypeError, ValueError, RecursionError):
            raise ZooError(f"{where}: metadata {key!r} is not valid JSON.") from None
    if not isinstance(value, kind):
        raise ZooError(f"{where}: metadata {key!r} must be a JSON {kind.__name__}.")
    return value
