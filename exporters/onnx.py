"""Built-in `onnx` exporter: native ONNX RNN/LSTM/GRU nodes, dynamic batch and seq, parity
in onnxruntime.

Default route: the torch.export-based exporter (`dynamo=True`) on a copy of the model whose
torch recurrent modules call zoo's custom ops (`zoo.nn._ops`), translated to one native
node per layer with weights reordered once, on the tensors. `--legacy` uses the deprecated
TorchScript-based exporter instead. The file says which one produced it (`zoo.exporter`).

With `--lengths` the graph takes `lengths` (int64, (batch,)) and casts it to int32 for the
`sequence_lens` input of every native node. Default route: the models pass the lengths to
zoo's ops (see `zoo.nn.Recurrent`), translated to one Cast feeding every layer. Legacy route:
the eager model's `pack_padded_sequence` is traced and exported by torch's own symbolics
(a sort by length around the same native nodes); that route also takes third-party models
that only pack. `check_graph` proves the wiring either way.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import zoo

#: Opsets zoo checks: the dynamo exporter emits 18 and converts; onnxruntime runs up to 23.
MIN_OPSET, MAX_OPSET = 17, 23
RECURRENT_OPS = ("RNN", "LSTM", "GRU")
UNROLLED_OPS = ("Loop", "Scan")
#: Input index of `sequence_lens` in ONNX RNN/LSTM/GRU.
SEQUENCE_LENS = 4


def export(job: zoo.ExportJob) -> dict[str, Any]:
    """Export, check, and write `job.path` once (see `build`)."""
    import onnx

    model, info = build(job)
    onnx.save(model, str(job.path))
    return info


def build(job: zoo.ExportJob) -> tuple[Any, dict[str, Any]]:
    """The checked ONNX ModelProto with zoo's metadata, and the facts for the report.

    The graph stays in memory from torch's exporter to the caller: checking the contract,
    adding metadata and the checker's full pass (with shape inference) work on the in-memory
    model, instead of writing the file, reading it back and writing it again.
    """
    import onnx
    import torch

    from zoo.export import example_args, quiet_export

    if not MIN_OPSET <= job.opset <= MAX_OPSET:
        raise zoo.ExportError(
            f"ONNX opset {job.opset} is not supported; choose {MIN_OPSET}-{MAX_OPSET}."
        )
    contract = job.contract
    args = example_args(contract, job.example)
    scans = _runs_scans(job.module)

    def checks(model: Any) -> None:
        check_graph(model, contract, scans=scans)
        onnx.checker.check_model(model, full_check=True)

    with quiet_export(), torch.no_grad():
        if job.legacy:
            model, route, cache = _export_legacy(job, args), "legacy", ""
            checks(model)
        else:  # checked by the graph cache, which exports afresh if a cached graph fails
            model, cache = _export_dynamo(job, args, checks)
            route = "dynamo"
    meta = {**job.metadata(exporter=f"onnx:{route}"), "onnx.version": onnx.__version__}
    set_metadata(model, meta)
    nodes = Counter(node.op_type for node in model.graph.node)
    return model, {
        "route": route,
        "opset": next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
        "recurrent_nodes": {op: nodes[op] for op in RECURRENT_OPS if nodes[op]},
        **({"graph_cache": cache} if cache else {}),
    }


def _export_dynamo(
    job: zoo.ExportJob, args: tuple[Any, ...], checks: Callable[[Any], None]
) -> tuple[Any, str]:
    """The torch.export-based exporter on zoo's custom-op copy: the ModelProto, passing
    `checks`, and what the graph cache did (`zoo.export.cached_graph`: a graph exported
    before for the same architecture, config and code, with this copy's weights filled in)."""
    from zoo.export import cached_graph
    from zoo.nn import exportable_copy

    copy = exportable_copy(job.module)
    model, use = cached_graph(
        job, copy, lambda: _torch_export(job, copy, args), [__file__], check=checks
    )
    return model, use.describe()


def _torch_export(job: zoo.ExportJob, copy: Any, args: tuple[Any, ...]) -> Any:
    """`torch.onnx.export(dynamo=True)` of the custom-op copy; returns the ModelProto."""
    import torch

    from zoo.export import dynamic_shapes, lean_torchlib
    from zoo.nn import onnx_translation_table

    contract = job.contract
    with lean_torchlib():
        program = torch.onnx.export(
            copy,
            args,
            dynamo=True,
            input_names=list(contract.input_names),
            output_names=list(contract.output_names),
            dynamic_shapes=dynamic_shapes(contract),
            custom_translation_table=onnx_translation_table(),
            opset_version=job.opset,
            verbose=False,
        )
    assert program is not None, "torch.onnx.export(dynamo=True) returns the ONNXProgram"
    return program.model_proto


def _export_legacy(job: zoo.ExportJob, args: tuple[Any, ...]) -> Any:
    """The deprecated TorchScript-based exporter, into memory; returns the ModelProto."""
    import io

    import onnx
    import torch

    from zoo.export import dynamic_axes

    contract = job.contract
    # Both notices are about tracing shape-dependent Python; zoo feeds h0/c0 as inputs and
    # checks parity at other batch sizes and lengths, which is the proof they ask for.
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    warnings.filterwarnings("ignore", message=r"You are using the legacy TorchScript-based ONNX")
    warnings.filterwarnings(
        "ignore", message=r"Exporting a model to ONNX with a batch_size other than 1"
    )
    buffer = io.BytesIO()
    torch.onnx.export(
        job.module,
        args,
        buffer,  # type: ignore[arg-type]  # the legacy exporter writes to file objects
        dynamo=False,
        input_names=list(contract.input_names),
        output_names=list(contract.output_names),
        dynamic_axes=dynamic_axes(contract),
        opset_version=job.opset,
    )
    return onnx.load_model_from_string(buffer.getvalue())


def check_graph(model: Any, contract: zoo.IOContract, scans: bool = False) -> None:
    """The graph declares the contract: names, dtypes, named dynamic axes, fixed sizes; no
    loop over time (`scans`: the model runs hand-written cells through `zoo.nn.Scan`, whose
    ONNX form is one `Scan` node per cell, allowed then; a `Loop` never is); with `lengths`,
    every native recurrent node's `sequence_lens` comes from it."""
    import numpy as np
    from onnx import TensorProto
    from onnx.helper import np_dtype_to_tensor_dtype

    graph = model.graph
    for kind, specs, values in (
        ("input", contract.inputs, graph.input),
        ("output", contract.outputs, graph.output),
    ):
        declared = {v.name: v for v in values}
        for spec in specs:
            if spec.name not in declared:
                raise zoo.ExportError(
                    f"ONNX graph lacks {kind} {spec.name!r}; it has {sorted(declared)}."
                )
            dims = declared[spec.name].type.tensor_type.shape.dim
            got = tuple(d.dim_param if d.dim_param else d.dim_value for d in dims)
            if got != spec.shape:
                raise zoo.ExportError(
                    f"ONNX {kind} {spec.name!r} is declared {got}, the contract says "
                    f"{spec.shape}: a dynamic axis was frozen or renamed."
                )
            elem = declared[spec.name].type.tensor_type.elem_type
            if elem != np_dtype_to_tensor_dtype(np.dtype(spec.dtype)):
                raise zoo.ExportError(
                    f"ONNX {kind} {spec.name!r} is {TensorProto.DataType.Name(elem)}, the "
                    f"contract says {spec.dtype}."
                )
    looping = set(UNROLLED_OPS) - ({"Scan"} if scans else set())
    unrolled = [n.op_type for n in graph.node if n.op_type in looping]
    if unrolled:
        raise zoo.ExportError(
            f"ONNX graph loops over time ({', '.join(sorted(set(unrolled)))} nodes)."
        )
    if contract.has_lengths:
        _check_lengths_feed(graph)


def _runs_scans(module: Any) -> bool:
    """Whether the model runs a hand-written cell through `zoo.nn.Scan`."""
    from zoo.nn import Scan

    return any(isinstance(m, Scan) for m in module.modules())


def value_sources(graph: Any, value: str) -> set[str]:
    """Every value of `graph` that `value` is computed from, itself included."""
    producers = {out: node for node in graph.node for out in node.output}
    seen, todo = set(), [value]
    while todo:
        name = todo.pop()
        if name and name not in seen:
            seen.add(name)
            todo += list(producers[name].input) if name in producers else []
    return seen


def _check_lengths_feed(graph: Any) -> None:
    """Each RNN/LSTM/GRU node's `sequence_lens` is computed from the `lengths` input."""
    for node in graph.node:
        if node.op_type not in RECURRENT_OPS:
            continue
        fed = node.input[SEQUENCE_LENS] if len(node.input) > SEQUENCE_LENS else ""
        if zoo.LENGTHS not in value_sources(graph, fed):
            raise zoo.ExportError(
                f"ONNX {node.op_type} node {node.name!r} takes sequence_lens from "
                f"{fed or 'nothing'!r}, not from the graph input 'lengths': the export "
                "dropped the lengths, so every sequence would run to the padded length. "
                "Check that the model passes lengths to its recurrent module (zoo.nn.Recurrent)."
            )


def set_metadata(model: Any, values: dict[str, str]) -> None:
    """Add or replace `metadata_props` entries."""
    props = {p.key: p for p in model.metadata_props}
    for key, value in values.items():
        if key in props:
            props[key].value = value
        else:
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value


def load(path: Path) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """An onnxruntime session with zoo's defaults (`zoo.export.ort_session`) as a parity runner: the
    CPU provider, or the one `zoo export/verify --ort-provider` chose."""
    from zoo.export import ort_session

    session = ort_session(path)
    names = [o.name for o in session.get_outputs()]
    inputs = [i.name for i in session.get_inputs()]

    def run(feeds: dict[str, Any]) -> dict[str, Any]:
        return dict(zip(names, session.run(None, {n: feeds[n] for n in inputs}), strict=True))

    return run


def read_metadata(path: Path) -> dict[str, str]:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}


def annotate(path: Path, summary: dict[str, Any]) -> None:
    """Embed the parity summary (after it passed) in `zoo.parity`."""
    import onnx

    from zoo.export import parity_metadata

    model = onnx.load(str(path))
    set_metadata(model, parity_metadata(summary))
    onnx.save(model, str(path))


@zoo.hookimpl
def register_exporters(register: Callable[[zoo.Exporter], None]) -> None:
    register(
        zoo.Exporter(
            name="onnx",
            suffix=".onnx",
            description="ONNX: native RNN/LSTM/GRU nodes, a Scan per custom cell; parity in ORT.",
            export=export,
            load=load,
            read_metadata=read_metadata,
            annotate=annotate,
        )
    )
