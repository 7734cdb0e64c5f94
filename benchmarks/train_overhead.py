"""Samples/s of `zoo.train` against a minimal hand-written PyTorch loop, same model and data.

    python benchmarks/train_overhead.py [--task sine] [--hidden 20] [--rounds 3] [--epochs 2]
                                        [--threads N]

Both loops train the same architecture on the same arrays with Adam and batch 64; zoo's
also clips gradients, keeps the running loss on the device and validates each epoch (not
timed: the rate is training samples over training time in both). Rounds alternate between
the two so that machine noise hits both alike; the best round of each is reported.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from zoo.data import DataOptions, load_dataset
from zoo.manager import load_plugins
from zoo.train import TrainSettings, model_config, train_model


def minimal_loop(arch, config, dataset, epochs: int, batch: int, lr: float) -> float:
    torch.manual_seed(0)
    model = arch.build(**config)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    x, y = torch.from_numpy(dataset.train.x), torch.from_numpy(dataset.train.y)
    n = x.shape[0]
    loss_fn = torch.nn.MSELoss()
    rates = []
    for _ in range(epochs):
        start = time.perf_counter()
        perm = torch.randperm(n)
        for i in range(0, n, batch):
            idx = perm[i : i + batch]
            opt.zero_grad()
            loss = loss_fn(model(x[idx])[0], y[idx])
            loss.backward()
            opt.step()
        rates.append(n / (time.perf_counter() - start))
    return max(rates)


def zoo_loop(arch, config, dataset, epochs: int, batch: int, lr: float) -> float:
    with tempfile.TemporaryDirectory() as out:
        settings = TrainSettings(epochs=epochs, batch_size=batch, lr=lr)
        result = train_model(arch, config, dataset, settings, Path(out) / "run", plot=False)
    return max(r["samples_per_s"] for r in result.history)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default="sine")
    parser.add_argument("--arch", default="lstm")
    parser.add_argument("--hidden", type=int, default=20)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    arch = load_plugins(third_party=False).architecture(args.arch)
    dataset = load_dataset(args.task, DataOptions(samples=args.samples), seed=0)
    config = model_config(arch, dict(arch.defaults), {"hidden_size": args.hidden}, dataset)
    minimal, ours = [], []
    for _ in range(args.rounds):
        minimal.append(minimal_loop(arch, config, dataset, args.epochs, 64, 3e-3))
        ours.append(zoo_loop(arch, config, dataset, args.epochs, 64, 3e-3))
    best_min, best_zoo = max(minimal), max(ours)
    print(f"{args.arch} hidden {args.hidden} on {args.task}, {torch.get_num_threads()} threads")
    print(f"minimal loop  {best_min:10,.0f} samples/s")
    print(f"zoo.train     {best_zoo:10,.0f} samples/s  ({best_zoo / best_min:.3f}x)")


if __name__ == "__main__":
    main()
