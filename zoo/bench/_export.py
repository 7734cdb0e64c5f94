"""Section `export`: `zoo export bilstm --onnx` (parity included) against the export a user
writes by hand that works, and against the floor of importing torch and onnxruntime.

The hand script (`HAND`) builds the same architecture by hand (same seed), exports it with
`torch.onnx.export(dynamo=False)` and `dynamic_axes` for batch and sequence (the legacy
exporter: a minimal *dynamo* script freezes the sequence length, so it is not what works
by hand), and checks it once in onnxruntime at a shape it did not trace. zoo does more for
its time: a contract check, parity on six shapes with and without states (five for
bidirectional models) for every output, the checker's full pass, metadata and an atomic
install, on its default route (torch's dynamo exporter with zoo's custom ops). The goal: at
most 1.5x the hand script's wall time, measured twice: the graph exported afresh (the first
export of an architecture, config and code: `--no-cache`) and the graph from zoo's cache
with other weights (every later export of that model: `zoo.export.cached_graph`).
`zoo export --legacy` runs beside them for scale. Section `export-steps` shows where the
default route's time goes on both.
Tiny mode exports `rnn` on the legacy route only, which is quicker to import.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from zoo.bench._report import TIMED_HEADERS, Goal, SectionResult, compare_timed
from zoo.bench._startup import zoo_command
from zoo.bench._timing import child_env, median, paired_ratio, time_commands

if TYPE_CHECKING:
    from pathlib import Path

    from zoo.bench._config import BenchConfig

HAND = """\
\"\"\"Working hand-written export (zoo bench): legacy exporter, dynamic axes, one ORT check.\"\"\"
import sys

import numpy as np
import onnxruntime as ort
import torch

out, kind = sys.argv[1:3]
lstm = kind != "rnn"
directions = 2 if kind == "bilstm" else 1
torch.manual_seed(0)


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        cell = torch.nn.LSTM if lstm else torch.nn.RNN
        self.rnn = cell(10, 20, 1, batch_first=True, bidirectional=directions == 2)
        self.head = torch.nn.Linear(directions * 20, 1)

    def forward(self, x, h0, c0=None):
        hidden, state = self.rnn(x, (h0, c0) if lstm else h0)
        h_n = state[0] if lstm else state
        y = self.head(h_n[-directions:].transpose(0, 1).flatten(1))
        return (y, hidden, *state) if lstm else (y, hidden, state)


model = Model().eval()
names = ["x", "h0", "c0"] if lstm else ["x", "h0"]
outputs = ["y", "hidden", "h_n", "c_n"] if lstm else ["y", "hidden", "h_n"]
axes = {"x": {0: "batch", 1: "seq"}, "hidden": {0: "batch", 1: "seq"}, "y": {0: "batch"}}
axes.update({name: {1: "batch"} for name in names[1:] + outputs[2:]})
states = [torch.zeros(directions, 2, 20) for _ in names[1:]]
torch.onnx.export(
    model, (torch.randn(2, 7, 10), *states), out, dynamo=False, input_names=names,
    output_names=outputs, dynamic_axes=axes,
)
session = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
x = torch.randn(3, 33, 10)  # a shape it did not trace
states = [torch.randn(directions, 3, 20) for _ in names[1:]]
got = session.run(None, dict(zip(names, [x.numpy()] + [s.numpy() for s in states])))
with torch.no_grad():
    expected = model(x, *states)
for actual, wanted in zip(got, expected):
    np.testing.assert_allclose(actual, wanted.numpy(), rtol=1e-4, atol=1e-5)
