"""A cache of exported ONNX graphs: everything that decides a graph is its key, except the
weight values, which every export puts in afresh.

Why: on the default route torch's exporter spends most of an export importing
`torch.export` and onnxscript, capturing and decomposing (`zoo bench --section
export-steps`): about 2 s on a 2-core machine, for a graph that depends on the architecture,
its config, the contract, the opset and the code, but not on the weight values. Training
again and exporting again is the loop users repeat. So the first export of a key stores its
graph with the weights left out (a few KB), and the next export of that key fills in its own
module's weights and never imports `torch.export`, `torch._dynamo` or onnxscript.

Why it cannot make a wrong artifact pass:

- An entry is stored only when every floating-point tensor of the graph is one of the
  exported module's state tensors, by name and bit for bit, so that filling in the state
  fills in every number; a float tensor of more than `MAX_LOOSE` elements that is not a
  state tensor (it could be computed from the weights) makes the graph uncacheable.
- The key holds the versions of zoo, torch, onnx and onnxscript; the architecture, plugin,
  config, contract, opset and `lengths`; the tracing shapes; the exported module's classes,
  training flags and state layout; and the sha256 of the source files of every class the
  module is built from, of zoo's export code and of the exporter calling it.
- Nothing from the cache is trusted: the artifact goes through the same contract check,
  checker and parity proof as a fresh one. When the exporter's checks (`check`) fail on a
  graph from the cache, it is exported afresh here; when the proof fails, the pipeline
  exports afresh (`ExportJob.graph_cache == "check"`); a fresh graph that differs from the
  entry refuses the key for good (a `.refused` file beside it), so
  whatever the key missed is never served again.
- Entries are read only as private files of this user (`zoo._fs.read_private`: no link
  followed, nothing others can write) of at most `MAX_ENTRY_BYTES`, and parsed as protobuf:
  no code runs. The folder keeps the `MAX_ENTRIES` most recently used entries.

`ZOO_CACHE_DIR=""` (every cache) or `zoo export --no-cache` turns it off.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo._fs import cache_dir, read_private, sha256_bytes, write_private
from zoo._version import __version__

if TYPE_CHECKING:
    from zoo.export._job import ExportJob

FORMAT = 1
SUBDIR = "onnx-graphs"
#: Float tensors outside the state up to this size are constants of the code (scalars,
#: small shape helpers); anything larger could be computed from the weights.
MAX_LOOSE = 16
MAX_ENTRY_BYTES = 64 << 20
MAX_ENTRIES = 256
#: The metadata entry of a stored template naming the state tensors to fill in.
WEIGHTS_KEY = "zoo.graph_cache.weights"
#: zoo's own code that shapes an exported graph (beside the module's classes).
ZOO_CODE = ("zoo.nn", "zoo.export._tracing", "zoo.export._torchlib", "zoo.export._graph_cache")


@dataclass(frozen=True)
class GraphCacheUse:
    """What the cache did for one export.

    `state`: `hit` (graph from the cache, this module's weights), `stored` (exported and
    stored), `off`, `uncacheable` (exported; `detail` says why not stored), `refused` (the
    key was refused earlier, or now: a fresh export differed from its entry), `checked` (a
    fresh export equal to the entry: the cache was not at fault). `key`: the entry's key.
    """

    state: str
    key: str = ""
    detail: str = ""

    def describe(self) -> str:
        key = f" (key {self.key[:12]})" if self.key else ""
        return f"{self.state}{key}" + (f": {self.detail}" if self.detail else "")


def cached_graph(
    job: ExportJob,
    module: Any,
    export: Callable[[], Any],
    code: Iterable[str] = (),
    check: Callable[[Any], None] = lambda model: None,
) -> tuple[Any, GraphCacheUse]:
    """The ONNX ModelProto of `module` (the module the exporter traces), from the cache
    when an entry for this job's key exists, else `export()`'s, stored when it can be.

    `code`: the exporter's own source files, part of the key. `check`: the exporter's checks
    of a graph (raising when it is not one the exporter may write), run on every graph this
    returns: a fresh graph that fails them raises and is not stored, and a graph from the
    cache that fails them is exported afresh and compared, as after a failed proof.
    """

    def fresh() -> Any:
        model = export()
        check(model)
        return model

    folder = cache_dir()
    if job.graph_cache == "off" or folder is None:
        return fresh(), GraphCacheUse("off")
    state = _state_arrays(module)
    if state is None:
        return fresh(), GraphCacheUse("uncacheable", detail="a state tensor numpy cannot hold")
    key = graph_key(job, module, state, code)
    entry = folder / SUBDIR / f"{key}.onnx"
    refused = entry.with_suffix(".refused")
    if refused.exists():
        return fresh(), GraphCacheUse("refused", key, _read_text(refused))
    stored = _read(entry)
    mode = job.graph_cache
    if mode == "use" and stored is not None:
        model = fill(stored, state)
        if model is not None and _passes(check, model):
            with contextlib.suppress(OSError):
                os.utime(entry)  # most recently used: kept by the pruning
            return model, GraphCacheUse("hit", key)
        mode = "check" if model is not None else mode
    model = fresh()
    template, reason = strip(model, state)
    if template is None:
        return model, GraphCacheUse("uncacheable", key, reason)
    if mode == "check" and stored is not None:
        if comparable(template) == comparable(stored):
            return model, GraphCacheUse("checked", key, "the entry equals a fresh export")
        why = "a fresh export differed from the cached graph, which failed its checks or proof"
        write_private(refused, why.encode())
        with contextlib.suppress(OSError):
            entry.unlink()
        return model, GraphCacheUse("refused", key, why)
    if write_private(entry, template):
        _prune(entry.parent)
        return model, GraphCacheUse("stored", key)
    return model, GraphCacheUse("uncacheable", key, f"cannot write {entry.parent}")


def _passes(check: Callable[[Any], None], model: Any) -> bool:
    """Whether `model` passes the exporter's `check` (whatever it raises is a failure)."""
    try:
        check(model)
    except Exception:
        return False
    return True


