"""Options shared by the training commands (zoo.cli._train) and the commands on a trained
model (zoo.cli._trained): the data source, a built-in task's sizes, a CSV file's columns.

Imports only click and zoo's light modules, so `zoo --help` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from zoo.cli._complete import complete_model
from zoo.data._spec import TASKS

F = TypeVar("F", bound=Callable[..., Any])

DATA_HELP = (
    "A data source: a built-in task (sine, adding, freq, freq-var), a bundled data set "
    "(statsmodels:sunspots, ucr:GunPoint, ...; `zoo datasets` lists all), or a CSV file."
)


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
        "--window",
        type=click.IntRange(min=1),
        help="CSV, forecasting sources: steps (rows) each sequence sees.",
    ),
    click.option(
        "--horizon",
        type=click.IntRange(min=0),
        help="CSV, forecasting sources: predict the target this many rows after the "
        "window's last row "
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
        help="CSV: the last fraction of windows that validates; forecasting sources: of the "
        "training part; UCR: the stratified share of TRAIN.",
    ),
)

_NAME_OR_CHECKPOINT = (
    click.argument("name", required=False, shell_complete=complete_model),
    click.option(
        "--checkpoint",
        type=click.Path(path_type=Path),
        help="A checkpoint directory written by `zoo train` (instead of a registered NAME).",
    ),
)
trained_options = _option_group(
    *_NAME_OR_CHECKPOINT, click.option("--data", "source", required=True, help=DATA_HELP)
)
#: `zoo eval`: --data may be left out for a trained registry entry with a model card (its
#: data set's test split).
eval_options = _option_group(
    *_NAME_OR_CHECKPOINT,
    click.option(
        "--data",
        "source",
        help=DATA_HELP + " Default for a trained NAME with a model card: its data set's test "
        "split.",
    ),
)


def parse_features(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    if not names:
        raise click.BadParameter("give at least one column name", param_hint="--features")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise click.BadParameter(f"{duplicates} listed twice", param_hint="--features")
    return names
