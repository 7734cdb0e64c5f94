"""Attacks on files and runs: concurrency, kills and links lose nothing and touch nothing.

- `zoo register` run at once on one registry file: every entry survives (a lock beside it);
- `zoo train` run at once into one `--out`: one trains, the other exits 1 naming the holder
  (pid, host, start, command); a killed holder's lock does not block the next run;
- a kill right after any rename of a checkpoint commit: the folder holds the previous or the
  new complete checkpoint, never a mix;
- links: a registry file that is a link is written through; a planted link in the parse
  cache is never followed or read; checkpoint files linked outside a registry's folder are
  refused, naming the file and its target.

The racing subprocesses import torch first, then wait at a barrier (a file appearing), so
that they really run at once; every wait has a timeout.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
import torch
from attack_support import (
    COMMIT,
    ENV,
    TIMEOUT,
    TINY,
    TRAIN_KILL,
    ZOO,
    RankView,
    big_registry,
    cache_file_of,
    error_line,
    register_tiny,
    run_script,
    seeded_state,
    start_holder,
    start_together,
    train_tiny,
)

import zoo
from zoo._fs import current_umask
from zoo.catalog import _tomlcache as tomlcache
from zoo.catalog._session import App
from zoo.catalog._source import from_name
from zoo.checkpoint._format import (
    STAGING_PREFIX,
    build_from_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from zoo.train._reporter import Reporter

# --- the registry file -------------------------------------------------------------------


@pytest.mark.slow
def test_six_registers_at_once_keep_all_six_entries(invoke: Any, tmp_path: Path) -> None:
    """Before the lock: 2 to 6 of 6 entries lost, each register printing "registered"."""
    folder = tmp_path / "models"
    train_tiny(invoke, folder / "run")
    registry = folder / "models.toml"
    names = [f"model-{i}" for i in range(6)]
    register = ["register", "--checkpoint", str(folder / "run"), "--registry", str(registry)]
    results = start_together(tmp_path, [[*register, "--name", n] for n in names])
    for _, result in results:
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("registered "), result.stdout
    assert sorted(tomllib.loads(registry.read_text())["models"]) == names
    assert sorted(p.name for p in folder.iterdir()) == ["models.toml", "run"]  # no lock left


def test_register_waits_for_the_lock_then_names_its_holder(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zoo._fs import hold_lock
    from zoo.catalog import _register as register

    train_tiny(invoke, tmp_path / "run")
    registry = tmp_path / "models.toml"
    monkeypatch.setattr(register, "LOCK_WAIT_SECONDS", 0.3)
    with hold_lock(register.lock_path(registry)):
        started = time.monotonic()
        result = invoke(
            "register", "--checkpoint", str(tmp_path / "run"), "--name", "x",
            "--registry", str(registry),
        )  # fmt: skip
        waited = time.monotonic() - started
    assert result.exit_code == 1 and waited >= 0.3
    line = error_line(result.output)
    assert str(registry) in line and f"pid {os.getpid()} on {socket.gethostname()}" in line
    assert not registry.exists()
    register_tiny(invoke, tmp_path / "run", registry, "x")  # released: registers at once


def test_register_through_a_link_writes_its_target(invoke: Any, tmp_path: Path) -> None:
    """Before: the link was replaced by a file, and the shared registry never got the entry."""
    shared = tmp_path / "shared"
    train_tiny(invoke, shared / "run")
    target = shared / "models.toml"
    register_tiny(invoke, shared / "run", target, "first")
    link = tmp_path / "my-models.toml"
    link.symlink_to(target)
    register_tiny(invoke, shared / "run", link, "second")
    assert link.is_symlink() and link.resolve() == target
    assert sorted(tomllib.loads(target.read_text())["models"]) == ["first", "second"]
    # Paths in the file are relative to its own folder, read through the link or not.
    app = App(zoo.load_plugins(third_party=False), extra_registries=[link])
    assert from_name(app, "second").weights.digest == read_checkpoint(shared / "run").digest


@pytest.mark.parametrize("linked", ["model.safetensors", "config.json"])
def test_checkpoint_files_linked_outside_the_registry_folder_are_refused(
    invoke: Any, tmp_path: Path, linked: str
) -> None:
    """Before: only the checkpoint folder was resolved, so its files could be links to any
    file (the same bytes pass the sha256; config.json is not hashed at all)."""
    folder = tmp_path / "models"
    run = folder / "run"
    train_tiny(invoke, run)
    registry = folder / "models.toml"
    register_tiny(invoke, run, registry, "tiny")
    outside = tmp_path / "outside" / linked
    outside.parent.mkdir()
    shutil.move(run / linked, outside)
    (run / linked).symlink_to(outside)
    app = App(zoo.load_plugins(third_party=False), extra_registries=[registry])
    with pytest.raises(zoo.ZooError) as raised:
        from_name(app, "tiny")
    message = str(raised.value)
    assert f"{run / linked} links to {outside}" in message and "outside" in message
    assert "\n" not in message and str(registry) in message
    result = invoke(
        "register", "--checkpoint", str(run), "--name", "again", "--registry", str(registry)
    )
    assert result.exit_code == 1 and f"{run / linked} links to {outside}" in result.output
    assert "again" not in registry.read_text()


# --- the parse cache ------------------------------------------------------------------------


@pytest.fixture
def shared_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder anyone may write to (mode 1777, like /tmp), used by a big registry."""
    monkeypatch.setattr(tomlcache, "RACY_NS", 0)
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o1777)
    monkeypatch.setenv("ZOO_CACHE_DIR", str(cache))
    return cache


