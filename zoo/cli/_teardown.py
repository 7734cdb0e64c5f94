"""A quicker exit for commands that imported torch: skip the final garbage collection.

When Python exits it clears every module and runs the cycle collector over everything still
alive. After torch's exporter stack is imported (torch, torch._dynamo, onnx, onnxscript's
torchlib) that is millions of objects: measured on the 2-core benchmark machine, the
process took 1.7-2.1 s from its last statement to its end, and 0.3 s with the objects
frozen first (`gc.freeze()`: frozen objects are left out of every later collection). At
exit that memory goes back to the system anyway. Everything else about exiting still
happens: `atexit` handlers run (temporary folders are removed), modules are cleared, objects
outside reference cycles are finalized as usual. Only objects in cycles at exit are no longer
finalized; zoo closes its files and writes them atomically, so none of its results depend
on that. `zoo bench`'s `export-steps` section shows the effect (the `other` row).
"""

from __future__ import annotations

import gc
import sys

#: Modules whose presence makes the final collection slow enough to skip.
HEAVY = ("torch", "onnx", "onnxruntime")


def skip_final_collection() -> None:
    """Freeze every object alive now if a heavy library was imported (see module doc)."""
    if any(name in sys.modules for name in HEAVY):
        gc.freeze()
