"""Output that respects the terminal: a rich Console fitted to it, tables and epoch lines
that shorten instead of wrapping, and `-q/--quiet`.

rich is imported only inside these functions, which only long-running commands call
(train, export, verify, bench), so `zoo --help`, `zoo list` and `zoo plugins` never load it.

The rules:

- a terminal: lines fit its width (columns dropped or abbreviated, cells cut with "…"),
  colours unless `NO_COLOR` is set (then no styling at all), a live progress bar unless
  `TERM` is `dumb`;
- anything else (a pipe, a file, a test runner): whole lines, no escape codes, no redraws.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING

import click

from zoo._tables import GAP, Drop, Narrow, crop, fit_columns, fitted_rows

if TYPE_CHECKING:
    from rich.console import Console

#: The width of output that goes to a pipe or file: no terminal wraps it, so lines stay whole.
PLAIN_WIDTH = 10_000

quiet_option = click.option(
    "-q", "--quiet", is_flag=True, help="Print only errors and the final result line."
)


def console_for(
    file: IO[str],
    *,
    width: int | None = None,
    force_terminal: bool | None = None,
    record: bool = False,
) -> Console:
    """A rich Console on `file` following the rules above (`width`, `force_terminal`: for
    tests; by default rich's own detection: a TTY, or FORCE_COLOR)."""
    from rich.console import Console

    probe = Console(file=file, force_terminal=force_terminal)
    terminal = probe.is_terminal
    no_color = bool(os.environ.get("NO_COLOR"))
    width = width if width is not None else (None if terminal else PLAIN_WIDTH)
    return Console(
        file=file,
        width=width,
        height=None if width is None else 25,  # rich takes a width alone as 80 on TERM=dumb
        force_terminal=force_terminal,
        color_system=None if no_color else "auto",
        no_color=no_color,
        highlight=False,
        markup=False,
        emoji=False,
        record=record,
    )


def make_console(stderr: bool = False) -> Console:
    """The console on the current stdout or stderr (at call time: click's test runner swaps
    them)."""
    return console_for(sys.stderr if stderr else sys.stdout)


def is_live(console: Console) -> bool:
    """Whether redrawing in place is possible: a terminal that is not `TERM=dumb`."""
    return console.is_terminal and not console.is_dumb_terminal


def print_table(
    console: Console,
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    steps: Sequence[Drop | Narrow] = (),
    style: Callable[[str, str], str | None] = lambda header, cell: None,
    keep_end: Sequence[str] = (),
) -> None:
    """`rows` under `headers`, fitted to the console's width by `steps` (zoo._tables; cells
    of `keep_end` columns lose their start, others their end); cell styles from
    `style(header, cell)` (colours vanish off a terminal and with NO_COLOR)."""
    from rich.text import Text

    columns = fit_columns(headers, rows, console.width, steps)
    names = [headers[i] for i in columns]
    for n, cells in enumerate(fitted_rows(headers, rows, columns, keep_end)):
        text = Text(no_wrap=True, overflow="ellipsis")
        for k, (header, cell) in enumerate(zip(names, cells, strict=True)):
            if k:
                text.append(" " * GAP)
            text.append(cell, style=(style(header, cell.strip()) if n >= 2 else None) or "")
        text.rstrip()
        console.print(text, crop=True, soft_wrap=False)


def fit_fields(fields: Sequence[tuple[str, str, int]], width: int | None, sep: str = "  ") -> str:
    """One line of `(long, short, priority)` fields that fits `width`: the long forms if they
    fit, else the short ones (single spaces), then without the fields of lowest priority (a
    higher number goes first; 0 is never dropped), then cut with an ellipsis."""
    line = sep.join(f[0] for f in fields)
    if width is None or len(line) <= width:
        return line
    kept = list(fields)
    line = " ".join(f[1] for f in kept)
    for priority in sorted({f[2] for f in fields if f[2] > 0}, reverse=True):
        if len(line) <= width:
            break
        kept = [f for f in kept if f[2] != priority]
        line = " ".join(f[1] for f in kept)
    return crop(line, width)
