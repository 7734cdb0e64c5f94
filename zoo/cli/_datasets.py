"""The data commands: `zoo datasets` lists the registered data sources, `zoo baseline`
scores the baselines a trained model must beat on a source's test split.

`zoo datasets` works from the plugins' `DataSource` declarations alone (no numpy, no file
read); `zoo baseline` loads the data (numpy) inside the command.
"""

from __future__ import annotations

import fnmatch

import click

from zoo._tables import format_table
from zoo.cli._common import echo_json, json_option, session
from zoo.data._source import CSV_KIND

#: How `zoo datasets` shows CSV files, which are recognised by path rather than registered.
CSV_ROW = {
    "name": "FILE.csv",
    "task": "regression or classification",
    "description": CSV_KIND,
    "samples": None,
    "input_size": None,
    "output_size": None,
    "seq_len": "--window",
    "license": "yours",
    "split": "chronological: the last --val-fraction of windows validates",
    "plugin": "zoo (built in)",
    "available": True,
    "needs": None,
}


def add_dataset_commands(cli: click.Group) -> None:
    """Add `datasets` and `baseline` to the `zoo` group."""

    @cli.command("datasets")
    @click.argument("pattern", required=False)
    @json_option
    @click.pass_context
    def datasets(ctx: click.Context, pattern: str | None, as_json: bool) -> None:
        """List the data sources `--data NAME` accepts, optionally filtered by an fnmatch
        PATTERN (e.g. 'ucr:*'): task, size, input/output shape, license, provider.

        A source whose packages are missing is listed with the extra that installs them.
        CSV files are accepted by path and listed as a kind.
        """
        sources = session(ctx).plugins.datasets
        rows = [
            s.to_dict()
            for name, s in sources.items()
            if pattern is None or fnmatch.fnmatch(name.lower(), pattern.lower())
        ]
        if pattern is None or fnmatch.fnmatch("file.csv", pattern.lower()):
            rows.append(dict(CSV_ROW))
        if as_json:
            echo_json(rows)
            return
        if not rows:
            click.echo(f"No data source matches {pattern!r}. Run `zoo datasets` to list all.")
            return
        table = [
            (
                r["name"],
                r["task"] if r["name"] != "FILE.csv" else "either",
                "-" if r["samples"] is None else str(r["samples"]),
                _shape(r),
                r["license"],
                r["plugin"] + (f" (needs {r['needs']})" if r["needs"] else ""),
            )
            for r in rows
        ]
        headers = ("NAME", "TASK", "SIZE", "SHAPE (seq, in) -> out", "LICENSE", "PROVIDER")
        click.echo(format_table(headers, table))

    @cli.command("baseline")
    @click.argument("data")
    @click.option("--window", type=click.IntRange(min=1), help="Forecasting: window length.")
    @click.option("--horizon", type=click.IntRange(min=1), help="Forecasting: steps ahead.")
    @click.option(
        "--val-fraction",
        type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
        default=0.2,
        show_default=True,
        help="The validation share, as in `zoo train` (AR order choice; UCR: of TRAIN).",
    )
    @click.option("--seed", type=int, default=0, show_default=True, help="As in `zoo train`.")
    @json_option
    @click.pass_context
    def baseline(
        ctx: click.Context,
        data: str,
        window: int | None,
        horizon: int | None,
        val_fraction: float,
        seed: int,
        as_json: bool,
    ) -> None:
        """Score the baselines on DATA's test split, the split `zoo train` leaves out.

        Forecasting: persistence and least-squares AR(p), p in 1..20 chosen by validation
        MSE (MSE in the target's units). Classification: 1-nearest neighbour, Euclidean on
        the raw sequences (accuracy). See docs/datasets.md.
        """
        from zoo.data._baselines import baselines
        from zoo.data._load import load_dataset
        from zoo.data._spec import DataOptions

        options = DataOptions(window=window, horizon=horizon, val_fraction=val_fraction)
        dataset = load_dataset(data, options, seed, session(ctx).plugins.datasets)
        results = baselines(dataset)
        if as_json:
            echo_json(
                {
                    "data": data,
                    "split": dataset.spec.split,
                    "notes": list(dataset.spec.notes),
                    "baselines": [r.to_dict() for r in results],
                }
            )
            return
        click.echo(f"{data}: {dataset.spec.split}")
        for note in dataset.spec.notes:
            click.echo(f"note: {note}")
        table = [(r.name, r.metric, f"{r.value:.6g}", r.detail) for r in results]
        click.echo(format_table(("BASELINE", "METRIC", "TEST", "HOW"), table))


def _shape(row: dict[str, object]) -> str:
    if row["name"] == "FILE.csv":
        return "(--window, columns) -> 1 or classes"
    return f"({row['seq_len']}, {row['input_size']}) -> {row['output_size']}"
