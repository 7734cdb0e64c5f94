"""The hooks a zoo plugin can implement (pluggy project name ``zoo``).

A plugin is a module (or object) with functions decorated by ``zoo.hookimpl`` whose names
and arguments match the specs below. Third-party plugins are found through the entry-point
group ``zoo``; the built-in plugins register through exactly these hooks.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from zoo._spec import Architecture, Exporter
    from zoo.data._source import DataSource

hookspec = pluggy.HookspecMarker("zoo")
hookimpl = pluggy.HookimplMarker("zoo")


@hookspec
def register_architectures(register: Callable[[Architecture], None]) -> None:
    """Register model architectures: call ``register(zoo.Architecture(...))`` once for each.

    Two plugins registering the same architecture name is an error naming both.
    Keep torch out of module top level: ``Architecture.build`` imports it when called.
    """


@hookspec
def register_exporters(register: Callable[[Exporter], None]) -> None:
    """Register export formats: call ``register(zoo.Exporter(...))`` once for each."""


@hookspec
def register_datasets(register: Callable[[DataSource], None]) -> None:
    """Register data sets: call ``register(zoo.DataSource(...))`` once for each.

    Two plugins registering the same data set name is an error naming both. Listing must
    stay cheap: keep numpy and file reading inside ``DataSource.load``, which runs only
    when a command trains or evaluates on the data.
    """


@hookspec
def register_registry_files(register: Callable[[Path], None]) -> None:
    """Contribute named models: call ``register(path)`` with a registry TOML file.

    Checkpoint paths in that file are relative to its folder (see registry.toml).
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands to the ``zoo`` CLI: ``@cli.command()`` inside the hook.

    Import heavy libraries inside the command functions, not here: this hook runs on every
    ``zoo`` invocation, ``zoo --help`` included.
    """
