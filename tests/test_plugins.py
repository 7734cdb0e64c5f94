"""The plugin manager: built-ins, in-process and entry-point plugins, and every kind of fault."""

from __future__ import annotations

from typing import Any

import pytest

import zoo
from zoo.nn._models import build_recurrent


def _gru(name: str = "gru") -> zoo.Architecture:
    return zoo.Architecture(
        name=name,
        description="GRU",
        build=lambda **config: build_recurrent("gru", False, **config),
        defaults={"input_size": 3, "hidden_size": 5, "num_layers": 1, "output_size": 2},
    )


class GruPlugin:
    @zoo.hookimpl
    def register_architectures(self, register: Any) -> None:
        register(_gru())


def test_builtins_register_through_the_hooks(plugins: zoo.Plugins) -> None:
    assert {"rnn", "lstm", "bilstm"} <= set(plugins.architectures)
    assert plugins.architectures["lstm"].plugin == "zoo.plugins.recurrent"
    info = plugins.infos["zoo.plugins.recurrent"]
    assert info.builtin and info.distribution == "zoo-rnn"
    assert info.hooks == ["register_architectures"]
    assert plugins.problems == []


def test_in_process_plugin_adds_an_architecture(make_plugins: Any) -> None:
    plugins = make_plugins(GruPlugin())
    assert plugins.architectures["gru"].plugin == "test-plugin-0"
    assert plugins.problems == []


def test_duplicate_architecture_names_both_plugins(make_plugins: Any) -> None:
    class Clash:
        @zoo.hookimpl
        def register_architectures(self, register: Any) -> None:
            register(_gru("lstm"))

    plugins = make_plugins(Clash())
    assert plugins.architectures["lstm"].plugin == "zoo.plugins.recurrent"
    (problem,) = plugins.problems
    assert "test-plugin-0" in str(problem) and "zoo.plugins.recurrent" in str(problem)
    assert "'lstm' is already registered" in str(problem)
    with pytest.raises(
        zoo.PluginError, match=r"already registered by plugin 'zoo\.plugins\.recurrent'"
    ):
        _ = make_plugins(Clash(), strict=True).architectures


def test_unknown_hook_is_an_error_naming_the_plugin(make_plugins: Any) -> None:
    class Typo:
        @zoo.hookimpl
        def register_architecture(self, register: Any) -> None:  # missing "s"
            raise AssertionError("never called")

    plugins = make_plugins(Typo())
    (problem,) = plugins.problems
    assert "test-plugin-0" in str(problem)
    assert "unknown hook 'register_architecture'" in str(problem)
    assert "test-plugin-0" not in plugins.infos
    with pytest.raises(zoo.PluginError, match="unknown hook"):
        make_plugins(Typo(), strict=True)


def test_bad_hook_signature_is_an_error_naming_the_plugin(make_plugins: Any) -> None:
    class BadArgs:
        @zoo.hookimpl
        def register_architectures(self, register: Any, extra: Any) -> None:
            raise AssertionError("never called")

    plugins = make_plugins(BadArgs())
    (problem,) = plugins.problems
    assert "test-plugin-0" in str(problem) and "extra" in str(problem)
    assert {"rnn", "lstm", "bilstm"} <= set(plugins.architectures)


def test_raising_hook_is_pinned_on_its_plugin_and_others_work(make_plugins: Any) -> None:
    class Raises:
        @zoo.hookimpl
        def register_architectures(self, register: Any) -> None:
            raise RuntimeError("boom")

    plugins = make_plugins(Raises(), GruPlugin())
    assert {"rnn", "lstm", "bilstm", "gru"} <= set(plugins.architectures)
    (problem,) = plugins.problems
    assert "test-plugin-0" in str(problem) and "RuntimeError: boom" in str(problem)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("not a spec", "expected a zoo.Architecture"),
        (zoo.Architecture(name="Bad Name", build=print, defaults={}), "name 'Bad Name'"),
        (zoo.Architecture(name="nobuild", build=None, defaults={}), "build must be callable"),  # type: ignore[arg-type]
        (
            zoo.Architecture(name="nostd", build=print, defaults={"width": 3}),
            "defaults lack ['hidden_size', 'input_size', 'num_layers', 'output_size']",
        ),
        (
            zoo.Architecture(name="nostates", build=print, defaults={}, states=()),
            "must be a non-empty tuple",
        ),
    ],
)
def test_malformed_specs_are_rejected_with_the_field(
    make_plugins: Any, spec: Any, message: str
) -> None:
    class Malformed:
        @zoo.hookimpl
        def register_architectures(self, register: Any) -> None:
            register(spec)

    plugins = make_plugins(Malformed())
    (problem,) = plugins.problems
    assert "test-plugin-0" in str(problem) and message in str(problem)
    assert {"rnn", "lstm", "bilstm"} <= set(plugins.architectures)


GOOD = """
import zoo

@zoo.hookimpl
def register_registry_files(register):
    pass
"""


def test_entry_point_plugins_load_with_their_distribution(
    make_plugins: Any, fake_distribution: Any
) -> None:
    fake_distribution("zoo-good", "zootest_good", GOOD)
    plugins = make_plugins(third_party=True)
    info = plugins.infos["zootest_good"]
    assert (info.distribution, info.version, info.builtin) == ("zoo-good", "1.2.3", False)
    assert info.hooks == ["register_registry_files"]


def test_plugin_failing_import_is_a_warning_naming_its_distribution(
    make_plugins: Any, fake_distribution: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_distribution("zoo-broken", "zootest_broken", "raise ImportError('needs libfoo')")
    fake_distribution("zoo-good", "zootest_good", GOOD)
    plugins = make_plugins(third_party=True)
    (problem,) = plugins.problems
    assert "distribution zoo-broken 1.2.3" in str(problem)
    assert "ImportError: needs libfoo" in str(problem)
    assert "zootest_good" in plugins.infos and "lstm" in plugins.architectures
    with pytest.raises(zoo.PluginError, match="zoo-broken"):
        make_plugins(third_party=True, strict=True)
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
    with pytest.raises(zoo.PluginError, match="zoo-broken"):
        zoo.load_plugins()


@pytest.mark.parametrize(
    ("selection", "loaded"),
    [
        (None, {"zootest_a", "zootest_b"}),
        ("", set()),
        ("zoo-a", {"zootest_a"}),
        ("ZOO_B,x", {"zootest_b"}),
    ],
)
def test_zoo_load_plugins_selects_distributions(
    fake_distribution: Any, monkeypatch: pytest.MonkeyPatch, selection: str | None, loaded: set[str]
) -> None:
    # Plugins installed in the environment itself (say, the example zoo-gru) load too when
    # nothing is selected; the selection must still pick exactly the named ones.
    installed = {n for n, i in zoo.load_plugins().infos.items() if not i.builtin}
    fake_distribution("zoo-a", "zootest_a", GOOD)
    fake_distribution("zoo-b", "zootest_b", GOOD)
    if selection is None:
        monkeypatch.delenv("ZOO_LOAD_PLUGINS")
    else:
        monkeypatch.setenv("ZOO_LOAD_PLUGINS", selection)
    plugins = zoo.load_plugins()
    expected = loaded | installed if selection is None else loaded
    assert {n for n, i in plugins.infos.items() if not i.builtin} == expected
