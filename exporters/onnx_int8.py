"""Built-in `onnx-int8` exporter: zoo's ONNX export, then onnxruntime dynamic int8
quantization (`quantize_dynamic`), so LSTM nodes become `DynamicQuantizeLSTM` and the head's
MatMul an integer MatMul. RNN and GRU nodes have no dynamic-quantized form and stay fp32.

Weights are quantized per output channel (a scale per gate row), not per tensor. On trained
checkpoints per-tensor scales cost the adding-problem LSTM 31x its fp32 MSE (0.0068 against
0.00022), per-channel 1.3x; on sine and freq both kept the fp32 metric within 0.1%. The
price is 1.5-10% more time per call on the 2-layer hidden-256 LSTM (docs/benchmarks.md).

Quantization needs the weights as initializers, which zoo's export guarantees (its gate
reordering is done on the tensors, never as graph ops). int8 weights change the numbers by
design, so parity uses this exporter's own, looser tolerances (atol 0.02, rtol 0.1; measured
max abs diff about 3e-3 on hidden 128, random weights): they catch a broken graph. On a
trained checkpoint the verdict is the task metric instead (`zoo.parity._task_metric`: MSE within 5%
of fp32's, or accuracy within 1 point, on the checkpoint's held-out data), since a trained
recurrence carries int8 rounding along; the elementwise rows are then shown as `info`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import zoo


def _drop_preprocess_hint(record: Any) -> bool:
    """A logging filter: onnxruntime logs a generic 'consider pre-processing' hint on the root
    logger; zoo's graphs already have their weights as initializers, which is what it is about.
    (A function, not a logging.Filter subclass, so that loading this plugin, which every `zoo`
    command does, does not import logging.)"""
    return "pre-processing before quantization" not in record.getMessage()


def export(job: zoo.ExportJob) -> dict[str, Any]:
    """zoo's checked fp32 graph, quantized from memory straight into `job.path`."""
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from zoo.exporters import onnx as base

    model, info = base.build(job)
    base.set_metadata(model, job.metadata(exporter=f"onnx-int8:{info['route']}"))  # kept by ORT
    logging.getLogger().addFilter(_drop_preprocess_hint)
    try:
        quantize_dynamic(model, job.path, weight_type=QuantType.QInt8, per_channel=True)
    finally:
        logging.getLogger().removeFilter(_drop_preprocess_hint)
    quantized = onnx.load(str(job.path), load_external_data=False)
    nodes = Counter(node.op_type for node in quantized.graph.node)
    quantized_ops = {op: n for op, n in nodes.items() if "Quantize" in op or "Integer" in op}
    info.pop("recurrent_nodes", None)  # quantized: what remains is in quantized_nodes
    route = f"{info['route']}+quantize_dynamic(int8)"
    return {**info, "route": route, "quantized_nodes": quantized_ops}


@zoo.hookimpl
def register_exporters(register: Callable[[zoo.Exporter], None]) -> None:
    from zoo.exporters import onnx as base

    register(
        zoo.Exporter(
            name="onnx-int8",
            suffix=".int8.onnx",
            description="ONNX with dynamic int8 weights (DynamicQuantizeLSTM); looser tolerance.",
            export=export,
            load=base.load,
            read_metadata=base.read_metadata,
            annotate=base.annotate,
            atol=0.02,
            rtol=0.1,
            task_metric=True,
        )
    )
