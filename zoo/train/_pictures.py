"""The pictures a training run leaves in its folder (rank 0, when matplotlib is installed):

    loss.png        training and validation loss per epoch, the best epoch marked
    accuracy.png    classification: validation accuracy per epoch
    confusion.png   classification: the best epoch's confusion matrix on the validation set

Drawn once, after the last epoch, from the run's history and its best weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from zoo.data._spec import CLASSIFICATION
from zoo.train._reporter import Reporter
from zoo.train._settings import ACCURACY_PLOT, CONFUSION_PLOT, LOSS_PLOT

if TYPE_CHECKING:
    import numpy as np

    from zoo.train._loop import Loop


def draw_run(loop: Loop, out: Path, reporter: Reporter) -> list[Path]:
    """Draw the pictures above into `out`; the files written (none without matplotlib,
    which the reporter is told once)."""
    from zoo.inference import _plots as plots

    if not plots.available():
        reporter.note(f"loss curves not saved: {plots.MISSING}")
        return []
    written = [plots.loss_curves(loop.history, out / LOSS_PLOT)]
    spec = loop.dataset.spec
    if spec.task == CLASSIFICATION:
        written.append(plots.accuracy_curve(loop.history, out / ACCURACY_PLOT))
        labels = list(spec.classes) or [str(i) for i in range(spec.output_size)]
        title = f"{loop.name}: confusion matrix, best epoch {loop.best_epoch} (validation)"
        counts = best_confusion(loop, len(labels))
        written.append(plots.confusion_matrix(counts, labels, out / CONFUSION_PLOT, title))
    return written


def best_confusion(loop: Loop, classes: int) -> np.ndarray:
    """The best epoch's confusion counts on the validation set (a fresh model with the best
    weights, so the training model, wrapped or not, stays as it is)."""
    from zoo.inference._metrics import confusion_counts, predict_tensor

    model = loop.arch.build(**loop.config).to(loop.device)
    model.load_state_dict(loop.best_state, strict=True)
    pred = predict_tensor(model, loop.x_val, lengths=loop.len_val)  # (n_val, classes)
    predicted = pred.argmax(dim=1).cpu().numpy()
    return confusion_counts(loop.y_val.cpu().numpy(), predicted, classes)
