"""zoo-gru: a third-party zoo plugin, written against `import zoo` alone.

It registers a `gru` architecture (nn.GRU, one state `h`, variable-length batches), two
named models (registry.toml)
and an `onnx-ort` exporter (ONNX pre-optimized by onnxruntime). Everything heavy is imported
inside functions, so `zoo list` and `zoo --help` stay free of torch with this plugin installed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import zoo

DEFAULTS: dict[str, Any] = {
    "input_size": 10,
    "hidden_size": 20,
    "num_layers": 1,
    "output_size": 1,
    "dropout": 0.0,
}


def build(**config: Any) -> Any:
    from zoo_gru.model import GRUModel  # torch is imported here, only when building

    return GRUModel(**config)


def num_params(config: Any) -> int:
    """nn.GRU (3 gates) plus the linear head, computed without torch."""
    hidden, inputs, layers = config["hidden_size"], config["input_size"], config["num_layers"]
    total = sum(
        3 * hidden * ((inputs if layer == 0 else hidden) + hidden + 2) for layer in range(layers)
    )
    return total + hidden * config["output_size"] + config["output_size"]


@zoo.hookimpl
def register_architectures(register: Callable[[zoo.Architecture], None]) -> None:
    register(
        zoo.Architecture(
            name="gru",
            description="GRU (nn.GRU) with a linear head on the final state.",
            build=build,
            defaults=DEFAULTS,
            states=("h",),
            num_params=num_params,
            supports_lengths=True,  # the model follows zoo's lengths pattern (model.py)
        )
    )


@zoo.hookimpl
def register_exporters(register: Callable[[zoo.Exporter], None]) -> None:
    from zoo_gru import ort_exporter

    register(ort_exporter.EXPORTER)


@zoo.hookimpl
def register_registry_files(register: Callable[[Path], None]) -> None:
    register(Path(__file__).with_name("registry.toml"))
