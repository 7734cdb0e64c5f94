"""Built-in `torchscript` exporter: `torch.jit.script` (trace where scripting fails).

TorchScript is deprecated in torch 2.13 (it warns on every call; zoo silences that notice)
but still the format many C++ deployments load. A bare nn.LSTM cannot be the scripted
top-level module; zoo's models wrap it, and TorchScript keeps no shape specialization, so
batch and seq stay dynamic. Metadata lives in the archive's extra file `zoo.json`.

With `--lengths` the program takes `lengths`: a scripted model keeps its packing
(`pack_padded_sequence` scripts, and so do plain-PyTorch models that only pack); a bad
length raises `torch.jit.Error` carrying zoo's InputError message. A model that only traces
also exports with lengths (the trace records the sort and pack), but the trace bakes out
`zoo.nn.check_lengths`, so a bad length then fails with torch's own error.

Loading TorchScript runs code from the file (`__setstate__` methods), so `zoo verify`
opens a TorchScript file only with --trust-code (`check_untrusted` always refuses); the
export pipeline loads back only the file it just wrote.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import zoo
from zoo.export import TorchProgramFile

EXTRA = "zoo.json"


def export(job: zoo.ExportJob) -> dict[str, Any]:
    import torch

    from zoo.export import example_args, quiet_export

    model = copy.deepcopy(job.module).eval()
    args = example_args(job.contract, job.example)
    with quiet_export():
        try:  # the whole step: a model can script, then fail to run or to save
            _save(torch.jit.script(model), args, job, "script")
        except Exception as exc:  # not scriptable as written: tracing keeps the ops
            reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else repr(exc)
            _save(torch.jit.trace(model, args, check_trace=False), args, job, "trace")
            return {"route": "trace", "script_error": reason}
    return {"route": "script"}


def _save(program: Any, args: tuple[Any, ...], job: zoo.ExportJob, method: str) -> None:
    """Run `program` once on the tracing inputs, then write it with zoo's metadata, whose
    `zoo.exporter` says how it was made (`torchscript:script` or `torchscript:trace`)."""
    import torch

    with torch.no_grad():
        program(*args)
    meta = job.metadata(exporter=f"torchscript:{method}")
    torch.jit.save(program, str(job.path), _extra_files={EXTRA: json.dumps(meta)})


def check_untrusted(path: Path) -> None:
    """Always refuse: no file of this format is safe to open unless trusted."""
    raise zoo.ZooError(
        f"{str(path)!r} is TorchScript, which runs code when loaded (torch.jit.load runs "
        "the __setstate__ methods stored in the file, and they can call any TorchScript op, "
        "writing files included)."
    )


def _read(path: str, extra_files: dict[str, str]) -> Any:
    import torch

    return torch.jit.load(path, map_location="cpu", _extra_files=extra_files)


FILE = TorchProgramFile(_read, EXTRA)


@zoo.hookimpl
def register_exporters(register: Callable[[zoo.Exporter], None]) -> None:
    register(
        zoo.Exporter(
            name="torchscript",
            suffix=".torchscript.pt",
            description="TorchScript (deprecated in torch 2.13); parity in its runtime.",
            export=export,
            load=FILE.load,
            read_metadata=FILE.read_metadata,
            check_untrusted=check_untrusted,
        )
    )
