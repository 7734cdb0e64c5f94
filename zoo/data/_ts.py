"""A strict reader of the UCR/UEA `.ts` time-series classification format.

The format (sktime's and the archive's): `#` comment lines, then `@tag value` header lines
(`@problemName`, `@timeStamps`, `@missing`, `@univariate`, `@dimensions`, `@equalLength`,
`@seriesLength`, `@classLabel true LABEL...`), then `@data` and one sample per line:
channels separated by `:`, each channel's values by `,`, the class label last.

Only what zoo can train on is accepted: class labels, no timestamps, no missing values, every
channel of a sample the same length, the declared number of channels, labels among the
declared ones. Anything else is a `DataError` naming the file and line. Pure Python: the
caller turns the values into arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from zoo._errors import DataError

_TAGS = {
    "problemname",
    "timestamps",
    "missing",
    "univariate",
    "dimensions",
    "dimension",
    "equallength",
    "serieslength",
    "classlabel",
    "data",
}


@dataclass
class TsData:
    """A parsed `.ts` file: `series[i][c]` is sample i's channel c; `labels[i]` its class."""

    name: str
    classes: tuple[str, ...]
    channels: int
    series: list[list[list[float]]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    @property
    def lengths(self) -> list[int]:
        return [len(sample[0]) for sample in self.series]


def _flag(value: str, where: str) -> bool:
    if value.lower() not in ("true", "false"):
        raise DataError(f"{where}: expected true or false, got {value!r}.")
    return value.lower() == "true"


def _count(value: str, where: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise DataError(f"{where}: expected a positive integer, got {value!r}.")
    return int(value)


def parse_ts(text: str, name: str) -> TsData:
    """The samples of `.ts` text (`name` is the file, for error messages)."""
    header: dict[str, str] = {}
    data_line = 0
    lines = text.splitlines()
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{name}:{number}"
        if not line.startswith("@"):
            raise DataError(f"{where}: expected an @tag or @data before the samples.")
        tag, _, value = line[1:].partition(" ")
        tag = tag.lower()
        if tag not in _TAGS:
            raise DataError(f"{where}: unknown tag @{tag} (zoo reads classification .ts files).")
        if tag in header:
            raise DataError(f"{where}: @{tag} given twice.")
        header[tag] = value.strip()
        if tag == "data":
            data_line = number
            break
    if not data_line:
        raise DataError(f"{name}: no @data line; not a .ts file.")
    top = f"{name}:{data_line}"
    if _flag(header.get("timestamps", "false"), top):
        raise DataError(f"{top}: @timeStamps true is not supported (plain values only).")
    label_spec = header.get("classlabel", "").split()
    if not label_spec or not _flag(label_spec[0], top) or len(label_spec) < 2:
        raise DataError(f"{top}: needs '@classLabel true LABEL...' (a classification file).")
    classes = tuple(label_spec[1:])
    if len(set(classes)) != len(classes):
        raise DataError(f"{top}: @classLabel lists a label twice.")
    univariate = _flag(header.get("univariate", "true"), top)
    dims_text = header.get("dimensions", header.get("dimension"))
    channels = 1 if univariate else _count(dims_text or "", top)
    equal = _flag(header.get("equallength", "true"), top)
    length = _count(header["serieslength"], top) if "serieslength" in header else None
    data = TsData(name, classes, channels)
    for number in range(data_line + 1, len(lines) + 1):
        line = lines[number - 1].strip()
        if not line or line.startswith("#"):
            continue
        where = f"{name}:{number}"
        *parts, label = line.split(":")
        if len(parts) != channels:
            raise DataError(
                f"{where}: {len(parts)} channel(s) and a label, expected {channels} channel(s)."
            )
        label = label.strip()
        if label not in classes:
            raise DataError(f"{where}: label {label!r} is not one of @classLabel {classes}.")
        sample = [_values(part, where) for part in parts]
        if len({len(c) for c in sample}) != 1:
            raise DataError(f"{where}: the channels of one sample have different lengths.")
        if equal and length is not None and len(sample[0]) != length:
            raise DataError(f"{where}: {len(sample[0])} values, but @seriesLength is {length}.")
        data.series.append(sample)
        data.labels.append(label)
    if not data.series:
        raise DataError(f"{name}: no samples after @data.")
    if equal and len(set(data.lengths)) != 1:
        raise DataError(f"{name}: @equalLength true, but samples have different lengths.")
    return data


def _values(part: str, where: str) -> list[float]:
    values: list[float] = []
    for item in part.split(","):
        try:
            value = float(item)
        except ValueError:
            raise DataError(f"{where}: {item.strip()[:20]!r} is not a number.") from None
        if not math.isfinite(value):
            raise DataError(f"{where}: {item.strip()[:20]!r} is not a finite number.")
        values.append(value)
    return values
