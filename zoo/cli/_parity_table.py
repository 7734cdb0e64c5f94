"""The parity table that `zoo export` and `zoo verify` print: per artifact, per output, the
worst case, fitted to the terminal's width (zoo._tables), and the one-line failure summaries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from zoo._tables import Drop, Narrow

if TYPE_CHECKING:
    from rich.console import Console

    from zoo.parity._report import ParityReport


#: The parity table's columns.
PARITY_HEADERS = ("ARTIFACT", "OUTPUT", "CASES", "MAX ABS", "MAX REL", "ATOL", "RTOL", "RESULT")
#: How the parity table fits a narrow terminal: the verdict keeps its first word ("pass",
#: "FAIL", "info") whole; the tolerances, then the case count and the relative error go
#: first; long paths and problems are cut with an ellipsis (the failure lines say it all).
PARITY_FIT = (
    Narrow("RESULT", 24),
    Narrow("ARTIFACT", 32),
    Drop("RTOL"),
    Drop("ATOL"),
    Narrow("ARTIFACT", 24),
    Drop("CASES"),
    Narrow("RESULT", 12),
    Drop("MAX REL"),
    Narrow("OUTPUT", 12),
    Narrow("ARTIFACT", 12),
    Narrow("RESULT", 4),
)


def parity_rows(reports: Sequence[ParityReport]) -> list[tuple[object, ...]]:
    """The parity table's rows: per artifact, per output, the worst case."""
    rows: list[tuple[object, ...]] = []
    for report in reports:
        for row in report.rows():
            rows.append(
                (
                    report.artifact,
                    row["output"],
                    row["cases"],
                    _sci(row["max_abs"]),
                    _sci(row["max_rel"]),
                    f"{report.atol:g}",
                    f"{report.rtol:g}",
                    _verdict(row),
                )
            )
    return rows


def print_parity_table(reports: Sequence[ParityReport], console: Console | None = None) -> None:
    """The parity table on stdout (or `console`), fitted to a terminal's width."""
    from zoo.cli._output import make_console, print_table

    print_table(
        console or make_console(),
        PARITY_HEADERS,
        parity_rows(reports),
        PARITY_FIT,
        style=_verdict_style,
        keep_end=("ARTIFACT",),
    )


def _verdict_style(header: str, cell: str) -> str | None:
    if header != "RESULT":
        return None
    return "green" if cell == "pass" else "bold red" if cell.startswith("FAIL") else "yellow"


def _verdict(row: dict[str, Any]) -> str:
    if row.get("advisory"):  # a lossy format, judged by its task metric row instead
        return "info" + (f" (outside tolerance: {row['problem']})" if row["problem"] else "")
    return "pass" if row["passed"] else f"FAIL {row['problem']}"


def _sci(value: float | None) -> str:
    return "-" if value is None else f"{value:.2e}"


def failure_lines(reports: Sequence[ParityReport]) -> list[str]:
    """One line per failing artifact: how many checks failed and the first one."""
    lines = []
    for report in reports:
        if report.failures:
            first = report.failures[0]
            lines.append(
                f"{report.artifact}: {len(report.failures)} of {len(report.checks)} checks "
                f"failed; first: output {first.output!r} at {first.case}: {first.problem}"
            )
    return lines


def runtime_matrix(results: Sequence[tuple[str, Any]]) -> str:
    """`zoo verify --runtime`: runtime x output, worst error, verdict (zoo.export._runtimes)."""
    from zoo._tables import format_table
    from zoo.export._runtimes import MATRIX_HEADERS, matrix_rows

    return format_table(MATRIX_HEADERS, matrix_rows(results))
