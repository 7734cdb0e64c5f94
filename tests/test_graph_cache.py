"""The ONNX graph cache (zoo.export.cached_graph): a graph from the cache makes the same file
as a fresh export, skips torch's exporter, and nothing wrong or planted in the cache passes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

import zoo
from zoo.catalog._session import App
from zoo.catalog._source import SourceModel, from_name
from zoo.export import _graph_cache as graph_cache
from zoo.export._job import ExportJob
from zoo.export._pipeline import ArtifactResult, export_model


def _source(plugins: zoo.Plugins, name: str, seed: int, **config: Any) -> SourceModel:
    return from_name(App(plugins), name, config or None, seed=seed)


def _export(
    plugins: zoo.Plugins, source: SourceModel, out: Path, exporter: str = "onnx", **kw: Any
) -> ArtifactResult:
    (result,) = export_model(source, [plugins.exporter(exporter)], out, **kw).artifacts
    assert result.passed, result.to_dict()
    return result


def _cache_state(result: ArtifactResult) -> str:
    assert result.report is not None
    return str(result.report.info.get("graph_cache", "")).split(" ")[0]


def _entries() -> list[Path]:
    return sorted((Path(os.environ["ZOO_CACHE_DIR"]) / graph_cache.SUBDIR).glob("*"))


def test_graph_from_the_cache_is_the_fresh_export(
    plugins: zoo.Plugins, arch: zoo.Architecture, tmp_path: Path
) -> None:
    """Every architecture: the second export (other weights) takes the graph from the cache,
    and its file is byte for byte the file a fresh export of those weights writes."""
    first = _export(plugins, _source(plugins, arch.name, 0), tmp_path / "a")
    assert _cache_state(first) == "stored"
    cached = _export(plugins, _source(plugins, arch.name, 1), tmp_path / "b")
    assert _cache_state(cached) == "hit"
    fresh = _export(plugins, _source(plugins, arch.name, 1), tmp_path / "c", graph_cache=False)
    assert _cache_state(fresh) == "off"
    # torch's per-node stack traces aside (`comparable`), the same bytes
    same = graph_cache.comparable
    assert same(cached.path.read_bytes()) == same(fresh.path.read_bytes())
    assert same(cached.path.read_bytes()) != same(first.path.read_bytes())  # other weights


def test_lengths_and_int8_share_the_cache(plugins: zoo.Plugins, tmp_path: Path) -> None:
    """`lengths` is its own key; onnx-int8 quantizes the fp32 graph from the cache."""
    source = _source(plugins, "lstm", 0)
    assert _cache_state(_export(plugins, source, tmp_path / "a")) == "stored"
    assert _cache_state(_export(plugins, source, tmp_path / "b", lengths=True)) == "stored"
    assert _cache_state(_export(plugins, source, tmp_path / "c", "onnx-int8")) == "hit"
    assert len(_entries()) == 2


def test_key_holds_what_decides_the_graph(plugins: zoo.Plugins, tmp_path: Path) -> None:
    from zoo.nn import exportable_copy

    def key(source: SourceModel, code: tuple[str, ...] = (), **job: Any) -> str:
        copy = exportable_copy(source.module)
        state = graph_cache._state_arrays(copy)
        assert state is not None
        return graph_cache.graph_key(
            ExportJob(source, tmp_path / "m.onnx", **job), copy, state, code
        )

    plain = key(_source(plugins, "lstm", 0))
    assert key(_source(plugins, "lstm", 5)) == plain  # weights are not in the key
    code = tmp_path / "exporter.py"
    code.write_text("A = 1\n")
    before = key(_source(plugins, "lstm", 0), (str(code),))
    code.write_text("A = 2\n")
    others = {
        "config": key(_source(plugins, "lstm", 0, hidden_size=8)),
        "architecture": key(_source(plugins, "gru", 0)),
        "opset": key(_source(plugins, "lstm", 0), opset=17),
        "lengths": key(_source(plugins, "lstm", 0), lengths=True),
        "exporter code": key(_source(plugins, "lstm", 0), (str(code),)),
    }
    assert before != plain
    assert all(value not in (plain, before) for value in others.values()), others
    assert len(set(others.values())) == len(others)


@pytest.mark.parametrize("fault", ["parity", "checker"])
def test_entry_failing_the_proof_is_refused(
    plugins: zoo.Plugins, tmp_path: Path, fault: str
) -> None:
    """An entry whose graph computes something else (the head scaled by 2: parity fails)
    or is invalid (an attribute given twice: the checker fails) is served, fails, and the
    export is redone afresh and passes; the key is refused from then on."""
    _export(plugins, _source(plugins, "lstm", 0), tmp_path / "a")
    (entry,) = _entries()
    template = onnx.load_model_from_string(entry.read_bytes())
    (gemm,) = [n for n in template.graph.node if n.op_type == "Gemm"]
    if fault == "parity":
        (alpha,) = [a for a in gemm.attribute if a.name == "alpha"]
        alpha.f = 2.0
    else:
        gemm.attribute.append(helper.make_attribute("alpha", 2.0))
    entry.unlink()
    assert zoo._fs.write_private(entry, template.SerializeToString())

    redone = _export(plugins, _source(plugins, "lstm", 1), tmp_path / "b")
    assert _cache_state(redone) == "refused"
    assert not entry.exists() and entry.with_suffix(".refused").is_file()
    again = _export(plugins, _source(plugins, "lstm", 2), tmp_path / "c")
    assert _cache_state(again) == "refused"  # exported afresh from now on
    assert onnx.load(str(again.path)).graph.node != template.graph.node


def test_failed_proof_of_an_unchanged_entry_keeps_it(
    plugins: zoo.Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proof that fails for another reason than the cache (here: a tolerance too tight for
    any file) fails the export; the fresh retry finds the entry right and keeps it."""
    _export(plugins, _source(plugins, "lstm", 0), tmp_path / "a")
    source = _source(plugins, "lstm", 1)
    (result,) = export_model(
        source, [plugins.exporter("onnx")], tmp_path / "b", atol=1e-30, rtol=1e-30
    ).artifacts
    assert not result.passed
    assert _cache_state(result) == "checked"
    assert [p.suffix for p in _entries()] == [".onnx"]


