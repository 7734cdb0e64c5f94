"""The self-checking bundle (zoo.export._bundle) and its torch-free replay (`zoo verify`).

Every attack edits the artifact AND rewrites the manifest's sha256 to match, as an attacker
(or a broken build step) would: the replay of the recorded outputs must catch it, not the
digest alone.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bundle_support import copy_artifact, edit_artifact, scale_recurrent_weight
from click.testing import CliRunner

from zoo._fs import sha256_file
from zoo.cli import create_cli
from zoo.export._bundle import MANIFEST, bundle_dir

SMALL = ("--set", "hidden_size=8")


@pytest.fixture(scope="module")
def exported(cli: Callable[..., Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """lstm.onnx (+ lstm.test_data/) and, under lengths/, the same with --lengths."""
    out = tmp_path_factory.mktemp("bundle")
    for extra in ((), ("--lengths",)):
        where = out / ("lengths" if extra else "plain")
        result = cli("export", "lstm", "--onnx", *SMALL, *extra, "--out", str(where))
        assert result.exit_code == 0, result.output
    return out


def _replay(cli: Callable[..., Any], artifact: Path, *args: str) -> Any:
    return cli("verify", str(artifact), "--runtime", "onnxruntime", *args)


def test_export_writes_the_bundle_beside_the_artifact(exported: Path) -> None:
    import onnx
    from onnx import numpy_helper

    artifact = exported / "plain" / "lstm.onnx"
    folder = bundle_dir(artifact)
    assert folder.name == "lstm.test_data"
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["artifact_sha256"] == sha256_file(artifact)
    singles = [s for s in manifest["sets"] if s["calls"] == 0]
    streams = [s for s in manifest["sets"] if s["calls"] > 0]
    assert len(singles) == 5 and [s["calls"] for s in streams] == [3]
    assert any("+states" in s["case"] for s in singles)
    assert any("+states" not in s["case"] for s in singles)
    tensor = onnx.TensorProto()
    tensor.ParseFromString((folder / "test_data_set_0" / "input_0.pb").read_bytes())
    assert tensor.name == "x" and numpy_helper.to_array(tensor).shape == (1, 1, 10)
    # a stream's later calls record the states the previous call returned
    call1 = onnx.TensorProto()
    call1.ParseFromString((folder / "test_data_stream_0/call_1/input_1.pb").read_bytes())
    out0 = onnx.TensorProto()
    out0.ParseFromString((folder / "test_data_stream_0/call_0/output_2.pb").read_bytes())
    assert (call1.name, out0.name) == ("h0", "h_n")
    assert (numpy_helper.to_array(call1) == numpy_helper.to_array(out0)).all()
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]
    io = json.loads({p.key: p.value for p in onnx.load(str(artifact)).metadata_props}["zoo.io"])
    assert io["state_map"] == {"h_n": "h0", "c_n": "c0"} and io["sequence_axis"] == 1


def test_lengths_export_records_lengths_cases(exported: Path) -> None:
    manifest = json.loads((bundle_dir(exported / "lengths" / "lstm.onnx") / MANIFEST).read_text())
    assert all("lengths=[" in s["case"] for s in manifest["sets"])
    assert not [s for s in manifest["sets"] if s["calls"]]  # no streaming with lengths


@pytest.mark.parametrize("kind", ["plain", "lengths"])
def test_replay_passes_on_a_fresh_export(
    cli: Callable[..., Any], exported: Path, kind: str
) -> None:
    result = _replay(cli, exported / kind / "lstm.onnx")
    assert result.exit_code == 0, result.output
    assert "onnxruntime" in result.output and "FAIL" not in result.output
    if kind == "plain":
        assert "c_n (stream)" in result.output


def test_verify_with_torch_also_replays_the_bundle(cli: Callable[..., Any], exported: Path) -> None:
    result = cli("verify", str(exported / "plain" / "lstm.onnx"), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["exporter"] == "onnx" and data["passed"]
    assert data["bundle"]["onnxruntime"]["passed"]


@pytest.mark.parametrize("initializer", ["rnn.W_l0", "head.bias"])
def test_replay_fails_on_a_tampered_weight(
    cli: Callable[..., Any], exported: Path, tmp_path: Path, initializer: str
) -> None:
    from onnx import numpy_helper

    artifact = copy_artifact(exported, tmp_path)

    def bump(model: Any) -> None:
        tensor = next(t for t in model.graph.initializer if t.name == initializer)
        value = numpy_helper.to_array(tensor).copy()
        value.flat[0] += 0.05
        tensor.CopyFrom(numpy_helper.from_array(value, initializer))

    edit_artifact(artifact, bump)
    result = _replay(cli, artifact)
    assert result.exit_code == 1
    assert "FAIL" in result.output and "elements outside atol" in result.output


def test_replay_fails_on_swapped_state_wiring(
    cli: Callable[..., Any], exported: Path, tmp_path: Path
) -> None:
    """A contract that says h_n feeds c0 (and c_n h0): every single call still passes, so
    only carrying the states through the contract's own map, as a consumer does, catches it."""
    artifact = copy_artifact(exported, tmp_path)

    def swap(model: Any) -> None:
        prop = next(p for p in model.metadata_props if p.key == "zoo.io")
        io = json.loads(prop.value)
        io["state_map"] = {"h_n": "c0", "c_n": "h0"}
        prop.value = json.dumps(io)

    edit_artifact(artifact, swap)
    result = _replay(cli, artifact, "--json")
    assert result.exit_code == 1
    rows = json.loads(result.stdout)["bundle"]["onnxruntime"]["rows"]
    failed = {r["output"] for r in rows if not r["passed"]}
    assert failed and all(name.endswith("(stream)") for name in failed)


