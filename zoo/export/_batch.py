"""How many onnxruntime threads batch work gets (`zoo.export._runtime.batch_sessions`).

zoo's sessions run on one intra-op thread (zoo.export._runtime): steady for the parity
proof's small batches and for batch-1 streaming, where a second thread only adds a
hand-off per step. Batch work is different: `zoo predict --runtime onnx` runs a data set
in passes of up to 2,048 sequences, and each step's matmul is then large enough to split.
Measured on the shared 2-core machine (`zoo bench`, section `inference`, its batch rows;
docs/benchmarks.md), onnxruntime's default (a thread per core) against one thread:

- the 2-layer hidden-256 LSTM (a 3 MB file): at batch 64, seq 500, the default ran 1.6-1.8x
  faster when the second core was free and 0.6-1.2x under load; at batch 2,048 it tied;
- the default LSTM (hidden 20, a few KB): at batch 2,048, seq 50 one thread was faster
  (the default at 0.7x under a load average of 4): a step is too small to split well.

So a file of `LARGE_MODEL_BYTES` or more (its weights dominate the file) runs batch work on
a thread per core, spinning as onnxruntime's default does; a smaller one keeps one thread.
"""

from __future__ import annotations

from pathlib import Path

#: Files at least this large get a thread per core for batch work.
LARGE_MODEL_BYTES = 1 << 20


def batch_threads(path: Path) -> int:
    """0 (a thread per core) for a large model file, else 1."""
    try:
        size = path.stat().st_size
    except OSError:
        return 1  # onnxruntime will say what is wrong with the path
    return 0 if size >= LARGE_MODEL_BYTES else 1
