"""Parity: the proof that an artifact computes what the eager PyTorch model computes.

Every output of the contract (`y`, `hidden`, `h_n`, `c_n`) is compared at several shapes,
none of them the traced one: batch 1 and more, seq 1, a medium and a long (>= 500 steps)
sequence, with and without initial states. For unidirectional models a streaming case runs
the artifact chunk by chunk, feeding back its final states, against one full PyTorch pass.

An artifact exported with `lengths` is checked on padded batches with mixed lengths
(`LENGTHS_CASES`: length 1 and full length among them) instead: every output, `hidden`
over its full padded length, plus a check per sequence output that the artifact, like
PyTorch, writes exact zeros past each length (rows named `hidden past lengths`). Streaming
is not checked for those artifacts (the contract defines no lengths per chunk).

Every output must have the contract's dtype (float32) exactly. Tolerances follow
polygraphy's elementwise semantics: an element passes when its absolute
difference is <= atol OR its relative difference (|actual - expected| / |expected|) is
<= rtol; an output passes when every element does. Names and shapes must match exactly and
any NaN or inf fails.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zoo._contract import BATCH, LENGTHS, SEQ, IOContract
from zoo.parity._inputs import forward_args, make_inputs
from zoo.parity._report import OutputCheck, ParityReport

if TYPE_CHECKING:
    import numpy as np

Runner = Callable[[dict[str, "np.ndarray"]], dict[str, "np.ndarray"]]


@dataclass(frozen=True)
class Case:
    """One parity input: shape, whether initial states are given, optional streaming chunks."""

    batch: int
    seq: int
    states: bool
    chunks: tuple[int, ...] = ()

    @property
    def label(self) -> str:
        text = f"batch={self.batch} seq={self.seq}" + (" +states" if self.states else "")
        if self.chunks:
            text = f"stream {'+'.join(map(str, self.chunks))} " + text
        return text


DEFAULT_CASES: tuple[Case, ...] = (
    Case(1, 1, False),
    Case(3, 1, True),
    Case(1, 33, True),
    Case(4, 64, False),
    Case(2, 512, True),
)
STREAM_CASE = Case(2, 48, True, chunks=(1, 16, 31))
#: For artifacts with `lengths` (see `zoo.parity._inputs.mixed_lengths`): a single step, a batch of
#: length-1 sequences, one sequence padded to about twice its length, and mixed batches
#: whose shortest is 1 and longest is the full seq.
LENGTHS_CASES: tuple[Case, ...] = (
    Case(1, 1, False),
    Case(3, 1, True),
    Case(1, 33, True),
    Case(4, 64, False),
    Case(5, 512, True),
)
#: Suffix of the padding checks' output names: `hidden past lengths`.
PAST_LENGTHS = " past lengths"


def compare(
    case: str,
    name: str,
    expected: np.ndarray,
    actual: np.ndarray | None,
    atol: float,
    rtol: float,
    dtype: str = "float32",
) -> OutputCheck:
    """One output against its reference: the contract's `dtype` exactly (values are compared
    in float64, so a float16 output would otherwise pass), the same shape, finite values,
    then polygraphy-style elementwise tolerances."""
    import numpy as np

    shape = tuple(expected.shape)
    if actual is None:
        return OutputCheck(case, name, shape, None, None, None, False, "output missing")
    actual = np.asarray(actual)
    if actual.dtype != np.dtype(dtype):
        problem = f"dtype {actual.dtype}, the contract says {dtype}"
        return OutputCheck(case, name, shape, tuple(actual.shape), None, None, False, problem)
    if tuple(actual.shape) != shape:
        return OutputCheck(
            case,
            name,
            shape,
            tuple(actual.shape),
            None,
            None,
            False,
            f"shape {tuple(actual.shape)} != {shape}",
        )
    if not np.isfinite(expected).all():
        return OutputCheck(case, name, shape, shape, None, None, False, "reference has NaN/inf")
    if not np.isfinite(actual).all():
        return OutputCheck(
            case, name, shape, shape, None, None, False, "artifact output has NaN/inf"
        )
    diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    magnitude = np.abs(expected.astype(np.float64))
    rel = np.divide(diff, magnitude, out=np.where(diff > 0, np.inf, 0.0), where=magnitude > 0)
    bad = ~((diff <= atol) | (rel <= rtol))
    max_abs = float(diff.max()) if diff.size else 0.0
    max_rel = float(rel.max()) if rel.size else 0.0
    ok = not bool(bad.any())
    problem = ""
    if not ok:
        problem = (
            f"{int(bad.sum())} of {diff.size} elements outside atol {atol:g} and rtol {rtol:g} "
            f"(max abs diff {max_abs:.3g})"
        )
    return OutputCheck(case, name, shape, shape, max_abs, max_rel, ok, problem)


def check_padding(
    case: str, name: str, expected: np.ndarray, actual: np.ndarray, lengths: np.ndarray
) -> OutputCheck:
    """Exact zeros past each sequence's length (`seq` at axis 1), in reference and artifact."""
    import numpy as np

    label = name + PAST_LENGTHS
    steps = np.arange(expected.shape[1])
    past = steps[None, :] >= lengths[:, None]  # (batch, seq): True where padding
    shape = tuple(expected.shape)
    reference = float(np.abs(expected[past]).max(initial=0.0))
    if reference != 0.0:
        problem = f"eager PyTorch is not zero past each length (max |value| {reference:.3g})"
        return OutputCheck(case, label, shape, shape, None, None, False, problem)
    worst = float(np.abs(np.asarray(actual, np.float64)[past]).max(initial=0.0))
    problem = "" if worst == 0.0 else f"not zero past each length (max |value| {worst:.3g})"
    return OutputCheck(case, label, shape, shape, worst, None, not problem, problem)


