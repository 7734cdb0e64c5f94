"""Property-based export testing: random configs x random shapes, parity must hold.

Hypothesis draws an architecture (every registered one: unidirectional and bidirectional,
RNN, LSTM and plugin GRU), 1-3 layers, hidden 1-64, input 1-16, and 1-3 parity shapes
(batch 1-8, seq 1-64, with or without initial states); zoo exports it through the fp32
exporters and checks parity on those shapes plus the streaming case. A failure shrinks to
a minimal config and shape.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zoo
from zoo.catalog._source import SourceModel, seeded
from zoo.checkpoint._provenance import RandomWeights
from zoo.export._pipeline import export_model
from zoo.parity._check import Case

PLUGINS = zoo.load_plugins()
EXPORTERS = [PLUGINS.exporter(n) for n in ("onnx", "torchscript", "pt2")]


@st.composite
def exports(draw: Any) -> tuple[zoo.Architecture, dict[str, int], list[Case]]:
    arch = PLUGINS.architectures[draw(st.sampled_from(sorted(PLUGINS.architectures)))]
    overrides = {
        "num_layers": draw(st.integers(1, 3)),
        "hidden_size": draw(st.integers(1, 64)),
        "input_size": draw(st.integers(1, 16)),
    }
    shapes = draw(
        st.lists(
            st.builds(Case, st.integers(1, 8), st.integers(1, 64), st.booleans()),
            min_size=1,
            max_size=3,
        )
    )
    return arch, overrides, shapes


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exports())
def test_random_configs_export_with_parity(
    drawn: tuple[zoo.Architecture, dict[str, int], list[Case]],
) -> None:
    arch, overrides, cases = drawn
    config = arch.resolve(overrides)
    source = SourceModel(arch.name, arch, config, seeded(arch, config, 0), RandomWeights(0))
    with tempfile.TemporaryDirectory() as out:
        summary = export_model(source, EXPORTERS, Path(out), cases=cases)
    failures = [
        (a.exporter, a.error or [(c.case, c.output, c.problem) for c in a.report.failures[:2]])
        for a in summary.artifacts
        if not a.passed and a.report is not None
    ] + [(a.exporter, a.error) for a in summary.artifacts if a.report is None]
    assert summary.passed, (arch.name, config, failures)
