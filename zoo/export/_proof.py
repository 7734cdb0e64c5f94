"""The proof that one artifact's runner computes what its source model computes: the
elementwise parity of every output, and for a lossy format (`Exporter.task_metric`) of a
trained checkpoint its task metric against fp32. Export, `zoo verify` and
`zoo predict --runtime onnx` all prove an artifact through `prove`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo._contract import IOContract
from zoo._spec import Exporter
from zoo.catalog._source import SourceModel
from zoo.export._job import export_contract
from zoo.parity._check import Reference, Runner, check_runner, references
from zoo.parity._report import OutputCheck, ParityReport

Progress = Callable[[str], None]

#: The label of the check that fails when a task metric is due but cannot be computed.
TASK_METRIC = "task metric"


@dataclass(frozen=True)
class TaskJudge:
    """How a lossy format of a trained checkpoint is judged.

    `data`: labelled data for its task metric (default: the checkpoint's own: a built-in
    task's test split, or the training CSV found where training read it and checked by its
    recorded digest, held-out windows only). `accept_elementwise`: when the task metric
    cannot be computed, let the elementwise tolerance decide instead of failing.
    """

    data: Path | None = None
    accept_elementwise: bool = False


#: The default: the checkpoint's own data; no task metric, no pass.
DEFAULT_JUDGE = TaskJudge()


def prove(
    source: SourceModel,
    exporter: Exporter,
    runner: Runner,
    contract: IOContract,
    refs: Sequence[Reference],
    *,
    artifact: str,
    atol: float | None = None,
    rtol: float | None = None,
    judge: TaskJudge = DEFAULT_JUDGE,
    progress: Progress = lambda _: None,
) -> ParityReport:
    """Every output against the references (`atol`/`rtol` default to the exporter's), then,
    for a lossy format, the task metric's verdict."""
    report = check_runner(
        runner,
        contract,
        refs,
        artifact=artifact,
        exporter=exporter.name,
        atol=exporter.atol if atol is None else atol,
        rtol=exporter.rtol if rtol is None else rtol,
    )
    if exporter.task_metric:
        _judge_by_task(report, source, contract, runner, judge, progress)
    return report


def prove_artifact(
    source: SourceModel,
    exporter: Exporter,
    runner: Runner,
    *,
    lengths: bool,
    artifact: str,
    atol: float | None = None,
    rtol: float | None = None,
    judge: TaskJudge = DEFAULT_JUDGE,
) -> ParityReport:
    """`prove` on the default parity cases of `source`'s export contract (with the `lengths`
    input when the artifact takes it): what `zoo verify` and `zoo predict --runtime onnx`
    run on a file they did not just export."""
    contract = export_contract(source, lengths)
    refs = references(source.module, contract)
    return prove(source, exporter, runner, contract, refs, artifact=artifact, atol=atol,
                 rtol=rtol, judge=judge)  # fmt: skip


def _judge_by_task(
    report: ParityReport,
    source: SourceModel,
    contract: IOContract,
    runner: Any,
    judge: TaskJudge,
    progress: Progress,
) -> None:
    """On a trained checkpoint the task metric decides and the elementwise rows inform;
    without one (random weights) the elementwise tolerance keeps deciding. A task metric
    that is due but cannot be computed fails, unless `judge.accept_elementwise`."""
    from zoo.parity._task_metric import task_check

    outcome = task_check(source, contract, runner, judge.data)
    if outcome is None:
        report.info["task_metric"] = "no trained checkpoint: judged by its elementwise tolerance"
        return
    if isinstance(outcome, str):
        report.info["task_metric"] = outcome
        if judge.accept_elementwise:
            progress(
                f"{report.exporter}: the task metric cannot be computed ({outcome}); judged by "
                "its elementwise tolerance, as --accept-elementwise asks"
            )
            return
        problem = (
            f"cannot be computed: {outcome}. Pass --accept-elementwise to judge it by its "
            "elementwise tolerance instead"
        )
        progress(f"{report.exporter}: the task metric {problem}")
        report.checks.append(
            OutputCheck(TASK_METRIC, TASK_METRIC, (), None, None, None, False, problem)
        )
        return
    check, numbers = outcome
    for elementwise in report.checks:
        elementwise.advisory = True
    report.checks.append(check)
    report.info["task_metric"] = numbers
