"""The training commands: `zoo train`, `eval`, `predict`, `inspect` and `register`.

Thin like `zoo.cli`: parse arguments, call zoo.train / zoo.inference / zoo.register, print.
Nothing heavy is imported at module level (torch and numpy load inside the commands), so
`zoo --help` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from zoo.cli import ARGV, _app, _echo_json, json_option
from zoo.dataspec import TASKS, DataOptions
from zoo.reporter import Reporter
from zoo.spec import parse_assignments
from zoo.tables import format_table
from zoo.tasks import BUILTIN_TASKS

if TYPE_CHECKING:
    from zoo.app import ResolvedModel
    from zoo.distributed import World
    from zoo.inference import TrainedModel
    from zoo.spec import Config
    from zoo.train import EpochRecord, TrainResult, TrainSettings

F = TypeVar("F", bound=Callable[..., Any])

_TASK_LIST = ", ".join(f"{name} ({task.task})" for name, task in BUILTIN_TASKS.items())
DATA_HELP = f"A built-in task: {_TASK_LIST}; or a CSV file."


def _option_group(*options: Callable[[F], F]) -> Callable[[F], F]:
    def apply(func: F) -> F:
        for option in reversed(options):
            func = option(func)
        return func

    return apply


size_options = _option_group(
    click.option(
        "--seq-len",
        type=click.IntRange(min=2),
        help="Sequence length of a built-in task (default: the task's, 50).",
    ),
    click.option(
        "--samples",
        type=click.IntRange(min=4),
        help="Training sequences of a built-in task (validation: a quarter as many).",
    ),
)

csv_options = _option_group(
    click.option("--target", metavar="COLUMN", help="CSV: the column to predict."),
    click.option(
        "--features",
        metavar="COL,COL",
        help="CSV: input columns, comma-separated (default: every numeric column; a "
        "classification label is never one).",
    ),
    click.option(
        "--window", type=click.IntRange(min=1), help="CSV: steps (rows) each sequence sees."
    ),
    click.option(
        "--horizon",
        type=click.IntRange(min=0),
        help="CSV: predict the target this many rows after the window's last row "
        "(default 1 for regression, 0 for classification).",
    ),
    click.option(
        "--task",
        type=click.Choice(TASKS),
        help="CSV: regression (default) or classification (the target holds labels).",
    ),
    click.option(
        "--val-fraction",
        type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
        default=0.2,
        show_default=True,
        help="CSV: the last fraction of windows that validates.",
    ),
)

trained_options = _option_group(
    click.argument("name", required=False),
    click.option(
        "--checkpoint",
        type=click.Path(path_type=Path),
        help="A checkpoint directory written by `zoo train` (instead of a registered NAME).",
    ),
    click.option("--data", "source", required=True, help=DATA_HELP),
)


def _features(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    if not names:
        raise click.BadParameter("give at least one column name", param_hint="--features")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise click.BadParameter(f"{duplicates} listed twice", param_hint="--features")
    return names


def _load(ctx: click.Context, name: str | None, checkpoint: Path | None) -> TrainedModel:
    from zoo.inference import load_trained

    if (name is None) == (checkpoint is None):
        raise click.UsageError("Give a trained model NAME or --checkpoint DIR (one of them).")
    return load_trained(_app(ctx), checkpoint=checkpoint, name=name)


class _ProgressBar(Reporter):
    """A zoo.reporter.Reporter that draws on stderr: a live bar on a terminal, else one line
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
        from zoo.metrics import format_metrics

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
    """Register train, eval, predict, inspect and register on the `zoo` group."""

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
        from zoo.distributed import PeerFailed, World, rank_errors, wait_for_rank_0
        from zoo.metrics import format_metrics
        from zoo.train import TrainSettings

        world = World.from_env()
        out = out if out is not None else Path("runs") / name
        app = _app(ctx)
        overrides = parse_assignments(assignments)
        with rank_errors(world):
            resolved = app.resolve(name, overrides)  # unknown names and keys fail before data
        if world is None and nproc is not None and nproc > 1:
            from zoo.launch import launch_training

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
            features=_features(features),
            window=window,
            horizon=horizon,
            task=task,
            val_fraction=val_fraction,
        )
        settings = TrainSettings(epochs, batch_size, lr, seed, device, clip)
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
            _echo_json(result.to_dict())
            return
        click.echo(
            f"{name} on {data}: best epoch {result.best_epoch}/{epochs}  "
            f"{format_metrics(result.best, 'val_')}  {result.samples_per_s:,.0f} samples/s"
            + (f" ({result.processes} processes)" if result.processes > 1 else "")
        )
        click.echo(f"checkpoint: {result.out} (sha256 {result.checkpoint.sha256})")

    @cli.command("eval")
    @trained_options
    @click.option(
        "--seed", type=click.IntRange(min=0), help="Built-in task: seed of the test split."
    )
    @click.option(
        "--seq-len", type=click.IntRange(min=2), help="Built-in task: test at another length."
    )
    @json_option
    @click.pass_context
    def eval_(
        ctx: click.Context,
        name: str | None,
        checkpoint: Path | None,
        source: str,
        seed: int | None,
        seq_len: int | None,
        as_json: bool,
    ) -> None:
        """Metrics of a trained model on --data, scaled as in training.

        A built-in task gives a fresh test split (never seen in training); a CSV file
        gives every window that has a target.

        \b
        zoo eval --checkpoint runs/lstm --data sine
        zoo eval --checkpoint runs/adding --data adding --seq-len 100
        """
        from zoo.inference import evaluate
        from zoo.metrics import format_metrics

        trained = _load(ctx, name, checkpoint)
        result = evaluate(trained, source, seed=seed, seq_len=seq_len)
        if as_json:
            _echo_json(result.to_dict())
            return
        click.echo(
            f"{trained.source.name} on {source} ({result.samples} sequences): "
            f"{format_metrics(result.metrics)}"
        )

    @cli.command()
    @trained_options
    @click.option(
        "--runtime",
        type=click.Choice(["torch", "onnx"]),
        default="torch",
        show_default=True,
        help="Run eager PyTorch, or the exported ONNX model (--artifact) in onnxruntime.",
    )
    @click.option(
        "--artifact",
        type=click.Path(path_type=Path, dir_okay=False),
        help="With --runtime onnx: an ONNX file exported from this checkpoint.",
    )
    @json_option
    @click.pass_context
    def predict(
        ctx: click.Context,
        name: str | None,
        checkpoint: Path | None,
        source: str,
        runtime: str,
        artifact: Path | None,
        as_json: bool,
    ) -> None:
        """Predictions of a trained model on --data, in the target's own units.

        For a CSV file, one row per window: ROW is the file row (0-based, header not
        counted) the prediction is for; the last windows forecast past the end of the
        file, where TRUTH is empty. The file needs the feature columns the model was
        trained with; the target column is optional.

        \b
        zoo predict --checkpoint runs/prices --data new.csv --json
        zoo predict --checkpoint runs/prices --data new.csv --runtime onnx \\
            --artifact exports/prices.onnx
        """
        from zoo.inference import artifact_predictor
        from zoo.inference import predict as run_predict

        if (runtime == "onnx") != (artifact is not None):
            raise click.UsageError("--runtime onnx and --artifact FILE go together.")
        trained = _load(ctx, name, checkpoint)
        predictor = None if artifact is None else artifact_predictor(_app(ctx), trained, artifact)
        rows = run_predict(trained, source, predictor)
        if as_json:
            _echo_json(rows)
            return
        headers = ["ROW", "PREDICTION", "TRUTH"]
        if rows and "probability" in rows[0]:
            headers.insert(2, "PROBABILITY")
        table = [
            [
                r["row"],
                _cell(r["prediction"]),
                *([f"{r['probability']:.3f}"] if "probability" in r else []),
                _cell(r["truth"]),
            ]
            for r in rows
        ]
        click.echo(format_table(headers, table))

    @cli.command()
    @trained_options
    @click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder for PNGs.")
    @click.option("--seed", type=click.IntRange(min=0), help="Built-in task: test split seed.")
    @click.option("--seq-len", type=click.IntRange(min=2), help="Built-in task: sequence length.")
    @click.pass_context
    def inspect(
        ctx: click.Context,
        name: str | None,
        checkpoint: Path | None,
        source: str,
        out: Path,
        seed: int | None,
        seq_len: int | None,
    ) -> None:
        """Draw a trained model: hidden state over time, predictions vs truth.

        Writes hidden.png (the hidden state of the first sequence, units by time steps)
        and, for regression, predictions.png. Needs matplotlib (pip install 'zoo-rnn[plot]').

        \b
        zoo inspect --checkpoint runs/lstm --data sine --out plots/
        """
        from zoo.inference import inspect as run_inspect

        trained = _load(ctx, name, checkpoint)
        for path in run_inspect(trained, source, out, seed=seed, seq_len=seq_len):
            click.echo(f"wrote {path}")

    @cli.command()
    @click.option(
        "--checkpoint",
        type=click.Path(path_type=Path),
        required=True,
        help="A checkpoint directory written by `zoo train`.",
    )
    @click.option("--name", required=True, help="The model's name in the registry.")
    @click.option(
        "--registry",
        type=click.Path(dir_okay=False, path_type=Path),
        default=Path("zoo-registry.toml"),
        show_default=True,
        help="The registry TOML file to add to (created if missing).",
    )
    @click.option("--description", help="Description (default: architecture, data, metric).")
    @click.option("--tag", "tags", multiple=True, help="Tag (repeatable; default: trained).")
    @click.pass_context
    def register(
        ctx: click.Context,
        checkpoint: Path,
        name: str,
        registry: Path,
        description: str | None,
        tags: tuple[str, ...],
    ) -> None:
        """Add a trained checkpoint to a registry file under NAME, with its sha256.

        Loading the model by name later checks the sha256 and refuses changed weights.

        \b
        zoo register --checkpoint runs/lstm --name lstm-sine --registry models.toml
        zoo list --registry models.toml
        zoo --registry models.toml export lstm-sine --onnx
        """
        from zoo.register import register_checkpoint

        entry = register_checkpoint(
            _app(ctx), checkpoint, name, registry, description, tags or ("trained",)
        )
        click.echo(
            f"registered {entry.name} in {registry}: {entry.checkpoint} (sha256 {entry.sha256})"
        )


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
    from zoo.data import load_dataset
    from zoo.distributed import process_group
    from zoo.train import model_config, train_model
    from zoo.train_dist import train_distributed

    dataset = load_dataset(source, options, settings.seed)
    config = model_config(resolved.arch, resolved.config, overrides, dataset)
    name = resolved.entry.name
    with process_group(world, settings.device) as group:
        if group is None:
            result: TrainResult | None = train_model(
                resolved.arch, config, dataset, settings, out, name=name, resume=resume,
                reporter=_ProgressBar(),
            )  # fmt: skip
        else:
            reporter = _ProgressBar() if group.rank == 0 else Reporter()
            result = train_distributed(
                group, resolved.arch, config, dataset, settings, out, name=name,
                resume=resume, reporter=reporter,
            )  # fmt: skip
    return (result, dataset.spec.describe()) if result is not None else None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
