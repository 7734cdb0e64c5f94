"""Checks for plugin authors: one call per architecture proves it works with zoo.

    from zoo.testing import check_architecture
    def test_gru(tmp_path): check_architecture("gru", out_dir=tmp_path)

`check_architecture` runs `check_forward_contract` (shapes, dtypes, states default to zeros)
and then every registered exporter with its parity check. Contract failures raise
`zoo.PluginError` naming the plugin; parity failures raise `zoo.ParityError`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from zoo._errors import ParityError
from zoo._manager import Plugins, load_plugins
from zoo._spec import Architecture
from zoo.catalog._source import SourceModel, seeded
from zoo.checkpoint._provenance import RandomWeights
from zoo.export._pipeline import export_model
from zoo.parity._contract import CONTRACT_SHAPES, check_forward_contract

__all__ = ["CONTRACT_SHAPES", "check_architecture", "check_forward_contract"]


def check_architecture(
    arch: Architecture | str,
    overrides: Mapping[str, Any] | None = None,
    *,
    exporters: Iterable[str] | None = None,
    out_dir: Path | None = None,
    plugins: Plugins | None = None,
) -> None:
    """The one-line test for a plugin architecture: contract, then every exporter's parity.

        def test_gru(tmp_path):
            zoo.testing.check_architecture("gru", out_dir=tmp_path)

    Builds the model, checks the forward contract at several shapes (with and without
    states), then exports it through every registered exporter (or `exporters`), each graph
    afresh (never from zoo's graph cache), and runs the parity check. Raises `PluginError`
    (contract) or `ParityError` naming what failed.
    """
    plugins = plugins if plugins is not None else load_plugins()
    spec = plugins.architecture(arch) if isinstance(arch, str) else arch
    check_forward_contract(spec, overrides)
    config = spec.resolve(overrides)
    source = SourceModel(spec.name, spec, config, seeded(spec, config, 0), RandomWeights(0))
    chosen = [
        plugins.exporter(e) for e in (exporters if exporters is not None else plugins.exporters)
    ]
    with tempfile.TemporaryDirectory() as scratch:
        # graph_cache=False: the test is that the model exports now, not that it once did
        summary = export_model(
            source, chosen, out_dir or Path(scratch), force=True, graph_cache=False
        )
    problems = []
    for artifact in summary.artifacts:
        if artifact.error:
            problems.append(f"{artifact.exporter}: {artifact.error}")
        elif artifact.report is not None and artifact.report.failures:
            first = artifact.report.failures[0]
            problems.append(
                f"{artifact.exporter}: {first.output!r} at {first.case}: {first.problem}"
            )
    if problems:
        raise ParityError(
            f"Architecture {spec.name!r} failed export parity: " + "; ".join(problems)
        )
