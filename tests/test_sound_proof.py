"""The proof cannot be fooled: what a careless or hostile artifact, checkpoint or registry
entry tried on main, each refused now (issue #14, "Proof that can be fooled")."""

from __future__ import annotations

import shutil
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
