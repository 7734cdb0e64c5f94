"""The `zoo` command line: parses arguments, calls the library, converts errors.

Here: the group, its error conversion, list, info, plugins and the entry point. The other
commands are in zoo.cli_export (export, verify), zoo.cli_bench, zoo.cli_train and
zoo.cli_trained (eval, predict, inspect, register).

Importing this module imports neither torch nor onnxruntime; commands that need them import
them inside the library functions they call.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import click

from zoo._version import __version__
from zoo.app import App
from zoo.errors import ConfigError, ZooError
from zoo.manager import Plugins, load_plugins
from zoo.tables import format_table


def _debug(ctx: click.Context | None) -> bool:
    if os.environ.get("ZOO_DEBUG", "") not in ("", "0"):
        return True
    root = ctx.find_root() if ctx is not None else None
    return bool(root and root.params.get("debug"))


#: `ctx.meta` key of the command line as given (`zoo train --nproc` passes it on).
ARGV = "zoo.argv"


class ZooGroup(click.Group):
    """Turns a ZooError into a one-line error and exit 1 (traceback with --debug), and keeps
    the command line in `ctx.meta[ARGV]`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[ARGV] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ZooError as exc:
            if _debug(ctx):
                raise
            raise click.ClickException(str(exc)) from None


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False))


def _app(ctx: click.Context) -> App:
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


def create_cli(plugins: Plugins | None = None) -> click.Group:
    """The `zoo` group with built-in and plugin commands (plugins loaded here if not given)."""
    plugins = plugins if plugins is not None else load_plugins()

    @click.group(cls=ZooGroup, context_settings={"help_option_names": ["-h", "--help"]})
    @click.option(
        "--registry",
        "registries",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="Extra registry TOML file (repeatable; also ZOO_REGISTRY).",
    )
    @click.option("--debug", is_flag=True, help="Show tracebacks (also ZOO_DEBUG=1).")
    @click.version_option(__version__, prog_name="zoo")
    @click.pass_context
    def cli(ctx: click.Context, registries: tuple[Path, ...], debug: bool) -> None:
        """zoo: recurrent models (RNN, LSTM, BiLSTM, plugins) you can train, export and verify.

        \b
        zoo list                      named models in the registry
        zoo info bilstm               config, I/O contract with shapes, parameters
        zoo plugins                   where each architecture and exporter comes from
        """
        ctx.obj = App(plugins=plugins, extra_registries=registries)

    @cli.command("list")
    @click.argument("pattern", required=False)
    @click.option(
        "--registry",
        "registries",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="Also list this registry TOML file's models (repeatable).",
    )
    @json_option
    @click.pass_context
    def list_(
        ctx: click.Context, pattern: str | None, registries: tuple[Path, ...], as_json: bool
    ) -> None:
        """List registered models, optionally filtered by an fnmatch PATTERN (e.g. 'lstm*')."""
        app = _app(ctx)
        if registries:
            app = App(app.plugins, [*app.extra_registries, *registries])
        rows = [app.resolve(e.name).summary() for e in app.registry.match(pattern)]
        if as_json:
            _echo_json(rows)
            return
        if not rows:
            click.echo(f"No model matches {pattern!r}. Run `zoo list` for all.")
            return
        table = [
            (r["name"], r["architecture"], r["plugin"], r["num_params"], r["description"])
            for r in rows
        ]
        click.echo(format_table(("NAME", "ARCH", "PLUGIN", "PARAMS", "DESCRIPTION"), table))

    @cli.command()
    @click.argument("name")
    @json_option
    @click.pass_context
    def info(ctx: click.Context, name: str, as_json: bool) -> None:
        """Describe model NAME: config, I/O contract with shapes, parameter count."""
        data = _app(ctx).resolve(name).describe()
        if as_json:
            _echo_json(data)
            return
        click.echo(f"{data['name']}: {data['description']}")
        click.echo(f"  architecture  {data['architecture']} (plugin {data['plugin']})")
        click.echo(
            f"  parameters    {data['num_params'] if data['num_params'] is not None else '-'}"
        )
        if data["checkpoint"]:
            click.echo(f"  checkpoint    {data['checkpoint']} (sha256 {data['sha256']})")
        click.echo("  config")
        for key, value in data["config"].items():
            click.echo(f"    {key:<14}{value}")
        for section in ("inputs", "outputs"):
            click.echo(f"  {section}")
            for tname, t in data["io"][section].items():
                dims = ", ".join(str(d) for d in t["shape"])
                click.echo(f"    {tname:<8}({dims}) {t['dtype']}")
        click.echo(f"  dynamic axes  {', '.join(data['io']['dynamic_axes'])}")
        lengths = "yes (zoo export --lengths)" if data["supports_lengths"] else "no"
        click.echo(f"  lengths input {lengths}")

    @cli.command("plugins")
    @json_option
    @click.pass_context
    def plugins_(ctx: click.Context, as_json: bool) -> None:
        """Show each plugin: its distribution, version, hooks and what it registered."""
        loaded = _app(ctx).plugins
        archs = loaded.architectures
        exporters = loaded.exporters
        rows = []
        for info in loaded.infos.values():
            row = info.to_dict()
            row["architectures"] = sorted(a for a, s in archs.items() if s.plugin == info.name)
            row["exporters"] = sorted(e for e, s in exporters.items() if s.plugin == info.name)
            rows.append(row)
        if as_json:
            _echo_json({"plugins": rows, "problems": [str(p) for p in loaded.problems]})
            return
        table = [
            (
                r["name"],
                f"{r['distribution']} {r['version']}",
                ", ".join(r["architectures"] + r["exporters"]) or "-",
                ", ".join(r["hooks"]),
            )
            for r in rows
        ]
        click.echo(format_table(("PLUGIN", "DISTRIBUTION", "PROVIDES", "HOOKS"), table))

    # These modules import zoo.cli: not at top.
    from zoo.cli_bench import add_bench_command
    from zoo.cli_export import add_export_commands
    from zoo.cli_train import add_train_commands
    from zoo.cli_trained import add_trained_commands

    add_export_commands(cli)
    add_bench_command(cli)
    add_train_commands(cli)
    add_trained_commands(cli)
    plugins.add_commands(cli)
    return cli


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        plugins = load_plugins()
    except ZooError as exc:
        if _debug(None):
            raise
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    for problem in plugins.problems:
        click.echo(f"warning: {problem}", err=True)
    try:
        create_cli(plugins).main(args=list(argv) if argv is not None else None, prog_name="zoo")
    except SystemExit as exc:
        # A process of a torchrun job (see exit_process) has imported zoo.distributed; the
        # lookup keeps every other command from importing it on the way out.
        distributed = sys.modules.get("zoo.distributed")
        if distributed is not None and distributed.joined():
            if exc.code is None or isinstance(exc.code, int):
                distributed.exit_process(exc.code or 0)
            click.echo(exc.code, err=True)
            distributed.exit_process(1)
        raise
