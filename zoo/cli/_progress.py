"""`zoo train`'s progress on stderr, drawn with rich: on a terminal a live bar with the epoch
out of the total ("epoch 3/20"), the samples of this epoch, the running loss, the speed and
the time left for the whole run; above it one line per finished epoch. Everything fits the
terminal's width (fields are abbreviated or left out, never wrapped), so a redraw never
leaves stale lines. Off a terminal, or with `TERM=dumb`: no bar, one plain line per epoch.

Imports rich at module level: only the train command imports this module.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.text import Text

from zoo.cli._output import fit_fields, is_live
from zoo.train._reporter import Reporter

if TYPE_CHECKING:
    from zoo.train._settings import EpochRecord, TrainResult

#: bar_line's arguments but the width: epoch, epochs, done, total, loss, rate, eta.
BarValues = tuple[int, int, int, int, float, float, "float | None"]
#: Bar width bounds, in characters.
BAR_MIN, BAR_MAX = 10, 30
#: The short labels of the validation metrics (zoo.inference._metrics order).
METRICS = (("loss", "val"), ("mse", "mse"), ("mae", "mae"), ("rel_mse", "rel"), ("accuracy", "acc"))


def _number(value: float) -> str:
    return f"{value:.4g}"


def duration(seconds: float) -> str:
    """'0:07', '12:34' or '1:02:03'."""
    whole = max(round(seconds), 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def epoch_line(epochs: int, record: EpochRecord, width: int | None) -> str:
    """'epoch 3/20  train_loss 0.01  val_loss 0.02  ...  1,234 samples/s  0.5 s  *best',
    abbreviated to fit `width` (None: whole)."""
    fields = [
        (f"epoch {record.epoch}/{epochs}", f"epoch {record.epoch}/{epochs}", 0),
        (f"train_loss {_number(record.train_loss)}", f"loss {_number(record.train_loss)}", 3),
    ]
    fields += _metric_fields(record.val)
    rate = f"{record.samples_per_s:,.0f}"
    fields.append((f"{rate} samples/s", f"{rate}/s", 4))
    fields.append((f"{record.seconds:.1f} s", f"{record.seconds:.1f}s", 6))
    if record.best:
        fields.append(("*best", "*best", 1))
    return fit_fields(fields, width)


def _metric_fields(metrics: dict[str, float]) -> list[tuple[str, str, int]]:
    """`val_KEY VALUE` fields of the validation metrics; the loss is never dropped, the
    relative error and accuracy late, the absolute errors first."""
    fields = []
    for key, short in METRICS:
        if key in metrics:
            value = _number(metrics[key])
            priority = 0 if key == "loss" else 2 if key in ("rel_mse", "accuracy") else 5
            fields.append((f"val_{key} {value}", f"{short} {value}", priority))
    return fields


def result_line(what: str, epochs: int, result: TrainResult, width: int | None) -> str:
    """'lstm on sine (...): best epoch 7/20  val_loss ...  1,234 samples/s', fitted to
    `width` (None: whole)."""
    processes = f" ({result.processes} processes)" if result.processes > 1 else ""
    rate = f"{result.samples_per_s:,.0f}"
    return fit_fields(
        [
            (
                f"{what}: best epoch {result.best_epoch}/{epochs}",
                f"{what}: best {result.best_epoch}/{epochs}",
                0,
            ),
            *_metric_fields(result.best),
            (f"{rate} samples/s{processes}", f"{rate}/s{processes}", 4),
        ],
        width,
    )


def bar_line(
    epoch: int, epochs: int, done: int, total: int, loss: float, rate: float,
    eta: float | None, width: int,
) -> tuple[str, int, int]:  # fmt: skip
    """The live bar's line fitted to `width`, and where its bar starts and how many of its
    characters are filled (for colour)."""
    head = f"epoch {epoch}/{epochs} "
    optional = [  # (text, priority: the lower, the longer it stays)
        (f" {done:,}/{total:,}", 3),
        (f"  loss {_number(loss)}", 2),
        (f"  {rate:,.0f}/s", 4),
        (f"  ETA {duration(eta) if eta is not None else '?'}", 1),
    ]
    room = width - len(head) - BAR_MIN - 2
    for priority in (4, 3, 2, 1):
        if sum(len(t) for t, _ in optional) <= room:
            break
        optional = [(t, p) for t, p in optional if p != priority]
    tail = "".join(t for t, _ in optional)
    size = max(min(BAR_MAX, width - len(head) - len(tail) - 2), 1)
    filled = round(size * done / total) if total else size
    line = f"{head}[{'#' * filled}{'-' * (size - filled)}]{tail}"
    return line[:width], len(head) + 1, filled


class _Bar:
    """The live bar as a rich renderable, laid out at the width it is drawn at."""

    def __init__(self) -> None:
        self.values: BarValues | None = None

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.values is None:
            return
        line, start, filled = bar_line(*self.values, width=options.max_width)
        text = Text(line, no_wrap=True, overflow="crop")
        text.stylize("green", start, min(start + filled, len(line)))
        yield text


class TrainingProgress(Reporter):
    """The Reporter `zoo train` draws with (rank 0 of a torchrun job). Use as a context
    manager: leaving it removes the bar, also when training stops with an error or Ctrl-C.
    `quiet`: nothing at all (the final result line is the command's)."""

    def __init__(self, console: Console, quiet: bool = False) -> None:
        self.console, self.quiet = console, quiet
        self.live_ok = is_live(console) and not quiet
        self.bar = _Bar()
        self.live: Live | None = None
        self.epochs = self.first = self.samples = 0
        self.started = time.monotonic()

    def __enter__(self) -> TrainingProgress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None

    def start(self, epochs: int, first: int, samples: int) -> None:
        self.epochs, self.first, self.samples = epochs, first, samples
        self.started = time.monotonic()

    def eta(self, epoch: int, done: int) -> float | None:
        """Seconds left for the whole run, from the rate so far (validation included)."""
        completed = (epoch - 1 - self.first) * self.samples + done
        remaining = (self.epochs - self.first) * self.samples - completed
        elapsed = time.monotonic() - self.started
        return elapsed * remaining / completed if completed > 0 and elapsed > 0 else None

    def step(self, epoch: int, done: int, total: int, loss: float, samples_per_s: float) -> None:
        if not self.live_ok:
            return
        eta = self.eta(epoch, done)
        self.bar.values = (epoch, self.epochs, done, total, loss, samples_per_s, eta)
        if self.live is None:
            self.live = Live(
                self.bar, console=self.console, transient=True, auto_refresh=False,
                redirect_stdout=False, redirect_stderr=False,
            )  # fmt: skip
            self.live.start()
        self.live.refresh()

    def epoch_end(self, epochs: int, record: EpochRecord) -> None:
        if self.quiet:
            return
        width = self.console.width if self.console.is_terminal else None
        self._print(epoch_line(epochs, record, width))
        if self.live is not None and self.bar.values is not None:  # this epoch, full
            epoch, total = record.epoch, self.bar.values[3]
            rest = (epoch, self.epochs, total, total, record.train_loss, record.samples_per_s)
            self.bar.values = (*rest, self.eta(epoch, total))
            self.live.refresh()

    def note(self, message: str) -> None:
        if not self.quiet:  # wrapped by rich if long: it knows the lines, nothing goes stale
            self.console.print(f"note: {message}", soft_wrap=False)

    def _print(self, line: str) -> None:
        self.console.print(line, crop=True, soft_wrap=False, no_wrap=True, overflow="ellipsis")
