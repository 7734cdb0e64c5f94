"""onnxruntime inference sessions with zoo's defaults: the one place zoo creates them.

The `onnx` and `onnx-int8` exporters' runners (and so parity and `zoo verify`) and the
benchmark get their sessions here. The defaults were chosen by measurement (`zoo bench`,
section `ort-options`; the numbers and the machine are in docs/benchmarks.md):

- one intra-op thread. It is the steady choice: a recurrence is a chain of small steps, and
  splitting each step over two threads needs both scheduled at every step. On the shared
  2-core benchmark machine one thread was as fast or faster in most runs; onnxruntime's
  default (a thread per core) ran from 1.8x faster (when the second core happened to be
  free) to 2x slower. Serving several streams, use a session per core;
- more threads on request (`ZOO_ORT_THREADS=N`, 0 for one per core, or `threads=`), and
  then with spin-waiting on: asking for threads means the cores are free, and without
  spinning a thread sleeps between steps and must be woken for every one (measured up to
  2x slower for the 2x256 LSTM at batch 1 on a calm machine);
- sequential execution, one inter-op thread: zoo's graphs are a chain of ops (one recurrent
  node per layer), and the parallel executor measured slower on every call;
- all graph optimizations (onnxruntime's default): basic ones were no faster.

Like `zoo.cli`, importing this module imports nothing heavy; onnxruntime loads on first use.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

#: Intra-op threads per session unless `ZOO_ORT_THREADS` or `threads=` says otherwise.
DEFAULT_THREADS = 1


def default_threads() -> int:
    """`ZOO_ORT_THREADS` if set to a whole number (0: one per core), else `DEFAULT_THREADS`."""
    value = os.environ.get("ZOO_ORT_THREADS", "").strip()
    return int(value) if value.isdigit() else DEFAULT_THREADS


def session_options(threads: int | None = None, *, spinning: bool | None = None) -> Any:
    """`onnxruntime.SessionOptions` with zoo's defaults (see the module docstring).

    `threads` 0 lets onnxruntime use one per physical core; `spinning` defaults to on
    whenever more than one thread may run.
    """
    import onnxruntime as ort

    chosen = default_threads() if threads is None else threads
    spin = chosen != 1 if spinning is None else spinning
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = chosen
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    return options


def ort_session(path: Path | str, *, threads: int | None = None, options: Any = None) -> Any:
    """An `onnxruntime.InferenceSession` on the CPU provider with zoo's defaults.

    `options` (a `SessionOptions`) replaces the defaults entirely; the benchmark uses it to
    compare configurations.
    """
    import onnxruntime as ort

    chosen = options if options is not None else session_options(threads)
    return ort.InferenceSession(str(path), chosen, providers=["CPUExecutionProvider"])
