"""Pictures: loss curves from `zoo train`, hidden-state and prediction plots from `zoo inspect`.

Drawing needs matplotlib (the `plot` extra); those tests skip without it. What zoo does
when it is missing is tested either way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from zoo.inference import _plots as plots

PNG = b"\x89PNG\r\n\x1a\n"
TINY = (
    "--samples", "32", "--seq-len", "6", "--batch-size", "16", "--set", "hidden_size=4",
    "--epochs", "2",
)  # fmt: skip


def _train(invoke: Any, out: Path, data: str = "sine") -> Any:
    result = invoke("train", "lstm", "--data", data, *TINY, "--out", str(out))
    assert result.exit_code == 0, result.output
    return result


def test_train_saves_loss_curves(invoke: Any, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    result = _train(invoke, tmp_path / "r")
    assert (tmp_path / "r" / "loss.png").read_bytes().startswith(PNG)
    assert "matplotlib" not in result.output


def test_inspect_draws_hidden_state_and_predictions(invoke: Any, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    _train(invoke, tmp_path / "r")
    out = tmp_path / "pictures"
    result = invoke(
        "inspect", "--checkpoint", str(tmp_path / "r"), "--data", "sine", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"wrote {out / 'hidden.png'}",
        f"wrote {out / 'predictions.png'}",
    ]
    for name in ("hidden.png", "predictions.png"):
        assert (out / name).read_bytes().startswith(PNG)


def test_inspect_a_classifier_draws_the_hidden_state_only(invoke: Any, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    _train(invoke, tmp_path / "c", data="freq")
    out = tmp_path / "pictures"
    result = invoke(
        "inspect", "--checkpoint", str(tmp_path / "c"), "--data", "freq", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["hidden.png"]


def test_without_matplotlib_train_says_so_once_and_inspect_refuses(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plots, "available", lambda: False)
    result = _train(invoke, tmp_path / "r")
    assert result.stderr.count("matplotlib is not installed") == 1
    assert not (tmp_path / "r" / "loss.png").exists()
    assert (tmp_path / "r" / "model.safetensors").exists()
    result = invoke(
        "inspect",
        "--checkpoint",
        str(tmp_path / "r"),
        "--data",
        "sine",
        "--out",
        str(tmp_path / "p"),
    )
    assert result.exit_code == 1
    assert "Cannot draw: matplotlib is not installed (pip install 'zoo-rnn[plot]')" in result.output
