"""What every benchmark section is given: the mode and a scratch folder with shared artifacts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from zoo.bench._artifacts import Artifacts

MODES = ("tiny", "quick", "full")


@dataclass(frozen=True)
class BenchConfig:
    """What every section gets: the mode, a scratch folder, the shared artifacts."""

    mode: str
    workdir: Path
    artifacts: Artifacts