@pytest.mark.parametrize("plant", ["garbage", "shared", "link", "foreign"])
def test_planted_or_damaged_entries_are_not_used(
    plugins: zoo.Plugins, tmp_path: Path, plant: str
) -> None:
    """A damaged entry, one others may write, a link, or one for another graph is a miss:
    the graph is exported afresh and stored in its place."""
    _export(plugins, _source(plugins, "lstm", 0), tmp_path / "a")
    (entry,) = _entries()
    if plant == "garbage":
        entry.write_bytes(b"\x08\x01not a model")
    elif plant == "shared":
        entry.chmod(0o666)
    elif plant == "link":
        target = tmp_path / "elsewhere.onnx"
        target.write_bytes(entry.read_bytes())
        entry.unlink()
        entry.symlink_to(target)
    else:  # a template whose weights are named otherwise
        template = onnx.load_model_from_string(entry.read_bytes())
        template.graph.initializer[0].name = "planted"
        entry.write_bytes(template.SerializeToString())
    result = _export(plugins, _source(plugins, "lstm", 1), tmp_path / "b")
    assert _cache_state(result) == "stored"
    assert not entry.is_symlink() and entry.stat().st_mode & 0o077 == 0


def _tiny_model(initializers: list[onnx.TensorProto], nodes: list[onnx.NodeProto]) -> Any:
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [4])], initializers,
    )  # fmt: skip
    return helper.make_model(graph)


