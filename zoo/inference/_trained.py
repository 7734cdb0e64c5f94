"""A trained model put to use: evaluate and predict it on data (zoo.inference._inspect
draws it).

A trained model is a checkpoint written by `zoo train` (or a registry entry pointing at
one, whose sha256 is checked): its weights plus the description of its data (`DataSpec`),
so new data is windowed and scaled exactly as the training data was, and predictions are
returned in the target's own units.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo._contract import LENGTHS, IOContract
from zoo._errors import CheckpointError, DataError, ZooError
from zoo._spec import Exporter
from zoo.catalog import _source as models
from zoo.catalog._session import App
from zoo.checkpoint._format import CONFIG_FILE, read_checkpoint
from zoo.data._load import (
    CLASSIFICATION,
    DataSource,
    DataSpec,
    Split,
    csv_windows,
    evaluation_split,
    is_csv,
)
from zoo.export._batch import CALL_ROWS, FasterOfTwo, batch_threads
from zoo.inference._metrics import chunk_rows, compute_metrics, predict_tensor


@dataclass
class TrainedModel:
    """An eager model with trained weights and the description of its data."""

    source: models.SourceModel
    spec: DataSpec
    path: Path
    #: The registered data sources (`--data NAME`); None: load the plugins when needed.
    sources: Mapping[str, DataSource] | None = field(default=None, repr=False)

    @property
    def task(self) -> str:
        return self.spec.task


def load_trained(app: App, checkpoint: Path | None = None, name: str | None = None) -> TrainedModel:
    """A `zoo train` checkpoint directory, or a registry entry with one (sha256 checked)."""
    if (checkpoint is None) == (name is None):
        raise ZooError("Give a trained model NAME or --checkpoint DIR (one of them).")
    if name is not None:
        entry = app.entry(name)
        if entry.checkpoint is None:
            raise ZooError(
                f"Model {name!r} has no trained weights (no checkpoint in its registry entry). "
                "Train one with `zoo train` and add it with `zoo register`."
            )
        source = models.from_name(app, name)
        path = entry.checkpoint
    else:
        assert checkpoint is not None
        source = models.from_checkpoint(app, checkpoint)
        path = checkpoint
    meta = read_checkpoint(path).meta
    if not isinstance(meta.get("data"), dict):
        raise CheckpointError(
            f"{path / CONFIG_FILE}: no 'data' description, so this checkpoint was not written "
            "by `zoo train`; eval, predict and inspect need one that was."
        )
    try:
        spec = DataSpec.from_dict(meta["data"])
    except DataError as exc:
        raise CheckpointError(f"{path / CONFIG_FILE}: {exc}") from None
    return TrainedModel(source, spec, path, app.plugins.datasets)


@dataclass
class Evaluation:
    """Metrics of a trained model on `samples` labelled sequences of `data`."""

    data: str
    samples: int
    metrics: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"data": self.data, "samples": self.samples, "metrics": self.metrics}


def labelled_split(
    trained: TrainedModel, source: str, seed: int | None, seq_len: int | None
) -> Split:
    """The labelled sequences of `source` prepared as for `trained` (evaluate, inspect)."""
    split = evaluation_split(
        trained.spec, source, seed=seed, seq_len=seq_len, sources=trained.sources
    )
    if len(split) == 0:
        raise DataError(f"{source}: no labelled sequence to evaluate on.")
    return split


def evaluate(
    trained: TrainedModel, source: str, seed: int | None = None, seq_len: int | None = None
) -> Evaluation:
    """Metrics (zoo.inference._metrics) on `source`: a built-in task's test split or a CSV
    file."""
    import torch

    split = labelled_split(trained, source, seed, seq_len)
    pred = predict_split(trained, split)
    metrics = compute_metrics(trained.task, pred, torch.from_numpy(split.y), trained.spec.scaling)
    return Evaluation(source, len(split), metrics)


Predictor = Callable[[Any, Any], Any]
#: A parity runner (`Exporter.load`): feeds in, outputs out, by name.
Runner = Callable[[dict[str, Any]], dict[str, Any]]


def artifact_predictor(app: App, trained: TrainedModel, path: Path) -> Predictor:
    """`y` from an exported ONNX file in onnxruntime: `(x, lengths) -> y` (numpy arrays).

    The file must claim this very checkpoint (its `zoo.checkpoint_sha256` metadata) and
    prove it: a metadata field can be copied into any file, so the artifact is run against
    the checkpoint's model on the parity cases (what `zoo verify` runs) before it predicts.
    """
    import numpy as np

    from zoo.export._metadata import ArtifactMetadata
    from zoo.export._verify import find_exporter

    if not path.is_file():
        raise ZooError(f"Artifact {str(path)!r} does not exist. Export it with `zoo export`.")
    exporter = find_exporter(app.plugins.exporters, path)
    if not path.name.endswith(".onnx"):
        raise ZooError(f"--runtime onnx needs an ONNX file, not {str(path)!r} ({exporter.name}).")
    meta = _guarded(f"Cannot read {str(path)!r} as {exporter.name}", exporter.read_metadata, path)
    recorded = ArtifactMetadata.read(meta, where=str(path))
    expected = read_checkpoint(trained.path).digest
    if recorded.checkpoint_sha256 != expected:
        raise ZooError(
            f"{path} was not exported from {trained.path} (checkpoint digest "
            f"{recorded.checkpoint_sha256 or 'absent'}, "
            f"the checkpoint's {expected[:12]}...). "
            f"Export it with `zoo export --checkpoint {trained.path} --onnx`."
        )
    contract = recorded.io
    runner = _guarded(f"Cannot load {str(path)!r} in onnxruntime", exporter.load, path)
    _prove_bound(trained, exporter, runner, path, LENGTHS in recorded.input_names)
    pick = _batch_runners(exporter, path, runner)

    def run(x: Any, lengths: Any) -> Any:
        """`y` for `x`, in calls of `CALL_ROWS` sequences on the faster session now."""
        parts = []
        for i in range(0, x.shape[0], CALL_ROWS):
            given = feeds(x[i : i + CALL_ROWS], _rows(lengths, i))
            parts.append(pick.run(functools.partial(_y, given), given["x"].shape[0]))
        return np.concatenate(parts) if len(parts) != 1 else parts[0]

    def feeds(x: Any, lengths: Any) -> dict[str, Any]:
        feeds: dict[str, Any] = {"x": x}
        for name in contract["input_names"][1:]:
            if name == "lengths":
                if lengths is None:
                    lengths = np.full(x.shape[0], x.shape[1], np.int64)
                feeds[name] = lengths
            else:
                shape = [
                    x.shape[0] if d == "batch" else d for d in contract["inputs"][name]["shape"]
                ]
                feeds[name] = np.zeros(shape, np.float32)
        if lengths is not None and "lengths" not in feeds:
            raise ZooError(f"{path} has no lengths input; export it with --lengths for this data.")
        return feeds

    return run


def _y(feeds: dict[str, Any], runner: Runner) -> Any:
    return runner(feeds)["y"]


def _rows(lengths: Any, start: int) -> Any:
    return None if lengths is None else lengths[start : start + CALL_ROWS]


def _batch_runners(exporter: Exporter, path: Path, proved: Runner) -> FasterOfTwo[Runner]:
    """Batch work on the faster of the proved session (one thread) and a second session of
    the same file on a thread per core (zoo.export._batch); the proved one alone where
    threads are not zoo's choice (`ZOO_ORT_THREADS`, a GPU provider)."""
    from zoo.export._runtime import batch_sessions, current_provider

    if os.environ.get("ZOO_ORT_THREADS", "").strip() or current_provider() != "cpu":
        return FasterOfTwo(proved, proved)
    with batch_sessions(threads=0):  # the proved file again: a fresh session, same bytes
        many: Runner = _guarded(f"Cannot load {str(path)!r} in onnxruntime", exporter.load, path)
    return FasterOfTwo(many, proved) if batch_threads(path) == 0 else FasterOfTwo(proved, many)


