"""Where a default-route `zoo export NAME --onnx` spends its time, step by step.

`STEPS` runs the real command (`zoo.cli.main`) in a child process after importing, one at
a time, what the export would import, and with timers wrapped around the functions it goes
through: torch's registry build, capture (`torch.export.export`), decomposition,
translation to ONNX and the onnxscript optimizer, zoo's checks and metadata, the file
write, the eager references and the parity proof. The wrappers only time; the command runs
unchanged. What no step claims (Python's start, the CLI, the contract check, the model) is
the process's wall time minus the steps, reported as `other`.

The function names wrapped are torch's private ones (torch 2.13); a step whose function is
missing is reported as absent rather than failing the benchmark.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo.bench._timing import median

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

STEPS = r"""
import importlib, json, sys, time

seconds = {}
order = []


def add(step, dt):
    if step not in seconds:
        order.append(step)
    seconds[step] = seconds.get(step, 0.0) + dt


def timed_import(step, *modules):
    start = time.perf_counter()
    for module in modules:
        importlib.import_module(module)
    add(step, time.perf_counter() - start)


def wrap(step, owner, name):
    original = getattr(owner, name, None)
    if original is None:
        return

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            add(step, time.perf_counter() - start)

    raw = owner.__dict__.get(name) if isinstance(owner, type) else None
    setattr(owner, name, staticmethod(timed) if isinstance(raw, classmethod) else timed)


out, argv = sys.argv[1], sys.argv[2:]
timed_import("import zoo, click", "zoo", "zoo.cli")
timed_import("import torch", "torch")
timed_import("import torch.export, torch._dynamo", "torch.export", "torch._dynamo")
timed_import("import onnx (ml_dtypes)", "onnx")
timed_import("import onnxscript, torchlib", "onnxscript", "onnxscript.function_libs.torch_lib.ops")
timed_import("import onnxruntime", "onnxruntime")
timed_import("import torch.onnx exporter", "torch.onnx._internal.exporter._core")

import onnx
import torch
from torch.onnx._internal.exporter import _core, _onnx_program, _registration

import zoo.exporters.onnx as onnx_exporter
from zoo.export import _pipeline
from zoo.parity import _check

wrap("registry (torchlib)", _registration.ONNXRegistry, "from_torchlib")
wrap("capture (torch.export)", torch.export, "export")
wrap("decompose", _core, "_prepare_exported_program_for_export")
wrap("translate to ONNX", _core, "_exported_program_to_onnx_program")
wrap("optimize (onnxscript)", _onnx_program.ONNXProgram, "optimize")
wrap("check graph, metadata, checker", onnx_exporter, "check_graph")
wrap("check graph, metadata, checker", onnx.checker, "check_model")
wrap("save, embed the parity summary", onnx, "save")
wrap("save, embed the parity summary", onnx, "load")
wrap("torch.onnx.export, total", torch.onnx, "export")
wrap("eager references", _pipeline, "references")
wrap("parity proof (onnxruntime)", _pipeline, "prove")
wrap("parity proof (onnxruntime)", onnx_exporter, "load")

from zoo.cli import main

try:
    main(argv)
except SystemExit as exc:
    if exc.code not in (0, None):
        raise
inner = ("registry (torchlib)", "capture (torch.export)", "decompose", "translate to ONNX",
         "optimize (onnxscript)")
total = seconds.pop("torch.onnx.export, total", None)
order = [s for s in order if s in seconds]
if total is not None:
    order.append("torch.onnx.export, the rest")
    seconds[order[-1]] = total - sum(seconds.get(s, 0.0) for s in inner)
with open(out, "w") as f:
    json.dump([[s, seconds[s]] for s in order], f)
"""


def breakdown(
    command: Sequence[str], env: Mapping[str, str], cwd: Path, runs: int
) -> tuple[list[tuple[str, float]], list[float]]:
    """Median seconds per step over `runs` runs of `zoo` with arguments `command`, and the
    whole processes' wall times."""
    import subprocess
    import time

    script = cwd / "export_steps.py"
    script.write_text(STEPS)
    per_step: dict[str, list[float]] = {}
    walls: list[float] = []
    for i in range(runs):
        out = cwd / f"steps-{i}.json"
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(script), str(out), *command],
            env=dict(env),
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
        )
        walls.append(time.perf_counter() - start)
        if done.returncode != 0:
            from zoo.bench._timing import BenchError

            raise BenchError(f"export steps failed: {done.stderr.strip()[-400:]}")
        for step, seconds in json.loads(out.read_text()):
            per_step.setdefault(step, []).append(seconds)
    steps = [(step, median(values)) for step, values in per_step.items()]
    return steps, walls


def step_rows(steps: list[tuple[str, float]], walls: list[float]) -> list[tuple[Any, ...]]:
    """Table rows: each step's median and share of the median process."""
    wall = median(walls)
    rows: list[tuple[Any, ...]] = [
        (step, f"{seconds:.3f} s", f"{seconds / wall:.0%}") for step, seconds in steps
    ]
    other = wall - sum(seconds for _, seconds in steps)
    rows.append(("other (Python start, CLI, model, contract check)", f"{other:.3f} s", ""))
    rows.append(("whole process", f"{wall:.3f} s", "100%"))
    return rows
