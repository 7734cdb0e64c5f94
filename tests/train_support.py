"""What the training test modules share: a tiny run through the CLI and its metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: A tiny run: 64 sine sequences of 8 steps, hidden 8; a few hundred milliseconds.
TINY = (
    "--data", "sine", "--samples", "64", "--seq-len", "8", "--batch-size", "16",
    "--set", "hidden_size=8", "--lr", "0.01",
)  # fmt: skip


def train_tiny(invoke: Any, out: Path, *args: str, epochs: int = 3) -> Any:
    """`zoo train lstm` on TINY for `epochs` epochs into `out`; it must succeed."""
    result = invoke("train", "lstm", *TINY, "--epochs", str(epochs), "--out", str(out), *args)
    assert result.exit_code == 0, result.output
    return result


def run_metrics(out: Path) -> dict[str, Any]:
    """The run's metrics.json."""
    data: dict[str, Any] = json.loads((out / "metrics.json").read_text())
    return data
