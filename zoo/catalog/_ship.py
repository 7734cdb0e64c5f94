"""Train the shipped models from their recipes and write their registry entries (cards).

A maintainer's tool (`python -m zoo.catalog._ship`, from a source checkout): for each
model in `MODELS` it runs the recipe (`zoo train ... --threads 1 --out zoo/trained/NAME`,
OMP_NUM_THREADS=1), keeps only
config.json and model.safetensors, measures the test metric (`zoo eval`) and the best
baseline on the same split (`zoo baseline`), and prints the `[models.NAME]` tables to
paste into zoo/registry.toml (between the "trained models" markers). Every figure comes
from zoo's own commands; nothing is typed in by hand.

    OMP_NUM_THREADS=1 python -m zoo.catalog._ship [NAME ...] > /tmp/entries.toml
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from zoo.catalog._register import toml_value

ROOT = Path(__file__).resolve().parent.parent.parent
TRAINED = ROOT / "zoo" / "trained"

#: name -> (description, zoo train arguments without --threads/--out)
MODELS: dict[str, tuple[str, list[str]]] = {
    "sunspots-lstm": (
        "LSTM one-step forecast of yearly sunspot activity (window 20).",
        ["lstm", "--data", "statsmodels:sunspots", "--set", "hidden_size=32",
         "--epochs", "150", "--lr", "0.003", "--schedule", "cosine", "--weight-decay", "0.01"],
    ),
    "co2-lstm": (
        "LSTM one-step forecast of weekly Mauna Loa CO2 (window 52).",
        ["lstm", "--data", "statsmodels:co2", "--set", "hidden_size=32", "--epochs", "60",
         "--lr", "0.003", "--schedule", "cosine", "--weight-decay", "0.1"],
    ),
    "gunpoint-bilstm": (
        "Bidirectional LSTM classifier of GunPoint motions (UCR, 150 steps).",
        ["bilstm", "--data", "ucr:GunPoint", "--set", "hidden_size=16", "--epochs", "300",
         "--lr", "0.01", "--batch-size", "8", "--schedule", "cosine", "--weight-decay", "0.01",
         "--seed", "1"],
    ),
    "italypower-lstm": (
        "LSTM classifier of ItalyPowerDemand days (UCR, 24 hourly steps).",
        ["lstm", "--data", "ucr:ItalyPowerDemand", "--set", "hidden_size=16", "--epochs", "100",
         "--lr", "0.01", "--batch-size", "16", "--schedule", "cosine"],
    ),
    "basicmotions-bilstm": (
        "Bidirectional LSTM classifier of BasicMotions (UEA, 6 channels, 100 steps).",
        ["bilstm", "--data", "ucr:BasicMotions", "--set", "hidden_size=16", "--epochs", "60",
         "--lr", "0.01", "--batch-size", "8", "--schedule", "cosine"],
    ),
    "japanesevowels-bilstm": (
        "Bidirectional LSTM classifier of JapaneseVowels speakers (UEA, 12 channels, "
        "7-29 steps: variable length, exported with lengths).",
        ["bilstm", "--data", "ucr:JapaneseVowels", "--set", "hidden_size=16", "--epochs", "40",
         "--lr", "0.01", "--batch-size", "16", "--schedule", "cosine"],
    ),
}  # fmt: skip


def zoo(*args: str) -> Any:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "zoo", *args, "--json"],
        capture_output=True, text=True, check=True, env=env, cwd=ROOT,
    )  # fmt: skip
    return json.loads(out.stdout)


def ship(name: str) -> str:
    description, args = MODELS[name]
    seed = [] if "--seed" in args else ["--seed", "0"]
    recipe = ["train", *args, *seed, "--threads", "1"]
    out = TRAINED / name
    shutil.rmtree(out, ignore_errors=True)
    result = zoo(*recipe, "--out", str(out))
    for extra in out.iterdir():
        if extra.name not in ("config.json", "model.safetensors"):
            shutil.rmtree(extra) if extra.is_dir() else extra.unlink()
    config = json.loads((out / "config.json").read_text())
    data = config["data"]
    evaluation = zoo("eval", "--checkpoint", str(out), "--data", data["source"])
    task = data["task"]
    metric = "accuracy" if task == "classification" else "mse"
    options = ["--window", str(data["seq_len"])] if task == "regression" else []
    measured = zoo("baseline", data["source"], *options)["baselines"]
    pick = max if metric == "accuracy" else min
    baseline = pick(measured, key=lambda b: b["value"])
    import torch

    card = {
        "dataset": data["source"],
        "split": "test",
        "task": task,
        "metric": metric,
        "value": evaluation["metrics"][metric],
        "baseline": baseline["name"],
        "baseline_value": baseline["value"],
        "recipe": recipe,
        "threads": 1,
        "params": sum(v.numel() for v in _weights(out).values()),
        "file_size": (out / "model.safetensors").stat().st_size,
        "torch": str(torch.__version__),
    }
    versus = f"{baseline['name']} {baseline['value']:.6g}"
    epoch = result["best_epoch"]
    print(f"{name}: {metric} {card['value']:.6g} vs {versus} (best epoch {epoch})", file=sys.stderr)
    lines = [
        f"[models.{name}]",
        f"architecture = {toml_value(config['architecture'])}",
        f"description = {toml_value(description)}",
        f'tags = ["trained", {toml_value(task)}]',
        f"config = {toml_value(config['config'])}",
        f'checkpoint = "trained/{name}"',
        f"sha256 = {toml_value(result['digest'])}",
        "",
        f"[models.{name}.card]",
        *(f"{key} = {toml_value(value)}" for key, value in card.items()),
    ]
    return "\n".join(lines) + "\n"


def _weights(path: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(path / "model.safetensors")


if __name__ == "__main__":
    names = sys.argv[1:] or list(MODELS)
    print("\n".join(ship(name) for name in names))
