"""zoo's onnxruntime sessions for batch work: a large model gets a thread per core inside
`batch_sessions`, a small one and everything outside the block keep one thread, and
`ZOO_ORT_THREADS` still decides when set; `zoo predict --runtime onnx` runs on the faster
of a one-thread and a thread-per-core session. Which is faster is `zoo bench`'s business."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from zoo.export import ort_session  # noqa: E402
from zoo.export._batch import LARGE_MODEL_BYTES  # noqa: E402
from zoo.export._runtime import batch_sessions  # noqa: E402


def _model(path: Path, weight_floats: int) -> Path:
    """y = x + w[:1]: an ONNX file about `4 * weight_floats` bytes large."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.zeros(weight_floats, np.float32), "w")
    graph = helper.make_graph(
        [
            helper.make_node("Slice", ["w", "zero", "one"], ["w1"]),
            helper.make_node("Add", ["x", "w1"], ["y"]),
        ],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        [
            w,
            numpy_helper.from_array(np.array([0]), "zero"),
            numpy_helper.from_array(np.array([1]), "one"),
        ],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))
    return path


def _threads(session: object) -> int:
    return int(session.get_session_options().intra_op_num_threads)  # type: ignore[attr-defined]


@pytest.fixture
def large(tmp_path: Path) -> Path:
    path = _model(tmp_path / "large.onnx", LARGE_MODEL_BYTES // 4 + 1000)
    assert path.stat().st_size >= LARGE_MODEL_BYTES
    return path


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return _model(tmp_path / "small.onnx", 10)


def test_batch_work_on_a_large_model_gets_a_thread_per_core(large: Path, small: Path) -> None:
    with batch_sessions():
        assert _threads(ort_session(large)) == 0
        assert _threads(ort_session(small)) == 1
        assert _threads(ort_session(large, threads=1)) == 1
    assert _threads(ort_session(large)) == 1  # the parity proof and streaming: one thread


def test_zoo_ort_threads_still_decides(large: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOO_ORT_THREADS", "1")
    with batch_sessions():
        assert _threads(ort_session(large)) == 1


def test_the_faster_of_two_takes_the_faster_and_rechecks() -> None:
    """Each runner gets a warm-up and a timed call first; then the faster per row takes the
    calls, the other one every RECHECK_EVERY-th, and a change of speed is followed."""
    from zoo.export._batch import MARGIN, RECHECK_EVERY, FasterOfTwo

    now = [0.0]
    cost = {"one": 1.0, "many": 0.5}
    pick = FasterOfTwo("one", "many", clock=lambda: now[0])
    seen: list[str] = []

    def work(runner: str) -> str:
        now[0] += cost[runner] * 10
        seen.append(runner)
        return runner

    for _ in range(2 * RECHECK_EVERY):
        pick.run(work, 10)
    assert seen[:4] == ["one", "many", "one", "many"]
    assert seen[4:].count("one") == 2  # one recheck per RECHECK_EVERY calls
    cost["many"] = 2.0  # the other cores got busy: the next recheck of "one" wins it back
    for _ in range(2 * RECHECK_EVERY):
        pick.run(work, 10)
    assert seen[-RECHECK_EVERY // 2 :].count("one") >= RECHECK_EVERY // 2 - 1
    tie = FasterOfTwo("one", "many", clock=lambda: now[0])
    cost.update(one=1.0, many=1.0 / (MARGIN * 0.99))  # faster, but within the margin
    for _ in range(8):
        tie.run(work, 10)
    assert seen[-4:] == ["one"] * 4


@pytest.mark.parametrize("data", ["sine", "freq-var"])
def test_predict_runs_the_data_set_on_both_sessions(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: str
) -> None:
    """`zoo predict --runtime onnx` proves the file in a one-thread session, then runs the
    data set in calls of CALL_ROWS (here 8) on that one and a thread-per-core session of the
    same file: the predictions are eager PyTorch's, with each call's own lengths (freq-var:
    variable-length sequences)."""
    import json

    import zoo.export
    from zoo.inference import _trained

    made: list[Any] = []
    session = zoo.export.ort_session

    def spy(path: Path, **kwargs: Any) -> Any:
        made.append(session(path, **kwargs))
        return made[-1]

    monkeypatch.setattr(zoo.export, "ort_session", spy)  # what exporters' `load` calls
    monkeypatch.setattr(_trained, "CALL_ROWS", 8)
    run = tmp_path / "run"
    tiny = ("--samples", "64", "--seq-len", "8", "--epochs", "1", "--set", "hidden_size=8")
    assert invoke("train", "lstm", "--data", data, *tiny, "--out", str(run)).exit_code == 0
    lengths = ["--lengths"] if data == "freq-var" else []
    export = invoke("export", "--checkpoint", str(run), "--onnx", *lengths, "--out", str(tmp_path))
    assert export.exit_code == 0, export.output
    made.clear()
    predict = ("predict", "--checkpoint", str(run), "--data", data, "--json")
    artifact = ("--runtime", "onnx", "--artifact", str(tmp_path / "run-trained.onnx"))
    result = invoke(*predict, *artifact)
    assert result.exit_code == 0, result.output
    assert [_threads(s) for s in made] == [1, 0]  # the proof's session, then the batch one
    eager = invoke(*predict)
    rows, expected = json.loads(result.stdout), json.loads(eager.stdout)
    assert len(rows) == len(expected) > 8
    for got, want in zip(rows, expected, strict=True):
        if "probability" in want:  # classification: the class and its probability
            assert got["prediction"] == want["prediction"]
            assert got["probability"] == pytest.approx(want["probability"], abs=1e-5)
        else:
            assert got["prediction"] == pytest.approx(want["prediction"], abs=1e-5)
