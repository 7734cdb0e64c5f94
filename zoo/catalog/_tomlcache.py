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

The cache lives in `zoo._fs.cache_dir()` (`ZOO_CACHE_DIR`, else `$XDG_CACHE_HOME/zoo`, else
`~/.cache/zoo`; `ZOO_CACHE_DIR=""` turns it off), read and written only through
`read_private` and `write_private`, so nothing planted in a shared folder is followed, read
or overwritten.
"""

from __future__ import annotations

import json
import time
import tomllib
from pathlib import Path
from typing import Any

from zoo._fs import cache_dir, read_private, write_private

#: Smaller files parse in a few milliseconds or less: not worth a cache file.
MIN_CACHED_BYTES = 16 * 1024
#: A file changed this recently (by its mtime or ctime) is not cached (see the docstring).
RACY_NS = 3_000_000_000
_FORMAT = 2


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
        saved = json.loads(read_private(cached).decode("utf-8"))
        if saved.get("stamp") == stamp:
            data: dict[str, Any] = saved["data"]
            return data
    except (OSError, ValueError, KeyError, AttributeError):
        pass  # no cache yet, unreadable, or not ours alone: parse
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    if time.time_ns() - max(stat.st_mtime_ns, stat.st_ctime_ns) >= RACY_NS:
        try:
            text = json.dumps({"stamp": stamp, "data": data})
        except (TypeError, ValueError):  # TOML dates and times have no JSON form: not cached
            return data
        write_private(cached, text.encode("utf-8"))
    return data
