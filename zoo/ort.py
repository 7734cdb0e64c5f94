"""Which onnxruntime execution provider runs the parity check of ONNX artifacts.

The CPU provider is the default; `zoo export/verify --ort-provider cuda` runs the check on
the GPU with onnxruntime-gpu's CUDA provider instead, against the same eager PyTorch
references. The choice is a context setting (`use_provider`) rather than an argument of
every exporter's `load(path)`: the plugin interface stays as it is, and every exporter that
loads through `session` (the built-in onnx and onnx-int8, the example onnx-ort) follows it.
Exporters with other runtimes (TorchScript, pt2) ignore it.

The CUDA provider runs with TF32 off (`use_tf32=0`): TF32 matmuls round to 10 mantissa bits,
far outside the 1e-5 parity tolerance. Nodes the CUDA provider lacks (for example
onnx-int8's DynamicQuantizeLSTM) run on the CPU provider, as onnxruntime places them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from zoo.errors import ZooError

#: `--ort-provider` choices and the onnxruntime provider each names.
PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}
#: Options of the CUDA provider: exact fp32 arithmetic for the parity check.
CUDA_OPTIONS = {"use_tf32": 0}

_current: ContextVar[str] = ContextVar("zoo_ort_provider", default="cpu")


def current() -> str:
    """The provider parity runs on now (`cpu` unless inside `use_provider`)."""
    return _current.get()


def check_provider(name: str) -> None:
    """An error unless this onnxruntime build has provider `name`."""
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
    """Sessions made by `session` inside the block run on provider `name`."""
    check_provider(name)
    token = _current.set(name)
    try:
        yield
    finally:
        _current.reset(token)


def session(path: Path) -> Any:
    """An onnxruntime session of the ONNX file `path` on the current provider.

    Raises ZooError if onnxruntime could not start that provider: it would otherwise fall
    back to the CPU silently, and a "CUDA" parity check would have run on the CPU.
    """
    import onnxruntime as ort

    name = current()
    wanted = PROVIDERS[name]
    providers: list[Any] = [wanted] if name == "cpu" else [(wanted, CUDA_OPTIONS), PROVIDERS["cpu"]]
    result = ort.InferenceSession(str(path), providers=providers)
    started = result.get_providers()
    if not started or started[0] != wanted:
        raise ZooError(
            f"onnxruntime {ort.__version__} could not start {wanted} (it started "
            f"{', '.join(started) or 'nothing'}); its warning above says why, usually missing "
            "CUDA or cuDNN libraries of the versions onnxruntime-gpu needs."
        )
    return result
