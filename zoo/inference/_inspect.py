"""`zoo inspect`: pictures of a trained model on data.

- hidden.png: the hidden state of the first sequence over time (every task);
- predictions.png (regression): prediction against truth; for a CSV time series along its
  rows, with the start of the validation windows marked when the file is the training file
  (its sha256 is the one recorded in the checkpoint), since predictions there were not
  trained on;
- confusion.png (classification): true class against predicted class, counts per cell.
"""

from __future__ import annotations

from pathlib import Path

from zoo.data._spec import CLASSIFICATION, Split
from zoo.inference import _plots as plots
from zoo.inference._metrics import confusion_counts
from zoo.inference._trained import TrainedModel, labelled_split, predict_split


def inspect(
    trained: TrainedModel,
    source: str,
    out: Path,
    seed: int | None = None,
    seq_len: int | None = None,
) -> list[Path]:
    """Draw the pictures above for `trained` on `source`; returns the PNG files written."""
    import torch

    plots.require()
    split = labelled_split(trained, source, seed, seq_len)
    module = trained.source.module
    with torch.no_grad():
        first = torch.from_numpy(split.x[:1])  # (1, seq, features)
        if split.lengths is None:
            hidden = module(first)[1][0].numpy()  # (seq, directions * hidden)
        else:  # the valid steps of a padded sequence only
            valid = int(split.lengths[0])
            hidden = module(first[:, :valid])[1][0].numpy()  # (valid, directions * hidden)
    name = trained.source.name
    written = [
        plots.hidden_heatmap(
            hidden, out / "hidden.png", f"{name}: hidden state over time, first sequence"
        )
    ]
    if trained.task == CLASSIFICATION:
        written.append(_confusion_plot(trained, split, out / "confusion.png"))
    else:
        written.append(_prediction_plot(trained, source, split, out / "predictions.png"))
    return written


def _prediction_plot(trained: TrainedModel, source: str, split: Split, path: Path) -> Path:
    assert trained.spec.scaling is not None
    pred = predict_split(trained, split)
    values = trained.spec.scaling.unscale_y(pred.numpy()[:, 0])
    truth = trained.spec.scaling.unscale_y(split.y[:, 0])
    title = f"{trained.source.name}: prediction vs truth ({trained.spec.source})"
    if split.rows is not None:  # CSV windows: a time series
        start = validation_start(trained, source, split)
        return plots.prediction_vs_truth(split.rows, truth, values, path, title, start)
    return plots.prediction_scatter(truth, values, path, title)


def validation_start(trained: TrainedModel, source: str, split: Split) -> int | None:
    """The first row of the validation windows when `source` is the training CSV (same
    sha256), as `zoo train` split it; None for any other file."""
    from zoo._fs import sha256_file
    from zoo.data._load import held_out

    spec = trained.spec
    if spec.kind != "csv" or split.rows is None or spec.val_fraction is None:
        return None
    if spec.file_sha256 is None or sha256_file(Path(source)) != spec.file_sha256:
        return None
    held = held_out(spec, split)
    return int(held.rows[0]) if held.rows is not None and len(held.rows) else None


def _confusion_plot(trained: TrainedModel, split: Split, path: Path) -> Path:
    spec = trained.spec
    predicted = predict_split(trained, split).argmax(dim=1).numpy()  # (n,)
    labels = list(spec.classes) or [str(i) for i in range(spec.output_size)]
    counts = confusion_counts(split.y, predicted, len(labels))
    title = f"{trained.source.name}: confusion matrix ({spec.source}, {len(split)} sequences)"
    return plots.confusion_matrix(counts, labels, path, title)
