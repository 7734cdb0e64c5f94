"""What a checkpoint directory holds, for `zoo info --checkpoint DIR`: read, never run.

Everything comes from the files `zoo train` wrote: config.json (architecture, config, the
I/O contract, data, training settings, best epoch), metrics.json (every epoch) and the
safetensors header (the parameter count); the checkpoint is validated and pinned exactly as
loading it would (`read_checkpoint`: the weights' sha256, the whole checkpoint's digest).
Nothing is unpickled, imported or built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zoo._errors import CheckpointError
from zoo._limits import JSON_BYTES, parse_json, read_bounded
from zoo.checkpoint._format import read_checkpoint
from zoo.checkpoint._header import check_safetensors

METRICS_FILE = "metrics.json"

#: The data description keys shown (config.json's "data" holds more: scaling, file digest).
_DATA_KEYS = (
    "kind", "source", "task", "seq_len", "samples", "seed", "target", "features", "window",
    "horizon", "val_fraction", "classes", "file_sha256",
)  # fmt: skip


def folder_size(path: Path) -> int:
    """Bytes of the regular files in `path` and below (symlinks not followed)."""
    total = 0
    for item in path.rglob("*"):
        if item.is_file() and not item.is_symlink():
            total += item.stat().st_size
    return total


def describe_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint's config, contract and provenance as one JSON-ready dict (a
    CheckpointError when the folder is not a valid checkpoint)."""
    checkpoint = read_checkpoint(path)
    meta = checkpoint.meta
    recorded = meta.get("data")
    data: dict[str, Any] = recorded if isinstance(recorded, dict) else {}
    epochs: int | None = None
    metrics_path = path / METRICS_FILE
    if metrics_path.is_file():
        raw = read_bounded(metrics_path, JSON_BYTES, "metrics file", CheckpointError)
        metrics = parse_json(raw, str(metrics_path), CheckpointError)
        if isinstance(metrics, dict) and isinstance(metrics.get("epochs"), list):
            epochs = len(metrics["epochs"])
    return {
        "path": str(path),
        "architecture": checkpoint.architecture,
        "model": meta.get("model"),
        "config": checkpoint.config,
        "io": meta.get("io"),
        "num_params": check_safetensors(checkpoint.weights_path),
        "task": meta.get("task"),
        "data": {k: data[k] for k in _DATA_KEYS if k in data and data[k] not in (None, [])},
        "training": meta.get("training"),
        "epochs_trained": epochs,
        "best": meta.get("best"),
        "zoo_version": meta.get("zoo_version"),
        "weights_sha256": checkpoint.sha256,
        "digest": checkpoint.digest,
        "size_bytes": folder_size(path),
    }
