"""Defects the layout issue named, each pinned by a test that failed before the fix:
`zoo --debug export` hid an exporter's traceback, architectures and registry entries had
two name rules, export outputs were committed to the repository."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import zoo
from zoo._manager import Plugins

REPO = Path(__file__).resolve().parent.parent


class _Boom:
    """An exporter plugin whose export fails with a plain (non-zoo) exception."""

    @zoo.hookimpl
    def register_exporters(self, register: Callable[[zoo.Exporter], None]) -> None:
        def export(job: zoo.ExportJob) -> None:
            raise RuntimeError("boom inside the exporter")

        register(
            zoo.Exporter(name="boom", suffix=".boom", export=export, load=print, read_metadata=dict)
        )


def test_debug_flag_shows_an_exporters_traceback(
    invoke: Any, make_plugins: Callable[..., Plugins], tmp_path: Path
) -> None:
    plugins = make_plugins(_Boom())
    quiet = invoke("export", "rnn", "--format", "boom", "--out", str(tmp_path), cli_plugins=plugins)
    assert quiet.exit_code == 1
    assert "export failed: RuntimeError: boom inside the exporter" in quiet.output
    with pytest.raises(RuntimeError, match="boom inside the exporter"):
        invoke(
            "--debug", "export", "rnn", "--format", "boom", "--out", str(tmp_path),
            cli_plugins=plugins,
        )  # fmt: skip


def test_debug_mode_ends_with_the_command(
    invoke: Any, make_plugins: Callable[..., Plugins], tmp_path: Path
) -> None:
    plugins = make_plugins(_Boom())
    with pytest.raises(RuntimeError):
        invoke("--debug", "export", "rnn", "--format", "boom", "--out", str(tmp_path),
               cli_plugins=plugins)  # fmt: skip
    again = invoke("export", "rnn", "--format", "boom", "--out", str(tmp_path), cli_plugins=plugins)
    assert again.exit_code == 1 and "export failed" in again.output


class _Named:
    """An architecture whose name a registry entry could also carry: capitals and a dot."""

    @zoo.hookimpl
    def register_architectures(self, register: Callable[[zoo.Architecture], None]) -> None:
        lstm = zoo.load_plugins(third_party=False).architecture("lstm")
        register(zoo.Architecture(name="LSTM.v2", build=lstm.build, defaults=lstm.defaults))


def test_architectures_and_registry_entries_share_one_name_rule(
    make_plugins: Callable[..., Plugins], tmp_path: Path
) -> None:
    plugins = make_plugins(_Named(), strict=True)
    assert "LSTM.v2" in plugins.architectures
    registry = tmp_path / "r.toml"
    registry.write_text('[models."LSTM.v2-small"]\narchitecture = "LSTM.v2"\n')
    loaded = zoo.Registry.load([registry], plugins.architectures)
    assert "LSTM.v2-small" in loaded.entries


@pytest.mark.parametrize("name", ["Bad Name", "-lead", ".hidden", "a/b", ""])
def test_the_name_rule_still_refuses_what_it_must(
    make_plugins: Callable[..., Plugins], name: str
) -> None:
    class Bad:
        @zoo.hookimpl
        def register_architectures(self, register: Callable[[zoo.Architecture], None]) -> None:
            register(zoo.Architecture(name=name, build=print, defaults={}))

    with pytest.raises(zoo.PluginError, match="must use letters, digits"):
        make_plugins(Bad(), strict=True)


def test_no_export_output_is_committed() -> None:
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    outputs = (".parity.json", ".torchscript.pt", ".onnx", ".pt2")
    stray = [f for f in tracked if f.startswith("exports/") or f.endswith(outputs)]
    assert not stray, stray
    ignored = subprocess.run(
        ["git", "check-ignore", "exports/x.onnx", "m.parity.json", "m.torchscript.pt",
         "zoo-registry.toml", "m.int8.onnx"],
        cwd=REPO, capture_output=True, text=True,
    ).stdout.split()  # fmt: skip
    assert len(ignored) == 5, ignored
