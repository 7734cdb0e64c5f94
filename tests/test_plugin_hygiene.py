"""Broken third-party plugins, end to end through the `zoo` command: each fault is named,
the rest of zoo keeps working, and ZOO_STRICT_PLUGINS=1 makes it a non-zero exit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import zoo

FAULTS = {
    "raises-on-import": "raise RuntimeError('missing native library')\n",
    "hook-raises": """
        import zoo

        @zoo.hookimpl
        def register_architectures(register):
            raise ValueError('bad plugin state')
    """,
    "malformed-spec": """
        import zoo

        @zoo.hookimpl
        def register_architectures(register):
            register(zoo.Architecture(name='Broken Name', build=print, defaults={}))
    """,
    "unknown-hook": """
        import zoo

        @zoo.hookimpl
        def register_architecturez(register):
            pass
    """,
}
EXPECTED = {
    "raises-on-import": "failed to import 'zootest_fault': RuntimeError: missing native library",
    "hook-raises": "hook register_architectures raised ValueError: bad plugin state",
    "malformed-spec": "malformed spec 'Broken Name'",
    "unknown-hook": "implements unknown hook 'register_architecturez'",
}


def _install(site: Path, source: str) -> None:
    (site / "zootest_fault.py").write_text(textwrap.dedent(source))
    info = site / "zoo_fault-0.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: zoo-fault\nVersion: 0.3\n")
    (info / "entry_points.txt").write_text("[zoo]\nfault = zootest_fault\n")


def _zoo(site: Path, *args: str, strict: bool = False) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}
    env["PYTHONPATH"] = str(site)
    if strict:
        env["ZOO_STRICT_PLUGINS"] = "1"
    code = "import sys; from zoo.cli import main; main(sys.argv[1:])"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env
    )


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_is_named_and_zoo_keeps_working(fault: str, tmp_path: Path) -> None:
    _install(tmp_path, FAULTS[fault])
    result = _zoo(tmp_path, "list")
    assert result.returncode == 0, result.stderr
    assert "lstm" in result.stdout and "bilstm" in result.stdout
    warning = next(line for line in result.stderr.splitlines() if line.startswith("warning: "))
    assert "Plugin 'fault" in warning and EXPECTED[fault] in warning
    if fault in ("raises-on-import", "unknown-hook"):
        assert "distribution zoo-fault" in warning
    assert "Traceback" not in result.stderr

    strict = _zoo(tmp_path, "list", strict=True)
    assert strict.returncode == 1
    assert strict.stderr.startswith("Error: Plugin 'fault") and EXPECTED[fault] in strict.stderr
    assert "Traceback" not in strict.stderr


def test_load_plugins_empty_skips_a_broken_plugin(tmp_path: Path) -> None:
    _install(tmp_path, FAULTS["raises-on-import"])
    env_run = subprocess.run(
        [sys.executable, "-c", "import sys; from zoo.cli import main; main(['list'])"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path), "ZOO_LOAD_PLUGINS": ""},
    )
    assert env_run.returncode == 0 and env_run.stderr == ""


def test_a_model_violating_the_contract_is_named_at_export(make_plugins: Any, invoke: Any) -> None:
    from zoo.nn._models import build_recurrent

    def build(**config: Any) -> Any:
        import torch

        class Wrong(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.inner = build_recurrent("rnn", False, **config)

            def forward(self, x: Any, h0: Any = None) -> Any:
                return self.inner(x, h0)[:2]  # forgets h_n

        return Wrong()

    class Plugin:
        @zoo.hookimpl
        def register_architectures(self, register: Any) -> None:
            defaults = {"input_size": 3, "hidden_size": 4, "num_layers": 1, "output_size": 1}
            register(zoo.Architecture(name="wrong", build=build, defaults=defaults))

    result = invoke("export", "wrong", "--onnx", cli_plugins=make_plugins(Plugin()))
    assert result.exit_code == 1
    assert "Error: Plugin 'test-plugin-0': forward of 'wrong'" in result.output
    assert "must return a tuple (y, hidden, h_n); got tuple of 2" in result.output


def test_plugin_commands_do_not_import_torch_at_startup() -> None:
    code = (
        "import sys\nimport zoo\nzoo.load_plugins()\n"
        "heavy = ('torch', 'onnxruntime', 'numpy')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
