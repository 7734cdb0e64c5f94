"""Checks for architecture authors: one call proves a model follows the forward contract.

    from zoo.testing import check_forward_contract
    def test_gru(): check_forward_contract(my_architecture)

Each check raises `zoo.PluginError` naming the plugin and what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from zoo.errors import PluginError
from zoo.inputs import make_inputs
from zoo.spec import BATCH, SEQ, Architecture

#: (batch, seq) shapes the contract check runs: batch 1, seq 1 and a longer mix.
CONTRACT_SHAPES: tuple[tuple[int, int], ...] = ((1, 1), (1, 9), (3, 1), (4, 13))


def check_forward_contract(
    arch: Architecture,
    overrides: Mapping[str, Any] | None = None,
    shapes: Iterable[tuple[int, int]] = CONTRACT_SHAPES,
) -> None:
    """Build `arch` and run it at several shapes, with and without initial states.

    Checks: the forward takes `x` and the states positionally, returns a tuple in the order
    of the contract's outputs, each with the declared shape, dtype float32 and finite values;
    and without states the result equals the one with zero states.
    """
    import torch

    config = arch.resolve(overrides)
    contract = arch.io(config)
    plugin = arch.plugin or arch.name
    model = arch.build(**config)
    if not isinstance(model, torch.nn.Module):
        raise PluginError(
            plugin, f"build() of {arch.name!r} returned {type(model).__name__}, not nn.Module."
        )
    model.eval()
    for batch, seq in shapes:
        for states in (False, True):
            arrays = make_inputs(contract, batch, seq, states=states)
            args = [torch.from_numpy(arrays[n]) for n in contract.input_names if n in arrays]
            with torch.no_grad():
                outputs = model(*args)
            where = f"{arch.name!r} at batch={batch}, seq={seq}, states={states}"
            _check_outputs(plugin, where, contract.outputs, outputs, batch, seq)
            if not states:
                zeros = [
                    torch.zeros(s.concrete(**{BATCH: batch, SEQ: seq})) for s in contract.inputs[1:]
                ]
                with torch.no_grad():
                    zero_out = model(args[0], *zeros)
                for spec, a, b in zip(contract.outputs, outputs, zero_out, strict=True):
                    if not torch.allclose(a, b, atol=1e-6, rtol=1e-5):
                        raise PluginError(
                            plugin,
                            f"forward of {where}: output {spec.name!r} without states differs "
                            "from zero initial states; states must default to zeros.",
                        )


def _check_outputs(plugin: str, where: str, specs: Any, outputs: Any, batch: int, seq: int) -> None:
    import torch

    names = [s.name for s in specs]
    if not isinstance(outputs, tuple) or len(outputs) != len(names):
        got = (
            f"{type(outputs).__name__} of {len(outputs)}"
            if isinstance(outputs, tuple | list)
            else type(outputs).__name__
        )
        raise PluginError(
            plugin, f"forward of {where} must return a tuple ({', '.join(names)}); got {got}."
        )
    for spec, tensor in zip(specs, outputs, strict=True):
        expected = spec.concrete(**{BATCH: batch, SEQ: seq})
        if not isinstance(tensor, torch.Tensor) or tuple(tensor.shape) != expected:
            shape = (
                tuple(tensor.shape) if isinstance(tensor, torch.Tensor) else type(tensor).__name__
            )
            raise PluginError(
                plugin,
                f"forward of {where}: output {spec.name!r} has shape {shape}, "
                f"the contract says {expected} {spec.describe()}.",
            )
        if tensor.dtype != torch.float32:
            raise PluginError(
                plugin, f"forward of {where}: output {spec.name!r} is {tensor.dtype}, not float32."
            )
        if not torch.isfinite(tensor).all():
            raise PluginError(plugin, f"forward of {where}: output {spec.name!r} has NaN or inf.")
