"""The safetensors header, read and checked before a weights file is hashed or loaded.

A safetensors file is 8 bytes (little-endian header length N), N bytes of JSON (each
tensor's dtype, shape and byte range), then the tensor data. Reading the header first costs
N bytes, however large the file claims to be: a header over `ZOO_MAX_JSON_BYTES`, tensors
over the parameter limit (`ZOO_MAX_PARAMS`) or a file longer than its header describes is
refused before a single data byte is read (a 64 GiB sparse file is not hashed). A file
shorter than described is left to the sha256 check and the loader, which name it.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from zoo._errors import CheckpointError
from zoo._limits import JSON_BYTES, PARAMS, parse_json

#: Bytes per element of each safetensors dtype.
DTYPE_BYTES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "F8_E8M0": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4,
    "I64": 8, "U64": 8, "F64": 8, "C64": 8,
}  # fmt: skip


def _invalid(path: Path, why: str) -> CheckpointError:
    return CheckpointError(
        f"{path}: not a valid safetensors file ({why}). zoo never loads pickle/torch.save "
        "files; re-save the weights with safetensors."
    )


def check_safetensors(path: Path, params_scale: int = 1, extra: int = 0) -> int:
    """Check `path`'s header against its size and the parameter limit (times `params_scale`,
    plus `extra` elements: a train state holds several copies of the weights); the number of
    elements it declares."""
    with path.open("rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size < 8:
            raise _invalid(path, f"{size} bytes, shorter than the 8-byte header length")
        length = int.from_bytes(f.read(8), "little")
        if length > size - 8:
            raise _invalid(path, f"header length {length:,} but the file has {size:,} bytes")
        JSON_BYTES.check(length, f"{path}: the header", "Give a smaller file", CheckpointError)
        header = parse_json(f.read(length), f"{path}: header", CheckpointError)
    if not isinstance(header, dict):
        raise _invalid(path, "the header is not a JSON object")
    elements, end = 0, 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (begin, stop) = info["dtype"], info["shape"], info["data_offsets"]
            count = math.prod(shape)
            ok = (
                isinstance(dtype, str)
                and all(isinstance(d, int) and d >= 0 for d in shape)
                and isinstance(begin, int)
                and isinstance(stop, int)
                and 0 <= begin <= stop
                and stop - begin == count * DTYPE_BYTES[dtype]
            )
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            raise _invalid(path, f"malformed header entry for tensor {str(name)[:80]!r}")
        elements += count
        end = max(end, stop)
    PARAMS.check(
        elements - extra,
        f"{path} (its tensors)",
        "Use a smaller model",
        CheckpointError,
        scale=params_scale,
    )
    if size > 8 + length + end:
        raise _invalid(
            path, f"{size:,} bytes, but its header describes {8 + length + end:,}: data appended"
        )
    return elements
