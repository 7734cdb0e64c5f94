"""The export commands: `zoo export` and `zoo verify` (their parity table: zoo.cli._parity_table).

Thin like the rest of `zoo.cli`: parse arguments, call zoo.export._pipeline and _verify,
print. Importing this module imports neither torch nor onnxruntime; the commands import
them through the pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from zoo._errors import ZooError
from zoo._spec import parse_assignments
from zoo.cli._common import (
    F,
    command_registry_option,
    echo_json,
    json_option,
    session,
    set_errors,
)
from zoo.cli._complete import complete_exporter, complete_model
from zoo.cli._output import quiet_option
from zoo.cli._parity_table import failure_lines, print_parity_table, runtime_matrix

if TYPE_CHECKING:
    from zoo._spec import Exporter


#: What ends the file name of a checkpoint's export (`runs/lstm` -> `lstm-trained.onnx`):
#: unlike a registry entry's name, a folder's name says nothing about the weights inside.
CHECKPOINT_STEM = "-trained"

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


def _check_legacy(exporters: Sequence[Exporter]) -> None:
    """--legacy chooses the ONNX route: a usage error when no chosen exporter writes ONNX,
    a note naming those it does not apply to otherwise."""
    onnx = [e.name for e in exporters if e.suffix.endswith(".onnx")]
    others = [e.name for e in exporters if not e.suffix.endswith(".onnx")]
    if not onnx:
        raise click.UsageError(
            f"--legacy selects the deprecated TorchScript-based ONNX exporter; it does not "
            f"apply to {', '.join(others)}. Add --onnx, or leave --legacy out."
        )
    if others:
        click.echo(
            f"note: --legacy applies to {', '.join(onnx)} only, not {', '.join(others)}.", err=True
        )


def add_export_commands(cli: click.Group) -> None:
    """Register export and verify on the `zoo` group."""

    @cli.command("export")
    @click.argument("name", required=False, shell_complete=complete_model)
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
    @click.option(
        "--format",
        "formats",
        multiple=True,
        shell_complete=complete_exporter,
        help="Any registered exporter by name (`zoo plugins` lists them).",
    )
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
    @click.option(
        "--seed",
        type=click.IntRange(min=0),
        default=0,
        show_default=True,
        help="Seed of random weights (a registry entry without a checkpoint).",
    )
    @click.option(
        "--force",
        is_flag=True,
        help="Replace a file at the destination that holds another model (default: refuse).",
    )
    @click.option(
        "--no-cache",
        is_flag=True,
        help="Export the ONNX graph afresh: neither read nor write zoo's graph cache.",
    )
    @task_options
    @click.option(
        "--set", "assignments", multiple=True, metavar="KEY=VALUE", help="Config override."
    )
    @ort_provider_option
    @quiet_option
    @command_registry_option
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
        force: bool,
        no_cache: bool,
        assignments: tuple[str, ...],
        data: Path | None,
        accept_elementwise: bool,
        ort_provider: str,
        quiet: bool,
        as_json: bool,
    ) -> None:
        """Export model NAME (or --checkpoint DIR) and prove parity with PyTorch; only
        artifacts that pass are written.

        Each artifact is loaded back in its own runtime and compared with eager PyTorch on
        every output (y, hidden, h_n, c_n) at shapes never traced, with and without initial
        states, and chunk by chunk for unidirectional models. Only artifacts that pass are
        written to --out, with a JSON report beside each (ARTIFACT.parity.json). Exit
        status 1 if any fails.

        Files are named after what they hold: NAME.onnx for a registry entry, and
        FOLDER-trained.onnx for --checkpoint runs/FOLDER, so a trained model and a preset
        of the same name never share a file. A file there that holds another model is
        refused unless --force.

        With --lengths the artifacts also take `lengths` (each sequence's valid steps in a
        padded batch) and parity runs on padded batches with mixed lengths instead.

        The ONNX graph of an architecture, config and code exported before comes from zoo's
        cache (in ZOO_CACHE_DIR, default ~/.cache/zoo) with this model's weights filled in,
        and is proven the same way; that skips most of torch's exporter. --no-cache
        exports afresh.

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
        if legacy:
            _check_legacy(exporters)
        if checkpoint is not None:
            if assignments:
                raise click.UsageError("--set cannot change a checkpoint's config.")
            if ctx.get_parameter_source("seed") != click.core.ParameterSource.DEFAULT:
                raise click.UsageError(
                    "--seed seeds random weights; a --checkpoint has trained weights. Leave "
                    "--seed out, or export a model NAME with --seed N."
                )
            source = models.from_checkpoint(app, checkpoint)
            stem = f"{source.name}{CHECKPOINT_STEM}"
        else:
            assert name is not None
            with set_errors():
                source = models.from_name(app, name, parse_assignments(assignments), seed=seed)
            stem = source.name
        summary = export_model(
            source,
            exporters,
            out,
            opset=opset,
            legacy=legacy,
            atol=atol,
            rtol=rtol,
            lengths=lengths,
            progress=(lambda line: None) if quiet else (lambda line: click.echo(line, err=True)),
            ort_provider=ort_provider,
            judge=TaskJudge(data, accept_elementwise),
            stem=stem,
            force=force,
            graph_cache=not no_cache,
        )
        reports = [a.report for a in summary.artifacts if a.report is not None]
        if as_json:
            echo_json(summary.to_dict())
        else:
            if not quiet:
                print_parity_table(reports)
            for path in summary.report_paths:
                click.echo(f"report: {path}")
        errors = [f"{a.exporter}: {a.error}" for a in summary.artifacts if a.error]
        errors += failure_lines(reports)
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
    @quiet_option
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
        quiet: bool,
        as_json: bool,
    ) -> None:
        """Re-run the parity check of an exported ARTIFACT against PyTorch and replay its test
        data bundle (without torch: the bundle alone; --runtime R: on R, or all of them as a
        matrix); TorchScript and pt2 files that can run code when loaded open only with
        --trust-code.

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
            if verdict.note and not quiet:
                click.echo(f"note: {verdict.note}", err=True)
            if quiet:
                if verdict.passed:
                    checks = sum(len(r.checks) for r in verdict.reports)
                    click.echo(f"{artifact}: parity passed ({checks} checks)")
            elif runtime is None:
                print_parity_table(verdict.reports)
            else:
                click.echo(runtime_matrix(verdict.replays))
        if not verdict.passed:
            lines = failure_lines(verdict.reports) + verdict.problems()
            raise ZooError("Parity failed:\n  " + "\n  ".join(lines))
