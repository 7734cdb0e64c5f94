"""zoo's onnxruntime sessions for batch work: a large model gets a thread per core inside
`batch_sessions`, a small one and everything outside the block keep one thread, and
`ZOO_ORT_THREADS` still decides when set. Which is faster is `zoo bench`'s business."""

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


def test_predict_runs_the_data_set_in_a_batch_session(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zoo.export import _batch

    asked: list[str] = []

    def spy(path: Path) -> int:
        asked.append(path.name)
        return 1

    monkeypatch.setattr(_batch, "batch_threads", spy)
    run = tmp_path / "run"
    tiny = ("--samples", "64", "--seq-len", "8", "--epochs", "1", "--set", "hidden_size=8")
    assert invoke("train", "lstm", "--data", "sine", *tiny, "--out", str(run)).exit_code == 0
    export = invoke("export", "--checkpoint", str(run), "--onnx", "--out", str(tmp_path))
    assert export.exit_code == 0 and asked == []  # parity: one-thread sessions
    result = invoke(
        "predict", "--checkpoint", str(run), "--data", "sine",
        "--runtime", "onnx", "--artifact", str(tmp_path / "run-trained.onnx"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert asked == ["run-trained.onnx"]  # the proof's session, then one batch session
