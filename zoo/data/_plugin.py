"""The built-in data plugin: synthetic tasks, statsmodels series and UCR/UEA sets.

Registered through `register_datasets` exactly as a third-party data plugin would: each data
set is a `DataSource` whose `load` reads and splits the data only when called. The
statsmodels and sktime sources need those packages' files (the `zoo-rnn[datasets]` extra);
without them they are listed, marked, and refuse to load with a line naming the extra.
CSV files are not registered: any `--data` value that is a path or ends in `.csv` is one.

Importing this module imports no numpy.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from zoo._hooks import hookimpl
from zoo.data._forecast import PACKAGE as STATSMODELS
from zoo.data._forecast import SERIES_SETS, forecast_dataset
from zoo.data._source import DataSource
from zoo.data._spec import CLASSIFICATION, REGRESSION
from zoo.data._synthetic import BUILTIN_TASKS, builtin_dataset
from zoo.data._ucr import PACKAGE as SKTIME
from zoo.data._ucr import UCR_SETS, ucr_dataset

EXTRA = "zoo-rnn[datasets]"


def builtin_sources() -> list[DataSource]:
    """Every data source this plugin registers, in listing order."""
    sources = [
        DataSource(
            name=task.name,
            task=task.task,
            description=task.description,
            load=partial(builtin_dataset, task.name),
            input_size=task.input_size,
            output_size=task.output_size,
            seq_len=None if task.variable_length else task.seq_len,
            samples=None,
            license="synthetic (zoo)",
            split="generated: train, validation and test each from its own seeded stream",
        )
        for task in BUILTIN_TASKS.values()
    ]
    sources += [
        DataSource(
            name=f"statsmodels:{item.name}",
            task=REGRESSION,
            description=f"{item.description} ({item.observations} values; one-step forecast)",
            load=partial(forecast_dataset, item),
            input_size=1,
            output_size=1,
            seq_len=item.window,
            samples=item.observations,
            license="public domain (statsmodels COPYRIGHT)",
            split="chronological: last 20% of targets test, validation before it",
            requires=(STATSMODELS,),
            extra=EXTRA,
        )
        for item in SERIES_SETS
    ]
    sources += [
        DataSource(
            name=f"ucr:{item.name}",
            task=CLASSIFICATION,
            description=item.description,
            load=partial(ucr_dataset, item.name),
            input_size=item.channels,
            output_size=item.classes,
            seq_len=item.seq_len,
            samples=item.train + item.test,
            license="UCR/UEA archive: cite it (docs/datasets.md)",
            split=f"official TRAIN {item.train} / TEST {item.test}; validation from TRAIN",
            requires=(SKTIME,),
            extra=EXTRA,
        )
        for item in UCR_SETS
    ]
    return sources


@hookimpl
def register_datasets(register: Callable[[DataSource], None]) -> None:
    for source in builtin_sources():
        register(source)
