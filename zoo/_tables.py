"""Plain-text tables for the CLI (no dependency beyond the standard library), and fitting a
table into a terminal's width by dropping and narrowing columns rather than wrapping."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: Spaces between columns.
GAP = 2
#: Marks a cell cut short to fit.
ELLIPSIS = "…"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-aligned columns separated by two spaces, with a header underline."""
    cells = [[str(h) for h in headers]] + [["-" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@dataclass(frozen=True)
class Drop:
    """Fitting step: leave out the column `header`."""

    header: str


@dataclass(frozen=True)
class Narrow:
    """Fitting step: cut the cells of column `header` to `width` characters at least."""

    header: str
    width: int


def cells_of(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[list[str]]:
    """The header row and every row as strings (None as "-")."""
    return [[str(h) for h in headers]] + [["-" if c is None else str(c) for c in r] for r in rows]


def fit_columns(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    width: int,
    steps: Sequence[Drop | Narrow] = (),
) -> dict[int, int]:
    """The columns to show (by index) and their widths, so that a line is at most `width`.

    Each step applies, in order, only while the table is still too wide: a `Drop` leaves a
    column out, a `Narrow` cuts one to `max(step.width, what still fits)`. A table that
    fits after no step keeps every column whole; one too wide after all steps stays so.
    """
    cells = cells_of(headers, rows)
    shown = {i: max(len(row[i]) for row in cells) for i in range(len(headers))}
    index = {h: i for i, h in enumerate(headers)}

    def total() -> int:
        return sum(shown.values()) + GAP * (len(shown) - 1)

    for step in steps:
        excess = total() - width
        column = index.get(step.header)
        if excess <= 0:
            break
        if column is None or column not in shown:
            continue
        if isinstance(step, Drop):
            del shown[column]
        else:
            shown[column] = min(shown[column], max(step.width, shown[column] - excess, 1))
    return shown


def crop(text: str, width: int, keep_end: bool = False) -> str:
    """`text`, cut to `width` characters with an ellipsis when longer: its end cut off, or
    with `keep_end` its start (a path: the file name is what tells two apart)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    return ELLIPSIS + text[len(text) - width + 1 :] if keep_end else text[: width - 1] + ELLIPSIS


def fitted_rows(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    columns: dict[int, int],
    keep_end: Sequence[str] = (),
) -> list[list[str]]:
    """Header, underline and rows: the `columns` chosen by `fit_columns`, each cell cropped
    (from the start in the `keep_end` columns) and padded to its width (the caller joins
    them with GAP spaces and strips the end)."""
    cells = cells_of(headers, rows)
    out = [
        [crop(row[i], w, headers[i] in keep_end).ljust(w) for i, w in columns.items()]
        for row in cells
    ]
    out.insert(1, ["-" * w for w in columns.values()])
    return out
