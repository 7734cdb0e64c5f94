"""zoo-cells' own tests, written with zoo's test kit."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest

import zoo
from zoo.testing import check_architecture


@pytest.mark.slow
def test_mgu_exports_with_every_exporter_and_a_dynamic_sequence(tmp_path: Path) -> None:
    check_architecture("mgu", {"hidden_size": 8}, out_dir=tmp_path)
    model = onnx.load(str(tmp_path / "mgu.onnx"))
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("Scan") == 1 and "Loop" not in ops  # one Scan per layer, not unrolled
    x = model.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param for d in x[:2]] == ["batch", "seq"]


@pytest.mark.slow
def test_a_two_layer_mgu_exports(tmp_path: Path) -> None:
    check_architecture("mgu", {"num_layers": 2, "hidden_size": 6}, exporters=["onnx", "pt2"])


@pytest.mark.slow
def test_cnn_lstm_exports_with_every_exporter(tmp_path: Path) -> None:
    check_architecture("cnn-lstm", {"hidden_size": 8, "channels": 4}, out_dir=tmp_path)


def test_plugin_registers_architectures_without_a_registry_file() -> None:
    plugins = zoo.load_plugins()
    assert plugins.architectures["mgu"].plugin == "cells"
    assert not plugins.architectures["cnn-lstm"].streamable
    assert not [path for path, plugin in plugins.registry_files if plugin == "cells"]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mgu", "cnn-lstm"])
def test_trained_checkpoint_exports_with_every_exporter(name: str, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from zoo.cli import create_cli

    cli = create_cli(zoo.load_plugins())
    run = tmp_path / "run"
    args = ["train", name, "--data", "sine", "--epochs", "1", "--samples", "64",
            "--seq-len", "12", "--set", "hidden_size=6", "--out", str(run)]  # fmt: skip
    trained = CliRunner().invoke(cli, args)
    assert trained.exit_code == 0, trained.output
    out = tmp_path / "out"
    exported = CliRunner().invoke(
        cli, ["export", "--checkpoint", str(run), "--all", "--out", str(out)]
    )
    assert exported.exit_code == 0, exported.output
    assert {p.name for p in out.iterdir() if not p.name.endswith(".json")} == {
        "run-trained.onnx", "run-trained.int8.onnx", "run-trained.ort.onnx", "run-trained.pt2",
        "run-trained.torchscript.pt",
        "run-trained.test_data", "run-trained.int8.test_data", "run-trained.ort.test_data",
    }  # fmt: skip


def test_listed_and_exported_by_name_without_a_registry_file(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from zoo.cli import create_cli

    cli = create_cli(zoo.load_plugins())
    listed = json.loads(CliRunner().invoke(cli, ["list", "--json"]).output)
    rows = {r["name"]: r for r in listed}
    assert rows["mgu"]["plugin"] == "cells" and rows["cnn-lstm"]["num_params"] > 0
    args = ["export", "cnn-lstm", "--onnx", "--set", "hidden_size=4", "--out", str(tmp_path)]
    exported = CliRunner().invoke(cli, args)
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / "cnn-lstm.onnx").is_file()
