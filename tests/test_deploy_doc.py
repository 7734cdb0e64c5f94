"""docs/deploy.md stays true: its consumer loops run against a fresh export's bundle."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import zoo
from zoo.cli import create_cli

DOC = (Path(__file__).resolve().parents[1] / "docs" / "deploy.md").read_text()
ARTIFACT_LINE = 'ARTIFACT = "exports/lstm.onnx"'


def block(marker: str) -> str:
    """The ```python block right after `<!-- test: MARKER -->`."""
    found = re.search(rf"<!-- test: {marker} -->\n```python\n(.*?)\n```", DOC, re.S)
    assert found, f"docs/deploy.md lacks the block marked {marker}"
    assert ARTIFACT_LINE in found.group(1)
    return found.group(1)


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("deploy")
    group = create_cli(zoo.load_plugins(third_party=True))
    result = CliRunner().invoke(group, ["export", "lstm", "--onnx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out / "lstm.onnx"


def run(code: str, artifact: Path) -> subprocess.CompletedProcess[str]:
    code = code.replace(ARTIFACT_LINE, f"ARTIFACT = {str(artifact)!r}")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_the_python_onnxruntime_loop_matches_the_bundle(artifact: Path) -> None:
    done = run(block("python-onnxruntime"), artifact)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "stream matches"


def test_the_python_onnxruntime_loop_catches_a_wrong_wiring(artifact: Path) -> None:
    """The doc's check can fail: with the state map reversed it does."""
    code = block("python-onnxruntime").replace(
        'state_map = contract["state_map"]', 'state_map = {"h_n": "c0", "c_n": "h0"}'
    )
    done = run(code, artifact)
    assert done.returncode != 0 and "AssertionError" in done.stderr


def test_the_python_openvino_loop_streams_like_one_full_pass(artifact: Path) -> None:
    pytest.importorskip("openvino")
    check = """
import onnxruntime as ort
zeros = {n: np.zeros_like(v) for n, v in states.items()}
x = np.ones((batch, 3 * steps, features), np.float32)
full = ort.InferenceSession(ARTIFACT).run(["y"], {"x": x, **zeros})[0]
assert np.allclose(outputs["y"], full, atol=1e-4, rtol=1e-3), (outputs["y"], full)
"""
    done = run(block("python-openvino") + check, artifact)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("y after 3 calls:")
