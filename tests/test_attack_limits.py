"""An attack suite: resource abuse and malformed input, each answered with one line.

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
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from zoo._manager import load_plugins
from zoo._spec import recurrent_num_params
from zoo.cli import create_cli
from zoo.data._spec import Scaling
from zoo.inference._metrics import predict_tensor

TINY = ("--data", "sine", "--samples", "64", "--seq-len", "8", "--batch-size", "16")
#: `zoo train --resume` of the module's checkpoint, with the options it was trained with.
RESUME = ("train", "lstm", *TINY, "--set", "hidden_size=4", "--epochs", "2", "--resume")
GiB = 1 << 30


def _fails(result: Any, *fragments: str, code: int = 1) -> str:
    """The one `Error:` line of a failed command, checked to hold each fragment."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return str(lines[0])


def _strict(text: str) -> Any:
    """`json.loads` that refuses NaN and Infinity, as `jq` does."""

    def refuse(name: str) -> Any:
        raise AssertionError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def _sparse(path: Path, size: int, head: bytes = b"") -> Path:
    """A file of `size` bytes that takes no disk: `head`, then a hole."""
    with path.open("wb") as f:
        f.write(head)
        f.truncate(size)
    return path


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
    _fails(
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
    _fails(invoke(*args), f"{file}: nested more than 64 levels deep", "the limit is 64")


def test_toml_nested_100000_deep(invoke: Any, tmp_path: Path) -> None:
    registry = tmp_path / "deep.toml"
    registry.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    _fails(
        invoke("list", "--registry", str(registry)),
        "deep.toml: nested more than 64 levels deep",
    )


def test_registry_that_is_not_utf8(invoke: Any, tmp_path: Path) -> None:
    registry = tmp_path / "latin1.toml"
    registry.write_bytes(
        '[models.a]\narchitecture = "lstm"\ndescription = "café"\n'.encode("latin-1")
    )
    _fails(
        invoke("list", "--registry", str(registry)),
        "latin1.toml: not UTF-8 text (invalid continuation byte at byte 51); TOML files are UTF-8",
    )


def test_registry_that_is_a_device_is_not_read(invoke: Any) -> None:
    _fails(invoke("list", "--registry", "/dev/zero"), "/dev/zero: not a regular file")


def test_predict_on_an_onnx_artifact_of_random_bytes(invoke: Any, run: Path) -> None:
    artifact = run.parent / "random.onnx"
    artifact.write_bytes(np.random.default_rng(0).bytes(4096))
    args = ["--data", "sine", "--runtime", "onnx", "--artifact", str(artifact)]
    _fails(
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
    _fails(
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
    _fails(
        invoke(*RESUME, "--out", str(run)),
        "state.json: unreadable train_state (",
        message,
        "Start again without --resume",
    )


def test_train_state_for_another_optimizer_layout(invoke: Any, run: Path) -> None:
    groups = [{"params": [0]}, {"params": [1]}]
    _edit(run / "train_state" / "state.json", lambda m: m["optimizer"].update(param_groups=groups))
    _fails(
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
    _fails(
        invoke("train", "lstm", *args, "--out", str(tmp_path / "out")),
        "cells.csv: row 18 (line 19), column 'signal': 'n/a' is not a number, but 29 other",
        "choose the input columns with --features",
    )


def test_dropout_on_one_layer_is_refused(invoke: Any, tmp_path: Path) -> None:
    """An error, not a warning: the value would be recorded in config.json, the registry and
    every export's metadata, claiming regularization that never happened."""
    _fails(
        invoke("train", "lstm", *TINY, "--set", "dropout=0.5", "--out", str(tmp_path / "out")),
        "'dropout' of architecture 'lstm' is 0.5 but num_layers is 1",
        "Set num_layers to 2 or more, or dropout to 0",
    )
    trained = invoke(
        "train", "lstm", *TINY, "--epochs", "1", "--set", "num_layers=2", "--set",
        "dropout=0.5", "--set", "hidden_size=4", "--out", str(tmp_path / "two"),
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output


def test_a_bad_limit_setting_is_named(invoke: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOO_MAX_PARAMS", "lots")
    _fails(invoke("info", "lstm"), "ZOO_MAX_PARAMS must be a positive whole number, got 'lots'")


# --- resource abuse ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "hidden_size=100000"], "lstm' at input_size=10, hidden_size=100000, "
         "num_layers=1, output_size=1 has 40,004,900,001 parameters, more than the limit "
         "of 100,000,000 (ZOO_MAX_PARAMS)"),
        (["--set", "hidden_size=1000000000"], "has 4,000,000,049,000,000,001 parameters"),
        (["--set", "num_layers=1000000"], "has 3,359,999,221 parameters"),
    ],
)  # fmt: skip
def test_model_sizes_over_the_limit_are_refused_before_allocating(
    invoke: Any, tmp_path: Path, args: list[str], message: str
) -> None:
    start = time.perf_counter()
    _fails(
        invoke("train", "lstm", *TINY, *args, "--out", str(tmp_path / "o")),
        message,
        "Choose a smaller hidden_size or num_layers, or raise the limit with ZOO_MAX_PARAMS=N.",
    )
    assert time.perf_counter() - start < 10


BILLION = ("--data", "sine", "--seq-len", "8", "--samples", "1000000000")


def test_a_billion_samples_are_refused_before_generating(invoke: Any, tmp_path: Path) -> None:
    start = time.perf_counter()
    _fails(
        invoke("train", "lstm", *BILLION, "--out", str(tmp_path / "o")),
        "The train split of task 'sine' (1,000,000,000 sequences x 8 steps x 1 feature(s)) has "
        "8,000,000,000 input values, more than the limit of 50,000,000 (ZOO_MAX_DATA_ELEMENTS)",
        "Use a smaller --samples or --seq-len, or raise the limit with ZOO_MAX_DATA_ELEMENTS=N.",
    )
    assert time.perf_counter() - start < 10


def test_a_huge_config_in_a_registry_or_checkpoint_is_refused(
    invoke: Any, run: Path, tmp_path: Path
) -> None:
    registry = tmp_path / "big.toml"
    registry.write_text('[models.deep]\narchitecture = "lstm"\nconfig = { num_layers = 1000000 }\n')
    _fails(
        invoke("list", "--registry", str(registry)),
        "entry 'deep', key 'config': Architecture 'lstm'",
        "more than the limit of 100,000,000 (ZOO_MAX_PARAMS)",
    )
    _edit(run / "config.json", lambda m: m["config"].update(hidden_size=10**9))
    _fails(
        invoke("eval", "--checkpoint", str(run), "--data", "sine"),
        "hidden_size=1000000000", "(ZOO_MAX_PARAMS)",
    )  # fmt: skip


def test_parameter_count_is_closed_form_and_exact() -> None:
    """`zoo list` counts 10**12 layers at once; the count is what the loop gave."""

    def looped(config: dict[str, int], gates: int, bidirectional: bool) -> int:
        directions = 2 if bidirectional else 1
        hidden, total = config["hidden_size"], 0
        for layer in range(config["num_layers"]):
            width = config["input_size"] if layer == 0 else directions * hidden
            total += directions * (gates * hidden * (width + hidden) + 2 * gates * hidden)
        return total + directions * hidden * config["output_size"] + config["output_size"]

    for sizes in [(1, 1, 1, 1), (3, 5, 2, 4), (10, 20, 3, 1)]:
        config = dict(
            zip(("input_size", "hidden_size", "num_layers", "output_size"), sizes, strict=True)
        )
        for gates in (1, 3, 4):
            for bidirectional in (False, True):
                assert recurrent_num_params(config, gates, bidirectional) == looped(
                    config, gates, bidirectional
                )
    huge = {"input_size": 1, "hidden_size": 1, "num_layers": 10**12, "output_size": 1}
    assert recurrent_num_params(huge, 4, False) > 10**12


def test_a_64_gib_sparse_weights_file_is_refused_before_it_is_hashed(
    invoke: Any, run: Path
) -> None:
    """The real header, then 64 GiB: refused from the header alone. Hashing it would read
    64 GiB (minutes); the answer comes in well under a second of zoo's own work."""
    weights = run / "model.safetensors"
    _sparse(weights, 64 * GiB, weights.read_bytes())
    start = time.perf_counter()
    _fails(
        invoke("eval", "--checkpoint", str(run), "--data", "sine"),
        "model.safetensors: not a valid safetensors file (68,719,476,736 bytes, but its header "
        "describes",
    )
    assert time.perf_counter() - start < 10


def test_a_weights_header_declaring_too_many_parameters(invoke: Any, run: Path) -> None:
    header = json.dumps({"w": {"dtype": "F32", "shape": [4, 2**32], "data_offsets": [0, 2**36]}})
    head = len(header).to_bytes(8, "little") + header.encode()
    _sparse(run / "model.safetensors", len(head) + 2**36, head)
    _fails(
        invoke("eval", "--checkpoint", str(run), "--data", "sine"),
        "model.safetensors (its tensors) has 17,179,869,184 parameters, more than the limit "
        "of 100,000,000 (ZOO_MAX_PARAMS)",
    )


def test_a_train_state_file_is_checked_before_it_is_hashed(invoke: Any, run: Path) -> None:
    folder = run / "train_state"
    tensors = folder / json.loads((folder / "state.json").read_text())["tensors"]
    _sparse(tensors, 64 * GiB, tensors.read_bytes())
    _fails(
        invoke(*RESUME, "--out", str(run)),
        "not a valid safetensors file (68,719,476,736 bytes",
    )


@pytest.fixture
def wide_csv(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "wide.csv"
    columns = 100_000
    with path.open("w") as f:
        f.write(",".join(f"c{i}" for i in range(columns)) + "\n")
        for row in range(6):
            f.write(",".join(str((row + i) % 7) for i in range(columns)) + "\n")
    yield path


def test_a_csv_of_100000_columns_trains_in_linear_time(
    invoke: Any, wide_csv: Path, tmp_path: Path
) -> None:
    """Found by name in a dict, duplicates counted once: main took 129 s just to read it."""
    start = time.perf_counter()
    result = invoke(
        "train", "lstm", "--data", str(wide_csv), "--target", "c0", "--window", "2",
        "--epochs", "1", "--set", "hidden_size=1", "--out", str(tmp_path / "wide"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert time.perf_counter() - start < 30


def test_a_csv_over_the_cell_limit(
    invoke: Any, wide_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOO_MAX_CSV_CELLS", "250000")
    args = ["--data", str(wide_csv), "--target", "c0", "--window", "2"]
    _fails(
        invoke("train", "lstm", *args, "--out", str(tmp_path / "o")),
        "wide.csv (within its first 3 rows) has 300,000 cells, more than the limit of 250,000 "
        "(ZOO_MAX_CSV_CELLS)",
    )


def test_a_multi_gb_config_json_is_refused_before_it_is_read(invoke: Any, run: Path) -> None:
    start = time.perf_counter()
    _sparse(run / "config.json", 3 * GiB, b"{")
    _fails(
        invoke("eval", "--checkpoint", str(run), "--data", "sine"),
        "config.json has 3,221,225,472 bytes, more than the limit of 67,108,864 "
        "(ZOO_MAX_JSON_BYTES). Give a smaller config.json, or raise the limit with "
        "ZOO_MAX_JSON_BYTES=N.",
    )
    assert time.perf_counter() - start < 10


def test_a_multi_gb_registry_is_refused_before_it_is_read(invoke: Any, tmp_path: Path) -> None:
    start = time.perf_counter()
    registry = _sparse(tmp_path / "huge.toml", 3 * GiB, b"# x\n")
    _fails(
        invoke("list", "--registry", str(registry)),
        "huge.toml has 3,221,225,472 bytes, more than the limit of 16,777,216 "
        "(ZOO_MAX_REGISTRY_BYTES)",
    )
    assert time.perf_counter() - start < 10


def test_a_multi_gb_csv_is_refused_before_it_is_read(invoke: Any, tmp_path: Path) -> None:
    start = time.perf_counter()
    data = _sparse(tmp_path / "huge.csv", 3 * GiB, b"t,a\n")
    csv = ["--data", str(data), "--target", "a", "--window", "2"]
    _fails(
        invoke("train", "lstm", *csv, "--out", str(tmp_path / "o")),
        "huge.csv has 3,221,225,472 bytes, more than the limit of 268,435,456 (ZOO_MAX_CSV_BYTES)",
    )
    assert time.perf_counter() - start < 10


def test_eval_at_a_long_seq_len_over_the_data_limit(
    invoke: Any, run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOO_MAX_DATA_ELEMENTS", "1000000")
    _fails(
        invoke("eval", "--checkpoint", str(run), "--data", "sine", "--seq-len", "100000"),
        "The test split of task 'sine' (16 sequences x 100,000 steps x 1 feature(s)) has "
        "1,600,000 input values, more than the limit of 1,000,000 (ZOO_MAX_DATA_ELEMENTS)",
    )


def test_csv_windows_over_the_data_limit(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows overlap: 100 rows cut into windows of 50 (horizon 1) are 50 x 50 x 2 values,
    checked before they are cut."""
    data = tmp_path / "rows.csv"
    data.write_text("t,a\n" + "".join(f"{i},{i % 7}\n" for i in range(100)))
    monkeypatch.setenv("ZOO_MAX_DATA_ELEMENTS", "4000")
    csv = ["--data", str(data), "--target", "a", "--window", "50"]
    _fails(
        invoke("train", "lstm", *csv, "--out", str(tmp_path / "o")),
        "rows.csv: 50 windows of 50 rows x 2 feature(s) has 5,000 input values, more than the "
        "limit of 4,000 (ZOO_MAX_DATA_ELEMENTS). Use a smaller --window, fewer --features or "
        "fewer rows",
    )


@pytest.mark.parametrize("arch_name", ["lstm", "bilstm"])
def test_long_sequences_run_in_passes_whose_hidden_output_is_bounded(
    monkeypatch: pytest.MonkeyPatch, arch_name: str
) -> None:
    """`zoo eval --seq-len 100000` used `y` only but built `hidden` for 2048 sequences at
    once (16 GB at hidden 20); each pass now holds at most CHUNK_ELEMENTS of it (lowered
    here so that a small input shows it), with the same predictions. A unidirectional
    model runs all sequences together, a stretch of steps at a time (its states carried
    over); a bidirectional one runs fewer sequences per pass."""
    import torch

    import zoo.inference._metrics as metrics

    assert getattr(metrics, "CHUNK_ELEMENTS", 1 << 26) == 1 << 26  # 256 MiB of float32
    monkeypatch.setattr(metrics, "CHUNK_ELEMENTS", 20_000, raising=False)
    arch = load_plugins().architectures[arch_name]
    config = arch.resolve({"input_size": 1, "hidden_size": 5})
    module = arch.build(**config).eval()
    passes: list[tuple[int, int]] = []
    module.register_forward_hook(lambda m, args, out: passes.append(tuple(out[1].shape[:2])))
    x = torch.randn(40, 1000, 1)
    contract = arch.io(config)
    stream = contract if contract.can_stream and arch.streamable else None
    y = predict_tensor(module, x, stream=stream)
    width = 10 if arch.bidirectional else 5
    assert max(rows * steps * width for rows, steps in passes) <= 20_000, passes
    rows = {rows for rows, steps in passes[1:]}  # the first pass: one step, for the width
    assert rows == ({2} if arch.bidirectional else {40}), passes
    with torch.no_grad():
        torch.testing.assert_close(y, module(x)[0], rtol=1e-5, atol=1e-6)


# --- silent wrong numbers ---------------------------------------------------------------------


def test_predictions_are_unscaled_in_float64() -> None:
    scaling = Scaling((0.0,), (1.0,), y_mean=1.2e8, y_std=3.0)
    values = scaling.unscale_y(np.asarray([0.1, 0.2, 0.3], dtype=np.float32))
    assert values.dtype == np.float64 and len(set(values.tolist())) == 3
    np.testing.assert_allclose(values - 1.2e8, [0.3, 0.6, 0.9], rtol=1e-6)


def test_a_target_near_1e8_gets_its_own_prediction_per_window(invoke: Any, tmp_path: Path) -> None:
    data = tmp_path / "level.csv"
    level = [f"{1.2e8 + 7 * math.sin(i / 5):.3f}" for i in range(60)]
    data.write_text("t,a\n" + "".join(f"{math.sin(i / 3):.4f},{v}\n" for i, v in enumerate(level)))
    out = tmp_path / "level"
    trained = invoke(
        "train", "lstm", "--data", str(data), "--target", "a", "--window", "4", "--epochs",
        "1", "--set", "hidden_size=4", "--out", str(out),
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    result = invoke("predict", "--checkpoint", str(out), "--data", str(data), "--json")
    rows = _strict(result.stdout)
    predictions = [r["prediction"] for r in rows]
    assert len(set(predictions)) == len(rows), predictions[:8]  # float32 gave a few values
    known = [r for r in rows if r["truth"] is not None]
    assert [r["truth"] for r in known] == [float(level[r["row"]]) for r in known]  # exact
    far = tmp_path / "far.csv"  # new data 1e300 standard deviations away: refused, not inf
    far.write_text("t,a\n" + "1e300,1\n" * 3 + "-1e300,1\n")
    _fails(
        invoke("predict", "--checkpoint", str(out), "--data", str(far)),
        "far.csv: column 't' holds values up to 1e+300, more than float32 can hold once "
        "standardized with the training statistics",
    )


def test_values_near_1e308_are_standardized_or_refused_never_infinity(
    invoke: Any, tmp_path: Path
) -> None:
    """Features and a target near the top of the float64 range train (the statistics are
    taken without overflow); what cannot be a number (the MSE in the target's units) is
    written as null with a note, never `Infinity` in a file or `NaN` on stdout."""
    data = tmp_path / "huge.csv"
    lines = [f"{1.7e308 * math.sin(i / 3)!r},{1.7e308 if i % 2 else -1.7e308!r}" for i in range(40)]
    data.write_text("t,a\n" + "\n".join(lines) + "\n")
    out = tmp_path / "huge"
    result = invoke(
        "train", "lstm", "--data", str(data), "--target", "a", "--window", "3", "--epochs",
        "1", "--set", "hidden_size=2", "--out", str(out), "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    printed = _strict(result.stdout)
    assert printed["best"]["mse"] is None and printed["non_finite"]["/best/mse"] == "Infinity"
    config = _strict((out / "config.json").read_text())
    assert all(math.isfinite(v) for v in config["data"]["scaling"]["x_std"])
    metrics = _strict((out / "metrics.json").read_text())
    assert metrics["non_finite"]["/best/mse"] == "Infinity"


def test_an_undefined_metric_is_null_with_a_note(invoke: Any, tmp_path: Path) -> None:
    """rel_mse of a constant target is 0/0: NaN in Python, null plus a note in JSON."""
    data = tmp_path / "flat.csv"
    rows = [f"{math.sin(i / 3):.4f},{5 if i >= 20 else i}\n" for i in range(30)]
    data.write_text("t,a\n" + "".join(rows))
    out = tmp_path / "flat"
    trained = invoke(
        "train", "lstm", "--data", str(data), "--target", "a", "--window", "3", "--epochs",
        "1", "--set", "hidden_size=2", "--out", str(out),
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    metrics = _strict((out / "metrics.json").read_text())
    assert metrics["best"]["rel_mse"] is None and metrics["non_finite"]["/best/rel_mse"] == "NaN"
    _strict((out / "config.json").read_text())
    flat = tmp_path / "flat-only.csv"
    flat.write_text("t,a\n" + "".join(f"{math.sin(i / 3):.4f},5\n" for i in range(10)))
    evaluated = _strict(
        invoke("eval", "--checkpoint", str(out), "--data", str(flat), "--json").stdout
    )
    assert evaluated["metrics"]["rel_mse"] is None
    assert evaluated["non_finite"] == {"/metrics/rel_mse": "NaN"}


def test_strict_json_round_trips_through_its_notes() -> None:
    from zoo._limits import dumps_json, restore_non_finite

    data = {"a": [1.0, math.nan], "b/c": {"~d": -math.inf}, "e": math.inf}
    text = dumps_json(data)
    parsed = _strict(text)
    assert parsed["a"] == [1.0, None] and parsed["e"] is None
    back = restore_non_finite(parsed)
    assert math.isnan(back["a"][1]) and back["b/c"]["~d"] == -math.inf and back["e"] == math.inf
