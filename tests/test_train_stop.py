"""Ctrl-C during `zoo train`: one line with the epoch, the checkpoint folder and the command
that continues the run, exit status 130 (not click's bare "Aborted!"; issue 18)."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import Any

import pytest

from zoo.train._loop import Loop

TINY = (
    "--data", "sine", "--samples", "32", "--seq-len", "6", "--batch-size", "16",
    "--set", "hidden_size=4",
)  # fmt: skip


def _interrupt_at(monkeypatch: pytest.MonkeyPatch, stop: int) -> None:
    """Ctrl-C arrives in the middle of epoch `stop` (its training pass)."""
    real = Loop._train_pass

    def train_pass(self: Loop, epoch: int) -> Any:
        if epoch == stop:
            raise KeyboardInterrupt
        return real(self, epoch)

    monkeypatch.setattr(Loop, "_train_pass", train_pass)


def test_ctrl_c_says_where_the_run_stopped_and_how_to_resume(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    args = ["train", "lstm", *TINY, "--epochs", "5", "--out", str(out)]
    _interrupt_at(monkeypatch, 3)
    result = invoke(*args)
    assert result.exit_code == 130, result.output
    assert "Aborted" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("Stopped")]
    assert lines == [
        f"Stopped (Ctrl-C) in epoch 3 of 5; the last saved checkpoint (epoch 2) is in {out}. "
        f"Continue with: {shlex.join(['zoo', *args, '--resume'])}"
    ]
    assert json.loads((out / "train_state" / "state.json").read_text())["epoch"] == 2
    # The command it prints does continue the run.
    monkeypatch.undo()
    resumed = invoke(*shlex.split(lines[0].split("Continue with: ")[1])[1:])
    assert resumed.exit_code == 0, resumed.output
    assert f"resuming {out} after epoch 2 of 5" in resumed.stderr


def test_ctrl_c_before_any_epoch_was_saved_says_there_is_nothing_to_resume(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    _interrupt_at(monkeypatch, 1)
    result = invoke("train", "lstm", *TINY, "--epochs", "2", "--out", str(out))
    assert result.exit_code == 130, result.output
    assert f"before any epoch was saved: nothing to resume in {out}" in result.stderr
    assert "--resume" not in result.stderr


def test_ctrl_c_under_nproc_is_reported_once_by_the_launcher(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """torch's elastic agent turns Ctrl-C into SignalException; the launcher reports it (the
    workers, marked by ZOO_TRAIN_LAUNCHED, keep quiet)."""
    import signal

    import torch.distributed.run
    from torch.distributed.elastic.multiprocessing import SignalException

    from zoo.cli._train import speaks_for_the_run
    from zoo.train._launch import LAUNCHED_VARIABLE

    seen = {}

    def run(args: Any) -> None:
        seen["launched"] = LAUNCHED_VARIABLE in os.environ
        raise SignalException("got SIGINT", sigval=signal.SIGINT)

    monkeypatch.setattr(torch.distributed.run, "run", run)
    out = tmp_path / "run"
    result = invoke("train", "lstm", *TINY, "--epochs", "2", "--nproc", "2", "--out", str(out))
    assert result.exit_code == 130, result.output
    assert seen == {"launched": True}
    assert f"before any epoch was saved: nothing to resume in {out}" in result.stderr
    rank0: Any = type("World", (), {"rank": 0})()
    assert speaks_for_the_run(None) and speaks_for_the_run(rank0)
    monkeypatch.setenv(LAUNCHED_VARIABLE, "1")
    assert speaks_for_the_run(None) and not speaks_for_the_run(rank0)
