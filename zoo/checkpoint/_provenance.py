"""Where a model's weights come from: seeded random weights, or a checkpoint pinned by the
sha256 of its weights file. Exports record it (`zoo.weights` metadata) so that `zoo verify`
can rebuild the same model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo._errors import ZooError


@dataclass(frozen=True)
class RandomWeights:
    """Deterministic random weights: the architecture built under `torch.manual_seed(seed)`."""

    seed: int

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "random", "seed": self.seed}

    def describe(self) -> str:
        return f"random weights, seed {self.seed}; no checkpoint given"


@dataclass(frozen=True)
class CheckpointWeights:
    """A checkpoint directory's weights, pinned by the sha256 of its weights file."""

    path: Path
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "checkpoint", "sha256": self.sha256, "path": str(self.path)}

    def describe(self) -> str:
        return f"checkpoint {self.path} sha256 {self.sha256[:12]}"


Weights = RandomWeights | CheckpointWeights


def weights_from_dict(data: object) -> Weights:
    """The provenance `to_dict` wrote; a ZooError naming the problem for anything else."""
    if isinstance(data, dict) and data.get("kind") == "random":
        seed = data.get("seed")
        if isinstance(seed, int) and not isinstance(seed, bool):
            return RandomWeights(seed)
    if isinstance(data, dict) and data.get("kind") == "checkpoint":
        sha256, path = data.get("sha256"), data.get("path")
        if isinstance(sha256, str) and isinstance(path, str):
            return CheckpointWeights(Path(path), sha256)
    raise ZooError(
        f"Malformed weights provenance {data!r}: expected {{'kind': 'random', 'seed': N}} "
        "or {'kind': 'checkpoint', 'sha256': ..., 'path': ...}."
    )
