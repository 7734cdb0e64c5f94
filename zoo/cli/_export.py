"""The export commands: `zoo export` and `zoo verify`, with their parity table.

Thin like the rest of `zoo.cli`: parse arguments, call zoo.export._pipeline and _verify,
print. Importing this module imports neither torch nor onnxruntime; the commands import
them through the pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from zoo._errors import ZooError
from zoo._spec import parse_assignments
from zoo._tables import format_table
from zoo.cli._common import F, echo_json, json_option, session, set_errors

if TYPE_CHECKING:
    from zoo.parity._report import ParityReport


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


def task_options(command: F) -> F:
    """--data and --accept-elementwise: how a lossy format of a trained checkpoint is judged."""
    command = click.option(
        "--accept-elementwise",
        is_flag=True,
        help="For a lossy format (onnx-int8) of a trained checkpoint whose task metric cannot "
        "be computed: judge it by its elementwise tolerance instead of failing.",
    )(command)
    return click.option(
        "--data",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Labelled CSV data for a lossy format's task metric (default: the checkpoint's "
        "own: its built-in task, or its training CSV checked by digest, held-out windows).",
    )(command)


def add_export_commands(cli: click.Group) -> None:
    """Register export and verify on the `zoo` group."""

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
    @task_options
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
        data: Path | None,
        accept_elementwise: bool,
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
        from zoo.catalog import _source as models
        from zoo.export._pipeline import export_model
        from zoo.export._proof import TaskJudge

        app = session(ctx)
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
            judge=TaskJudge(data, accept_elementwise),
        )
        reports = [a.report for a in summary.artifacts if a.report is not None]
        if as_json:
            echo_json(summary.to_dict())
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
    @task_options
    @ort_provider_option
    @click.option(
        "--trust-code",
        is_flag=True,
        help="Open TorchScript files, and pt2 files holding more than plain data: loading "
        "them runs code from the file. Only for files you trust.",
    )
    @click.option(
        "--runtime",
        type=click.Choice(["onnxruntime", "onnx-reference", "openvino", "tract", "all"]),
        help="Replay the ONNX artifact's test data bundle on this runtime (all: a matrix of "
        "every one; missing or refusing runtimes are shown, never passed). No torch needed.",
    )
    @json_option
    @click.pass_context
    def verify(
        ctx: click.Context,
        artifact: Path,
        checkpoint: Path | None,
        atol: float | None,
        rtol: float | None,
        data: Path | None,
        accept_elementwise: bool,
        ort_provider: str,
        trust_code: bool,
        runtime: str | None,
        as_json: bool,
    ) -> None:
        """Re-run the parity check of an exported ARTIFACT against PyTorch.

        The reference model is rebuilt from the artifact's zoo metadata: the same seeded
        random weights, or the checkpoint it was exported from (sha256 checked); an ONNX
        artifact's test data bundle (NAME.test_data/) is replayed too. Without torch or the
        model's plugin, the bundle alone is replayed (docs/deploy.md).
        Exit status 1 if any output differs.

        \b
        zoo verify exports/lstm.onnx
        zoo verify exports/lstm.onnx --runtime all
        """
        from zoo.export._deployed import verify_deployed
        from zoo.export._proof import TaskJudge

        verdict = verify_deployed(
            session(ctx), artifact, runtime=runtime, checkpoint=checkpoint, atol=atol,
            rtol=rtol, ort_provider=ort_provider, trust_code=trust_code,
            judge=TaskJudge(data, accept_elementwise),
        )  # fmt: skip
        if as_json:
            echo_json(verdict.to_dict() if verdict.replays else verdict.reports[0].to_dict())
        else:
            if verdict.note:
                click.echo(f"note: {verdict.note}", err=True)
            if runtime is None:
                click.echo(_parity_table(verdict.reports))
            else:
                click.echo(_matrix(verdict.replays))
        if not verdict.passed:
            lines = _failure_lines(verdict.reports) + verdict.problems()
            raise ZooError("Parity failed:\n  " + "\n  ".join(lines))


def _matrix(results: Sequence[tuple[str, Any]]) -> str:
    from zoo.export._runtimes import MATRIX_HEADERS, matrix_rows

    return format_table(MATRIX_HEADERS, matrix_rows(results))
