"""GPU paths: cuDNN training, nccl with one GPU per process, ONNX parity on onnxruntime's
CUDA provider. Each test runs where its hardware and packages are, and skips with the
reason everywhere else; the last one checks the error a CPU-only onnxruntime gives.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

import zoo
from zoo.checkpoint._train_state import load_train_state
from zoo.data._load import DataOptions, load_dataset

SAMPLES, SEQ = 65, 8
ARGS = (
    "lstm", "--data", "sine", "--samples", str(SAMPLES), "--seq-len", str(SEQ),
    "--batch-size", "16", "--set", "hidden_size=8", "--lr", "0.01",
)  # fmt: skip
ENV = {**os.environ, "ZOO_LOAD_PLUGINS": ""}
NO_CUDA = "needs a CUDA GPU: torch.cuda.is_available() is False on this machine"


def _zoo(*args: str, cwd: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "zoo", *args], cwd=cwd, env=ENV, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_CUDA)
def test_cuda_training_reloads_on_the_cpu(invoke: Any, tmp_path: Path) -> None:
    """cuDNN's LSTM trains; the checkpoint reproduces its validation loss on the CPU."""
    from zoo.catalog._session import App
    from zoo.catalog._source import from_checkpoint
    from zoo.inference._metrics import compute_metrics, predict_tensor

    result = invoke("train", *ARGS, "--device", "cuda", "--epochs", "3",
                    "--out", str(tmp_path / "gpu"), "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    dataset = load_dataset("sine", DataOptions(samples=SAMPLES, seq_len=SEQ), seed=0)
    module = from_checkpoint(App(zoo.load_plugins(third_party=False)), tmp_path / "gpu").module
    pred = predict_tensor(module, torch.from_numpy(dataset.val.x))
    cpu = compute_metrics("regression", pred, torch.from_numpy(dataset.val.y), None)
    assert cpu["loss"] == pytest.approx(summary["best"]["loss"], rel=1e-3)


@pytest.mark.skipif(
    not torch.cuda.is_available() or torch.cuda.device_count() < 2,
    reason="needs 2 CUDA GPUs for 2 nccl processes",
)
def test_two_gpus_with_nccl(tmp_path: Path) -> None:
    _zoo("train", *ARGS, "--device", "cuda", "--epochs", "2", "--out", "one", cwd=tmp_path)
    _zoo("train", *ARGS, "--device", "cuda", "--epochs", "2", "--out", "two", "--nproc", "2",
         cwd=tmp_path)  # fmt: skip
    one, two = (load_train_state(tmp_path / run).model for run in ("one", "two"))
    # Not yet run on a GPU: this tolerance is an estimate (CUDA kernels may round differently
    # at other batch shapes), to be replaced by a measured one.
    for name in one:
        torch.testing.assert_close(two[name].cpu(), one[name].cpu(), atol=1e-4, rtol=1e-3)
    meta = json.loads((tmp_path / "two" / "config.json").read_text())
    assert meta["training"]["processes"] == 2 and meta["training"]["device"] == "cuda"


def _ort_cuda() -> bool:
    import onnxruntime as ort

    return "CUDAExecutionProvider" in ort.get_available_providers()


@pytest.mark.skipif(
    not (_ort_cuda() and torch.cuda.is_available()),
    reason="needs onnxruntime-gpu (CUDAExecutionProvider) and a CUDA GPU",
)
def test_onnx_parity_on_the_cuda_provider(invoke: Any, tmp_path: Path) -> None:
    result = invoke("export", "lstm", "--onnx", "--ort-provider", "cuda",
                    "--out", str(tmp_path), "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["passed"] and summary["ort_provider"] == "cuda"
    verified = invoke("verify", str(tmp_path / "lstm.onnx"), "--ort-provider", "cuda")
    assert verified.exit_code == 0, verified.output


@pytest.mark.skipif(_ort_cuda(), reason="tests the message for a CPU-only onnxruntime")
def test_ort_cuda_without_onnxruntime_gpu_is_a_clear_error(invoke: Any, tmp_path: Path) -> None:
    result = invoke("export", "lstm", "--onnx", "--ort-provider", "cuda", "--out", str(tmp_path))
    assert result.exit_code == 1
    assert "--ort-provider cuda: onnxruntime " in result.output
    assert "has no CUDAExecutionProvider" in result.output
    assert "Install onnxruntime-gpu in place of onnxruntime" in result.output
    assert not list(tmp_path.iterdir()), "fails before exporting anything"
