"""What plugins register: architecture specs and the I/O contract every exporter relies on.

An `Architecture` is a declaration, not a model: it names a builder (which imports torch
only when called), the default config and the I/O contract. Exporters and parity checks work
from the contract alone, so a third-party architecture needs no change to zoo.

The canonical contract (every built-in, and the default for plugins)::

    forward(x, h0=None, c0=None, lengths=None) -> (y, hidden, h_n, c_n)
    x       (batch, seq, input_size)
    h0, c0  (num_layers * directions, batch, hidden_size)      one per state, optional
    lengths (batch,) int64                                     optional, see below
    y       (batch, output_size)                               head on the final state
    hidden  (batch, seq, directions * hidden_size)             top layer, every step
    h_n,c_n (num_layers * directions, batch, hidden_size)      one per state

`lengths` (only for architectures with `supports_lengths=True`, and in an exported
artifact only when the export asked for it): the number of valid steps of each sequence of
a padded batch, each in [1, seq]. Each sequence's `h_n`/`c_n` is its state after its own
last valid step (the backward direction starts there), `hidden` is zero past each length
and `y` reads those states: what PyTorch computes on a packed sequence.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from zoo.errors import ConfigError, did_you_mean

#: Named dynamic axes; exporters declare these names in the graphs they write.
BATCH = "batch"
SEQ = "seq"
#: The optional per-sequence lengths input (int64, one per batch entry).
LENGTHS = "lengths"

Config = dict[str, Any]

#: fp32 defaults, measured: random-weight exports differ by <= 4e-7, but a trained LSTM
#: (freq-var) reached 2.7e-5 on `hidden` at seq 512: runtimes round differently (ORT's
#: tanh/sigmoid approximations) and a trained recurrence amplifies it over time. 1e-4 keeps
#: ~4x headroom there; a real mistake (one weight off by 0.05) shows as > 5e-3.
#: over the ~1e-7..1e-6 seen for native ONNX ops at seq 600 while catching real mistakes.
DEFAULT_ATOL = 1e-4
DEFAULT_RTOL = 1e-3

#: Config keys with a known meaning and range, checked for every architecture that has them.
_POSITIVE_INT_KEYS = ("input_size", "hidden_size", "num_layers", "output_size")


@dataclass(frozen=True)
class TensorSpec:
    """One named tensor of the contract; a `str` dimension is a named dynamic axis."""

    name: str
    shape: tuple[int | str, ...]
    dtype: str = "float32"

    def concrete(self, **axes: int) -> tuple[int, ...]:
        """The shape with each named axis replaced by its size in `axes`."""
        return tuple(axes[d] if isinstance(d, str) else d for d in self.shape)

    def describe(self) -> str:
        """'(batch, seq, 10) float32'"""
        return f"({', '.join(str(d) for d in self.shape)}) {self.dtype}"


@dataclass(frozen=True)
class IOContract:
    """The resolved inputs and outputs of one architecture at one config.

    `inputs[0]` is the sequence input; then the optional initial states, one per name in
    `states` (`h` -> input `h0`, output `h_n`); last, only in a contract made by
    `with_lengths()`, the `lengths` input. `sequence_outputs` are the outputs with a
    per-step `seq` axis at position 1 (what streaming concatenates, and what is zero past
    each length).
    """

    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    states: tuple[str, ...]
    sequence_outputs: tuple[str, ...] = ("hidden",)
    bidirectional: bool = False

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.inputs)

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.outputs)

    @property
    def state_inputs(self) -> tuple[str, ...]:
        return tuple(f"{s}0" for s in self.states)

    @property
    def state_outputs(self) -> tuple[str, ...]:
        return tuple(f"{s}_n" for s in self.states)

    @property
    def state_specs(self) -> tuple[TensorSpec, ...]:
        """The initial-state inputs (`h0`, `c0`), in order."""
        names = set(self.state_inputs)
        return tuple(t for t in self.inputs if t.name in names)

    @property
    def has_lengths(self) -> bool:
        """Whether the contract takes the `lengths` input (see `with_lengths`)."""
        return LENGTHS in self.input_names

    @property
    def streamable(self) -> bool:
        """Whether chunked runs with fed-back states equal one full pass.

        Unidirectional models without `lengths`: a chunk of a padded batch would need each
        sequence's length within the chunk, which the contract does not define.
        """
        return not self.bidirectional and not self.has_lengths

    def with_lengths(self) -> IOContract:
        """This contract plus the last input `lengths` (int64, `(batch,)`); idempotent."""
        if self.has_lengths:
            return self
        return replace(self, inputs=(*self.inputs, TensorSpec(LENGTHS, (BATCH,), "int64")))

    def to_dict(self) -> dict[str, Any]:
        return {
            "input_names": list(self.input_names),
            "output_names": list(self.output_names),
            "inputs": {t.name: {"shape": list(t.shape), "dtype": t.dtype} for t in self.inputs},
            "outputs": {t.name: {"shape": list(t.shape), "dtype": t.dtype} for t in self.outputs},
            "states": list(self.states),
            "sequence_outputs": list(self.sequence_outputs),
            "bidirectional": self.bidirectional,
            "dynamic_axes": [BATCH, SEQ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


def recurrent_contract(
    config: Mapping[str, Any], states: tuple[str, ...], bidirectional: bool
) -> IOContract:
    """The canonical contract, read from the standard config keys."""
    directions = 2 if bidirectional else 1
    hidden = int(config["hidden_size"])
    state_shape: tuple[int | str, ...] = (int(config["num_layers"]) * directions, BATCH, hidden)
    inputs = (
        TensorSpec("x", (BATCH, SEQ, int(config["input_size"]))),
        *(TensorSpec(f"{s}0", state_shape) for s in states),
    )
    outputs = (
        TensorSpec("y", (BATCH, int(config["output_size"]))),
        TensorSpec("hidden", (BATCH, SEQ, directions * hidden)),
        *(TensorSpec(f"{s}_n", state_shape) for s in states),
    )
    return IOContract(inputs, outputs, states, ("hidden",), bidirectional)


def recurrent_num_params(config: Mapping[str, Any], gates: int, bidirectional: bool) -> int:
    """Parameters of a torch recurrent stack (`gates` = 1 RNN, 3 GRU, 4 LSTM) plus a linear head."""
    directions = 2 if bidirectional else 1
    hidden, layers = int(config["hidden_size"]), int(config["num_layers"])
    total = 0
    for layer in range(layers):
        layer_input = int(config["input_size"]) if layer == 0 else directions * hidden
        per_direction = gates * hidden * (layer_input + hidden) + 2 * gates * hidden
        total += directions * per_direction
    return total + directions * hidden * int(config["output_size"]) + int(config["output_size"])


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
        return config


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


@dataclass(frozen=True)
class Exporter:
    """An export format a plugin registers; `zoo.exporting` drives it.

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
      task metric against fp32 (see `zoo.taskcheck`); its elementwise rows then only inform.
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
