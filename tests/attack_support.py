"""What tests/test_attack_concurrency.py runs in other processes (zoo commands started
together at a barrier, a process holding a run folder's lock, scripts that SIGKILL
themselves in the middle of a checkpoint commit), one rank's view of a process group, and
the small helpers its tests share."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import torch

import zoo
from zoo.catalog import _tomlcache as tomlcache

#: Seconds any one subprocess may take before the test fails instead of hanging.
TIMEOUT = 180
#: One thread per process (2 cores here) and no third-party plugins: the races stay races.
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "ZOO_LOAD_PLUGINS": ""}
ZOO = [sys.executable, "-c", "import sys; from zoo.cli import main; main(sys.argv[1:])"]
TINY = (
    "--data", "sine", "--samples", "32", "--seq-len", "6", "--batch-size", "16",
    "--set", "hidden_size=4",
)  # fmt: skip

BARRIER = """
    import sys, time
    from pathlib import Path
    import torch  # the slow import, before the start signal
    from zoo.cli import main

    ready, go = Path(sys.argv[1]), Path(sys.argv[2])
    ready.touch()
    deadline = time.monotonic() + 120
    while not go.exists():
        if time.monotonic() > deadline:
            sys.exit("no start signal")
        time.sleep(0.005)
    main(sys.argv[3:])
"""


def start_together(tmp_path: Path, commands: list[list[str]]) -> list[tuple[int, Any]]:
    """Run `zoo COMMAND` for each command at once; (pid, CompletedProcess) of each."""
    script = tmp_path / "barrier.py"
    script.write_text(textwrap.dedent(BARRIER))
    go = tmp_path / "go"
    started = []
    for i, args in enumerate(commands):
        ready = tmp_path / f"ready-{i}"
        process = subprocess.Popen(
            [sys.executable, str(script), str(ready), str(go), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
        )  # fmt: skip
        started.append((ready, process))
    try:
        deadline = time.monotonic() + TIMEOUT
        while not all(ready.exists() for ready, _ in started):
            failed = [p for _, p in started if p.poll() is not None]
            assert not failed, failed[0].communicate()
            assert time.monotonic() < deadline, "the processes never got ready"
            time.sleep(0.02)
        go.touch()
        results = []
        for _, process in started:
            out, err = process.communicate(timeout=TIMEOUT)
            done = subprocess.CompletedProcess(process.args, process.returncode, out, err)
            results.append((process.pid, done))
        return results
    finally:
        for _, process in started:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=TIMEOUT)


HOLDER = """
    import sys, time
    from pathlib import Path
    out = Path(sys.argv[1])
    sys.argv = ["zoo", "train", "lstm", "--out", str(out)]  # what the lock records
    from zoo.train._run import run_lock
    with run_lock(out):
        print("holding", flush=True)
        time.sleep(120)
"""


def wait_for_line(process: Any, expected: str) -> None:
    ready, _, _ = select.select([process.stdout], [], [], TIMEOUT)
    assert ready, "no answer from the holder"
    assert process.stdout.readline() == expected


class RankView:
    """`zoo.train._distributed.Group` seen from one rank, without a process group: enough
    for `run_training` to take rank `rank`'s path through the run folder."""

    def __init__(self, rank: int, world_size: int) -> None:
        self.rank, self.world_size, self.device = rank, world_size, torch.device("cpu")

    def wrap(self, model: Any) -> Any:
        return model

    def share(self, produce: Any) -> Any:
        return produce() if self.rank == 0 else None

    def all_reduce_sum(self, tensor: Any) -> Any:
        return tensor

    def check_same_weights(self, state: Any) -> None:
        pass


COMMIT = """
    import os, signal, sys
    from pathlib import Path
    import torch
    import zoo
    from zoo.checkpoint._format import save_checkpoint

    out, kill_after = Path(sys.argv[1]), int(sys.argv[2])
    arch = zoo.load_plugins(third_party=False).architecture("lstm")
    config = arch.resolve({"input_size": 1, "output_size": 1, "hidden_size": 4})
    torch.manual_seed(0)
    save_checkpoint(out, arch, config, arch.build(**config), extra={"which": "old"})
    renames = 0

    def killing(real):
        def rename(*args, **kwargs):
            global renames
            real(*args, **kwargs)
            renames += 1
            if renames == kill_after:
                os.kill(os.getpid(), signal.SIGKILL)
        return rename

    os.rename, os.replace = killing(os.rename), killing(os.replace)
    torch.manual_seed(1)
    save_checkpoint(out, arch, config, arch.build(**config), extra={"which": "new"})
    print(renames)
"""


TRAIN_KILL = """
    import os, signal, sys
    from zoo.cli import main

    weights = os.path.abspath(os.path.join(sys.argv[1], "model.safetensors"))
    installed = 0

    def killing(real):
        def rename(src, dst, *args, **kwargs):
            global installed
            real(src, dst, *args, **kwargs)
            if os.path.abspath(dst) == weights:
                installed += 1
                if installed == 2:  # epoch 2's weights are in, its config.json not yet
                    os.kill(os.getpid(), signal.SIGKILL)
        return rename

    os.rename, os.replace = killing(os.rename), killing(os.replace)
    main(sys.argv[2:])
"""


def error_line(output: str) -> str:
    (line,) = [line for line in output.splitlines() if line.startswith("Error: ")]
    return line


def run_script(tmp_path: Path, source: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the Python `source` (one of the scripts above) with `args`, to its end or kill."""
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(source))
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True, text=True, timeout=TIMEOUT, env=ENV,
    )  # fmt: skip


def start_holder(out: Path) -> subprocess.Popen[str]:
    """A process that holds `out`'s run lock (as `zoo train lstm --out OUT`) until killed."""
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLDER), str(out)],
        stdout=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    try:
        wait_for_line(holder, "holding\n")
    except BaseException:
        holder.kill()
        holder.wait(timeout=TIMEOUT)
        raise
    return holder


def train_tiny(invoke: Any, out: Path, *extra: str) -> None:
    result = invoke("train", "lstm", *TINY, "--epochs", "1", "--out", str(out), *extra)
    assert result.exit_code == 0, result.output


def register_tiny(invoke: Any, checkpoint: Path, registry: Path, name: str) -> None:
    result = invoke(
        "register", "--checkpoint", str(checkpoint), "--name", name, "--registry", str(registry)
    )
    assert result.exit_code == 0, result.output


def big_registry(path: Path) -> Path:
    path.write_text(
        "".join(f'[models.m{i:03d}]\narchitecture = "lstm"\ndescription = "entry {i}"\n\n'
                for i in range(400))
    )  # fmt: skip
    assert path.stat().st_size >= tomlcache.MIN_CACHED_BYTES
    return path


def cache_file_of(cache: Path, registry: Path) -> Path:
    """The cache file zoo writes for `registry` (its name is predictable: that is the point)."""
    tomlcache.load_toml(registry)
    (written,) = cache.glob("toml-*.json")
    return written


def seeded_state(arch: zoo.Architecture, config: dict[str, Any], seed: int) -> dict[str, Any]:
    torch.manual_seed(seed)
    state: dict[str, Any] = arch.build(**config).state_dict()
    return state
