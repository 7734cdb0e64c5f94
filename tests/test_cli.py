"""The CLI through CliRunner: every command's --help, output formats, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest

import zoo
from zoo.cli import create_cli


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _all_commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("command", _all_commands(create_cli(zoo.load_plugins(third_party=False))))
def test_every_command_has_help(invoke: Any, command: tuple[str, ...]) -> None:
    result = invoke(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output and "--help" in result.output


def test_list_shows_the_builtin_models(invoke: Any) -> None:
    result = invoke("list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == [
        "NAME", "ARCH", "PLUGIN", "PARAMS", "METRIC", "BASELINE", "DESCRIPTION"
    ]  # fmt: skip
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert rows["lstm"][:6] == ["lstm", "lstm", "zoo.plugins.recurrent", "2581", "-", "-"]
    assert rows["sunspots-lstm"][4:8] == ["mse", "359.2", "ar(10)", "381.4"]
    untrained = invoke("list", "lstm*").output.splitlines()  # no card listed: no columns
    assert untrained[0].split() == ["NAME", "ARCH", "PLUGIN", "PARAMS", "DESCRIPTION"]
    assert rows["rnn"][3] == "661" and rows["bilstm"][3] == "5161"


def test_list_json_and_pattern(invoke: Any) -> None:
    rows = json.loads(invoke("list", "bi*", "--json").output)
    assert [r["name"] for r in rows] == ["bilstm", "bilstm-2x128"]
    assert rows[0]["architecture"] == "bilstm" and rows[0]["num_params"] == 5161
    assert invoke("list", "nothing*").output.startswith("No model matches 'nothing*'")


def test_info_shows_config_contract_and_params(invoke: Any) -> None:
    result = invoke("info", "bilstm")
    assert result.exit_code == 0
    out = result.output
    assert "parameters    5161" in out
    assert "x       (batch, seq, 10) float32" in out
    assert "hidden  (batch, seq, 40) float32" in out
    assert "c_n     (2, batch, 20) float32" in out
    data = json.loads(invoke("info", "lstm-2x128", "--json").output)
    assert data["config"]["num_layers"] == 2 and data["config"]["hidden_size"] == 128
    assert data["io"]["inputs"]["h0"]["shape"] == [2, "batch", 128]
    assert data["io"]["outputs"]["y"]["shape"] == ["batch", 1]


def test_plugins_command(invoke: Any) -> None:
    out = invoke("plugins").output
    assert "zoo.plugins.recurrent" in out and "zoo-rnn" in out
    data = json.loads(invoke("plugins", "--json").output)
    (builtin,) = [p for p in data["plugins"] if p["name"] == "zoo.plugins.recurrent"]
    assert builtin["architectures"] == ["bilstm", "lstm", "rnn"]
    assert data["problems"] == []


def test_unknown_name_is_one_line_without_traceback(invoke: Any) -> None:
    result = invoke("info", "lstn")
    assert result.exit_code == 1
    assert result.output == "Error: Unknown model 'lstn'. Did you mean 'lstm'? Run `zoo list`.\n"


def test_debug_flag_shows_the_exception(invoke: Any) -> None:
    with pytest.raises(zoo.UnknownNameError):
        invoke("--debug", "info", "lstn")


def test_bad_registry_file_is_a_clear_error(invoke: Any, tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text("[models.x]\narchitecture = 'nope'\n")
    result = invoke("--registry", str(path), "list")
    assert result.exit_code == 1
    assert "Error: " in result.output and "entry 'x', key 'architecture'" in result.output


def test_plugin_commands_hook(make_plugins: Any, invoke: Any) -> None:
    class Adds:
        @zoo.hookimpl
        def register_commands(self, cli: click.Group) -> None:
            @cli.command()
            def hello() -> None:
                """Say hello."""
                click.echo("hello from a plugin")

    result = invoke("hello", cli_plugins=make_plugins(Adds()))
    assert result.output == "hello from a plugin\n"


@pytest.mark.parametrize(
    "args", [["--help"], ["list"], ["list", "--json"], ["plugins"], ["info", "bilstm"]]
)
def test_light_commands_import_neither_torch_nor_onnxruntime_nor_rich(args: list[str]) -> None:
    code = (
        "import sys\n"
        "from zoo.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
        "heavy = {'torch', 'onnxruntime', 'onnx', 'numpy', 'rich'}\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in heavy)\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout, out.stdout


def test_list_leaves_the_export_pipeline_unimported() -> None:
    """`zoo list` runs on every start; the pipeline's modules (and their imports) load only
    when something is exported: docs/benchmarks.md, section cli."""
    code = (
        "import sys\n"
        "from zoo.cli import main\n"
        "try:\n    main(['list'])\nexcept SystemExit:\n    pass\n"
        "pipeline = ('zoo.export._pipeline', 'zoo.export._verify', 'zoo.catalog._source',\n"
        "            'zoo.checkpoint', 'zoo.parity', 'zoo.testing', 'zoo.bench',\n"
        "            'zoo.train._run', 'zoo.inference', 'zoo.data._load', 'hashlib', 'logging')\n"
        "loaded = [m for m in sys.modules if m.startswith(pipeline)]\n"
        "print('LOADED', sorted(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "LOADED []" in out.stdout, out.stdout