def _prove_bound(
    trained: TrainedModel, exporter: Exporter, runner: Any, path: Path, lengths: bool
) -> None:
    """ZooError unless the artifact's runner computes what the checkpoint's model computes."""
    from zoo.export._proof import TaskJudge, prove_artifact

    judge = TaskJudge(accept_elementwise=True)  # the claim already matched; numbers decide
    report = prove_artifact(trained.source, exporter, runner, lengths=lengths,
                            artifact=str(path), judge=judge)  # fmt: skip
    if not report.passed:
        first = report.failures[0]
        raise ZooError(
            f"{path} claims checkpoint {trained.path} but does not compute what it computes "
            f"(output {first.output!r} at {first.case}: {first.problem}). Export it with "
            f"`zoo export --checkpoint {trained.path} --onnx`."
        )


def _guarded(what: str, call: Callable[[Path], Any], path: Path) -> Any:
    """`call(path)` on a file from anywhere: what its parser raises (protobuf, onnxruntime)
    becomes one line."""
    try:
        return call(path)
    except ZooError:
        raise
    except Exception as exc:  # any parser failure on an untrusted file
        first = (str(exc).strip().splitlines() or [""])[0]
        raise ZooError(
            f"{what}: {type(exc).__name__}: {first[:300]}. Export it again with `zoo export`."
        ) from None


