"""Shared fixtures: plugin managers built per test, in-process plugins, the CLI runner."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

import zoo
from zoo._manager import Plugins, load_plugins
from zoo.cli import create_cli


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests see only what they set: no user registry, plugin selection or strictness, and
    an empty cache folder of their own (no graph another test exported is reused)."""
    for var in ("ZOO_REGISTRY", "ZOO_LOAD_PLUGINS", "ZOO_STRICT_PLUGINS", "ZOO_DEBUG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path_factory.mktemp("zoo-cache")))


@pytest.fixture
def make_plugins() -> Callable[..., Plugins]:
    """A fresh manager with the built-ins and the given in-process plugins (no entry points)."""

    def make(*extra: object, strict: bool = False, third_party: bool = False) -> Plugins:
        named = [(f"test-plugin-{i}", obj) for i, obj in enumerate(extra)]
        return load_plugins(third_party=third_party, strict=strict, extra=named)

    return make


@pytest.fixture
def plugins(make_plugins: Callable[..., Plugins]) -> Plugins:
    """Built-ins plus every installed third-party plugin (CI installs examples/zoo-gru)."""
    return make_plugins(third_party=True)


@pytest.fixture
def invoke(plugins: Plugins) -> Callable[..., Any]:
    """Run the CLI in-process on the test's plugin manager; returns click's Result."""
    runner = CliRunner()

    def run(*args: str, cli_plugins: Plugins | None = None, **kwargs: Any) -> Any:
        cli: click.Group = create_cli(cli_plugins or plugins)
        return runner.invoke(cli, list(args), catch_exceptions=False, **kwargs)

    return run


@pytest.fixture(scope="module")
def cli() -> Callable[..., Any]:
    """The CLI on built-ins and installed plugins, shared by a module's tests (for module
    fixtures that export once, like `invoke` otherwise); returns click's Result."""
    group = create_cli(zoo.load_plugins(third_party=True))

    def run(*args: str) -> Any:
        return CliRunner().invoke(group, list(args), catch_exceptions=False)

    return run


def architecture_names() -> list[str]:
    return sorted(load_plugins().architectures)


@pytest.fixture(params=architecture_names())
def arch(request: pytest.FixtureRequest, plugins: Plugins) -> zoo.Architecture:
    """Every registered architecture, one test each."""
    return plugins.architectures[request.param]


@pytest.fixture
def fake_distribution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., None]]:
    """Install a tiny third-party plugin distribution on sys.path (entry-point group `zoo`).

    ZOO_LOAD_PLUGINS then selects the installed fakes only, so that plugins installed in the
    environment itself (the example zoo-gru, say) cannot change what a test sees; a test of
    the unset variable deletes it.
    """
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    installed: list[str] = []

    def install(dist: str, module: str, source: str, entry: str | None = None) -> None:
        installed.append(dist)
        monkeypatch.setenv("ZOO_LOAD_PLUGINS", ",".join(installed))
        (site / f"{module}.py").write_text(textwrap.dedent(source))
        info = site / f"{dist.replace('-', '_')}-1.2.3.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
        (info / "entry_points.txt").write_text(f"[zoo]\n{entry or module} = {module}\n")

    yield install
    import sys

    for name in [m for m in sys.modules if m.startswith("zootest_")]:
        del sys.modules[name]


#: A checkpoint trained in about a second: `zoo train lstm` on a few short sine sequences.
TINY = (
    "--data", "sine", "--samples", "32", "--seq-len", "6", "--batch-size", "16",
    "--set", "hidden_size=4", "--epochs", "1",
)  # fmt: skip


@pytest.fixture
def trained(invoke: Callable[..., Any], tmp_path: Path) -> Path:
    """A tiny trained lstm checkpoint in `tmp_path/runs/tiny`."""
    out = tmp_path / "runs" / "tiny"
    result = invoke("train", "lstm", *TINY, "--out", str(out))
    assert result.exit_code == 0, result.output
    return out
