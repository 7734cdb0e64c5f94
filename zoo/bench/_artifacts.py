"""Models and exported artifacts the benchmark sections share, exported once per run.

Artifacts come from zoo's own exporters (`Exporter.export` on an `ExportJob`, the code
`zoo export` runs, without re-running parity, which the test suite proves) and load in the
runtime each format targets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The benchmark's sizes: each architecture's defaults, and the large one.
SIZES: dict[str, dict[str, Any]] = {
    "default": {},
    "2x256": {"hidden_size": 256, "num_layers": 2},
    "2x32": {"hidden_size": 32, "num_layers": 2},  # tiny mode's stand-in for 2x256
}


@dataclass
class Artifacts:
    """A per-run cache of seeded models and their exported files under `workdir`."""

    workdir: Path
    legacy_onnx: bool = False  # tiny mode: the quicker TorchScript-based ONNX route
    _sources: dict[tuple[str, str], Any] = field(default_factory=dict)
    _paths: dict[tuple[str, str, str], Path] = field(default_factory=dict)
    _app: Any = None

    def app(self) -> Any:
        if self._app is None:
            from zoo.catalog._session import App

            self._app = App()
        return self._app

    def source(self, arch: str, size: str) -> Any:
        """The seeded eager model (seed 0, as `zoo export` uses) for `arch` at `size`."""
        key = (arch, size)
        if key not in self._sources:
            from zoo.catalog._source import from_name

            self._sources[key] = from_name(self.app(), arch, SIZES[size] or None)
        return self._sources[key]

    def path(self, arch: str, size: str, exporter: str) -> Path:
        """The artifact of `exporter` for the model, exported on first use."""
        key = (arch, size, exporter)
        if key not in self._paths:
            from zoo.export._job import ExportJob

            spec = self.app().plugins.exporter(exporter)
            folder = self.workdir / "artifacts"
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{arch}-{size}{spec.suffix}"
            job = ExportJob(
                self.source(arch, size), target, legacy=self.legacy_onnx, exporter=exporter
            )
            spec.export(job)
            self._paths[key] = target
        return self._paths[key]
