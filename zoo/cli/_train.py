"""The training command: `zoo train`, with its progress display on stderr.

Thin like `zoo.cli`: parse arguments, call zoo.train (zoo.train_dist under torchrun), print.
Nothing heavy is imported at module level (torch and numpy load inside the commands), so
`zoo --help` stays fast.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

import click

from zoo._errors import ZooError
from zoo._spec import parse_assignments
from zoo.cli._common import (
    ARGV,
    command_registry_option,
    echo_json,
    json_option,
    session,
    set_errors,
)
from zoo.cli._complete import complete_model
from zoo.cli._options import DATA_HELP, csv_options, parse_features, size_options
from zoo.cli._output import quiet_option
from zoo.data._spec import DataOptions
from zoo.train._reporter import Reporter
from zoo.train._schedule import SCHEDULES

if TYPE_CHECKING:
    from collections.abc import Mapping

    from zoo._spec import Config
    from zoo.catalog._session import ResolvedModel
    from zoo.data._source import DataSource
    from zoo.train._distributed import World
    from zoo.train._settings import TrainResult, TrainSettings


#: The largest --lr accepted: Adam's steps are about lr in size, so a larger rate only
#: diverges (issue 18: --lr 1e6 ended with rel_mse 1e11 and exit status 0).
MAX_LR = 10.0


def add_train_commands(cli: click.Group) -> None:
    """Register train on the `zoo` group (zoo.cli._trained: the commands on its result)."""

    @cli.command()
    @click.argument("name", required=False, shell_complete=complete_model)
    @click.option("--data", "source", help=DATA_HELP + " Required unless --recipe.")
    @size_options
    @csv_options
    @click.option("--epochs", type=click.IntRange(min=1), default=20, show_default=True)
    @click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
    @click.option(
        "--lr",
        type=click.FloatRange(min=0.0, max=MAX_LR, min_open=True),
        default=3e-3,
        show_default=True,
        help=f"Adam learning rate, in (0, {MAX_LR:g}].",
    )
    @click.option(
        "--clip",
        type=click.FloatRange(min=0.0, min_open=True),
        default=1.0,
        show_default=True,
        help="Gradient-norm clipping threshold.",
    )
    @click.option(
        "--seed",
        type=click.IntRange(min=0),
        default=0,
        show_default=True,
        help="Seeds the weights, the shuffles, dropout and a built-in task's data.",
    )
    @click.option(
        "--weight-decay",
        type=click.FloatRange(min=0.0),
        default=0.0,
        show_default=True,
        help="Decoupled weight decay (AdamW); 0 trains with plain Adam.",
    )
    @click.option(
        "--schedule",
        type=click.Choice(SCHEDULES),
        default="none",
        show_default=True,
        help="Learning-rate schedule: cosine to 0 over --epochs, or halve on a validation plateau.",
    )
    @click.option(
        "--patience",
        type=click.IntRange(min=0),
        default=0,
        show_default=True,
        help="Early stopping: stop after this many epochs without a better validation loss "
        "(0: off). The checkpoint holds the best epoch either way.",
    )
    @click.option(
        "--recipe",
        metavar="MODEL",
        help="Rerun the recorded recipe of trained registry entry MODEL (its card's `zoo "
        "train` arguments, seed and threads included); only --out and --json may go with it.",
    )
    @click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
    @click.option(
        "--out", type=click.Path(path_type=Path), help="Output directory (default: runs/NAME)."
    )
    @click.option(
        "--set",
        "assignments",
        multiple=True,
        metavar="KEY=VALUE",
        help="Architecture config override, e.g. hidden_size=64 (repeatable).",
    )
    @click.option(
        "--resume",
        is_flag=True,
        help="Continue the run in --out after its last completed epoch (an error if there is "
        "none).",
    )
    @click.option(
        "--resume-if-exists",
        is_flag=True,
        help="Like --resume when --out holds a run; otherwise start a new one there.",
    )
    @click.option(
        "--threads",
        type=click.IntRange(min=0),
        help="torch intra-op threads, recorded in the run (default: 1 for a small model; a "
        "large one trains on the faster of 1 and all, probed first; 0: one per core).",
    )
    @click.option(
        "--nproc",
        type=click.IntRange(min=1),
        help="Train in N processes on this machine (torch.distributed through torchrun: DDP, "
        "gloo on CPU, nccl with one GPU each on CUDA). --batch-size stays the global batch, "
        "a multiple of N. Leave it out under torchrun. See docs/distributed.md.",
    )
    @quiet_option
    @command_registry_option
    @json_option
    @click.pass_context
    def train(
        ctx: click.Context,
        name: str,
        source: str,
        seq_len: int | None,
        samples: int | None,
        target: str | None,
        features: str | None,
        window: int | None,
        horizon: int | None,
        task: str | None,
        val_fraction: float,
        epochs: int,
        batch_size: int,
        lr: float,
        clip: float,
        seed: int,
        weight_decay: float,
        schedule: str,
        patience: int,
        threads: int | None,
        recipe: str | None,
        device: str,
        out: Path | None,
        assignments: tuple[str, ...],
        resume: bool,
        resume_if_exists: bool,
        nproc: int | None,
        quiet: bool,
        as_json: bool,
    ) -> None:
        """Train model NAME on a data source (zoo datasets) or a CSV file; the best epoch's
        checkpoint goes to --out (default runs/NAME); --nproc N trains in N processes
        (torch.distributed).

        NAME is an architecture or a registry entry (its config is the starting point;
        the weights start random). input_size and output_size come from the data.
        Each epoch validates; the checkpoint in --out always holds the best epoch so
        far, and --resume continues a killed run exactly where it stopped.

        \b
        zoo train lstm --data sine
        zoo train lstm --data adding --seq-len 50 --set hidden_size=64 --epochs 30
        zoo train lstm --data freq                      # classification
        zoo train lstm --data prices.csv --target close --window 30 --horizon 1
        zoo train lstm --data sine --out runs/x --resume
        zoo train lstm --data adding --nproc 2          # 2 processes, batch 32 each
        torchrun --nproc-per-node 2 -m zoo train lstm --data adding
        zoo train lstm --data sine --schedule cosine --patience 5 --weight-decay 1e-4
        zoo train --recipe sunspots-lstm --out runs/again   # reproduce a shipped model
        """
        from zoo.cli._output import make_console
        from zoo.cli._progress import result_line
        from zoo.cli._stopped import stop_on_ctrl_c
        from zoo.train._distributed import PeerFailed, World, rank_errors, wait_for_rank_0
        from zoo.train._settings import TrainSettings

        if recipe is not None:
            _rerun(ctx, recipe, out, as_json)
            return
        if name is None or source is None:
            raise click.UsageError("Give a model NAME and --data SOURCE (or --recipe MODEL).")
        world = World.from_env()
        out = out if out is not None else Path("runs") / name
        app = session(ctx)
        with set_errors():  # a bad --set is a usage error (exit 2), as in zoo export
            overrides = parse_assignments(assignments)
            with rank_errors(world):
                resolved = app.resolve(name, overrides)  # bad names and keys fail before data
        if world is None and resume and not resume_if_exists:
            check_resumable(out)
        resume = resume or resume_if_exists
        if world is None and nproc is not None and nproc > 1:
            from zoo.train._launch import launch_training

            with stop_on_ctrl_c(ctx, out, epochs, speak=True):
                launch_training(ctx.meta[ARGV], nproc, batch_size, device, out, resume)
            return
        if world is not None and nproc not in (None, world.local_world_size):
            raise click.UsageError(
                f"--nproc {nproc}, but torchrun started {world.local_world_size} processes on "
                "this machine. Under torchrun, leave --nproc out."
            )
        options = DataOptions(
            seq_len=seq_len,
            samples=samples,
            target=target,
            features=parse_features(features),
            window=window,
            horizon=horizon,
            task=task,
            val_fraction=val_fraction,
        )
        settings = TrainSettings(
            epochs, batch_size, lr, seed, device, clip, weight_decay, schedule, patience, threads
        )
        try:
            with (
                rank_errors(world),
                stop_on_ctrl_c(ctx, out, epochs, speaks_for_the_run(world)),
            ):
                trained = _train(
                    world, resolved, overrides, (source, app.plugins.datasets), options,
                    settings, out, resume, resume_if_exists, quiet,
                )  # fmt: skip
        except PeerFailed:
            wait_for_rank_0()  # rank 0 says what went wrong
            ctx.exit(1)
        if trained is None:
            return  # a rank other than 0: rank 0 reports
        result, data = trained
        if as_json:
            echo_json(result.to_dict())
            return
        if not quiet:
            console = make_console()
            width = console.width if console.is_terminal else None
            click.echo(result_line(f"{name} on {data}", epochs, result, width))
        click.echo(f"checkpoint: {result.out} (sha256 {result.checkpoint.sha256})")


def speaks_for_the_run(world: World | None) -> bool:
    """Whether this process reports a Ctrl-C: alone, or rank 0 under plain torchrun (under
    `zoo train --nproc`, the launcher does)."""
    import os

    from zoo.train._launch import LAUNCHED_VARIABLE

    return world is None or (world.rank == 0 and not os.environ.get(LAUNCHED_VARIABLE))


def check_resumable(out: Path) -> None:
    """`--resume` into a folder without a run is a usage error (exit 2): it names the folder."""
    from zoo.checkpoint._train_state import has_train_state
    from zoo.train._run import nothing_to_resume

    if not has_train_state(out):
        raise click.UsageError(nothing_to_resume(out))


def _rerun(ctx: click.Context, model: str, out: Path | None, as_json: bool) -> None:
    """`zoo train --recipe MODEL`: run MODEL's recorded `zoo train` arguments again."""
    given = [
        key
        for key in ctx.params
        if key not in ("recipe", "out", "as_json")
        and ctx.get_parameter_source(key) == click.core.ParameterSource.COMMANDLINE
    ]
    if given:
        raise click.UsageError(
            f"--recipe {model} reruns the recorded arguments; leave out {', '.join(given)} "
            "(only --out and --json go with --recipe)."
        )
    card = session(ctx).entry(model).card
    if card is None:
        raise ZooError(
            f"Model {model!r} has no recipe: only trained registry entries with a model card "
            "record one. `zoo list --trained` lists them."
        )
    out = out if out is not None else Path("runs") / model
    args = [*card.recipe[1:], "--out", str(out), *(["--json"] if as_json else [])]
    if not as_json:
        click.echo(f"recipe of {model}: zoo {' '.join(card.recipe)} --out {out}", err=True)
    command = ctx.command
    with command.make_context("train", args, parent=ctx.parent) as sub:
        command.invoke(sub)


