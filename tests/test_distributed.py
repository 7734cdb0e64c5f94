"""Training in several processes: torch.distributed with gloo, 2 processes on this machine.

The distributed run trains the single-process run's optimization problem (same global
batches, gradients equal up to the order of floating-point sums), rank 0 alone writes, and
`--resume` under plain torchrun is exact. The GPU paths are in test_gpu.py.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

import zoo
from zoo.checkpoint._train_state import load_train_state, pack_train_state, unpack_train_state
from zoo.data._load import DataOptions, load_dataset
from zoo.train._dist_loop import rank_share
from zoo.train._distributed import World, local_batch, rank_seed, weights_digest
from zoo.train._launch import torchrun_args, without_nproc
from zoo.train._run import model_config, train_model
from zoo.train._settings import TrainSettings

#: Final weights of 2 processes vs 1, after 3 epochs of 5 steps. fp32 all-reduce sums the
#: ranks' gradients in another order than one process's backward; measured max abs
#: difference 6e-8 (weights of order 0.1-1). The tolerance leaves room for other CPUs.
ATOL = 1e-5
RTOL = 1e-5
EPOCHS = 3
#: 65 training sequences in global batches of 16: four full batches, then one sequence,
#: which rank 0 runs while rank 1 runs a stand-in with weight 0.
SAMPLES, SEQ, BATCH, HIDDEN, LR = 65, 8, 16, 8, 0.01
ARGS = (
    "lstm", "--data", "sine", "--samples", str(SAMPLES), "--seq-len", str(SEQ),
    "--batch-size", str(BATCH), "--set", f"hidden_size={HIDDEN}", "--lr", str(LR),
)  # fmt: skip
#: One thread per process: the same arithmetic in every run here, on any machine.
ENV = {**os.environ, "ZOO_LOAD_PLUGINS": "", "OMP_NUM_THREADS": "1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _run(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def torchrun(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Plain torchrun, 2 processes, c10d rendezvous on a free localhost port."""
    endpoint = f"127.0.0.1:{free_port()}"
    launcher = ["-m", "torch.distributed.run", "--nproc-per-node", "2"]
    rendezvous = ["--rdzv-backend", "c10d", "--rdzv-endpoint", endpoint]
    return _run(*launcher, *rendezvous, *args, cwd=cwd, check=check)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One process in-process; 2 processes with `zoo train --nproc 2`; 2 processes with plain
    torchrun, stopped after 2 epochs and resumed."""
    root = tmp_path_factory.mktemp("dist")
    plugins = zoo.load_plugins(third_party=False)
    arch = plugins.architecture("lstm")
    dataset = load_dataset("sine", DataOptions(samples=SAMPLES, seq_len=SEQ), seed=0)
    config = model_config(arch, dict(arch.defaults), {"hidden_size": HIDDEN}, dataset)
    settings = TrainSettings(epochs=EPOCHS, batch_size=BATCH, lr=LR)
    train_model(arch, config, dataset, settings, root / "single", plot=False)
    nproc = _run("-m", "zoo", "train", *ARGS, "--epochs", str(EPOCHS), "--out", "nproc",
                 "--nproc", "2", cwd=root)  # fmt: skip
    torchrun("-m", "zoo", "train", *ARGS, "--epochs", "2", "--out", "resumed", cwd=root)
    resumed = torchrun(
        "-m", "zoo", "train", *ARGS, "--epochs", str(EPOCHS), "--out", "resumed", "--resume",
        cwd=root,
    )  # fmt: skip
    return {"root": root, "nproc": nproc, "resumed": resumed}


def _final(out: Path) -> dict[str, torch.Tensor]:
    return load_train_state(out).model


def test_two_processes_train_what_one_trains(runs: dict[str, Any]) -> None:
    root = runs["root"]
    single, double = _final(root / "single"), _final(root / "nproc")
    assert single.keys() == double.keys()
    for name in single:
        torch.testing.assert_close(double[name], single[name], atol=ATOL, rtol=RTOL)
    best = [load_file(str(root / run / "model.safetensors")) for run in ("single", "nproc")]
    for name in best[0]:
        torch.testing.assert_close(best[1][name], best[0][name], atol=ATOL, rtol=RTOL)
    histories = [json.loads((root / r / "metrics.json").read_text()) for r in ("single", "nproc")]
    assert histories[0]["best_epoch"] == histories[1]["best_epoch"]
    for one, two in zip(histories[0]["epochs"], histories[1]["epochs"], strict=True):
        assert two["train_loss"] == pytest.approx(one["train_loss"], rel=1e-5)
        assert two["val"] == pytest.approx(one["val"], rel=1e-5)


def test_rank_0_alone_writes_each_file_once(runs: dict[str, Any]) -> None:
    out = runs["root"] / "nproc"
    files = {str(p.relative_to(out)) for p in out.rglob("*")} - {"loss.png"}  # matplotlib
    assert files == {
        "config.json",
        "metrics.json",
        "model.safetensors",
        "train_state",
        f"train_state/state-{EPOCHS:04d}.safetensors",
        "train_state/state.json",
    }
    assert not [p for p in out.rglob(".*")], "no partial file left behind"
    metrics = json.loads((out / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == list(range(1, EPOCHS + 1))
    meta = json.loads((out / "config.json").read_text())
    assert meta["training"]["processes"] == 2 and meta["training"]["batch_size"] == BATCH
    run = runs["nproc"]
    stdout = run.stdout.splitlines()
    assert len(stdout) == 2 and stdout[0].endswith("samples/s (2 processes)"), run.stdout
    assert stdout[1].startswith("checkpoint: nproc (sha256 ")
    epoch_lines = [line for line in run.stderr.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in epoch_lines] == [f"{e}/{EPOCHS}" for e in (1, 2, 3)]
    assert "OMP_NUM_THREADS" not in run.stderr  # zoo sets it; torchrun's banner stays away


def test_resume_under_plain_torchrun_is_exact(runs: dict[str, Any]) -> None:
    root = runs["root"]
    assert f"resuming resumed after epoch 2 of {EPOCHS}" in runs["resumed"].stderr
    assert (root / "resumed" / "model.safetensors").read_bytes() == (
        root / "nproc" / "model.safetensors"
    ).read_bytes()
    resumed, straight = _final(root / "resumed"), _final(root / "nproc")
    assert all(torch.equal(resumed[k], straight[k]) for k in straight)
    metrics = json.loads((root / "resumed" / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == list(range(1, EPOCHS + 1))


def test_resume_with_another_number_of_processes(runs: dict[str, Any]) -> None:
    """2 epochs in 1 process, the third in 2: the single-process run's weights."""
    root = runs["root"]
    plugins = zoo.load_plugins(third_party=False)
    arch = plugins.architecture("lstm")
    dataset = load_dataset("sine", DataOptions(samples=SAMPLES, seq_len=SEQ), seed=0)
    config = model_config(arch, dict(arch.defaults), {"hidden_size": HIDDEN}, dataset)
    settings = TrainSettings(epochs=EPOCHS - 1, batch_size=BATCH, lr=LR)
    train_model(arch, config, dataset, settings, root / "switch", plot=False)
    result = _run(
        "-m", "zoo", "train", *ARGS, "--epochs", str(EPOCHS), "--out", "switch", "--resume",
        "--nproc", "2", cwd=root,
    )  # fmt: skip
    assert f"resuming switch after epoch {EPOCHS - 1} of {EPOCHS}" in result.stderr
    switched, single = _final(root / "switch"), _final(root / "single")
    for name in single:
        torch.testing.assert_close(switched[name], single[name], atol=ATOL, rtol=RTOL)