def test_parse_cache_never_writes_through_a_planted_link(
    tmp_path: Path, shared_cache: Path
) -> None:
    """Before: the temporary had a predictable name (pid), and a link there made `zoo list`
    overwrite the link's target."""
    registry = big_registry(tmp_path / "big.toml")
    cached = cache_file_of(shared_cache, registry)
    cached.unlink()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    cached.symlink_to(victim)
    (shared_cache / f".{cached.name}.{os.getpid()}.tmp").symlink_to(victim)
    truth = tomllib.loads(registry.read_text())
    assert tomlcache.load_toml(registry) == truth
    assert victim.read_text() == "precious\n"
    assert not cached.is_symlink()
    info = cached.stat()
    assert info.st_uid == os.geteuid() and info.st_mode & 0o777 == 0o600
    assert tomlcache.load_toml(registry) == truth  # and the new cache file serves


def test_parse_cache_ignores_a_linked_writable_or_foreigncache_file_of(
    tmp_path: Path, shared_cache: Path
) -> None:
    """A cache file with the right stamp but other data (an empty registry) is used only if
    it is a plain file of this user that nobody else may write."""
    registry = big_registry(tmp_path / "big.toml")
    cached = cache_file_of(shared_cache, registry)
    poisoned = json.dumps({**json.loads(cached.read_text()), "data": {"models": {}}})
    truth = tomllib.loads(registry.read_text())
    elsewhere = tmp_path / "poisoned.json"
    elsewhere.write_text(poisoned)
    plants = {
        "a link": lambda: cached.symlink_to(elsewhere),
        "world-writable": lambda: (cached.write_text(poisoned), cached.chmod(0o666)),
        "group-writable": lambda: (cached.write_text(poisoned), cached.chmod(0o620)),
    }
    if os.geteuid() == 0:  # only root can give a file away
        plants["someone else's"] = lambda: (
            cached.write_text(poisoned),
            cached.chmod(0o600),
            os.chown(cached, 4321, 4321),
        )
    for what, plant in plants.items():
        cached.unlink()
        plant()
        assert tomlcache.load_toml(registry) == truth, what


# --- the run folder --------------------------------------------------------------------------


