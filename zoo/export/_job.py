"""`ExportJob`: what an exporter's `export(job)` receives.

Kept apart from `zoo.export._pipeline` so that `import zoo`, which plugin modules do
on every `zoo` command, does not pull in the pipeline's imports (models, checkpoints,
parity, hashing); they load only when something is exported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from zoo._contract import IOContract

if TYPE_CHECKING:
    from zoo.catalog._source import SourceModel

#: Default ONNX opset: the torch.export-based exporter's native one.
DEFAULT_OPSET = 18
#: How an export uses zoo's graph cache (`ExportJob.graph_cache`).
GraphCacheMode = Literal["use", "off", "check"]


@dataclass(frozen=True)
class ExportJob:
    """What an exporter's `export(job)` gets: the model, where to write, the options.

    `lengths`: the artifact takes the `lengths` input; `contract`, `example` and `metadata`
    already include it, so an exporter that works from them needs nothing else.
    """

    source: SourceModel
    path: Path
    opset: int = DEFAULT_OPSET
    legacy: bool = False
    exporter: str = ""
    lengths: bool = False
    #: How an exporter that caches graphs (the `onnx` one) uses zoo's graph cache:
    #: `use`, `off` (`zoo export --no-cache`), or `check` (export afresh and compare with the
    #: entry, after a graph from the cache failed its proof; see `zoo.export.cached_graph`).
    graph_cache: GraphCacheMode = "use"

    @property
    def module(self) -> Any:
        return self.source.module

    @property
    def contract(self) -> IOContract:
        return export_contract(self.source, self.lengths)

    @property
    def example(self) -> dict[str, Any]:
        """The tracing inputs (batch 2, seq 7, states given); no parity case uses this shape."""
        from zoo.parity._inputs import TRACE_BATCH, TRACE_SEQ, make_inputs

        return make_inputs(self.contract, TRACE_BATCH, TRACE_SEQ, states=True, seed=7)

    def metadata(self, exporter: str | None = None) -> dict[str, str]:
        """The `zoo.*` metadata to embed in the artifact; `exporter` names the route that
        made it (for example `onnx:dynamo`; default: the exporter's name)."""
        from zoo.export._metadata import artifact_metadata

        return artifact_metadata(self.source, self.contract, exporter or self.exporter)


def export_contract(source: SourceModel, lengths: bool) -> IOContract:
    """The contract an export writes: the model's, plus `lengths` when asked (ConfigError if
    the architecture does not support it)."""
    return source.arch.io(source.config, lengths=lengths)
