"""UCR/UEA classification data sets read from the `.ts` files in sktime's wheel.

`ucr:NAME` reads `sktime/datasets/data/NAME/NAME_TRAIN.ts` and `_TEST.ts` itself (found with
`importlib.util.find_spec`, so sktime is never imported and nothing is downloaded) with the
strict parser of zoo.data._ts.

- Split: the archive's official TRAIN/TEST; validation is a stratified `val_fraction` of
  TRAIN (per class, `round(count * val_fraction)` samples, at least one of a class with two
  or more, drawn with the seed), training the rest of TRAIN.
- Labels: the `@classLabel` order of the file, mapped to 0..K-1 (names kept in the spec).
- Scaling: per-channel mean and standard deviation of the training part's valid steps.
- Variable length (JapaneseVowels, PLAID): every split is zero-padded to the longest
  sequence of TRAIN and TEST and carries `lengths`, as the built-in `freq-var` does.

Importing this module imports no numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from zoo._errors import DataError
from zoo._limits import DATA_ELEMENTS
from zoo.data._source import package_dir
from zoo.data._spec import CLASSIFICATION, DataOptions, Dataset, DataSpec, Scaling, Split
from zoo.data._ts import TsData, parse_ts

if TYPE_CHECKING:
    import numpy as np

PACKAGE = "sktime"
CITATION = (
    "Dau et al., The UCR Time Series Archive (2019); Bagnall et al., The UEA multivariate "
    "time series classification archive (2018)"
)


@dataclass(frozen=True)
class UcrSet:
    """What `zoo datasets` lists about a bundled UCR/UEA set (checked against the files by
    the tests)."""

    name: str
    description: str
    train: int
    test: int
    channels: int
    classes: int
    seq_len: int | None  # None: variable length


UCR_SETS = (
    UcrSet("GunPoint", "hand motion: gun drawn or pointed (x coordinate)", 50, 150, 1, 2, 150),
    UcrSet("ItalyPowerDemand", "daily Italian power demand: winter or summer day",
           67, 1029, 1, 2, 24),
    UcrSet("ArrowHead", "arrowhead outlines (shape profile): three types", 36, 175, 1, 3, 251),
    UcrSet("BasicMotions", "smartwatch accelerometer and gyroscope: four activities",
           40, 40, 6, 4, 100),
    UcrSet("JapaneseVowels", "speakers uttering a vowel: 12 LPC cepstra, lengths 7-29",
           270, 370, 12, 9, None),
    UcrSet("OSULeaf", "leaf outlines (shape profile): six tree species", 200, 242, 1, 6, 427),
    UcrSet("PLAID", "appliance current draw: eleven appliance types, lengths 100-1344",
           537, 537, 1, 11, None),
)  # fmt: skip


def read_ucr(name: str) -> tuple[TsData, TsData, str]:
    """The parsed TRAIN and TEST files of `name` and the sha256 of their bytes (TRAIN's
    then TEST's, hashed together)."""
    import hashlib

    root = package_dir(PACKAGE)
    if root is None:
        raise DataError(f"ucr:{name} needs sktime: pip install 'zoo-rnn[datasets]'.")
    folder = root / "datasets" / "data" / name
    digest = hashlib.sha256()
    parsed: list[TsData] = []
    for part in ("TRAIN", "TEST"):
        path = folder / f"{name}_{part}.ts"
        if not path.is_file():
            raise DataError(
                f"{path} not found: this sktime does not bundle {name}. "
                "Reinstall it with: pip install 'zoo-rnn[datasets]'."
            )
        raw = path.read_bytes()
        digest.update(raw)
        parsed.append(parse_ts(raw.decode("utf-8"), str(path)))
    train, test = parsed
    if train.classes != test.classes or train.channels != test.channels:
        raise DataError(f"{name}: TRAIN and TEST declare different classes or channels.")
    return train, test, digest.hexdigest()


def arrays(data: TsData, seq_len: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`x` (n, seq_len, channels) float64 zero-padded, `y` (n,) int64, `lengths` (n,)."""
    import numpy as np

    n = len(data.series)
    DATA_ELEMENTS.check(
        n * seq_len * data.channels,
        f"{data.name} ({n:,} sequences x {seq_len:,} steps x {data.channels} channel(s))",
        "Use a smaller data set",
        DataError,
    )
    x = np.zeros((n, seq_len, data.channels), dtype=np.float64)
    for i, sample in enumerate(data.series):
        x[i, : len(sample[0]), :] = np.asarray(sample, dtype=np.float64).T
    index = {label: k for k, label in enumerate(data.classes)}
    y = np.asarray([index[label] for label in data.labels], dtype=np.int64)
    return x, y, np.asarray(data.lengths, dtype=np.int64)


def stratified_val(y: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A boolean mask of the validation samples: per class `round(count * fraction)`, at
    least one of a class with two or more samples and never all of a class."""
    import numpy as np

    rng = np.random.default_rng([seed, 1])
    mask = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        take = min(max(round(len(members) * fraction), 1), len(members) - 1)
        mask[rng.permutation(members)[:take]] = True
    return mask


def ucr_dataset(name: str, options: DataOptions, seed: int) -> Dataset:
    """`ucr:NAME` split, scaled and padded as the module docstring says."""
    import numpy as np

    given = [f for f, v in (("--window", options.window), ("--horizon", options.horizon),
                            ("--target", options.target), ("--features", options.features),
                            ("--task", options.task), ("--seq-len", options.seq_len),
                            ("--samples", options.samples)) if v is not None]  # fmt: skip
    if given:
        raise DataError(
            f"{', '.join(given)} do not apply to ucr:{name}: the archive fixes its sequences, "
            "labels and split (--val-fraction chooses the validation share of TRAIN)."
        )
    train_ts, test_ts, digest = read_ucr(name)
    seq_len = max(max(train_ts.lengths), max(test_ts.lengths))
    variable = len(set(train_ts.lengths + test_ts.lengths)) > 1
    x, y, lengths = arrays(train_ts, seq_len)
    x_test, y_test, lengths_test = arrays(test_ts, seq_len)
    val = stratified_val(y, options.val_fraction, seed)
    train = ~val
    valid = np.arange(seq_len)[None, :] < lengths[train][:, None]  # (n_train, seq)
    steps = x[train][valid]  # (valid steps, channels)
    std = steps.std(axis=0)
    scaling = Scaling(
        tuple(float(m) for m in steps.mean(axis=0)),
        tuple(float(s) if s > 0 else 1.0 for s in std),
    )

    def split(xs: np.ndarray, ys: np.ndarray, ls: np.ndarray, rows: np.ndarray) -> Split:
        scaled = scaling.scale_x(xs)
        scaled[np.arange(seq_len)[None, :] >= ls[:, None]] = 0.0  # padding stays zero
        return Split(scaled, ys, rows=rows, lengths=ls if variable else None)

    spec = DataSpec(
        kind="source",
        source=f"ucr:{name}",
        task=CLASSIFICATION,
        input_size=train_ts.channels,
        output_size=len(train_ts.classes),
        seq_len=seq_len,
        seed=seed,
        samples=len(y) + len(y_test),
        val_fraction=options.val_fraction,
        classes=train_ts.classes,
        scaling=scaling,
        file_sha256=digest,
        variable_length=variable,
        split=(
            f"official TRAIN ({len(y)}) / TEST ({len(y_test)}); validation: a stratified "
            f"{options.val_fraction:g} of TRAIN drawn with seed {seed}"
        ),
        notes=((f"zero-padded to {seq_len} steps, with lengths",) if variable else ()),
    )
    index = np.arange(len(y))  # rows: each sample's place in its file
    return Dataset(
        spec,
        split(x[train], y[train], lengths[train], index[train]),
        split(x[val], y[val], lengths[val], index[val]),
        test=split(x_test, y_test, lengths_test, np.arange(len(y_test))),
    )
