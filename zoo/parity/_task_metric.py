"""The task-level proof for lossy formats (int8): the artifact's metric against fp32's.

Elementwise tolerances cannot judge an int8 model: quantized weights move every hidden
state by design, and a trained recurrence carries that along. What matters is whether the
model still does its job, so on a trained checkpoint zoo evaluates both the eager fp32 model
and the artifact on the checkpoint's own data (a built-in task's held-out test split, or the
training CSV's held-out windows, the file checked by its recorded digest), or on the data
the user names, and requires:

- regression: the artifact's MSE within 5% of fp32's (`mse <= 1.05 * mse_fp32`);
- classification: accuracy at most 1 percentage point below fp32's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zoo._contract import BATCH, SEQ, IOContract
from zoo.parity._check import Runner
from zoo.parity._report import OutputCheck

MSE_RATIO = 1.05
ACCURACY_DROP = 0.01


def task_check(
    source: Any, contract: IOContract, runner: Runner, data: Path | None = None
) -> tuple[OutputCheck, dict[str, Any]] | str | None:
    """The task-metric check and its numbers; None where no task metric is due (random
    weights: the elementwise tolerance decides); else why it cannot be computed.

    The data: `data` if given (any labelled file; every window counts), else the
    checkpoint's own: a built-in task's fresh test split, a registered data source's test
    split (rebuilt, its files and scaling checked), or the training CSV at the path
    training read it from, only if its sha256 is the one recorded at training (a different
    file of that name is not the training data), and then only the held-out (validation)
    windows, never those the model was trained on.
    """
    import numpy as np
    import torch

    from zoo._fs import sha256_file
    from zoo.checkpoint._format import read_checkpoint
    from zoo.checkpoint._provenance import CheckpointWeights
    from zoo.data._load import evaluation_split, held_out
    from zoo.data._spec import CLASSIFICATION, DataSpec
    from zoo.inference._metrics import compute_metrics, predict_tensor

    if not isinstance(source.weights, CheckpointWeights):
        return None
    meta = read_checkpoint(source.weights.path).meta
    if not isinstance(meta.get("data"), dict):
        return "the checkpoint records no training data (it was not written by `zoo train`)"
    spec = DataSpec.from_dict(meta["data"])
    where = str(data) if data is not None else spec.source
    if spec.kind == "csv" and not Path(where).is_file():
        return f"CSV file {where!r} not found; pass --data FILE"
    if spec.kind == "csv" and data is None and sha256_file(Path(where)) != spec.file_sha256:
        return (
            f"{where!r} is not the training CSV: its sha256 differs from the one recorded "
            "when the model was trained; pass --data FILE to judge it on other data"
        )
    split = evaluation_split(spec, where)
    if spec.kind == "csv" and data is None:
        split = held_out(spec, split)
    if split.lengths is not None and not contract.has_lengths:
        return "variable-length data needs an export with --lengths for the task metric"
    feeds: dict[str, Any] = {"x": split.x}
    for state in contract.inputs[1:]:
        if state.name == "lengths":
            feeds["lengths"] = split.lengths
        else:
            shape = state.concrete(**{BATCH: len(split), SEQ: split.x.shape[1]})
            feeds[state.name] = np.zeros(shape, np.float32)
    lengths = None if split.lengths is None else torch.from_numpy(split.lengths)
    fp32 = predict_tensor(source.module, torch.from_numpy(split.x), lengths=lengths)
    artifact = torch.from_numpy(runner(feeds)["y"])
    y = torch.from_numpy(split.y)
    ours, theirs = (compute_metrics(spec.task, p, y, spec.scaling) for p in (artifact, fp32))
    what = "held-out sequences" if data is None else f"sequences of {data}"
    case = f"task metric: {spec.describe()}, {len(split)} {what}"
    if spec.task == CLASSIFICATION:
        name, value, reference = "accuracy", ours["accuracy"], theirs["accuracy"]
        passed = value >= reference - ACCURACY_DROP
        rule = f"accuracy {value:.4f} vs fp32 {reference:.4f} (allowed drop {ACCURACY_DROP})"
    else:
        name, value, reference = "mse", ours["mse"], theirs["mse"]
        passed = value <= MSE_RATIO * reference
        rule = f"mse {value:.4g} vs fp32 {reference:.4g} (allowed x{MSE_RATIO})"
    delta = abs(value - reference)
    check = OutputCheck(
        case,
        f"{name} (task)",
        (),
        (),
        delta,
        delta / abs(reference) if reference else None,
        passed,
        "" if passed else rule,
    )
    return check, {"metric": name, "artifact": value, "fp32": reference, "rule": rule}
