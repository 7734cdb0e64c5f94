"""An attack suite, on a damaged copy of a trained checkpoint or a hostile file: malformed
input and resource abuse, each answered with one line (tests/test_attack_sizes.py and
tests/test_attack_numbers.py hold the cases that need no checkpoint).

Every case drives the `zoo` command (click's runner) with a hostile or oversized input and
asserts the exit code, the one-line message (the value, the limit, the way out) and that no
traceback is printed; resource cases also assert that the answer comes at once. Large files
are sparse (no disk, no time) and limits are lowered through their environment variables,
so the suite stays within seconds and megabytes (zoo._limits lists every limit).
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from limits_support import TINY, BytesRead, GiB, fails, sparse

from zoo._manager import load_plugins
from zoo.cli import create_cli

#: `zoo train --resume` of the module's checkpoint, with the options it was trained with.
RESUME = ("train", "lstm", *TINY, "--set", "hidden_size=4", "--epochs", "2", "--resume")


@pytest.fixture(scope="module")
def sine_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny trained checkpoint for the module; tests damage copies of it."""
    run = tmp_path_factory.mktemp("attack") / "run"
    cli = create_cli(load_plugins(third_party=True))
    args = ["train", "lstm", *TINY, "--epochs", "1", "--set", "hidden_size=4", "--out", str(run)]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return run


@pytest.fixture
def run(sine_run: Path, tmp_path: Path) -> Path:
    """A copy of the trained checkpoint this test may damage."""
    return Path(shutil.copytree(sine_run, tmp_path / "run"))


def _edit(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


# --- malformed input --------------------------------------------------------------------------


def test_sha256_that_is_not_a_string_in_config_json(invoke: Any, run: Path) -> None:
    _edit(run / "config.json", lambda m: m.update(sha256=5))
    fails(
        invoke("eval", "--checkpoint", str(run), "--data", "sine"),
        "config.json: 'sha256' must be the 64-hex-digit sha256 of model.safetensors, got '5'",
        "Remove the key",
    )


@pytest.mark.parametrize("file", ["config.json", "train_state/state.json"])
def test_json_nested_100000_deep(invoke: Any, run: Path, file: str) -> None:
    (run / file).write_text("[" * 100_000 + "]" * 100_000)
    args = [*RESUME, "--out", str(run)]
    if file == "config.json":
        args = ["eval", "--checkpoint", str(run), "--data", "sine"]
    fails(invoke(*args), f"{file}: nested more than 64 levels deep", "the limit is 64")


def test_toml_nested_100000_deep(invoke: Any, tmp_path: Path) -> None:
    registry = tmp_path / "deep.toml"
    registry.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    fails(
        invoke("list", "--registry", str(registry)),
        "deep.toml: nested more than 64 levels deep",
    )


def test_registry_that_is_not_utf8(invoke: Any, tmp_path: Path) -> None:
    registry = tmp_path / "latin1.toml"
    registry.write_bytes(
        '[models.a]\narchitecture = "lstm"\ndescription = "café"\n'.encode("latin-1")
    )
    fails(
        invoke("list", "--registry", str(registry)),
        "latin1.toml: not UTF-8 text (invalid continuation byte at byte 51); TOML files are UTF-8",
    )


def test_registry_that_is_a_device_is_not_read(invoke: Any) -> None:
    fails(invoke("list", "--registry", "/dev/zero"), "/dev/zero: not a regular file")


def test_predict_on_an_onnx_artifact_of_random_bytes(invoke: Any, run: Path) -> None:
    artifact = run.parent / "random.onnx"
    artifact.write_bytes(np.random.default_rng(0).bytes(4096))
    args = ["--data", "sine", "--runtime", "onnx", "--artifact", str(artifact)]
    fails(
        invoke("predict", "--checkpoint", str(run), *args),
        "Cannot read",
        "random.onnx' as onnx: DecodeError",
        "Export it again with `zoo export`",
    )


@pytest.mark.parametrize("location", ["missing.bin", "../../../../../etc/passwd"])
def test_predict_on_an_onnx_artifact_whose_external_data_onnxruntime_refuses(
    invoke: Any, run: Path, location: str
) -> None:
    """zoo's metadata for this very checkpoint, but weights in a file that is missing or
    outside the artifact's folder: onnxruntime refuses the session, zoo says so in a line."""
    import onnx
    from onnx import TensorProto, helper

    from zoo.checkpoint._format import read_checkpoint

    meta, digest = json.loads((run / "config.json").read_text()), read_checkpoint(run).digest
    weight = helper.make_tensor("w", TensorProto.FLOAT, [1], [0.0])
    weight.ClearField("float_data")
    weight.data_location = TensorProto.EXTERNAL
    weight.external_data.add(key="location", value=location)
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        [weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    weights = {"kind": "checkpoint", "sha256": meta["sha256"], "path": str(run)}
    for key, value in {
        "zoo.architecture": "lstm",
        "zoo.config": json.dumps(meta["config"]),
        "zoo.io": json.dumps(meta["io"]),
        "zoo.weights": json.dumps(weights),
        "zoo.checkpoint_sha256": digest,
    }.items():
        model.metadata_props.add(key=key, value=value)
    artifact = run.parent / "external.onnx"
    onnx.save(model, str(artifact))
    args = ["--data", "sine", "--runtime", "onnx", "--artifact", str(artifact)]
    fails(
        invoke("predict", "--checkpoint", str(run), *args),
        "Cannot load",
        "external.onnx' in onnxruntime",
        "External data path",
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"fingerprint": 5}, "key 'fingerprint' must be an object, got 5"),
        ({"history": [5]}, "history record 0 needs epoch"),
        ({"optimizer": {"param_groups": 5, "state": []}}, "'optimizer.param_groups' must be"),
        ({"epoch": "x"}, "key 'epoch' must be a whole number >= 0, got x"),
        ({"best_loss": None}, "key 'best_loss' must be a number, got None"),
        ({"best_epoch": 7}, "key 'best_epoch' must be in [0, epoch], got 7"),
        ({"epoch": None}, "key 'epoch' must be a whole number"),
    ],
)
def test_train_state_with_wrong_types_on_resume(
    invoke: Any, run: Path, change: dict[str, Any], message: str
) -> None:
    _edit(run / "train_state" / "state.json", lambda m: m.update(change))
    fails(
        invoke(*RESUME, "--out", str(run)),
        "state.json: unreadable train_state (",
        message,
        "Start again without --resume",
    )


