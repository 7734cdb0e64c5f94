"""`zoo train`'s torch threads: one by default, `--threads` overrides it,
the count is applied during the run only, recorded in the run, and `--resume` at another
count warns. Correctness only: which count is faster is `zoo bench`'s business."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from zoo.train import _loop
from zoo.train._threads import DEFAULT_THREADS, choose_threads

TINY = (
    "--data", "sine", "--samples", "64", "--seq-len", "8", "--batch-size", "16",
    "--set", "hidden_size=8", "--lr", "0.01", "--epochs", "1",
)  # fmt: skip


@pytest.fixture
def seen_threads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """torch's intra-op thread count while each training loop ran."""
    seen: list[int] = []
    run = _loop.Loop.run

    def spy(self: Any) -> None:
        seen.append(torch.get_num_threads())
        run(self)

    monkeypatch.setattr(_loop.Loop, "run", spy)
    return seen


def _recorded(out: Path) -> tuple[Any, Any]:
    metrics = json.loads((out / "metrics.json").read_text())
    config = json.loads((out / "config.json").read_text())
    return metrics["threads"], config["training"]["threads"]


def test_a_small_model_trains_on_one_thread_and_records_it(
    invoke: Any, tmp_path: Path, seen_threads: list[int]
) -> None:
    before = torch.get_num_threads()
    result = invoke("train", "lstm", *TINY, "--out", str(tmp_path / "run"), "--json")
    assert result.exit_code == 0, result.output
    assert seen_threads == [1]
    assert _recorded(tmp_path / "run") == (1, 1)
    assert json.loads(result.stdout)["threads"] == 1
    assert torch.get_num_threads() == before  # restored after the run


@pytest.mark.parametrize("flag", ["2", "0"])
def test_threads_flag_is_applied_and_recorded(
    invoke: Any, tmp_path: Path, seen_threads: list[int], flag: str
) -> None:
    everything = torch.get_num_threads()
    want = int(flag) or everything
    result = invoke("train", "lstm", *TINY, "--threads", flag, "--out", str(tmp_path / "run"))
    assert result.exit_code == 0, result.output
    assert seen_threads == [want]
    assert _recorded(tmp_path / "run") == (want, want)


def test_negative_threads_is_a_usage_error(invoke: Any, tmp_path: Path) -> None:
    result = invoke("train", "lstm", *TINY, "--threads", "-1", "--out", str(tmp_path / "x"))
    assert result.exit_code == 2 and "--threads" in result.output


def test_the_default_is_one_thread_whatever_the_size(
    invoke: Any, tmp_path: Path, seen_threads: list[int]
) -> None:
    assert choose_threads(None) == DEFAULT_THREADS == 1
    assert choose_threads(3) == 3 and choose_threads(0) == torch.get_num_threads()
    big = ("--set", "hidden_size=256", "--set", "num_layers=2", "--samples", "16")
    result = invoke("train", "lstm", *TINY, *big, "--out", str(tmp_path / "big"))
    assert result.exit_code == 0, result.output
    assert seen_threads == [1]


def test_resume_at_another_thread_count_warns_and_continues(
    invoke: Any, tmp_path: Path, seen_threads: list[int]
) -> None:
    out = str(tmp_path / "run")
    first = invoke("train", "lstm", *TINY, "--out", out, "--threads", "2")
    assert first.exit_code == 0, first.output
    args = [a if a != "1" else "2" for a in TINY]  # --epochs 2
    again = invoke("train", "lstm", *args, "--out", out, "--resume")
    assert again.exit_code == 0, again.output
    assert "another number of torch threads (was 2, now 1)" in again.output
    assert seen_threads == [2, 1]
    assert _recorded(tmp_path / "run") == (1, 1)
