"""What a data plugin registers: a `DataSource`, a named data set that loads lazily.

A plugin's `register_datasets` hook calls `register(zoo.DataSource(...))` once per data set;
the built-in ones (zoo.data._plugin) do exactly that. Listing sources (`zoo datasets`,
`zoo plugins`) reads only these declarations: the `load` callable, which imports numpy and
reads files, runs only when a command trains or evaluates on the source. A source whose
packages are not installed is still listed, marked with the extra that provides them, and
loading it is a one-line error naming that extra.

Importing this module imports no numpy.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo._errors import DataError
from zoo.data._spec import TASKS, DataOptions, Dataset

#: `load(options, seed) -> Dataset`: the data set, split and scaled, as `zoo train` uses it.
Loader = Callable[[DataOptions, int], Dataset]

#: Data source names: like model names, plus ':' to name a provider ("statsmodels:co2").
DATA_NAME_RULE = "letters, digits, '-', '_', '.' and ':', starting with a letter or digit"
_DATA_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")

#: What `zoo datasets` shows for CSV files, which are recognised by path, not registered.
CSV_KIND = "a .csv file path (or an existing file): columns chosen with --target/--features"


@dataclass(frozen=True)
class DataSource:
    """A named data set a plugin registers (`register_datasets`).

    `load(options, seed)` returns a `Dataset` (train, validation and, for a data set with an
    official split, test); it runs only when the data is used. `seq_len` is the sequence
    length of every sample, or None when lengths vary ("variable": the splits carry
    `lengths`). `samples` counts every sample of every split (None if it depends on options).
    `requires` are the importable packages whose files `load` reads (checked with
    `importlib.util.find_spec`, which imports nothing); `extra` is the pip requirement that
    installs them, shown when one is missing.
    """

    name: str
    task: str
    description: str
    load: Loader
    input_size: int
    output_size: int
    seq_len: int | None
    samples: int | None = None
    license: str = "unknown"
    split: str = ""
    requires: tuple[str, ...] = ()
    extra: str = ""
    #: The registering plugin's name; set by the plugin manager.
    plugin: str = ""

    def missing(self) -> list[str]:
        """The packages in `requires` that are not installed (nothing is imported)."""
        return [name for name in self.requires if importlib.util.find_spec(name) is None]

    @property
    def shape(self) -> str:
        """'(seq 150, 1) -> 2' or '(seq variable, 12) -> 9'."""
        seq = "variable" if self.seq_len is None else str(self.seq_len)
        return f"(seq {seq}, {self.input_size}) -> {self.output_size}"

    def to_dict(self) -> dict[str, Any]:
        missing = self.missing()
        return {
            "name": self.name,
            "task": self.task,
            "description": self.description,
            "samples": self.samples,
            "input_size": self.input_size,
            "output_size": self.output_size,
            "seq_len": "variable" if self.seq_len is None else self.seq_len,
            "license": self.license,
            "split": self.split,
            "plugin": self.plugin,
            "available": not missing,
            "needs": (self.extra or ", ".join(missing)) if missing else None,
        }

    def open(self, options: DataOptions, seed: int) -> Dataset:
        """`load(options, seed)`, or a one-line error naming the extra when a package the
        source reads is not installed."""
        missing = self.missing()
        if missing:
            install = self.extra or " ".join(missing)
            raise DataError(
                f"Data source {self.name!r} needs {', '.join(missing)}, which is not "
                f"installed. Install it with: pip install '{install}'."
            )
        return self.load(options, seed)


def source_problems(source: DataSource) -> list[str]:
    """What is malformed in a plugin's `DataSource` (plugin data is untrusted)."""
    problems: list[str] = []
    if not isinstance(source.name, str) or not _DATA_NAME.match(source.name):
        problems.append(f"name {source.name!r} must use {DATA_NAME_RULE}")
    if source.task not in TASKS:
        problems.append(f"task {source.task!r} must be one of {', '.join(TASKS)}")
    if not callable(getattr(source, "load", None)):
        problems.append("load must be callable")
    for key in ("input_size", "output_size"):
        value = getattr(source, key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            problems.append(f"{key} {value!r} must be an int >= 1")
    if source.seq_len is not None and (not isinstance(source.seq_len, int) or source.seq_len < 1):
        problems.append(f"seq_len {source.seq_len!r} must be an int >= 1 or None (variable)")
    if not isinstance(source.requires, tuple) or not all(
        isinstance(r, str) for r in source.requires
    ):
        problems.append(f"requires {source.requires!r} must be a tuple of package names")
    return problems


def package_dir(package: str) -> Path | None:
    """The folder of an installed package, found without importing it (None if absent)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def is_csv(source: str, sources: Iterable[str] = ()) -> bool:
    """Whether `source` names a CSV file rather than a registered data source."""
    if source in sources:
        return False
    return source.lower().endswith(".csv") or Path(source).exists()


def unknown_source(name: str, sources: Mapping[str, DataSource]) -> DataError:
    """'Unknown data source ...': close matches, and where to see them all."""
    import difflib  # only on the error path

    message = f"Unknown data source {name!r}: not a registered data set and not a .csv file."
    close = difflib.get_close_matches(name, list(sources), n=3, cutoff=0.5)
    suffix = [s for s in sources if s.split(":")[-1].lower() == name.split(":")[-1].lower()]
    close = list(dict.fromkeys(suffix + close))[:3]
    if close:
        message += f" Did you mean {close[0]!r}?"
    if len(close) > 1:
        message += f" (also close: {', '.join(close[1:])})"
    return DataError(f"{message} Run `zoo datasets` to list them, or pass a CSV file path.")


def find_source(name: str, sources: Mapping[str, DataSource]) -> DataSource:
    try:
        return sources[name]
    except KeyError:
        raise unknown_source(name, sources) from None
