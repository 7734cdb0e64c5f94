"""What plugins register: architecture specs and the I/O contract every exporter relies on.

An `Architecture` is a declaration, not a model: it names a builder (which imports torch
only when called), the default config and the I/O contract. Exporters and parity checks work
from the contract alone, so a third-party architecture needs no change to zoo.

The I/O contract itself (`IOContract`, `TensorSpec`) is in zoo._contract.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo._contract import IOContract, recurrent_contract
from zoo._errors import ConfigError, did_you_mean
from zoo._limits import PARAMS

Config = dict[str, Any]

#: The one rule for every name zoo resolves (architectures, exporters, registry entries):
#: they share `zoo export NAME` and become file names. Letters, digits, '-', '_', '.';
#: starting with a letter or digit.
NAME_RULE = "letters, digits, '-', '_' and '.', starting with a letter or digit"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def valid_name(name: object) -> bool:
    """Whether `name` follows `NAME_RULE`."""
    return isinstance(name, str) and _NAME.match(name) is not None


#: fp32 defaults, measured: random-weight exports differ by <= 4e-7, but a trained LSTM
#: (freq-var) reached 2.7e-5 on `hidden` at seq 512: runtimes round differently (ORT's
#: tanh/sigmoid approximations) and a trained recurrence amplifies it over time. 1e-4 keeps
#: ~4x headroom there; a real mistake (one weight off by 0.05) shows as > 5e-3.
#: over the ~1e-7..1e-6 seen for native ONNX ops at seq 600 while catching real mistakes.
DEFAULT_ATOL = 1e-4
DEFAULT_RTOL = 1e-3

#: Config keys with a known meaning and range, checked for every architecture that has them.
_POSITIVE_INT_KEYS = ("input_size", "hidden_size", "num_layers", "output_size")


def recurrent_num_params(config: Mapping[str, Any], gates: int, bidirectional: bool) -> int:
    """Parameters of a torch recurrent stack (`gates` = 1 RNN, 3 GRU, 4 LSTM) plus a linear head."""
    directions = 2 if bidirectional else 1
    hidden, layers = int(config["hidden_size"]), int(config["num_layers"])
    output = int(config["output_size"])

    def per_direction(layer_input: int) -> int:
        return gates * hidden * (layer_input + hidden) + 2 * gates * hidden

    # In closed form (no loop over layers): a config may ask for any number of them.
    first = per_direction(int(config["input_size"]))
    rest = (layers - 1) * per_direction(directions * hidden)
    return directions * (first + rest) + directions * hidden * output + output


@dataclass(frozen=True)
class Architecture:
    """A model family a plugin registers.

    `build(**config)` returns an `nn.Module` following the contract; it must import torch
    itself, so that listing architectures stays free of torch. `defaults` holds every config
    key with its default value (the value's type is the key's type). `states` names the
    recurrent states (`("h",)` for RNN/GRU, `("h", "c")` for LSTM). `contract` and
    `num_params` may be given for models whose config does not use the standard keys
    (input_size, hidden_size, num_layers, output_size).
    """

    name: str
    build: Callable[..., Any]
    defaults: Mapping[str, Any]
    description: str = ""
    states: tuple[str, ...] = ("h",)
    bidirectional: bool = False
    contract: Callable[[Mapping[str, Any]], IOContract] | None = None
    num_params: Callable[[Mapping[str, Any]], int] | None = None
    supports_lengths: bool = False
    #: Calls on chunks of a sequence, each fed the states the previous call returned, equal
    #: one call on the whole sequence (true of recurrent stacks; not of a centered
    #: convolution over time). Parity never assumes it; zoo.testing checks the declaration.
    streamable: bool = True
    plugin: str = field(default="", compare=False)

    def io(self, config: Mapping[str, Any], *, lengths: bool = False) -> IOContract:
        """The I/O contract at `config` (a full config, see `resolve`).

        `lengths=True` adds the `lengths` input; a ConfigError if the architecture does not
        declare `supports_lengths`.
        """
        if self.contract is not None:
            contract = self.contract(config)
        else:
            contract = recurrent_contract(config, self.states, self.bidirectional)
        if not lengths:
            return contract
        if not self.supports_lengths:
            raise ConfigError(
                f"Architecture {self.name!r} (plugin {self.plugin or '?'!r}) does not take a "
                "'lengths' input: its Architecture has supports_lengths=False. Export it "
                "without --lengths, or make its forward accept lengths and register it with "
                "supports_lengths=True (zoo.testing.check_forward_contract checks it)."
            )
        return contract.with_lengths()

    def streaming(self) -> str:
        """Whether a stream of chunks with fed-back states equals one full pass ("yes"), or
        why not: what `zoo info` and the export report say."""
        if self.bidirectional:
            return "no: bidirectional (the backward direction needs the whole sequence)"
        if not self.streamable:
            return "no: declared streamable=False (it looks ahead in time)"
        return "yes"

    def count_params(self, config: Mapping[str, Any]) -> int | None:
        """Parameter count without building the model, where the spec can say it."""
        if self.num_params is None:
            return None
        return self.num_params(config)

    def resolve(self, overrides: Mapping[str, Any] | None = None) -> Config:
        """Defaults updated with `overrides`, every key and value validated."""
        config = dict(self.defaults)
        for key, value in (overrides or {}).items():
            if key not in self.defaults:
                raise ConfigError(_unknown_key(self.name, key, self.defaults))
            config[key] = _coerce(self.name, key, value, self.defaults[key])
        _check_ranges(self.name, config)
        self._check_size(config)
        return config

    def _check_size(self, config: Config) -> None:
        """Refuse a config over `ZOO_MAX_PARAMS` before anything is built. Architectures that
        cannot count their parameters are bounded below by an RNN of the same standard keys."""
        count = self.count_params(config)
        if count is None and all(k in config for k in _POSITIVE_INT_KEYS):
            count = recurrent_num_params(config, gates=1, bidirectional=self.bidirectional)
        if count is None:
            return
        sizes = ", ".join(f"{k}={config[k]}" for k in _POSITIVE_INT_KEYS if k in config)
        PARAMS.check(
            count,
            f"Architecture {self.name!r} at {sizes}",
            "Choose a smaller hidden_size or num_layers",
            ConfigError,
        )


def _unknown_key(arch: str, key: str, defaults: Mapping[str, Any]) -> str:
    message = f"Unknown config key {key!r} for architecture {arch!r}."
    guess = did_you_mean(key, defaults)
    if guess:
        message += f" Did you mean {guess!r}?"
    return message + f" Valid keys: {', '.join(sorted(defaults))}. See `zoo info {arch}`."


def _coerce(arch: str, key: str, value: Any, default: Any) -> Any:
    """`value` converted to the type of `default`, or a ConfigError naming both."""
    expected = type(default)
    ok = (
        isinstance(value, bool)
        if expected is bool
        else isinstance(value, int) and not isinstance(value, bool)
        if expected is int
        else isinstance(value, int | float) and not isinstance(value, bool)
        if expected is float
        else isinstance(value, expected)
    )
    if not ok:
        raise ConfigError(
            f"Config key {key!r} of architecture {arch!r} must be {expected.__name__}, "
            f"got {value!r} ({type(value).__name__})."
        )
    return float(value) if expected is float else value


def _check_ranges(arch: str, config: Mapping[str, Any]) -> None:
    for key in _POSITIVE_INT_KEYS:
        if key in config and config[key] < 1:
            raise ConfigError(
                f"Config key {key!r} of architecture {arch!r} must be a positive integer, "
                f"got {config[key]!r}."
            )
    dropout = config.get("dropout")
    if dropout is not None and not (0.0 <= dropout < 1.0 and math.isfinite(dropout)):
        raise ConfigError(
            f"Config key 'dropout' of architecture {arch!r} must be in [0, 1), got {dropout!r}."
        )
    # zoo's `dropout` is PyTorch's: between stacked recurrent layers. With one layer there is
    # none, and a config recording dropout that never happened would mislead every reader.
    if dropout and config.get("num_layers") == 1:
        raise ConfigError(
            f"Config key 'dropout' of architecture {arch!r} is {dropout!r} but num_layers is 1: "
            "dropout applies between stacked recurrent layers, so it would do nothing. Set "
            "num_layers to 2 or more, or dropout to 0."
        )


@dataclass(frozen=True)
class Exporter:
    """An export format a plugin registers; `zoo.export` drives it.

    - `export(job: zoo.ExportJob) -> dict` writes `job.path` (a temporary file that zoo
      renames into place only after parity passes) and returns facts for the report
      (for example which torch exporter produced it).
    - `load(path) -> runner`: the artifact in its own runtime; `runner(inputs)` maps a dict
      of arrays named as the contract's inputs (float32; states always given; `lengths`
      int64 when the export has it) to a dict of arrays named as its outputs.
    - `read_metadata(path) -> dict[str, str]`: the `zoo.*` metadata `export` embedded, so
      that `zoo verify` can rebuild the reference model.
    - `annotate(path, summary)`: optional; embeds the parity summary after it passed.
    - `atol`/`rtol`: the default parity tolerances for this format.
    - `task_metric`: a lossy format (int8) whose verdict on a trained checkpoint is its
      task metric against fp32 (see `zoo.parity._task_metric`); its elementwise rows then
      only inform.
    - `check_untrusted(path)`: for a format whose loader can run code from the file
      (TorchScript, pickles, pt2): raise a `zoo.ZooError` saying why when `path` cannot be
      opened safely. `zoo verify` calls it before `read_metadata` and `load` unless the user
      passed --trust-code; None means the format never runs code when loaded (ONNX).
    """

    name: str
    suffix: str
    export: Callable[..., Any]
    load: Callable[..., Any]
    read_metadata: Callable[..., Any]
    description: str = ""
    annotate: Callable[..., Any] | None = None
    atol: float = DEFAULT_ATOL
    rtol: float = DEFAULT_RTOL
    task_metric: bool = False
    check_untrusted: Callable[[Path], None] | None = None
    plugin: str = field(default="", compare=False)


def parse_assignments(items: Iterable[str]) -> Config:
    """`["hidden_size=64", "dropout=0.1"]` -> `{"hidden_size": 64, "dropout": 0.1}`.

    Values are TOML literals (`64`, `0.1`, `true`, `"text"`); anything else is a string.
    """
    import tomllib

    parsed: Config = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise ConfigError(f"Expected key=value, got {item!r} (for example hidden_size=64).")
        try:
            parsed[key] = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            parsed[key] = raw.strip()
    return parsed
