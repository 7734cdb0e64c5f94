"""Where a default-route `zoo export NAME --onnx` spends its time, step by step, with the
graph exported afresh and with the graph from zoo's cache (`zoo.export.cached_graph`).

`STEPS` runs the real command (`zoo.cli.main`) in a child process after importing, one at
a time, what the export would import, and with timers wrapped around the functions it goes
through: torch's registry build, capture (`torch.export.export`), decomposition,
translation to ONNX and the onnxscript optimizer, zoo's checks and metadata, the file
write, the eager references and the parity proof. The wrappers only time; the command runs
unchanged. What no step claims (Python's start, the CLI, the contract check, the model) is
the process's wall time minus the steps, reported as `other`. On the cached route torch's
exporter is neither imported nor called (the script fails if `torch._dynamo` was imported).

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


out, route, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
fresh = route == "fresh"  # else the graph comes from the cache: torch's exporter is not imported
timed_import("import zoo, click", "zoo", "zoo.cli")
timed_import("import torch", "torch")
if fresh:
    timed_import("import torch.export, torch._dynamo", "torch.export", "torch._dynamo")
timed_import("import onnx (ml_dtypes)", "onnx")
if fresh:
    timed_import(
        "import onnxscript, torchlib", "onnxscript", "onnxscript.function_libs.torch_lib.ops"
    )
timed_import("import onnxruntime", "onnxruntime")
if fresh:
    timed_import("import torch.onnx exporter", "torch.onnx._internal.exporter._core")

import onnx
import torch

import zoo.exporters.onnx as onnx_exporter
from zoo.export import _graph_cache, _pipeline
from zoo.parity import _check

if fresh:
    from torch.onnx._internal.exporter import _core, _onnx_program, _registration

    wrap("registry (torchlib)", _registration.ONNXRegistry, "from_torchlib")
    wrap("capture (torch.export)", torch.export, "export")
    wrap("decompose", _core, "_prepare_exported_program_for_export")
    wrap("translate to ONNX", _core, "_exported_program_to_onnx_program")
    wrap("optimize (onnxscript)", _onnx_program.ONNXProgram, "optimize")
wrap("graph cache: key (source digests)", _graph_cache, "graph_key")
wrap("graph cache: read, fill in the weights", _graph_cache, "fill")
wrap("graph cache: store", _graph_cache, "strip")
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
if not fresh and "torch._dynamo" in sys.modules:
    raise SystemExit("the export from the cache imported torch._dynamo: was the cache filled?")
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
    command: Sequence[str], env: Mapping[str, str], cwd: Path, runs: int, route: str = "fresh"
) -> tuple[list[tuple[str, float]], list[float]]:
    """Median seconds per step over `runs` runs of `zoo` with arguments `command`, and the
    whole processes' wall times. `route`: `fresh` (torch's exporter; its imports timed) or
    `cached` (the graph from zoo's cache, which the command must find filled)."""
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
            [sys.executable, str(script), str(out), route, *command],
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


def step_rows(
    routes: Sequence[tuple[list[tuple[str, float]], list[float]]],
) -> list[tuple[Any, ...]]:
    """Table rows, one column per route (`breakdown`'s results): each step's median and share
    of the route's median process; `-` where a route has no such step."""
    order = list(dict.fromkeys(step for steps, _ in routes for step, _ in steps))
    walls = [median(w) for _, w in routes]
    found = [dict(steps) for steps, _ in routes]

    def cell(i: int, step: str) -> str:
        seconds = found[i].get(step)
        return "-" if seconds is None else f"{seconds:.3f} s ({seconds / walls[i]:.0%})"

    rows: list[tuple[Any, ...]] = [
        (step, *(cell(i, step) for i in range(len(routes)))) for step in order
    ]
    others = [wall - sum(found[i].values()) for i, wall in enumerate(walls)]
    other = "other (Python start, CLI, model, contract check)"
    rows.append((other, *(f"{o:.3f} s" for o in others)))
    rows.append(("whole process", *(f"{wall:.3f} s" for wall in walls)))
    return rows
