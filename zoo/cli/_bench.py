"""`zoo bench`: zoo's speed goals, measured side by side (zoo.bench, docs/benchmarks.md).

Thin like `zoo.cli`: the benchmark code loads only when the command runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from zoo.cli._common import ARGV, json_option
from zoo.cli._output import quiet_option

#: The mode flags; one run has one mode.
MODE_FLAGS = ("--full", "--quick", "--tiny")


def add_bench_command(cli: click.Group) -> None:
    """Register bench on the `zoo` group."""

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
    @quiet_option
    @json_option
    @click.pass_context
    def bench(
        ctx: click.Context,
        mode: str,
        sections: tuple[str, ...],
        out: Path | None,
        quiet: bool,
        as_json: bool,
    ) -> None:
        """Measure zoo's speed goals side by side and print medians and ratios
        (docs/benchmarks.md).

        Sections: cli, cli-scale, export, export-steps, ort-options, batch-sessions,
        inference, efficiency, training, custom-cell.
        Everything compared is timed in this run, interleaved; each goal is met or missed
        on a measured ratio (the median over rounds of the two cases' ratio).
        docs/benchmarks.md explains the sections and the goals.

        \b
        zoo bench --quick
        zoo bench --section inference --out bench/
        """
        from zoo.bench._report import to_text
        from zoo.bench._run import run_bench, section_names

        given = sorted({a for a in ctx.meta.get(ARGV, ()) if a in MODE_FLAGS})
        if len(given) > 1:
            raise click.UsageError(f"{' and '.join(given)} exclude each other; choose one.")
        unknown = sorted(set(sections) - set(section_names()))
        if unknown:  # a bad value is a usage error (exit 2), like any other
            raise click.BadParameter(
                f"unknown section(s) {', '.join(map(repr, unknown))}; choose from "
                f"{', '.join(section_names())}.",
                param_hint="'--section'",
            )

        def progress(line: str) -> None:
            if not quiet:
                click.echo(line, err=True)

        result = run_bench(mode, sections or None, out, progress=progress)
        click.echo(result.to_json() if as_json else to_text(result), nl=False)
