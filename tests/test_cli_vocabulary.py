"""One option vocabulary and one exit-code rule across every command (issue 18).

Exit status 2: the command line is wrong by itself (click's usage errors: a bad value, a
missing or conflicting option); 1: it is well formed but fails on these models, files or
data (a ZooError). The walk below feeds every command each shared option it takes with a
bad value; the tests after it pin the combinations that used to be accepted silently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
from conftest import TINY

from zoo._manager import load_plugins
from zoo.cli import create_cli

#: A bad value for each option that several commands share, or that a command got wrong.
BAD = {
    "--seed": "-1",
    "--seq-len": "1",
    "--samples": "1",
    "--atol": "0",
    "--rtol": "-1",
    "--lr": "1e6",
    "--clip": "0",
    "--epochs": "0",
    "--batch-size": "0",
    "--nproc": "0",
    "--opset": "5",
    "--window": "0",
    "--horizon": "-1",
    "--val-fraction": "1.5",
    "--ort-provider": "tpu",
    "--runtime": "gpu",
    "--device": "tpu",
    "--task": "clustering",
    "--set": "hidden_size=abc",
    "--section": "nothing",
}

#: What each command needs to parse, before the bad option.
ARGS = {
    "list": [], "info": ["lstm"], "plugins": [], "export": ["lstm"],
    "verify": ["x.onnx"], "bench": [], "train": ["lstm", "--data", "sine"],
    "eval": ["lstm", "--data", "sine"], "predict": ["lstm", "--data", "sine"],
    "inspect": ["lstm", "--data", "sine", "--out", "o"],
    "register": ["--checkpoint", "c", "--name", "n"],
    "datasets": [], "baseline": ["statsmodels:nile"],
}  # fmt: skip

#: Options spelled alike with another meaning, and why.
HOMONYMS = {
    "--data": "export/verify: a labelled CSV file for a lossy format's task metric; "
    "train/eval/predict/inspect: the data source (a built-in task or a CSV file)",
    "--registry": "register: the one file written to; elsewhere: extra files read",
    "--runtime": "what runs the model in both, with choices of its own: predict: torch or the "
    "exported ONNX file; verify: which ONNX runtime replays the artifact's bundle (issue 17)",
}


def _commands() -> dict[str, click.Command]:
    return dict(create_cli(load_plugins(third_party=False)).commands)


def test_every_command_rejects_bad_shared_option_values_with_exit_2(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    commands = _commands()
    assert set(ARGS) == set(commands), "a new command: add what it needs to parse to ARGS"
    walked = 0
    for name, command in commands.items():
        for param in command.params:
            option = param.opts[0]
            if option not in BAD:
                continue
            result = invoke(name, *ARGS[name], option, BAD[option])
            assert result.exit_code == 2, (name, option, result.output)
            assert f"Invalid value for '{option}'" in result.output, (name, result.output)
            walked += 1
    assert walked >= 30  # 31 when written
    assert list(tmp_path.iterdir()) == []  # refused before any work


def test_one_option_name_means_one_thing() -> None:
    kinds: dict[str, dict[str, str]] = {}
    for name, command in _commands().items():
        for param in command.params:
            if isinstance(param, click.Option):
                kind = param.type
                shown = (
                    f"Path(file_okay={kind.file_okay}, dir_okay={kind.dir_okay})"
                    if isinstance(kind, click.Path)
                    else repr(kind)
                )
                kinds.setdefault(param.opts[0], {})[name] = f"{shown} multiple={param.multiple}"
    differ = {o for o, by in kinds.items() if len(set(by.values())) > 1}
    assert differ == set(HOMONYMS), {o: kinds[o] for o in differ}


def test_registry_is_accepted_after_every_command_that_reads_names(
    invoke: Any, tmp_path: Path
) -> None:
    registry = tmp_path / "mine.toml"
    registry.write_text('[models.mine]\narchitecture = "rnn"\nconfig = { hidden_size = 3 }\n')
    info = invoke("info", "mine", "--registry", str(registry), "--json")
    assert info.exit_code == 0 and '"hidden_size": 3' in info.output
    exported = invoke("export", "mine", "--registry", str(registry), "--out", str(tmp_path / "e"))
    assert exported.exit_code == 0, exported.output
    for name in ("train", "eval", "predict", "inspect"):
        assert "--registry" in {p.opts[0] for p in _commands()[name].params}, name
    assert invoke("info", "mine").exit_code == 1  # not without it


def test_a_bad_set_is_a_usage_error_in_train_as_in_export(invoke: Any) -> None:
    for command in (["train", "lstm", "--data", "sine"], ["export", "lstm"]):
        result = invoke(*command, "--set", "bogus=1")
        assert result.exit_code == 2, result.output
        assert "Invalid value for '--set': Unknown config key 'bogus'" in result.output


def test_lr_outside_the_sane_range_is_refused_with_the_value(invoke: Any) -> None:
    result = invoke("train", "lstm", "--data", "sine", "--lr", "1e6")
    assert result.exit_code == 2 and "1000000.0 is not in the range 0.0<x<=10.0" in result.output


def test_legacy_applies_to_onnx_only(invoke: Any, tmp_path: Path) -> None:
    result = invoke("export", "rnn", "--torchscript", "--legacy", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "--legacy selects the deprecated TorchScript-based ONNX exporter" in result.output
    assert "torchscript" in result.output and not list(tmp_path.iterdir())


def test_seed_with_a_checkpoint_is_refused(invoke: Any, trained: Path, tmp_path: Path) -> None:
    result = invoke("export", "--checkpoint", str(trained), "--seed", "3", "--out", str(tmp_path))
    assert result.exit_code == 2 and "a --checkpoint has trained weights" in result.output
    explicit_default = invoke("export", "--checkpoint", str(trained), "--seed", "0")
    assert explicit_default.exit_code == 2  # given is given, even the default value


def test_predict_takes_seq_len_and_seed_like_eval(invoke: Any, trained: Path) -> None:
    import json

    args = ("predict", "--checkpoint", str(trained), "--data", "sine", "--json")
    short = json.loads(invoke(*args, "--seq-len", "5").output)
    other = json.loads(invoke(*args, "--seq-len", "9", "--seed", "4").output)
    assert short and other and short != other


@pytest.mark.slow
def test_artifact_implies_runtime_onnx(invoke: Any, trained: Path, tmp_path: Path) -> None:
    import json

    assert invoke("export", "--checkpoint", str(trained), "--out", str(tmp_path)).exit_code == 0
    args = ("predict", "--checkpoint", str(trained), "--data", "sine", "--json")
    artifact = str(tmp_path / "tiny-trained.onnx")
    implied = invoke(*args, "--artifact", artifact)
    assert implied.exit_code == 0, implied.output
    explicit = invoke(*args, "--artifact", artifact, "--runtime", "onnx")
    assert json.loads(implied.output) == json.loads(explicit.output)
    clash = invoke(*args, "--artifact", artifact, "--runtime", "torch")
    assert clash.exit_code == 2 and "Leave one out" in clash.output
    missing = invoke(*args, "--runtime", "onnx")
    assert missing.exit_code == 2 and "give --artifact FILE" in missing.output


def _csv(path: Path, rows: int, target: Any) -> Path:
    path.write_text("a,y\n" + "".join(f"{i % 7},{target(i)}\n" for i in range(rows)))
    return path


def test_classification_on_a_continuous_column_says_so(invoke: Any, tmp_path: Path) -> None:
    data = _csv(tmp_path / "c.csv", 200, lambda i: f"{i * 0.37:.2f}")
    args = ("train", "lstm", "--data", str(data), "--target", "y", "--window", "4")
    result = invoke(*args, "--task", "classification", "--out", str(tmp_path / "r"))
    assert result.exit_code == 1
    assert "column 'y' has 200 distinct values in 200 rows" in result.output
    assert "--task regression" in result.output
    labels = _csv(tmp_path / "l.csv", 200, lambda i: ["up", "down", "flat"][i % 3])
    ok = invoke(
        "train", "lstm", "--data", str(labels), "--target", "y", "--window", "4",
        "--task", "classification", "--epochs", "1", "--out", str(tmp_path / "ok"),
    )  # fmt: skip
    assert ok.exit_code == 0, ok.output


def test_regression_at_horizon_0_with_the_target_as_a_feature_is_refused(
    invoke: Any, tmp_path: Path
) -> None:
    data = _csv(tmp_path / "r.csv", 60, lambda i: i * 0.5)
    args = ("train", "lstm", "--data", str(data), "--target", "y", "--window", "4")
    result = invoke(*args, "--horizon", "0", "--out", str(tmp_path / "r"))
    assert result.exit_code == 1 and "the target leaks into the input" in result.output
    apart = invoke(
        *args, "--horizon", "0", "--features", "a", *TINY[-2:], "--out", str(tmp_path / "o")
    )
    assert apart.exit_code == 0, apart.output
