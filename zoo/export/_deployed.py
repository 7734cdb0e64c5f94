"""`zoo verify` where the artifact is deployed: the full proof against PyTorch when torch is
here (plus a replay of an ONNX file's bundle), else the torch-free replay of the bundle;
`--runtime R|all` replays it on other ONNX runtimes (zoo.export._runtimes) instead.

Nothing on the replay path imports torch: choosing the path tries `import torch` and takes
the replay when it fails. With torch but without the model's plugin the proof's error
stands (it names the plugin), with the replay named as the way that needs neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo._errors import ZooError
from zoo.export._bundle import has_bundle, read_bundle
from zoo.export._metadata import ArtifactMetadata, read_io
from zoo.export._proof import DEFAULT_JUDGE, TaskJudge
from zoo.export._replay import replay
from zoo.export._runtime import use_provider
from zoo.export._runtimes import (
    RuntimeUnavailable,
    chosen_runtimes,
    open_runner,
    refused_at_once,
)
from zoo.parity._report import ParityReport


@dataclass
class Verdict:
    """What `zoo verify` found: the proof against PyTorch (None where torch or the plugin
    is missing) and the bundle's replays, per runtime."""

    proof: ParityReport | None
    replays: list[tuple[str, ParityReport | RuntimeUnavailable]] = field(default_factory=list)
    #: `--runtime all`: runtimes that are missing or refuse the file are shown, not failed.
    matrix: bool = False
    note: str = ""
    artifact: str = ""
    #: Why the bundle beside a proven artifact was refused (it belongs to another file...).
    bundle_error: str = ""

    @property
    def reports(self) -> list[ParityReport]:
        ran = [r for _, r in self.replays if isinstance(r, ParityReport)]
        return ([self.proof] if self.proof else []) + ran

    @property
    def passed(self) -> bool:
        if self.bundle_error:
            return False
        unavailable = {n for n, r in self.replays if isinstance(r, RuntimeUnavailable)}
        if (unavailable and not self.matrix) or "onnxruntime" in unavailable:
            return False  # the runtime zoo proves on must run the file; any chosen one must
        return bool(self.reports) and all(r.passed for r in self.reports)

    def problems(self) -> list[str]:
        """What failed besides the reports' checks: a refused bundle, a runtime that could
        not run the file (with `all`, only onnxruntime counts)."""
        lines = [self.bundle_error] if self.bundle_error else []
        for name, result in self.replays:
            counts = not self.matrix or name == "onnxruntime"
            if isinstance(result, RuntimeUnavailable) and counts:
                lines.append(str(result))
        return lines

    def to_dict(self) -> dict[str, Any]:
        replays: dict[str, Any] = {
            name: (
                r.to_dict()
                if isinstance(r, ParityReport)
                else {"passed": False, "state": r.state, "reason": r.reason}
            )
            for name, r in self.replays
        }
        base = self.proof.to_dict() if self.proof else {"artifact": self.artifact}
        if self.bundle_error:
            replays = {"error": self.bundle_error}
        return {**base, "passed": self.passed, "note": self.note, "bundle": replays}


def torch_missing() -> str:
    """Why the full proof cannot run here ('' when torch imports)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return "torch is not installed here"
    return ""


def verify_deployed(
    app: Any,
    path: Path,
    *,
    runtime: str | None,
    checkpoint: Path | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    ort_provider: str = "cpu",
    trust_code: bool = False,
    judge: TaskJudge = DEFAULT_JUDGE,
) -> Verdict:
    """The proof and/or replays `zoo verify ARTIFACT [--runtime R]` runs (module docstring)."""
    from zoo.export._verify import (
        check_artifact_file,
        check_trust,
        find_exporter,
        read_artifact_metadata,
    )

    check_artifact_file(app.plugins.exporters, path, "zoo verify")
    exporter = find_exporter(app.plugins.exporters, path)
    onnx = path.name.endswith(".onnx")
    if runtime is not None and not onnx:
        raise ZooError(f"--runtime replays an ONNX artifact's bundle; {str(path)!r} is not ONNX.")
    check_trust(exporter, path, trust_code)
    meta = read_artifact_metadata(exporter, path)
    verdict = Verdict(None, matrix=runtime == "all", artifact=str(path))
    if runtime is None:
        why = torch_missing() if onnx else ""
        if not why:
            verdict.proof = _full_proof(
                app, path, meta, checkpoint, atol, rtol, ort_provider, trust_code, judge
            )
            if not (onnx and has_bundle(path)):
                return verdict
        else:
            verdict.note = f"{why}: replaying the bundle's recorded PyTorch outputs"
        names = ["onnxruntime"]
    else:
        names = chosen_runtimes(runtime)
    try:
        bundle = read_bundle(path)
    except ZooError as exc:
        if verdict.proof is None:
            raise
        verdict.bundle_error = str(exc)  # the proof's own verdict still shows
        return verdict
    io = read_io(meta)
    for name in names:
        try:
            with use_provider(ort_provider):
                runner = open_runner(name, path)
        except RuntimeUnavailable as exc:
            verdict.replays.append((name, exc))
            continue
        report = replay(
            bundle, runner, io, artifact=f"{path} [bundle@{name}]", label=f"bundle@{name}",
            atol=atol, rtol=rtol, accept_elementwise=judge.accept_elementwise,
            task_proven=verdict.proof is not None,
        )  # fmt: skip
        verdict.replays.append((name, refused_at_once(name, report) or report))
    return verdict


def _full_proof(
    app: Any,
    path: Path,
    meta: dict[str, str],
    checkpoint: Path | None,
    atol: float | None,
    rtol: float | None,
    ort_provider: str,
    trust_code: bool,
    judge: TaskJudge,
) -> ParityReport:
    """The proof against the rebuilt PyTorch model; where its plugin is missing, the error
    also names the replay that needs none."""
    from zoo.export._verify import verify_artifact

    architecture = ArtifactMetadata.read(meta).architecture
    try:
        return verify_artifact(
            app, path, checkpoint, atol, rtol, ort_provider, trust_code, judge=judge
        )
    except ZooError as exc:
        if architecture in app.plugins.architectures or not has_bundle(path):
            raise
        raise ZooError(
            f"{exc} Or replay its test data bundle, which needs neither: zoo verify {path} "
            "--runtime onnxruntime."
        ) from None
