"""What every tracing exporter needs: example arguments, dynamic shapes, a quiet exporter.

Torch (and logging, warnings) are imported inside the functions: this module is imported
by exporter plugins, which `zoo list` loads.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo._contract import IOContract


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
    - TorchScript and the legacy ONNX exporter's deprecation notices (zoo documents them);
    - torch.export.load's 'Fallback to weights_only=False succeeded' when a trusted pt2
      holds pickled sample inputs: torch 2.13 logs it with one argument too few, so logging
      fails on it (pytest's log capture raises). `zoo verify` has already said the file runs
      code: it opens such a file only with --trust-code.
    """
    import logging
    import warnings

    quieted = ("torch.onnx._internal.exporter._registration", "torch._export.serde.serialize")
    loggers = [logging.getLogger(name) for name in quieted]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
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
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def torch_runner(
    program: Any, meta: Mapping[str, str]
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A parity runner for a loaded torch program (TorchScript, or a pt2 module) whose
    positional inputs and outputs follow the contract recorded in its `zoo.io` metadata."""
    import torch

    from zoo.export._metadata import read_io

    contract = read_io(meta)
    inputs, outputs = contract["input_names"], contract["output_names"]

    def run(feeds: dict[str, Any]) -> dict[str, Any]:
        with torch.no_grad():
            result = program(*(torch.from_numpy(feeds[n]) for n in inputs))
        return {n: t.numpy() for n, t in zip(outputs, result, strict=True)}

    return run


@dataclass(frozen=True)
class TorchProgramFile:
    """How an exporter of a torch program format reads its files back: `read(path,
    extra_files)` loads the callable program and fills `extra_files` (the archive's extra
    file `extra_file` holds the `zoo.*` metadata as JSON). TorchScript and pt2 differ only
    in `read`; `load` and `read_metadata` are what their `zoo.Exporter` registers."""

    read: Callable[[str, dict[str, str]], Any]
    extra_file: str = "zoo.json"

    def open(self, path: Path) -> tuple[Any, dict[str, str]]:
        """The program and its zoo metadata, from one read of the file."""
        import json

        extra = {self.extra_file: ""}
        with quiet_export():
            program = self.read(str(path), extra)
        values: dict[str, str] = json.loads(extra[self.extra_file])
        return program, values

    def load(self, path: Path) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """The parity runner of the file's program."""
        return torch_runner(*self.open(path))

    def read_metadata(self, path: Path) -> dict[str, str]:
        return self.open(path)[1]