def test_train_state_for_another_optimizer_layout(invoke: Any, run: Path) -> None:
    groups = [{"params": [0]}, {"params": [1]}]
    _edit(run / "train_state" / "state.json", lambda m: m["optimizer"].update(param_groups=groups))
    fails(
        invoke(*RESUME, "--out", str(run)),
        "train_state does not fit this model",
        "Start again without --resume",
    )


def test_one_non_numeric_cell_never_drops_a_column_silently(invoke: Any, tmp_path: Path) -> None:
    data = tmp_path / "cells.csv"
    rows = [f"{i},{math.sin(i / 3):.3f},{i % 4}" for i in range(30)]
    rows[17] = "17,n/a,1"
    data.write_text("t,signal,a\n" + "\n".join(rows) + "\n")
    args = ["--data", str(data), "--target", "a", "--window", "3"]
    fails(
        invoke("train", "lstm", *args, "--out", str(tmp_path / "out")),
        "cells.csv: row 18 (line 19), column 'signal': 'n/a' is not a number, but 29 other",
        "choose the input columns with --features",
    )


def test_dropout_on_one_layer_is_refused(invoke: Any, tmp_path: Path) -> None:
    """An error, not a warning: the value would be recorded in config.json, the registry and
    every export's metadata, claiming regularization that never happened."""
    refused = invoke("train", "lstm", *TINY, "--set", "dropout=0.5", "--out", str(tmp_path / "out"))
    assert refused.exit_code == 2, refused.output  # a bad --set is a usage error, as in export
    assert "Error: Invalid value for '--set': " in refused.output
    assert "'dropout' of architecture 'lstm' is 0.5 but num_layers is 1" in refused.output
    assert "Set num_layers to 2 or more, or dropout to 0" in refused.output
    trained = invoke(
        "train", "lstm", *TINY, "--epochs", "1", "--set", "num_layers=2", "--set",
        "dropout=0.5", "--set", "hidden_size=4", "--out", str(tmp_path / "two"),
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output


def test_a_bad_limit_setting_is_named(invoke: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOO_MAX_PARAMS", "lots")
    fails(invoke("info", "lstm"), "ZOO_MAX_PARAMS must be a positive whole number, got 'lots'")


# --- resource abuse ---------------------------------------------------------------------------


def test_a_huge_config_in_a_registry_or_checkpoint_is_refused(
    invoke: Any, run: Path, tmp_path: Path
) -> None:
    registry = tmp_path / "big.toml"
    registry.write_text('[models.deep]\narchitecture = "lstm"\nconfig = { num_layers = 1000000 }\n')
    fails(
        invoke("list", "--registry", str(registry)),
        "entry 'deep', key 'config': Architecture 'lstm'",
        "more than the limit of 100,000,000 (ZOO_MAX_PARAMS)",
    )
    _edit(run / "config.json", lambda m: m["config"].update(hidden_size=10**9))
    fails(
        invoke("eval", "--checkpoint", str(run), "--data", "sine"),
        "hidden_size=1000000000", "(ZOO_MAX_PARAMS)",
    )  # fmt: skip


def test_a_64_gib_sparse_weights_file_is_refused_before_it_is_hashed(
    invoke: Any, run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real header, then 64 GiB: refused from the header alone. Hashing it would read
    64 GiB (minutes); the answer comes in well under a second of zoo's own work."""
    weights = run / "model.safetensors"
    sparse(weights, 64 * GiB, weights.read_bytes())
    read = BytesRead(monkeypatch, weights)
    fails(
        invoke("eval", "--checkpoint", str(run), "--data", "sine"),
        "model.safetensors: not a valid safetensors file (68,719,476,736 bytes, but its header "
        "describes",
    )
    assert read.total < 1 << 20  # the header, not 64 GiB


def test_a_weights_header_declaring_too_many_parameters(invoke: Any, run: Path) -> None:
    header = json.dumps({"w": {"dtype": "F32", "shape": [4, 2**32], "data_offsets": [0, 2**36]}})
    head = len(header).to_bytes(8, "little") + header.encode()
    sparse(run / "model.safetensors", len(head) + 2**36, head)
    fails(
        invoke("eval", "--checkpoint", str(run), "--data", "sine"),
        "model.safetensors (its tensors) has 17,179,869,184 parameters, more than the limit "
        "of 100,000,000 (ZOO_MAX_PARAMS)",
    )


def test_a_train_state_file_is_checked_before_it_is_hashed(invoke: Any, run: Path) -> None:
    folder = run / "train_state"
    tensors = folder / json.loads((folder / "state.json").read_text())["tensors"]
    sparse(tensors, 64 * GiB, tensors.read_bytes())
    fails(
        invoke(*RESUME, "--out", str(run)),
        "not a valid safetensors file (68,719,476,736 bytes",
    )


def test_a_multi_gb_config_json_is_refused_before_it_is_read(
    invoke: Any, run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sparse(run / "config.json", 3 * GiB, b"{")
    read = BytesRead(monkeypatch, run / "config.json")
    fails(
        invoke("eval", "--checkpoint", str(run), "--data", "sine"),
        "config.json has 3,221,225,472 bytes, more than the limit of 67,108,864 "
        "(ZOO_MAX_JSON_BYTES). Give a smaller config.json, or raise the limit with "
        "ZOO_MAX_JSON_BYTES=N.",
    )
    assert read.total < 1 << 20


def test_eval_at_a_long_seq_len_over_the_data_limit(
    invoke: Any, run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOO_MAX_DATA_ELEMENTS", "1000000")
    fails(
        invoke("eval", "--checkpoint", str(run), "--data", "sine", "--seq-len", "100000"),
        "The test split of task 'sine' (16 sequences x 100,000 steps x 1 feature(s)) has "
        "1,600,000 input values, more than the limit of 1,000,000 (ZOO_MAX_DATA_ELEMENTS)",
    )