def test_replay_fails_on_a_dropped_state_output(
    cli: Callable[..., Any], exported: Path, tmp_path: Path
) -> None:
    artifact = copy_artifact(exported, tmp_path)

    def drop(model: Any) -> None:
        kept = [o for o in model.graph.output if o.name != "c_n"]
        del model.graph.output[:]
        model.graph.output.extend(kept)

    edit_artifact(artifact, drop)
    result = _replay(cli, artifact)
    assert result.exit_code == 1
    assert "output missing" in result.output


def test_a_bundle_for_another_file_is_refused(
    cli: Callable[..., Any], exported: Path, tmp_path: Path
) -> None:
    artifact = copy_artifact(exported, tmp_path)
    shutil.copy(exported / "lengths" / "lstm.onnx", artifact)  # same name, other file
    result = _replay(cli, artifact)
    assert result.exit_code == 1 and "belongs to another file" in result.output


def test_edited_test_data_is_refused(
    cli: Callable[..., Any], exported: Path, tmp_path: Path
) -> None:
    artifact = copy_artifact(exported, tmp_path)
    victim = bundle_dir(artifact) / "test_data_set_2" / "output_0.pb"
    data = bytearray(victim.read_bytes())
    data[-1] ^= 1
    victim.write_bytes(bytes(data))
    result = _replay(cli, artifact)
    assert result.exit_code == 1 and "sha256 differs from the manifest" in result.output


def test_a_failed_export_leaves_no_bundle(cli: Callable[..., Any], tmp_path: Path) -> None:
    result = cli("export", "lstm", "--onnx", *SMALL, "--atol", "1e-30", "--rtol", "1e-30",
                 "--out", str(tmp_path))  # fmt: skip
    assert result.exit_code == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lstm.onnx.parity.json"]


BLOCK_TORCH = """
import sys
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is blocked in this test")
        return None
sys.meta_path.insert(0, Blocker())
from zoo.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
else:
    code = 0
assert not [m for m in sys.modules if m == "torch" or m.startswith("torch.")], "torch imported"
sys.exit(code)
"""


def _blocked(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCK_TORCH, *args], capture_output=True, text=True, timeout=300
    )


