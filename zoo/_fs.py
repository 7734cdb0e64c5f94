"""Atomic file output: an interrupted write never leaves a file that looks valid.

Each artifact is written to a hidden temporary file beside its destination, flushed to
disk, then renamed over the destination (atomic on POSIX). A failure or kill before the
rename leaves the previous file, if any, untouched.

`hold_lock` makes one process at a time the writer of a file or folder: an exclusive
`flock` on a lock file, which records its holder (pid, host, start, command) for whoever
is refused. The kernel releases a flock when its holder dies, so a killed holder never
blocks anyone; the lock file it leaves behind is just taken over.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from stat import S_ISREG
from typing import Any

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


def check_writable(path: Path) -> None:
    """A clear error, before any work, when files cannot be created in folder `path`
    (rather than every write failing later with a message about something else)."""
    if not os.access(path, os.W_OK | os.X_OK):
        raise ZooError(
            f"Output directory {str(path)!r} is not writable. Choose another --out, or make "
            "it writable."
        )


def current_umask() -> int:
    """The process's umask (the permission bits new files do not get)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def fsync_path(path: Path, directory: bool = False) -> None:
    """Flush a file's (or, with `directory`, a folder's entries') changes to disk."""
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
        os.chmod(tmp, 0o666 & ~current_umask())
        fsync_path(tmp)
        os.replace(tmp, final)
        fsync_path(final.parent, directory=True)
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


class Locked(ZooError):
    """Another process holds a lock; `holder` says which (pid, host, start, command)."""

    def __init__(self, path: Path, holder: str) -> None:
        self.path, self.holder = path, holder
        super().__init__(f"{path} is held by {holder}")


def _flock() -> Any:
    try:
        import fcntl  # POSIX only
    except ImportError:
        raise ZooError(
            f"zoo locks files with fcntl.flock, which {sys.platform} lacks; run zoo train and "
            "zoo register on Linux or macOS."
        ) from None
    return fcntl


@contextlib.contextmanager
def hold_lock(path: Path, wait_s: float = 0.0) -> Iterator[None]:
    """Hold an exclusive lock on the lock file `path` for the block (created, and removed
    at the end); waits up to `wait_s` seconds for a holder, then raises `Locked`."""
    fcntl = _flock()
    deadline = time.monotonic() + wait_s
    while True:
        try:  # never through a link someone planted at the lock's name
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise ZooError(f"Cannot open the lock file {str(path)!r}: {exc.strerror}.") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            if time.monotonic() >= deadline:
                raise Locked(path, holder) from None
            time.sleep(0.05)
            continue
        except OSError as exc:  # ENOLCK, EOPNOTSUPP: a file system without flock
            os.close(fd)
            raise ZooError(
                f"Cannot lock {str(path)!r}: {exc.strerror}. Its file system does not support "
                "flock(2); use a folder on another one."
            ) from None
        if _same_file(fd, path):
            break
        os.close(fd)  # the holder we waited for removed this file: lock the new one
    try:
        record = {
            "pid": os.getpid(),
            "host": _hostname(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "",
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode("utf-8"), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)  # still ours: a waiter only keeps a lock on the file at `path`
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        named = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    mine = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (mine.st_dev, mine.st_ino)


def _hostname() -> str:
    import socket

    return socket.gethostname()


def _holder(fd: int) -> str:
    """'pid 12 on host, started 2025-01-02T03:04:05+0000: zoo train ...' from a lock file
    (printable characters only, at most 300: the file may come from anyone)."""
    for _ in range(20):  # the holder writes its record just after it takes the lock
        raw = os.pread(fd, 4096, 0)
        if raw:
            break
        time.sleep(0.05)
    try:
        record = json.loads(raw.decode("utf-8"))
        text = (
            f"pid {int(record['pid'])} on {record['host']}, started {record['started']}: "
            f"{record['command']}"
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return "an unknown process (its lock file records none)"
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= 300 else text[:297] + "..."


def cache_dir() -> Path | None:
    """Where zoo keeps its caches (parsed registries, ONNX graphs): `ZOO_CACHE_DIR`, else
    `$XDG_CACHE_HOME/zoo`, else `~/.cache/zoo`; None when `ZOO_CACHE_DIR` is set empty."""
    configured = os.environ.get("ZOO_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured.strip() else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "zoo"


def read_private(path: Path, max_bytes: int | None = None) -> bytes:
    """The bytes of `path` if it is a plain file of this user that no one else may write
    (and of at most `max_bytes`); else OSError. A link is not followed: the cache folder may
    be shared with others (even world-writable, like /tmp), and nothing planted there is
    read."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
            raise OSError(f"{path}: not a private file of this user")
        if max_bytes is not None and info.st_size > max_bytes:
            raise OSError(f"{path}: {info.st_size} bytes, more than {max_bytes}")
        return f.read()


def write_private(target: Path, data: bytes) -> bool:
    """Write a cache file, best effort: True when written. Atomic (a reader never sees half
    a file), through a new temporary of unpredictable name created exclusively with mode 0600
    (never an existing file or link), renamed over `target` (which replaces a link planted
    there, never its target). Failures are ignored: a cache changes timings, never results."""
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(name, target)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(name)
        return False
    return True
