"""An exporter plugin: ONNX pre-optimized by onnxruntime (`NAME.ort.onnx`).

It reuses zoo's own ONNX exporter, then lets onnxruntime apply its graph optimizations
offline (constant folding, node fusions) and saves the result, so sessions start faster.
The optimized file may hold onnxruntime-specific fused ops: it is for onnxruntime, not
other ONNX runtimes. Fusions reassociate float math, so its parity tolerance is looser.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import zoo


def export(job: zoo.ExportJob) -> dict[str, Any]:
    import onnxruntime as ort
    from zoo.exporters import onnx as base

    info = base.export(job)  # writes a checked, metadata-carrying ONNX file to job.path
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    optimized = job.path.with_name(job.path.name + ".opt.onnx")
    options.optimized_model_filepath = str(optimized)
    ort.InferenceSession(str(job.path), options, providers=["CPUExecutionProvider"])
    optimized.replace(job.path)  # still inside zoo's temporary file: atomic install after parity
    return {**info, "route": f"{info['route']}+ort-extended"}


def load(path: Path) -> Any:
    from zoo.exporters import onnx as base

    return base.load(path)


def read_metadata(path: Path) -> dict[str, str]:
    from zoo.exporters import onnx as base

    return base.read_metadata(path)


EXPORTER = zoo.Exporter(
    name="onnx-ort",
    suffix=".ort.onnx",
    description="ONNX pre-optimized by onnxruntime (onnxruntime only); looser tolerance.",
    export=export,
    load=load,
    read_metadata=read_metadata,
    atol=2e-4,
    rtol=1e-3,
)
