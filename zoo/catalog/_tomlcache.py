"""Large TOML files parsed once: a JSON copy of the parsed data, reused while the file is
unchanged.

`tomllib` is pure Python: a registry of 1,000 entries takes about 50 ms to parse, every
`zoo list`. `json` is implemented in C and reads the same data in about 2 ms. Files under
`MIN_CACHED_BYTES` (the built-in registry with its model cards, a typical plugin's) are
parsed directly and nothing is written. A cached copy is used only while the file's size,
modification and change times (ns) and inode are the ones recorded with it; anything else
(no cache dir, a write error, data JSON cannot hold such as TOML dates) falls back to
parsing, so the cache changes timings, never results.

Staleness: a file's times come from a clock that ticks every few milliseconds (seconds on
some file systems), so two writes of the same size within one tick leave the same stamp.
As git does with its index ("racy git"), a file changed less than `RACY_NS` ago is parsed
and not cached: its stamp may still be shared by a write to come. The change time (ctime)
covers tools that restore an old mtime (`touch -d`, `tar`, `rsync -t`), since setting the
mtime sets the ctime to now.

The cache lives in `ZOO_CACHE_DIR`, else `$XDG_CACHE_HOME/zoo`, else `~/.cache/zoo`;
`ZOO_CACHE_DIR=""` turns it off. The folder may be shared with others (even world-writable,
like /tmp): a cache file is read only if it is a plain file (not a link) of this user that
no one else may write, and written through a new temporary of unpredictable name (created
exclusively, never through an existing link) renamed over it, so nothing planted there is
followed, read or overwritten outside the folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import tomllib
from pathlib import Path
from stat import S_ISREG
from typing import Any

#: Smaller files parse in a few milliseconds or less: not worth a cache file.
MIN_CACHED_BYTES = 16 * 1024
#: A file changed this recently (by its mtime or ctime) is not cached (see the docstring).
RACY_NS = 3_000_000_000
_FORMAT = 2


def cache_dir() -> Path | None:
    """Where zoo keeps caches, or None when `ZOO_CACHE_DIR` is set empty."""
    configured = os.environ.get("ZOO_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured.strip() else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "zoo"


def load_toml(path: Path) -> dict[str, Any]:
    """`tomllib.loads` of the file's text, from the JSON cache when the file is unchanged.

    Raises what reading or parsing raises (OSError, UnicodeDecodeError, TOMLDecodeError).
    """
    stat = path.stat()
    folder = cache_dir() if stat.st_size >= MIN_CACHED_BYTES else None
    if folder is None:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    import hashlib  # a few ms to import (OpenSSL): only on this path

    stamp = [
        _FORMAT,
        str(path.resolve()),
        stat.st_size,
        stat.st_mtime_ns,
        stat.st_ctime_ns,
        stat.st_ino,
    ]
    key = hashlib.sha256(json.dumps(stamp[:2]).encode()).hexdigest()[:32]
    cached = folder / f"toml-{key}.json"
    try:
        saved = json.loads(_read_own(cached))
        if saved.get("stamp") == stamp:
            data: dict[str, Any] = saved["data"]
            return data
    except (OSError, ValueError, KeyError, AttributeError):
        pass  # no cache yet, unreadable, or not ours alone: parse
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    if time.time_ns() - max(stat.st_mtime_ns, stat.st_ctime_ns) >= RACY_NS:
        _write(cached, {"stamp": stamp, "data": data})
    return data


def _read_own(path: Path) -> str:
    """The text of `path` if it is a plain file of this user that no one else may write;
    else OSError (a link is not followed)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
            raise OSError(f"{path}: not a private file of this user")
        return f.read().decode("utf-8")


def _write(target: Path, payload: dict[str, Any]) -> None:
    """Best effort, atomic (a reader never sees half a file); failures are ignored."""
    import tempfile  # only when a cache file is written

    try:
        text = json.dumps(payload)
    except (TypeError, ValueError):  # TOML dates and times have no JSON form: not cached
        return
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # O_CREAT | O_EXCL on a random name, mode 0600: never an existing file or link.
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(name, target)  # replaces a link planted at `target`, never its target
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(name)
