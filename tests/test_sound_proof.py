"""The proof cannot be fooled: what a careless or hostile artifact, checkpoint or registry
entry tried on main, each refused now (issue #14, "Proof that can be fooled")."""

from __future__ import annotations

import json
import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import zoo
from zoo._manager import Plugins
from zoo.catalog._session import App
from zoo.catalog._source import from_name
from zoo.export._pipeline import export_model


class _HalfStates:
    """An exporter plugin: zoo's ONNX file, but its runner hands back the states as float16
    (values within tolerance once widened to float64, so only a dtype check catches it)."""

    @zoo.hookimpl
    def register_exporters(self, register: Callable[[zoo.Exporter], None]) -> None:
        from zoo.exporters import onnx as base

        def load(path: Path) -> Any:
            run = base.load(path)

            def half(feeds: dict[str, Any]) -> dict[str, Any]:
                out = run(feeds)
                return {k: v.astype(np.float16) if k.endswith("_n") else v for k, v in out.items()}

            return half

        register(
            zoo.Exporter(
                name="onnx-half",
                suffix=".half.onnx",
                export=base.export,
                load=load,
                read_metadata=base.read_metadata,
            )
        )


@pytest.mark.slow
def test_an_output_of_the_wrong_dtype_fails_parity(
    make_plugins: Callable[..., Plugins], tmp_path: Path
) -> None:
    """bilstm has no streaming case, which alone used to catch float16 states."""
    plugins = make_plugins(_HalfStates())
    source = from_name(App(plugins), "bilstm")
    summary = export_model(source, [plugins.exporter("onnx-half")], tmp_path)
    (artifact,) = summary.artifacts
    assert not artifact.passed and not (tmp_path / "bilstm.half.onnx").exists()
    assert artifact.report is not None
    failing = {c.output for c in artifact.report.failures}
    assert failing == {"h_n", "c_n"}, failing
    assert "dtype float16, the contract says float32" in artifact.report.failures[0].problem


@pytest.mark.slow
def test_verify_refuses_an_artifact_of_the_wrong_dtype(
    invoke: Any, make_plugins: Callable[..., Plugins], tmp_path: Path
) -> None:
    plugins = make_plugins(_HalfStates())
    assert invoke("export", "bilstm", "--onnx", "--out", str(tmp_path)).exit_code == 0
    half = tmp_path / "bilstm.half.onnx"
    shutil.copy(tmp_path / "bilstm.onnx", half)
    result = invoke("verify", str(half), cli_plugins=plugins)
    assert result.exit_code == 1
    assert "dtype float16, the contract says float32" in result.output


def _rescale(checkpoint: Path) -> None:
    """What a careless edit does: the target's scaling changes every prediction, the weights
    stay byte for byte the same."""
    config = checkpoint / "config.json"
    meta = json.loads(config.read_text())
    meta["data"]["scaling"]["y_mean"] = 1000.0
    config.write_text(json.dumps(meta, indent=2))


def test_a_registered_checkpoint_is_pinned_as_a_whole(
    invoke: Any, trained: Path, tmp_path: Path
) -> None:
    registry = tmp_path / "models.toml"
    args = ("register", "--checkpoint", str(trained), "--name", "tiny", "--registry", str(registry))
    assert invoke(*args).exit_code == 0
    out = tmp_path / "out"
    before = invoke("--registry", str(registry), "export", "tiny", "--onnx", "--out", str(out))
    assert before.exit_code == 0, before.output
    _rescale(trained)
    result = invoke("--registry", str(registry), "export", "tiny", "--onnx", "--out", str(out))
    assert result.exit_code == 1
    assert "checkpoint digest" in result.output and "does not match" in result.output
    predicted = invoke("--registry", str(registry), "predict", "tiny", "--data", "sine")
    assert predicted.exit_code == 1 and "does not match" in predicted.output


