"""A quicker build of the dynamo exporter's op registry: same entries, no signature parsing.

`torch.onnx.export(dynamo=True)` builds its registry of ATen translations on every call from
onnxscript's torchlib (`ONNXRegistry.from_torchlib`). onnxscript's listing of torchlib
(`get_torchlib_ops`) reads each function's `function_ir.domain`, and `function_ir` parses
the function's source into an AST and copies its module's globals: ~500 functions, about
0.5 s of the ~4 s a default-route export of bilstm takes (cProfile, torch 2.13, onnxscript
0.7). `from_torchlib` uses only each entry's qualified name, function and complex flag,
never the domain; so `lean_torchlib` lists the same entries without parsing anything, and
the registry torch builds from them holds the same functions under the same names (a test
compares the two registries).

This reaches into private modules of torch (`_registration.onnxscript_apis`) and onnxscript
(`torch_lib.registration.default_registry`). When either is not where this expects, the
block changes nothing and torch builds its registry its own way: an export never depends on
the shortcut, only its speed does. zoo's parity proof runs on the exported file either way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TorchlibEntry:
    """What `ONNXRegistry.from_torchlib` reads of an onnxscript torchlib entry."""

    qualified_name: str
    function: Any
    is_complex: bool


def torchlib_entries() -> list[TorchlibEntry]:
    """Every torchlib translation, as onnxscript's `get_torchlib_ops` lists them (internal
    ones skipped, overloads then complex variants), without parsing their signatures."""
    from onnxscript.function_libs.torch_lib import ops, registration

    del ops  # importing it registers the translations
    entries = []
    for name, overloaded in registration.default_registry.items():
        if name.startswith("internal::"):
            continue
        entries += [TorchlibEntry(name, f, False) for f in overloaded.overloads]
        entries += [TorchlibEntry(name, f, True) for f in overloaded.complex]
    return entries


class _LeanApis:
    """Stands in for torch's handle on onnxscript's framework APIs: `get_torchlib_ops` is
    the lean listing, everything else is the original's."""

    def __init__(self, original: Any) -> None:
        self._original = original

    def get_torchlib_ops(self) -> list[TorchlibEntry]:
        return torchlib_entries()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


@contextlib.contextmanager
def lean_torchlib() -> Iterator[bool]:
    """Inside the block, torch's dynamo exporter lists torchlib without parsing signatures.

    Yields whether the shortcut is in place (False: the private names moved, and torch does
    what it always does).
    """
    try:
        from onnxscript.function_libs.torch_lib import registration
        from torch.onnx._internal.exporter import _registration
    except ImportError:
        yield False
        return
    module: Any = _registration  # its `onnxscript_apis` is a private, untyped name
    original = getattr(module, "onnxscript_apis", None)
    usable = (
        original is not None
        and hasattr(original, "get_torchlib_ops")
        and hasattr(registration, "default_registry")
    )
    if not usable:
        yield False
        return
    module.onnxscript_apis = _LeanApis(original)
    try:
        yield True
    finally:
        module.onnxscript_apis = original
