"""The self-checking bundle an ONNX export writes beside its artifact: its parity cases as
test data, so the device that runs the file can check it without torch or the plugin.

Layout (the ONNX model zoo's, one folder per case; docs/deploy.md)::

    lstm.onnx
    lstm.test_data/
      manifest.json                      strict JSON: sets, tolerances, sha256 of every file
      test_data_set_0/input_0.pb ...     one call: inputs in the contract's order,
      test_data_set_0/output_0.pb ...    eager PyTorch's outputs (named TensorProtos)
      test_data_stream_0/call_0/...      a stream: one folder per call, same layout; call k's
      test_data_stream_0/call_1/...      state inputs are call k-1's expected state outputs

The single-call sets are what ONNX's own test runners read (`test_data_set_*`); a stream
is a sequence of calls whose states a consumer must carry, which those runners cannot
express, so its folders are named apart. The manifest names the artifact by sha256: a
bundle is refused for any other file. Writing goes to a hidden folder that is renamed into
place only after its artifact was installed (`staged_bundle`); a failed export leaves none.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo._errors import ZooError
from zoo._fs import fsync_path, sha256_bytes, sha256_file
from zoo._limits import JSON_BYTES, dumps_json, parse_json, read_bounded

if TYPE_CHECKING:
    import numpy as np

    from zoo._contract import IOContract
    from zoo.parity._check import Reference
    from zoo.parity._report import ParityReport

#: The manifest's `format`; a reader refuses any other.
FORMAT = "zoo-bundle/1"
MANIFEST = "manifest.json"
#: Test data files are small (the longest case is 512 steps); anything larger is refused.
MAX_TENSOR_BYTES = 64 << 20


def bundle_dir(artifact: Path) -> Path:
    """`exports/lstm.onnx` -> `exports/lstm.test_data` (the model zoo's name)."""
    stem = artifact.name[: -len(".onnx")] if artifact.name.endswith(".onnx") else artifact.name
    return artifact.with_name(f"{stem}.test_data")


def has_bundle(artifact: Path) -> bool:
    return (bundle_dir(artifact) / MANIFEST).is_file()


@contextlib.contextmanager
def staged_bundle(artifact: Path) -> Iterator[Path | None]:
    """A hidden folder to write `artifact`'s bundle into (None for a non-ONNX artifact);
    renamed over the old bundle when the block succeeds, removed when it fails."""
    if not artifact.name.endswith(".onnx"):
        yield None
        return
    final = bundle_dir(artifact)
    stage = Path(tempfile.mkdtemp(prefix=f".{final.name}.partial-", dir=artifact.parent))
    try:
        yield stage
        old = None
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}.partial-old-", dir=artifact.parent))
            os.replace(final, old / final.name)
        os.replace(stage, final)
        fsync_path(artifact.parent, directory=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def write_bundle(
    stage: Path,
    artifact_tmp: Path,
    artifact_name: str,
    contract: IOContract,
    refs: Sequence[Reference],
    model: Any,
    report: ParityReport,
) -> dict[str, Any]:
    """Write every reference of `refs` into `stage` and the manifest naming the artifact
    (its final name and the sha256 of `artifact_tmp`, as installed); the manifest."""
    from zoo.parity._check import eager_runner

    files: dict[str, str] = {}
    sets: list[dict[str, Any]] = []
    singles = streams = 0
    for ref in refs:
        if not ref.case.chunks:
            folder = f"test_data_set_{singles}"
            singles += 1
            _write_call(stage, folder, contract, ref.inputs, ref.expected, files)
            sets.append({"dir": folder, "case": ref.label, "calls": 0})
            continue
        folder = f"test_data_stream_{streams}"
        streams += 1
        calls = _stream_calls(eager_runner(model, contract), contract, ref.inputs, ref.case.chunks)
        for k, (feeds, outputs) in enumerate(calls):
            _write_call(stage, f"{folder}/call_{k}", contract, feeds, outputs, files)
        sets.append({"dir": folder, "case": ref.label, "calls": len(calls)})
    manifest = {
        "format": FORMAT,
        "artifact": artifact_name,
        "artifact_sha256": sha256_file(artifact_tmp),
        "exporter": report.exporter,
        "atol": report.atol,
        "rtol": report.rtol,
        "elementwise_decides": not any(c.advisory for c in report.checks),
        "contract": contract.to_dict(),
        "sets": sets,
        "files": files,
    }
    (stage / MANIFEST).write_text(dumps_json(manifest) + "\n", encoding="utf-8")
    return manifest


def _stream_calls(
    runner: Any, contract: IOContract, inputs: dict[str, np.ndarray], chunks: Sequence[int]
) -> list[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]:
    """Each call of a stream: its feeds (a chunk of x, the states carried in) and the
    reference's outputs, the way `zoo.parity._check.stream` runs it."""
    import numpy as np

    x_name = contract.input_names[0]
    states = {n: inputs[n] for n in contract.state_inputs}
    calls = []
    start = 0
    for size in chunks:
        feeds = {x_name: np.ascontiguousarray(inputs[x_name][:, start : start + size]), **states}
        outputs = runner(feeds)
        calls.append((feeds, outputs))
        pairs = zip(contract.state_inputs, contract.state_outputs, strict=True)
        states = {i: outputs[o] for i, o in pairs}
        start += size
    return calls


def _write_call(
    stage: Path,
    folder: str,
    contract: IOContract,
    feeds: dict[str, np.ndarray],
    outputs: dict[str, np.ndarray],
    files: dict[str, str],
) -> None:
    """input_K.pb / output_K.pb in the contract's order, each a named TensorProto."""
    from onnx import numpy_helper

    (stage / folder).mkdir(parents=True)
    for kind, names, values in (
        ("input", contract.input_names, feeds),
        ("output", contract.output_names, outputs),
    ):
        for k, name in enumerate(names):
            data = numpy_helper.from_array(values[name], name).SerializeToString()
            relative = f"{folder}/{kind}_{k}.pb"
            (stage / relative).write_bytes(data)
            files[relative] = sha256_bytes(data)


@dataclass(frozen=True)
class Call:
    """One recorded call: named inputs and the expected named outputs."""

    inputs: dict[str, np.ndarray]
    outputs: dict[str, np.ndarray]


@dataclass(frozen=True)
class CaseData:
    """A single call (`calls` of length 1, `stream` false) or a stream of calls."""

    case: str
    stream: bool
    calls: tuple[Call, ...]


@dataclass(frozen=True)
class Bundle:
    """A bundle read back and checked against its artifact."""

    path: Path
    manifest: dict[str, Any]
    sets: tuple[CaseData, ...]

    @property
    def atol(self) -> float:
        return float(self.manifest["atol"])

    @property
    def rtol(self) -> float:
        return float(self.manifest["rtol"])


def read_bundle(artifact: Path) -> Bundle:
    """The bundle beside `artifact`, refused (ZooError) when it is missing, malformed, for
    another file (sha256), or any of its files differs from the manifest's digest."""
    folder = bundle_dir(artifact)
    where = str(folder / MANIFEST)
    if not (folder / MANIFEST).is_file():
        raise ZooError(
            f"No test data bundle beside {str(artifact)!r} (expected {where}). Re-export with "
            "zoo export to write one, or verify where torch and the model's plugin are installed."
        )
    manifest = parse_json(read_bounded(folder / MANIFEST, JSON_BYTES, "manifest"), where)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ZooError(f"{where}: not a {FORMAT} manifest; re-export to write a new bundle.")
    digest = sha256_file(artifact)
    if manifest.get("artifact_sha256") != digest:
        raise ZooError(
            f"{where} belongs to another file (sha256 {str(manifest.get('artifact_sha256'))[:12]}"
            f"...), not to {str(artifact)!r} (sha256 {digest[:12]}...): the artifact or its "
            "bundle was replaced. Re-export both together."
        )
    files = manifest.get("files")
    sets = manifest.get("sets")
    if not isinstance(files, dict) or not isinstance(sets, list):
        raise ZooError(f"{where}: lacks 'files' or 'sets'.")
    try:
        float(manifest["atol"]), float(manifest["rtol"])
    except (KeyError, TypeError, ValueError):
        raise ZooError(f"{where}: 'atol'/'rtol' missing or not numbers.") from None
    return Bundle(folder, manifest, tuple(_read_set(folder, s, files, where) for s in sets))


def _read_set(folder: Path, entry: Any, files: dict[str, Any], where: str) -> CaseData:
    if not isinstance(entry, dict) or not isinstance(entry.get("dir"), str):
        raise ZooError(f"{where}: a set entry lacks 'dir'.")
    calls = entry.get("calls")
    if not isinstance(calls, int) or isinstance(calls, bool) or not 0 <= calls <= 10_000:
        raise ZooError(f"{where}: set {entry['dir']!r} has no valid 'calls'.")
    dirs = [entry["dir"]] if calls == 0 else [f"{entry['dir']}/call_{k}" for k in range(calls)]
    return CaseData(
        str(entry.get("case", entry["dir"])),
        calls > 0,
        tuple(_read_call(folder, d, files, where) for d in dirs),
    )


def _read_call(folder: Path, name: str, files: dict[str, Any], where: str) -> Call:
    """Every file of call folder `name` listed in the manifest, digest-checked."""
    from onnx import TensorProto, numpy_helper

    found: dict[str, dict[str, np.ndarray]] = {"input": {}, "output": {}}
    for kind in found:
        k = 0
        while f"{name}/{kind}_{k}.pb" in files:
            relative = f"{name}/{kind}_{k}.pb"
            path = folder / relative
            inside = not Path(relative).is_absolute() and ".." not in Path(relative).parts
            if not inside or not path.is_file():
                raise ZooError(f"{where}: lists {relative}, which is not a file inside the bundle.")
            if path.stat().st_size > MAX_TENSOR_BYTES:
                raise ZooError(f"{path}: larger than {MAX_TENSOR_BYTES} bytes; not test data.")
            data = path.read_bytes()
            if sha256_bytes(data) != files[relative]:
                raise ZooError(f"{path}: sha256 differs from the manifest's; the bundle changed.")
            tensor = TensorProto()
            tensor.ParseFromString(data)
            found[kind][tensor.name] = numpy_helper.to_array(tensor)
            k += 1
    if not found["input"] or not found["output"]:
        raise ZooError(f"{where}: call {name!r} has no inputs or outputs listed.")
    return Call(found["input"], found["output"])
