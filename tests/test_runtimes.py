"""Replaying a bundle on every ONNX runtime (zoo.export._runtimes), each optional: a runtime
that is missing or refuses the file is shown as such and never counted as a pass."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from bundle_support import copy_artifact, edit_artifact, scale_recurrent_weight

from zoo.export._bundle import Bundle, Call, CaseData
from zoo.export._deployed import Verdict
from zoo.export._replay import replay
from zoo.export._runtimes import (
    _NEEDS,
    RUNTIMES,
    RuntimeUnavailable,
    open_runner,
    refused_at_once,
)

#: Known upstream disagreements with `lengths` (docs/deploy.md, "Runtime matrix"): these
#: runtimes run every sequence to the padded length. If one starts passing, upstream fixed
#: it: update docs/deploy.md and this set.
IGNORE_SEQUENCE_LENS = {"onnx-reference", "openvino"}
#: Refuses a `sequence_lens` that is not a constant.
NO_DYNAMIC_LENGTHS = {"tract"}


def _needs(runtime: str) -> None:
    pytest.importorskip(_NEEDS[runtime][0])


@pytest.fixture(scope="module")
def exported(cli: Callable[..., Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runtimes")
    for arch in ("rnn", "lstm"):
        for extra in ((), ("--lengths",)):
            where = out / ("lengths" if extra else "plain")
            result = cli(
                "export", arch, "--onnx", "--set", "hidden_size=8", *extra, "--out", str(where)
            )
            assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("arch", ["rnn", "lstm"])
def test_every_runtime_replays_a_plain_export(
    cli: Callable[..., Any], exported: Path, runtime: str, arch: str
) -> None:
    _needs(runtime)
    result = cli("verify", str(exported / "plain" / f"{arch}.onnx"), "--runtime", runtime)
    assert result.exit_code == 0, result.output
    assert "h_n (stream)" in result.output and "FAIL" not in result.output


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_lengths_disagreements_are_never_a_pass(
    cli: Callable[..., Any], exported: Path, runtime: str
) -> None:
    _needs(runtime)
    result = cli("verify", str(exported / "lengths" / "lstm.onnx"), "--runtime", runtime)
    if runtime in IGNORE_SEQUENCE_LENS:
        assert result.exit_code == 1 and "FAIL" in result.output
        assert "hidden past lengths" in result.output
    elif runtime in NO_DYNAMIC_LENGTHS:
        assert result.exit_code == 1 and "unsupported" in result.output
    else:
        assert result.exit_code == 0, result.output


def test_runtime_all_prints_one_matrix(cli: Callable[..., Any], exported: Path) -> None:
    result = cli("verify", str(exported / "lengths" / "lstm.onnx"), "--runtime", "all", "--json")
    data = json.loads(result.stdout)
    assert set(RUNTIMES) <= set(data["bundle"])
    assert data["bundle"]["onnxruntime"]["passed"]
    failing = {name for name, r in data["bundle"].items() if not r["passed"]}
    installed = {r for r in RUNTIMES if importlib.util.find_spec(_NEEDS[r][0]) is not None}
    assert (IGNORE_SEQUENCE_LENS & installed) <= failing
    assert result.exit_code == (1 if IGNORE_SEQUENCE_LENS & installed else 0)
    table = cli("verify", str(exported / "plain" / "rnn.onnx"), "--runtime", "all")
    assert table.exit_code == 0, table.output
    assert table.output.splitlines()[0].split() == [
        "RUNTIME",
        "OUTPUT",
        "CASES",
        "MAX",
        "ABS",
        "RESULT",
    ]


def test_a_missing_runtime_is_not_installed(
    exported: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "openvino", None)  # import openvino -> ImportError
    with pytest.raises(RuntimeUnavailable) as info:
        open_runner("openvino", exported / "plain" / "lstm.onnx")
    assert info.value.state == "not installed"
    assert "pip install zoo-rnn[openvino]" in str(info.value)
    verdict = Verdict(None, [("openvino", info.value)], matrix=True)
    assert not verdict.passed  # nothing ran: not a pass


def _relu_rnn(path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weights = [
        numpy_helper.from_array(rng.standard_normal((1, 3, n)).astype(np.float32), name)
        for name, n in (("W", 2), ("R", 3))
    ]
    node = helper.make_node("RNN", ["x", "W", "R"], ["y", "h_n"], hidden_size=3,
                            activations=["Relu"])  # fmt: skip
    graph = helper.make_graph(
        [node],
        "relu_rnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 1, 2])],
        [
            helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 1, 1, 3]),
            helper.make_tensor_value_info("h_n", TensorProto.FLOAT, [1, 1, 3]),
        ],
        weights,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))


def test_an_op_a_runtime_lacks_is_unsupported(tmp_path: Path) -> None:
    """onnx.reference has no Relu activation for RNN: the file is refused, not passed."""
    _needs("onnx-reference")
    path = tmp_path / "relu.onnx"
    _relu_rnn(path)
    with pytest.raises(RuntimeUnavailable) as info:
        open_runner("onnx-reference", path)
    assert info.value.state == "unsupported" and "Relu" in info.value.reason


def test_a_runtime_that_raises_on_every_call_is_unsupported(tmp_path: Path) -> None:
    """Found only when running (not when loading): unsupported; a wrong number still fails."""
    x = np.ones((1, 2, 3), np.float32)
    bundle = Bundle(
        tmp_path,
        {"atol": 1e-5, "rtol": 1e-4},
        (CaseData("one", False, (Call({"x": x}, {"y": x}),)),),
    )
    io: dict[str, Any] = {"outputs": {"y": {"dtype": "float32"}}}

    def refuses(feeds: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError("op Foo is not implemented")

    report = replay(bundle, refuses, io, artifact="a", label="r")
    unsupported = refused_at_once("r", report)
    assert unsupported is not None and "op Foo" in unsupported.reason
    wrong = replay(bundle, lambda feeds: {"y": feeds["x"] + 1}, io, artifact="a", label="r")
    assert not wrong.passed and refused_at_once("r", wrong) is None
    right = replay(bundle, lambda feeds: {"y": feeds["x"]}, io, artifact="a", label="r")
    assert right.passed


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_tampered_weight_fails_on_every_runtime(
    cli: Callable[..., Any], exported: Path, tmp_path: Path, runtime: str
) -> None:
    """Each runtime's outputs are compared with PyTorch's recorded ones, not with themselves:
    an edited recurrent weight, with the manifest re-pinned to the edited file as an attacker
    would, fails on every runtime that runs the file."""
    _needs(runtime)
    artifact = copy_artifact(exported, tmp_path)
    edit_artifact(artifact, scale_recurrent_weight)
    result = cli("verify", str(artifact), "--runtime", runtime)
    assert result.exit_code == 1 and "FAIL" in result.output, result.output