def test_a_failing_rank_is_reported_once_and_nothing_changes(runs: dict[str, Any]) -> None:
    root = runs["root"]
    before = {p: p.read_bytes() for p in (root / "nproc").rglob("*") if p.is_file()}
    result = _run(
        "-m", "zoo", "train", *ARGS, "--epochs", str(EPOCHS), "--out", "nproc", "--resume",
        "--lr", "0.5", "--nproc", "2", cwd=root, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert errors[0] == (
        "Error: --resume: nproc was trained differently: settings.lr: was 0.01, now 0.5. "
        "Resume with the same options (only --epochs may grow), or choose another --out."
    ), result.stderr
    assert errors[1].startswith("Error: zoo train --nproc 2 failed: rank 0 exited with status 1")
    assert len(errors) == 2 and "Traceback" not in result.stderr
    assert before == {p: p.read_bytes() for p in (root / "nproc").rglob("*") if p.is_file()}


GROUP_SCRIPT = """
    import sys
    import torch
    from zoo.train._distributed import PeerFailed, World, process_group
    from zoo._errors import ZooError

    def say(line):  # one write per line: the two processes share the pipe
        sys.stdout.write(line + "\\n")

    world = World.from_env()
    with process_group(world, "cpu") as group:
        payload = group.share(lambda: b"state" * 1000)
        assert payload == b"state" * 1000, payload[:20]
        assert group.share(lambda: None) is None
        assert int(group.all_reduce_sum(torch.tensor(group.rank + 1))) == 3

        def fail():
            raise ZooError("cannot read the state")

        try:
            group.share(fail)
        except PeerFailed:
            say(f"rank {group.rank}: peer failed")
        except ZooError as exc:
            say(f"rank {group.rank}: {exc}")
        same = {"w": torch.arange(6.0)}
        group.check_same_weights(same)
        different = {"w": torch.arange(6.0) + group.rank * 1e-7}
        try:
            group.check_same_weights(different)
        except ZooError as exc:
            say(f"rank {group.rank}: {str(exc).split(' (')[0]}")
"""


def test_group_collectives_and_the_divergence_check(tmp_path: Path) -> None:
    script = tmp_path / "group.py"
    script.write_text(textwrap.dedent(GROUP_SCRIPT))
    result = torchrun(str(script), cwd=tmp_path)
    lines = sorted(result.stdout.splitlines())
    assert lines == [
        "rank 0: The 2 processes ended with different weights",
        "rank 0: cannot read the state",
        "rank 1: The 2 processes ended with different weights",
        "rank 1: peer failed",
    ], result.stdout + result.stderr


@pytest.mark.parametrize(("size", "world"), [(16, 2), (5, 2), (1, 2), (7, 4), (3, 4), (12, 3)])
def test_rank_shares_cover_the_batch_and_average_to_its_mean(size: int, world: int) -> None:
    batch = torch.randperm(100)[:size]
    losses = torch.rand(100, dtype=torch.float64)
    shares = [rank_share(batch, rank, world) for rank in range(world)]
    counted = torch.cat([index[:count] for index, count, _ in shares])
    assert sorted(counted.tolist()) == sorted(batch.tolist())
    assert all(index.numel() >= 1 for index, _, _ in shares)  # every rank runs a step
    # What DDP computes: the average over ranks of each rank's weighted mean loss.
    ddp = sum(weight * float(losses[index].mean()) for index, _, weight in shares) / world
    assert ddp == pytest.approx(float(losses[batch].mean()), rel=1e-12)
    if size % world == 0:
        assert all(weight == 1.0 for _, _, weight in shares)


def test_global_batch_must_divide_by_the_processes(invoke: Any, tmp_path: Path) -> None:
    assert local_batch(64, 4) == 16
    out = str(tmp_path / "x")
    result = invoke("train", *ARGS, "--batch-size", "15", "--nproc", "2", "--out", out)
    assert result.exit_code == 1
    assert (
        "--batch-size 15 is the global batch, split evenly over 2 processes, and 15 is not a "
        "multiple of 2. Choose a multiple of 2 (14 or 16), or another number of processes."
    ) in result.output
    assert not (tmp_path / "x").exists()


def test_nproc_under_torchrun_must_match_it(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in {"RANK": "0", "WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "2"}.items():
        monkeypatch.setenv(key, value)
    result = invoke("train", *ARGS, "--nproc", "3", "--out", str(tmp_path / "x"))
    assert result.exit_code == 2
    assert "--nproc 3, but torchrun started 2 processes on this machine" in result.output


def test_world_from_the_environment() -> None:
    assert World.from_env({}) is None
    env = {"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2"}
    assert World.from_env(env) == World(3, 4, 1, 2)
    assert World.from_env({"RANK": "0", "WORLD_SIZE": "1"}) == World(0, 1, 0, 1)
    with pytest.raises(zoo.ZooError, match="RANK=4 is outside WORLD_SIZE=4"):
        World.from_env({"RANK": "4", "WORLD_SIZE": "4"})


def test_the_launcher_passes_the_command_on_without_nproc() -> None:
    argv = ["--registry", "r.toml", "train", "lstm", "--nproc", "2", "--data", "sine"]
    assert without_nproc(argv) == ["--registry", "r.toml", "train", "lstm", "--data", "sine"]
    assert without_nproc(["train", "lstm", "--nproc=4"]) == ["train", "lstm"]
    assert torchrun_args(["train", "lstm"], 2) == [
        "--standalone", "--nproc-per-node", "2", "--module", "zoo", "train", "lstm",
    ]  # fmt: skip


def test_packed_train_state_round_trips(runs: dict[str, Any]) -> None:
    state = load_train_state(runs["root"] / "single")
    again = unpack_train_state(pack_train_state(state))
    assert pack_train_state(again) == pack_train_state(state)
    assert again.epoch == state.epoch and again.history == state.history
    assert all(torch.equal(again.model[k], v) for k, v in state.model.items())


def test_rank_seeds_and_digests() -> None:
    seeds = {rank_seed(0, epoch, rank) for epoch in (1, 2) for rank in (0, 1)}
    assert len(seeds) == 4 and rank_seed(0, 1, 0) == rank_seed(0, 1, 0)
    weights = {"a": torch.ones(3), "b": torch.zeros(2, dtype=torch.bfloat16)}
    assert weights_digest(weights) == weights_digest({k: v.clone() for k, v in weights.items()})
    assert weights_digest(weights) != weights_digest({**weights, "a": torch.ones(3) * 1.0001})
    assert 0 <= weights_digest(weights) < 2**56


def test_cuda_with_more_processes_than_gpus_is_refused(invoke: Any, tmp_path: Path) -> None:
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    nproc = str(max(2, count + 1))
    out = str(tmp_path / "x")
    result = invoke("train", *ARGS, "--device", "cuda", "--nproc", nproc, "--out", out)
    assert result.exit_code == 1
    assert f"--device cuda --nproc {nproc}: one GPU per process" in result.output
    assert ("Use --device cpu." if count == 0 else f"Pass --nproc {count} or less") in result.output


def test_variable_length_data_trains_the_same_in_two_processes(tmp_path: Path) -> None:
    """Packed sequences (`lengths`) through DDP: each rank's share keeps its own lengths."""
    args = ("lstm", "--data", "freq-var", "--samples", "40", "--seq-len", "12",
            "--batch-size", "8", "--set", "hidden_size=6", "--epochs", "1")  # fmt: skip
    plugins = zoo.load_plugins(third_party=False)
    arch = plugins.architecture("lstm")
    dataset = load_dataset("freq-var", DataOptions(samples=40, seq_len=12), seed=0)
    assert dataset.train.lengths is not None and len(set(dataset.train.lengths)) > 1
    config = model_config(arch, dict(arch.defaults), {"hidden_size": 6}, dataset)
    settings = TrainSettings(epochs=1, batch_size=8)
    train_model(arch, config, dataset, settings, tmp_path / "single", plot=False)
    _run("-m", "zoo", "train", *args, "--out", "nproc", "--nproc", "2", cwd=tmp_path)
    single, double = _final(tmp_path / "single"), _final(tmp_path / "nproc")
    for name in single:
        torch.testing.assert_close(double[name], single[name], atol=ATOL, rtol=RTOL)
