"""The forward contract, checked on the eager model: shapes, dtypes, states defaulting to
zeros, and with `lengths` each sequence computing what it computes alone.

`zoo export` runs `check_module` before anything else, so that a plugin's model that breaks
the contract fails with its plugin named; `zoo.testing` offers `check_forward_contract` to
plugin authors. Contract failures raise `zoo.PluginError` naming the plugin.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from zoo._contract import BATCH, LENGTHS, SEQ, IOContract
from zoo._errors import PluginError
from zoo._spec import Architecture
from zoo.parity._check import eager_runner, stream
from zoo.parity._inputs import forward_args, make_inputs

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

    For an architecture with `supports_lengths`, also a padded batch with mixed lengths
    (length 1 and full length among them): every output of each sequence must equal running
    the model on that sequence alone, truncated to its length (same initial states), and
    `hidden` must be exactly zero past each length.

    Where the contract can stream, the `streamable` declaration: a declared streamable
    model must give the same outputs for a stream of chunks as for one full pass.
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
            if arch.supports_lengths:
                _check_lengths(plugin, arch.name, model, arch.io(config, lengths=True), batch, seq)
    if arch.streamable and contract.can_stream:
        _check_streamable(plugin, arch.name, model, contract)


#: The stream the declaration check runs: 24 steps as calls of 1, 7 and 16.
STREAM_CHUNKS = (1, 7, 16)


def _check_streamable(plugin: str, name: str, model: Any, contract: IOContract) -> None:
    """A model declared streamable computes the same for a stream of chunks (each call fed
    the states the previous one returned) as for one full pass."""
    import numpy as np

    arrays = make_inputs(contract, 2, sum(STREAM_CHUNKS), states=True, seed=11)
    runner = eager_runner(model, contract)
    whole, chunked = runner(arrays), stream(runner, contract, arrays, STREAM_CHUNKS)
    for spec in contract.outputs:
        worst = float(np.abs(whole[spec.name] - chunked[spec.name]).max(initial=0.0))
        if worst > 1e-5:
            raise PluginError(
                plugin,
                f"{name!r} declares streamable=True, but a stream of chunks of "
                f"{'+'.join(map(str, STREAM_CHUNKS))} steps with fed-back states differs from "
                f"one full pass (output {spec.name!r}, max abs diff {worst:.3g}). A model that "
                "looks ahead in time is not streamable: register it with streamable=False.",
            )


def _check_lengths(
    plugin: str, name: str, model: Any, contract: IOContract, batch: int, seq: int
) -> None:
    """Each sequence of a padded batch computes what it computes alone, truncated."""
    import numpy as np
    import torch

    for states in (False, True):
        arrays = make_inputs(contract, batch, seq, states=states, seed=batch * 100 + seq)
        lengths = arrays[LENGTHS].tolist()
        where = f"{name!r} at batch={batch}, seq={seq}, states={states}, lengths={lengths}"
        try:
            with torch.no_grad():
                outputs = model(*forward_args(contract, arrays))
        except TypeError as exc:
            raise PluginError(
                plugin,
                f"forward of {where} failed: {exc}. The architecture declares "
                "supports_lengths=True, so forward must take `lengths` after the states.",
            ) from None
        _check_outputs(plugin, where, contract.outputs, outputs, batch, seq)
        for b, length in enumerate(lengths):
            alone = {
                spec.name: _take(arrays[spec.name], spec.shape.index(BATCH), b)
                for spec in contract.state_specs
                if spec.name in arrays
            }
            x_spec = contract.inputs[0]
            x_alone = _take(arrays[x_spec.name], x_spec.shape.index(BATCH), b)
            alone[x_spec.name] = np.ascontiguousarray(
                np.take(x_alone, np.arange(length), axis=x_spec.shape.index(SEQ))
            )
            with torch.no_grad():
                expected = model(*forward_args(contract, alone))
            for spec, got, want in zip(contract.outputs, outputs, expected, strict=True):
                got = got.narrow(spec.shape.index(BATCH), b, 1)
                if SEQ in spec.shape:
                    axis = spec.shape.index(SEQ)
                    padding = got.narrow(axis, length, seq - length)
                    if bool(padding.ne(0).any()):
                        raise PluginError(
                            plugin,
                            f"forward of {where}: output {spec.name!r} of sequence {b} is not "
                            f"zero past its length {length} (max |value| "
                            f"{padding.abs().max().item():.3g}); pad like pad_packed_sequence "
                            "(see zoo.nn.unpack).",
                        )
                    got = got.narrow(axis, 0, length)
                if not torch.allclose(got, want, atol=1e-6, rtol=1e-5):
                    raise PluginError(
                        plugin,
                        f"forward of {where}: output {spec.name!r} of sequence {b} differs from "
                        f"running it alone, truncated to its length {length} (max abs diff "
                        f"{(got - want).abs().max().item():.3g}). Each sequence's states must "
                        "be taken after its own last valid step (run the recurrent module on a "
                        "packed sequence, see zoo.nn.Recurrent).",
                    )


def _take(array: Any, axis: int, index: int) -> Any:
    """`array` restricted to batch entry `index` along `axis`, keeping the axis."""
    import numpy as np

    return np.ascontiguousarray(np.take(array, [index], axis=axis))


def _check_outputs(
    plugin: str, where: str, specs: Any, outputs: Any, batch: int, seq: int, finite: bool = True
) -> None:
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
        if finite and not torch.isfinite(tensor).all():
            raise PluginError(plugin, f"forward of {where}: output {spec.name!r} has NaN or inf.")


def check_module(module: Any, arch: Architecture, config: Mapping[str, Any]) -> None:
    """Run an already built model once (batch 2, seq 3, states given) against the contract.

    What `zoo export` does before anything else, so that a plugin's model that breaks the
    contract fails with its plugin named instead of deep inside an exporter.
    """
    import torch

    contract = arch.io(config)
    arrays = make_inputs(contract, 2, 3, states=True)
    try:
        with torch.no_grad():
            outputs = module(*(torch.from_numpy(arrays[n]) for n in contract.input_names))
    except Exception as exc:
        raise PluginError(
            arch.plugin or arch.name,
            f"forward of {arch.name!r} failed on the contract's inputs "
            f"({', '.join(contract.input_names)}): {type(exc).__name__}: {exc}",
        ) from None
    where = f"{arch.name!r} at batch=2, seq=3, states=True"
    # Structure only: NaN/inf in trained weights is for parity to report, per output.
    _check_outputs(arch.plugin or arch.name, where, contract.outputs, outputs, 2, 3, finite=False)
