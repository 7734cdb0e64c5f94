"""Read an artifact's `zoo.*` metadata without running anything from the file.

`zoo export` reads the artifact already at its destination (to refuse replacing another
model's file) and `zoo info FILE` describes one; neither may execute the file. An exporter
whose format runs no code when loaded (`check_untrusted` is None: ONNX, a protobuf) reads
its own metadata; the torch program formats (TorchScript, pt2) are zip archives whose
`ARCHIVE/extra/zoo.json` member zoo wrote, read here as plain bytes with the zip module,
so no program in them is loaded.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from zoo._errors import ZooError
from zoo._limits import JSON_BYTES, parse_json
from zoo._spec import Exporter
from zoo.catalog._source import SourceModel
from zoo.checkpoint._provenance import CheckpointWeights, Weights
from zoo.export._metadata import ArtifactMetadata

#: The member zoo writes into TorchScript and pt2 archives (zoo.export._tracing).
EXTRA_MEMBER = "extra/zoo.json"


def peek_metadata(exporter: Exporter, path: Path) -> dict[str, str]:
    """The `zoo.*` metadata of `path`, read without loading any program from it; a ZooError
    saying why it cannot be read otherwise."""
    if exporter.check_untrusted is None:
        try:
            meta = exporter.read_metadata(path)
        except ZooError:
            raise
        except Exception as exc:
            text = str(exc).strip().splitlines()
            raise ZooError(
                f"Cannot read {str(path)!r} as {exporter.name}: "
                f"{type(exc).__name__}: {text[0] if text else ''}"
            ) from None
        return {str(k): str(v) for k, v in dict(meta).items()}
    return _zip_metadata(path, exporter.name)


def _zip_metadata(path: Path, format_name: str) -> dict[str, str]:
    where = f"{str(path)!r} ({format_name})"
    try:
        with zipfile.ZipFile(path) as archive:
            members = [
                info
                for info in archive.infolist()
                if info.filename.count("/") == 2 and info.filename.endswith("/" + EXTRA_MEMBER)
            ]
            if len(members) != 1:
                raise ZooError(f"{where} holds no zoo metadata ({EXTRA_MEMBER}); not a zoo export.")
            JSON_BYTES.check(members[0].file_size, f"{where}: {EXTRA_MEMBER}", "Not a zoo export")
            data = archive.read(members[0])
    except zipfile.BadZipFile as exc:
        raise ZooError(f"{where} is not a zip archive: {exc}.") from None
    except OSError as exc:
        raise ZooError(f"Cannot read {where}: {exc.strerror or exc}.") from None
    value = parse_json(data, where)
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ZooError(f"{where}: {EXTRA_MEMBER} is not an object of strings.")
    return {str(k): v for k, v in value.items()}


def _describe(architecture: str, config: dict[str, Any], weights: Weights, differs: bool) -> str:
    shown = f" {json.dumps(config, sort_keys=True)}" if differs else ""
    return f"{architecture}{shown}, {weights.describe().split(';')[0]}"


def other_model(meta: dict[str, str], source: SourceModel) -> str | None:
    """None when the artifact's metadata records `source`'s model (architecture, config and
    weights: the same seed, or the same checkpoint digest), else what it holds instead and
    what `source` is, configs shown only when they differ."""
    try:
        recorded = ArtifactMetadata.read(meta)
    except ZooError as exc:
        return f"a file whose model zoo cannot tell ({exc})"
    config = json.loads(json.dumps(source.config, sort_keys=True))
    weights = source.weights
    if isinstance(weights, CheckpointWeights) and isinstance(recorded.weights, CheckpointWeights):
        same_weights = weights.digest == recorded.weights.digest
    else:
        same_weights = weights == recorded.weights
    same_config = recorded.config == config
    if recorded.architecture == source.arch.name and same_config and same_weights:
        return None
    holds = _describe(recorded.architecture, recorded.config, recorded.weights, not same_config)
    this = _describe(source.arch.name, config, weights, not same_config)
    return f"{holds}; this export: {this}"


def check_replaceable(exporter: Exporter, path: Path, source: SourceModel) -> None:
    """Refuse (ZooError) to replace `path` when it holds another model than `source`."""
    try:
        meta = peek_metadata(exporter, path)
    except ZooError as exc:
        holds: str | None = f"a file zoo cannot read as {exporter.name} ({exc})"
    else:
        holds = other_model(meta, source)
    if holds is not None:
        raise ZooError(
            f"{path} already holds another model ({holds}). Export into another --out DIR, "
            "or pass --force to replace it."
        )
