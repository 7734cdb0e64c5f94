"""What the lengths tests share: the model under test and the proof that an export's parity
covered variable lengths."""

from __future__ import annotations

from typing import Any

import zoo
from zoo.catalog._session import App
from zoo.catalog._source import SourceModel, from_name
from zoo.parity._check import LENGTHS_CASES

EXPORTERS = sorted(zoo.load_plugins().exporters)


def source_of(plugins: zoo.Plugins, name: str, layers: int | None = None) -> SourceModel:
    """The seeded eager model `name` (with `layers` layers if given), as `zoo export` builds it."""
    return from_name(App(plugins), name, {"num_layers": layers} if layers else None)


def assert_lengths_parity(result: Any, contract: zoo.IOContract) -> None:
    """The export passed, on every LENGTHS_CASES case, with exact zeros past each length."""
    assert result.passed, result.to_dict()
    report = result.report
    checked = {(c.case, c.output) for c in report.checks}
    outputs = {o for _, o in checked}
    assert outputs == {*contract.output_names, "hidden past lengths"}
    cases = {c for c, _ in checked}
    assert len(cases) == len(LENGTHS_CASES)
    assert not any(c.startswith("stream") for c in cases)
    assert any("batch=5 seq=512" in c and ",512]" in c and "lengths=[1," in c for c in cases)
    assert any("batch=1 seq=33" in c and "lengths=[17]" in c for c in cases)
    padding = [c for c in report.checks if c.output == "hidden past lengths"]
    assert padding and all(c.passed and c.max_abs == 0.0 for c in padding)
