"""What the speed work changed must not change results: the lean torchlib listing builds the
same registry as torch's own, and the quicker exit keeps what a command wrote. No timing is
asserted here (speed lives in `zoo bench`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_lean_torchlib_builds_the_same_registry() -> None:
    pytest.importorskip("onnxscript")
    from torch.onnx._internal.exporter import _registration

    from zoo.export import lean_torchlib

    full = _registration.ONNXRegistry.from_torchlib()
    with lean_torchlib() as active:
        lean = _registration.ONNXRegistry.from_torchlib()
    assert active, "torch/onnxscript moved the names lean_torchlib replaces"
    assert full.functions.keys() == lean.functions.keys()
    for name, metas in full.functions.items():
        got = [(m.onnx_function, m.fx_target, m.is_complex) for m in lean.functions[name]]
        assert got == [(m.onnx_function, m.fx_target, m.is_complex) for m in metas], name
    # the block restores torch's own handle
    assert type(_registration.onnxscript_apis).__name__ != "_LeanApis"


def test_lean_torchlib_lists_what_onnxscript_lists() -> None:
    pytest.importorskip("onnxscript")
    from onnxscript._framework_apis import torch_2_5

    from zoo.export._torchlib import torchlib_entries

    lean = [(e.qualified_name, e.function, e.is_complex) for e in torchlib_entries()]
    full = [(m.qualified_name, m.function, m.is_complex) for m in torch_2_5.get_torchlib_ops()]
    assert lean == full


SCRIPT = """
import gc, importlib, sys
for name in sys.argv[1].split(","):
    if name:
        importlib.import_module(name)  # as a command that imported it would have
sys.argv = ["zoo", "list"]
from zoo.cli import main
try:
    main()
except SystemExit:
    print("frozen", gc.get_freeze_count() > 0)
    raise
"""


@pytest.mark.parametrize(("imported", "frozen"), [("", False), ("onnx", True)])
def test_exit_skips_the_final_collection_only_after_heavy_imports(
    tmp_path: Path, imported: str, frozen: bool
) -> None:
    if imported:
        pytest.importorskip(imported)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, imported],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"frozen {frozen}" in done.stdout
