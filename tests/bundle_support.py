"""What the bundle tests share: a private copy of an exported artifact and its bundle, and
edits that re-pin the manifest to the edited file, as an attacker (or a broken build step)
would, so that only the replay of the recorded outputs can catch them."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zoo._fs import sha256_file
from zoo.export._bundle import MANIFEST, bundle_dir


def copy_artifact(exported: Path, tmp_path: Path, kind: str = "plain") -> Path:
    """A private copy of the artifact and its bundle, to damage."""
    src = exported / kind / "lstm.onnx"
    shutil.copy(src, tmp_path / src.name)
    shutil.copytree(bundle_dir(src), bundle_dir(tmp_path / src.name))
    return tmp_path / src.name


def repin(artifact: Path) -> None:
    """Rewrite the manifest's artifact digest to the (edited) artifact's, as an attacker would."""
    path = bundle_dir(artifact) / MANIFEST
    manifest = json.loads(path.read_text())
    manifest["artifact_sha256"] = sha256_file(artifact)
    path.write_text(json.dumps(manifest))


def edit_artifact(artifact: Path, change: Callable[[Any], None]) -> None:
    """Apply `change` to the ONNX model in `artifact`, then re-pin the manifest to it."""
    import onnx

    model = onnx.load(str(artifact))
    change(model)
    onnx.save(model, str(artifact))
    repin(artifact)


def scale_recurrent_weight(model: Any) -> None:
    """An edit: the first recurrent weight matrix times 1.1."""
    from onnx import numpy_helper

    tensor = next(t for t in model.graph.initializer if t.name == "rnn.R_l0")
    value = numpy_helper.to_array(tensor).copy() * 1.1
    tensor.CopyFrom(numpy_helper.from_array(value, tensor.name))
