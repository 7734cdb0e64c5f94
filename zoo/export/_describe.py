"""What an exported artifact holds, for `zoo info FILE`: read, never run.

The format comes from the file's suffix, the contract and provenance from the `zoo.*`
metadata zoo embedded (zoo.export._peek: an ONNX protobuf, or the zoo.json member of a
TorchScript/pt2 zip, so no program in the file is loaded and no `--trust-code` is needed),
the parity verdict from the summary embedded after parity passed (`zoo.parity`) and from
the artifact's own report beside it (`ARTIFACT.parity.json`) when there is one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zoo._errors import ZooError
from zoo._fs import sha256_file
from zoo._limits import JSON_BYTES, parse_json, read_bounded
from zoo._spec import Exporter
from zoo.export import _metadata as keys
from zoo.export._metadata import PARITY, TORCH_VERSION, VERSION, ArtifactMetadata
from zoo.export._peek import peek_metadata
from zoo.export._pipeline import report_path
from zoo.export._verify import check_artifact_file, find_exporter

#: Metadata keys `describe_artifact` shows as fields of their own.
_SHOWN = {
    keys.VERSION, keys.MODEL, keys.ARCHITECTURE, keys.PLUGIN, keys.CONFIG, keys.IO, keys.WEIGHTS,
    keys.CHECKPOINT_SHA256, keys.EXPORTER, keys.PARITY, keys.TORCH_VERSION,
}  # fmt: skip


def _report_summary(path: Path) -> dict[str, Any] | None:
    """The parity verdict of the report beside the artifact, or None when there is none."""
    report = report_path(path)
    if not report.is_file():
        return None
    data = parse_json(read_bounded(report, JSON_BYTES, "parity report"), str(report))
    try:
        (artifact,) = data["artifacts"]
        parity = artifact["parity"] or {}
        return {
            "report": str(report),
            "passed": bool(artifact["passed"]),
            "atol": parity.get("atol"),
            "rtol": parity.get("rtol"),
            "checks": len(parity.get("checks", [])),
            "failed": sum(1 for c in parity.get("checks", []) if not c.get("passed", True)),
            "max_abs": {r["output"]: r["max_abs"] for r in parity.get("rows", [])},
        }
    except (KeyError, TypeError, ValueError):
        raise ZooError(f"{report}: not a zoo parity report (one artifact per report).") from None


def describe_artifact(exporters: dict[str, Exporter], path: Path) -> dict[str, Any]:
    """An artifact's format, contract, provenance and parity as one JSON-ready dict."""
    check_artifact_file(exporters, path, "zoo info")
    exporter = find_exporter(exporters, path)
    meta = peek_metadata(exporter, path)
    recorded = ArtifactMetadata.read(meta, where=str(path))
    embedded: Any = None
    if meta.get(PARITY):
        embedded = parse_json(meta[PARITY], f"{path}: metadata {PARITY!r}")
    return {
        "path": str(path),
        "format": exporter.name,
        "exporter": recorded.exporter,
        "size_bytes": path.stat().st_size,
        "sha256": sha256_file(path),
        "model": recorded.model,
        "architecture": recorded.architecture,
        "plugin": recorded.plugin,
        "config": recorded.config,
        "io": recorded.io,
        "lengths": "lengths" in recorded.input_names,
        "weights": recorded.weights.to_dict(),
        "zoo_version": meta.get(VERSION, ""),
        "torch_version": meta.get(TORCH_VERSION, ""),
        "other_metadata": {k: v for k, v in sorted(meta.items()) if k not in _SHOWN},
        "parity": embedded,
        "report": _report_summary(path),
    }
