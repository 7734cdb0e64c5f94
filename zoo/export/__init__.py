"""Export: the job an exporter receives, the pipeline that exports and proves parity, the
artifact metadata, the runtimes that load artifacts, and the test data bundle beside each
ONNX file that `zoo verify` replays without torch (docs/deploy.md).

Public, for exporter plugins: `ExportJob` (also `zoo.ExportJob`), `DEFAULT_OPSET`,
`example_args`, `dynamic_shapes`, `dynamic_axes`, `quiet_export`, `torch_runner`,
`lean_torchlib` (a quicker build of the dynamo exporter's op registry), `cached_graph` and
`GraphCacheUse` (an ONNX graph exported once per architecture, config and code, with each
export's own weights filled in),
`TorchProgramFile` (reading TorchScript and pt2 files back), `check_pt2_archive` (whether a
pt2 archive is plain data that loads without running code), `ort_session` and
`parity_metadata` (what `annotate` embeds).
Importing it imports neither torch nor onnxruntime.
"""

from zoo.export._graph_cache import GraphCacheUse, cached_graph
from zoo.export._job import DEFAULT_OPSET, ExportJob
from zoo.export._metadata import parity_metadata
from zoo.export._runtime import ort_session
from zoo.export._torchlib import lean_torchlib
from zoo.export._tracing import (
    TorchProgramFile,
    dynamic_axes,
    dynamic_shapes,
    example_args,
    quiet_export,
    torch_runner,
)
from zoo.export._untrusted import check_pt2_archive

__all__ = [
    "DEFAULT_OPSET",
    "ExportJob",
    "GraphCacheUse",
    "TorchProgramFile",
    "cached_graph",
    "check_pt2_archive",
    "dynamic_axes",
    "dynamic_shapes",
    "example_args",
    "lean_torchlib",
    "ort_session",
    "parity_metadata",
    "quiet_export",
    "torch_runner",
]
