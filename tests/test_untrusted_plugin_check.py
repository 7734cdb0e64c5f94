"""The plugin-facing field of untrusted files: an exporter's `check_untrusted` that crashes
makes zoo refuse the file (it cannot tell whether opening it is safe), and one that is not
callable is reported as a malformed plugin."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from limits_support import refused_untrusted

import zoo
from zoo.cli import create_cli


def _exporter_plugin(name: str, check: Any) -> object:
    """A plugin registering the onnx exporter again as NAME, with `check_untrusted=check`."""
    base = zoo.load_plugins().exporter("onnx")
    spec = dataclasses.replace(base, name=name, suffix=f".{name}", check_untrusted=check)

    class Plugin:
        @zoo.hookimpl
        def register_exporters(self, register: Callable[[zoo.Exporter], None]) -> None:
            register(spec)

    return Plugin()


def test_a_check_that_crashes_refuses_and_one_that_is_not_callable_is_malformed(
    tmp_path: Path,
) -> None:
    def crash(path: Path) -> None:
        raise RuntimeError("bug")

    group = create_cli(zoo.load_plugins(extra=[("p", _exporter_plugin("fragile", crash))]))
    path = tmp_path / "m.fragile"
    path.write_bytes(b"")
    result = CliRunner().invoke(group, ["verify", str(path)])
    refused_untrusted(
        result, f"Cannot tell whether '{path}' (fragile) is safe to open: RuntimeError: bug"
    )
    plugins = zoo.load_plugins(extra=[("p", _exporter_plugin("bad", "yes"))])
    assert "check_untrusted must be callable or None" in " ".join(map(str, plugins.problems))
