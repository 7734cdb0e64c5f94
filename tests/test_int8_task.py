"""int8 on a trained checkpoint: judged by the task metric against fp32, and the report says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

TINY = ("--samples", "64", "--seq-len", "12", "--batch-size", "16", "--epochs", "2")


@pytest.mark.parametrize(("data", "metric"), [("sine", "mse"), ("freq", "accuracy")])
def test_int8_checkpoint_is_judged_by_its_task_metric(
    invoke: Any, tmp_path: Path, data: str, metric: str
) -> None:
    run = tmp_path / "run"
    assert invoke("train", "lstm", "--data", data, *TINY, "--out", str(run)).exit_code == 0
    result = invoke(
        "export", "--checkpoint", str(run), "--format", "onnx-int8", "--out", str(tmp_path / "x")
    )
    assert result.exit_code == 0, result.output
    assert f"{metric} (task)" in result.output
    report = json.loads((tmp_path / "x" / "run-trained.int8.onnx.parity.json").read_text())
    parity = report["artifacts"][0]["parity"]
    numbers = parity["info"]["task_metric"]
    assert numbers["metric"] == metric and "fp32" in numbers["rule"]
    task_rows = [c for c in parity["checks"] if c["output"] == f"{metric} (task)"]
    assert len(task_rows) == 1 and task_rows[0]["passed"] and not task_rows[0]["advisory"]
    assert all(c["advisory"] for c in parity["checks"] if c["output"] != f"{metric} (task)")


def test_a_task_metric_miss_fails_the_export(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    assert invoke("train", "lstm", "--data", "sine", *TINY, "--out", str(run)).exit_code == 0
    monkeypatch.setattr("zoo.parity._task_metric.MSE_RATIO", 0.5)  # demand int8 halve fp32's error
    result = invoke(
        "export", "--checkpoint", str(run), "--format", "onnx-int8", "--out", str(tmp_path / "x")
    )
    assert result.exit_code == 1
    assert "output 'mse (task)'" in result.output and "allowed x0.5" in result.output
    assert not (tmp_path / "x" / "run-trained.int8.onnx").exists()


def test_random_weights_keep_the_elementwise_verdict(invoke: Any, tmp_path: Path) -> None:
    result = invoke("export", "lstm", "--format", "onnx-int8", "--out", str(tmp_path))
    assert result.exit_code == 0
    parity = json.loads((tmp_path / "lstm.int8.onnx.parity.json").read_text())["artifacts"][0][
        "parity"
    ]
    assert parity["info"]["task_metric"].startswith("no trained checkpoint")
    assert not any(c["advisory"] for c in parity["checks"])


def test_predict_with_the_exported_onnx_model(invoke: Any, tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert invoke("train", "lstm", "--data", "sine", *TINY, "--out", str(run)).exit_code == 0
    assert (
        invoke("export", "--checkpoint", str(run), "--onnx", "--out", str(tmp_path)).exit_code == 0
    )
    eager = json.loads(
        invoke("predict", "--checkpoint", str(run), "--data", "sine", "--json").output
    )
    result = invoke(
        "predict", "--checkpoint", str(run), "--data", "sine", "--json",
        "--runtime", "onnx", "--artifact", str(tmp_path / "run-trained.onnx"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    onnx_rows = json.loads(result.output)
    assert [r["row"] for r in onnx_rows] == [r["row"] for r in eager]
    for a, b in zip(onnx_rows, eager, strict=True):
        assert abs(a["prediction"] - b["prediction"]) < 1e-4 and a["truth"] == b["truth"]
    other = tmp_path / "other"
    assert invoke("export", "lstm", "--onnx", "--out", str(other)).exit_code == 0
    refused = invoke(
        "predict", "--checkpoint", str(run), "--data", "sine",
        "--runtime", "onnx", "--artifact", str(other / "lstm.onnx"),
    )  # fmt: skip
    assert refused.exit_code == 1 and "was not exported from" in refused.output
    alone = invoke("predict", "--checkpoint", str(run), "--data", "sine", "--runtime", "onnx")
    assert alone.exit_code == 2 and "give --artifact FILE" in alone.output
