"""`Scan`: a hand-written recurrent cell run over time, exportable with a dynamic sequence.

A cell written by hand (a loop over time with `nn.Linear` gates: a peephole LSTM, a minimal
gated unit, an IndRNN) exports badly on its own: torch.export specializes the loop to the
traced length, the legacy ONNX exporter unrolls it, and only TorchScript keeps it. `Scan`
runs a cell module over the time axis three ways, with the same numbers:

- eager PyTorch (training, `zoo eval`): a plain Python loop over the steps;
- TorchScript: the same loop, scripted (dynamic length);
- torch.export (pt2, the default ONNX route): `torch._higher_order_ops.scan`, which keeps
  `seq` symbolic in the exported program and becomes one ONNX `Scan` node.

The private torch API (`torch._higher_order_ops.scan`, torch 2.13) is used here and nowhere
else; tests/test_scan.py pins the behaviour relied on. The cell's contract::

    cell(x_t: Tensor (batch, features), states: List[Tensor]) -> (y_t, new_states)

`y_t` (batch, out) is the step's output, stacked into `hidden` (batch, seq, out); the states
are any number of (batch, ...) tensors. With `lengths` each sequence's states stop at its
own last valid step and `y` is zero past it, like a packed torch RNN.
"""

from typing import Any, Optional

import torch
from torch import Tensor, nn


@torch.jit.ignore  # type: ignore[untyped-decorator]
def _exporting() -> bool:
    """Whether torch.export (or the ONNX exporter built on it) is tracing the call."""
    return bool(torch.compiler.is_exporting())


class Scan(nn.Module):
    """Runs `cell` over the time axis of a batch-first `x` (see the module docstring)."""

    def __init__(self, cell: nn.Module) -> None:
        super().__init__()
        self.cell = cell

    def forward(
        self,
        x: Tensor,
        states: list[Tensor],
        lengths: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
    ) -> tuple[Tensor, list[Tensor]]:
        # x: (batch, seq, features); states: each (batch, ...); lengths: (batch,) int
        # torch.jit re-exports is_scripting without listing it: mypy's only complaint.
        if not torch.jit.is_scripting() and _exporting():  # type: ignore[attr-defined]
            return self._scan(x, states, lengths)
        ys: list[Tensor] = []
        for t in range(x.shape[1]):
            y, new = self.cell(x[:, t], states)  # y: (batch, out)
            if lengths is not None:
                valid = (lengths > t).unsqueeze(-1)  # (batch, 1): the step is in the sequence
                new = _keep(valid, new, states)
                y = y * valid.to(y.dtype)
            states = new
            ys.append(y)
        return torch.stack(ys, 1), states  # (batch, seq, out), final states

    @torch.jit.unused
    def _scan(
        self,
        x: Tensor,
        states: list[Tensor],
        lengths: Optional[Tensor],  # noqa: UP045
    ) -> tuple[Tensor, list[Tensor]]:
        from torch._higher_order_ops.scan import scan

        steps = torch.arange(x.shape[1], device=x.device).expand(x.shape[0], -1)  # (b, seq)
        limit = lengths if lengths is not None else torch.full_like(steps[:, 0], x.shape[1])

        def step(carry: list[Tensor], inputs: tuple[Tensor, Tensor]) -> tuple[Any, Tensor]:
            x_t, t = inputs  # (batch, features), (batch,)
            y, new = self.cell(x_t, list(carry))
            valid = (limit > t).unsqueeze(-1)  # (batch, 1)
            new = _keep(valid, new, list(carry))
            # scan's outputs must not alias its carry: a fresh tensor for y.
            return new, (y * valid.to(y.dtype)).clone()

        final, ys = scan(step, list(states), (x, steps), dim=1)
        return ys, list(final)


def _keep(valid: Tensor, new: list[Tensor], old: list[Tensor]) -> list[Tensor]:
    """Each state's new value where the step is valid (`valid`, (batch, 1)), else the old."""
    kept: list[Tensor] = []
    for i in range(len(new)):
        mask = valid.reshape([valid.shape[0]] + [1] * (new[i].dim() - 1))  # like the state
        kept.append(torch.where(mask, new[i], old[i]))
    return kept
