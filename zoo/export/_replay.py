"""Replay an artifact's test data bundle on a runtime: `zoo verify` where torch is not.

Every single-call set is fed as recorded; a stream is fed chunk by chunk with the states
CARRIED the way a consumer must: each call's state inputs are the previous call's outputs
named by the artifact's own contract (`zoo.io` `state_map`), never the recorded ones. So a
wrong wiring in the contract (h_n fed to c0), a dropped state output or a tampered weight
fails the outputs, whatever the manifest's digests say. The result is a `ParityReport`,
printed as the same table as a proof against PyTorch.

Importing this module, and replaying, imports no torch (a test runs it with torch blocked).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from zoo._contract import LENGTHS
from zoo._errors import ZooError
from zoo.export._bundle import Bundle, CaseData
from zoo.export._runtimes import describe
from zoo.parity._check import check_padding, compare
from zoo.parity._report import OutputCheck, ParityReport

if TYPE_CHECKING:
    import numpy as np

    from zoo.parity._check import Runner

#: Row label of the check a task-judged lossy artifact cannot pass from its bundle alone.
TASK_METRIC = "task metric"


def state_map(io: Mapping[str, Any]) -> dict[str, str]:
    """Output name -> the input it feeds on the next call, from a `zoo.io` contract (files
    written before `state_map` existed: derived from `states`, h -> h_n feeds h0)."""
    recorded = io.get("state_map")
    if recorded is None:
        return {f"{s}_n": f"{s}0" for s in io.get("states", [])}
    if not isinstance(recorded, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in recorded.items()
    ):
        raise ZooError("The artifact's metadata 'zoo.io' has a malformed 'state_map'.")
    return dict(recorded)


def replay(
    bundle: Bundle,
    runner: Runner,
    io: Mapping[str, Any],
    *,
    artifact: str,
    label: str,
    accept_elementwise: bool = False,
    atol: float | None = None,
    rtol: float | None = None,
    task_proven: bool = False,
) -> ParityReport:
    """Run every set of `bundle` on `runner` against its recorded outputs, with the
    tolerances the export used unless `atol`/`rtol`; never raises on a mismatch. `io` is
    the artifact's `zoo.io` contract (output dtypes, state map). `task_proven`: a full
    proof beside this replay already judged a lossy artifact by its task metric."""
    report = ParityReport(
        artifact,
        label,
        bundle.atol if atol is None else atol,
        bundle.rtol if rtol is None else rtol,
    )
    report.info["bundle"] = str(bundle.path)
    report.info["reference"] = "recorded eager PyTorch outputs (torch-free replay)"
    feeds_map = state_map(io)
    dtypes = {n: str(spec.get("dtype", "float32")) for n, spec in io.get("outputs", {}).items()}
    sequence = {str(n) for n in io.get("sequence_outputs", [])}
    for test in bundle.sets:
        _replay_set(report, test, runner, feeds_map, dtypes, sequence)
    if not bundle.manifest.get("elementwise_decides", True):
        _task_judged(report, accept_elementwise, task_proven)
    return report


def _replay_set(
    report: ParityReport,
    test: CaseData,
    runner: Runner,
    feeds_map: dict[str, str],
    dtypes: dict[str, str],
    sequence: set[str],
) -> None:
    """One set: a single call, or a stream whose states are carried by `feeds_map`;
    `sequence` outputs are also checked for exact zeros past each of a batch's lengths."""
    carried: dict[str, np.ndarray] = {}
    for k, call in enumerate(test.calls):
        case = f"{test.case} call {k + 1}/{len(test.calls)}" if test.stream else test.case
        feeds = dict(call.inputs)
        if test.stream and k > 0:  # the states this runtime returned, never the recorded ones
            feeds = {n: v for n, v in feeds.items() if n not in feeds_map.values()} | carried
        try:
            actual = runner(feeds)
        except Exception as exc:  # the runtime refused: every output of this call fails
            problem = f"runtime error: {describe(exc)}"
            for name, expected in call.outputs.items():
                report.checks.append(
                    OutputCheck(case, name, expected.shape, None, None, None, False, problem)
                )
            return
        for name, expected in call.outputs.items():
            got = actual.get(name)
            check = compare(
                case, name, expected, got, report.atol, report.rtol, dtypes.get(name, "float32")
            )
            report.checks.append(check)
            lengths = call.inputs.get(LENGTHS)
            shaped = check.actual_shape == check.expected_shape
            if lengths is not None and name in sequence and shaped and got is not None:
                report.checks.append(check_padding(case, name, expected, got, lengths))
        carried = {feeds_map[o]: actual[o] for o in feeds_map if o in actual}


def _task_judged(report: ParityReport, accept_elementwise: bool, task_proven: bool) -> None:
    """A lossy artifact the export judged by its task metric: the elementwise rows inform;
    the verdict needs the checkpoint's data and torch (`task_proven`: the full proof beside
    this replay had them), unless `accept_elementwise`."""
    if accept_elementwise:
        return
    for check in report.checks:
        check.advisory = True
    if task_proven:
        report.info["task_metric"] = "judged by the full proof's task metric"
        return
    problem = (
        "the export judged this lossy artifact by its task metric, which needs torch and the "
        "checkpoint's data; pass --accept-elementwise to judge it by the elementwise rows"
    )
    report.checks.append(
        OutputCheck(TASK_METRIC, TASK_METRIC, (), None, None, None, False, problem)
    )
