"""The README opens with the two commands, and .ci/run runs the second one verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    first_block = re.search(r"```(?:bash|sh)?\n(.*?)```", text, re.S)
    assert first_block, "README must open with a code block"
    assert text.index("```") < text.index("\n## "), "the commands come before any section"
    return [line for line in first_block.group(1).splitlines() if line and not line.startswith("#")]


def test_readme_starts_with_exactly_two_commands() -> None:
    commands = _readme_commands()
    assert len(commands) == 2
    assert all("-c constraints.txt" in c for c in commands)


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert _readme_commands()[1] in ci


def test_torch_pin_lives_only_in_constraints() -> None:
    assert "torch==2.13.0" in (ROOT / "constraints.txt").read_text()
    for name in ("README.md", ".ci/run", "pyproject.toml"):
        assert "torch==" not in (ROOT / name).read_text(), name
