"""`zoo verify`: re-run the parity of an existing artifact against the model it was
exported from, rebuilt from the artifact's `zoo.*` metadata.

The artifact is someone's file: a format whose loader can run code from it (TorchScript,
pt2) is refused before the loader touches it, unless its exporter's `check_untrusted`
passes (a pt2 archive of plain data) or the user passed --trust-code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zoo._contract import LENGTHS
from zoo._errors import ZooError
from zoo._spec import Exporter
from zoo.catalog._source import SourceModel, from_checkpoint, seeded
from zoo.checkpoint._provenance import CheckpointWeights, RandomWeights
from zoo.export._metadata import ArtifactMetadata
from zoo.export._pipeline import first_line
from zoo.export._proof import DEFAULT_JUDGE, TaskJudge, prove_artifact
from zoo.export._runtime import check_provider, use_provider
from zoo.parity._report import ParityReport


def find_exporter(exporters: dict[str, Exporter], path: Path) -> Exporter:
    """The exporter whose suffix ends the artifact's file name (longest suffix wins)."""
    matches = [e for e in exporters.values() if path.name.endswith(e.suffix)]
    if not matches:
        suffixes = ", ".join(sorted(f"{e.suffix} ({e.name})" for e in exporters.values()))
        raise ZooError(f"Cannot tell the format of {str(path)!r}: known suffixes are {suffixes}.")
    return max(matches, key=lambda e: len(e.suffix))


def check_artifact_file(exporters: dict[str, Exporter], path: Path, command: str) -> None:
    """A ZooError unless `path` is a file: a folder is named as one, with the artifacts in
    it (`zoo verify exports` means one of them); a missing path is said to be missing."""
    if path.is_dir():
        found = sorted(
            p for p in path.iterdir() if any(p.name.endswith(e.suffix) for e in exporters.values())
        )
        shown = ", ".join(str(p) for p in found[:10]) + (
            f" and {len(found) - 10} more" if len(found) > 10 else ""
        )
        raise ZooError(
            f"{str(path)!r} is a folder, not an artifact; "
            + (
                f"it holds {shown}. Give `{command}` one of them."
                if found
                else "it holds no artifact."
            )
        )
    if not path.is_file():
        raise ZooError(f"Artifact {str(path)!r} does not exist.")


#: The next step after a refusal: one line with the reason the exporter gave.
TRUST_HINT = (
    "Verify only files you trust, with --trust-code, or use an ONNX export, which runs no "
    "code when loaded."
)


def check_trust(exporter: Exporter, path: Path, trust_code: bool) -> None:
    """Refuse, before any loader touches it, a file whose format can run code when opened
    (`Exporter.check_untrusted`), unless the user trusts it. A check that crashes refuses."""
    if trust_code or exporter.check_untrusted is None:
        return
    try:
        exporter.check_untrusted(path)
    except ZooError as exc:
        raise ZooError(f"{exc} {TRUST_HINT}") from None
    except Exception as exc:
        raise ZooError(
            f"Cannot tell whether {str(path)!r} ({exporter.name}) is safe to open: "
            f"{first_line(exc)}. {TRUST_HINT}"
        ) from None


def read_artifact_metadata(exporter: Exporter, path: Path) -> dict[str, str]:
    """The artifact's metadata as its exporter reads it; a ZooError if it cannot."""
    try:
        meta: dict[str, str] = exporter.read_metadata(path)
    except ZooError:
        raise
    except Exception as exc:
        raise ZooError(f"Cannot read {str(path)!r} as {exporter.name}: {first_line(exc)}") from None
    return meta


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
    trust_code: bool = False,
    judge: TaskJudge = DEFAULT_JUDGE,
) -> ParityReport:
    """Re-run the proof of an existing artifact against its rebuilt reference model
    (ONNX artifacts on onnxruntime's `ort_provider`, zoo.export.ort_session); a lossy
    format of a trained checkpoint is judged as export judged it (`judge`). A format that
    can run code when loaded is opened only if `check_untrusted` passes or `trust_code`."""
    check_provider(ort_provider)
    check_artifact_file(app.plugins.exporters, path, "zoo verify")
    exporter = find_exporter(app.plugins.exporters, path)
    check_trust(exporter, path, trust_code)
    meta = read_artifact_metadata(exporter, path)
    source = source_from_metadata(app, meta, checkpoint)
    lengths = LENGTHS in ArtifactMetadata.read(meta).input_names
    try:
        with use_provider(ort_provider):
            runner = exporter.load(path)
    except ZooError:
        raise
    except Exception as exc:
        raise ZooError(f"Cannot load {str(path)!r} as {exporter.name}: {first_line(exc)}") from None
    return prove_artifact(
        source, exporter, runner, lengths=lengths, artifact=str(path), atol=atol, rtol=rtol,
        judge=judge,
    )  # fmt: skip
