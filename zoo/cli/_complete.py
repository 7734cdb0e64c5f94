"""Shell completion of what zoo knows: model names and exporter names.

click completes commands and options itself (`_ZOO_COMPLETE=bash_source zoo`, README);
these callbacks add the values. A model NAME completes to the registry entries and the
installed architectures (`zoo list`'s names, including `--registry FILE` given before or
after the command and `ZOO_REGISTRY`), and to file names once the word looks like a path;
`--format` completes to the registered exporters. During completion click parses without
running the group, so the plugins and registries are loaded here; a registry that fails to
load completes nothing rather than printing an error into the shell.

Imports only click and zoo's light modules (completion runs on every Tab).
"""

from __future__ import annotations

from pathlib import Path

import click
from click.shell_completion import CompletionItem

from zoo._errors import ZooError
from zoo.cli._common import COMMAND_REGISTRIES


def _registries(ctx: click.Context) -> list[Path]:
    """`--registry` files given on the command line so far (group and command)."""
    found: list[Path] = []
    current: click.Context | None = ctx
    while current is not None:
        found += [Path(p) for p in current.params.get("registries") or ()]
        current = current.parent
    return found + [Path(p) for p in ctx.meta.get(COMMAND_REGISTRIES, ())]


def model_names(ctx: click.Context) -> list[str]:
    """Every name `zoo list` shows with the registries given so far; [] if any fails."""
    from zoo._manager import load_plugins
    from zoo.catalog._session import App

    try:
        return App(load_plugins(), _registries(ctx)).model_names()
    except (ZooError, OSError):
        return []


def complete_model(
    ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Model names starting with `incomplete`; file names once it looks like a path."""
    if "/" in incomplete or incomplete.startswith("."):
        return [CompletionItem(incomplete, type="file")]
    return [CompletionItem(n) for n in model_names(ctx) if n.startswith(incomplete)]


def complete_exporter(
    _ctx: click.Context, _param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Registered exporter names (`zoo plugins`) starting with `incomplete`."""
    from zoo._manager import load_plugins

    try:
        exporters = load_plugins().exporters
    except ZooError:
        return []
    return [
        CompletionItem(name, help=exporter.description)
        for name, exporter in sorted(exporters.items())
        if name.startswith(incomplete)
    ]
