"""Section `export`: `zoo export bilstm --onnx` (parity included) against a minimal
hand-written export of the same model, and against the floor of importing torch and
onnxruntime.

The minimal script (`MINIMAL`) is what a user writes without zoo: the same architecture
(built by hand, same seed), `torch.onnx.export` with its defaults, one onnxruntime session
and one comparison with PyTorch at the traced shape. zoo does more for its time: a
contract check, parity on six shapes with and without states (five for bidirectional
models) for every output, the checker's full pass, metadata and an atomic install; the goal
is that all of it costs at most 20% more wall time than the minimal script.
Tiny mode exports `rnn` on the legacy route on both sides, which is quicker to import.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from zoo.bench._report import TIMED_HEADERS, Goal, SectionResult, compare_timed
from zoo.bench._startup import zoo_command
from zoo.bench._timing import child_env, paired_ratio, time_commands

if TYPE_CHECKING:
    from zoo.bench._config import BenchConfig

MINIMAL = '''\
"""Minimal hand-written export (zoo bench): the model, torch.onnx.export, one ORT check."""
import sys

import numpy as np
import onnxruntime as ort
import torch

out, kind, route = sys.argv[1:4]
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
x = torch.randn(2, 7, 10)
states = [torch.zeros(directions, 2, 20) for _ in names[1:]]
torch.onnx.export(model, (x, *states), out, dynamo=route == "dynamo", input_names=names)
session = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
got = session.run(None, dict(zip(names, [x.numpy()] + [s.numpy() for s in states])))
with torch.no_grad():
    expected = model(x, *states)
for actual, wanted in zip(got, expected):
    np.testing.assert_allclose(actual, wanted.numpy(), rtol=1e-4, atol=1e-5)
'''

#: (model, route, repeats, warm-up runs) per mode.
PLANS = {
    "tiny": ("rnn", "legacy", 1, 0),
    "quick": ("bilstm", "dynamo", 3, 1),
    "full": ("bilstm", "dynamo", 7, 1),
}


def run(config: BenchConfig) -> SectionResult:
    model, route, repeats, warmup = PLANS[config.mode]
    folder = config.workdir / "export"
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "minimal_export.py"
    script.write_text(MINIMAL)
    env = child_env({"ZOO_CACHE_DIR": str(config.workdir / "cache")})
    zoo_args = [*zoo_command(), "export", model, "--onnx", "--out", str(folder / "zoo")]
    if route == "legacy":
        zoo_args.append("--legacy")
    floor = "python -c 'import torch, onnxruntime'"
    zoo_case = f"zoo export {model} --onnx" + (" --legacy" if route == "legacy" else "")
    minimal = f"minimal script ({route})"
    commands = {
        floor: ([sys.executable, "-c", "import torch, onnxruntime"], env),
        minimal: (
            [sys.executable, str(script), str(folder / "minimal.onnx"), model, route],
            env,
        ),
        zoo_case: (zoo_args, env),
    }
    times = time_commands(commands, repeats, cwd=folder, warmup=warmup)
    rows, records, ratios = compare_timed(times, minimal)
    floor_ratio = paired_ratio(times[zoo_case], times[floor])
    records.append({"case": f"{zoo_case} vs floor", "ratio": floor_ratio, "baseline": floor})
    return SectionResult(
        "export",
        f"`{zoo_case}` (parity included) vs a minimal script and the import floor",
        TIMED_HEADERS,
        rows,
        records,
        [Goal("export", f"{zoo_case} vs minimal script", 1.2, True, ratios[zoo_case])],
        [
            f"{zoo_case} takes {floor_ratio:.2f}x the floor (`import torch, onnxruntime`)",
            "wall time of whole processes, interleaved; the minimal script checks one shape, "
            "zoo's parity checks six",
        ],
    )
