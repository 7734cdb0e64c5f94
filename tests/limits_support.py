"""What the attack suites share: the one-line failure check, strict JSON, sparse files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TINY = ("--data", "sine", "--samples", "64", "--seq-len", "8", "--batch-size", "16")


GiB = 1 << 30


def fails(result: Any, *fragments: str, code: int = 1) -> str:
    """The one `Error:` line of a failed command, checked to hold each fragment."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return str(lines[0])


def strict(text: str) -> Any:
    """`json.loads` that refuses NaN and Infinity, as `jq` does."""

    def refuse(name: str) -> Any:
        raise AssertionError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def sparse(path: Path, size: int, head: bytes = b"") -> Path:
    """A file of `size` bytes that takes no disk: `head`, then a hole."""
    with path.open("wb") as f:
        f.write(head)
        f.truncate(size)
    return path
