"""`zoo bench` runs and reports every section. Structure only: a benchmark is not a test, so
nothing here looks at how fast anything was."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from zoo._errors import ZooError
from zoo.bench._run import SECTIONS, run_bench


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


@pytest.mark.slow
def test_tiny_bench_reports_every_section(invoke: Any, tmp_path: Path) -> None:
    result = invoke("bench", "--tiny", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    text = result.stdout
    names = [s.name for s in SECTIONS]
    for name in names:
        assert f"\n== {name}: " in text
    assert "\n== goals\n" in text and text.startswith("zoo bench (tiny, ")

    data = json.loads((tmp_path / "bench.json").read_text())
    assert data["mode"] == "tiny"
    assert {"cpu", "cores", "torch", "onnxruntime"} <= set(data["machine"])
    assert [s["name"] for s in data["sections"]] == names
    for section in data["sections"]:
        assert section["rows"] and section["records"], section["name"]
        assert all(len(row) == len(section["headers"]) for row in section["rows"])
        for record in section["records"]:
            for key in ("ratio", "median", "gflops"):
                if record.get(key) is not None:  # a baseline's own ratio is None
                    assert _positive(record[key]), (section["name"], record)
        assert any(r.get("ratio") is not None for r in section["records"]), section["name"]
    goals = data["goals"]
    assert {g["section"] for g in goals} >= {"cli", "cli-scale", "export", "inference", "training"}
    for goal in goals:
        assert _positive(goal["measured"]) and isinstance(goal["met"], bool), goal
        assert goal["wanted"].startswith(("<=", ">="))

    markdown = (tmp_path / "bench.md").read_text()
    assert "### Goals" in markdown
    for name in names:
        assert f"### {name}: " in markdown


def test_every_section_is_documented() -> None:
    docs = (Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md").read_text()
    for section in SECTIONS:
        assert f"### {section.name}: " in docs or f"(`{section.name}`" in docs, section.name


def test_unknown_mode_and_section_are_named() -> None:
    with pytest.raises(ZooError, match="Unknown benchmark mode 'fast'"):
        run_bench("fast")
    with pytest.raises(ZooError, match=r"Unknown benchmark section\(s\) \['nope'\]"):
        run_bench("tiny", sections=["nope"])


def test_python_m_zoo_bench_is_the_bench_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "zoo.bench", "--help"], capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith("Usage: zoo bench [OPTIONS]")
    assert "--quick" in done.stdout and "--tiny" in done.stdout
    listed = " ".join(done.stdout.split("Sections:")[1].split(".")[0].split())
    assert listed == ", ".join(s.name for s in SECTIONS)  # the help names every section
