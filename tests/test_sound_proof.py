"""The proof cannot be fooled: what a careless or hostile artifact, checkpoint or registry
entry tried on main, each refused now (issue #14, "Proof that can be fooled")."""

from __future__ import annotations

import json
import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import zoo
from zoo._manager import Plugins
from zoo.catalog._session import App
from zoo.catalog._source import from_name
from zoo.export._pipeline import export_model


class _HalfStates:
    """An exporter plugin: zoo's ONNX file, but its runner hands back the states as float16
    (values within tolerance once widened to float64, so only a dtype check catches it)."""

    @zoo.hookimpl
    def register_exporters(self, register: Callable[[zoo.Exporter], None]) -> None:
        from zoo.exporters import onnx as base

        def load(path: Path) -> Any:
            run = base.load(path)

            def half(feeds: dict[str, Any]) -> dict[str, Any]:
                out = run(feeds)
                return {k: v.astype(np.float16) if k.endswith("_n") else v for k, v in out.items()}

            return half

        register(
            zoo.Exporter(
                name="onnx-half",
                suffix=".half.onnx",
                export=base.export,
                load=load,
                read_metadata=base.read_metadata,
            )
        )


@pytest.mark.slow
def test_an_output_of_the_wrong_dtype_fails_parity(
    make_plugins: Callable[..., Plugins], tmp_path: Path
) -> None:
    """bilstm has no streaming case, which alone used to catch float16 states."""
    plugins = make_plugins(_HalfStates())
    source = from_name(App(plugins), "bilstm")
    summary = export_model(source, [plugins.exporter("onnx-half")], tmp_path)
    (artifact,) = summary.artifacts
    assert not artifact.passed and not (tmp_path / "bilstm.half.onnx").exists()
    assert artifact.report is not None
    failing = {c.output for c in artifact.report.failures}
    assert failing == {"h_n", "c_n"}, failing
    assert "dtype float16, the contract says float32" in artifact.report.failures[0].problem


@pytest.mark.slow
def test_verify_refuses_an_artifact_of_the_wrong_dtype(
    invoke: Any, make_plugins: Callable[..., Plugins], tmp_path: Path
) -> None:
    plugins = make_plugins(_HalfStates())
    assert invoke("export", "bilstm", "--onnx", "--out", str(tmp_path)).exit_code == 0
    half = tmp_path / "bilstm.half.onnx"
    shutil.copy(tmp_path / "bilstm.onnx", half)
    result = invoke("verify", str(half), cli_plugins=plugins)
    assert result.exit_code == 1
    assert "dtype float16, the contract says float32" in result.output


TINY = (
    "--data", "sine", "--samples", "32", "--seq-len", "6", "--batch-size", "16",
    "--set", "hidden_size=4", "--epochs", "1",
)  # fmt: skip


@pytest.fixture
def trained(invoke: Any, tmp_path: Path) -> Path:
    out = tmp_path / "runs" / "tiny"
    result = invoke("train", "lstm", *TINY, "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def _rescale(checkpoint: Path) -> None:
    """What a careless edit does: the target's scaling changes every prediction, the weights
    stay byte for byte the same."""
    config = checkpoint / "config.json"
    meta = json.loads(config.read_text())
    meta["data"]["scaling"]["y_mean"] = 1000.0
    config.write_text(json.dumps(meta, indent=2))


def test_a_registered_checkpoint_is_pinned_as_a_whole(
    invoke: Any, trained: Path, tmp_path: Path
) -> None:
    registry = tmp_path / "models.toml"
    args = ("register", "--checkpoint", str(trained), "--name", "tiny", "--registry", str(registry))
    assert invoke(*args).exit_code == 0
    out = tmp_path / "out"
    before = invoke("--registry", str(registry), "export", "tiny", "--onnx", "--out", str(out))
    assert before.exit_code == 0, before.output
    _rescale(trained)
    result = invoke("--registry", str(registry), "export", "tiny", "--onnx", "--out", str(out))
    assert result.exit_code == 1
    assert "checkpoint digest" in result.output and "does not match" in result.output
    predicted = invoke("--registry", str(registry), "predict", "tiny", "--data", "sine")
    assert predicted.exit_code == 1 and "does not match" in predicted.output


def test_an_exported_checkpoint_is_pinned_as_a_whole(
    invoke: Any, trained: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    exported = invoke("export", "--checkpoint", str(trained), "--onnx", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    artifact = out / "tiny.onnx"
    assert invoke("verify", str(artifact)).exit_code == 0
    _rescale(trained)
    result = invoke("verify", str(artifact))
    assert result.exit_code == 1
    assert "is not the one the artifact was exported from" in result.output


def test_an_entry_that_pins_only_the_weights_is_refused_with_the_way_out(
    invoke: Any, trained: Path, tmp_path: Path
) -> None:
    """What `zoo register` wrote before checkpoints were pinned as a whole."""
    import hashlib

    registry = tmp_path / "models.toml"
    args = ("register", "--checkpoint", str(trained), "--name", "tiny", "--registry", str(registry))
    assert invoke(*args).exit_code == 0
    weights = hashlib.sha256((trained / "model.safetensors").read_bytes()).hexdigest()
    text = registry.read_text()
    entry = tomllib.loads(text)["models"]["tiny"]
    registry.write_text(text.replace(entry["sha256"], weights))
    result = invoke("--registry", str(registry), "export", "tiny", "--onnx", "--out", str(tmp_path))
    assert result.exit_code == 1
    assert "pins the weights alone" in result.output and "zoo register" in result.output