def test_an_exported_checkpoint_is_pinned_as_a_whole(
    invoke: Any, trained: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    exported = invoke("export", "--checkpoint", str(trained), "--onnx", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    artifact = out / "tiny-trained.onnx"
    assert invoke("verify", str(artifact)).exit_code == 0
    _rescale(trained)
    result = invoke("verify", str(artifact))
    assert result.exit_code == 1
    assert "is not the one the artifact was exported from" in result.output


def test_an_entry_that_pins_only_the_weights_is_refused_with_the_way_out(
    invoke: Any, trained: Path, tmp_path: Path
) -> None:
    """What `zoo register` wrote before checkpoints were pinned as a whole."""
    import hashlib

    registry = tmp_path / "models.toml"
    args = ("register", "--checkpoint", str(trained), "--name", "tiny", "--registry", str(registry))
    assert invoke(*args).exit_code == 0
    weights = hashlib.sha256((trained / "model.safetensors").read_bytes()).hexdigest()
    text = registry.read_text()
    entry = tomllib.loads(text)["models"]["tiny"]
    registry.write_text(text.replace(entry["sha256"], weights))
    result = invoke("--registry", str(registry), "export", "tiny", "--onnx", "--out", str(tmp_path))
    assert result.exit_code == 1
    assert "pins the weights alone" in result.output and "zoo register" in result.output


def _write_series(path: Path, phase: float) -> None:
    rows = ["value,other"] + [
        f"{np.sin(0.3 * i + phase):.6f},{np.cos(0.2 * i):.6f}" for i in range(120)
    ]
    path.write_text("\n".join(rows) + "\n")


@pytest.fixture
def csv_run(invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkpoint trained on `data.csv` in folder `train/` (recorded by that name)."""
    folder = tmp_path / "train"
    folder.mkdir()
    _write_series(folder / "data.csv", 0.0)
    monkeypatch.chdir(folder)
    args = ("--data", "data.csv", "--target", "value", "--window", "8", "--epochs", "2")
    result = invoke("train", "lstm", *args, "--set", "hidden_size=8", "--out", "run")
    assert result.exit_code == 0, result.output
    return folder / "run"


def _int8(invoke: Any, run: Path, out: Path, *extra: str) -> Any:
    return invoke("export", "--checkpoint", str(run), "--format", "onnx-int8", "--out", str(out),
                  *extra)  # fmt: skip


@pytest.mark.slow
def test_int8_is_judged_on_held_out_windows_of_the_training_file(
    invoke: Any, csv_run: Path, tmp_path: Path
) -> None:
    result = _int8(invoke, csv_run, tmp_path / "x")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "x" / "run-trained.int8.onnx.parity.json").read_text())
    (task,) = [c for c in report["artifacts"][0]["parity"]["checks"] if "(task)" in c["output"]]
    # 120 rows, window 8, horizon 1: 112 windows; zoo train validated the last 20% (22).
    assert "22 held-out sequences" in task["case"], task["case"]


@pytest.mark.slow
def test_int8_refuses_another_file_of_the_training_files_name(
    invoke: Any, csv_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    _write_series(elsewhere / "data.csv", 1.5)  # same name and columns, other numbers
    monkeypatch.chdir(elsewhere)
    result = _int8(invoke, csv_run, tmp_path / "x")
    assert result.exit_code == 1
    assert "is not the training CSV" in result.output and "--data FILE" in result.output
    assert not (tmp_path / "x" / "run-trained.int8.onnx").exists()
    _int8(invoke, csv_run, tmp_path / "x", "--data", "data.csv")  # the user's explicit choice
    report = json.loads((tmp_path / "x" / "run-trained.int8.onnx.parity.json").read_text())
    cases = [c["case"] for c in report["artifacts"][0]["parity"]["checks"]]
    assert any("112 sequences of data.csv" in c for c in cases), cases  # every window


@pytest.mark.slow
def test_int8_without_its_data_fails_unless_the_fallback_is_accepted(
    invoke: Any, csv_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no data.csv here
    result = _int8(invoke, csv_run, tmp_path / "x")
    assert result.exit_code == 1
    assert "task metric cannot be computed" in result.output  # on the console, not only JSON
    assert not (tmp_path / "x" / "run-trained.int8.onnx").exists()
    accepted = _int8(invoke, csv_run, tmp_path / "x", "--accept-elementwise")
    assert accepted.exit_code == 0, accepted.output
    assert "judged by its elementwise tolerance, as --accept-elementwise asks" in accepted.output


def test_verify_names_the_missing_architecture_and_plugin(
    invoke: Any, make_plugins: Callable[..., Plugins], tmp_path: Path
) -> None:
    plugins = make_plugins(third_party=True)
    if "gru" not in plugins.architectures:
        pytest.skip("needs the example plugin zoo-gru (CI installs it)")
    assert invoke("export", "gru", "--onnx", "--out", str(tmp_path)).exit_code == 0
    result = invoke("verify", str(tmp_path / "gru.onnx"), cli_plugins=make_plugins())
    assert result.exit_code == 1
    assert "architecture 'gru' of plugin 'gru'" in result.output
    assert "not installed" in result.output and "no zoo metadata" not in result.output


def test_predict_refuses_an_artifact_that_copied_the_checkpoints_metadata(
    invoke: Any, trained: Path, tmp_path: Path
) -> None:
    import onnx

    genuine, fake = tmp_path / "genuine", tmp_path / "fake"
    exported = invoke("export", "--checkpoint", str(trained), "--onnx", "--out", str(genuine))
    assert exported.exit_code == 0, exported.output
    args = ("--set", "input_size=1", "--set", "hidden_size=4", "--seed", "3")
    assert invoke("export", "lstm", "--onnx", "--out", str(fake), *args).exit_code == 0
    claims = {p.key: p.value for p in onnx.load(str(genuine / "tiny-trained.onnx")).metadata_props}
    model = onnx.load(str(fake / "lstm.onnx"))
    for prop in model.metadata_props:  # every claim of the genuine file, copied
        if prop.key in claims:
            prop.value = claims[prop.key]
    onnx.save(model, str(fake / "lstm.onnx"))
    predict = ("predict", "--checkpoint", str(trained), "--data", "sine", "--runtime", "onnx")
    assert invoke(*predict, "--artifact", str(genuine / "tiny-trained.onnx")).exit_code == 0
    result = invoke(*predict, "--artifact", str(fake / "lstm.onnx"))
    assert result.exit_code == 1
    assert "does not compute what it computes" in result.output


class _Nudge:
    """An exporter plugin: zoo's ONNX file, its runner's `y` off by 1e-7 (within atol)."""

    @zoo.hookimpl
    def register_exporters(self, register: Callable[[zoo.Exporter], None]) -> None:
        from zoo.exporters import onnx as base

        def load(path: Path) -> Any:
            run = base.load(path)
            return lambda feeds: {k: v + 1e-7 if k == "y" else v for k, v in run(feeds).items()}

        register(zoo.Exporter(name="onnx-nudge", suffix=".nudge.onnx", export=base.export,
                              load=load, read_metadata=base.read_metadata))  # fmt: skip


def test_the_parity_report_is_strict_json_when_values_are_not_finite(
    make_plugins: Callable[..., Plugins], tmp_path: Path
) -> None:
    """A model whose `y` is exactly 0 (zero weights): an artifact 1e-7 off passes atol, and
    its relative difference is infinite; the report must still be JSON that jq reads."""
    import torch

    plugins = make_plugins(_Nudge())
    source = from_name(App(plugins), "rnn")
    with torch.no_grad():
        for parameter in source.module.parameters():
            parameter.zero_()
    summary = export_model(source, [plugins.exporter("onnx-nudge")], tmp_path)
    assert summary.passed
    text = (tmp_path / "rnn.nudge.onnx.parity.json").read_text()
    data = json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in the report"))
    assert data["non_finite"]  # the infinite max_rel, said as a note


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("zoo.config", "{not json", "metadata 'zoo.config' is not valid JSON"),
        ("zoo.weights", '{"kind": "random"}', "metadata 'zoo.weights': Malformed weights"),
        ("zoo.io", '{"inputs": {}}', "metadata 'zoo.io' lacks input_names/output_names"),
    ],
)
def test_verify_names_malformed_metadata_in_one_line(
    invoke: Any, tmp_path: Path, key: str, value: str, message: str
) -> None:
    import onnx

    assert invoke("export", "rnn", "--onnx", "--out", str(tmp_path)).exit_code == 0
    path = tmp_path / "rnn.onnx"
    model = onnx.load(str(path))
    for prop in model.metadata_props:
        if prop.key == key:
            prop.value = value
    onnx.save(model, str(path))
    result = invoke("verify", str(path))
    assert result.exit_code == 1 and message in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
