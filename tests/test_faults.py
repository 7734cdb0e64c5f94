"""Faults lose nothing: killed exports, full disks and unwritable folders never leave a
partial artifact, and never damage the previous one."""

from __future__ import annotations

import errno
import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import zoo
from zoo.catalog._session import App
from zoo.export._bundle import read_bundle
from zoo.export._verify import verify_artifact

ZOO = [sys.executable, "-c", "import sys; from zoo.cli import main; main(sys.argv[1:])"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sigkill_at_random_moments_never_leaves_a_partial_artifact(tmp_path: Path) -> None:
    out = tmp_path / "out"
    names = (
        "lstm.onnx", "lstm.pt2", "lstm.onnx.parity.json", "lstm.pt2.parity.json", "lstm.test_data"
    )  # fmt: skip
    subprocess.run(
        [*ZOO, "export", "lstm", "--onnx", "--pt2", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    known = {n: {_sha(out / n)} for n in names if not n.endswith(".test_data")}
    plugins = zoo.load_plugins()
    rng = random.Random(7)
    kills = 0
    for seed in range(1, 6):
        process = subprocess.Popen(
            [*ZOO, "export", "lstm", "--onnx", "--pt2", "--seed", str(seed), "--out", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.2, 4.0))
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            kills += 1
        process.wait()
        visible = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
        assert visible == sorted(names)
        assert all(".partial-" in p.name for p in out.iterdir() if p.name.startswith("."))
        for name in ("lstm.onnx", "lstm.pt2"):
            digest = _sha(out / name)
            if digest not in known[name]:  # a new artifact: it must be complete and pass parity
                report = verify_artifact(App(plugins), out / name, None, None, None)
                assert report.passed, name
                known[name].add(digest)
        try:  # the ONNX file's bundle is its own, or (killed between the two renames) refused
            read_bundle(out / "lstm.onnx")
        except zoo.ZooError as exc:
            assert "belongs to another file" in str(exc)
    assert kills >= 1  # the loop really interrupted exports


def _first_export(invoke: Any, out: Path) -> str:
    assert invoke("export", "rnn", "--onnx", "--out", str(out)).exit_code == 0
    return _sha(out / "rnn.onnx")


def test_disk_full_is_a_clear_error_and_keeps_the_previous_artifact(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _first_export(invoke, tmp_path)

    def full(*_args: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("zoo._fs.os.replace", full)
    result = invoke("export", "rnn", "--onnx", "--seed", "3", "--force", "--out", str(tmp_path))
    assert result.exit_code == 1
    assert "No space left on device" in result.output and "Traceback" not in result.output
    assert _sha(tmp_path / "rnn.onnx") == before
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_unwritable_output_folder_is_a_clear_error(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _first_export(invoke, tmp_path)

    def denied(*_args: Any, **_kwargs: Any) -> None:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr("zoo._fs.tempfile.mkstemp", denied)
    result = invoke("export", "rnn", "--onnx", "--out", str(tmp_path))
    assert result.exit_code == 1
    assert f"Cannot write to '{tmp_path}': Permission denied." in result.output
    assert _sha(tmp_path / "rnn.onnx") == before
