"""zoo: a plugin-based model zoo for recurrent networks, with export and parity checks.

Plugin authors need only ``import zoo``: ``zoo.hookimpl``, ``zoo.Architecture``,
``zoo.Exporter``. Importing zoo does not import torch.
"""

from zoo._version import __version__
from zoo.errors import (
    CheckpointError,
    ConfigError,
    DataError,
    ExportError,
    InputError,
    ParityError,
    PluginError,
    RegistryError,
    UnknownNameError,
    ZooError,
)
from zoo.hookspecs import hookimpl, hookspec
from zoo.job import ExportJob
from zoo.manager import Plugins, load_plugins
from zoo.registry import ModelEntry, Registry
from zoo.spec import BATCH, LENGTHS, SEQ, Architecture, Exporter, IOContract, TensorSpec

__all__ = [
    "BATCH",
    "LENGTHS",
    "SEQ",
    "Architecture",
    "CheckpointError",
    "ConfigError",
    "DataError",
    "ExportError",
    "ExportJob",
    "Exporter",
    "IOContract",
    "InputError",
    "ModelEntry",
    "ParityError",
    "PluginError",
    "Plugins",
    "Registry",
    "RegistryError",
    "TensorSpec",
    "UnknownNameError",
    "ZooError",
    "__version__",
    "hookimpl",
    "hookspec",
    "load_plugins",
]
