"""Atomic file output: an interrupted write never leaves a file that looks valid.

Each artifact is written to a hidden temporary file beside its destination, flushed to
disk, then renamed over the destination (atomic on POSIX). A failure or kill before the
rename leaves the previous file, if any, untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from zoo._errors import ZooError


def ensure_dir(path: Path) -> Path:
    """Create an output directory, or a clear error when it cannot be one."""
    if path.exists() and not path.is_dir():
        raise ZooError(f"Output directory {str(path)!r} is a file. Choose another --out.")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ZooError(f"Cannot create output directory {str(path)!r}: {exc.strerror}.") from None
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_output(final: Path) -> Iterator[Path]:
    """Yield a temporary path beside `final`; rename it over `final` if the block succeeds."""
    ensure_dir(final.parent)
    try:
        # Hidden and marked partial, but ending in the same suffix (some savers insist).
        fd, name = tempfile.mkstemp(
            prefix=f".{final.name}.partial-", suffix=final.suffix, dir=final.parent
        )
    except OSError as exc:
        raise ZooError(f"Cannot write to {str(final.parent)!r}: {exc.strerror}.") from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        # mkstemp makes 0600, and some writers (safetensors) replace the file: set the mode
        # of an ordinary file once the content is there.
        os.chmod(tmp, 0o666 & ~_umask())
        _fsync(tmp)
        os.replace(tmp, final)
        _fsync(final.parent, directory=True)
    except OSError as exc:
        raise ZooError(f"Cannot write {str(final)!r}: {exc.strerror or exc}.") from exc
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file's bytes, read in 1 MiB blocks: the one digest zoo pins
    checkpoints, train states and data files by."""
    import hashlib  # a few ms (OpenSSL): only where a digest is needed

    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """The hex sha256 of `data` (what `sha256_file` gives for a file holding it)."""
    import hashlib

    return hashlib.sha256(data).hexdigest()
