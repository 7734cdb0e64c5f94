"""The plugin manager factory and the catalogue of what plugins registered.

`load_plugins()` builds a pluggy manager, registers the built-in plugins and then each
third-party entry point of the group ``zoo`` on its own: a plugin that fails to import,
implements an unknown hook, has a bad hook signature, raises in a hook or registers a
malformed spec is recorded as a problem naming it, and everything else keeps working.
``ZOO_STRICT_PLUGINS=1`` makes the first problem fatal; ``ZOO_LOAD_PLUGINS`` limits
third-party loading (unset: all; empty: none; ``a,b``: only those distributions or entry
point names).
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, TypeVar

import pluggy

from zoo import _hooks as hookspecs
from zoo._errors import PluginError, UnknownNameError
from zoo._spec import NAME_RULE, Architecture, Exporter, valid_name
from zoo._version import __version__
from zoo.data._source import DataSource, find_source, source_problems

ENTRY_POINT_GROUP = "zoo"
DISTRIBUTION = "zoo-rnn"
BUILTIN_PLUGINS = (
    "zoo.plugins.recurrent",
    "zoo.data._plugin",
    "zoo.exporters.onnx",
    "zoo.exporters.onnx_int8",
    "zoo.exporters.torchscript",
    "zoo.exporters.pt2",
)

Spec = TypeVar("Spec", Architecture, Exporter, DataSource)


@dataclass
class PluginInfo:
    """Where a registered plugin came from (what `zoo plugins` shows).

    An entry point's distribution name and version are read from its metadata only when
    asked for (`zoo plugins`, error messages): each read parses the distribution's METADATA
    file, which every command would otherwise pay for every installed plugin.
    """

    name: str
    module: str
    builtin: bool
    hooks: list[str] = field(default_factory=list)
    #: The `importlib.metadata.Distribution` of an entry point, read on demand.
    dist: Any = field(default=None, repr=False, compare=False)
    #: Distribution name and version for plugins without `dist` (built-in, in-process).
    known: tuple[str, str] = ("unknown", "?")

    @cached_property
    def distribution(self) -> str:
        return str(self.dist.name) if self.dist is not None else self.known[0]

    @cached_property
    def version(self) -> str:
        return str(self.dist.version) if self.dist is not None else self.known[1]

    @property
    def label(self) -> str:
        """How problems name the plugin: with its distribution unless built in."""
        return self.name if self.builtin else f"{self.name} (distribution {self.distribution})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "module": self.module,
            "distribution": self.distribution,
            "version": self.version,
            "builtin": self.builtin,
            "hooks": self.hooks,
        }


def strict_from_env() -> bool:
    return os.environ.get("ZOO_STRICT_PLUGINS", "").strip() not in ("", "0", "false", "no")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _selected(ep: EntryPoint, allowed: set[str] | None) -> bool:
    if allowed is None:
        return True
    dist = ep.dist.name if ep.dist is not None else ""
    return _normalize(dist) in allowed or _normalize(ep.name) in allowed


class Plugins:
    """A loaded plugin manager and the architectures, exporters and registry files it holds."""

    def __init__(self, pm: pluggy.PluginManager, strict: bool) -> None:
        self.pm = pm
        self.strict = strict
        self.infos: dict[str, PluginInfo] = {}
        self.problems: list[PluginError] = []

    # -- loading ---------------------------------------------------------------------------

    def report(self, problem: PluginError) -> None:
        """Record a plugin problem; fatal in strict mode."""
        if self.strict:
            raise problem
        import logging  # only when there is something to report: keeps `zoo list` light

        logging.getLogger("zoo").warning("%s", problem)
        self.problems.append(problem)

    def add(self, plugin: object, info: PluginInfo) -> None:
        """Register one plugin object, rejecting unknown hooks and bad signatures."""
        try:
            self.pm.register(plugin, name=info.name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            self.report(PluginError(info.label, f"cannot be registered: {exc}"))
            return
        known = set(self.hook_names())
        for caller in self.pm.get_hookcallers(plugin) or []:
            if caller.spec is None:
                self.pm.unregister(plugin)
                self.report(
                    PluginError(
                        info.label,
                        f"implements unknown hook {caller.name!r}. "
                        f"Known hooks: {', '.join(sorted(known))}.",
                    )
                )
                return
            info.hooks.append(caller.name)
        self.infos[info.name] = info

    def hook_names(self) -> list[str]:
        return [name for name in dir(hookspecs) if name.startswith("register_")]

    def load_entry_points(self, selection: str | None) -> None:
        allowed = (
            None
            if selection is None
            else {_normalize(s) for s in selection.split(",") if s.strip()}
        )
        found = list(entry_points(group=ENTRY_POINT_GROUP))
        if allowed:
            known = {_normalize(ep.name) for ep in found}
            known |= {_normalize(ep.dist.name) for ep in found if ep.dist is not None}
            for name in sorted(allowed - known):
                self.report(
                    PluginError(
                        "ZOO_LOAD_PLUGINS",
                        f"selects {name!r}, which no installed plugin is named (installed: "
                        f"{', '.join(sorted(known)) or 'none'}); it loads nothing.",
                    )
                )
        for ep in found:
            if not _selected(ep, allowed):
                continue
            info = PluginInfo(ep.name, ep.value, builtin=False, dist=ep.dist)
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken plugin must not break zoo
                self.report(
                    PluginError(
                        f"{ep.name} (distribution {info.distribution} {info.version})",
                        f"failed to import {ep.value!r}: {type(exc).__name__}: {exc}",
                    )
                )
                continue
            self.add(plugin, info)

    # -- what plugins registered -----------------------------------------------------------

    def _collect(self, hook: str, kind: type[Spec], label: str) -> dict[str, Spec]:
        """Call `hook` on each plugin separately so that a fault is pinned on its plugin."""
        found: dict[str, Spec] = {}
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            plugin: str = impl.plugin_name

            def register(spec: Any, _plugin: str = plugin) -> None:
                if not isinstance(spec, kind):
                    raise PluginError(
                        _plugin, f"registered {spec!r} via {hook}; expected a zoo.{kind.__name__}."
                    )
                _check_spec(spec, _plugin)
                if spec.name in found:
                    raise PluginError(
                        _plugin,
                        f"{label} {spec.name!r} is already registered by plugin "
                        f"{found[spec.name].plugin!r}. Rename one of them.",
                    )
                found[spec.name] = _with_plugin(spec, _plugin)

            try:
                impl.function(register=register)
            except PluginError as exc:
                self.report(exc)
            except Exception as exc:
                self.report(PluginError(plugin, f"hook {hook} raised {type(exc).__name__}: {exc}"))
        return found

    @cached_property
    def architectures(self) -> dict[str, Architecture]:
        return self._collect("register_architectures", Architecture, "architecture")

    @cached_property
    def exporters(self) -> dict[str, Exporter]:
        return self._collect("register_exporters", Exporter, "exporter")

    @cached_property
    def datasets(self) -> dict[str, DataSource]:
        """Registered data sources by name (`--data NAME`); nothing is loaded."""
        return self._collect("register_datasets", DataSource, "data set")

    def dataset(self, name: str) -> DataSource:
        """The data source `name`; a `DataError` with close matches otherwise."""
        return find_source(name, self.datasets)

    @cached_property
    def registry_files(self) -> list[tuple[Path, str]]:
        """Registry files contributed by plugins, with the contributing plugin's name."""
        files: list[tuple[Path, str]] = []
        for impl in self.pm.hook.register_registry_files.get_hookimpls():
            try:
                impl.function(register=lambda p, _n=impl.plugin_name: files.append((Path(p), _n)))
            except Exception as exc:
                self.report(
                    PluginError(impl.plugin_name, f"hook register_registry_files raised {exc!r}")
                )
        return files

    def architecture(self, name: str) -> Architecture:
        try:
            return self.architectures[name]
        except KeyError:
            raise UnknownNameError(
                "architecture", name, self.architectures, "Run `zoo plugins` to see them."
            ) from None

    def exporter(self, name: str) -> Exporter:
        try:
            return self.exporters[name]
        except KeyError:
            raise UnknownNameError(
                "exporter", name, self.exporters, "Run `zoo plugins` to see them."
            ) from None

    def add_commands(self, cli: Any) -> None:
        for impl in self.pm.hook.register_commands.get_hookimpls():
            try:
                impl.function(cli=cli)
            except Exception as exc:
                self.report(PluginError(impl.plugin_name, f"hook register_commands raised {exc!r}"))


