"""`zoo train`'s torch threads: one for a small model, the probe's choice for a large one,
`--threads` overrides both; the count is applied during the run only, recorded in the run,
kept by `--resume`, and `--resume` at another count warns. Correctness only: which count
is faster is `zoo bench`'s business."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from zoo.train import _loop, _threads
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


def test_a_small_model_is_not_probed(
    invoke: Any, tmp_path: Path, seen_threads: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert choose_threads(None) == DEFAULT_THREADS == 1
    assert choose_threads(3) == 3 and choose_threads(0) == torch.get_num_threads()

    def refuse(step: Any) -> None:
        raise AssertionError("a small model was probed")

    monkeypatch.setattr(_threads, "probe_threads", refuse)
    result = invoke("train", "lstm", *TINY, "--out", str(tmp_path / "small"))
    assert result.exit_code == 0, result.output
    assert seen_threads == [1]


@pytest.mark.parametrize(
    ("one", "many", "chosen"),
    [(1.0, 0.5, "all"), (0.5, 1.0, 1), (1.0, 0.95, 1)],
    ids=["all-faster", "one-faster", "close: one"],
)
def test_the_probe_picks_the_faster_count(one: float, many: float, chosen: Any) -> None:
    """On a clock that advances by what each pass costs at the count it ran on: all threads
    only when at least PROBE_MARGIN faster."""
    now = [0.0]

    def step() -> None:
        now[0] += one if torch.get_num_threads() == 1 else many

    before = torch.get_num_threads()
    with _threads.training_threads(max(2, before)):
        probe = _threads.probe_threads(step, timer=lambda: now[0])
        assert probe.chosen == (probe.all_threads if chosen == "all" else 1)
        assert (probe.one_thread_s, probe.all_threads_s) == pytest.approx((one, many))
    assert torch.get_num_threads() == before


BIG = ("--set", "hidden_size=128", "--set", "num_layers=2", "--samples", "64")


def test_a_probed_run_equals_a_run_at_the_chosen_count(
    invoke: Any, tmp_path: Path, seen_threads: list[int]
) -> None:
    """The probe trains a copy on its own random numbers: the run is the one `--threads N`
    gives at the count chosen, which the run records and says."""
    probed = invoke("train", "lstm", *TINY, *BIG, "--out", str(tmp_path / "probed"))
    assert probed.exit_code == 0, probed.output
    (chosen,) = seen_threads
    assert _recorded(tmp_path / "probed") == (chosen, chosen)
    if torch.get_num_threads() > 1:
        assert f"torch threads: {chosen} (a pass of one batch took" in probed.output
    pinned = invoke(
        "train", "lstm", *TINY, *BIG, "--threads", str(chosen), "--out", str(tmp_path / "pin")
    )
    assert pinned.exit_code == 0, pinned.output
    weights = [(tmp_path / run / "model.safetensors").read_bytes() for run in ("probed", "pin")]
    assert weights[0] == weights[1]


def test_resume_keeps_the_recorded_count_and_warns_at_another(
    invoke: Any, tmp_path: Path, seen_threads: list[int]
) -> None:
    out = str(tmp_path / "run")
    first = invoke("train", "lstm", *TINY, "--out", out, "--threads", "2")
    assert first.exit_code == 0, first.output
    args = [a if a != "1" else "2" for a in TINY]  # --epochs 2
    again = invoke("train", "lstm", *args, "--out", out, "--resume")
    assert again.exit_code == 0, again.output
    assert "another number of torch threads" not in again.output
    args = [a if a != "2" else "3" for a in args]  # --epochs 3
    other = invoke("train", "lstm", *args, "--out", out, "--resume", "--threads", "1")
    assert other.exit_code == 0, other.output
    assert "another number of torch threads (was 2, now 1)" in other.output
    assert seen_threads == [2, 2, 1]
    assert _recorded(tmp_path / "run") == (1, 1)
