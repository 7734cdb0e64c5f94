"""Export: the job an exporter receives, the pipeline that exports and proves parity, the
artifact metadata, and the runtimes that load artifacts.

Public, for exporter plugins: `ExportJob` (also `zoo.ExportJob`), `DEFAULT_OPSET`,
`example_args`, `dynamic_shapes`, `dynamic_axes`, `quiet_export`, `torch_runner`,
`TorchProgramFile` (reading TorchScript and pt2 files back), `ort_session` and
`parity_metadata` (what `annotate` embeds).
Importing it imports neither torch nor onnxruntime.
"""

from zoo.export._job import DEFAULT_OPSET, ExportJob
from zoo.export._metadata import parity_metadata
from zoo.export._runtime import ort_session
from zoo.export._tracing import (
    TorchProgramFile,
    dynamic_axes,
    dynamic_shapes,
    example_args,
    quiet_export,
    torch_runner,
)

__all__ = [
    "DEFAULT_OPSET",
    "ExportJob",
    "TorchProgramFile",
    "dynamic_axes",
    "dynamic_shapes",
    "example_args",
    "ort_session",
    "parity_metadata",
    "quiet_export",
    "torch_runner",
]
