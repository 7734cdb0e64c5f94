"""What every tracing exporter needs: example arguments, dynamic shapes, a quiet exporter.

Torch is imported inside the functions: this module is imported by exporter plugins,
which `zoo list` loads.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from typing import Any

from zoo.spec import IOContract


def example_args(contract: IOContract, example: dict[str, Any]) -> tuple[Any, ...]:
    """The example arrays as tensors in the contract's input order (states included)."""
    import torch

    return tuple(torch.from_numpy(example[name]) for name in contract.input_names)


def dynamic_shapes(contract: IOContract) -> tuple[dict[int, Any], ...]:
    """`torch.export` dynamic shapes: one named `Dim` per named axis, shared across inputs."""
    from torch.export import Dim

    dims: dict[str, Any] = {}
    shapes = []
    for spec in contract.inputs:
        shapes.append(
            {i: dims.setdefault(d, Dim(d)) for i, d in enumerate(spec.shape) if isinstance(d, str)}
        )
    return tuple(shapes)


def dynamic_axes(contract: IOContract) -> dict[str, dict[int, str]]:
    """The legacy exporter's `dynamic_axes` for every input and output."""
    return {
        spec.name: {i: d for i, d in enumerate(spec.shape) if isinstance(d, str)}
        for spec in (*contract.inputs, *contract.outputs)
    }


@contextlib.contextmanager
def quiet_export() -> Iterator[None]:
    """Silence known, harmless exporter noise; anything else still shows.

    - 'torchvision is not installed. Skipping torchvision::nms' (first dynamo export);
    - '# The axis name: batch will not be used, since it shares the same shape constraints
      with another axis: batch.' (one Dim reused across inputs, as intended);
    - TorchScript and the legacy ONNX exporter's deprecation notices (zoo documents them).
    """
    registration = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registration.level
    registration.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore",
                message=r"# The axis name: (\S+) will not be used, since it shares "
                r"the same shape constraints with another axis: \1\.",
            )
            warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.")
            warnings.filterwarnings("ignore", message=r".*is deprecated", category=FutureWarning)
            warnings.filterwarnings("ignore", message=r".*TorchScript.*deprecat")
            warnings.filterwarnings(
                "ignore", message=r".*legacy.*exporter.*deprecat", category=Warning
            )
            yield
    finally:
        registration.setLevel(level)
