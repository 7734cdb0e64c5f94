"""The training command: `zoo train`, with its progress display on stderr.

Thin like `zoo.cli`: parse arguments, call zoo.train (zoo.train_dist under torchrun), print.
Nothing heavy is imported at module level (torch and numpy load inside the commands), so
`zoo --help` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from zoo._spec import parse_assignments
from zoo.cli._common import ARGV, echo_json, json_option, session
from zoo.cli._options import DATA_HELP, csv_options, parse_features, size_options
from zoo.data._spec import DataOptions
from zoo.train._reporter import Reporter

if TYPE_CHECKING:
    from zoo._spec import Config
    from zoo.catalog._session import ResolvedModel
    from zoo.train._distributed import World
    from zoo.train._settings import EpochRecord, TrainResult, TrainSettings


class _ProgressBar(Reporter):
    """A zoo.train._reporter.Reporter that draws on stderr: a live bar on a terminal, else one line
    per epoch."""

    WIDTH = 24

    def __init__(self) -> None:
        # click.echo(err=True) writes to sys.stderr (CliRunner swaps it in tests);
        # click.get_text_stream is deprecated in click 8.5.
        self.live = sys.stderr.isatty()
        self.drawn = False

    def _clear(self) -> None:
        if self.drawn:
            click.echo("\r\033[K", nl=False, err=True)
            self.drawn = False

    def start(self, epochs: int, first: int, samples: int) -> None:
        pass

    def step(self, epoch: int, done: int, total: int, loss: float, samples_per_s: float) -> None:
        if not self.live:
            return
        filled = round(self.WIDTH * done / total)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        line = (
            f"\repoch {epoch} [{bar}] {done}/{total}  loss {loss:.4g}  "
            f"{samples_per_s:,.0f} samples/s"
        )
        click.echo(line + "\033[K", nl=False, err=True)
        self.drawn = True

    def epoch_end(self, epochs: int, record: EpochRecord) -> None:
        from zoo.inference._metrics import format_metrics

        self._clear()
        click.echo(
            f"epoch {record.epoch}/{epochs}  train_loss {record.train_loss:.4g}  "
            f"{format_metrics(record.val, 'val_')}  {record.samples_per_s:,.0f} samples/s  "
            f"{record.seconds:.1f} s{'  *best' if record.best else ''}",
            err=True,
        )

    def note(self, message: str) -> None:
        self._clear()
        click.echo(f"note: {message}", err=True)


def add_train_commands(cli: click.Group) -> None:
    """Register train on the `zoo` group (zoo.cli._trained: the commands on its result)."""

    @cli.command()
    @click.argument("name")
    @click.option("--data", "source", required=True, help=DATA_HELP)
    @size_options
    @csv_options
    @click.option("--epochs", type=click.IntRange(min=1), default=20, show_default=True)
    @click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
    @click.option(
        "--lr",
        type=click.FloatRange(min=0.0, min_open=True),
        default=3e-3,
        show_default=True,
        help="Adam learning rate.",
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
        "--resume", is_flag=True, help="Continue the run in --out after its last completed epoch."
    )
    @click.option(
        "--threads",
        type=click.IntRange(min=0),
        help="torch intra-op threads, recorded in the run (default 1: small recurrent steps "
        "lose on more; 0: one per core, for a large model on idle cores).",
    )
    @click.option(
        "--nproc",
        type=click.IntRange(min=1),
        help="Train in N processes on this machine (torch.distributed through torchrun: DDP, "
        "gloo on CPU, nccl with one GPU each on CUDA). --batch-size stays the global batch, "
        "a multiple of N. Leave it out under torchrun. See docs/distributed.md.",
    )
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
        device: str,
        out: Path | None,
        assignments: tuple[str, ...],
        resume: bool,
        threads: int | None,
        nproc: int | None,
        as_json: bool,
    ) -> None:
        """Train model NAME on --data and save the best epoch's checkpoint.

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
        """
        from zoo.inference._metrics import format_metrics
        from zoo.train._distributed import PeerFailed, World, rank_errors, wait_for_rank_0
        from zoo.train._settings import TrainSettings

        world = World.from_env()
        out = out if out is not None else Path("runs") / name
        app = session(ctx)
        overrides = parse_assignments(assignments)
        with rank_errors(world):
            resolved = app.resolve(name, overrides)  # unknown names and keys fail before data
        if world is None and nproc is not None and nproc > 1:
            from zoo.train._launch import launch_training

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
        settings = TrainSettings(epochs, batch_size, lr, seed, device, clip, threads)
        try:
            with rank_errors(world):
                trained = _train(world, resolved, overrides, source, options, settings, out, resume)
        except PeerFailed:
            wait_for_rank_0()  # rank 0 says what went wrong
            ctx.exit(1)
        if trained is None:
            return  # a rank other than 0: rank 0 reports
        result, data = trained
        if as_json:
            echo_json(result.to_dict())
            return
        click.echo(
            f"{name} on {data}: best epoch {result.best_epoch}/{epochs}  "
            f"{format_metrics(result.best, 'val_')}  {result.samples_per_s:,.0f} samples/s"
            + (f" ({result.processes} processes)" if result.processes > 1 else "")
        )
        click.echo(f"checkpoint: {result.out} (sha256 {result.checkpoint.sha256})")


def _train(
    world: World | None,
    resolved: ResolvedModel,
    overrides: Config,
    source: str,
    options: DataOptions,
    settings: TrainSettings,
    out: Path,
    resume: bool,
) -> tuple[TrainResult, str] | None:
    """Load the data and train, alone or as one process of a torchrun job (`world`); the
    result and the data's description, or None on ranks other than 0."""
    from zoo.data._load import load_dataset
    from zoo.train._distributed import process_group
    from zoo.train._run import model_config, run_training

    dataset = load_dataset(source, options, settings.seed)
    config = model_config(resolved.arch, resolved.config, overrides, dataset)
    name = resolved.entry.name
    with process_group(world, settings.device) as group:
        reporter = _ProgressBar() if group is None or group.rank == 0 else Reporter()
        result = run_training(
            resolved.arch, config, dataset, settings, out, name=name, resume=resume,
            plot=True, reporter=reporter, group=group,
        )  # fmt: skip
    return (result, dataset.spec.describe()) if result is not None else None
