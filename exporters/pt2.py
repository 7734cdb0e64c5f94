"""Built-in `pt2` exporter: a `torch.export` program saved with `torch.export.save`.

PyTorch's forward-looking format. torch.export specializes the sequence length of torch's
recurrent modules, so the program is traced on a copy whose RNN/LSTM/GRU call zoo's custom
ops: batch and seq stay dynamic. Loading the file needs those ops registered, which
`import zoo.nn` (done by this exporter's `load`) does.

With `--lengths` the program takes `lengths` and hands it to those ops, whose kernel packs
(and raises `zoo.InputError` for a length outside [1, seq]). Limit: a model that feeds a
PackedSequence to its recurrent module cannot be exported this way; torch.export fails on
the data-dependent packed size (`GuardOnDataDependentSymNode: Could not extract specialized
integer from data-dependent expression u0`), and zoo's export copy refuses it first with
an ExportError naming the pattern that works (`zoo.nn.Recurrent`) and the routes that take
packing (TorchScript, `--onnx --legacy`).

`torch.export.load` can run code from an archive (pickled members, sympy expressions, ops
named by string): zoo saves its programs without sample inputs, so the archive is plain
data, and `zoo verify` opens someone's pt2 only if `zoo.export.check_pt2_archive` finds
nothing but such data, or with --trust-code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import zoo
from zoo.export import TorchProgramFile, check_pt2_archive

EXTRA = "zoo.json"


def export(job: zoo.ExportJob) -> dict[str, Any]:
    import torch

    from zoo.export import dynamic_shapes, example_args, quiet_export
    from zoo.nn import exportable_copy

    with quiet_export():
        program = torch.export.export(
            exportable_copy(job.module),
            example_args(job.contract, job.example),
            dynamic_shapes=dynamic_shapes(job.contract),
        )
        # No sample inputs: torch.export.save would store them as a torch.save pickle
        # (data/sample_inputs/model.pt), which torch.export.load unpickles; without them the
        # member is empty and the archive is plain data that `zoo verify` opens untrusted.
        program.example_inputs = None
        torch.export.save(program, str(job.path), extra_files={EXTRA: json.dumps(job.metadata())})
    return {"route": "torch.export"}


def _read(path: str, extra_files: dict[str, str]) -> Any:
    import torch

    import zoo.nn  # noqa: F401  registers the zoo:: ops the program calls

    return torch.export.load(path, extra_files=extra_files).module()


FILE = TorchProgramFile(_read, EXTRA)


@zoo.hookimpl
def register_exporters(register: Callable[[zoo.Exporter], None]) -> None:
    register(
        zoo.Exporter(
            name="pt2",
            suffix=".pt2",
            description="torch.export program (.pt2) with dynamic batch and seq.",
            export=export,
            load=FILE.load,
            read_metadata=FILE.read_metadata,
            check_untrusted=check_pt2_archive,
        )
    )
