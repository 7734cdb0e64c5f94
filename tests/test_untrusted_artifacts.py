"""Hostile artifact files run no code: TorchScript files are opened only with --trust-code.

Each payload creates a marker file when it runs. Without --trust-code the command exits 1
with one line saying why, and the marker never appears; with --trust-code the same file
loads and the marker appears, which shows the payload is real and the test can see it run.
"""

from __future__ import annotations

import dataclasses
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import pytest
import torch
from click.testing import CliRunner
from torch import Tensor

import zoo
from zoo.cli import create_cli

REPO = Path(__file__).resolve().parent.parent
ARCHS = sorted(zoo.load_plugins(third_party=True).architectures)
REFUSED = "Verify only files you trust, with --trust-code"


@pytest.fixture(scope="module")
def cli() -> Callable[..., Any]:
    group = create_cli(zoo.load_plugins(third_party=True))

    def run(*args: str) -> Any:
        return CliRunner().invoke(group, list(args), catch_exceptions=False)

    return run


@pytest.fixture(scope="module")
def own(cli: Callable[..., Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """zoo's pt2 and TorchScript exports of every architecture, with and without lengths."""
    out = tmp_path_factory.mktemp("own")
    for arch in ARCHS:
        for lengths in ((), ("--lengths",)):
            folder = str(out / ("lengths" if lengths else "plain"))
            result = cli("export", arch, "--pt2", "--torchscript", "--out", folder, *lengths)
            assert result.exit_code == 0, result.output
    return out


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        root = archive.namelist()[0].split("/")[0]
        return {i.filename[len(root) + 1 :]: archive.read(i) for i in archive.infolist()}


def _refused(result: Any, reason: str) -> None:
    assert result.exit_code == 1, result.output
    (line,) = [x for x in result.output.splitlines() if x.startswith("Error:")]
    assert reason in line and REFUSED in line, line


def _runs_only_with_trust(cli: Callable[..., Any], path: Path, marker: Path, reason: str) -> None:
    """Refused untrusted, the payload unrun; trusted, every parity row passes and it ran."""
    _refused(cli("verify", str(path)), reason)
    assert not marker.exists()
    trusted = cli("verify", str(path), "--trust-code")
    assert trusted.exit_code == 0 and "FAIL" not in trusted.output, trusted.output
    assert marker.exists()


# zoo's own exports ------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("arch", ARCHS)
def test_own_torchscript_verifies_only_with_trust(
    cli: Callable[..., Any], own: Path, arch: str
) -> None:
    path = own / "plain" / f"{arch}.torchscript.pt"
    _refused(cli("verify", str(path)), f"'{path}' is TorchScript, which runs code when loaded")
    trusted = cli("verify", str(path), "--trust-code")
    assert trusted.exit_code == 0 and "FAIL" not in trusted.output, trusted.output


# hostile TorchScript -------------------------------------------------------------------------


class _SetState(torch.nn.Module):
    """A submodule whose __setstate__, which torch.jit.load runs, creates a file."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker

    def forward(self, x: Tensor) -> Tensor:
        return x

    @torch.jit.export
    def __getstate__(self) -> tuple[str, bool]:
        return (self.marker, self.training)

    @torch.jit.export
    def __setstate__(self, state: tuple[str, bool]) -> None:
        self.marker = state[0]
        written = torch.from_file(state[0], shared=True, size=1)  # creates the file
        self.training = state[1] and written.numel() > 0


class _Hostile(torch.nn.Module):
    """zoo's scripted LSTM, unchanged, next to the payload."""

    def __init__(self, inner: torch.jit.ScriptModule, marker: str) -> None:
        super().__init__()
        self.inner = inner
        self.payload = _SetState(marker)

    def forward(
        self,
        x: Tensor,
        h0: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
        c0: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        return self.inner(x, h0, c0)


@pytest.mark.slow
def test_torchscript_setstate_payload_runs_only_with_trust(
    cli: Callable[..., Any], own: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    original = own / "plain" / "lstm.torchscript.pt"
    meta = _members(original)["extra/zoo.json"].decode()
    hostile = torch.jit.script(_Hostile(torch.jit.load(str(original)), str(marker)))
    path = tmp_path / "lstm.torchscript.pt"
    torch.jit.save(hostile, str(path), _extra_files={"zoo.json": meta})
    assert not marker.exists()  # scripting and saving do not run it
    _runs_only_with_trust(cli, path, marker, "is TorchScript, which runs code when loaded")


# the plugin-facing field ---------------------------------------------------------------------


def _exporter_plugin(name: str, check: Any) -> object:
    """A plugin registering the onnx exporter again as NAME, with `check_untrusted=check`."""
    base = zoo.load_plugins().exporter("onnx")
    spec = dataclasses.replace(base, name=name, suffix=f".{name}", check_untrusted=check)

    class Plugin:
        @zoo.hookimpl
        def register_exporters(self, register: Callable[[zoo.Exporter], None]) -> None:
            register(spec)

    return Plugin()


def test_a_check_that_crashes_refuses_and_one_that_is_not_callable_is_malformed(
    tmp_path: Path,
) -> None:
    def crash(path: Path) -> None:
        raise RuntimeError("bug")

    group = create_cli(zoo.load_plugins(extra=[("p", _exporter_plugin("fragile", crash))]))
    path = tmp_path / "m.fragile"
    path.write_bytes(b"")
    result = CliRunner().invoke(group, ["verify", str(path)])
    _refused(result, f"Cannot tell whether '{path}' (fragile) is safe to open: RuntimeError: bug")
    plugins = zoo.load_plugins(extra=[("p", _exporter_plugin("bad", "yes"))])
    assert "check_untrusted must be callable or None" in " ".join(map(str, plugins.problems))