def test_a_live_holder_blocks_train_and_a_killed_one_does_not(invoke: Any, tmp_path: Path) -> None:
    out = tmp_path / "run"
    holder = start_holder(out)
    try:
        for extra in ((), ("--nproc", "2")):  # --nproc: refused before any process starts
            result = invoke("train", "lstm", *TINY, "--epochs", "1", "--out", str(out), *extra)
            assert result.exit_code == 1, result.output
            line = error_line(result.output)
            assert f"'{out}' is in use by another training run" in line
            assert f"pid {holder.pid} on {socket.gethostname()}, started " in line
            assert f"zoo train lstm --out {out})" in line and "choose another --out" in line
        assert not (out / "config.json").exists()
    finally:
        holder.kill()
        holder.wait(timeout=TIMEOUT)
    assert [p for p in out.iterdir() if p.name.startswith(".")], "the dead holder's lock file"
    train_tiny(invoke, out)  # the kernel released the dead holder's lock
    read_checkpoint(out)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_a_file_system_without_flock_is_a_clear_error(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import fcntl

    def unsupported(*_args: Any) -> None:
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", unsupported)
    out = tmp_path / "run"
    result = invoke("train", "lstm", *TINY, "--epochs", "1", "--out", str(out))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "does not support flock(2)" in error_line(result.output)
    assert not (out / "config.json").exists()


def test_rank_0_holds_the_run_lock_for_the_whole_run(tmp_path: Path) -> None:
    from zoo.data._load import DataOptions, load_dataset
    from zoo.train._run import model_config, run_lock, run_training
    from zoo.train._settings import TrainSettings

    arch = zoo.load_plugins(third_party=False).architecture("lstm")
    dataset = load_dataset("sine", DataOptions(samples=32, seq_len=6), seed=0)
    config = model_config(arch, {}, {"hidden_size": 4}, dataset)
    settings = TrainSettings(epochs=2, batch_size=16)
    out = tmp_path / "run"
    seen: list[str] = []

    class Probe(Reporter):
        def epoch_end(self, epochs: int, record: Any) -> None:
            try:
                with run_lock(out):
                    seen.append("free")
            except zoo.ZooError as exc:
                seen.append(str(exc))

    def train(rank: int, world_size: int, folder: Path, reporter: Reporter) -> Any:
        return run_training(
            arch, config, dataset, settings, folder, name=None, resume=False, plot=False,
            reporter=reporter, group=RankView(rank, world_size),
        )  # fmt: skip

    assert train(0, 1, out, Probe()) is not None
    assert len(seen) == 2 and all(f"pid {os.getpid()} on " in s for s in seen), seen
    with run_lock(out):  # released when the run ended
        pass
    other = tmp_path / "other"
    with run_lock(other):  # rank 1 of 2 neither takes the lock nor writes
        assert train(1, 2, other, Reporter()) is None
    assert not (other / "config.json").exists()


@pytest.mark.slow
def test_two_trains_into_one_folder_one_runs_the_other_names_it(tmp_path: Path) -> None:
    """Before the lock: both passed the start-up check and both exited 0, one model left."""
    out = tmp_path / "run"
    args = ["train", "lstm", *TINY, "--samples", "256", "--epochs", "3", "--out", str(out)]
    results = start_together(tmp_path, [[*args, "--seed", "1"], [*args, "--seed", "2"]])
    assert sorted(r.returncode for _, r in results) == [0, 1], [r.stderr for _, r in results]
    (winner_pid, winner), (_, loser) = sorted(results, key=lambda pr: pr[1].returncode)
    line = error_line(loser.stderr)
    assert f"is in use by another training run (pid {winner_pid} on " in line
    checkpoint = read_checkpoint(out)
    build_from_checkpoint(checkpoint, zoo.load_plugins(third_party=False).architecture("lstm"))
    assert f"sha256 {checkpoint.sha256}" in winner.stdout
    seed = checkpoint.meta["training"]["seed"]
    assert [f"--seed {seed}" in " ".join(r.args) for _, r in results] == [
        r.returncode == 0 for _, r in results
    ]


# --- checkpoint commits ----------------------------------------------------------------------


@pytest.mark.slow
def test_a_kill_after_any_rename_of_a_commit_leaves_a_whole_checkpoint(tmp_path: Path) -> None:
    """Before: a kill between the weights' and config.json's renames left new weights with
    the old config.json, refused as "modified or only partly written"."""
    arch = zoo.load_plugins(third_party=False).architecture("lstm")
    config = arch.resolve({"input_size": 1, "output_size": 1, "hidden_size": 4})
    seen = []
    for kill_after in range(1, 10):
        out = tmp_path / f"killed-{kill_after}"
        result = run_script(tmp_path, COMMIT, str(out), str(kill_after))
        if result.returncode == 0:  # the commit finished first: every rename was a kill point
            assert int(result.stdout) == kill_after - 1
            break
        assert result.returncode == -signal.SIGKILL, result.stderr
        checkpoint = read_checkpoint(out)  # the old or the new one, whole
        which = checkpoint.meta["which"]
        model = build_from_checkpoint(checkpoint, arch)
        expected = seeded_state(arch, config, {"old": 0, "new": 1}[which])
        assert all(torch.equal(v, expected[k]) for k, v in model.state_dict().items())
        seen.append(which)
        leftover = out / f"{STAGING_PREFIX}killed-earlier"  # as a kill before a commit leaves
        leftover.mkdir()
        (leftover / "model.safetensors").write_bytes(b"half")
        save_checkpoint(out, arch, config, expected, extra={"which": "next"})  # the next commit
        assert read_checkpoint(out).meta["which"] == "next"
        assert sorted(p.name for p in out.iterdir()) == ["config.json", "model.safetensors"]
        for file in out.iterdir():  # readable as the umask allows, like any file zoo writes
            assert file.stat().st_mode & 0o777 == 0o666 & ~current_umask()
    else:
        pytest.fail("the commit never finished")
    assert seen and seen[-1] == "new", seen


@pytest.mark.slow
def test_train_killed_right_after_the_weights_rename_keeps_a_whole_checkpoint(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run"
    args = ["train", "lstm", *TINY, "--epochs", "2", "--out", str(out)]
    killed = run_script(tmp_path, TRAIN_KILL, str(out), *args)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    arch = zoo.load_plugins(third_party=False).architecture("lstm")
    checkpoint = read_checkpoint(out)
    assert checkpoint.meta["best"]["epoch"] == 2
    build_from_checkpoint(checkpoint, arch)
    resumed = subprocess.run(
        [*ZOO, *args, "--resume"], capture_output=True, text=True, timeout=TIMEOUT, env=ENV
    )
    assert resumed.returncode == 0, resumed.stderr
    checkpoint = read_checkpoint(out)
    assert checkpoint.meta["best"]["epoch"] == 2
    build_from_checkpoint(checkpoint, arch)
    metrics = json.loads((out / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == [1, 2]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