def _check_spec(spec: Architecture | Exporter | DataSource, plugin: str) -> None:
    """Reject malformed specs early, with the field at fault (plugin data is untrusted)."""
    values: dict[str, Any] = dict(vars(spec))
    problems: list[str] = []
    name = values["name"]
    if isinstance(spec, DataSource):
        problems += source_problems(spec)
    elif not valid_name(name):
        problems.append(f"name {name!r} must use {NAME_RULE}")
    if isinstance(spec, Architecture):
        problems += _architecture_problems(values)
    elif isinstance(spec, Exporter):
        if not all(callable(values[k]) for k in ("export", "load", "read_metadata")):
            problems.append("export, load and read_metadata must be callable")
        if values["check_untrusted"] is not None and not callable(values["check_untrusted"]):
            problems.append("check_untrusted must be callable or None")
        if not isinstance(values["suffix"], str) or not values["suffix"].startswith("."):
            problems.append(f"suffix {values['suffix']!r} must start with '.'")
    if problems:
        raise PluginError(plugin, f"malformed spec {name!r}: " + "; ".join(problems) + ".")


def _architecture_problems(values: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    defaults, states = values["defaults"], values["states"]
    if not callable(values["build"]):
        problems.append("build must be callable")
    if not isinstance(defaults, dict) or not all(isinstance(k, str) for k in defaults):
        problems.append("defaults must be a dict with str keys")
    elif values["contract"] is None:
        missing = {"input_size", "hidden_size", "num_layers", "output_size"} - set(defaults)
        if missing:
            problems.append(
                f"defaults lack {sorted(missing)}, needed by the standard contract "
                "(or give contract=)"
            )
    if (
        not isinstance(states, tuple)
        or not states
        or not all(isinstance(s, str) and s.isidentifier() for s in states)
    ):
        problems.append(f"states {states!r} must be a non-empty tuple of identifiers")
    if not isinstance(values["supports_lengths"], bool):
        problems.append(f"supports_lengths {values['supports_lengths']!r} must be True or False")
    return problems


def _with_plugin(spec: Spec, plugin: str) -> Spec:
    import dataclasses

    return dataclasses.replace(spec, plugin=plugin)


def load_plugins(
    *,
    builtins: Iterable[str] = BUILTIN_PLUGINS,
    third_party: bool = True,
    strict: bool | None = None,
    extra: Iterable[tuple[str, object]] = (),
) -> Plugins:
    """Build the plugin manager: built-ins, then third-party entry points, then `extra`.

    `extra` registers in-process plugins as `(name, object)` pairs (tests, notebooks).
    """
    pm = pluggy.PluginManager("zoo")
    pm.add_hookspecs(hookspecs)
    plugins = Plugins(pm, strict_from_env() if strict is None else strict)
    for module_name in builtins:
        module = importlib.import_module(module_name)
        info = PluginInfo(module_name, module_name, builtin=True, known=(DISTRIBUTION, __version__))
        plugins.add(module, info)
    if third_party:
        plugins.load_entry_points(os.environ.get("ZOO_LOAD_PLUGINS"))
    for name, obj in extra:
        where = str(getattr(obj, "__name__", type(obj).__name__))
        plugins.add(obj, PluginInfo(name, where, builtin=False, known=("(in-process)", "-")))
    # Collect now (cheap, torch-free) so every problem is known, and fatal if strict, at load.
    _ = plugins.architectures, plugins.exporters, plugins.datasets, plugins.registry_files
    return plugins
