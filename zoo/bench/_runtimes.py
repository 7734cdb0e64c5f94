"""The runtimes the inference benchmark compares, each as "call the model on these inputs".

- `eager`: the PyTorch module (`torch.inference_mode`) with torch's default threads, what a
  user gets without asking;
- `eager-1t`: the same on one torch thread;
- `torchscript`: the `torchscript` exporter's file, `torch.jit.load`, one torch thread;
- `pt2`: the `pt2` exporter's file, `torch.export.load(...).module()`, one torch thread;
- `ort-fp32` / `ort-int8`: the `onnx` / `onnx-int8` exporters' files in onnxruntime with
  zoo's session defaults (`zoo.export.ort_session`: one intra-op thread).

So every runtime but `eager` gets the same one core, and speed-ups are claimed over the
faster of the two eager runs. (On a busy machine torch's threads wait for each other at
every op, and one thread is often the faster.)

Torch runtimes get tensors, onnxruntime gets numpy arrays (zero-copy views of the same data),
so that no call pays a conversion.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zoo.bench._artifacts import Artifacts

RUNTIMES = ("eager", "eager-1t", "torchscript", "pt2", "ort-fp32", "ort-int8")
EAGER = ("eager", "eager-1t")
_EXPORTER = {
    "torchscript": "torchscript",
    "pt2": "pt2",
    "ort-fp32": "onnx",
    "ort-int8": "onnx-int8",
}

#: A loaded runtime: `call(feeds)` runs it on named numpy inputs and returns its outputs in
#: the contract's order; `prepare(feeds)` converts the inputs once, outside the timing.
Model = tuple[Callable[[dict[str, Any]], Any], Callable[[Any], list[Any]]]


def load(artifacts: Artifacts, runtime: str, arch: str, size: str) -> Model:
    """`(prepare, call)` for one runtime of one model."""
    contract = artifacts.source(arch, size).contract
    names = list(contract.input_names)
    if runtime.startswith("ort-"):
        from zoo.export._runtime import ort_session

        session = ort_session(artifacts.path(arch, size, _EXPORTER[runtime]))

        def prepare_np(feeds: dict[str, Any]) -> Any:
            return {n: feeds[n] for n in names}

        def call_np(prepared: Any) -> list[Any]:
            return list(session.run(None, prepared))

        return prepare_np, call_np
    import torch

    module = _torch_module(artifacts, runtime, arch, size)

    def prepare_torch(feeds: dict[str, Any]) -> Any:
        return [torch.from_numpy(feeds[n]) for n in names]

    def call_torch(prepared: Any) -> list[Any]:
        with torch.inference_mode():
            return list(module(*prepared))

    return prepare_torch, call_torch


def _torch_module(artifacts: Artifacts, runtime: str, arch: str, size: str) -> Any:
    import torch

    from zoo.export._tracing import quiet_export

    if runtime in EAGER:
        return artifacts.source(arch, size).module
    path = artifacts.path(arch, size, _EXPORTER[runtime])
    # Both loaders are untyped; these names give them a type for mypy's strict mode.
    load_script: Callable[..., Any] = torch.jit.load
    load_program: Callable[[str], Any] = torch.export.load
    with quiet_export():
        if runtime == "torchscript":
            return load_script(str(path), map_location="cpu")
        import zoo.nn._ops  # noqa: F401  registers the ops the program calls

        return load_program(str(path)).module()


def torch_threads(runtime: str) -> Callable[[], None]:
    """What to run before a chunk of `runtime`: set torch's thread count for it."""
    import torch

    wanted = torch.get_num_threads() if runtime == "eager" else 1

    def set_threads() -> None:
        if torch.get_num_threads() != wanted:
            torch.set_num_threads(wanted)

    return set_threads


def streaming_step(model: Model, contract: Any, feeds: dict[str, Any]) -> Callable[[], None]:
    """One step of a stream: `x` of one step in, the final states fed back as the next
    call's initial states (as a caller serving live input does)."""
    prepare, call = model
    state_in = list(contract.state_inputs)
    state_at = [contract.output_names.index(o) for o in contract.state_outputs]
    current = dict(feeds)

    def step() -> None:
        outputs = call(prepare(current))
        for name, index in zip(state_in, state_at, strict=True):
            current[name] = _as_numpy(outputs[index])

    return step


def _as_numpy(value: Any) -> Any:
    return value.numpy() if hasattr(value, "numpy") else value
