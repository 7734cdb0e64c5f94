"""A wheel built from the sources installs outside the repo and lists the same models.

Installed, the built-in plugins and exporters live under the zoo namespace; no generic
top-level `plugins`/`exporters` package may land in site-packages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "registry.toml", "zoo", "plugins", "exporters")


def _build_wheel(src: Path, out: Path, distribution: str) -> Path:
    """`pip wheel` of the project in `src`, into `out`; the one wheel it built."""
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    subprocess.run([*command, "-q", "-w", str(out), str(src)], check=True, capture_output=True)
    (built,) = out.glob(f"{distribution}-*.whl")
    return built


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(
                origin, src / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(origin, src / name)
    return _build_wheel(src, tmp_path_factory.mktemp("dist"), "zoo_rnn")


@pytest.fixture(scope="module")
def plugin_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("gru-src")
    shutil.copytree(
        ROOT / "examples" / "zoo-gru",
        src,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"),
    )
    return _build_wheel(src, tmp_path_factory.mktemp("gru-dist"), "zoo_gru")


def test_wheel_ships_everything_under_zoo(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"zoo"}
    assert "zoo/registry.toml" in names
    assert "zoo/plugins/recurrent.py" in names and "zoo/exporters/__init__.py" in names
    registry = zipfile.ZipFile(wheel).read("zoo/registry.toml").decode()
    assert registry == (ROOT / "registry.toml").read_text()
    assert "zoo/trained/sunspots-lstm/model.safetensors" in names
    assert "zoo/trained/sunspots-lstm/config.json" in names


def test_wheels_installed_in_a_fresh_venv_list_and_export(
    wheel: Path, plugin_wheel: Path, tmp_path: Path
) -> None:
    env = tmp_path / "venv"
    # System site-packages provide the dependencies (torch is large); zoo itself comes only
    # from the wheel, which the venv's own site-packages put first on sys.path.
    venv.create(env, system_site_packages=True, with_pip=False)
    python = env / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            str(wheel),
            str(plugin_wheel),
        ],
        check=True,
        capture_output=True,
    )
    where = subprocess.run(
        [
            str(python),
            "-c",
            "import zoo, zoo.plugins.recurrent as p; print(zoo.__file__); print(p.__file__)",
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert all(Path(p).is_relative_to(env) for p in where), where
    site = Path(where[0]).parents[1]
    assert not (site / "plugins").exists() and not (site / "exporters").exists()
    # Only the plugin wheel installed here: other third-party plugins on the machine are not
    # this test's concern.
    listed = subprocess.run(
        [str(env / "bin" / "zoo"), "list"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "ZOO_LOAD_PLUGINS": "zoo-gru"},
    ).stdout
    names = {line.split()[0] for line in listed.splitlines()[2:]}
    assert {"rnn", "lstm", "bilstm", "gru", "gru-2x64"} <= names
    exported = subprocess.run(
        [str(env / "bin" / "zoo"), "export", "gru", "--all", "--out", "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "ZOO_LOAD_PLUGINS": "zoo-gru"},
    )
    assert exported.returncode == 0, exported.stderr
    assert {p.name for p in (tmp_path / "out").iterdir()} == {
        "gru.onnx",
        "gru.int8.onnx",
        "gru.ort.onnx",
        "gru.pt2",
        "gru.torchscript.pt",
        "gru.onnx.parity.json",
        "gru.int8.onnx.parity.json",
        "gru.ort.onnx.parity.json",
        "gru.pt2.parity.json",
        "gru.torchscript.pt.parity.json",
        "gru.test_data",  # each ONNX file's test data bundle
        "gru.int8.test_data",
        "gru.ort.test_data",
    }
