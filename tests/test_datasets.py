"""Data sources as plugins: the `register_datasets` hook, `zoo datasets`, `--data NAME` for a
third-party source, and the errors (unknown names, duplicates, missing packages).

Nothing here needs statsmodels or sktime (tests/test_real_data.py reads their files).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import zoo
from zoo.data._load import load_dataset
from zoo.data._plugin import builtin_sources

BUILTIN = {
    "sine", "adding", "freq", "freq-var",
    "statsmodels:sunspots", "statsmodels:co2", "statsmodels:nile", "statsmodels:elnino",
    "ucr:GunPoint", "ucr:ItalyPowerDemand", "ucr:ArrowHead", "ucr:BasicMotions",
    "ucr:JapaneseVowels", "ucr:OSULeaf", "ucr:PLAID",
}  # fmt: skip


def _toy(options: zoo.DataOptions, seed: int) -> zoo.Dataset:
    """A third party's loader, written with the public API only: is the sum positive?"""
    rng = np.random.default_rng(seed)

    def split(n: int) -> zoo.Split:
        x = rng.normal(size=(n, 6, 2)).astype(np.float32)
        return zoo.Split(x, (x.sum(axis=(1, 2)) > 0).astype(np.int64))

    spec = zoo.DataSpec(
        kind="source", source="toy:sign", task="classification", input_size=2,
        output_size=2, seq_len=6, seed=seed, classes=("neg", "pos"),
        scaling=zoo.Scaling.identity(2), val_fraction=options.val_fraction,
        split="random: 64 train, 16 validation, 32 test",
    )  # fmt: skip
    return zoo.Dataset(spec, split(64), split(16), test=split(32))


def _source(name: str = "toy:sign", **fields: Any) -> zoo.DataSource:
    values: dict[str, Any] = dict(
        name=name, task="classification", description="sign of a sum", load=_toy,
        input_size=2, output_size=2, seq_len=6, samples=112, license="CC0",
    )  # fmt: skip
    values.update(fields)
    return zoo.DataSource(**values)


class ToyData:
    def __init__(self, *sources: zoo.DataSource) -> None:
        self.sources = sources or (_source(),)

    @zoo.hookimpl
    def register_datasets(self, register: Any) -> None:
        for source in self.sources:
            register(source)


def test_builtin_sources_register_through_the_hook(plugins: zoo.Plugins) -> None:
    assert set(plugins.datasets) == BUILTIN
    assert {s.plugin for s in plugins.datasets.values()} == {"zoo.data._plugin"}
    assert plugins.infos["zoo.data._plugin"].hooks == ["register_datasets"]
    assert [s.name for s in builtin_sources()] == list(plugins.datasets)


def test_a_third_party_source_is_found_and_listed(make_plugins: Any, invoke: Any) -> None:
    plugins = make_plugins(ToyData())
    assert plugins.datasets["toy:sign"].plugin == "test-plugin-0" and not plugins.problems
    rows = json.loads(invoke("datasets", "toy:*", "--json", cli_plugins=plugins).output)
    assert [(r["name"], r["plugin"], r["available"]) for r in rows] == [
        ("toy:sign", "test-plugin-0", True)
    ]
    out = invoke("plugins", cli_plugins=plugins).output
    assert "toy:{sign}" in out and "statsmodels:{sunspots,co2,nile,elnino}" in out


def test_train_and_eval_on_a_third_party_source(
    make_plugins: Any, invoke: Any, tmp_path: Path
) -> None:
    plugins = make_plugins(ToyData())
    out = tmp_path / "run"
    args = ("--data", "toy:sign")
    result = invoke("train", "rnn", *args, "--epochs", "1", "--set", "hidden_size=4",
                    "--out", str(out), cli_plugins=plugins)  # fmt: skip
    assert result.exit_code == 0, result.output
    evaluated = invoke("eval", "--checkpoint", str(out), *args, "--json", cli_plugins=plugins)
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.output)["samples"] == 32  # the source's test split
    config = json.loads((out / "config.json").read_text())
    assert config["data"]["kind"] == "source" and config["data"]["split"].startswith("random")


def test_duplicate_names_are_refused_naming_both(make_plugins: Any) -> None:
    plugins = make_plugins(ToyData(_source("sine")))
    (problem,) = plugins.problems
    assert "'sine' is already registered by plugin 'zoo.data._plugin'" in str(problem)
    assert "test-plugin-0" in str(problem)
    assert plugins.datasets["sine"].plugin == "zoo.data._plugin"
    with pytest.raises(zoo.PluginError, match="already registered"):
        make_plugins(ToyData(_source("sine")), strict=True)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "bad name"}, "name 'bad name' must use"),
        ({"task": "ranking"}, "task 'ranking' must be one of"),
        ({"load": None}, "load must be callable"),
        ({"input_size": 0}, "input_size 0 must be an int >= 1"),
        ({"seq_len": -1}, "seq_len -1 must be"),
        ({"requires": "numpy"}, "requires 'numpy' must be a tuple"),
    ],
)
def test_malformed_sources_are_refused(make_plugins: Any, fields: Any, message: str) -> None:
    plugins = make_plugins(ToyData(_source(**fields)))
    (problem,) = plugins.problems
    assert message in str(problem) and "toy:sign" not in plugins.datasets


