"""What every command module shares: the session in the click context, JSON output, the
`--set` error rule, the command line as given.

Importing it imports neither torch nor onnxruntime.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from zoo._errors import ConfigError
from zoo._limits import NON_FINITE, strict_json
from zoo.catalog._session import App

F = TypeVar("F", bound=Callable[..., Any])

#: `ctx.meta` key of the command line as given (`zoo train --nproc` passes it on).
ARGV = "zoo.argv"


def echo_json(data: Any) -> None:
    """Print `data` as indented, strict JSON (the `--json` output of every command).

    NaN and infinities, which JSON cannot hold (`jq` rejects them), are printed as null: an
    object gains a `non_finite` member mapping each one's JSON Pointer to "NaN", "Infinity"
    or "-Infinity" (zoo._limits); for a list, a warning on stderr says the same.
    """
    clean, found = strict_json(data)
    if found and isinstance(clean, dict):
        clean = {**clean, NON_FINITE: found}
    elif found:
        shown = ", ".join(f"{k} ({v})" for k, v in list(found.items())[:5])
        more = f" and {len(found) - 5} more" if len(found) > 5 else ""
        click.echo(f"warning: printed as null, not finite numbers: {shown}{more}", err=True)
    click.echo(json.dumps(clean, indent=2, sort_keys=False, allow_nan=False))


def session(ctx: click.Context) -> App:
    """The session the `zoo` group created for this invocation."""
    app = ctx.find_object(App)
    assert app is not None, "the zoo group creates the App"
    return app


@contextlib.contextmanager
def set_errors() -> Iterator[None]:
    """A bad --set value is a usage error (exit 2), like any other bad option value."""
    try:
        yield
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="'--set'") from None


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


#: `ctx.meta` key of the registry files given after a command (shell completion reads it).
COMMAND_REGISTRIES = "zoo.command_registries"


def _add_registries(ctx: click.Context, _param: click.Parameter, value: tuple[Path, ...]) -> None:
    ctx.meta.setdefault(COMMAND_REGISTRIES, []).extend(value)
    if value and ctx.find_object(App) is not None:  # None while the shell completes
        app = session(ctx)
        ctx.obj = App(app.plugins, [*app.extra_registries, *value])


#: `--registry FILE` after a command (`zoo export --registry FILE NAME`), as before it: the
#: command's session reads that registry file too.
command_registry_option = click.option(
    "--registry",
    "registries",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    expose_value=False,
    is_eager=True,
    callback=_add_registries,
    help="Also read this registry TOML file (repeatable; as `zoo --registry FILE ...`).",
)


def registry_option(help: str) -> Callable[[F], F]:
    """`--registry FILE`, repeatable, into the `registries` parameter."""
    return click.option(
        "--registry",
        "registries",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help=help,
    )
