"""What the attack suites share: the one-line failure check, strict JSON, sparse files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TINY = ("--data", "sine", "--samples", "64", "--seq-len", "8", "--batch-size", "16")


GiB = 1 << 30


def fails(result: Any, *fragments: str, code: int = 1) -> str:
    """The one `Error:` line of a failed command, checked to hold each fragment."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return str(lines[0])


def strict(text: str) -> Any:
    """`json.loads` that refuses NaN and Infinity, as `jq` does."""

    def refuse(name: str) -> Any:
        raise AssertionError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def sparse(path: Path, size: int, head: bytes = b"") -> Path:
    """A file of `size` bytes that takes no disk: `head`, then a hole."""
    with path.open("wb") as f:
        f.write(head)
        f.truncate(size)
    return path


class BytesRead:
    """How many bytes of one file were read through `open` (builtins and io, which
    `Path.open`/`read_text`/`read_bytes` use): refusing a huge file must read only its
    head, whatever the clock says (tests assert work done, never wall time)."""

    def __init__(self, monkeypatch: Any, path: Path) -> None:
        import builtins
        import io

        self.path = path.resolve()
        self.total = 0
        real = io.open

        def counting(file: Any, *args: Any, **kwargs: Any) -> Any:
            handle = real(file, *args, **kwargs)
            if isinstance(file, (str, Path)) and Path(file).resolve() == self.path:
                return _Counted(handle, self)
            return handle

        monkeypatch.setattr(builtins, "open", counting)
        monkeypatch.setattr(io, "open", counting)


class _Counted:
    """A file object that adds what each read returns to its BytesRead."""

    def __init__(self, handle: Any, counter: BytesRead) -> None:
        self._handle, self._counter = handle, counter

    def _count(self, data: Any) -> Any:
        self._counter.total += len(data)
        return data

    def read(self, *args: Any) -> Any:
        return self._count(self._handle.read(*args))

    def readline(self, *args: Any) -> Any:
        return self._count(self._handle.readline(*args))

    def readinto(self, buffer: Any) -> int:
        count = int(self._handle.readinto(buffer))
        self._counter.total += count
        return count

    def __iter__(self) -> Any:
        for line in self._handle:
            yield self._count(line)

    def __enter__(self) -> _Counted:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._handle.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


#: What every refusal of a file that could run code when loaded ends with.
REFUSED_UNTRUSTED = "Verify only files you trust, with --trust-code"


def refused_untrusted(result: Any, reason: str) -> None:
    """The command exited 1 with one `Error:` line giving `reason` and the way out."""
    assert result.exit_code == 1, result.output
    (line,) = [x for x in result.output.splitlines() if x.startswith("Error:")]
    assert reason in line and REFUSED_UNTRUSTED in line, line
