"""Training on variable-length data: padded batches with lengths, run packed (issue 6)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import zoo
from zoo.data._spec import DataOptions
from zoo.data._synthetic import builtin_dataset
from zoo.nn._models import build_recurrent

TINY = ("--data", "freq-var", "--samples", "96", "--seq-len", "24", "--batch-size", "16")


def test_freq_var_is_padded_with_lengths() -> None:
    data = builtin_dataset("freq-var", DataOptions(seq_len=24, samples=64), seed=3)
    for split in (data.train, data.val):
        assert split.lengths is not None and split.lengths.dtype == np.int64
        assert split.lengths.min() >= 6 and split.lengths.max() <= 24
        assert len(set(split.lengths.tolist())) > 1  # really of different lengths
        steps = np.arange(24)[None, :]
        assert not split.x[steps >= split.lengths[:, None]].any()  # zero past each length
    assert data.spec.variable_length and data.spec.to_dict()["variable_length"] is True


@pytest.mark.parametrize("arch", ["rnn", "lstm", "bilstm", "gru"])
def test_train_eval_predict_and_export_with_lengths(invoke: Any, arch: str, tmp_path: Path) -> None:
    if arch not in zoo.load_plugins().architectures:
        pytest.skip(f"{arch} is not installed")
    run = tmp_path / "run"
    result = invoke("train", arch, *TINY, "--epochs", "2", "--out", str(run))
    assert result.exit_code == 0, result.output
    config = json.loads((run / "config.json").read_text())
    assert config["data"]["variable_length"] is True
    evaluated = invoke("eval", "--checkpoint", str(run), "--data", "freq-var", "--json")
    assert evaluated.exit_code == 0, evaluated.output
    assert 0.0 <= json.loads(evaluated.output)["metrics"]["accuracy"] <= 1.0
    exported = invoke(
        "export", "--checkpoint", str(run), "--onnx", "--lengths", "--out", str(tmp_path / "x")
    )
    assert exported.exit_code == 0, exported.output


def test_the_head_sees_only_the_valid_steps(plugins: zoo.Plugins, tmp_path: Path) -> None:
    """Training with lengths equals training on each sequence alone: the padding is inert."""
    data = builtin_dataset("freq-var", DataOptions(seq_len=16, samples=8), seed=0)
    torch.manual_seed(0)
    model = build_recurrent("lstm", False, input_size=1, hidden_size=5, num_layers=1, output_size=4)
    lengths = torch.from_numpy(data.train.lengths)
    x = torch.from_numpy(data.train.x)
    with torch.no_grad():
        batched = model(x, lengths=lengths)[0]
        alone = torch.cat([model(x[i : i + 1, : int(n)])[0] for i, n in enumerate(lengths)])
    torch.testing.assert_close(batched, alone, atol=1e-6, rtol=1e-5)


def test_architecture_without_lengths_is_refused_clearly(
    make_plugins: Any, invoke: Any, tmp_path: Path
) -> None:
    class NoLengths:
        @zoo.hookimpl
        def register_architectures(self, register: Any) -> None:
            defaults = {"input_size": 1, "hidden_size": 4, "num_layers": 1, "output_size": 1}
            register(
                zoo.Architecture(
                    name="fixed-only",
                    build=lambda **c: build_recurrent("rnn", False, **c),
                    defaults=defaults,
                )
            )

    result = invoke(
        "train",
        "fixed-only",
        *TINY,
        "--out",
        str(tmp_path / "r"),
        cli_plugins=make_plugins(NoLengths()),
    )
    assert result.exit_code == 1
    assert (
        "has sequences of different lengths, but architecture 'fixed-only' does not take"
        in result.output
    )
