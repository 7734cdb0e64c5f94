"""What a new user met silently (issue #18): each is now a clear error or warning."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def test_bench_modes_exclude_each_other(invoke: Any) -> None:
    result = invoke("bench", "--quick", "--tiny", "--section", "cli")
    assert result.exit_code == 2
    assert "--quick and --tiny exclude each other" in result.output


@pytest.mark.parametrize("value", ["abc", "-1", "1.5"])
def test_a_bad_ort_threads_variable_is_an_error(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("ZOO_ORT_THREADS", value)
    result = invoke("export", "lstm", "--onnx", "--out", str(tmp_path))
    assert result.exit_code == 1
    assert f"ZOO_ORT_THREADS={value!r} is not a whole number" in result.output
    assert "exporting" not in result.output  # refused before any work


def test_a_plugin_selection_that_selects_nothing_is_reported() -> None:
    env = {**os.environ, "ZOO_LOAD_PLUGINS": "zoo-gruu"}
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from zoo.cli import main; main(['list'])"],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    assert "ZOO_LOAD_PLUGINS" in done.stderr and "'zoo-gruu'" in done.stderr


def test_a_path_given_as_a_model_name_points_to_checkpoint(invoke: Any) -> None:
    result = invoke("info", "runs/lstm")
    assert result.exit_code == 1
    assert "is a path, not a model name" in result.output and "--checkpoint" in result.output
    assert "Did you mean" not in result.output


def test_plugins_lists_every_exporter_with_suffix_and_description(
    invoke: Any, plugins: Any
) -> None:
    import json

    text = invoke("plugins").output
    data = json.loads(invoke("plugins", "--json").output)
    listed = {e["name"]: e for e in data["exporters"]}
    assert set(listed) == set(plugins.exporters)
    for name, exporter in plugins.exporters.items():
        assert listed[name]["suffix"] == exporter.suffix
        assert exporter.description and exporter.description[:40] in text
