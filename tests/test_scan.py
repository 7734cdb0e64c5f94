"""`zoo.nn.Scan` and the torch 2.13 behaviour it relies on, pinned: the loop and
`torch._higher_order_ops.scan` compute the same, `torch.compiler.is_exporting()` tells
export from eager, torch.export keeps `seq` symbolic, TorchScript scripts and saves the loop,
and scan refuses outputs that alias its carry (why the step clones `y`)."""

from __future__ import annotations

import io
from typing import Optional

import pytest
import torch
from torch import Tensor, nn
from torch.export import Dim, export

import zoo.nn


class Cell(nn.Module):
    """An Elman cell with two states, to exercise lists of states."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = nn.Linear(3 + 4, 4)

    def forward(self, x: Tensor, states: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
        h = torch.tanh(self.gate(torch.cat([x, states[0]], -1)))
        return h, [h, states[1] + h]


class Model(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.scan = zoo.nn.Scan(Cell())

    def forward(
        self,
        x: Tensor,
        h0: Tensor,
        lengths: Optional[Tensor] = None,  # noqa: UP045
    ) -> tuple[Tensor, Tensor, Tensor]:
        hidden, states = self.scan(x, [h0, torch.zeros_like(h0)], lengths)
        return hidden, states[0], states[1]


@pytest.fixture
def model() -> Model:
    torch.manual_seed(0)
    return Model().eval()


LENGTHS = torch.tensor([9, 1, 4])


def _inputs(batch: int = 3, seq: int = 9) -> tuple[Tensor, Tensor]:
    return torch.randn(batch, seq, 3), torch.randn(batch, 4)


@pytest.mark.parametrize("lengths", [None, LENGTHS])
def test_the_loop_and_torch_scan_agree(model: Model, lengths: Tensor | None) -> None:
    x, h0 = _inputs()
    states = [h0, torch.zeros_like(h0)]
    loop = model.scan(x, states, lengths)
    scanned = model.scan._scan(x, states, lengths)  # the export path, run eagerly
    torch.testing.assert_close(scanned[0], loop[0], atol=1e-6, rtol=1e-5)
    for a, b in zip(scanned[1], loop[1], strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_lengths_stop_each_sequence_at_its_own_end(model: Model) -> None:
    x, h0 = _inputs()
    hidden, h_n, _ = model(x, h0, LENGTHS)
    for b, n in enumerate(LENGTHS.tolist()):
        alone, h_alone, _ = model(x[b : b + 1, :n], h0[b : b + 1])
        torch.testing.assert_close(h_n[b : b + 1], h_alone)
        torch.testing.assert_close(hidden[b : b + 1, :n], alone)
        assert bool((hidden[b, n:] == 0).all())


def test_is_exporting_tells_export_from_eager(model: Model) -> None:
    seen: list[bool] = []

    class Probe(nn.Module):
        def forward(self, x: Tensor) -> Tensor:
            seen.append(torch.compiler.is_exporting())
            return x + 1

    Probe()(torch.ones(1))
    export(Probe(), (torch.ones(1),))
    assert seen[0] is False and seen[-1] is True


def test_torch_export_keeps_seq_dynamic(model: Model) -> None:
    x, h0 = _inputs()
    batch, seq = Dim("batch"), Dim("seq")
    shapes = ({0: batch, 1: seq}, {0: batch}, {0: batch})
    program = export(model, (x, h0, LENGTHS), dynamic_shapes=shapes).module()
    for b, s in ((1, 1), (2, 33), (3, 120)):
        x, h0 = _inputs(b, s)
        lengths = torch.full((b,), s)
        lengths[0] = 1
        for got, want in zip(program(x, h0, lengths), model(x, h0, lengths), strict=True):
            torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-5)


def test_torchscript_scripts_and_saves_the_loop(model: Model) -> None:
    buffer = io.BytesIO()
    torch.jit.save(torch.jit.script(model), buffer)
    buffer.seek(0)
    loaded = torch.jit.load(buffer)
    x, h0 = _inputs(2, 17)
    for got, want in zip(loaded(x, h0, None), model(x, h0), strict=True):
        torch.testing.assert_close(got, want)


def test_torch_scan_refuses_outputs_that_alias_the_carry() -> None:
    """Why Scan's step returns `y.clone()`: scan rejects an output that is its carry."""
    from torch._higher_order_ops.scan import scan

    def step(carry: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        new = carry + x
        return new, new  # the same tensor as carry and output

    class Aliasing(nn.Module):
        def forward(self, x: Tensor) -> Tensor:
            return scan(step, torch.zeros(2), x, dim=0)[1]

    with pytest.raises(Exception, match=r"(?i)alias"):
        export(Aliasing(), (torch.ones(5, 2),))
