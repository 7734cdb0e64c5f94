"""Every command with `--json` prints strict JSON on stdout: parseable by a strict parser
(no NaN or Infinity, which `jq` and most languages reject), and nothing else (issue 18).

One test runs each of them on a tiny trained model; a command that gains `--json` without a
case here fails `test_every_json_command_is_covered`.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import click
import pytest

from zoo._manager import Plugins
from zoo.cli import create_cli
from zoo.inference import _plots


def strict_loads(text: str) -> Any:
    """json.loads that refuses NaN, Infinity and -Infinity (Python accepts them by default)."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def _cases(trained: Path, tmp: Path) -> dict[str, list[str]]:
    """The arguments of one `--json` run of each command (`trained`: a tiny checkpoint)."""
    onnx = (
        tmp / "exports" / f"{trained.name}-trained.onnx"
    )  # a checkpoint exports as FOLDER-trained
    return {
        "list": ["list"],
        "info": ["info", "lstm"],
        "plugins": ["plugins"],
        "train": [
            "train", "lstm", "--data", "sine", "--samples", "32", "--seq-len", "6",
            "--batch-size", "16", "--set", "hidden_size=4", "--epochs", "1",
            "--out", str(tmp / "runs" / "json"),
        ],
        "eval": ["eval", "--checkpoint", str(trained), "--data", "sine"],
        "predict": ["predict", "--checkpoint", str(trained), "--data", "sine"],
        "export": ["export", "--checkpoint", str(trained), "--onnx", "--out", str(onnx.parent)],
        "verify": ["verify", str(onnx)],
        "inspect": [
            "inspect", "--checkpoint", str(trained), "--data", "sine", "--out", str(tmp / "pics")
        ],
        "register": [
            "register", "--checkpoint", str(trained), "--name", "tiny-sine",
            "--registry", str(trained.parent.parent / "models.toml"),
        ],
        "bench": ["bench", "--tiny", "--section", "cli"],
        "datasets": ["datasets"],
        "baseline": ["baseline", "statsmodels:nile"],
    }  # fmt: skip


def _json_commands(plugins: Plugins) -> set[str]:
    cli = create_cli(plugins)
    assert isinstance(cli, click.Group)
    return {
        name
        for name, command in cli.commands.items()
        if any("--json" in p.opts for p in command.params if isinstance(p, click.Option))
    }


def test_every_json_command_is_covered(plugins: Plugins, tmp_path: Path) -> None:
    covered = set(_cases(tmp_path, tmp_path))
    assert _json_commands(plugins) <= covered, "add a case for the new --json command"
    assert {"inspect", "register"} <= _json_commands(plugins)


@pytest.mark.slow
def test_every_json_output_is_strict_json(invoke: Any, trained: Path, tmp_path: Path) -> None:
    cases = _cases(trained, tmp_path)
    if not _plots.available():
        del cases["inspect"]  # inspect draws; without matplotlib it refuses (tested elsewhere)
    if importlib.util.find_spec("statsmodels") is None:
        del cases["baseline"]  # reads statsmodels' nile.csv (zoo-rnn[datasets])
    outputs = {}
    for name, args in cases.items():  # in order: export before verify
        result = invoke(*args, "--json")
        assert result.exit_code == 0, (name, result.output)
        outputs[name] = strict_loads(result.stdout)
        assert outputs[name], name
    if "inspect" in outputs:
        assert outputs["inspect"]["task"] == "regression"
        assert [Path(f).name for f in outputs["inspect"]["files"]] == [
            "hidden.png",
            "predictions.png",
        ]
    registered = outputs["register"]
    assert registered["name"] == "tiny-sine" and len(registered["sha256"]) == 64
    assert registered["registry"] == cases["register"][-1]


def test_a_non_finite_metric_is_null_in_json(
    invoke: Any, trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the parser above would reject, echo_json prints as null with a note."""
    from zoo.inference import _trained

    real = _trained.evaluate

    def evaluate(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        result.metrics["rel_mse"] = float("nan")
        return result

    monkeypatch.setattr(_trained, "evaluate", evaluate)
    result = invoke("eval", "--checkpoint", str(trained), "--data", "sine", "--json")
    assert result.exit_code == 0, result.output
    data = strict_loads(result.stdout)
    assert data["metrics"]["rel_mse"] is None
    assert data["non_finite"] == {"/metrics/rel_mse": "NaN"}
