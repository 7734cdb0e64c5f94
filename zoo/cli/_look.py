"""`zoo info --checkpoint DIR` and `zoo info FILE`: the text display of what a checkpoint
or an exported artifact holds (zoo.checkpoint._describe, zoo.export._describe read them
without running anything from them)."""

from __future__ import annotations

import json
from typing import Any

import click


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    raise AssertionError


def _line(key: str, value: Any) -> None:
    click.echo(f"  {key:<14}{value}")


def _contract(io: dict[str, Any] | None) -> None:
    if not isinstance(io, dict):
        return
    for section in ("inputs", "outputs"):
        tensors = io.get(section)
        if not isinstance(tensors, dict):
            continue
        click.echo(f"  {section}")
        for name, t in tensors.items():
            dims = ", ".join(str(d) for d in t.get("shape", []))
            click.echo(f"    {name:<8}({dims}) {t.get('dtype', '')}")


def _config(config: dict[str, Any]) -> None:
    click.echo("  config")
    for key, value in config.items():
        click.echo(f"    {key:<14}{value}")


def _metrics(values: Any) -> str:
    if not isinstance(values, dict):
        return str(values)
    return "  ".join(
        f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in values.items()
    )


def show_checkpoint(data: dict[str, Any]) -> None:
    """Print `describe_checkpoint`'s dict."""
    click.echo(f"{data['path']}: trained {data['architecture']} checkpoint")
    _line("architecture", data["architecture"])
    _line("parameters", f"{data['num_params']:,}")
    _line("size", _size(data["size_bytes"]))
    _line("digest", f"{data['digest']} (config.json and weights)")
    _line("weights", f"sha256 {data['weights_sha256']}")
    _line("task", data["task"] or "-")
    if data["data"]:
        _line("data", ", ".join(f"{k} {json.dumps(v)}" for k, v in data["data"].items()))
    training = data["training"] or {}
    if training:
        _line("training", ", ".join(f"{k} {v}" for k, v in training.items()))
    if data["epochs_trained"] is not None:
        _line("epochs", f"{data['epochs_trained']} trained")
    best = data["best"] or {}
    if best:
        _line("best", f"epoch {best.get('epoch')}: {_metrics(best.get('val'))}")
    _line("zoo", data["zoo_version"] or "-")
    _config(data["config"])
    _contract(data["io"])


def show_artifact(data: dict[str, Any]) -> None:
    """Print `describe_artifact`'s dict."""
    click.echo(f"{data['path']}: {data['format']} artifact of {data['model']}")
    _line("architecture", f"{data['architecture']} (plugin {data['plugin'] or '?'})")
    weights = data["weights"]
    if weights["kind"] == "random":
        _line("weights", f"random, seed {weights['seed']}")
    else:
        _line("weights", f"checkpoint {weights['path']} (digest {weights['digest']})")
    _line("exporter", data["exporter"] or "-")
    _line("size", _size(data["size_bytes"]))
    _line("sha256", data["sha256"])
    _line("made by", f"zoo {data['zoo_version'] or '?'}, torch {data['torch_version'] or '?'}")
    for key, value in data["other_metadata"].items():
        _line(key, value)
    _line("lengths input", "yes" if data["lengths"] else "no")
    parity = data["parity"]
    if isinstance(parity, dict):
        verdict = "passed" if parity.get("passed") else "FAILED"
        errors = {k: v for k, v in (parity.get("max_abs") or {}).items() if v is not None}
        worst = max(errors, key=errors.__getitem__) if errors else None
        _line(
            "parity",
            f"{verdict} at atol {parity.get('atol')} rtol {parity.get('rtol')}, "
            f"{len(parity.get('cases', []))} cases"
            + (f"; largest abs error {errors[worst]:.2e} ({worst})" if worst else ""),
        )
    else:
        _line("parity", "no summary embedded")
    report = data["report"]
    if report:
        verdict = "passed" if report["passed"] else f"FAILED ({report['failed']} checks)"
        _line("report", f"{report['report']}: {verdict}, {report['checks']} checks")
    _config(data["config"])
    _contract(data["io"])
