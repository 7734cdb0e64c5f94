"""An attack suite: sizes over zoo's limits (zoo._limits) refused before anything is
allocated or read, one line each; large files are sparse and limits are lowered through their
environment variables, so the cases take seconds and megabytes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from limits_support import TINY, BytesRead, GiB, fails, sparse

from zoo._manager import load_plugins
from zoo._spec import recurrent_num_params
from zoo.inference._metrics import predict_tensor


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
    invoke: Any, tmp_path: Path, args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    def allocates(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a recurrent layer was built")

    monkeypatch.setattr(torch.nn.modules.rnn.RNNBase, "__init__", allocates)
    result = invoke("train", "lstm", *TINY, *args, "--out", str(tmp_path / "o"))
    assert result.exit_code == 2, result.output  # a --set value, refused as in zoo export
    assert "Error: Invalid value for '--set': " in result.output and message in result.output
    assert (
        "Choose a smaller hidden_size or num_layers, or raise the limit with ZOO_MAX_PARAMS=N."
        in result.output
    )
    assert "Traceback" not in result.output


BILLION = ("--data", "sine", "--seq-len", "8", "--samples", "1000000000")


def test_a_billion_samples_are_refused_before_generating(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    def generates(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("data generation started")

    monkeypatch.setattr(np.random, "default_rng", generates)  # what every built-in task draws from
    fails(
        invoke("train", "lstm", *BILLION, "--out", str(tmp_path / "o")),
        "The train split of task 'sine' (1,000,000,000 sequences x 8 steps x 1 feature(s)) has "
        "8,000,000,000 input values, more than the limit of 50,000,000 (ZOO_MAX_DATA_ELEMENTS)",
        "Use a smaller --samples or --seq-len, or raise the limit with ZOO_MAX_DATA_ELEMENTS=N.",
    )


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
    """Found by name in a dict, duplicates counted once: main took 129 s just to read it.
    (That time is not asserted here: tests assert what is computed, never how fast.)"""
    result = invoke(
        "train", "lstm", "--data", str(wide_csv), "--target", "c0", "--window", "2",
        "--epochs", "1", "--set", "hidden_size=1", "--out", str(tmp_path / "wide"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def test_a_csv_over_the_cell_limit(
    invoke: Any, wide_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOO_MAX_CSV_CELLS", "250000")
    args = ["--data", str(wide_csv), "--target", "c0", "--window", "2"]
    fails(
        invoke("train", "lstm", *args, "--out", str(tmp_path / "o")),
        "wide.csv (within its first 3 rows) has 300,000 cells, more than the limit of 250,000 "
        "(ZOO_MAX_CSV_CELLS)",
    )


def test_a_multi_gb_registry_is_refused_before_it_is_read(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = sparse(tmp_path / "huge.toml", 3 * GiB, b"# x\n")
    read = BytesRead(monkeypatch, registry)
    fails(
        invoke("list", "--registry", str(registry)),
        "huge.toml has 3,221,225,472 bytes, more than the limit of 16,777,216 "
        "(ZOO_MAX_REGISTRY_BYTES)",
    )
    assert read.total < 1 << 20  # its head at most, not 3 GiB


def test_a_multi_gb_csv_is_refused_before_it_is_read(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = sparse(tmp_path / "huge.csv", 3 * GiB, b"t,a\n")
    read = BytesRead(monkeypatch, data)
    csv = ["--data", str(data), "--target", "a", "--window", "2"]
    fails(
        invoke("train", "lstm", *csv, "--out", str(tmp_path / "o")),
        "huge.csv has 3,221,225,472 bytes, more than the limit of 268,435,456 (ZOO_MAX_CSV_BYTES)",
    )
    assert read.total < 1 << 20  # its head at most, not 3 GiB


def test_csv_windows_over_the_data_limit(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows overlap: 100 rows cut into windows of 50 (horizon 1) are 50 x 50 x 2 values,
    checked before they are cut."""
    data = tmp_path / "rows.csv"
    data.write_text("t,a\n" + "".join(f"{i},{i % 7}\n" for i in range(100)))
    monkeypatch.setenv("ZOO_MAX_DATA_ELEMENTS", "4000")
    csv = ["--data", str(data), "--target", "a", "--window", "50"]
    fails(
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
