"""What `zoo train` says when Ctrl-C stops it: the epoch it stopped in, where the last
saved epoch is, and the command that continues it (instead of click's bare "Aborted!").

Every epoch's end saves the checkpoint and the train state (zoo.train._loop), so the last
saved epoch is read back from `train_state/state.json`: what `--resume` would continue.
"""

from __future__ import annotations

import contextlib
import json
import shlex
from collections.abc import Iterator, Sequence
from pathlib import Path

import click

from zoo.checkpoint._train_state import STATE_FILE, state_dir
from zoo.cli._common import ARGV

#: The exit status of a process stopped by SIGINT (128 + 2), as shells report it.
INTERRUPTED = 130


def saved_epoch(out: Path) -> int | None:
    """The last completed (saved) epoch of the run in `out`, or None when none was saved."""
    try:
        epoch = json.loads((state_dir(out) / STATE_FILE).read_text())["epoch"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return epoch if isinstance(epoch, int) and epoch >= 1 else None


def resume_command(argv: Sequence[str]) -> str:
    """The command line as given, with `--resume` added unless it resumes already."""
    args = list(argv)
    if "--resume" not in args and "--resume-if-exists" not in args:
        args.append("--resume")
    return shlex.join(["zoo", *args])


def stopped_message(out: Path, epochs: int, argv: Sequence[str]) -> str:
    """One line: where the run stopped, where its last checkpoint is, how to continue."""
    saved = saved_epoch(out)
    if saved is None:
        return (
            f"Stopped (Ctrl-C) in epoch 1 of {epochs}, before any epoch was saved: nothing to "
            f"resume in {out}. Start again with: {shlex.join(['zoo', *argv])}"
        )
    if saved >= epochs:
        return (
            f"Stopped (Ctrl-C) after the last epoch ({epochs}) was saved; the checkpoint is in "
            f"{out}. To write the final files, run: {resume_command(argv)}"
        )
    return (
        f"Stopped (Ctrl-C) in epoch {saved + 1} of {epochs}; the last saved checkpoint "
        f"(epoch {saved}) is in {out}. Continue with: {resume_command(argv)}"
    )


@contextlib.contextmanager
def stop_on_ctrl_c(ctx: click.Context, out: Path, epochs: int, speak: bool) -> Iterator[None]:
    """Turn Ctrl-C (KeyboardInterrupt) in the block into `stopped_message` on stderr (when
    `speak`: one process of a torchrun job says it) and exit status 130."""
    try:
        yield
    except KeyboardInterrupt:
        if speak:
            click.echo(stopped_message(out, epochs, ctx.meta.get(ARGV, [])), err=True)
        ctx.exit(INTERRUPTED)
