"""Shell completion (README: `eval "$(_ZOO_COMPLETE=bash_source zoo)"`): model names from
the registries and architectures, exporter names for --format, files for paths."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.shell_completion import BashComplete

from zoo._manager import Plugins
from zoo.cli import create_cli


def _complete(plugins: Plugins, args: list[str], incomplete: str) -> list[tuple[str, str]]:
    completer = BashComplete(create_cli(plugins), {}, "zoo", "_ZOO_COMPLETE")
    return [(c.value, c.type) for c in completer.get_completions(args, incomplete)]


def test_model_names_complete_from_architectures_and_registries(
    plugins: Plugins, tmp_path: Path
) -> None:
    for command in (["export"], ["info"], ["train"], ["eval"], ["predict"], ["inspect"]):
        values = [v for v, _ in _complete(plugins, command, "ls")]
        assert values == ["lstm", "lstm-2x128", "lstm-2x256"], command
    registry = tmp_path / "mine.toml"
    registry.write_text('[models.lstm-mine]\narchitecture = "lstm"\n')
    before = _complete(plugins, ["--registry", str(registry), "export"], "lstm-m")
    after = _complete(plugins, ["info", "--registry", str(registry)], "lstm-m")
    assert before == after == [("lstm-mine", "plain")]
    assert _complete(plugins, ["export"], "lstm-m") == []


def test_format_completes_exporter_names(plugins: Plugins) -> None:
    values = [v for v, _ in _complete(plugins, ["export", "lstm", "--format"], "")]
    assert {"onnx", "onnx-int8", "torchscript", "pt2"} <= set(values)
    assert [v for v, _ in _complete(plugins, ["export", "--format"], "onnx-i")] == ["onnx-int8"]


def test_paths_complete_as_files_and_a_broken_registry_completes_nothing(
    plugins: Plugins, tmp_path: Path
) -> None:
    assert _complete(plugins, ["info"], "exports/") == [("exports/", "file")]
    broken = tmp_path / "broken.toml"
    broken.write_text("[models.x\n")
    assert _complete(plugins, ["--registry", str(broken), "export"], "ls") == []


def test_completion_runs_through_the_entry_point_without_torch() -> None:
    code = (
        "import sys\nfrom zoo.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('torch loaded' if 'torch' in sys.modules else 'no torch')"
    )
    env = {
        **os.environ,
        "_ZOO_COMPLETE": "bash_complete",
        "COMP_WORDS": "zoo export bil",
        "COMP_CWORD": "2",
    }
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["plain,bilstm", "plain,bilstm-2x128", "no torch"]