def graph_key(
    job: ExportJob, module: Any, state: Mapping[str, Any], code: Iterable[str] = ()
) -> str:
    """The hex key of everything that decides `module`'s exported graph, weights aside."""
    import importlib.metadata

    import onnx
    import torch

    def version(dist: str) -> str:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return ""

    source = job.source
    facts = {
        "format": FORMAT,
        "versions": [__version__, torch.__version__, onnx.__version__, version("onnxscript")],
        "architecture": [source.arch.name, source.arch.plugin],
        "config": source.config,
        "io": job.contract.to_json(),
        "export": [job.opset, job.lengths, job.legacy],
        "example": [[n, list(a.shape), str(a.dtype)] for n, a in job.example.items()],
        "modules": [
            [name, f"{type(m).__module__}.{type(m).__qualname__}", m.training]
            for name, m in module.named_modules()
        ],
        "state": [[n, list(a.shape), str(a.dtype)] for n, a in state.items()],
        "sources": _sources_digest(module, code),
    }
    return sha256_bytes(json.dumps(facts, sort_keys=True, default=str).encode())[:32]


def _sources_digest(module: Any, code: Iterable[str]) -> str:
    """The sha256 of the source files of `module`'s classes (torch's own aside: its version
    is in the key), of zoo's export code and of `code`, by module name and content, not
    path: two environments with the same code share entries."""
    files = {Path(f).name: Path(f) for f in code}
    names = set(ZOO_CODE)
    for m in module.modules():
        names.update(c.__module__ for c in type(m).__mro__ if c.__module__ != "builtins")
    for name in names:
        if name == "torch" or name.startswith("torch."):
            continue
        found = getattr(sys.modules.get(name), "__file__", None)
        if found:
            path = Path(found)
            # a package stands for all of its modules (zoo.nn: the ops and translations)
            inside = sorted(path.parent.glob("*.py")) if path.name == "__init__.py" else [path]
            files.update({f"{name}/{p.name}": p for p in inside})
    parts = []
    for label, path in sorted(files.items()):
        try:
            parts.append(f"{label}:{sha256_bytes(path.read_bytes())}")
        except OSError:
            parts.append(f"{label}:unreadable")
    return sha256_bytes("\n".join(parts).encode())


def _state_arrays(module: Any) -> dict[str, Any] | None:
    """The module's state tensors as numpy arrays, or None when one has no numpy form."""
    try:
        return {
            name: tensor.detach().cpu().contiguous().numpy()
            for name, tensor in module.state_dict().items()
        }
    except (TypeError, RuntimeError):
        return None


