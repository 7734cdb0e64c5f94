"""The trained models shipped in the package: every card reproduces (`zoo eval NAME`), a
recipe retrains the same weights, every trained entry exports with proven parity, and the
README's table is the one `zoo list --trained --markdown` prints."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from safetensors.torch import load_file

from zoo._manager import load_plugins
from zoo.catalog._registry import ModelEntry, Registry, builtin_registry
from zoo.checkpoint._format import read_checkpoint

REPO = Path(__file__).resolve().parent.parent
#: The shipped model whose recipe a test reruns (the cheapest one to train).
RETRAINED = "italypower-lstm"
#: What the README's table sits between.
TABLE_START = "<!-- trained-models:start -->"
TABLE_END = "<!-- trained-models:end -->"


def shipped() -> list[ModelEntry]:
    plugins = load_plugins()
    registry = Registry.load([builtin_registry()], plugins.architectures)
    return [e for e in registry.match() if e.card is not None]


def shipped_names() -> list[str]:
    return [e.name for e in shipped()]


def needs_data(name: str) -> ModelEntry:
    """The entry `name`; the test is skipped where its data set's package is missing."""
    (entry,) = [e for e in shipped() if e.name == name]
    assert entry.card is not None
    source = load_plugins().datasets[entry.card.dataset]
    if source.missing():
        pytest.skip(f"{entry.card.dataset} needs {', '.join(source.missing())}")
    return entry


def test_six_models_ship_with_cards_and_files() -> None:
    entries = shipped()
    assert len(entries) >= 6
    data = {e.card.dataset for e in entries if e.card is not None}
    assert {"statsmodels:sunspots", "statsmodels:co2", "ucr:GunPoint"} <= data
    assert {"ucr:ItalyPowerDemand", "ucr:BasicMotions", "ucr:JapaneseVowels"} <= data
    for entry in entries:
        assert entry.card is not None and entry.checkpoint is not None
        checkpoint = read_checkpoint(entry.checkpoint)
        assert checkpoint.digest == entry.sha256, entry.name
        size = checkpoint.weights_path.stat().st_size
        assert entry.card.file_size == size and size < 64_000, entry.name
        weights = load_file(checkpoint.weights_path)
        assert entry.card.params == sum(w.numel() for w in weights.values()), entry.name
        assert entry.card.recipe[:2] == ("train", entry.architecture)
        assert "--threads" in entry.card.recipe and "--seed" in entry.card.recipe


@pytest.mark.parametrize("name", shipped_names())
def test_eval_reproduces_the_card(invoke: Any, name: str) -> None:
    entry = needs_data(name)
    assert entry.card is not None
    result = invoke("eval", name, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["value"] == pytest.approx(entry.card.value, rel=1e-6, abs=1e-6)
    assert data["matches_card"] is True and data["samples"] > 0
    assert data["beats_baseline"] == entry.card.beats_baseline
    # the baseline is measured again on the model's own split, and is the card's
    assert data["baseline_value"] == pytest.approx(entry.card.baseline_value, rel=1e-9)
    lines = invoke("eval", name).output.splitlines()
    assert lines[1].split() == ["MEASURED", "CARD", "NOTE"]
    assert lines[3].startswith("model") and "reproduced" in lines[3]
    assert lines[4].split()[0] == "baseline" and lines[4].split()[-1] == entry.card.baseline
    assert entry.card.verdict in lines[3]


def test_recipe_retrains_the_same_weights(invoke: Any, tmp_path: Path) -> None:
    entry = needs_data(RETRAINED)
    assert entry.checkpoint is not None and entry.card is not None
    assert entry.card.recipe[entry.card.recipe.index("--threads") + 1] == "1"
    out = tmp_path / "again"
    result = invoke("train", "--recipe", RETRAINED, "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sha256"] == read_checkpoint(entry.checkpoint).sha256


@pytest.mark.parametrize("name", shipped_names())
def test_trained_entries_export_with_parity(invoke: Any, tmp_path: Path, name: str) -> None:
    pytest.importorskip("onnxruntime")
    entry = needs_data(name)
    args = ["export", name, "--onnx", "--out", str(tmp_path)]
    if entry.card is not None and entry.card.dataset == "ucr:JapaneseVowels":
        args.append("--lengths")
    result = invoke(*args)
    assert result.exit_code == 0, result.output


#: Shipped models whose int8 export misses the task-metric rule (at most 1 point of accuracy
#: lost): BasicMotions' test split has 40 sequences, and int8 flips one (0.825 vs 0.850).
INT8_MISSES = {"basicmotions-bilstm"}


def _all_formats_cases() -> list[Any]:
    return [
        pytest.param(
            name,
            marks=[pytest.mark.xfail(reason="int8 loses 1 of 40 test sequences", strict=True)]
            if name in INT8_MISSES
            else [],
        )
        for name in shipped_names()
    ]


@pytest.mark.slow
@pytest.mark.parametrize("name", _all_formats_cases())
def test_trained_entries_export_all_formats(invoke: Any, tmp_path: Path, name: str) -> None:
    """`zoo export NAME --all`: every exporter (ONNX, int8 ONNX judged by the task metric,
    TorchScript, pt2) proves parity for every shipped model."""
    pytest.importorskip("onnxruntime")
    entry = needs_data(name)
    assert entry.card is not None
    lengths = ["--lengths"] if entry.card.dataset == "ucr:JapaneseVowels" else []
    result = invoke("export", name, "--all", *lengths, "--out", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    assert len(list(tmp_path.glob(f"{name}.*"))) >= 5  # four artifacts and the report


def test_the_lossless_formats_pass_where_int8_misses(invoke: Any, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    (name,) = INT8_MISSES
    needs_data(name)
    formats = ["--onnx", "--torchscript", "--pt2", "--format", "onnx-ort"]
    result = invoke("export", name, *formats, "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    miss = invoke("export", name, "--format", "onnx-int8", "--out", str(tmp_path / "int8"))
    assert miss.exit_code == 1 and "accuracy 0.8250 vs fp32 0.8500" in miss.output


@pytest.mark.parametrize("name", ["sunspots-lstm", "japanesevowels-bilstm"])
def test_int8_reports_the_task_metric_on_the_test_split(
    invoke: Any, tmp_path: Path, name: str
) -> None:
    pytest.importorskip("onnxruntime")
    entry = needs_data(name)
    assert entry.card is not None
    args = ["export", name, "--format", "onnx-int8", "--out", str(tmp_path)]
    if entry.card.dataset == "ucr:JapaneseVowels":
        args.append("--lengths")
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    (report,) = tmp_path.glob("*.parity.json")
    parity = json.loads(report.read_text())["artifacts"][0]["parity"]
    numbers = parity["info"]["task_metric"]
    assert numbers["metric"] == entry.card.metric
    assert numbers["fp32"] == pytest.approx(entry.card.value, rel=1e-5)  # the card's split


def test_readme_table_is_generated_from_the_registry(invoke: Any) -> None:
    readme = (REPO / "README.md").read_text()
    match = re.search(re.escape(TABLE_START) + r"\n(.*?)" + re.escape(TABLE_END), readme, re.S)
    assert match, f"README.md needs the table between {TABLE_START} and {TABLE_END}"
    table = invoke("list", "--trained", "--markdown").output
    assert match.group(1) == table, "regenerate it: zoo list --trained --markdown"
