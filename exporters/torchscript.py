"""Built-in `torchscript` exporter: `torch.jit.script` (trace where scripting fails).

TorchScript is deprecated in torch 2.13 (it warns on every call; zoo silences that notice)
but still the format many C++ deployments load. A bare nn.LSTM cannot be the scripted
top-level module; zoo's models wrap it, and TorchScript keeps no shape specialization, so
batch and seq stay dynamic. Metadata lives in the archive's extra file `zoo.json`.

With `--lengths` the program takes `lengths`: a scripted model keeps its packing
(`pack_padded_sequence` scripts, and so do plain-PyTorch models that only pack); a bad
length raises `torch.jit.Error` carrying zoo's InputError message. A model that only traces
also exports with lengths (the trace records the sort and pack), but the trace bakes out
`zoo.recurrent.check_lengths`, so a bad length then fails with torch's own error.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import zoo

EXTRA = "zoo.json"


def export(job: zoo.ExportJob) -> dict[str, Any]:
    import torch

    from zoo.tracing import example_args, quiet_export

    model = copy.deepcopy(job.module).eval()
    with quiet_export():
        try:
            program, method = torch.jit.script(model), "script"
        except Exception as exc:  # not scriptable (dynamic Python): tracing keeps the ops
            args = example_args(job.contract, job.example)
            program, method = torch.jit.trace(model, args, check_trace=False), "trace"
            reason = str(exc).splitlines()[0][:200]
        else:
            reason = ""
        meta = {**job.metadata(), "zoo.exporter": f"torchscript:{method}"}
        torch.jit.save(program, str(job.path), _extra_files={EXTRA: json.dumps(meta)})
    return {"route": method, **({"script_error": reason} if reason else {})}


def _open(path: Path) -> tuple[Any, dict[str, str]]:
    """The saved program and its zoo metadata, from one read of the file."""
    import torch

    from zoo.tracing import quiet_export

    extra = {EXTRA: ""}
    with quiet_export():
        program = torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    values: dict[str, str] = json.loads(extra[EXTRA])
    return program, values


def load(path: Path) -> Callable[[dict[str, Any]], dict[str, Any]]:
    from zoo.tracing import torch_runner

    return torch_runner(*_open(path))


def read_metadata(path: Path) -> dict[str, str]:
    return _open(path)[1]


@zoo.hookimpl
def register_exporters(register: Callable[[zoo.Exporter], None]) -> None:
    register(
        zoo.Exporter(
            name="torchscript",
            suffix=".torchscript.pt",
            description="TorchScript (deprecated in torch 2.13); parity in its runtime.",
            export=export,
            load=load,
            read_metadata=read_metadata,
        )
    )
