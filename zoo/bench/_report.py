"""What a benchmark run produces: per-section tables and goals, as text, markdown and JSON.

Every number is a median of interleaved measurements taken in the same run; ratios compare
two medians of that run. A goal is met or missed on its measured ratio, never on a number
from elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from zoo._limits import dumps_json
from zoo._tables import format_table
from zoo.bench._timing import median, paired_ratio


@dataclass
class Goal:
    """A target on a measured ratio: `measured <= target` (`at_most`) or `>=` (not)."""

    section: str
    name: str
    target: float
    at_most: bool
    measured: float
    where: str = ""  # which measurement decided it, for goals over several cells
    unit: str = "x"  # "x": a ratio; anything else is printed after the number

    @property
    def met(self) -> bool:
        return self.measured <= self.target if self.at_most else self.measured >= self.target

    @property
    def wanted(self) -> str:
        return f"{'<=' if self.at_most else '>='} {self.show(self.target)}"

    def show(self, value: float) -> str:
        return fmt_ratio(value) if self.unit == "x" else f"{value:.3g} {self.unit}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "wanted": self.wanted, "met": self.met}


@dataclass
class SectionResult:
    """One section: a display table, the measurements behind it, its goals and notes.

    `records` are flat dicts (JSON-ready) with at least `case`, and where they apply `median`
    (with `unit`), `runs`, `ratio` and `baseline`. A ratio is the median over rounds of the
    two cases' ratio in that round (`timing.paired_ratio`), not a ratio of medians.
    """

    name: str
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    records: list[dict[str, Any]] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "seconds": round(self.seconds, 2),
            "headers": list(self.headers),
            "rows": [list(r) for r in self.rows],
            "records": self.records,
            "goals": [g.to_dict() for g in self.goals],
            "notes": self.notes,
        }


@dataclass
class BenchResult:
    mode: str
    machine: dict[str, Any]
    sections: list[SectionResult]
    seconds: float = 0.0

    @property
    def goals(self) -> list[Goal]:
        return [g for s in self.sections for g in s.goals]

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "seconds": round(self.seconds, 1),
            "machine": self.machine,
            "sections": [s.to_dict() for s in self.sections],
            "goals": [g.to_dict() for g in self.goals],
        }

    def to_json(self) -> str:
        return dumps_json(self.to_dict()) + "\n"  # strict JSON: no NaN or Infinity tokens


def fmt_ratio(value: float) -> str:
    return f"{value:.2f}x" if math.isfinite(value) else str(value)


def fmt_seconds(seconds: float) -> str:
    """Readable duration with its unit: '41.2 ms', '7.9 us', '4.31 s'."""
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.1f} us"


def timed_row(
    name: str, samples: Sequence[float], ratio: float | None, baseline: str
) -> tuple[str, ...]:
    """A table row for a timed case: median, runs, what it is compared with, the ratio."""
    shown = "-" if ratio is None else fmt_ratio(ratio)
    return (name, fmt_seconds(median(samples)), str(len(samples)), baseline, shown)


def timed_record(
    name: str, samples: Sequence[float], ratio: float | None, baseline: str
) -> dict[str, object]:
    return {
        "case": name,
        "median": median(samples),
        "unit": "s",
        "runs": len(samples),
        "samples": list(samples),
        "baseline": baseline,
        "ratio": ratio,
    }


TIMED_HEADERS = ("CASE", "MEDIAN", "RUNS", "VS", "RATIO")


def compare_timed(
    times: Mapping[str, Sequence[float]], base: str
) -> tuple[list[tuple[str, ...]], list[dict[str, object]], dict[str, float]]:
    """Rows, records and ratios (median of per-round ratios) of every case against `base`."""
    rows, records, ratios = [], [], {}
    for name, samples in times.items():
        ratio = None if name == base else paired_ratio(samples, times[base])
        rows.append(timed_row(name, samples, ratio, "-" if ratio is None else base))
        records.append(timed_record(name, samples, ratio, base))
        if ratio is not None:
            ratios[name] = ratio
    return rows, records, ratios


def _goal_rows(goals: Sequence[Goal]) -> list[tuple[str, ...]]:
    return [
        (g.section, g.name, g.wanted, g.show(g.measured), "met" if g.met else "MISSED", g.where)
        for g in goals
    ]


GOAL_HEADERS = ("SECTION", "GOAL", "WANTED", "MEASURED", "RESULT", "DECIDED BY")


def machine_line(machine: dict[str, Any]) -> str:
    return (
        f"{machine['cpu']}, {machine['cores']} cores, load average {machine['load_before']} "
        f"before / {machine['load_after']} after; Python {machine['python']}, "
        f"torch {machine['torch']}, onnxruntime {machine['onnxruntime']}, "
        f"onnx {machine['onnx']}"
    )


def to_text(result: BenchResult) -> str:
    """The plain-text report `zoo bench` prints."""
    parts = [f"zoo bench ({result.mode}, {result.seconds:.0f} s): {machine_line(result.machine)}"]
    for section in result.sections:
        parts.append(f"\n== {section.name}: {section.title} ({section.seconds:.0f} s)")
        parts.append(format_table(section.headers, section.rows))
        parts += [f"  note: {n}" for n in section.notes]
    parts.append("\n== goals")
    parts.append(format_table(GOAL_HEADERS, _goal_rows(result.goals)))
    return "\n".join(parts) + "\n"


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(value: Any) -> str:
        return "-" if value is None else str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(headers)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def to_markdown(result: BenchResult) -> str:
    """The same report as markdown (what docs/benchmarks.md quotes)."""
    parts = [
        f"Mode `{result.mode}`, {result.seconds:.0f} s. Machine: {machine_line(result.machine)}.",
        "",
        "### Goals",
        "",
        _md_table(GOAL_HEADERS, _goal_rows(result.goals)),
    ]
    for section in result.sections:
        parts += ["", f"### {section.name}: {section.title}", ""]
        parts.append(_md_table(section.headers, section.rows))
        if section.notes:
            parts.append("")
            parts += [f"- {n}" for n in section.notes]
    return "\n".join(parts) + "\n"
