"""Explicit limits on what zoo reads and builds, and strict JSON for what it writes.

Each limit is checked before the memory or time it guards is spent (a file's size before
it is read, a model's parameter count before it is built, a dataset's size before it is
generated or windowed), in one place: the `Limit` below. A value over a limit is a one-line
error naming the value, the limit and the environment variable that raises it.

- `PARAMS`: model parameters (a config, before it is built; a weights file's header,
  before the file is hashed): 100,000,000; `ZOO_MAX_PARAMS`.
- `DATA_ELEMENTS`: a dataset's input values (sequences x steps x features), before they
  are generated or cut into windows: 50,000,000; `ZOO_MAX_DATA_ELEMENTS`.
- `CSV_BYTES`: a CSV file's size, before it is read: 256 MiB; `ZOO_MAX_CSV_BYTES`.
- `CSV_CELLS`: a CSV file's cells (rows x columns), while it is parsed: 20,000,000;
  `ZOO_MAX_CSV_CELLS`.
- `JSON_BYTES`: config.json, train_state/state.json and a safetensors header, before they
  are read: 64 MiB; `ZOO_MAX_JSON_BYTES`.
- `REGISTRY_BYTES`: a registry file's size, before it is read: 16 MiB;
  `ZOO_MAX_REGISTRY_BYTES`.
- `MAX_NESTING`: arrays and tables within each other in JSON and TOML: 64 levels, fixed
  (zoo's own files nest 5 deep).

JSON that zoo writes (files and `--json`) is strict: NaN and infinities, which JSON has no
words for, are written as `null`, and a top-level `non_finite` object maps each one's JSON
Pointer (RFC 6901) to `"NaN"`, `"Infinity"` or `"-Infinity"` (`restore_non_finite` reads
them back).

Importing this module imports nothing heavy.
"""

from __future__ import annotations

import json
import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo._errors import ZooError

#: Arrays and tables nested deeper than this are refused (zoo's own files nest 5 deep).
MAX_NESTING = 64
#: The key under which `dumps_json` records the values it wrote as null.
NON_FINITE = "non_finite"

_MIB = 1 << 20


@dataclass(frozen=True)
class Limit:
    """One limit: its default and the environment variable that raises it."""

    env: str
    default: int
    unit: str

    def value(self) -> int:
        """The limit in force: the environment variable when set, else the default."""
        raw = os.environ.get(self.env, "").strip()
        if not raw:
            return self.default
        try:
            value = int(raw.replace("_", ""))
        except ValueError:
            value = 0
        if value < 1:
            raise ZooError(f"{self.env} must be a positive whole number, got {raw!r}.")
        return value

    def check(
        self, value: int, what: str, fix: str, error: type[ZooError] = ZooError, scale: int = 1
    ) -> None:
        """Raise `error` when `value` is over the limit (times `scale`): "`what` has `value`
        UNIT, more than the limit of N (ENV). `fix`, or raise the limit with ENV=N." """
        limit = self.value() * scale
        if value > limit:
            raise error(
                f"{what} has {value:,} {self.unit}, more than the limit of {limit:,} "
                f"({self.env}{f' x {scale}' if scale != 1 else ''}). {fix}, or raise the "
                f"limit with {self.env}=N."
            )


PARAMS = Limit("ZOO_MAX_PARAMS", 100_000_000, "parameters")
DATA_ELEMENTS = Limit("ZOO_MAX_DATA_ELEMENTS", 50_000_000, "input values")
CSV_BYTES = Limit("ZOO_MAX_CSV_BYTES", 256 * _MIB, "bytes")
CSV_CELLS = Limit("ZOO_MAX_CSV_CELLS", 20_000_000, "cells")
JSON_BYTES = Limit("ZOO_MAX_JSON_BYTES", 64 * _MIB, "bytes")
REGISTRY_BYTES = Limit("ZOO_MAX_REGISTRY_BYTES", 16 * _MIB, "bytes")


def check_regular_size(
    path: Path, limit: Limit, what: str, error: type[ZooError] = ZooError
) -> int:
    """The size of regular file `path`, checked against `limit` before anything is read.

    A device, FIFO or folder is refused (reading /dev/zero would never end). Raises
    FileNotFoundError / OSError as `os.stat` does.
    """
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{path}: not a regular file (a device, pipe or folder); give a {what}.")
    limit.check(info.st_size, f"{path}", f"Give a smaller {what}", error)
    return info.st_size


