"""docs/plugins.md stays honest: every hook with its exact signature, every spec field."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

import pytest

import zoo
from zoo import _hooks as hookspecs

DOCS = (Path(__file__).resolve().parents[1] / "docs" / "plugins.md").read_text()
HOOKS = [n for n, f in vars(hookspecs).items() if callable(f) and hasattr(f, "zoo_spec")]


def test_hooks_exist() -> None:
    assert set(HOOKS) == {
        "register_architectures",
        "register_exporters",
        "register_datasets",
        "register_registry_files",
        "register_commands",
    }


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_is_documented_with_its_signature(name: str) -> None:
    signature = inspect.signature(getattr(hookspecs, name))
    params = ", ".join(f"{p.name}: {p.annotation}" for p in signature.parameters.values())
    line = f"def {name}({params}) -> {signature.return_annotation}:"
    assert line in DOCS
    assert f"@zoo.hookimpl\n{line}" in DOCS


@pytest.mark.parametrize("spec", [zoo.Architecture, zoo.Exporter])
def test_every_spec_field_is_documented(spec: type) -> None:
    for field in dataclasses.fields(spec):
        if field.name != "plugin":  # set by zoo, not by plugin authors
            documented = (f"| `{field.name}` |", f"| `{field.name}`, ", f", `{field.name}` |")
            assert any(cell in DOCS for cell in documented), field.name
