"""Broken or hostile checkpoint files: one-line errors naming the file, no traceback,
`--debug` / ZOO_DEBUG=1 for the traceback, and NaN training stopped without losing the last
good checkpoint."""

from __future__ import annotations

import json
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
from zoo.checkpoint._format import build_from_checkpoint, checkpoint_files, read_checkpoint

TINY = ("--data", "sine", "--samples", "64", "--seq-len", "8", "--batch-size", "16")


@pytest.fixture
def trained(invoke: Any, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    assert invoke("train", "lstm", *TINY, "--epochs", "1", "--out", str(run)).exit_code == 0
    return run


def _export(invoke: Any, run: Path, *extra: str) -> Any:
    return invoke("export", "--checkpoint", str(run), "--out", str(run.parent / "x"), *extra)


def _rehash(run: Path) -> None:
    """Record the current weights' sha256, so that only the damage under test remains."""
    from zoo._fs import sha256_file

    meta = json.loads((run / "config.json").read_text())
    meta["sha256"] = sha256_file(run / "model.safetensors")
    (run / "config.json").write_text(json.dumps(meta))


def test_truncated_weights(invoke: Any, trained: Path) -> None:
    weights = trained / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    result = _export(invoke, trained)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{weights}: sha256" in result.output and "partly written" in result.output
    _rehash(trained)
    result = _export(invoke, trained)
    assert result.exit_code == 1
    assert f"{weights}: not a valid safetensors file" in result.output
    assert len([line for line in result.output.splitlines() if line.startswith("Error")]) == 1


def test_garbage_weights(invoke: Any, trained: Path) -> None:
    (trained / "model.safetensors").write_bytes(os.urandom(4096))
    _rehash(trained)
    result = _export(invoke, trained)
    assert result.exit_code == 1 and "not a valid safetensors file" in result.output


def test_config_that_does_not_match_the_weights(invoke: Any, trained: Path) -> None:
    meta = json.loads((trained / "config.json").read_text())
    meta["config"]["hidden_size"] = 7
    (trained / "config.json").write_text(json.dumps(meta))
    result = _export(invoke, trained)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "model.safetensors: weights do not match config.json" in result.output
    assert "rnn.weight_hh_l0" in result.output  # the tensor at fault, with both shapes


def test_config_that_is_not_json(invoke: Any, trained: Path) -> None:
    (trained / "config.json").write_text("{not json")
    result = _export(invoke, trained)
    assert result.exit_code == 1 and "config.json: not valid JSON" in result.output


def test_debug_shows_the_traceback(
    invoke: Any, trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (trained / "config.json").write_text("{not json")
    with pytest.raises(zoo.CheckpointError):
        invoke("--debug", "export", "--checkpoint", str(trained))
    monkeypatch.setenv("ZOO_DEBUG", "1")
    with pytest.raises(zoo.CheckpointError):
        _export(invoke, trained)


def test_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    from zoo.train import _loop as train_loop

    real = train_loop.loss_function
    calls = {"n": 0}

    def exploding(task: str) -> Any:
        loss = real(task)

        def compute(pred: Any, y: Any) -> Any:
            calls["n"] += 1
            value = loss(pred, y)
            return value * float("nan") if calls["n"] > 4 else value  # 4 batches = epoch 1

        return compute

    monkeypatch.setattr(train_loop, "loss_function", exploding)
    run = tmp_path / "run"
    result = invoke("train", "lstm", *TINY, "--epochs", "3", "--out", str(run))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "Training diverged: loss nan in epoch 2" in result.output
    assert "the best epoch so far (1)" in result.output
    checkpoint = read_checkpoint(run)
    assert checkpoint.meta["best"]["epoch"] == 1
    model = build_from_checkpoint(checkpoint, App(zoo.load_plugins()).plugins.architecture("lstm"))
    assert all(torch.isfinite(p).all() for p in model.parameters())


ZOO = [sys.executable, "-c", "import sys; from zoo.cli import main; main(sys.argv[1:])"]


def test_sigkilled_training_leaves_a_loadable_or_clearly_incomplete_checkpoint(
    tmp_path: Path,
) -> None:
    run = tmp_path / "run"
    args = [*ZOO, "train", "lstm", *TINY, "--samples", "512", "--epochs", "6", "--out", str(run)]
    rng = random.Random(3)
    arch = zoo.load_plugins().architecture("lstm")
    for attempt in range(4):
        process = subprocess.Popen(
            # A kill may come before any epoch was saved: continue whatever is there.
            [*args, *(["--resume-if-exists"] if attempt else [])],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.5, 3.0))
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
        # A committed checkpoint's config.json may still be in its commit folder.
        if run.exists() and checkpoint_files(run)[0].exists():  # complete: loadable
            build_from_checkpoint(read_checkpoint(run), arch)
        elif run.exists():  # no config.json yet: clearly incomplete, and refused as such
            with pytest.raises(zoo.CheckpointError, match="incomplete"):
                read_checkpoint(run)
    finished = subprocess.run([*args, "--resume-if-exists"], capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    metrics = json.loads((run / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == [1, 2, 3, 4, 5, 6]
