"""zoo: a plugin-based model zoo for recurrent networks, with export and parity checks.

The public API is this package plus four public submodules; everything else (modules and
packages whose names start with ``_``, and the modules inside the other subpackages) is
private and may change in any release:

- ``zoo``: what a plugin registers and raises (``hookimpl``, ``Architecture``,
  ``Exporter``, ``ExportJob``, ``DataSource`` and the data types its loader returns, the I/O
  contract, the errors), the plugin manager and the
  registry. Importing it imports neither torch, onnxruntime nor numpy.
- ``zoo.nn``: model code (``Recurrent``, the lengths pattern; pack/unpack; the built-in
  modules; the export custom ops). Imports torch.
- ``zoo.export``: what exporter plugins call (tracing helpers, onnxruntime sessions).
- ``zoo.testing``: the plugin test kit (``check_architecture``).
- ``zoo.cli``: the ``zoo`` command (``main``, ``create_cli``).
"""

from zoo._contract import BATCH, LENGTHS, SEQ, IOContract, TensorSpec
from zoo._errors import (
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
from zoo._hooks import hookimpl, hookspec
from zoo._manager import Plugins, load_plugins
from zoo._spec import Architecture, Exporter, recurrent_num_params
from zoo._version import __version__
from zoo.catalog._registry import ModelEntry, Registry
from zoo.data._source import DataSource
from zoo.data._spec import DataOptions, Dataset, DataSpec, Scaling, SeriesSplit, Split
from zoo.export._job import ExportJob

__all__ = [
    "BATCH",
    "LENGTHS",
    "SEQ",
    "Architecture",
    "CheckpointError",
    "ConfigError",
    "DataError",
    "DataOptions",
    "DataSource",
    "DataSpec",
    "Dataset",
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
    "Scaling",
    "SeriesSplit",
    "Split",
    "TensorSpec",
    "UnknownNameError",
    "ZooError",
    "__version__",
    "hookimpl",
    "hookspec",
    "load_plugins",
    "recurrent_num_params",
]
