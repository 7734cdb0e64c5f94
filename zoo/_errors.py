"""One exception hierarchy for everything zoo reports to a user.

Every message says what went wrong, the bad value, the valid choices and the next step.
The CLI turns a `ZooError` into a one-line error and a non-zero exit; anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from contextvars import ContextVar


class ZooError(Exception):
    """Base class of every error zoo raises on purpose."""


class UnknownNameError(ZooError, KeyError):
    """A model, architecture, exporter or plugin name that is not registered."""

    def __init__(self, kind: str, name: str, choices: Iterable[str], hint: str) -> None:
        self.kind = kind
        self.name = name
        self.choices = sorted(choices)
        super().__init__(unknown_message(kind, name, self.choices, hint))

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class PluginError(ZooError):
    """A plugin failed to load, implemented a hook wrongly or registered something malformed."""

    def __init__(self, plugin: str, message: str) -> None:
        self.plugin = plugin
        super().__init__(f"Plugin {plugin!r}: {message}")


class RegistryError(ZooError):
    """A registry file (TOML) is malformed or inconsistent."""


class ConfigError(ZooError):
    """An architecture config value is unknown or invalid."""


class DataError(ZooError):
    """A data source is unknown or malformed, or does not fit the model."""


class CheckpointError(ZooError):
    """A checkpoint directory is missing, incomplete, corrupt or untrusted."""


class ExportError(ZooError):
    """An exporter could not produce an artifact."""


class InputError(ZooError, ValueError):
    """A tensor given to a model does not fit the contract (e.g. lengths outside [1, seq])."""


class ParityError(ZooError):
    """An artifact does not reproduce the PyTorch model within tolerance."""


def did_you_mean(name: str, choices: Iterable[str]) -> str | None:
    """The closest valid choice to a mistyped name, if any is close enough."""
    import difflib  # only on the error path

    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def unknown_message(kind: str, name: str, choices: list[str], hint: str) -> str:
    """'Unknown model 'lstn'. Did you mean 'lstm'? Run `zoo list`.'"""
    message = f"Unknown {kind} {name!r}."
    guess = did_you_mean(name, choices)
    if guess is not None:
        message += f" Did you mean {guess!r}?"
    elif choices:
        message += f" Valid choices: {', '.join(choices)}."
    return f"{message} {hint}"


_debug: ContextVar[bool] = ContextVar("zoo_debug", default=False)


def debug_enabled() -> bool:
    """Whether to show tracebacks instead of one-line errors: `ZOO_DEBUG` set to anything
    but empty or 0, or inside `debug_mode(True)` (what `zoo --debug` does)."""
    return _debug.get() or os.environ.get("ZOO_DEBUG", "") not in ("", "0")


@contextlib.contextmanager
def debug_mode(on: bool) -> Iterator[None]:
    """Show tracebacks within this block (when `on`), in this thread or task only."""
    token = _debug.set(on or _debug.get())
    try:
        yield
    finally:
        _debug.reset(token)
