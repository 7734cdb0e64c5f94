"""The README walkthrough, run as a new user runs it: every ```bash command in order, in one
empty folder, then the Python snippet that loads the exported file.

Run as written, with two honest differences, both here in the open:
- `zoo` and `torchrun` are small wrappers on PATH that run this interpreter's zoo
  (`python -m zoo`, `python -m torch.distributed.run`), not whatever else is installed;
- `zoo train` gets `SHORT_TRAINING` appended (1 epoch of a few short sequences), because the
  README's runs take minutes; `zoo train --recipe` runs as written (a shipped recipe takes
  seconds, and its arguments are the point); everything else (the folders, the names, the order, the
  commands between) is the README's own text.

Commands that cannot run here are skipped, each matched by a pattern and a reason in `SKIP`;
a README line no pattern explains is run, so a new command cannot be skipped silently.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: What every `zoo train` of the walkthrough gets appended (1 epoch, 64 sequences of 8 steps).
SHORT_TRAINING = ("--epochs", "1", "--samples", "64", "--seq-len", "8")

#: README command lines that are not run, and why.
SKIP = {
    r"pip install .*&& ruff check": "installs the test extras and runs this very suite",
    r"^python3 -m pip ": "installs packages (the GPU section's CUDA builds)",
    r"^python3 -c \"import torch, onnxruntime": "the GPU section's check of a CUDA install",
    r"--rdzv-endpoint HOST:": "needs a second machine (HOST is a placeholder)",
}

#: The first line installs zoo, then runs zoo: the install is this test's environment.
INSTALL_PREFIX = re.compile(r"^python3 -m pip install -c constraints\.txt -e \. && ")


def readme_commands() -> tuple[list[str], list[tuple[str, str]]]:
    """The README's ```bash lines in order (continuations joined): (to run, skipped+why)."""
    text = (ROOT / "README.md").read_text()
    run: list[str] = []
    skipped: list[tuple[str, str]] = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = INSTALL_PREFIX.sub("", line.strip())
            if not line or line.startswith("#"):
                continue
            reason = next((why for pattern, why in SKIP.items() if re.search(pattern, line)), "")
            if reason:
                skipped.append((line, reason))
            else:
                run.append(line)
    return run, skipped


def _wrappers(folder: Path) -> Path:
    """`zoo` and `torchrun` scripts that run this interpreter, training shortened."""
    bin_dir = folder / ".bin"
    bin_dir.mkdir()
    short = " ".join(SHORT_TRAINING)
    scripts = {
        "zoo": f'exec {shlex.quote(sys.executable)} -m zoo "$@"',
        "torchrun": f'exec {shlex.quote(sys.executable)} -m torch.distributed.run "$@"',
    }
    for name, command in scripts.items():
        path = bin_dir / name
        # A `train` anywhere in the arguments (torchrun ... -m zoo train) gets SHORT_TRAINING.
        path.write_text(
            "#!/usr/bin/env bash\n"
            'case " $* " in *" --recipe "*) ;; *) '
            'for arg in "$@"; do if [ "$arg" = train ]; then set -- "$@" ' + short + "; break; "
            "fi; done;; esac\n" + command + "\n"
        )
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return bin_dir


def test_every_skipped_readme_command_has_a_reason_and_zoo_commands_run() -> None:
    run, skipped = readme_commands()
    assert run[0] == "zoo export bilstm --onnx"  # the README's first command, after its install
    assert any(line.startswith("zoo train") for line in run)
    assert any(line.startswith("torchrun") for line in run)
    assert {why for _, why in skipped} == set(SKIP.values()), "a SKIP pattern matches nothing"


@pytest.mark.slow
def test_the_readme_walkthrough_runs_in_order_in_an_empty_folder(tmp_path: Path) -> None:
    run, _ = readme_commands()
    env = {
        **os.environ,
        "PATH": f"{_wrappers(tmp_path)}{os.pathsep}{os.environ.get('PATH', '')}",
        "OMP_NUM_THREADS": "1",
        "ZOO_CACHE_DIR": "",
    }
    for line in run:
        done = subprocess.run(
            ["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, f"README command failed: {line}\n{done.stderr[-3000:]}"
    assert (tmp_path / "exports" / "bilstm.onnx.parity.json").is_file()
    assert (tmp_path / "exports" / "lstm-trained.onnx").is_file()
    assert "lstm-sine" in subprocess.run(
        ["bash", "-c", "zoo list --registry zoo-registry.toml"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    pytest.importorskip("onnxruntime")
    snippet = _python_snippet()
    done = subprocess.run(
        [sys.executable, "-c", snippet], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, f"README snippet failed:\n{snippet}\n{done.stderr[-3000:]}"


def _python_snippet() -> str:
    """The README's snippet that loads an exported ONNX file with onnxruntime."""
    text = (ROOT / "README.md").read_text()
    (snippet,) = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "ort." in b]
    return str(snippet)
