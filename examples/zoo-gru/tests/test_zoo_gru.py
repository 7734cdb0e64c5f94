"""zoo-gru's own tests, written with zoo's test kit: one line per architecture."""

from __future__ import annotations

from pathlib import Path

import onnx

import zoo
from zoo.testing import check_architecture


def test_gru_follows_the_contract_and_exports_with_parity(tmp_path: Path) -> None:
    check_architecture("gru", out_dir=tmp_path)
    check_architecture("gru", {"num_layers": 2, "hidden_size": 8})


def test_onnx_has_native_gru_nodes_with_linear_before_reset(tmp_path: Path) -> None:
    check_architecture("gru", {"num_layers": 2}, exporters=["onnx"], out_dir=tmp_path)
    model = onnx.load(str(tmp_path / "gru.onnx"))
    grus = [n for n in model.graph.node if n.op_type == "GRU"]
    assert len(grus) == 2
    for node in grus:
        attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        assert attributes["linear_before_reset"] == 1
    x = model.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param for d in x[:2]] == ["batch", "seq"]


def test_plugin_registers_its_models_and_exporter() -> None:
    plugins = zoo.load_plugins()
    assert plugins.architectures["gru"].plugin == "gru"
    assert plugins.exporters["onnx-ort"].plugin == "gru"
    assert plugins.infos["gru"].distribution == "zoo-gru"


def test_gru_trains_and_its_checkpoint_exports_with_parity(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from zoo.cli import create_cli

    cli = create_cli(zoo.load_plugins())
    run = CliRunner().invoke(
        cli,
        [
            "train",
            "gru",
            "--data",
            "sine",
            "--epochs",
            "1",
            "--samples",
            "64",
            "--out",
            str(tmp_path / "run"),
        ],
    )
    assert run.exit_code == 0, run.output
    exported = CliRunner().invoke(
        cli,
        ["export", "--checkpoint", str(tmp_path / "run"), "--all", "--out", str(tmp_path / "x")],
    )
    assert exported.exit_code == 0, exported.output
