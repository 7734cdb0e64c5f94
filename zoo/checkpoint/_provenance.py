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
    """A checkpoint directory, pinned as a whole by its digest (zoo.checkpoint._format's
    `checkpoint_digest`: config.json and weights together)."""

    path: Path
    digest: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "checkpoint", "digest": self.digest, "path": str(self.path)}

    def describe(self) -> str:
        return f"checkpoint {self.path} digest {self.digest[:12]}"


Weights = RandomWeights | CheckpointWeights


def weights_from_dict(data: object) -> Weights:
    """The provenance `to_dict` wrote; a ZooError naming the problem for anything else."""
    if isinstance(data, dict) and data.get("kind") == "random":
        seed = data.get("seed")
        if isinstance(seed, int) and not isinstance(seed, bool):
            return RandomWeights(seed)
    if isinstance(data, dict) and data.get("kind") == "checkpoint":
        # `sha256` (the weights alone) is what zoo recorded before it pinned whole checkpoints;
        # it never equals a digest, so such an artifact is refused as from another checkpoint.
        digest, path = data.get("digest", data.get("sha256")), data.get("path")
        if isinstance(digest, str) and isinstance(path, str):
            return CheckpointWeights(Path(path), digest)
    raise ZooError(
        f"Malformed weights provenance {data!r}: expected {{'kind': 'random', 'seed': N}} "
        "or {'kind': 'checkpoint', 'digest': ..., 'path': ...}."
    )
