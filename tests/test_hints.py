"""Errors whose next step was wrong (issue 18): each now names the real problem and a fix
the command in hand has."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def test_verify_and_info_on_a_folder_list_the_artifacts_in_it(invoke: Any, tmp_path: Path) -> None:
    assert invoke("export", "rnn", "--onnx", "--pt2", "--out", str(tmp_path)).exit_code == 0
    for command in ("verify", "info"):
        result = invoke(command, str(tmp_path))
        assert result.exit_code == 1, result.output
        assert f"'{tmp_path}' is a folder, not an artifact" in result.output
        assert f"{tmp_path / 'rnn.onnx'}, {tmp_path / 'rnn.pt2'}" in result.output
        assert f"Give `zoo {command}` one of them" in result.output
        assert "does not exist" not in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "it holds no artifact" in invoke("verify", str(empty)).output


def _series(path: Path, rows: int) -> Path:
    path.write_text("a,y\n" + "".join(f"{i % 5},{i * 0.1:.1f}\n" for i in range(rows)))
    return path


def test_predict_on_too_short_a_file_names_no_option_predict_lacks(
    invoke: Any, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    args = ("--target", "y", "--window", "6", "--epochs", "1")
    trained = invoke(
        "train", "lstm", "--data", str(_series(tmp_path / "t.csv", 40)), *args, "--out", str(run)
    )
    assert trained.exit_code == 0, trained.output
    result = invoke(
        "predict", "--checkpoint", str(run), "--data", str(_series(tmp_path / "s.csv", 3))
    )
    assert result.exit_code == 1
    assert (
        "The model was trained on windows of 6 rows; give a file with more rows." in result.output
    )
    assert "--window" not in result.output and "--horizon" not in result.output


def test_a_text_target_in_regression_suggests_classification(invoke: Any, tmp_path: Path) -> None:
    data = tmp_path / "labels.csv"
    data.write_text("a,y\n" + "".join(f"{i},{'up' if i % 2 else 'down'}\n" for i in range(30)))
    result = invoke("train", "lstm", "--data", str(data), "--target", "y", "--window", "3")
    assert result.exit_code == 1
    assert "'down' is not a number. A regression target must hold numbers" in result.output
    assert "train with --task classification" in result.output
    assert "--features" not in result.output


@pytest.mark.parametrize(("mark", "name"), [(";", "semicolon"), ("\t", "tab")])
def test_a_file_with_another_delimiter_gets_a_hint(
    invoke: Any, tmp_path: Path, mark: str, name: str
) -> None:
    data = tmp_path / "other.csv"
    data.write_text(f"a{mark}y\n" + "".join(f"{i}{mark}{i}\n" for i in range(20)))
    result = invoke("train", "lstm", "--data", str(data), "--target", "y", "--window", "3")
    assert result.exit_code == 1
    assert f"the file looks {name}-separated, and zoo reads comma-separated files" in result.output
