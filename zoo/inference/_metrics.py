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
    import numpy as np
    import torch

    from zoo._contract import IOContract

#: Sequences per forward pass when a whole split is run (bounds memory, not results).
CHUNK = 2048
#: Values of the per-step output (`hidden`, batch x steps x width) one forward pass may
#: build: 64 Mi float32 = 256 MiB. Only `y` is kept, but the contract's forward computes
#: `hidden` too; at seq 50 and hidden 20 all `CHUNK` sequences still fit one pass.
CHUNK_ELEMENTS = 1 << 26


def _width(module: Any, x: torch.Tensor) -> int:
    """The width of `module`'s `hidden` (or of `x`, if wider), from a forward pass on one
    step of one sequence."""
    width = int(module(x[:1, :1])[1].shape[-1])  # hidden: (1, 1, directions * hidden)
    return max(width, int(x.shape[2]), 1)


def chunk_rows(module: Any, x: torch.Tensor, chunk: int = CHUNK) -> int:
    """Sequences of `x` (n, seq, features) per forward pass of `module` over whole
    sequences: at most `chunk`, and few enough that the pass's `hidden` output stays within
    `CHUNK_ELEMENTS`."""
    import torch

    if x.shape[0] == 0:
        return chunk
    with torch.no_grad():
        width = _width(module, x)
    return max(1, min(chunk, CHUNK_ELEMENTS // (x.shape[1] * width)))


def predict_tensor(
    module: Any,
    x: torch.Tensor,
    chunk: int = CHUNK,
    lengths: torch.Tensor | None = None,
    stream: IOContract | None = None,
) -> torch.Tensor:
    """The model's `y` for every sequence of `x` (n, seq, features), in eval mode; with
    `lengths` (n,) the sequences are padded and run packed.

    Memory per forward pass stays within `CHUNK_ELEMENTS` of `hidden`. With `stream`, the
    model's contract when a stream equals one pass (`contract.can_stream` and the
    architecture's `streamable`: a sequence may run in pieces, each starting from the last
    one's final states), `chunk` sequences run together over as many steps at a time as
    fit, so long sequences cost no extra steps; otherwise (bidirectional, padded, or a model
    that looks ahead in time) fewer sequences run per pass.
    """
    import torch

    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            width = _width(module, x) if x.shape[0] else 1
            seq = int(x.shape[1])
            rows = max(1, min(chunk, int(x.shape[0])))
            steps = max(1, CHUNK_ELEMENTS // (rows * width))
            if lengths is not None or stream is None or steps >= seq:
                rows = max(1, min(chunk, CHUNK_ELEMENTS // (seq * width)))
                steps = seq
            parts = []
            for i in range(0, x.shape[0], rows):
                piece = x[i : i + rows]
                if lengths is not None:
                    parts.append(module(piece, lengths=lengths[i : i + rows])[0])
                    continue
                states: dict[str, Any] = {}
                for t in range(0, seq, steps):
                    out = module(piece[:, t : t + steps], **states)
                    if stream is not None:  # the final states start the next piece
                        named = dict(zip(stream.output_names, out, strict=True))
                        states = {
                            i: named[o]
                            for i, o in zip(stream.state_inputs, stream.state_outputs, strict=True)
                        }
                parts.append(out[0])
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


def confusion_counts(truth: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """(classes, classes) int64 counts: row = true class, column = predicted class."""
    import numpy as np

    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (truth.astype(np.int64), predicted.astype(np.int64)), 1)
    return counts