"""

#: (model, route, repeats, warm-up runs) per mode.
PLANS = {
    "tiny": ("rnn", "legacy", 1, 0),
    "quick": ("bilstm", "dynamo", 3, 1),
    "full": ("bilstm", "dynamo", 7, 1),
}
HAND_CASE = "hand script (legacy, dynamic axes, 1 ORT check)"
GOAL = 1.5


def run(config: BenchConfig) -> SectionResult:
    model, route, repeats, warmup = PLANS[config.mode]
    folder = config.workdir / "export"
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "hand_export.py"
    script.write_text(HAND)
    env = child_env({"ZOO_CACHE_DIR": str(folder / "cache")})
    zoo_args = [*zoo_command(), "export", model, "--onnx", "--force", "--out"]
    floor = "python -c 'import torch, onnxruntime'"
    commands = {
        floor: ([sys.executable, "-c", "import torch, onnxruntime"], env),
        HAND_CASE: ([sys.executable, str(script), str(folder / "hand.onnx"), model], env),
    }
    if route == "legacy":
        fresh_case = cached_case = f"zoo export {model} --onnx --legacy"
        commands[fresh_case] = ([*zoo_args, str(folder / "zoo"), "--legacy"], env)
    else:
        fresh_case = f"zoo export {model} --onnx --no-cache (graph exported afresh)"
        cached_case = f"zoo export {model} --onnx --seed 1 (graph from the cache)"
        legacy_case = f"zoo export {model} --onnx --legacy"
        commands[fresh_case] = ([*zoo_args, str(folder / "fresh"), "--no-cache"], env)
        commands[cached_case] = ([*zoo_args, str(folder / "cached"), "--seed", "1"], env)
        commands[legacy_case] = ([*zoo_args, str(folder / "legacy"), "--legacy"], env)
        fill_graph_cache(model, env, folder)
    times = time_commands(commands, repeats, cwd=folder, warmup=warmup)
    rows, records, ratios = compare_timed(times, HAND_CASE)
    floor_ratio = paired_ratio(times[fresh_case], times[floor])
    records.append({"case": f"{fresh_case} vs floor", "ratio": floor_ratio, "baseline": floor})
    goals = [Goal("export", f"{fresh_case} vs hand script", GOAL, True, ratios[fresh_case])]
    if cached_case != fresh_case:
        goals.append(
            Goal("export", f"{cached_case} vs hand script", GOAL, True, ratios[cached_case])
        )
    return SectionResult(
        "export",
        f"`zoo export {model} --onnx` (parity included) vs the working hand script and the "
        "import floor",
        TIMED_HEADERS,
        rows,
        records,
        goals,
        [
            f"{fresh_case} takes {floor_ratio:.2f}x the floor (`import torch, onnxruntime`)",
            "wall time of whole processes, interleaved; the hand script checks one unseen "
            "shape, zoo's parity six; section export-steps shows where the time goes",
            "graph from the cache: an export of seed 0 stored the graph before timing; each "
            "timed run exports seed 1's weights into it (the loop of exporting a retrained "
            "model); a fresh graph is the first export of an architecture, config and code",
        ],
    )


def run_steps(config: BenchConfig) -> SectionResult:
    """Section `export-steps`: the default route's time per step, the graph exported afresh
    and from zoo's cache (see `_export_steps`)."""
    from zoo.bench._export_steps import breakdown, step_rows

    model, route, repeats, _ = PLANS[config.mode]
    folder = config.workdir / "export-steps"
    folder.mkdir(parents=True, exist_ok=True)
    cache = folder / "cache"
    env = child_env({"ZOO_CACHE_DIR": str(cache)})
    args = ["export", model, "--onnx", "--out", str(folder / "out"), "--force"]
    routes = {"fresh": args + (["--legacy"] if route == "legacy" else ["--no-cache"])}
    if route != "legacy":
        fill_graph_cache(model, env, folder)
        routes["cached"] = [*args, "--seed", "1"]
    results = [breakdown(a, env, folder, repeats, name) for name, a in routes.items()]
    records: list[dict[str, Any]] = []
    for name, (steps, walls) in zip(routes, results, strict=True):
        wall = median(walls)
        records += [
            {"case": f"{name}: {step}", "median": seconds, "unit": "s"}
            for step, seconds in steps
            if seconds > 0
        ]
        records.append(
            {"case": f"{name}: whole process", "median": wall, "unit": "s", "runs": len(walls)}
        )
        # how much of the process the timed steps explain (the rest is the `other` row)
        explained = sum(seconds for _, seconds in steps) / wall
        records.append(
            {"case": f"{name}: timed steps", "ratio": explained, "baseline": "whole process"}
        )
    headers = ("STEP", *(ROUTE_HEADERS[name] for name in routes))
    return SectionResult(
        "export-steps",
        f"where `zoo export {model} --onnx` spends its time (medians of {repeats} runs)",
        headers,
        step_rows(results),
        records,
        [],
        [
            "imports are timed one at a time before the command runs, in the order listed; "
            "the other steps wrap the functions the command calls (torch 2.13's private "
            "exporter steps included), so the command itself runs unchanged",
            "fresh: --no-cache, torch's exporter makes the graph; from the cache: --seed 1 "
            "after an export of seed 0 stored the graph (other weights, the same graph)",
        ],
    )


ROUTE_HEADERS = {"fresh": "FRESH GRAPH", "cached": "GRAPH FROM THE CACHE"}


def fill_graph_cache(model: str, env: dict[str, str], folder: Path) -> None:
    """Export `model` (seed 0) once so that zoo's graph cache in `env` holds its graph."""
    import subprocess

    done = subprocess.run(
        [*zoo_command(), "export", model, "--onnx", "-q", "--force", "--out", str(folder / "fill")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        from zoo.bench._timing import BenchError

        raise BenchError(f"filling the graph cache failed: {done.stderr.strip()[-400:]}")
