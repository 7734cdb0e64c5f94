"""What parity reports: one check per output and case, and an artifact's report with the
tolerances used, its table rows, summary and JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class OutputCheck:
    """One output at one case."""

    case: str
    output: str
    expected_shape: tuple[int, ...]
    actual_shape: tuple[int, ...] | None
    max_abs: float | None
    max_rel: float | None
    passed: bool
    problem: str = ""
    #: Shown but not deciding: a lossy format's elementwise rows when a task metric judges it.
    advisory: bool = False


@dataclass
class ParityReport:
    """Every check of one artifact, with the tolerances used."""

    artifact: str
    exporter: str
    atol: float
    rtol: float
    checks: list[OutputCheck] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed or c.advisory for c in self.checks)

    @property
    def failures(self) -> list[OutputCheck]:
        return [c for c in self.checks if not (c.passed or c.advisory)]

    def rows(self) -> list[dict[str, Any]]:
        """Per output (streamed outputs apart), the worst case: what the table prints."""
        grouped: dict[str, list[OutputCheck]] = {}
        for check in self.checks:
            key = check.output + (" (stream)" if check.case.startswith("stream") else "")
            grouped.setdefault(key, []).append(check)
        rows = []
        for key, checks in grouped.items():
            failed = [c for c in checks if not c.passed]
            advisory = all(c.advisory for c in checks)
            worst = max(checks, key=lambda c: float("inf") if c.max_abs is None else c.max_abs)
            rows.append(
                {
                    "output": key,
                    "cases": len(checks),
                    "shape": worst.actual_shape,
                    "max_abs": max(
                        (c.max_abs for c in checks if c.max_abs is not None), default=None
                    ),
                    "max_rel": max(
                        (c.max_rel for c in checks if c.max_rel is not None), default=None
                    ),
                    "passed": not failed or advisory,
                    "advisory": advisory,
                    "problem": f"{failed[0].case}: {failed[0].problem}" if failed else "",
                }
            )
        return rows

    def summary(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "atol": self.atol,
            "rtol": self.rtol,
            "cases": sorted({c.case for c in self.checks}),
            "max_abs": {r["output"]: r["max_abs"] for r in self.rows()},
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "artifact": self.artifact,
            "exporter": self.exporter,
            "atol": self.atol,
            "rtol": self.rtol,
            "passed": self.passed,
            "info": self.info,
            "rows": self.rows(),
            "checks": [asdict(c) for c in self.checks],
        }
