"""Output that respects the terminal (issue 18): the parity table, the epoch lines and the
live training bar at 60, 80 and 120 columns (no line longer than the width, no stale lines
after redraws), NO_COLOR, `TERM=dumb`, pipes, and `-q/--quiet`.

The renderers draw on a rich Console made by zoo.cli._output.console_for at a fixed width;
the live bar's raw output is replayed on a small terminal model (`screen`) that wraps long
lines as a terminal does, so a line that wrapped and was then redrawn would stay on it.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest

from zoo._tables import format_table
from zoo.cli._output import console_for
from zoo.cli._parity_table import PARITY_HEADERS, parity_rows, print_parity_table
from zoo.cli._progress import TrainingProgress, bar_line, epoch_line, result_line
from zoo.parity._report import OutputCheck, ParityReport
from zoo.train._settings import EpochRecord

WIDTHS = (60, 80, 120)
ESCAPE = "\x1b"
SGR = re.compile(r"\x1b\[[0-9;]*m")


def _reports() -> list[ParityReport]:
    """Two artifacts with long paths: one passing, one failing with a long problem."""

    def check(output: str, passed: bool, problem: str = "", case: str = "seq 7") -> OutputCheck:
        return OutputCheck(case, output, (2, 7, 8), (2, 7, 8), 1e-7, 2e-6, passed, problem)

    good = ParityReport("exports/some/deep/folder/bilstm-sine.onnx", "onnx", 1e-4, 1e-3)
    good.checks = [check(o, True) for o in ("y", "hidden", "h_n", "c_n")]
    good.checks += [check("hidden", True, case="stream chunks 3+4")]
    bad = ParityReport("exports/some/deep/folder/bilstm-sine.torchscript.pt", "ts", 1e-4, 1e-3)
    bad.checks = [check("y", False, "max abs 3e-2 > atol 1e-4 + rtol 1e-3 * |expected| " * 2)]
    bad.checks += [check("h_n", True)]
    return [good, bad]


def _table(width: int | None, terminal: bool) -> str:
    out = io.StringIO()
    console = console_for(out, width=width, force_terminal=terminal, record=True)
    print_parity_table(_reports(), console)
    return out.getvalue()


@pytest.mark.parametrize("width", [*WIDTHS, 100])
def test_the_parity_table_fits_and_keeps_each_verdict_whole(width: int) -> None:
    text = SGR.sub("", _table(width, terminal=True))
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines), [len(line) for line in lines]
    rows = lines[2:]
    assert len(rows) == len(parity_rows(_reports()))
    verdicts = [line.split("  ")[-1].split()[0] for line in rows]
    assert verdicts.count("pass") == len(rows) - 1 and verdicts.count("FAIL") == 1
    assert all(line.rstrip().endswith("pass") for line in rows if "FAIL" not in line)
    # The file names tell the artifacts apart even when the paths are cut.
    assert all(("bilstm-sine.onnx" in r) != ("torchscript.pt" in r) for r in rows)
    if width >= 120:
        assert "ATOL" in lines[0] and "RTOL" in lines[0]
    if width <= 60:
        assert "RTOL" not in lines[0] and "CASES" not in lines[0]


def test_the_parity_table_is_coloured_on_a_terminal_only() -> None:
    assert SGR.search(_table(120, terminal=True))
    piped = _table(None, terminal=False)
    assert ESCAPE not in piped
    # Off a terminal the lines stay whole: the plain table, however long.
    assert piped == format_table(PARITY_HEADERS, parity_rows(_reports())) + "\n"


def test_no_color_means_no_escape_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    for width in WIDTHS:
        assert ESCAPE not in _table(width, terminal=True)


def _record(epoch: int, best: bool = True) -> EpochRecord:
    val = {"loss": 0.0123456, "mse": 0.0123456, "mae": 0.0876543, "rel_mse": 0.0234567}
    return EpochRecord(epoch, 0.0345678, val, 123456.0, 12.3, best)


@pytest.mark.parametrize("width", WIDTHS)
def test_epoch_lines_fit_the_width(width: int) -> None:
    whole = epoch_line(20, _record(3), None)
    assert whole.startswith("epoch 3/20  train_loss 0.03457  val_loss 0.01235  ")
    assert whole.endswith("123,456 samples/s  12.3 s  *best")
    line = epoch_line(20, _record(3), width)
    assert len(line) <= width
    assert line.startswith("epoch 3/20 ") and "0.01235" in line  # the validation loss stays
    if len(whole) <= width:
        assert line == whole


@pytest.mark.parametrize("width", WIDTHS)
def test_the_bar_has_the_total_and_an_eta_and_fits(width: int) -> None:
    line, start, filled = bar_line(3, 20, 640, 1280, 0.5, 2500.0, 75.0, width)
    assert len(line) <= width and line.startswith("epoch 3/20 [")
    assert "ETA 1:15" in line
    assert line[start : start + filled] == "#" * filled and filled > 0


def screen(raw: str, width: int) -> list[str]:
    """What a `width`-column terminal shows after `raw`: text wraps at the right edge;
    carriage return, newline, erase line (ESC[2K, ESC[K) and cursor up (ESC[nA) move or
    clear; colours and cursor visibility change nothing here."""
    rows, y, x, i = [""], 0, 0, 0
    while i < len(raw):
        char = raw[i]
        if char == ESCAPE:
            match = re.match(r"\x1b\[(\?)?(\d*)([A-Za-z])", raw[i:])
            assert match, repr(raw[i : i + 10])
            private, number, command = match.groups()
            i += match.end()
            if private or command == "m":
                continue
            if command == "A":
                y = max(0, y - int(number or 1))
            elif command == "K" and number == "2":
                rows[y] = ""
            elif command == "K":
                rows[y] = rows[y][:x]
            else:
                raise AssertionError(f"escape {match.group()!r} not modelled")
            continue
        i += 1
        if char == "\r":
            x = 0
            continue
        if char == "\n" or x >= width:
            y, x = y + 1, 0
            rows += [""] * (y + 1 - len(rows))
            if char == "\n":
                continue
        row = rows[y].ljust(x)
        rows[y] = row[:x] + char + row[x + 1 :]
        x += 1
    return rows


def _drive(progress: TrainingProgress, epochs: int = 3, steps: int = 4) -> None:
    """A resumed run's callbacks: a note, then steps and epoch ends (as zoo.train._loop)."""
    with progress:
        progress.note("resuming runs/a-rather-long-folder-name/lstm after epoch 1 of 3")
        progress.start(epochs, 1, 1280)
        for epoch in range(2, epochs + 1):
            for k in range(1, steps + 1):
                progress.step(epoch, 1280 * k // steps, 1280, 0.5 / k, 2500.0)
            progress.epoch_end(epochs, _record(epoch, best=epoch == 2))


@pytest.mark.parametrize("width", WIDTHS)
def test_the_live_bar_leaves_no_stale_lines(width: int) -> None:
    raw = io.StringIO()
    _drive(TrainingProgress(console_for(raw, width=width, force_terminal=True)))
    assert "epoch 2/3 [#" in SGR.sub("", raw.getvalue()), "the bar was drawn"
    shown = [line.rstrip() for line in screen(raw.getvalue(), width) if line.strip()]
    assert shown[-2:] == [
        epoch_line(3, _record(2), width),
        epoch_line(3, _record(3, best=False), width),
    ]
    note = "note: resuming runs/a-rather-long-folder-name/lstm after epoch 1 of 3"
    assert " ".join(shown[:-2]) == note  # wrapped by rich (at a space), not cut
    # Every frame drawn, not only what is left: none reached the edge (where it would wrap).
    frames = re.split(r"[\r\n]", re.sub(r"\x1b\[\??[0-9;]*[A-Za-z]", "", raw.getvalue()))
    assert all(len(frame) <= width for frame in frames), max(frames, key=len)


def test_the_bar_is_not_drawn_off_a_terminal_or_on_a_dumb_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for terminal, width in ((False, None), (False, 60), (True, 60)):
        if terminal:
            monkeypatch.setenv("TERM", "dumb")
        raw = io.StringIO()
        _drive(TrainingProgress(console_for(raw, width=width, force_terminal=terminal)))
        assert ESCAPE not in raw.getvalue()
        lines = raw.getvalue().splitlines()
        epochs = [line.split()[1] for line in lines if re.match(r"epoch \d+/", line)]
        assert epochs == ["2/3", "3/3"]
        if width is None:  # a pipe: whole lines
            assert epoch_line(3, _record(2), None) in lines
        else:
            assert all(len(line) <= width for line in lines)


def test_no_color_keeps_the_bar_free_of_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    raw = io.StringIO()
    _drive(TrainingProgress(console_for(raw, width=80, force_terminal=True)))
    assert "[#" in raw.getvalue() and not SGR.search(raw.getvalue())


def test_quiet_prints_only_the_result_line(invoke: Any, tmp_path: Path) -> None:
    args = ("--data", "sine", "--samples", "32", "--seq-len", "6", "--batch-size", "16")
    out = tmp_path / "run"
    result = invoke(
        "train", "lstm", *args, "--set", "hidden_size=4", "--epochs", "2",
        "--out", str(out), "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.splitlines() == [f"checkpoint: {out} (sha256 {_sha(out)})"]
    exported = invoke("export", "--checkpoint", str(out), "--onnx", "--out", str(tmp_path), "-q")
    assert exported.exit_code == 0, exported.output
    assert exported.stderr == ""
    assert len(exported.stdout.splitlines()) == 1 and exported.stdout.startswith("report: ")
    verified = invoke("verify", str(next(tmp_path.glob("*.onnx"))), "--quiet")
    assert verified.exit_code == 0, verified.output
    assert len(verified.stdout.splitlines()) == 1 and "parity passed" in verified.stdout


def _sha(out: Path) -> str:
    from zoo.checkpoint._format import read_checkpoint

    return read_checkpoint(out).sha256


@pytest.mark.parametrize("width", WIDTHS)
def test_the_result_line_fits_a_terminal_and_is_whole_in_a_pipe(width: int) -> None:
    from types import SimpleNamespace

    val = {"loss": 0.0123456, "mse": 0.0123456, "mae": 0.0876543, "rel_mse": 0.0234567}
    result: Any = SimpleNamespace(best_epoch=7, best=val, samples_per_s=12345.6, processes=2)
    what = "lstm on sine (seq 50, 2000 samples, regression)"
    whole = result_line(what, 20, result, None)
    assert whole == (
        f"{what}: best epoch 7/20  val_loss 0.01235  val_mse 0.01235  val_mae 0.08765  "
        "val_rel_mse 0.02346  12,346 samples/s (2 processes)"
    )
    line = result_line(what, 20, result, width)
    assert len(line) <= width and line.startswith("lstm on sine")


def test_fitting_steps_apply_in_order_only_while_too_wide() -> None:
    from zoo._tables import Drop, Narrow, crop, fit_columns

    headers, rows = ("A", "PATH", "OK"), [("x" * 10, "some/folder/file.onnx", "pass")]
    whole = {0: 10, 1: 21, 2: 4}
    assert fit_columns(headers, rows, 39, [Drop("A")]) == whole  # fits: nothing applies
    # A Narrow wider than the column never widens it; the next step then applies.
    assert fit_columns(headers, rows, 38, [Narrow("OK", 12), Drop("A")]) == {1: 21, 2: 4}
    assert fit_columns(headers, rows, 30, [Narrow("PATH", 8)]) == {0: 10, 1: 12, 2: 4}
    assert fit_columns(headers, rows, 10, [Narrow("PATH", 8)]) == {0: 10, 1: 8, 2: 4}
    assert crop("some/folder/file.onnx", 12, keep_end=True) == "…r/file.onnx"
    assert crop("some/folder/file.onnx", 12) == "some/folder…"
    assert crop("pass", 4) == "pass"
