"""`zoo train --resume`: after a SIGKILL the same weights as a run never stopped; extending a
finished run; refusing other options, fewer epochs, a run that is not there (unless
--resume-if-exists), and overwriting an existing run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from train_support import TINY, run_metrics, train_tiny

import zoo
from zoo.checkpoint._format import read_checkpoint
from zoo.checkpoint._train_state import STATE_DIR, STATE_FILE
from zoo.data._load import DataOptions, load_dataset
from zoo.train._run import model_config, train_model
from zoo.train._settings import TrainSettings


def _state_epoch(out: Path) -> int:
    try:
        return int(json.loads((out / STATE_DIR / STATE_FILE).read_text())["epoch"])
    except (OSError, ValueError, KeyError):
        return 0


def test_resume_after_sigkill_ends_with_the_same_weights(invoke: Any, tmp_path: Path) -> None:
    epochs = 20
    args = [
        *("--data", "sine", "--samples", "256", "--seq-len", "16", "--batch-size", "32"),
        *("--set", "hidden_size=8", "--set", "num_layers=2", "--set", "dropout=0.2"),
        *("--epochs", str(epochs)),
    ]
    killed = tmp_path / "killed"
    env = {**os.environ, "ZOO_LOAD_PLUGINS": ""}
    process = subprocess.Popen(
        [sys.executable, "-m", "zoo", "train", "lstm", *args, "--out", str(killed)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while _state_epoch(killed) < 1:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "no epoch finished in 120 s"
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
        if process.stderr:
            process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    stopped_after = _state_epoch(killed)
    assert 1 <= stopped_after < epochs, "the run must be interrupted, not finished"

    resumed = invoke("train", "lstm", *args, "--out", str(killed), "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert f"resuming {killed} after epoch {stopped_after} of {epochs}" in resumed.output
    _train_full = invoke("train", "lstm", *args, "--out", str(tmp_path / "full"))
    assert _train_full.exit_code == 0, _train_full.output

    full_bytes = (tmp_path / "full" / "model.safetensors").read_bytes()
    assert (killed / "model.safetensors").read_bytes() == full_bytes
    history = [run_metrics(out)["epochs"] for out in (killed, tmp_path / "full")]
    assert [e["epoch"] for e in history[0]] == list(range(1, epochs + 1))  # none lost/repeated
    assert [e["val"] for e in history[0]] == [e["val"] for e in history[1]]
    assert read_checkpoint(killed).sha256 == read_checkpoint(tmp_path / "full").sha256
    # Only the last epoch's tensors are kept.
    assert [p.name for p in (killed / STATE_DIR).glob("*.safetensors")] == [
        f"state-{epochs:04d}.safetensors"
    ]


def test_resume_can_extend_a_finished_run(invoke: Any, tmp_path: Path) -> None:
    train_tiny(invoke, tmp_path / "two", epochs=2)
    train_tiny(invoke, tmp_path / "two", "--resume", epochs=4)
    train_tiny(invoke, tmp_path / "four", epochs=4)
    assert (tmp_path / "two" / "model.safetensors").read_bytes() == (
        tmp_path / "four" / "model.safetensors"
    ).read_bytes()
    again = train_tiny(invoke, tmp_path / "four", "--resume", epochs=4)  # nothing left to do
    assert "resuming" in again.output and "epoch 5" not in again.output


def test_resume_with_other_options_is_refused(invoke: Any, tmp_path: Path) -> None:
    train_tiny(invoke, tmp_path / "run", epochs=1)
    result = invoke(
        "train", "lstm", *TINY, "--epochs", "2", "--out", str(tmp_path / "run"),
        "--resume", "--lr", "0.5",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "--resume: " in result.output and "settings.lr: was 0.01, now 0.5" in result.output


def test_an_existing_run_is_not_overwritten(invoke: Any, tmp_path: Path) -> None:
    train_tiny(invoke, tmp_path / "run", epochs=1)
    before = (tmp_path / "run" / "model.safetensors").read_bytes()
    result = invoke("train", "lstm", *TINY, "--epochs", "1", "--out", str(tmp_path / "run"))
    assert result.exit_code == 1 and "already holds a training run" in result.output
    assert "--resume" in result.output
    assert (tmp_path / "run" / "model.safetensors").read_bytes() == before


def test_resume_with_no_run_is_a_usage_error_naming_the_folder(invoke: Any, tmp_path: Path) -> None:
    """A typo in --out must not silently cost a whole run (issue 18)."""
    typo = tmp_path / "runz"
    result = invoke("train", "lstm", *TINY, "--epochs", "1", "--out", str(typo), "--resume")
    assert result.exit_code == 2, result.output
    assert f"no run to resume: {str(typo)!r} does not exist" in result.output
    assert "--resume-if-exists" in result.output
    assert not typo.exists()
    (tmp_path / "empty").mkdir()
    result = invoke(
        "train", "lstm", *TINY, "--epochs", "1", "--out", str(tmp_path / "empty"), "--resume"
    )
    assert result.exit_code == 2 and "has no train_state/ to continue from" in result.output


def test_resume_if_exists_starts_fresh_with_a_note_then_resumes(
    invoke: Any, tmp_path: Path
) -> None:
    result = train_tiny(invoke, tmp_path / "new", "--resume-if-exists", epochs=1)
    assert "--resume-if-exists: no run in" in result.stderr
    assert "starting at epoch 1" in result.stderr
    result = train_tiny(invoke, tmp_path / "new", "--resume-if-exists", epochs=2)
    assert f"resuming {tmp_path / 'new'} after epoch 1 of 2" in result.stderr
    assert [e["epoch"] for e in run_metrics(tmp_path / "new")["epochs"]] == [1, 2]


def test_the_library_refuses_resume_with_no_run_too(plugins: zoo.Plugins, tmp_path: Path) -> None:
    arch = plugins.architecture("lstm")
    dataset = load_dataset("sine", DataOptions(samples=32, seq_len=6), seed=0)
    config = model_config(arch, dict(arch.defaults), {"hidden_size": 4}, dataset)
    settings = TrainSettings(epochs=1, batch_size=16)
    with pytest.raises(zoo.ZooError, match="no run to resume"):
        train_model(arch, config, dataset, settings, tmp_path / "none", resume=True)
    assert not (tmp_path / "none").exists()
    result = train_model(
        arch, config, dataset, settings, tmp_path / "none", resume=True, fresh_if_missing=True
    )
    assert result.resumed_from is None and result.best_epoch == 1


def test_resume_with_fewer_epochs_than_done_is_refused(invoke: Any, tmp_path: Path) -> None:
    train_tiny(invoke, tmp_path / "run", epochs=2)
    result = invoke(
        "train", "lstm", *TINY, "--epochs", "1", "--out", str(tmp_path / "run"), "--resume"
    )
    assert result.exit_code == 1
    assert "already completed 2 epochs, more than --epochs 1. Pass --epochs 2" in result.output
