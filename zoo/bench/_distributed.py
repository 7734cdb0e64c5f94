"""Training samples/s of `zoo train` in 1 process and in N processes (`--nproc N`, gloo).

    python -m zoo.bench._distributed [--nproc 2] [--rounds 3] [--epochs 3]

For each setting (the default LSTM at batch 64, a wider one at batch 256) it runs, in turn
and `--rounds` times so that machine noise hits every mode alike:

- 1 process with torch's default threads (one per core),
- 1 process with 1 thread (what each of the N processes gets on a machine with N cores),
- N processes through `zoo train --nproc N` (zoo gives each cores / N threads).

A run's rate is the median of its epochs' samples/s (metrics.json) after the first (warm-up);
the table shows the median over rounds and the range. Same data, seed and global batch in
every mode.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SETTINGS = {
    "lstm hidden 20, batch 64": ["--batch-size", "64"],
    "lstm hidden 128, batch 256": ["--batch-size", "256", "--set", "hidden_size=128"],
}


def run(args: list[str], nproc: int, threads: int | None, epochs: int) -> float:
    env = {**os.environ, "ZOO_LOAD_PLUGINS": ""}
    env.pop("OMP_NUM_THREADS", None)
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        command = [sys.executable, "-m", "zoo", "train", "lstm", "--data", "sine", *args]
        command += ["--epochs", str(epochs), "--out", str(out)]
        if nproc > 1:
            command += ["--nproc", str(nproc)]
        subprocess.run(command, env=env, check=True, capture_output=True)
        epochs_run = json.loads((out / "metrics.json").read_text())["epochs"]
    return float(statistics.median(e["samples_per_s"] for e in epochs_run[1:]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    options = parser.parse_args()
    modes = {
        "1 process, default threads": (1, None),
        "1 process, 1 thread": (1, 1),
        f"{options.nproc} processes": (options.nproc, None),
    }
    rates: dict[tuple[str, str], list[float]] = {}
    for _ in range(options.rounds):
        for setting, args in SETTINGS.items():
            for mode, (nproc, threads) in modes.items():
                rate = run(args, nproc, threads, options.epochs)
                rates.setdefault((setting, mode), []).append(rate)
                print(f"{setting:28} {mode:28} {rate:10,.0f}", file=sys.stderr)
    cores = len(os.sched_getaffinity(0))
    print(f"\n{cores} cores; samples/s, median (min-max) of {options.rounds} rounds\n")
    print("| setting | " + " | ".join(modes) + " |")
    print("| --- |" + " --- |" * len(modes))
    for setting in SETTINGS:
        cells = [_cell(rates[(setting, mode)]) for mode in modes]
        print(f"| {setting} | " + " | ".join(cells) + " |")


def _cell(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"


if __name__ == "__main__":
    main()