def test_verify_replays_without_torch(exported: Path, tmp_path: Path) -> None:
    """`zoo verify` with torch unimportable: the bundle alone, the same table, no torch."""
    artifact = exported / "plain" / "lstm.onnx"
    done = _blocked("verify", str(artifact))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "torch is not installed here" in done.stderr
    assert "c_n (stream)" in done.stdout and "MAX ABS" in done.stdout
    done = _blocked("verify", str(artifact), "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["bundle"]["onnxruntime"]["passed"]
    damaged = copy_artifact(exported, tmp_path)
    edit_artifact(damaged, scale_recurrent_weight)
    done = _blocked("verify", str(damaged))
    assert done.returncode == 1 and "FAIL" in done.stdout, done.stdout + done.stderr


def test_an_int8_export_has_a_bundle_too(cli: Callable[..., Any], tmp_path: Path) -> None:
    result = cli("export", "lstm", "--format", "onnx-int8", *SMALL, "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "lstm.int8.test_data" / MANIFEST).is_file()
    result = _replay(cli, tmp_path / "lstm.int8.onnx")
    assert result.exit_code == 0, result.output


@pytest.mark.slow
def test_verify_in_a_fresh_venv_without_torch(exported: Path, tmp_path: Path) -> None:
    """The real thing: a venv without system site packages, zoo installed without its
    dependencies, only onnxruntime, onnx, numpy, click, pluggy, safetensors and rich (about 35 s
    here, from a local package index). Skipped where pip cannot install them."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    deps = ["onnxruntime", "onnx", "numpy", "click", "pluggy", "safetensors", "rich"]
    if subprocess.run([*pip, *deps], capture_output=True, timeout=600).returncode != 0:
        pytest.skip("pip cannot install onnxruntime, onnx, numpy, ... here (no index?)")
    root = Path(__file__).resolve().parents[1]
    subprocess.run([*pip, "--no-deps", "-e", str(root)], check=True, timeout=300)
    python = str(venv / "bin" / "python")
    torch = subprocess.run([python, "-c", "import torch"], capture_output=True)
    assert torch.returncode != 0  # really without torch
    zoo_cli = [python, "-m", "zoo", "verify", str(exported / "plain" / "lstm.onnx")]
    done = subprocess.run(zoo_cli, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "c_n (stream)" in done.stdout and "torch is not installed" in done.stderr
    damaged = copy_artifact(exported, tmp_path)
    edit_artifact(damaged, scale_recurrent_weight)
    zoo_cli[-1] = str(damaged)
    done = subprocess.run(zoo_cli, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 1 and "FAIL" in done.stdout


def test_a_missing_plugin_names_the_replay(
    make_plugins: Callable[..., Any], tmp_path: Path
) -> None:
    """With torch but without the model's plugin: the error names the plugin and the
    replay, which then passes without it."""
    plugins = make_plugins(third_party=True)
    if "gru" not in plugins.architectures:
        pytest.skip("needs the example plugin zoo-gru (CI installs it)")
    runner = CliRunner()
    result = runner.invoke(create_cli(plugins), ["export", "gru", "--onnx", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    without = create_cli(make_plugins())
    result = runner.invoke(without, ["verify", str(tmp_path / "gru.onnx")])
    assert result.exit_code == 1 and "--runtime onnxruntime" in result.output
    result = runner.invoke(
        without, ["verify", str(tmp_path / "gru.onnx"), "--runtime", "onnxruntime"]
    )
    assert result.exit_code == 0, result.output


def test_a_task_judged_int8_bundle_needs_the_task_metric(
    invoke: Callable[..., Any], trained: Path, tmp_path: Path
) -> None:
    """int8 of a trained checkpoint is judged by its task metric at export: the replay alone
    cannot judge it (a failing 'task metric' row), the full proof beside it can."""
    out = tmp_path / "x"
    result = invoke(
        "export", "--checkpoint", str(trained), "--format", "onnx-int8", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    artifact = next(out.glob("*.int8.onnx"))
    manifest = json.loads((bundle_dir(artifact) / MANIFEST).read_text())
    assert manifest["elementwise_decides"] is False
    alone = invoke("verify", str(artifact), "--runtime", "onnxruntime")
    assert alone.exit_code == 1 and "needs torch and the checkpoint's data" in alone.output
    accepted = invoke("verify", str(artifact), "--runtime", "onnxruntime", "--accept-elementwise")
    assert "needs torch" not in accepted.output
    full = invoke("verify", str(artifact), "--json")
    assert full.exit_code == 0, full.output
    data = json.loads(full.stdout)
    assert data["bundle"]["onnxruntime"]["passed"]
    assert data["bundle"]["onnxruntime"]["info"]["task_metric"].startswith("judged by the full")


def test_a_manifest_pointing_outside_its_folder_is_refused(
    cli: Callable[..., Any], exported: Path, tmp_path: Path
) -> None:
    artifact = copy_artifact(exported, tmp_path)
    path = bundle_dir(artifact) / MANIFEST
    manifest = json.loads(path.read_text())
    outside = tmp_path / "elsewhere"
    shutil.copytree(bundle_dir(artifact) / "test_data_set_0", outside)
    manifest["sets"][0]["dir"] = str(outside)
    manifest["files"] = {
        f"{outside}/{p.name}": sha256_file(p) for p in outside.iterdir()
    } | manifest["files"]
    path.write_text(json.dumps(manifest))
    result = _replay(cli, artifact)
    assert result.exit_code == 1 and "not a file inside the bundle" in result.output
