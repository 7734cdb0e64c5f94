"""The `zoo` command line: parses arguments, calls the library, converts errors.

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
from typing import TYPE_CHECKING, Any

import click

from zoo._version import __version__
from zoo.app import App
from zoo.errors import ConfigError, ZooError
from zoo.manager import Plugins, load_plugins
from zoo.spec import parse_assignments
from zoo.tables import format_table

if TYPE_CHECKING:
    from zoo.parity import ParityReport


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

    _add_export_commands(cli)
    _add_bench_command(cli)
    from zoo.cli_train import add_train_commands  # imports zoo.cli: not at top
    from zoo.cli_trained import add_trained_commands  # the same

    add_train_commands(cli)
    add_trained_commands(cli)
    plugins.add_commands(cli)
    return cli


def _parity_table(reports: Sequence[ParityReport]) -> str:
    rows = []
    for report in reports:
        for row in report.rows():
            rows.append(
                (
                    report.artifact,
                    row["output"],
                    row["cases"],
                    _sci(row["max_abs"]),
                    _sci(row["max_rel"]),
                    f"{report.atol:g}",
                    f"{report.rtol:g}",
                    _verdict(row),
                )
            )
    headers = ("ARTIFACT", "OUTPUT", "CASES", "MAX ABS", "MAX REL", "ATOL", "RTOL", "RESULT")
    return format_table(headers, rows)


def _verdict(row: dict[str, Any]) -> str:
    if row.get("advisory"):  # a lossy format, judged by its task metric row instead
        return "info" + (f" (outside tolerance: {row['problem']})" if row["problem"] else "")
    return "pass" if row["passed"] else f"FAIL {row['problem']}"


def _sci(value: float | None) -> str:
    return "-" if value is None else f"{value:.2e}"


def _failure_lines(reports: Sequence[ParityReport]) -> list[str]:
    """One line per failing artifact: how many checks failed and the first one."""
    lines = []
    for report in reports:
        if report.failures:
            first = report.failures[0]
            lines.append(
                f"{report.artifact}: {len(report.failures)} of {len(report.checks)} checks "
                f"failed; first: output {first.output!r} at {first.case}: {first.problem}"
            )
    return lines


tolerance = click.FloatRange(min=0.0, min_open=True)

ort_provider_option = click.option(
    "--ort-provider",
    type=click.Choice(["cpu", "cuda"]),
    default="cpu",
    show_default=True,
    help="onnxruntime execution provider of the ONNX parity check (cuda: onnxruntime-gpu).",
)


def _add_export_commands(cli: click.Group) -> None:
    @cli.command("export")
    @click.argument("name", required=False)
    @click.option(
        "--checkpoint",
        type=click.Path(path_type=Path),
        help="Export a trained checkpoint directory instead of a registry entry.",
    )
    @click.option("--onnx", "formats", flag_value="onnx", multiple=True, help="ONNX (onnxruntime).")
    @click.option(
        "--torchscript", "formats", flag_value="torchscript", multiple=True, help="TorchScript."
    )
    @click.option("--pt2", "formats", flag_value="pt2", multiple=True, help="torch.export .pt2.")
    @click.option("--format", "formats", multiple=True, help="Any registered exporter by name.")
    @click.option("--all", "all_formats", is_flag=True, help="Every registered exporter.")
    @click.option(
        "--out", type=click.Path(path_type=Path), default=Path("exports"), show_default=True
    )
    @click.option(
        "--opset", type=click.IntRange(17, 23), default=18, show_default=True, help="ONNX opset."
    )
    @click.option("--legacy", is_flag=True, help="ONNX via the deprecated TorchScript exporter.")
    @click.option(
        "--lengths",
        is_flag=True,
        help="Add the input `lengths` (int64, (batch,)): valid steps per padded sequence.",
    )
    @click.option(
        "--atol", type=tolerance, help="Absolute tolerance (default: the exporter's, 1e-4)."
    )
    @click.option(
        "--rtol", type=tolerance, help="Relative tolerance (default: the exporter's, 1e-3)."
    )
    @click.option("--seed", type=int, default=0, show_default=True, help="Seed of random weights.")
    @click.option(
        "--set", "assignments", multiple=True, metavar="KEY=VALUE", help="Config override."
    )
    @ort_provider_option
    @json_option
    @click.pass_context
    def export(
        ctx: click.Context,
        name: str | None,
        checkpoint: Path | None,
        formats: tuple[str, ...],
        all_formats: bool,
        out: Path,
        opset: int,
        legacy: bool,
        lengths: bool,
        atol: float | None,
        rtol: float | None,
        seed: int,
        assignments: tuple[str, ...],
        ort_provider: str,
        as_json: bool,
    ) -> None:
        """Export model NAME (or --checkpoint DIR) and prove parity with PyTorch.

        Each artifact is loaded back in its own runtime and compared with eager PyTorch on
        every output (y, hidden, h_n, c_n) at shapes never traced, with and without initial
        states, and chunk by chunk for unidirectional models. Only artifacts that pass are
        written to --out; a JSON report goes beside them. Exit status 1 if any fails.

        With --lengths the artifacts also take `lengths` (each sequence's valid steps in a
        padded batch) and parity runs on padded batches with mixed lengths instead.

        \b
        zoo export bilstm --onnx
        zoo export bilstm --all --lengths
        zoo export lstm --all --out build/
        zoo export --checkpoint runs/lstm --onnx
        zoo export lstm --onnx --ort-provider cuda      # parity on the GPU
        """
        from zoo import models
        from zoo.exporting import export_model

        app = _app(ctx)
        if (name is None) == (checkpoint is None):
            raise click.UsageError("Give a model NAME or --checkpoint DIR (one of them).")
        chosen = sorted(app.plugins.exporters) if all_formats else list(dict.fromkeys(formats))
        exporters = [app.plugins.exporter(f) for f in chosen or ["onnx"]]
        if checkpoint is not None:
            if assignments:
                raise click.UsageError("--set cannot change a checkpoint's config.")
            source = models.from_checkpoint(app, checkpoint)
        else:
            assert name is not None
            with set_errors():
                source = models.from_name(app, name, parse_assignments(assignments), seed=seed)
        summary = export_model(
            source,
            exporters,
            out,
            opset=opset,
            legacy=legacy,
            atol=atol,
            rtol=rtol,
            lengths=lengths,
            progress=lambda line: click.echo(line, err=True),
            ort_provider=ort_provider,
        )
        reports = [a.report for a in summary.artifacts if a.report is not None]
        if as_json:
            _echo_json(summary.to_dict())
        else:
            click.echo(_parity_table(reports))
            click.echo(f"report: {summary.report_path}")
        errors = [f"{a.exporter}: {a.error}" for a in summary.artifacts if a.error]
        errors += _failure_lines(reports)
        if errors:
            raise ZooError("Export failed; nothing failing was written.\n  " + "\n  ".join(errors))

    @cli.command()
    @click.argument("artifact", type=click.Path(path_type=Path))
    @click.option(
        "--checkpoint",
        type=click.Path(path_type=Path),
        help="The checkpoint it was exported from (default: the one recorded in it).",
    )
    @click.option("--atol", type=tolerance, help="Absolute tolerance (default: the exporter's).")
    @click.option("--rtol", type=tolerance, help="Relative tolerance (default: the exporter's).")
    @ort_provider_option
    @json_option
    @click.pass_context
    def verify(
        ctx: click.Context,
        artifact: Path,
        checkpoint: Path | None,
        atol: float | None,
        rtol: float | None,
        ort_provider: str,
        as_json: bool,
    ) -> None:
        """Re-run the parity check of an exported ARTIFACT against PyTorch.

        The reference model is rebuilt from the artifact's zoo metadata: the same seeded
        random weights, or the checkpoint it was exported from (sha256 checked).
        Exit status 1 if any output differs.
        """
        from zoo.exporting import verify_artifact

        report = verify_artifact(_app(ctx), artifact, checkpoint, atol, rtol, ort_provider)
        if as_json:
            _echo_json(report.to_dict())
        else:
            click.echo(_parity_table([report]))
        if not report.passed:
            raise ZooError("Parity failed:\n  " + "\n  ".join(_failure_lines([report])))


def _add_bench_command(cli: click.Group) -> None:
    @cli.command()
    @click.option(
        "--full", "mode", flag_value="full", default=True, help="The whole grid (default)."
    )
    @click.option("--quick", "mode", flag_value="quick", help="Fewer repeats, no seq-1000 cells.")
    @click.option("--tiny", "mode", flag_value="tiny", help="Smallest settings: checks it runs.")
    @click.option(
        "--section", "sections", multiple=True, help="Run only this section (repeatable)."
    )
    @click.option(
        "--out", type=click.Path(path_type=Path), help="Also write bench.json and bench.md here."
    )
    @json_option
    def bench(mode: str, sections: tuple[str, ...], out: Path | None, as_json: bool) -> None:
        """Measure zoo's speed goals side by side and print medians and ratios.

        Sections: cli, cli-scale, export, ort-options, inference, efficiency. Everything
        compared is timed in this run, interleaved; each goal is met or missed on a ratio
        of two medians. docs/benchmarks.md explains the sections and the goals.

        \b
        zoo bench --quick
        zoo bench --section inference --out bench/
        """
        from zoo.bench import run_bench
        from zoo.benchmarks.report import to_text

        result = run_bench(
            mode, sections or None, out, progress=lambda line: click.echo(line, err=True)
        )
        click.echo(result.to_json() if as_json else to_text(result), nl=False)


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