def _train(
    world: World | None,
    resolved: ResolvedModel,
    overrides: Config,
    data: tuple[str, Mapping[str, DataSource]],
    options: DataOptions,
    settings: TrainSettings,
    out: Path,
    resume: bool,
    fresh_if_missing: bool,
    quiet: bool,
) -> tuple[TrainResult, str] | None:
    """Load the data and train, alone or as one process of a torchrun job (`world`); the
    result and the data's description, or None on ranks other than 0."""
    from zoo.cli._output import make_console
    from zoo.cli._progress import TrainingProgress
    from zoo.data._load import load_dataset
    from zoo.train._distributed import process_group
    from zoo.train._run import model_config, run_training

    source, sources = data  # the --data value and the registered data sources
    dataset = load_dataset(source, options, settings.seed, sources)
    config = model_config(resolved.arch, resolved.config, overrides, dataset)
    name = resolved.entry.name
    with process_group(world, settings.device) as group:
        speaks = group is None or group.rank == 0
        progress = TrainingProgress(make_console(stderr=True), quiet) if speaks else None
        with progress if progress is not None else contextlib.nullcontext():
            result = run_training(
                resolved.arch, config, dataset, settings, out, name=name, resume=resume,
                plot=True, reporter=progress or Reporter(), group=group,
                fresh_if_missing=fresh_if_missing,
            )  # fmt: skip
    return (result, dataset.spec.describe()) if result is not None else None
