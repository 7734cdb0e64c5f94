"""Built-in architectures `rnn`, `lstm` and `bilstm`: torch recurrent stacks with a linear head.

Registered through `register_architectures`, exactly as a third-party plugin would. Torch is
imported only when a model is built.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import zoo

#: The user's example: input 10, hidden 20, one layer, output 1.
DEFAULTS: dict[str, Any] = {
    "input_size": 10,
    "hidden_size": 20,
    "num_layers": 1,
    "output_size": 1,
    "dropout": 0.0,
}

_GATES = {"rnn": 1, "gru": 3, "lstm": 4}


def _build(cell: str, bidirectional: bool, **config: Any) -> Any:
    from zoo.nn import build_recurrent

    return build_recurrent(cell, bidirectional, **config)


def _architecture(name: str, cell: str, bidirectional: bool, description: str) -> zoo.Architecture:
    count: Callable[[Any], int] = partial(
        zoo.recurrent_num_params, gates=_GATES[cell], bidirectional=bidirectional
    )
    return zoo.Architecture(
        name=name,
        description=description,
        build=partial(_build, cell, bidirectional),
        defaults=dict(DEFAULTS),
        states=("h", "c") if cell == "lstm" else ("h",),
        bidirectional=bidirectional,
        num_params=count,
        supports_lengths=True,
    )


@zoo.hookimpl
def register_architectures(register: Callable[[zoo.Architecture], None]) -> None:
    register(
        _architecture(
            "rnn", "rnn", False, "Elman RNN (tanh) with a linear head on the final state."
        )
    )
    register(_architecture("lstm", "lstm", False, "LSTM with a linear head on the final state."))
    register(
        _architecture(
            "bilstm", "lstm", True, "Bidirectional LSTM, head on both directions' final states."
        )
    )
