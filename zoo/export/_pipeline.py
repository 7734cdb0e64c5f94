"""Export a model with every chosen exporter, prove parity, and install only what passes.

For each exporter: write to a temporary file beside the destination, load it back in its own
runtime, compare every output against eager PyTorch on shapes never traced, embed the parity
summary, then rename into place. An artifact that fails parity is never installed, so a file
at the destination is always one that passed; the JSON report says what failed and why.

`lengths=True` exports the contract with the `lengths` input (`zoo export --lengths`); the
artifact's `zoo.io` metadata then lists it, which is how `zoo verify` knows.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from zoo._errors import ZooError, debug_enabled
from zoo._fs import atomic_output, atomic_write_text, check_writable, ensure_dir
from zoo._limits import dumps_json
from zoo._spec import Exporter
from zoo.catalog._source import SourceModel
from zoo.checkpoint._provenance import Weights
from zoo.export._bundle import bundle_dir, staged_bundle, write_bundle
from zoo.export._job import DEFAULT_OPSET, ExportJob, export_contract
from zoo.export._peek import check_replaceable
from zoo.export._proof import DEFAULT_JUDGE, Progress, TaskJudge, prove
from zoo.export._runtime import PROVIDERS, check_provider, use_provider
from zoo.parity._check import Case, Reference, references
from zoo.parity._contract import check_module
from zoo.parity._report import ParityReport


@dataclass
class ArtifactResult:
    exporter: str
    path: Path
    installed: bool
    report: ParityReport | None
    seconds: float
    error: str = ""

    @property
    def passed(self) -> bool:
        return self.installed and self.report is not None and self.report.passed

    def to_dict(self) -> dict[str, Any]:
        return {
            "exporter": self.exporter,
            "path": str(self.path),
            "installed": self.installed,
            "passed": self.passed,
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "parity": self.report.to_dict() if self.report else None,
        }


@dataclass
class ExportSummary:
    model: str
    weights: Weights
    artifacts: list[ArtifactResult] = field(default_factory=list)
    lengths: bool = False
    ort_provider: str = "cpu"
    #: One report per artifact attempted, `ARTIFACT.parity.json` beside it.
    report_paths: list[Path] = field(default_factory=list)
    #: The architecture's streaming property (`Architecture.streaming`).
    streaming: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.artifacts) and all(a.passed for a in self.artifacts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "weights": self.weights.to_dict(),
            "lengths": self.lengths,
            "streaming": self.streaming,
            "ort_provider": self.ort_provider,
            "passed": self.passed,
            "reports": [str(p) for p in self.report_paths],
            "artifacts": [a.to_dict() for a in self.artifacts],
        }

    def artifact_report(self, artifact: ArtifactResult) -> dict[str, Any]:
        """The report written beside one artifact: this export's facts and its one row."""
        data = self.to_dict()
        del data["reports"]
        data["passed"] = artifact.passed
        data["artifacts"] = [artifact.to_dict()]
        return data


def report_path(artifact: Path) -> Path:
    """Where an artifact's parity report goes: its file name plus `.parity.json`, so that
    two formats of one model in one folder (`m.onnx`, `m.int8.onnx`) keep one report each."""
    return artifact.with_name(artifact.name + ".parity.json")


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:500]


