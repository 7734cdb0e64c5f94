"""`zoo info --checkpoint DIR` and `zoo info FILE`: what a checkpoint or an artifact holds,
read from the files zoo wrote, with nothing in them run (issue 18)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from zoo.checkpoint._format import read_checkpoint


def test_info_on_a_checkpoint_shows_config_contract_and_provenance(
    invoke: Any, trained: Path
) -> None:
    result = invoke("info", "--checkpoint", str(trained))
    assert result.exit_code == 0, result.output
    digest = read_checkpoint(trained).digest
    for text in (
        digest,
        'source "sine"',
        "epochs        1 trained",
        "hidden_size   4",
        "x       (batch, seq, 1) float32",
        "best          epoch 1",
    ):
        assert text in result.output, text
    data = json.loads(invoke("info", "--checkpoint", str(trained), "--json").output)
    assert data["digest"] == digest and data["architecture"] == "lstm"
    assert data["data"]["source"] == "sine" and data["epochs_trained"] == 1
    assert data["training"]["epochs"] == 1 and data["best"]["epoch"] == 1
    assert data["num_params"] > 0 and data["size_bytes"] > data["num_params"] * 4
    assert data["io"]["input_names"] == ["x", "h0", "c0"]


def test_info_on_an_onnx_artifact_shows_contract_provenance_and_parity(
    invoke: Any, trained: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert (
        invoke("export", "--checkpoint", str(trained), "--onnx", "--out", str(out)).exit_code == 0
    )
    artifact = out / "tiny-trained.onnx"
    result = invoke("info", str(artifact))
    assert result.exit_code == 0, result.output
    assert f"checkpoint {trained} (digest {read_checkpoint(trained).digest})" in result.output
    assert "parity        passed at atol 0.0001 rtol 0.001" in result.output
    assert f"report        {artifact}.parity.json: passed" in result.output
    data = json.loads(invoke("info", str(artifact), "--json").output)
    assert data["format"] == "onnx" and data["exporter"] == "onnx:dynamo"
    assert data["weights"]["kind"] == "checkpoint" and data["io"]["inputs"]["x"]["shape"][2] == 1
    assert data["parity"]["passed"] and data["report"]["passed"] and data["report"]["failed"] == 0
    assert data["size_bytes"] == artifact.stat().st_size


def test_info_reads_a_torchscript_file_without_loading_its_program(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (
        invoke("export", "rnn", "--torchscript", "--seed", "4", "--out", str(tmp_path)).exit_code
        == 0
    )
    import torch

    def no_load(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("zoo info loaded the program")

    monkeypatch.setattr(torch.jit, "load", no_load)
    result = invoke("info", str(tmp_path / "rnn.torchscript.pt"), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["format"] == "torchscript" and data["weights"] == {"kind": "random", "seed": 4}


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["info"], 2, "Give a model NAME, an exported FILE or --checkpoint DIR"),
        (["info", "lstm", "--checkpoint", "x"], 2, "Give a model NAME"),
        (["info", "missing.onnx"], 1, "Artifact 'missing.onnx' does not exist."),
        (["info", "--checkpoint", "nowhere"], 1, "is not a directory"),
    ],
)
def test_info_usage_and_missing_files(
    invoke: Any, args: list[str], code: int, message: str
) -> None:
    result = invoke(*args)
    assert result.exit_code == code and message in result.output, result.output


def test_info_on_a_file_zoo_did_not_export(invoke: Any, tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["a"], ["b"])], "g",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("b", TensorProto.FLOAT, [1])],
    )  # fmt: skip
    path = tmp_path / "plain.onnx"
    onnx.save(helper.make_model(graph), str(path))
    result = invoke("info", str(path))
    assert result.exit_code == 1 and "has no zoo metadata 'zoo.architecture'" in result.output