def test_a_source_whose_package_is_missing_is_listed_and_refuses_to_load(
    make_plugins: Any, invoke: Any
) -> None:
    missing = _source(requires=("zoo_no_such_package",), extra="zoo-rnn[datasets]")
    plugins = make_plugins(ToyData(missing))
    (row,) = json.loads(invoke("datasets", "toy:*", "--json", cli_plugins=plugins).output)
    assert row["available"] is False and row["needs"] == "zoo-rnn[datasets]"
    assert "needs zoo-rnn[datasets]" in invoke("datasets", cli_plugins=plugins).output
    result = invoke("train", "rnn", "--data", "toy:sign", cli_plugins=plugins)
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Error: Data source 'toy:sign' needs zoo_no_such_package, which is not installed. "
        "Install it with: pip install 'zoo-rnn[datasets]'."
    )


@pytest.mark.parametrize(
    ("name", "guess"),
    [("sunspot", "statsmodels:sunspots"), ("ucr:gunpoint", "ucr:GunPoint"), ("sinee", "sine")],
)
def test_unknown_names_suggest_close_ones_and_zoo_datasets(
    invoke: Any, name: str, guess: str
) -> None:
    result = invoke("train", "lstm", "--data", name)
    assert result.exit_code == 1
    line = result.output.strip().splitlines()[-1]
    assert f"Unknown data source {name!r}" in line and f"Did you mean {guess!r}?" in line
    assert "`zoo datasets`" in line


def test_datasets_lists_every_source_and_csv(invoke: Any) -> None:
    rows = json.loads(invoke("datasets", "--json").output)
    assert {r["name"] for r in rows} == BUILTIN | {"FILE.csv"}
    jv = next(r for r in rows if r["name"] == "ucr:JapaneseVowels")
    assert (jv["seq_len"], jv["input_size"], jv["output_size"]) == ("variable", 12, 9)
    table = invoke("datasets").output
    assert "LICENSE" in table and "public domain" in table
    assert "No data source matches" in invoke("datasets", "nothing*").output


def test_listing_imports_no_numpy_nor_the_data_packages() -> None:
    code = (
        "import sys\nfrom zoo.cli import main\n"
        "for args in (['datasets'], ['plugins'], ['datasets', '--json']):\n"
        "    try:\n        main(args)\n    except SystemExit:\n        pass\n"
        "heavy = ('numpy', 'torch', 'statsmodels', 'sktime', 'pandas')\n"
        "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "LOADED []" in out.stdout, out.stdout


def test_builtin_tasks_load_as_before_without_plugins() -> None:
    """`load_dataset("sine", ...)` needs no plugin manager and gives what it gave."""
    dataset = load_dataset("sine", zoo.DataOptions(samples=8), seed=0)
    assert dataset.spec.kind == "builtin" and dataset.test is None
    assert "split" not in dataset.spec.to_dict()  # a built-in model's description is unchanged


def test_a_source_spec_round_trips() -> None:
    spec = _toy(zoo.DataOptions(), 0).spec
    again = zoo.DataSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec


def test_real_sources_without_their_packages_are_listed_and_name_the_extra(
    invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on a core install: statsmodels and sktime not found, the sources still listed."""
    import importlib.util

    real_find_spec = importlib.util.find_spec

    def absent(name: str, *args: Any) -> Any:
        return None if name in ("statsmodels", "sktime") else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", absent)
    rows = {r["name"]: r for r in json.loads(invoke("datasets", "--json").output)}
    for name in ("statsmodels:sunspots", "ucr:JapaneseVowels"):
        assert (rows[name]["available"], rows[name]["needs"]) == (False, "zoo-rnn[datasets]")
    assert rows["sine"]["available"] is True
    for name, package in (("statsmodels:co2", "statsmodels"), ("ucr:GunPoint", "sktime")):
        result = invoke("train", "lstm", "--data", name)
        assert result.exit_code == 1
        assert result.output.strip().splitlines()[-1] == (
            f"Error: Data source {name!r} needs {package}, which is not installed. "
            "Install it with: pip install 'zoo-rnn[datasets]'."
        )
