"""`zoo train` on tiny data: learning, checkpoints, determinism, resume after SIGKILL."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from train_support import TINY, run_metrics, train_tiny

import zoo
from zoo.catalog._session import App
from zoo.catalog._source import from_checkpoint
from zoo.checkpoint._format import read_checkpoint
from zoo.checkpoint._train_state import load_train_state
from zoo.data._load import DataOptions, load_dataset
from zoo.inference._metrics import compute_metrics, predict_tensor
from zoo.train._run import model_config, train_model
from zoo.train._settings import TrainSettings

ROOT = Path(__file__).resolve().parents[1]


def test_training_lowers_the_loss(invoke: Any, tmp_path: Path) -> None:
    train_tiny(invoke, tmp_path / "run", epochs=6)
    epochs = run_metrics(tmp_path / "run")["epochs"]
    assert len(epochs) == 6
    assert epochs[-1]["train_loss"] < 0.75 * epochs[0]["train_loss"]
    assert min(e["val"]["loss"] for e in epochs[1:]) < epochs[0]["val"]["loss"]
    assert all(e["samples_per_s"] > 0 for e in epochs)


def test_cli_prints_progress_and_a_final_metrics_line(invoke: Any, tmp_path: Path) -> None:
    result = train_tiny(invoke, tmp_path / "run")
    stdout = result.stdout.splitlines()
    assert stdout[0].startswith("lstm on sine (seq 8, 64 samples, regression): best epoch ")
    assert "val_rel_mse " in stdout[0] and "samples/s" in stdout[0]
    assert stdout[1].startswith(f"checkpoint: {tmp_path / 'run'} (sha256 ")
    epoch_lines = [line for line in result.stderr.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in epoch_lines] == ["1/3", "2/3", "3/3"]
    assert all("train_loss" in line and "val_loss" in line for line in epoch_lines)


def test_checkpoint_holds_the_best_epoch_and_reproduces_its_metrics(
    plugins: zoo.Plugins, tmp_path: Path
) -> None:
    arch = plugins.architecture("lstm")
    dataset = load_dataset("sine", DataOptions(samples=64, seq_len=8), seed=0)
    config = model_config(arch, dict(arch.defaults), {"hidden_size": 8}, dataset)
    result = train_model(
        arch, config, dataset, TrainSettings(epochs=4, batch_size=16, lr=0.01), tmp_path / "r"
    )
    checkpoint = read_checkpoint(tmp_path / "r")
    meta = checkpoint.meta
    assert meta["sha256"] == checkpoint.sha256 == result.checkpoint.sha256
    assert meta["config"] == config and meta["config"]["input_size"] == 1
    assert meta["data"]["source"] == "sine" and meta["task"] == "regression"
    assert meta["best"]["epoch"] == result.best_epoch
    best = min(result.history, key=lambda r: r["val"]["loss"])
    assert best["epoch"] == result.best_epoch and best["best"]
    # Reloaded weights give exactly the best epoch's validation metrics.
    module = from_checkpoint(App(plugins), tmp_path / "r").module
    pred = predict_tensor(module, torch.from_numpy(dataset.val.x))
    again = compute_metrics("regression", pred, torch.from_numpy(dataset.val.y), None)
    assert again == best["val"]
    # ...and exactly the outputs of the best weights kept in train_state.
    state = load_train_state(tmp_path / "r")
    reference = arch.build(**config).eval()
    reference.load_state_dict(state.best_model)
    x = torch.from_numpy(dataset.val.x)
    with torch.no_grad():
        for a, b in zip(module(x), reference(x), strict=True):
            assert torch.equal(a, b)


def test_same_seed_same_weights_bit_for_bit(invoke: Any, tmp_path: Path) -> None:
    dropout = ("--set", "num_layers=2", "--set", "dropout=0.3")  # exercises the global RNG
    for name in ("a", "b"):
        train_tiny(invoke, tmp_path / name, *dropout)
    train_tiny(invoke, tmp_path / "c", *dropout, "--seed", "1")
    weights = {n: (tmp_path / n / "model.safetensors").read_bytes() for n in "abc"}
    assert weights["a"] == weights["b"]
    assert weights["a"] != weights["c"]
    history = [
        [{k: v for k, v in e.items() if k not in ("samples_per_s", "seconds")} for e in h]
        for h in (run_metrics(tmp_path / n)["epochs"] for n in "ab")
    ]
    assert history[0] == history[1]


@pytest.mark.parametrize(
    ("sets", "message", "code"),
    [
        (["input_size=3"], "--set input_size=3 contradicts the data", 1),  # seen in the data
        (["output_size=2"], "--set output_size=2 contradicts the data", 1),
        (["hiden_size=3"], "Did you mean 'hidden_size'?", 2),  # wrong by itself: usage
        (["dropout=2.0"], "must be in [0, 1)", 2),
    ],
)
def test_bad_overrides(
    invoke: Any, tmp_path: Path, sets: list[str], message: str, code: int
) -> None:
    args = [a for s in sets for a in ("--set", s)]
    result = invoke("train", "lstm", *TINY, *args, "--out", str(tmp_path / "x"))
    assert result.exit_code == code and message in result.output, result.output
    assert not (tmp_path / "x").exists()


def test_overrides_that_agree_with_the_data_are_fine(invoke: Any, tmp_path: Path) -> None:
    train_tiny(invoke, tmp_path / "r", "--set", "input_size=1", "--set", "output_size=1", epochs=1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--epochs", "0"], "0 is not in the range x>=1"),
        (["--lr", "0"], "0.0 is not in the range 0.0<x<=10.0"),
        (["--device", "tpu"], "'tpu' is not one of 'cpu', 'cuda'"),
        (["--data", "sinus"], "Did you mean 'sine'?"),
    ],
)
def test_bad_train_options(invoke: Any, tmp_path: Path, args: list[str], message: str) -> None:
    result = invoke("train", "lstm", *TINY, *args, "--out", str(tmp_path / "x"))
    assert result.exit_code in (1, 2) and message in result.output, result.output


@pytest.mark.skipif(torch.cuda.is_available(), reason="tests the no-CUDA message")
def test_cuda_without_a_gpu_is_a_clear_error(invoke: Any, tmp_path: Path) -> None:
    result = invoke("train", "lstm", *TINY, "--device", "cuda", "--out", str(tmp_path / "x"))
    assert result.exit_code == 1 and "no CUDA device is available" in result.output


def test_classification_task(invoke: Any, tmp_path: Path) -> None:
    result = invoke(
        "train", "lstm", "--data", "freq", "--samples", "64", "--seq-len", "12",
        "--epochs", "2", "--set", "hidden_size=8", "--out", str(tmp_path / "c"), "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert 0.0 <= summary["best"]["accuracy"] <= 1.0 and "loss" in summary["best"]
    meta = read_checkpoint(tmp_path / "c").meta
    assert meta["config"]["output_size"] == 4 and meta["task"] == "classification"
    evaluated = json.loads(
        invoke("eval", "--checkpoint", str(tmp_path / "c"), "--data", "freq", "--json").stdout
    )
    assert set(evaluated["metrics"]) == {"loss", "accuracy"} and evaluated["samples"] == 16
    rows = json.loads(
        invoke("predict", "--checkpoint", str(tmp_path / "c"), "--data", "freq", "--json").stdout
    )
    assert len(rows) == 16 and rows[0]["prediction"] in ("0.04", "0.06", "0.08", "0.1")
    assert 0.25 <= rows[0]["probability"] <= 1.0 and rows[0]["truth"] is not None


def test_eval_on_the_wrong_data_is_refused(invoke: Any, tmp_path: Path) -> None:
    train_tiny(invoke, tmp_path / "r", epochs=1)
    result = invoke("eval", "--checkpoint", str(tmp_path / "r"), "--data", "adding")
    assert result.exit_code == 1
    assert "trained on built-in task 'sine'" in result.output


def test_eval_needs_a_trained_checkpoint(plugins: zoo.Plugins, invoke: Any, tmp_path: Path) -> None:
    from zoo.catalog._source import seeded
    from zoo.checkpoint._format import save_checkpoint

    arch = plugins.architecture("lstm")
    config = arch.resolve({"input_size": 1})
    save_checkpoint(tmp_path / "plain", arch, config, seeded(arch, config, 0))
    result = invoke("eval", "--checkpoint", str(tmp_path / "plain"), "--data", "sine")
    assert result.exit_code == 1 and "not written by `zoo train`" in result.output
    result = invoke("eval", "--data", "sine")
    assert (
        result.exit_code == 2 and "Give a trained model NAME or --checkpoint DIR" in result.output
    )


def test_trained_checkpoint_exports_with_parity(invoke: Any, tmp_path: Path) -> None:
    train_tiny(invoke, tmp_path / "r", epochs=1)
    result = invoke(
        "export", "--checkpoint", str(tmp_path / "r"), "--onnx", "--out", str(tmp_path / "e"),
        "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["passed"]
    assert summary["weights"]["digest"] == read_checkpoint(tmp_path / "r").digest


def test_run_in_subprocess_reports_on_stderr(tmp_path: Path) -> None:
    """Progress goes to stderr, the final line to stdout (scripts can capture it alone)."""
    env = {**os.environ, "ZOO_LOAD_PLUGINS": ""}
    run = subprocess.run(
        [sys.executable, "-m", "zoo", "train", "lstm", *TINY, "--epochs", "1",
         "--out", str(tmp_path / "r")],
        capture_output=True, text=True, env=env, cwd=ROOT, check=True,
    )  # fmt: skip
    assert run.stdout.startswith("lstm on sine") and "epoch 1/1" in run.stderr
    assert not any(line.startswith("epoch ") for line in run.stdout.splitlines())


def test_clip_grad_norm_matches_torch() -> None:
    from zoo.train._loop import clip_grad_norm

    for scale in (0.01, 100.0):  # below and above the threshold
        torch.manual_seed(0)
        a = [torch.nn.Parameter(torch.randn(5, 3)) for _ in range(3)]
        b = [torch.nn.Parameter(p.detach().clone()) for p in a]
        for p, q in zip(a, b, strict=True):
            p.grad = torch.randn_like(p) * scale
            q.grad = p.grad.clone()
        clip_grad_norm(a, 1.0)
        torch.nn.utils.clip_grad_norm_(b, 1.0)
        for p, q in zip(a, b, strict=True):
            assert torch.equal(p.grad, q.grad)
        assert (
            scale < 1
            or torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in a])) <= 1.0 + 1e-5
        )


def test_progress_bar_on_a_terminal() -> None:
    """The live bar shows the epoch out of the total and the time left (tests/test_output.py
    checks widths, redraws, NO_COLOR and pipes)."""
    import io

    from zoo.cli._output import console_for
    from zoo.cli._progress import TrainingProgress
    from zoo.train._settings import EpochRecord

    raw = io.StringIO()
    with TrainingProgress(console_for(raw, width=120, force_terminal=True)) as bar:
        bar.start(5, 1, 1280)
        bar.step(2, 640, 1280, 0.123456, 25000.0)
        bar.epoch_end(5, EpochRecord(2, 0.1, {"loss": 0.2, "mse": 0.2}, 25000.0, 0.05, True))
    err = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw.getvalue())
    assert (
        "epoch 2/5 [###############---------------] 640/1,280  loss 0.1235  25,000/s  ETA " in err
    )
    assert (
        "epoch 2/5  train_loss 0.1  val_loss 0.2  val_mse 0.2  25,000 samples/s  0.1 s  *best\n"
        in err
    )
