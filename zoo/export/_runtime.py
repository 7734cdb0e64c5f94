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
- all graph optimizations (onnxruntime's default): basic ones were no faster;
- batch work (`zoo predict --runtime onnx` over a data set) opens its sessions inside
  `batch_sessions`: there a large model gets a thread per core (zoo.export._batch).

The execution provider is the CPU one unless a `use_provider` block says otherwise:
`zoo export/verify --ort-provider cuda` runs the parity check on onnxruntime-gpu's CUDA
provider, against the same eager PyTorch references. It is a context setting rather than an
argument of every exporter's `load(path)`, so the plugin interface stays as it is and every
exporter whose runner opens its session here (the built-in onnx and onnx-int8, the example
onnx-ort) follows it; TorchScript and pt2 ignore it. The CUDA provider runs with TF32 off
(`use_tf32=0`): TF32 matmuls round to 10 mantissa bits, far outside the parity tolerance.
Nodes the CUDA provider lacks (onnx-int8's DynamicQuantizeLSTM) run on the CPU provider, as
onnxruntime places them.

Like `zoo.cli`, importing this module imports nothing heavy; onnxruntime loads on first use.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from zoo._errors import ZooError

#: Intra-op threads per session unless `ZOO_ORT_THREADS` or `threads=` says otherwise.
DEFAULT_THREADS = 1
#: `--ort-provider` choices and the onnxruntime provider each names.
PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}
#: Options of the CUDA provider: exact fp32 arithmetic for the parity check.
CUDA_OPTIONS = {"use_tf32": 0}

_provider: ContextVar[str] = ContextVar("zoo_ort_provider", default="cpu")
#: In a `batch_sessions` block: the thread count asked for, or -1 (the file-size rule).
_batch: ContextVar[int | None] = ContextVar("zoo_ort_batch", default=None)


def default_threads() -> int:
    """`ZOO_ORT_THREADS` if set (a whole number; 0: one per core), else `DEFAULT_THREADS`;
    anything else is an error, not silently the default."""
    value = os.environ.get("ZOO_ORT_THREADS", "").strip()
    if not value:
        return DEFAULT_THREADS
    if not value.isdigit():
        raise ZooError(
            f"ZOO_ORT_THREADS={value!r} is not a whole number of threads: set it to N >= 1, "
            "0 for one per core, or unset it for zoo's default (1)."
        )
    return int(value)


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


def current_provider() -> str:
    """The provider sessions open on now (`cpu` unless inside `use_provider`)."""
    return _provider.get()


def check_provider(name: str) -> None:
    """An error unless this onnxruntime build has provider `name` (and `ZOO_ORT_THREADS`,
    if set, is valid): what export and verify check before any work."""
    default_threads()
    if name not in PROVIDERS:
        raise ZooError(
            f"Unknown onnxruntime provider {name!r}; choose one of {', '.join(PROVIDERS)}."
        )
    if name == "cpu":
        return
    import onnxruntime as ort

    have = ort.get_available_providers()
    if PROVIDERS[name] not in have:
        raise ZooError(
            f"--ort-provider {name}: onnxruntime {ort.__version__} has no {PROVIDERS[name]} "
            f"(it has {', '.join(have)}). Install onnxruntime-gpu in place of onnxruntime "
            "(README, 'GPUs'), or leave --ort-provider at cpu."
        )


@contextlib.contextmanager
def use_provider(name: str) -> Iterator[None]:
    """Sessions made by `ort_session` inside the block run on provider `name`."""
    check_provider(name)
    token = _provider.set(name)
    try:
        yield
    finally:
        _provider.reset(token)


@contextlib.contextmanager
def batch_sessions(threads: int | None = None) -> Iterator[None]:
    """Sessions made by `ort_session` inside the block serve batch work (`zoo predict
    --runtime onnx` over a data set) on `threads` intra-op threads (0: a thread per core,
    spinning); by default a large model (a file of 1 MiB or more: the 2x256 LSTM) gets a
    thread per core and a small one keeps one thread (see zoo.export._batch for the
    measurements). `ZOO_ORT_THREADS` or `ort_session(threads=)` still decide when given."""
    token = _batch.set(-1 if threads is None else threads)
    try:
        yield
    finally:
        _batch.reset(token)


def _threads_for(path: Path | str, threads: int | None) -> int | None:
    """`threads`, or in a `batch_sessions` block the batch choice for this file."""
    batch = _batch.get()
    if threads is not None or batch is None or os.environ.get("ZOO_ORT_THREADS", "").strip():
        return threads
    from zoo.export._batch import batch_threads

    return batch_threads(Path(path)) if batch < 0 else batch


def ort_session(path: Path | str, *, threads: int | None = None, options: Any = None) -> Any:
    """An `onnxruntime.InferenceSession` with zoo's defaults on the current provider.

    `options` (a `SessionOptions`) replaces the defaults entirely; the benchmark uses it to
    compare configurations. Raises ZooError if onnxruntime could not start the provider: it
    would otherwise fall back to the CPU silently, and a "CUDA" parity check would have run
    on the CPU.
    """
    import onnxruntime as ort

    chosen = options if options is not None else session_options(_threads_for(path, threads))
    name = current_provider()
    wanted = PROVIDERS[name]
    providers: list[Any] = [wanted] if name == "cpu" else [(wanted, CUDA_OPTIONS), PROVIDERS["cpu"]]
    session = ort.InferenceSession(str(path), chosen, providers=providers)
    started = session.get_providers()
    if not started or started[0] != wanted:
        raise ZooError(
            f"onnxruntime {ort.__version__} could not start {wanted} (it started "
            f"{', '.join(started) or 'nothing'}); its warning above says why, usually missing "
            "CUDA or cuDNN libraries of the versions onnxruntime-gpu needs."
        )
    return session
