"""Artifacts are named after what they hold, never silently replace another model's file,
and keep one parity report each (issue 18: the README walkthrough collided with itself)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import TINY


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_checkpoint_export_and_a_preset_of_the_same_name_keep_their_own_files(
    invoke: Any, tmp_path: Path
) -> None:
    run = tmp_path / "runs" / "lstm"
    assert invoke("train", "lstm", *TINY, "--out", str(run)).exit_code == 0
    out = tmp_path / "exports"
    trained = invoke("export", "--checkpoint", str(run), "--onnx", "--out", str(out))
    assert trained.exit_code == 0, trained.output
    assert (out / "lstm-trained.onnx").is_file() and not (out / "lstm.onnx").exists()
    before = _sha(out / "lstm-trained.onnx")
    preset = invoke("export", "lstm", "--onnx", "--out", str(out))
    assert preset.exit_code == 0, preset.output
    assert _sha(out / "lstm-trained.onnx") == before
    assert sorted(p.name for p in out.iterdir()) == [
        "lstm-trained.onnx",
        "lstm-trained.onnx.parity.json",
        "lstm-trained.test_data",
        "lstm.onnx",
        "lstm.onnx.parity.json",
        "lstm.test_data",
    ]


@pytest.mark.parametrize("flag", ["--onnx", "--torchscript"])
def test_another_models_artifact_is_refused_unless_forced(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flag: str
) -> None:
    assert invoke("export", "rnn", flag, "--out", str(tmp_path)).exit_code == 0
    (artifact,) = [p for p in tmp_path.iterdir() if not p.name.endswith((".json", ".test_data"))]
    before = _sha(artifact)
    import torch

    def no_load(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the file's program was loaded to read its metadata")

    with monkeypatch.context() as patch:  # reading what the file holds runs nothing from it
        patch.setattr(torch.jit, "load", no_load)
        for other in (["--seed", "1"], ["--set", "hidden_size=3"]):
            result = invoke("export", "rnn", flag, "--out", str(tmp_path), *other)
            assert result.exit_code == 1, result.output
            assert f"{artifact} already holds another model" in result.output
            assert "--force" in result.output
            assert _sha(artifact) == before
    same = invoke("export", "rnn", flag, "--out", str(tmp_path))  # the same model: replaced
    assert same.exit_code == 0, same.output
    forced = invoke("export", "rnn", flag, "--out", str(tmp_path), "--seed", "1", "--force")
    assert forced.exit_code == 0, forced.output
    assert _sha(artifact) != before


def test_a_file_zoo_cannot_read_is_not_replaced_without_force(invoke: Any, tmp_path: Path) -> None:
    (tmp_path / "rnn.onnx").write_bytes(b"someone's notes")
    result = invoke("export", "rnn", "--onnx", "--out", str(tmp_path))
    assert result.exit_code == 1 and "cannot read as onnx" in result.output
    assert (tmp_path / "rnn.onnx").read_bytes() == b"someone's notes"
    assert invoke("export", "rnn", "--onnx", "--out", str(tmp_path), "--force").exit_code == 0


def test_two_formats_in_one_folder_keep_one_report_each(invoke: Any, tmp_path: Path) -> None:
    assert invoke("export", "rnn", "--onnx", "--out", str(tmp_path)).exit_code == 0
    result = invoke("export", "rnn", "--format", "onnx-int8", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert f"report: {tmp_path / 'rnn.int8.onnx.parity.json'}" in result.output
    for name, exporter in (("rnn.onnx", "onnx"), ("rnn.int8.onnx", "onnx-int8")):
        report = json.loads((tmp_path / f"{name}.parity.json").read_text())
        (artifact,) = report["artifacts"]
        assert artifact["exporter"] == exporter and artifact["path"] == str(tmp_path / name)


def test_an_unwritable_output_folder_is_said_before_any_export(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    if os.geteuid() == 0:  # root writes anywhere: the folder is read-only as far as zoo asks
        real = os.access

        def access(path: Any, mode: int, **kwargs: Any) -> bool:
            return not (Path(path) == out and mode & os.W_OK) and real(path, mode, **kwargs)

        monkeypatch.setattr(os, "access", access)
    try:
        result = invoke("export", "rnn", "--onnx", "--out", str(out))
    finally:
        out.chmod(0o755)
    assert result.exit_code == 1, result.output
    assert f"Output directory '{out}' is not writable" in result.output
    assert "parity FAILED" not in result.output
    assert list(out.iterdir()) == []