def read_bounded(path: Path, limit: Limit, what: str, error: type[ZooError] = ZooError) -> bytes:
    """A regular file's bytes, refused before reading when larger than `limit` (and never
    more than the limit read, should the file grow meanwhile)."""
    check_regular_size(path, limit, what, error)
    with path.open("rb") as f:
        data = f.read(limit.value() + 1)
    limit.check(len(data), f"{path}", f"Give a smaller {what}", error)
    return data


def parse_json(data: str | bytes, where: str, error: type[ZooError] = ZooError) -> Any:
    """`json.loads`, with malformed, non-UTF-8 and too deeply nested input as one-line
    `error`s starting with `where` ("config.json: not valid JSON (...)")."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise error(too_deep(where)) from None
    except UnicodeDecodeError as exc:
        raise error(
            f"{where}: not valid JSON (not UTF-8: {exc.reason} at byte {exc.start})."
        ) from None
    except ValueError as exc:
        raise error(f"{where}: not valid JSON ({exc}).") from None
    check_nesting(value, where, error)
    return value


def check_nesting(value: Any, where: str, error: type[ZooError] = ZooError) -> None:
    """Refuse lists and dicts nested more than `MAX_NESTING` deep (iteratively: the check
    itself cannot exhaust the stack)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= MAX_NESTING:
                raise error(too_deep(where))
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def too_deep(where: str) -> str:
    """The message for a file nested deeper than `MAX_NESTING` (a parser's RecursionError
    says the same)."""
    return (
        f"{where}: nested more than {MAX_NESTING} levels deep (arrays or tables within each "
        f"other; the limit is {MAX_NESTING}, zoo's own files nest 5). Fix or replace the file."
    )


def strict_json(value: Any) -> tuple[Any, dict[str, str]]:
    """`value` with every non-finite float replaced by None, and the JSON Pointer of each
    one mapped to "NaN", "Infinity" or "-Infinity"."""
    found: dict[str, str] = {}

    def clean(item: Any, pointer: str) -> Any:
        if isinstance(item, float) and not math.isfinite(item):
            found[pointer] = (
                "NaN" if math.isnan(item) else ("Infinity" if item > 0 else "-Infinity")
            )
            return None
        if isinstance(item, dict):
            return {k: clean(v, f"{pointer}/{_escape(str(k))}") for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [clean(v, f"{pointer}/{i}") for i, v in enumerate(item)]
        return item

    return clean(value, ""), found


def dumps_json(value: Any, indent: int | None = 2) -> str:
    """Strict JSON text of `value` (see the module docstring): a dict gains a `non_finite`
    object when it held NaN or infinities; anything else (a list) holding them is an error
    for the caller to avoid, since there is nowhere to say so."""
    clean, found = strict_json(value)
    if found:
        if not isinstance(clean, dict):
            raise ValueError(f"non-finite values at {sorted(found)} outside a JSON object")
        clean = {**clean, NON_FINITE: found}
    return json.dumps(clean, indent=indent, allow_nan=False)


def restore_non_finite(value: dict[str, Any]) -> dict[str, Any]:
    """The inverse of `dumps_json` on parsed data: the `non_finite` entries put back as floats.
    Entries that do not point at a null are ignored."""
    notes = value.get(NON_FINITE)
    if not isinstance(notes, dict):
        return value
    for pointer, text in notes.items():
        if text not in ("NaN", "Infinity", "-Infinity") or not isinstance(pointer, str):
            continue
        parts = [_unescape(p) for p in pointer.split("/")[1:]]
        parent: Any = value
        try:
            for part in parts[:-1]:
                parent = parent[int(part)] if isinstance(parent, list) else parent[part]
            last: Any = int(parts[-1]) if isinstance(parent, list) else parts[-1]
            if parent[last] is None:
                parent[last] = float(text.lower().replace("infinity", "inf"))
        except (KeyError, IndexError, ValueError, TypeError):
            continue
    return value


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")
