"""A CSV file as text: its header, rows and columns, read within the limits of zoo._limits.

The file's size is checked before it is read and its cell count while it is parsed; a
column is found by name in constant time, so a file of many columns costs what its cells
cost. Every malformed input is a `DataError` naming the file, row and column. Importing
this module imports no numpy.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from zoo._errors import DataError, did_you_mean
from zoo._fs import sha256_bytes
from zoo._limits import CSV_BYTES, CSV_CELLS, read_bounded
from zoo.data._spec import CLASSIFICATION

if TYPE_CHECKING:
    import numpy as np

#: Column names an error message lists before it says how many more there are.
SHOWN_COLUMNS = 20

#: The next step for a text cell in an input column.
NUMBER_FIX = "Clean the file, or leave the column out with --features."


def list_columns(columns: Sequence[str]) -> str:
    """'t, a, b' or, for a wide file, the first `SHOWN_COLUMNS` and how many more."""
    shown = ", ".join(columns[:SHOWN_COLUMNS])
    more = len(columns) - SHOWN_COLUMNS
    return f"{shown}, ... ({more:,} more)" if more > 0 else shown


@dataclass(frozen=True)
class Table:
    """A CSV file's header and rows, as text."""

    path: Path
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    sha256: str
    index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.index.update({name: i for i, name in enumerate(self.columns)})

    def column(self, name: str) -> list[str]:
        position = self.index.get(name)
        if position is None:
            message = f"{self.path}: no column {name!r}."
            guess = did_you_mean(name, self.columns[: SHOWN_COLUMNS * 50])
            if guess:
                message += f" Did you mean {guess!r}?"
            raise DataError(
                f"{message} Columns: {list_columns(self.columns)}.{self.delimiter_hint()}"
            )
        return [row[position] for row in self.rows]

    def delimiter_hint(self) -> str:
        """A sentence for a header that reads as one column holding `;` or tabs: the file
        was written with another delimiter (zoo reads comma-separated files only)."""
        if len(self.columns) != 1:
            return ""
        for mark, name in ((";", "semicolon"), ("\t", "tab")):
            if mark in self.columns[0]:
                return (
                    f" The header reads as one column holding {name}s: the file looks "
                    f"{name}-separated, and zoo reads comma-separated files. Save it with "
                    "commas as the delimiter (and '.' as the decimal mark)."
                )
        return ""

    def numeric(self, name: str, fix: str = NUMBER_FIX) -> np.ndarray:
        """A column as float64; the first empty, non-numeric or non-finite cell is an error
        (ending with `fix`, the next step, for a text cell)."""
        import numpy as np

        values = self.column(name)
        out = np.empty(len(values), dtype=np.float64)
        for i, text in enumerate(values):
            out[i] = number(self.path, i, name, text, fix)
        return out


def number(path: Path, row: int, column: str, text: str, fix: str = NUMBER_FIX) -> float:
    """One cell as a finite float, or a `DataError` naming the row and column."""
    where = f"{path}: row {row + 1} (line {row + 2}), column {column!r}"
    if not text.strip():
        raise DataError(f"{where} is empty. Fill or drop the row, or leave the column out.")
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{where}: {text!r} is not a number. {fix}") from None
    if not math.isfinite(value):
        raise DataError(f"{where}: {text!r} is not a finite number.")
    return value


def read_table(path: Path) -> Table:
    """Parse a CSV file with a header row; every row must have as many fields as the header.

    Refused before reading: more than `ZOO_MAX_CSV_BYTES`; while parsing: more than
    `ZOO_MAX_CSV_CELLS` cells.
    """
    try:
        raw = read_bounded(path, CSV_BYTES, "CSV file", DataError)
    except FileNotFoundError:
        raise DataError(f"CSV file {str(path)!r} not found.") from None
    except OSError as exc:
        raise DataError(f"Cannot read CSV file {str(path)!r}: {exc.strerror}.") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from None
    records: list[list[str]] = []
    cells, max_cells = 0, CSV_CELLS.value()
    try:
        for record in csv.reader(text.splitlines()):
            if any(c.strip() for c in record):
                records.append(record)
                cells += len(record)
                if cells > max_cells:
                    CSV_CELLS.check(
                        cells, f"{path} (within its first {len(records):,} rows)",
                        "Give fewer rows or columns", DataError,
                    )  # fmt: skip
    except csv.Error as exc:
        raise DataError(f"{path}: not a valid CSV file ({exc}).") from None
    del text
    if not records:
        raise DataError(f"{path}: empty file; expected a header row and data rows.")
    columns = tuple(c.strip() for c in records[0])
    duplicates = sorted(c for c, n in Counter(columns).items() if n > 1)
    if duplicates or not all(columns):
        problem = f"duplicate column(s) {duplicates}" if duplicates else "an empty column name"
        raise DataError(f"{path}: the header has {problem}; every column needs a unique name.")
    rows = []
    for number_, record in enumerate(records[1:], 1):
        if len(record) != len(columns):
            raise DataError(
                f"{path}: row {number_} has {len(record)} fields, the header has "
                f"{len(columns)} ({list_columns(columns)})."
            )
        rows.append(tuple(c.strip() for c in record))
    return Table(path, columns, tuple(rows), sha256_bytes(raw))


def default_features(table: Table, target: str, task: str) -> tuple[str, ...]:
    """Every numeric column; a classification label is never a feature.

    A column of text (no cell a number: dates, names) is left out. A column of numbers with
    a cell that is not one is an error naming that cell, never a column silently dropped;
    an empty cell in a numeric column is reported when the column is read.
    """
    features = []
    for name in table.columns:
        if task == CLASSIFICATION and name == target:
            continue
        values = table.column(name)
        bad = None
        numbers = 0
        for row, text in enumerate(values):
            if not text:
                continue
            try:
                float(text)
                numbers += 1
            except ValueError:
                bad = (row, text) if bad is None else bad
        if bad is None:
            features.append(name)
        elif numbers:
            row, text = bad
            raise DataError(
                f"{table.path}: row {row + 1} (line {row + 2}), column {name!r}: {text!r} is "
                f"not a number, but {numbers:,} other cell(s) of the column are; zoo does not "
                "drop a numeric column silently. Fix the cell, or choose the input columns "
                "with --features."
            )
    if not features:
        raise DataError(
            f"{table.path}: no numeric column to use as a feature. Columns: "
            f"{list_columns(table.columns)}; choose them with --features."
        )
    return tuple(features)
