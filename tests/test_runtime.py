"""zoo's onnxruntime session defaults, in the one place sessions are made."""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort
import pytest

import zoo.export
from zoo._errors import ZooError
from zoo.export import _runtime as runtime


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZOO_ORT_THREADS", raising=False)
    options = runtime.session_options()
    assert options.intra_op_num_threads == runtime.DEFAULT_THREADS
    assert options.inter_op_num_threads == 1
    assert options.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL
    assert options.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


@pytest.mark.parametrize(
    ("value", "threads", "spinning"),
    [("3", 3, "1"), ("0", 0, "1"), ("1", 1, "0"), ("", None, "0")],
)
def test_zoo_ort_threads(
    monkeypatch: pytest.MonkeyPatch, value: str, threads: int | None, spinning: str
) -> None:
    monkeypatch.setenv("ZOO_ORT_THREADS", value)
    options = runtime.session_options()
    assert options.intra_op_num_threads == (runtime.DEFAULT_THREADS if threads is None else threads)
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == spinning
    assert runtime.session_options(threads=2).intra_op_num_threads == 2
    assert (
        runtime.session_options(2, spinning=False).get_session_config_entry(
            "session.intra_op.allow_spinning"
        )
        == "0"
    )


def test_the_onnx_runner_uses_zoo_sessions(
    monkeypatch: pytest.MonkeyPatch, plugins: object, tmp_path: Path
) -> None:
    from zoo.catalog._session import App
    from zoo.catalog._source import from_name
    from zoo.export._pipeline import export_model

    made: list[object] = []
    original = runtime.ort_session

    def spy(path: Path | str, **kwargs: object) -> object:
        made.append(path)
        return original(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(zoo.export, "ort_session", spy)  # the public name exporters import
    source = from_name(App(plugins), "rnn")  # type: ignore[arg-type]
    summary = export_model(source, [plugins.exporter("onnx")], tmp_path, legacy=True)  # type: ignore[attr-defined]
    assert summary.passed and len(made) == 1


@pytest.mark.parametrize("value", ["many", "-2", "1.5"])
def test_a_bad_zoo_ort_threads_is_an_error_not_the_default(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("ZOO_ORT_THREADS", value)
    with pytest.raises(ZooError, match="is not a whole number of threads"):
        runtime.session_options()