def _zoo_cause(exc: BaseException) -> ZooError | None:
    """A ZooError that torch wrapped (torch.export re-raises model errors as its own)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ZooError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def export_one(
    source: SourceModel,
    exporter: Exporter,
    final: Path,
    refs: Sequence[Reference],
    *,
    opset: int,
    legacy: bool,
    atol: float | None,
    rtol: float | None,
    lengths: bool = False,
    judge: TaskJudge = DEFAULT_JUDGE,
    progress: Progress = lambda _: None,
    graph_cache: bool = True,
) -> ArtifactResult:
    """Export, check parity on the temporary file, and install it only if it passed."""
    start = time.perf_counter()
    report: ParityReport | None = None
    try:
        # The artifact is installed first, then its test data bundle (an ONNX file's).
        with staged_bundle(final) as stage, atomic_output(final) as tmp:
            job = ExportJob(
                source, tmp, opset=opset, legacy=legacy, exporter=exporter.name,
                lengths=lengths, graph_cache="use" if graph_cache else "off",
            )  # fmt: skip
            while True:
                info = exporter.export(job) or {}
                runner = exporter.load(tmp)
                report = prove(
                    source, exporter, runner, job.contract, refs, artifact=str(final),
                    atol=atol, rtol=rtol, judge=judge, progress=progress,
                )  # fmt: skip
                report.info = {**info, **report.info}
                if report.passed or not str(info.get("graph_cache", "")).startswith("hit"):
                    break
                # Nothing from the cache is trusted: a failed proof is redone on a fresh
                # export, which refuses the entry if it differs (zoo.export.cached_graph).
                progress(f"{exporter.name}: the graph from zoo's cache failed; exporting afresh")
                job = replace(job, graph_cache="check")
            if not report.passed:
                raise _Rejected
            if exporter.annotate is not None:
                exporter.annotate(tmp, report.summary())
            if stage is not None:
                write_bundle(stage, tmp, final.name, job.contract, refs, source.module, report)
                report.info["bundle"] = str(bundle_dir(final))
    except _Rejected:
        return ArtifactResult(exporter.name, final, False, report, time.perf_counter() - start)
    except ZooError as exc:
        return ArtifactResult(
            exporter.name, final, False, report, time.perf_counter() - start, str(exc)
        )
    except Exception as exc:  # a torch/onnx failure: reported against this exporter
        error = f"export failed: {first_line(exc)} (run with --debug for the traceback)"
        if debug_enabled():
            raise
        cause = _zoo_cause(exc)
        if cause is not None:  # as if raised directly, like the ZooError branch above
            error = str(cause)
        return ArtifactResult(
            exporter.name, final, False, report, time.perf_counter() - start, error
        )
    return ArtifactResult(exporter.name, final, True, report, time.perf_counter() - start)


class _Rejected(Exception):
    """Parity failed: leave the temporary artifact uninstalled."""


def export_model(
    source: SourceModel,
    exporters: Sequence[Exporter],
    out_dir: Path,
    *,
    opset: int = DEFAULT_OPSET,
    legacy: bool = False,
    atol: float | None = None,
    rtol: float | None = None,
    lengths: bool = False,
    progress: Progress = lambda _: None,
    cases: Sequence[Case] | None = None,
    ort_provider: str = "cpu",
    judge: TaskJudge = DEFAULT_JUDGE,
    stem: str | None = None,
    force: bool = False,
    graph_cache: bool = True,
) -> ExportSummary:
    """Run each exporter in turn into `out_dir/STEM<suffix>` (STEM: `stem`, default the
    source's name); write `ARTIFACT.parity.json` beside each artifact.

    A file already at a destination that holds another model (its `zoo.*` metadata records
    another architecture, config or weights) is a ZooError before anything is exported,
    unless `force`: artifacts from different sources never replace each other silently.

    `lengths=True` adds the `lengths` input to every artifact (ConfigError if the
    architecture does not declare `supports_lengths`). `cases` replaces the default parity
    shapes (property-based tests draw their own). `ort_provider`: the onnxruntime provider
    ONNX artifacts are checked on (zoo.export.ort_session). `graph_cache=False`: export every
    graph afresh, neither reading nor writing zoo's graph cache (`zoo export --no-cache`).
    """
    check_provider(ort_provider)  # before any export: a missing GPU build fails at once
    contract = export_contract(source, lengths)
    if not exporters:
        raise ZooError("No exporter chosen. Pass --onnx, --torchscript, --pt2 or --all.")
    finals = [out_dir / f"{stem or source.name}{exporter.suffix}" for exporter in exporters]
    if not force:
        for exporter, final in zip(exporters, finals, strict=True):
            if final.exists():
                check_replaceable(exporter, final, source)
    ensure_dir(out_dir)
    check_writable(out_dir)
    progress(f"reference: eager PyTorch {source.name} ({source.weights.describe()})")
    if ort_provider != "cpu":
        progress(f"onnxruntime parity checks run on {PROVIDERS[ort_provider]}")
    check_module(source.module, source.arch, source.config)  # names the plugin if broken
    if lengths:
        progress(
            "lengths: parity on padded batches with mixed lengths; streaming is not checked "
            "for artifacts with lengths"
        )
    refs = references(source.module, contract, cases)
    summary = ExportSummary(
        source.name, source.weights, lengths=lengths, ort_provider=ort_provider,
        streaming=source.arch.streaming(),
    )  # fmt: skip
    for i, (exporter, final) in enumerate(zip(exporters, finals, strict=True), 1):
        progress(f"[{i}/{len(exporters)}] {exporter.name}: exporting to {final}")
        with use_provider(ort_provider):
            result = export_one(
                source,
                exporter,
                final,
                refs,
                opset=opset,
                legacy=legacy,
                atol=atol,
                rtol=rtol,
                lengths=lengths,
                judge=judge,
                progress=progress,
                graph_cache=graph_cache,
            )
        state = "passed" if result.passed else "FAILED"
        what = "parity" if result.report is not None else "export"
        cache = str(result.report.info.get("graph_cache", "")) if result.report else ""
        note = "; graph from zoo's cache" if cache.startswith("hit") else ""
        progress(
            f"[{i}/{len(exporters)}] {exporter.name}: {what} {state} ({result.seconds:.1f} s{note})"
        )
        summary.artifacts.append(result)
    for result in summary.artifacts:
        path = report_path(result.path)
        if not result.passed and result.path.exists():
            # A good artifact from before stays; its report must stay true to it.
            path = result.path.with_name(result.path.name + ".failed.parity.json")
        atomic_write_text(path, dumps_json(summary.artifact_report(result)) + "\n")  # strict
        summary.report_paths.append(path)
    return summary
