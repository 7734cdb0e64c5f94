"""`zoo verify`: re-run the parity of an existing artifact against the model it was
exported from, rebuilt from the artifact's `zoo.*` metadata."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zoo._contract import LENGTHS
from zoo._errors import ZooError
from zoo._spec import Exporter
from zoo.catalog._source import SourceModel, from_checkpoint, seeded
from zoo.checkpoint._provenance import CheckpointWeights, RandomWeights
from zoo.export._job import export_contract
from zoo.export._metadata import ArtifactMetadata
from zoo.export._pipeline import first_line
from zoo.export._proof import DEFAULT_JUDGE, TaskJudge, prove
from zoo.export._runtime import check_provider, use_provider
from zoo.parity._check import references
from zoo.parity._report import ParityReport


def find_exporter(exporters: dict[str, Exporter], path: Path) -> Exporter:
    """The exporter whose suffix ends the artifact's file name (longest suffix wins)."""
    matches = [e for e in exporters.values() if path.name.endswith(e.suffix)]
    if not matches:
        suffixes = ", ".join(sorted(f"{e.suffix} ({e.name})" for e in exporters.values()))
        raise ZooError(f"Cannot tell the format of {str(path)!r}: known suffixes are {suffixes}.")
    return max(matches, key=lambda e: len(e.suffix))


def source_from_metadata(app: Any, meta: dict[str, str], checkpoint: Path | None) -> SourceModel:
    """Rebuild the eager model an artifact was exported from, using its `zoo.*` metadata."""
    recorded = ArtifactMetadata.read(meta)
    if recorded.architecture not in app.plugins.architectures:
        raise ZooError(
            f"The artifact was exported from architecture {recorded.architecture!r} of plugin "
            f"{recorded.plugin or '?'!r}, which is not installed here (installed: "
            f"{', '.join(sorted(app.plugins.architectures))}). Install that plugin's package "
            "to rebuild the reference model."
        )
    arch = app.plugins.architecture(recorded.architecture)
    config = arch.resolve(recorded.config)
    weights = recorded.weights
    if isinstance(weights, RandomWeights) and checkpoint is None:
        module = seeded(arch, config, weights.seed)
        return SourceModel(recorded.model, arch, config, module, weights)
    path = checkpoint or (weights.path if isinstance(weights, CheckpointWeights) else None)
    if path is None:
        raise ZooError("The artifact was exported from a checkpoint; pass --checkpoint DIR.")
    source = from_checkpoint(app, path, name=recorded.model)
    assert isinstance(source.weights, CheckpointWeights)
    if isinstance(weights, CheckpointWeights) and source.weights.digest != weights.digest:
        raise ZooError(
            f"Checkpoint {str(path)!r} (digest {source.weights.digest[:12]}...) is not the one "
            f"the artifact was exported from (digest {weights.digest[:12]}...): its weights or "
            "its config.json differ. Re-export from this checkpoint if the change is intended."
        )
    return source


def verify_artifact(
    app: Any,
    path: Path,
    checkpoint: Path | None,
    atol: float | None,
    rtol: float | None,
    ort_provider: str = "cpu",
    judge: TaskJudge = DEFAULT_JUDGE,
) -> ParityReport:
    """Re-run the proof of an existing artifact against its rebuilt reference model
    (ONNX artifacts on onnxruntime's `ort_provider`, zoo.export.ort_session); a lossy
    format of a trained checkpoint is judged as export judged it (`judge`)."""
    check_provider(ort_provider)
    if not path.is_file():
        raise ZooError(f"Artifact {str(path)!r} does not exist.")
    exporter = find_exporter(app.plugins.exporters, path)
    try:
        meta = exporter.read_metadata(path)
    except ZooError:
        raise
    except Exception as exc:
        raise ZooError(f"Cannot read {str(path)!r} as {exporter.name}: {first_line(exc)}") from None
    source = source_from_metadata(app, meta, checkpoint)
    contract = export_contract(source, LENGTHS in ArtifactMetadata.read(meta).input_names)
    refs = references(source.module, contract)
    try:
        with use_provider(ort_provider):
            runner = exporter.load(path)
    except ZooError:
        raise
    except Exception as exc:
        raise ZooError(f"Cannot load {str(path)!r} as {exporter.name}: {first_line(exc)}") from None
    return prove(
        source, exporter, runner, contract, refs, artifact=str(path), atol=atol, rtol=rtol,
        judge=judge,
    )  # fmt: skip
