"""The commands on a trained model: `zoo eval`, `predict`, `inspect` and `register`.

Thin like `zoo.cli`: parse arguments, call zoo.inference and zoo.catalog._register, print. Nothing
heavy is imported at module level (torch and numpy load inside the commands), so
`zoo --help` stays fast.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from zoo._errors import ZooError
from zoo._tables import format_table
from zoo.cli._common import command_registry_option, echo_json, json_option, session
from zoo.cli._options import eval_options, trained_options

#: How far (relative; absolute below 1) `zoo eval NAME` may be from the card's metric and
#: still reproduce it.
CARD_TOLERANCE = 1e-6

if TYPE_CHECKING:
    from zoo.inference._trained import TrainedModel


def _load(ctx: click.Context, name: str | None, checkpoint: Path | None) -> TrainedModel:
    from zoo.inference._trained import load_trained

    if (name is None) == (checkpoint is None):
        raise click.UsageError("Give a trained model NAME or --checkpoint DIR (one of them).")
    return load_trained(session(ctx), checkpoint=checkpoint, name=name)


def add_trained_commands(cli: click.Group) -> None:
    """Register eval, predict, inspect and register on the `zoo` group."""

    @cli.command("eval")
    @eval_options
    @command_registry_option
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
        source: str | None,
        seed: int | None,
        seq_len: int | None,
        as_json: bool,
    ) -> None:
        """Metrics of a trained model (NAME or --checkpoint DIR) on new --data, scaled as
        in training.

        A built-in task gives a fresh test split (never seen in training); a registered
        data set its test split; a CSV file every window that has a target. A trained
        registry entry with a model card needs no --data: it is evaluated on its card's
        data set's test split, and the metric is printed next to the card's and the
        baseline's.

        \b
        zoo eval sunspots-lstm                 # reproduce a shipped model's card
        zoo eval --checkpoint runs/lstm --data sine
        zoo eval --checkpoint runs/adding --data adding --seq-len 100
        """
        from zoo.inference._metrics import format_metrics
        from zoo.inference._trained import evaluate

        if source is None:
            _eval_card(ctx, name, checkpoint, as_json)
            return
        trained = _load(ctx, name, checkpoint)
        result = evaluate(trained, source, seed=seed, seq_len=seq_len)
        if as_json:
            echo_json(result.to_dict())
            return
        click.echo(
            f"{trained.source.name} on {source} ({result.samples} sequences): "
            f"{format_metrics(result.metrics)}"
        )

    @cli.command()
    @trained_options
    @command_registry_option
    @click.option(
        "--runtime",
        type=click.Choice(["torch", "onnx"]),
        help="Run eager PyTorch (the default), or the exported ONNX model (--artifact) in "
        "onnxruntime.",
    )
    @click.option(
        "--artifact",
        type=click.Path(path_type=Path, dir_okay=False),
        help="An ONNX file exported from this checkpoint, run in onnxruntime (implies "
        "--runtime onnx).",
    )
    @click.option("--seed", type=click.IntRange(min=0), help="Built-in task: test split seed.")
    @click.option(
        "--seq-len", type=click.IntRange(min=2), help="Built-in task: predict at another length."
    )
    @json_option
    @click.pass_context
    def predict(
        ctx: click.Context,
        name: str | None,
        checkpoint: Path | None,
        source: str,
        runtime: str | None,
        artifact: Path | None,
        seed: int | None,
        seq_len: int | None,
        as_json: bool,
    ) -> None:
        """One prediction per window of --data, in the target's own units; --artifact FILE
        runs an exported ONNX file in onnxruntime instead (it must come from this checkpoint).

        For a CSV file, one row per window: ROW is the file row (0-based, header not
        counted) the prediction is for; the last windows forecast past the end of the
        file, where TRUTH is empty. The file needs the feature columns the model was
        trained with; the target column is optional.

        \b
        zoo predict --checkpoint runs/prices --data new.csv --json
        zoo predict --checkpoint runs/prices --data new.csv \\
            --artifact exports/prices-trained.onnx
        """
        from zoo.inference._trained import artifact_predictor
        from zoo.inference._trained import predict as run_predict

        if runtime == "onnx" and artifact is None:
            raise click.UsageError("--runtime onnx runs an exported file: give --artifact FILE.")
        if runtime == "torch" and artifact is not None:
            raise click.UsageError(
                "--artifact runs an ONNX file in onnxruntime; --runtime torch runs eager "
                "PyTorch. Leave one out."
            )
        trained = _load(ctx, name, checkpoint)
        predictor = (
            None if artifact is None else artifact_predictor(session(ctx), trained, artifact)
        )
        rows = run_predict(trained, source, predictor, seed=seed, seq_len=seq_len)
        if as_json:
            echo_json(rows)
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
    @command_registry_option
    @click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder for PNGs.")
    @click.option("--seed", type=click.IntRange(min=0), help="Built-in task: test split seed.")
    @click.option("--seq-len", type=click.IntRange(min=2), help="Built-in task: sequence length.")
    @json_option
    @click.pass_context
    def inspect(
        ctx: click.Context,
        name: str | None,
        checkpoint: Path | None,
        source: str,
        out: Path,
        seed: int | None,
        seq_len: int | None,
        as_json: bool,
    ) -> None:
        """Draw a trained model: hidden state over time and predictions vs truth as PNG
        (needs zoo-rnn[plot]).

        Writes hidden.png (the hidden state of the first sequence, units by time steps)
        and, for regression, predictions.png (on the training CSV, the start of the
        validation windows marked) or, for classification, confusion.png (true against
        predicted class). Needs matplotlib (pip install 'zoo-rnn[plot]').

        \b
        zoo inspect --checkpoint runs/lstm --data sine --out plots/
        """
        from zoo.inference._inspect import inspect as run_inspect

        trained = _load(ctx, name, checkpoint)
        written = run_inspect(trained, source, out, seed=seed, seq_len=seq_len)
        if as_json:
            echo_json(
                {
                    "model": trained.source.name,
                    "task": trained.task,
                    "data": source,
                    "files": [str(p) for p in written],
                }
            )
            return
        for path in written:
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
    @json_option
    @click.pass_context
    def register(
        ctx: click.Context,
        checkpoint: Path,
        name: str,
        registry: Path,
        description: str | None,
        tags: tuple[str, ...],
        as_json: bool,
    ) -> None:
        """Add a trained checkpoint and its sha256 to a registry file under NAME (default
        zoo-registry.toml).

        Loading the model by name later checks the sha256 and refuses changed weights.
        A checkpoint outside the registry file's folder is copied into its
        checkpoints/NAME folder first (a registry names only paths inside its folder).

        \b
        zoo register --checkpoint runs/lstm --name lstm-sine --registry models.toml
        zoo list --registry models.toml
        zoo --registry models.toml export lstm-sine --onnx
        """
        from zoo.catalog._register import register_checkpoint

        done = register_checkpoint(
            session(ctx), checkpoint, name, registry, description, tags or ("trained",)
        )
        entry = done.entry
        if done.copied is not None:  # say which: the entry names the copy, not the original
            click.echo(
                f"copied {checkpoint} to {done.copied}: a registry file names only checkpoints "
                "inside its folder",
                err=True,
            )
        if as_json:
            echo_json(
                {
                    **entry.to_dict(),
                    **({"copied": str(done.copied)} if done.copied else {}),
                    "registry": str(registry),
                }
            )
            return
        click.echo(
            f"registered {entry.name} in {registry}: {entry.checkpoint} (sha256 {entry.sha256})"
        )


def _eval_card(
    ctx: click.Context, name: str | None, checkpoint: Path | None, as_json: bool
) -> None:
    """`zoo eval NAME` without --data: the card's test split, side by side with the card."""
    from zoo.inference._trained import evaluate

    card = None if name is None or checkpoint is not None else session(ctx).entry(name).card
    if name is None or card is None:
        raise click.UsageError(
            "Give --data SOURCE; only a trained registry NAME with a model card (`zoo list "
            "--trained`) is evaluated on its card's test split without it."
        )
    trained = _load(ctx, name, None)
    result = evaluate(trained, card.dataset)
    value = result.metrics[card.metric]
    measured = _measured_baseline(trained, card.baseline)
    data = {
        **result.to_dict(),
        "split": card.split,
        "metric": card.metric,
        "value": value,
        "card_value": card.value,
        "matches_card": abs(value - card.value) <= CARD_TOLERANCE * max(1.0, abs(card.value)),
        "baseline": card.baseline,
        "baseline_value": measured,
        "card_baseline_value": card.baseline_value,
        "beats_baseline": replace(card, value=value, baseline_value=measured).beats_baseline,
    }
    if as_json:
        echo_json(data)
        return
    same = "reproduced" if data["matches_card"] else "DIFFERS from the card"
    verdict = "beats baseline" if data["beats_baseline"] else "misses baseline"
    click.echo(
        f"{name} on {card.dataset}, {card.split} split ({result.samples} sequences), {card.metric}:"
    )
    rows = [
        ("model", f"{value:.6g}", f"{card.value:.6g}", f"{same}; {verdict}"),
        ("baseline", f"{measured:.6g}", f"{card.baseline_value:.6g}", card.baseline),
    ]
    click.echo(format_table(("", "MEASURED", "CARD", "NOTE"), rows))


def _measured_baseline(trained: TrainedModel, baseline: str) -> float:
    """The card's baseline measured again by zoo on the model's own split."""
    from zoo.data._baselines import baselines
    from zoo.data._load import reload_dataset

    results = {b.name: b.value for b in baselines(reload_dataset(trained.spec, trained.sources))}
    if baseline not in results:
        raise ZooError(
            f"The card names baseline {baseline!r}, which zoo does not compute for "
            f"{trained.spec.source} (it computes {', '.join(sorted(results))}). Fix the card."
        )
    return results[baseline]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):  # 10 digits: a target near 1.2e8 still shows its decimals
        return f"{value:.10g}"
    return str(value)