@dataclass
class Reference:
    """Inputs for the artifact (states always given) and eager PyTorch's outputs."""

    case: Case
    inputs: dict[str, np.ndarray]
    expected: dict[str, np.ndarray]

    @property
    def label(self) -> str:
        """The case, with the lengths when the batch has them."""
        lengths = self.inputs.get(LENGTHS)
        if lengths is None:
            return self.case.label
        return f"{self.case.label} lengths=[{','.join(str(int(n)) for n in lengths)}]"


def references(
    model: Any,
    contract: IOContract,
    cases: Sequence[Case] | None = None,
    stream: bool = True,
) -> list[Reference]:
    """Run the eager model once per case; reused for every artifact.

    `cases` defaults to `LENGTHS_CASES` for a contract with lengths, else `DEFAULT_CASES`
    plus, where the contract can stream and `stream`, `STREAM_CASE`.
    """
    import torch

    if cases is None:
        cases = LENGTHS_CASES if contract.has_lengths else DEFAULT_CASES
    chosen = list(cases) + ([STREAM_CASE] if stream and contract.can_stream else [])
    refs = []
    # One intra-op thread: every case is a recurrence over batch <= 4, whose per-step ops are
    # too small to split; a second thread only adds a hand-off per op (and waits for a core
    # on a busy machine). The numbers are eager PyTorch's either way.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for i, case in enumerate(chosen):
            refs.append(_reference(model, contract, case, seed=1000 + i))
    finally:
        torch.set_num_threads(threads)
    return refs


def eager_runner(model: Any, contract: IOContract) -> Runner:
    """The eager model as a runner: the contract's inputs in, its outputs out, as arrays."""
    import torch

    def run(feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        with torch.no_grad():
            outputs = model(*forward_args(contract, feeds))
        return {n: t.detach().numpy() for n, t in zip(contract.output_names, outputs, strict=True)}

    return run


def _reference(model: Any, contract: IOContract, case: Case, seed: int) -> Reference:
    """One case's inputs (absent states as the zeros the artifact gets) and eager outputs.

    A streaming case runs eager PyTorch the way the artifact will run: chunk by chunk, each
    call fed the states the previous one returned. Parity compares the two under the same
    calls; whether that equals one full pass is the architecture's own property
    (`Architecture.streamable`), which the test kit checks.
    """
    import numpy as np

    given = make_inputs(contract, case.batch, case.seq, states=case.states, seed=seed)
    full = dict(given)
    for spec in contract.state_specs:  # absent states are zeros for the artifact
        if spec.name not in full:
            full[spec.name] = np.zeros(
                spec.concrete(**{BATCH: case.batch, SEQ: case.seq}), np.float32
            )
    runner = eager_runner(model, contract)
    expected = stream(runner, contract, full, case.chunks) if case.chunks else runner(given)
    return Reference(case, full, expected)


def stream(
    runner: Runner, contract: IOContract, inputs: dict[str, np.ndarray], chunks: Sequence[int]
) -> dict[str, np.ndarray]:
    """Feed `runner` the sequence in chunks, carrying its final states between calls: the
    last call's outputs, with the sequence outputs of every call concatenated."""
    import numpy as np

    x_name = contract.input_names[0]
    states = {n: inputs[n] for n in contract.state_inputs}
    pieces: dict[str, list[np.ndarray]] = {n: [] for n in contract.sequence_outputs}
    last: dict[str, np.ndarray] = {}
    start = 0
    for size in chunks:
        chunk = {
            x_name: np.ascontiguousarray(inputs[x_name][:, start : start + size]),
            **states,
        }
        last = runner(chunk)
        for name in contract.sequence_outputs:
            pieces[name].append(last[name])
        states = {
            i: last[o] for i, o in zip(contract.state_inputs, contract.state_outputs, strict=True)
        }
        start += size
    return {**last, **{n: np.concatenate(p, axis=1) for n, p in pieces.items()}}


def check_runner(
    runner: Runner,
    contract: IOContract,
    refs: Sequence[Reference],
    *,
    artifact: str,
    exporter: str,
    atol: float,
    rtol: float,
) -> ParityReport:
    """Compare an artifact's runner against the references; never raises on a mismatch."""
    report = ParityReport(artifact, exporter, atol, rtol)
    for ref in refs:
        try:
            actual = (
                stream(runner, contract, ref.inputs, ref.case.chunks)
                if ref.case.chunks
                else runner(ref.inputs)
            )
        except Exception as exc:  # the runtime refused the input: a parity failure, named
            for name in contract.output_names:
                report.checks.append(
                    OutputCheck(
                        ref.label,
                        name,
                        ref.expected[name].shape,
                        None,
                        None,
                        None,
                        False,
                        f"runtime error: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}",
                    )
                )
            continue
        for spec in contract.outputs:
            name = spec.name
            expected = ref.expected[name]
            check = compare(ref.label, name, expected, actual.get(name), atol, rtol, spec.dtype)
            report.checks.append(check)
            shaped = check.actual_shape == check.expected_shape
            if LENGTHS in ref.inputs and name in contract.sequence_outputs and shaped:
                report.checks.append(
                    check_padding(
                        ref.label, name, ref.expected[name], actual[name], ref.inputs[LENGTHS]
                    )
                )
    return report