def test_only_graphs_whose_floats_are_the_state_are_stored() -> None:
    """A float tensor that is not a state tensor, or a state tensor changed at export (a
    weight the exporter transformed), makes the graph uncacheable: filling in new weights
    would leave it stale."""
    w = np.arange(4, dtype=np.float32)
    add = [helper.make_node("Add", ["x", "w"], ["y"])]
    state = {"w": w}
    template, _ = graph_cache.strip(_tiny_model([numpy_helper.from_array(w, "w")], add), state)
    assert template is not None
    filled = graph_cache.fill(template, {"w": w + 1})
    assert np.array_equal(numpy_helper.to_array(filled.graph.initializer[0]), w + 1)
    assert graph_cache.fill(template, {"w": np.zeros(5, np.float32)}) is None  # wrong shape
    assert graph_cache.fill(template, {"w": w.astype(np.float64)}) is None  # wrong dtype

    transformed = _tiny_model([numpy_helper.from_array(w * 2, "w")], add)
    assert graph_cache.strip(transformed, state) == (None, graph_cache.strip(transformed, state)[1])
    loose = np.ones(graph_cache.MAX_LOOSE + 1, np.float32)
    folded = _tiny_model(
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(loose, "val_3")], add
    )
    template, reason = graph_cache.strip(folded, state)
    assert template is None and "val_3" in reason
    constant = helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(loose))
    template, reason = graph_cache.strip(_tiny_model([], [constant, *add]), {})
    assert template is None and "Constant" in reason


def test_prune_keeps_the_most_recent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graph_cache, "MAX_ENTRIES", 2)
    for i in range(4):
        (tmp_path / f"{i}.onnx").write_bytes(b"x")
        os.utime(tmp_path / f"{i}.onnx", (i, i))
    (tmp_path / "9.refused").write_text("why")
    graph_cache._prune(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2.onnx", "3.onnx", "9.refused"]


WATCH = """
import atexit, sys
atexit.register(lambda: print("IMPORTED", *sorted(
    m for m in ("torch._dynamo", "onnxscript", "torch.onnx._internal.exporter._core")
    if m in sys.modules), file=sys.stderr))
from zoo.cli import main
sys.argv = ["zoo", *sys.argv[1:]]
main()
"""


@pytest.mark.slow
def test_export_from_the_cache_skips_torch_exporter(
    plugins: zoo.Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the cache saves, as imports (not time): after one export stored the graph, a
    re-export with other weights, in a new process, never imports torch's dynamo, onnxscript
    or the exporter; `--no-cache` and `ZOO_CACHE_DIR=""` leave the cache as it was."""
    out = str(tmp_path / "out")
    _export(plugins, _source(plugins, "lstm", 0), tmp_path / "first")
    stored = _entries()
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(WATCH), "export", "lstm", "--onnx", "-q",
         "--out", out, "--seed", "1"],
        env=dict(os.environ), capture_output=True, text=True, check=True,
    )  # fmt: skip
    (line,) = [x for x in done.stderr.splitlines() if x.startswith("IMPORTED")]
    assert line.split()[1:] == []
    off = _export(plugins, _source(plugins, "lstm", 2), tmp_path / "a", graph_cache=False)
    assert _cache_state(off) == "off"
    cache = os.environ["ZOO_CACHE_DIR"]
    monkeypatch.setenv("ZOO_CACHE_DIR", "")
    assert _cache_state(_export(plugins, _source(plugins, "lstm", 3), tmp_path / "b")) == "off"
    monkeypatch.setenv("ZOO_CACHE_DIR", cache)
    assert _entries() == stored


def test_the_plugin_check_exports_afresh(plugins: zoo.Plugins, tmp_path: Path) -> None:
    """`zoo.testing.check_architecture` tests that a model exports now: it neither reads
    nor writes the cache (a cached graph would pass a model that no longer exports)."""
    from zoo.testing import check_architecture

    _export(plugins, _source(plugins, "lstm", 0), tmp_path / "a")
    before = _entries()
    check_architecture("lstm", plugins=plugins, exporters=["onnx"], out_dir=tmp_path / "b")
    assert _entries() == before
    report = (tmp_path / "b" / "lstm.onnx.parity.json").read_text()
    assert '"graph_cache": "off"' in report
