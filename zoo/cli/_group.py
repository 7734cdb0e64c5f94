"""The `zoo` command line: the group, its error conversion and the entry point.

The commands live one family per module: zoo.cli._catalog (list, info, plugins),
zoo.cli._export (export, verify), zoo.cli._bench, zoo.cli._train, zoo.cli._trained
(eval, predict, inspect, register) and zoo.cli._datasets (datasets, baseline); what they
share is in zoo.cli._common. Commands only parse arguments, call the library and print;
errors become one line here.

Importing this module imports neither torch nor onnxruntime; commands that need them import
them inside the library functions they call.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from zoo._errors import ZooError, debug_enabled, debug_mode
from zoo._manager import Plugins, load_plugins
from zoo._version import __version__
from zoo.catalog._session import App
from zoo.cli._bench import add_bench_command
from zoo.cli._catalog import add_catalog_commands
from zoo.cli._common import ARGV, registry_option
from zoo.cli._datasets import add_dataset_commands
from zoo.cli._export import add_export_commands
from zoo.cli._teardown import skip_final_collection
from zoo.cli._train import add_train_commands
from zoo.cli._trained import add_trained_commands


class ZooGroup(click.Group):
    """Turns a ZooError into a one-line error and exit 1 (traceback with --debug), and keeps
    the command line in `ctx.meta[ARGV]`.

    `--debug` holds for the whole invocation (`debug_mode`), so that library code that
    reports a failure as a line (an exporter's error in `zoo export`) shows its traceback too.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[ARGV] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        with debug_mode(bool(ctx.params.get("debug"))):
            try:
                return super().invoke(ctx)
            except ZooError as exc:
                if debug_enabled():
                    raise
                raise click.ClickException(str(exc)) from None


def create_cli(plugins: Plugins | None = None) -> click.Group:
    """The `zoo` group with built-in and plugin commands (plugins loaded here if not given)."""
    plugins = plugins if plugins is not None else load_plugins()

    @click.group(cls=ZooGroup, context_settings={"help_option_names": ["-h", "--help"]})
    @registry_option("Extra registry TOML file (repeatable; also ZOO_REGISTRY).")
    @click.option("--debug", is_flag=True, help="Show tracebacks (also ZOO_DEBUG=1).")
    @click.version_option(__version__, prog_name="zoo")
    @click.pass_context
    def cli(ctx: click.Context, registries: tuple[Path, ...], debug: bool) -> None:
        """zoo: recurrent models (RNN, LSTM, BiLSTM, plugins) you can train, export and verify.

        \b
        zoo list                      named models in the registry
        zoo list --trained            trained models: test metric next to a baseline
        zoo info bilstm               config, I/O contract with shapes, parameters
        zoo export bilstm --onnx      export, and prove parity with PyTorch
        zoo eval sunspots-lstm        reproduce a trained model's card
        zoo datasets                  the data sources of zoo train --data
        zoo plugins                   where each architecture and exporter comes from
        """
        ctx.obj = App(plugins=plugins, extra_registries=registries)

    add_catalog_commands(cli)
    add_export_commands(cli)
    add_bench_command(cli)
    add_train_commands(cli)
    add_trained_commands(cli)
    add_dataset_commands(cli)
    plugins.add_commands(cli)
    return cli


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        plugins = load_plugins()
    except ZooError as exc:
        if debug_enabled():
            raise
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    for problem in plugins.problems:
        click.echo(f"warning: {problem}", err=True)
    try:
        create_cli(plugins).main(args=list(argv) if argv is not None else None, prog_name="zoo")
    except SystemExit as exc:
        # A process of a torchrun job (see exit_process) has imported its module; the lookup
        # keeps every other command from importing it on the way out.
        distributed = sys.modules.get("zoo.train._distributed")
        if distributed is not None and distributed.joined():
            if exc.code is None or isinstance(exc.code, int):
                distributed.exit_process(exc.code or 0)
            click.echo(exc.code, err=True)
            distributed.exit_process(1)
        skip_final_collection()
        raise
