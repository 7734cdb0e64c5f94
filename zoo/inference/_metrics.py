"""Running a model over a whole split, and the metrics training and `zoo eval` report.

Regression: `loss` is the MSE on the scaled targets (what training minimizes); `mse` and
`mae` are in the target's own units; `rel_mse` is `mse` over the variance of the true
targets (0 is perfect, 1 is what predicting their mean scores). Classification: `loss` is
the cross-entropy, `accuracy` the share of argmax hits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zoo.data._spec import CLASSIFICATION, Scaling

if TYPE_CHECKING:
    import torch

#: Sequences per forward pass when a whole split is run (bounds memory, not results).
CHUNK = 2048


def predict_tensor(
    module: Any, x: torch.Tensor, chunk: int = CHUNK, lengths: torch.Tensor | None = None
) -> torch.Tensor:
    """The model's `y` for every sequence of `x` (n, seq, features), in eval mode; with
    `lengths` (n,) the sequences are padded and run packed."""
    import torch

    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            parts = [
                module(x[i : i + chunk])[0]
                if lengths is None
                else module(x[i : i + chunk], lengths=lengths[i : i + chunk])[0]
                for i in range(0, x.shape[0], chunk)
            ]
    finally:
        module.train(was_training)
    return torch.cat(parts)  # (n, output_size)


def loss_function(task: str) -> Any:
    import torch

    return torch.nn.CrossEntropyLoss() if task == CLASSIFICATION else torch.nn.MSELoss()


def compute_metrics(
    task: str, pred: torch.Tensor, y: torch.Tensor, scaling: Scaling | None
) -> dict[str, float]:
    """The metrics of predictions `pred` (n, output_size) against targets `y` (see module)."""
    import torch

    if task == CLASSIFICATION:
        loss = torch.nn.functional.cross_entropy(pred, y)
        accuracy = (pred.argmax(dim=1) == y).float().mean()
        return {"loss": float(loss), "accuracy": float(accuracy)}
    y_std = scaling.y_std if scaling is not None else 1.0
    err = pred.double() - y.double()  # (n, 1), scaled units
    mse_scaled = float((err**2).mean())
    # y_std * y_std, not y_std**2: a float power raises OverflowError past 1.3e154, a
    # product is inf (written to JSON as null, with a note).
    variance = float(y.double().var(unbiased=False)) * y_std * y_std
    mse = mse_scaled * y_std * y_std
    return {
        "loss": mse_scaled,
        "mse": mse,
        "mae": float(err.abs().mean()) * y_std,
        "rel_mse": mse / variance if variance > 0 else float("nan"),
    }


def headline(task: str) -> str:
    """The metric a one-line summary leads with."""
    return "accuracy" if task == CLASSIFICATION else "rel_mse"


def format_metrics(metrics: dict[str, float], prefix: str = "") -> str:
    """'val_loss 0.0123  val_mse 0.0456 ...' in a stable order."""
    order = ("loss", "mse", "mae", "rel_mse", "accuracy")
    return "  ".join(f"{prefix}{key} {_number(metrics[key])}" for key in order if key in metrics)


def _number(value: float) -> str:
    return f"{value:.4g}"