def strip(model: Any, state: Mapping[str, Any]) -> tuple[bytes | None, str]:
    """The template of `model`: its state tensors emptied (named in `WEIGHTS_KEY`), no
    metadata; or None and why the graph cannot be cached."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    template = onnx.ModelProto()
    template.CopyFrom(model)
    del template.metadata_props[:]
    filled = []
    if len(template.graph.sparse_initializer):
        return None, "the graph has sparse initializers"
    for init in template.graph.initializer:
        if init.data_location == onnx.TensorProto.EXTERNAL:
            return None, f"initializer {init.name!r} is stored outside the file"
        value = numpy_helper.to_array(init)
        wanted = state.get(init.name)
        if wanted is None:
            if np.issubdtype(value.dtype, np.floating) and value.size > MAX_LOOSE:
                return None, _loose(f"initializer {init.name!r}", value.size)
            continue
        same = value.dtype == wanted.dtype and value.shape == wanted.shape
        if not same or value.tobytes() != np.ascontiguousarray(wanted).tobytes():
            return None, f"initializer {init.name!r} is not the module's tensor of that name"
        for field in ("raw_data", "float_data", "double_data", "int32_data", "int64_data"):
            init.ClearField(field)
        filled.append(init.name)
    for where, tensor in _other_tensors(template.graph):
        value = numpy_helper.to_array(tensor)
        if np.issubdtype(value.dtype, np.floating) and value.size > MAX_LOOSE:
            return None, _loose(where, value.size)
    entry = template.metadata_props.add()
    entry.key, entry.value = WEIGHTS_KEY, json.dumps(filled)
    return template.SerializeToString(deterministic=True), ""


def comparable(model: bytes) -> bytes:
    """`model` without its nodes' metadata: torch records a stack trace on each node, which
    for a `Scan` body names a per-process counter (`<eval_with_key>.N`), so two fresh exports
    of one model differ there and nowhere else."""
    import onnx

    proto = onnx.load_model_from_string(model)
    graphs = [proto.graph]
    while graphs:
        graph = graphs.pop()
        for node in graph.node:
            del node.metadata_props[:]
            for attr in node.attribute:
                graphs += [attr.g, *attr.graphs] if attr.HasField("g") else list(attr.graphs)
    data: bytes = proto.SerializeToString(deterministic=True)
    return data


def _loose(where: str, size: int) -> str:
    return f"{where} holds {size} floats that are not a state tensor (computed from weights?)"


def _other_tensors(graph: Any, top: bool = True) -> Iterable[tuple[str, Any]]:
    """Constant-node tensors of `graph` and its subgraphs, and subgraph initializers."""
    import onnx

    if not top:
        yield from ((f"subgraph initializer {t.name!r}", t) for t in graph.initializer)
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.TENSOR:
                yield f"{node.op_type} node {node.name!r}", attr.t
            for sub in (attr.g, *attr.graphs) if attr.HasField("g") else attr.graphs:
                yield from _other_tensors(sub, top=False)


def fill(template: bytes, state: Mapping[str, Any]) -> Any:
    """A ModelProto from a stored template with `state`'s tensors filled in, or None when
    the template does not fit the state (a damaged or foreign entry)."""
    import onnx
    from onnx import numpy_helper
    from onnx.helper import np_dtype_to_tensor_dtype

    try:
        model = onnx.load_model_from_string(template)
        props = {p.key: p.value for p in model.metadata_props}
        names = json.loads(props[WEIGHTS_KEY])
    except Exception:  # protobuf's DecodeError (untyped), a missing or bad list: a miss
        return None
    del model.metadata_props[:]
    slots = {init.name: init for init in model.graph.initializer}
    if not isinstance(names, list) or set(names) - slots.keys() or set(names) - state.keys():
        return None
    for name in names:
        slot, value = slots[name], state[name]
        if list(slot.dims) != list(value.shape) or slot.data_type != np_dtype_to_tensor_dtype(
            value.dtype
        ):
            return None
        slot.CopyFrom(numpy_helper.from_array(value, name=name))
    return model


def _read(entry: Path) -> bytes | None:
    try:
        return read_private(entry, MAX_ENTRY_BYTES)
    except OSError:
        return None


def _read_text(path: Path) -> str:
    data = _read(path)
    return data.decode("utf-8", "replace")[:300] if data else "refused earlier"


def _prune(folder: Path) -> None:
    """Keep the `MAX_ENTRIES` most recently used entries (refusals are kept)."""
    with contextlib.suppress(OSError):
        entries = sorted(folder.glob("*.onnx"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[MAX_ENTRIES:]:
            old.unlink()
