"""Export and parity: every architecture x every exporter x 1 and 2 layers, and the ways a
broken export must fail."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

import zoo
from zoo.catalog._session import App
from zoo.catalog._source import SourceModel, from_name, seeded
from zoo.checkpoint._format import save_checkpoint
from zoo.export._bundle import read_bundle
from zoo.export._pipeline import export_model
from zoo.parity._inputs import make_inputs

EXPORTERS = sorted(zoo.load_plugins().exporters)
RECURRENT_OPS = {"RNN", "LSTM", "GRU"}


def _source(plugins: zoo.Plugins, name: str, layers: int) -> SourceModel:
    return from_name(App(plugins), name, {"num_layers": layers} if layers > 1 else None)


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("exporter", EXPORTERS)
def test_export_passes_parity(
    plugins: zoo.Plugins, arch: zoo.Architecture, exporter: str, layers: int, tmp_path: Path
) -> None:
    source = _source(plugins, arch.name, layers)
    summary = export_model(source, [plugins.exporter(exporter)], tmp_path)
    (result,) = summary.artifacts
    assert result.passed, result.to_dict()
    assert result.path.is_file()
    report = result.report
    assert report is not None
    checked = {(c.case, c.output) for c in report.checks}
    outputs = set(source.contract.output_names)
    assert {o for _, o in checked} == outputs
    cases = {c for c, _ in checked}
    assert any("seq=1 " in c + " " for c in cases) and any("seq=512" in c for c in cases)
    assert any("batch=1 " in c for c in cases) and any("+states" in c for c in cases)
    assert any(c.startswith("stream") for c in cases) == (not source.contract.bidirectional)
    assert "seq=7 " not in " ".join(cases)  # never the traced shape
    written = json.loads((tmp_path / f"{result.path.name}.parity.json").read_text())
    assert written["passed"] and written["artifacts"][0]["parity"]["rows"]
    if exporter == "onnx":
        _check_onnx_file(result.path, source, layers)


def _check_onnx_file(path: Path, source: SourceModel, layers: int) -> None:
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    ops = [n.op_type for n in model.graph.node]
    import zoo.nn

    if any(isinstance(m, zoo.nn.Scan) for m in source.module.modules()):  # hand-written cells
        assert ops.count("Scan") == layers and "Loop" not in ops
    else:  # one native node per layer, no loop over time
        assert sum(op in RECURRENT_OPS for op in ops) == layers
        assert not {"Loop", "Scan"} & set(ops)
    assert not path.with_name(path.name + ".data").exists()  # single self-contained file
    contract = source.contract
    for value, spec in zip(
        [*model.graph.input, *model.graph.output],
        [*contract.inputs, *contract.outputs],
        strict=True,
    ):
        dims = tuple(d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim)
        assert (value.name, dims) == (spec.name, spec.shape)
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["zoo.architecture"] == source.arch.name
    assert json.loads(meta["zoo.config"]) == source.config
    assert json.loads(meta["zoo.io"])["input_names"] == list(contract.input_names)
    assert meta["zoo.exporter"] == "onnx:dynamo"
    assert json.loads(meta["zoo.parity"])["passed"] is True
    assert meta["torch.version"] == torch.__version__ and meta["onnx.version"] == onnx.__version__
    # A plain onnxruntime session runs shapes never traced.
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for batch, seq in ((5, 3), (1, 1000)):
        feeds = make_inputs(contract, batch, seq, states=True)
        outs = dict(zip(contract.output_names, session.run(None, feeds), strict=True))
        for spec in contract.outputs:
            assert outs[spec.name].shape == spec.concrete(batch=batch, seq=seq)


@pytest.mark.parametrize("name", ["rnn", "lstm", "bilstm"])
def test_legacy_onnx_route(plugins: zoo.Plugins, name: str, tmp_path: Path) -> None:
    source = _source(plugins, name, 2)
    summary = export_model(source, [plugins.exporter("onnx")], tmp_path, legacy=True, opset=17)
    (result,) = summary.artifacts
    assert result.passed, result.to_dict()
    model = onnx.load(str(result.path))
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["zoo.exporter"] == "onnx:legacy"
    assert sum(n.op_type in RECURRENT_OPS for n in model.graph.node) == 2


def test_int8_export_has_dynamic_quantized_lstm_nodes(plugins: zoo.Plugins, tmp_path: Path) -> None:
    source = _source(plugins, "lstm", 2)
    (result,) = export_model(source, [plugins.exporter("onnx-int8")], tmp_path).artifacts
    assert result.passed and result.report is not None
    ops = [n.op_type for n in onnx.load(str(result.path)).graph.node]
    assert ops.count("DynamicQuantizeLSTM") == 2 and "LSTM" not in ops
    assert result.report.atol == 0.02
    assert result.report.info["quantized_nodes"]["DynamicQuantizeLSTM"] == 2


@pytest.mark.parametrize("opset", [17, 23])
def test_opsets_at_both_ends(plugins: zoo.Plugins, opset: int, tmp_path: Path) -> None:
    summary = export_model(
        _source(plugins, "lstm", 1), [plugins.exporter("onnx")], tmp_path, opset=opset
    )
    assert summary.passed
    model = onnx.load(str(summary.artifacts[0].path))
    assert {o.domain: o.version for o in model.opset_import}[""] == opset


RELOAD = """
import json, sys
import numpy as np
import zoo
plugins = zoo.load_plugins()
name, path, npz = sys.argv[1:4]
runner = plugins.exporter(name).load(path)
feeds = dict(np.load(npz))
print(json.dumps({k: v.tolist() for k, v in runner(feeds).items()}))
"""


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_artifacts_reload_in_a_fresh_process(
    plugins: zoo.Plugins, exporter: str, tmp_path: Path
) -> None:
    source = _source(plugins, "lstm", 2)
    (result,) = export_model(source, [plugins.exporter(exporter)], tmp_path).artifacts
    feeds = make_inputs(source.contract, 3, 21, states=True, seed=5)
    np.savez(tmp_path / "feeds.npz", **feeds)
    out = subprocess.run(
        [sys.executable, "-c", RELOAD, exporter, str(result.path), str(tmp_path / "feeds.npz")],
        check=True,
        capture_output=True,
        text=True,
    )
    got = json.loads(out.stdout)
    with torch.no_grad():
        expected = source.module(*(torch.from_numpy(feeds[n]) for n in source.contract.input_names))
    spec = plugins.exporter(exporter)
    for name, tensor in zip(source.contract.output_names, expected, strict=True):
        np.testing.assert_allclose(
            np.array(got[name]), tensor.numpy(), atol=spec.atol, rtol=spec.rtol
        )


def _broken_onnx_plugin(plugins: zoo.Plugins) -> object:
    onnx_exporter = plugins.exporter("onnx")

    def export(job: zoo.ExportJob) -> dict[str, Any]:
        info = onnx_exporter.export(job)
        model = onnx.load(str(job.path))
        for init in model.graph.initializer:
            if init.name.endswith("R_l0"):
                array = onnx.numpy_helper.to_array(init).copy()
                array[0, 0, 0] += 0.05
                init.CopyFrom(onnx.numpy_helper.from_array(array, init.name))
        onnx.save(model, str(job.path))
        return info

    class Broken:
        @zoo.hookimpl
        def register_exporters(self, register: Any) -> None:
            register(
                zoo.Exporter(
                    name="broken-onnx",
                    suffix=".broken.onnx",
                    export=export,
                    load=onnx_exporter.load,
                    read_metadata=onnx_exporter.read_metadata,
                )
            )

    return Broken()


def test_broken_export_fails_parity_names_the_output_and_is_not_written(
    make_plugins: Any, plugins: zoo.Plugins, invoke: Any, tmp_path: Path
) -> None:
    broken = make_plugins(_broken_onnx_plugin(plugins))
    result = invoke(
        "export", "lstm", "--format", "broken-onnx", "--out", str(tmp_path), cli_plugins=broken
    )
    assert result.exit_code == 1
    assert "Error: Export failed; nothing failing was written." in result.output
    assert "first: output 'hidden'" in result.output and "FAIL" in result.output
    assert not (tmp_path / "lstm.broken.onnx").exists()
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name]
    report = json.loads((tmp_path / "lstm.broken.onnx.parity.json").read_text())
    assert report["passed"] is False and report["artifacts"][0]["installed"] is False


def test_verify_passes_then_fails_on_a_tampered_artifact(invoke: Any, tmp_path: Path) -> None:
    assert invoke("export", "rnn", "--onnx", "--out", str(tmp_path)).exit_code == 0
    path = tmp_path / "rnn.onnx"
    ok = invoke("verify", str(path))
    assert ok.exit_code == 0 and "FAIL" not in ok.output
    model = onnx.load(str(path))
    for init in model.graph.initializer:
        if init.name.endswith("W_l0"):
            array = onnx.numpy_helper.to_array(init).copy()
            array[0, 3, 2] *= 1.5
            init.CopyFrom(onnx.numpy_helper.from_array(array, init.name))
    onnx.save(model, str(path))
    bad = invoke("verify", str(path))
    assert bad.exit_code == 1
    assert "Error: Parity failed:" in bad.output and "output 'y'" in bad.output


def test_failed_export_keeps_the_previous_artifact(
    make_plugins: Any, plugins: zoo.Plugins, invoke: Any, tmp_path: Path
) -> None:
    assert invoke("export", "lstm", "--onnx", "--out", str(tmp_path)).exit_code == 0
    path = tmp_path / "lstm.onnx"
    before = hashlib.sha256(path.read_bytes()).hexdigest()

    class Crashes:
        @zoo.hookimpl
        def register_exporters(self, register: Any) -> None:
            def export(job: zoo.ExportJob) -> None:
                job.path.write_bytes(b"half an onnx file")
                raise RuntimeError("killed mid-write")

            onnx_exporter = plugins.exporter("onnx")
            register(
                zoo.Exporter(
                    name="crashy",
                    suffix=".onnx",
                    export=export,
                    load=onnx_exporter.load,
                    read_metadata=onnx_exporter.read_metadata,
                )
            )

    result = invoke(
        "export",
        "lstm",
        "--format",
        "crashy",
        "--out",
        str(tmp_path),
        cli_plugins=make_plugins(Crashes()),
    )
    assert (
        result.exit_code == 1
        and "crashy: export failed: RuntimeError: killed mid-write" in result.output
    )
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "lstm.onnx",
        "lstm.onnx.failed.parity.json",
        "lstm.onnx.parity.json",
        "lstm.test_data",
    ]
    read_bundle(path)  # the previous artifact keeps its own test data bundle


def test_nan_weights_fail_parity_naming_the_output(plugins: zoo.Plugins, tmp_path: Path) -> None:
    source = _source(plugins, "lstm", 1)
    with torch.no_grad():
        source.module.head.bias.fill_(float("nan"))
    (result,) = export_model(source, [plugins.exporter("onnx")], tmp_path).artifacts
    assert not result.passed
    assert result.report is not None
    failing = {c.output for c in result.report.failures}
    assert failing == {"y"}
    assert all("NaN/inf" in c.problem for c in result.report.failures)


def test_export_a_checkpoint_and_verify_it(
    plugins: zoo.Plugins, invoke: Any, tmp_path: Path
) -> None:
    arch = plugins.architecture("lstm")
    config = arch.resolve({"hidden_size": 12})
    model = seeded(arch, config, seed=3)
    checkpoint = save_checkpoint(tmp_path / "run", arch, config, model)
    out = tmp_path / "out"
    args = ("export", "--checkpoint", str(tmp_path / "run"), "--all", "--out", str(out), "--json")
    refused = invoke(*args)  # onnx-int8's task metric needs the data, which this one lacks
    assert refused.exit_code == 1 and "records no training data" in refused.output
    result = invoke(*args, "--accept-elementwise")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index("{") :])
    assert summary["passed"] and summary["weights"]["digest"] == checkpoint.digest
    meta = plugins.exporter("onnx").read_metadata(out / "run-trained.onnx")
    assert meta["zoo.checkpoint_sha256"] == checkpoint.digest
    assert invoke("verify", str(out / "run-trained.pt2")).exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export"], "Give a model NAME or --checkpoint DIR"),
        (["export", "lstm", "--format", "onnnx"], "Unknown exporter 'onnnx'. Did you mean 'onnx'?"),
        (["export", "lstn"], "Unknown model 'lstn'. Did you mean 'lstm'?"),
        (["export", "lstm", "--opset", "9"], "9 is not in the range 17<=x<=23"),
        (["export", "lstm", "--atol", "0"], "0.0 is not in the range x>0"),
        (
            ["export", "lstm", "--set", "hiden_size=3"],
            "Invalid value for '--set': Unknown config key",
        ),
        (["export", "lstm", "--set", "hidden_size=0"], "must be a positive integer, got 0"),
        (["export", "lstm", "--set", "hidden_size"], "Expected key=value, got 'hidden_size'"),
        (["export", "../lstm"], "'../lstm' is a path, not a model name"),
        (["verify", "nothing.onnx"], "Artifact 'nothing.onnx' does not exist."),
    ],
)
def test_export_cli_errors(invoke: Any, args: list[str], message: str, tmp_path: Path) -> None:
    result = invoke(*args, "--out", str(tmp_path)) if args[0] == "export" else invoke(*args)
    assert result.exit_code in (1, 2)
    assert message in result.output
    assert "Traceback" not in result.output


def test_output_dir_that_is_a_file(invoke: Any, tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    result = invoke("export", "lstm", "--out", str(target))
    assert result.exit_code == 1 and "is a file" in result.output