def predict(
    trained: TrainedModel,
    source: str,
    predictor: Predictor | None = None,
    seed: int | None = None,
    seq_len: int | None = None,
) -> list[dict[str, Any]]:
    """One row per window: what it predicts, in the target's units, and the truth if known.

    `seed` and `seq_len` choose a built-in task's test split, as in `evaluate`.

    For a CSV file `row` is the (0-based, header excluded) row the prediction is for; the
    last `horizon` windows forecast rows past the end of the file. For a built-in task it
    is the index of the test sequence; for a registered data set, the target's index in the
    series (forecasting) or the sequence's in the test file.
    """
    import numpy as np
    import torch

    spec = trained.spec
    if spec.kind == "csv" and is_csv(source, trained.sources):
        if seed is not None or seq_len is not None:
            raise DataError(
                "--seed and --seq-len choose a built-in task's test split; a CSV file's "
                "windows come from its rows."
            )
        windows = csv_windows(spec, Path(source), labelled=False)
        x, rows, y, known = windows.x, windows.rows, windows.y, windows.has_target
        lengths, truth_values = None, windows.truth
    else:
        split = labelled_split(trained, source, seed, seq_len)
        # A registered source's rows: the target's index in the series, or the sample's
        # in the test file; a built-in task's: the index of the test sequence.
        source_rows = split.rows if spec.kind == "source" else None
        rows = np.arange(len(split)) if source_rows is None else source_rows
        x, y = split.x, split.y
        known = np.ones(len(split), dtype=bool)
        lengths, truth_values = _tensor(split), None
    if predictor is None:
        module, stream = trained.source.module, _stream(trained)
        pred = predict_tensor(module, torch.from_numpy(x), lengths=lengths, stream=stream).numpy()
    else:  # the exported artifact, in its own runtime, in passes as small as eager ones
        step = chunk_rows(trained.source.module, torch.from_numpy(x))
        given = None if lengths is None else lengths.numpy()
        parts = [
            predictor(x[i : i + step], None if given is None else given[i : i + step])
            for i in range(0, len(x), step)
        ]
        pred = np.concatenate(parts) if parts else np.zeros((0, spec.output_size), np.float32)
    if spec.task == CLASSIFICATION:
        probs = torch.softmax(torch.from_numpy(pred), dim=1).numpy()  # (n, classes)
        return [
            {
                "row": int(rows[i]),
                "prediction": spec.classes[int(probs[i].argmax())],
                "probability": float(probs[i].max()),
                "truth": spec.classes[int(y[i])] if y is not None and known[i] else None,
            }
            for i in range(len(x))
        ]
    assert spec.scaling is not None
    values = spec.scaling.unscale_y(pred[:, 0])  # float64
    truth = truth_values  # a CSV file's own numbers, never rescaled
    if truth is None and y is not None:
        truth = spec.scaling.unscale_y(y[:, 0])
    return [
        {
            "row": int(rows[i]),
            "prediction": float(values[i]),
            "truth": float(truth[i]) if truth is not None and known[i] else None,
        }
        for i in range(len(x))
    ]


def predict_split(trained: TrainedModel, split: Split) -> Any:
    """The eager model's `y` on every sequence of `split`, in bounded memory."""
    import torch

    x = torch.from_numpy(split.x)
    return predict_tensor(trained.source.module, x, lengths=_tensor(split), stream=_stream(trained))


def _stream(trained: TrainedModel) -> IOContract | None:
    """The model's contract when its sequences may run in pieces (zoo.inference._metrics):
    streaming is defined for it and the architecture declares it equal to one pass."""
    contract = trained.source.contract
    return contract if contract.can_stream and trained.source.arch.streamable else None


def _tensor(split: Split) -> Any:
    """The split's lengths as a tensor, or None for fixed-length data."""
    import torch

    return None if split.lengths is None else torch.from_numpy(split.lengths)
