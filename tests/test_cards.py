"""Model cards in registry entries, `zoo list` filters and columns, `zoo info`'s card,
`zoo train --recipe`, and the training settings recipes use (schedule, patience, decay)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from conftest import TINY

from zoo._errors import RegistryError
from zoo.catalog._card import parse_card
from zoo.train._schedule import PLATEAU_EPOCHS, epoch_lr, should_stop

RECIPE = ["train", "lstm", *TINY, "--seed", "3", "--threads", "1"]


def card_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "dataset": "sine",
        "split": "test",
        "task": "regression",
        "metric": "mse",
        "value": 0.25,
        "baseline": "persistence",
        "baseline_value": 0.5,
        "recipe": RECIPE,
        "threads": 1,
        "params": 113,
        "file_size": 900,
        "torch": "2.13.0",
    }
    body.update(changes)
    return body


def toml_card(body: dict[str, Any]) -> str:
    return "".join(f"{key} = {json.dumps(value)}\n" for key, value in body.items())


@pytest.fixture
def carded(invoke: Any, trained: Path, tmp_path: Path) -> Path:
    """A registry with the tiny trained lstm as `tiny-sine`, with a card."""
    registry = tmp_path / "models.toml"
    result = invoke(
        "register", "--checkpoint", str(trained), "--name", "tiny-sine", "--registry",
        str(registry),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = registry.read_text() + "\n[models.tiny-sine.card]\n" + toml_card(card_body())
    registry.write_text(text)
    return registry


def test_card_parses_and_judges_the_baseline() -> None:
    card = parse_card("x", card_body())
    assert card.recipe == tuple(RECIPE) and card.beats_baseline
    assert card.verdict == "beats baseline"
    assert not parse_card("x", card_body(value=0.6)).beats_baseline
    accuracy = parse_card("x", card_body(metric="accuracy", value=0.9, baseline_value=0.95))
    assert accuracy.verdict == "misses baseline"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"value": "high"}, "key 'card.value': must be a finite number"),
        ({"value": math.inf}, "key 'card.value': must be a finite number"),
        ({"threads": 0}, "key 'card.threads': must be a whole number >= 1"),
        ({"recipe": ["export", "lstm"]}, "starting with 'train'"),
        ({"recipe": [*RECIPE, "--out", "x"]}, "leave --out out"),
        ({"task": "ranking"}, "key 'card.task': must be one of regression, classification"),
        ({"colour": "red"}, "unknown key(s) ['colour']"),
    ],
)
def test_bad_cards_are_refused_naming_the_key(change: dict[str, Any], message: str) -> None:
    with pytest.raises(RegistryError, match=r"^x, key 'card") as info:
        parse_card("x", card_body(**change))
    assert message in str(info.value)


def test_a_card_without_a_checkpoint_is_refused(invoke: Any, tmp_path: Path) -> None:
    registry = tmp_path / "r.toml"
    registry.write_text(
        '[models.a]\narchitecture = "lstm"\n[models.a.card]\n' + toml_card(card_body())
    )
    result = invoke("list", "--registry", str(registry))
    assert result.exit_code == 1
    assert "key 'card': a model card needs the 'checkpoint' it describes" in result.output


def test_list_shows_metric_and_baseline_and_filters(invoke: Any, carded: Path) -> None:
    reg = ("--registry", str(carded))
    lines = invoke("list", *reg).output.splitlines()
    assert lines[0].split()[:6] == ["NAME", "ARCH", "PLUGIN", "PARAMS", "METRIC", "BASELINE"]
    row = next(line for line in lines if line.startswith("tiny-sine"))
    assert "mse 0.25" in row and "persistence 0.5" in row
    assert next(line for line in lines if line.startswith("rnn ")).split()[4:6] == ["-", "-"]
    trained = json.loads(invoke("list", *reg, "t*", "r*", "--trained", "--json").output)
    assert [r["name"] for r in trained] == ["tiny-sine"]  # no untrained rnn*
    assert trained[0]["card"]["beats_baseline"] is True
    every = json.loads(invoke("list", *reg, "--trained", "--json").output)
    assert all(r["trained"] for r in every) and "tiny-sine" in [r["name"] for r in every]
    names = [r["name"] for r in json.loads(invoke("list", *reg, "rnn*", "tiny*", "--json").output)]
    assert names == ["rnn", "rnn-2x128", "tiny-sine"]
    excluded = invoke("list", *reg, "rnn*", "tiny*", "--exclude", "*2x*", "--json").output
    assert [r["name"] for r in json.loads(excluded)] == ["rnn", "tiny-sine"]
    assert "No model matches 'x*'" in invoke("list", "x*").output


def test_markdown_table_lists_trained_cards(invoke: Any, carded: Path) -> None:
    out = invoke("list", "--registry", str(carded), "tiny*", "--markdown").output
    lines = out.splitlines()
    assert lines[0].startswith("| Model | Data (split) | Task | Arch | Metric | Baseline")
    assert lines[2].startswith("| `tiny-sine` | sine (test) | regression | lstm | mse 0.25 |")
    assert len(lines) == 3


def test_info_shows_the_card(invoke: Any, carded: Path) -> None:
    out = invoke("--registry", str(carded), "info", "tiny-sine").output
    assert "    dataset     sine (test split, regression)" in out
    assert "    metric      mse 0.25 (beats baseline)" in out
    assert f"    recipe      zoo {' '.join(RECIPE)}" in out
    data = json.loads(invoke("--registry", str(carded), "info", "tiny-sine", "--json").output)
    assert data["card"]["recipe"] == RECIPE and data["card"]["file_size"] == 900


def test_train_recipe_reproduces_the_recorded_run(
    invoke: Any, carded: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again"
    rerun = invoke(
        "--registry", str(carded), "train", "--recipe", "tiny-sine", "--out", str(again), "--json"
    )
    assert rerun.exit_code == 0, rerun.output
    direct = invoke(*RECIPE, "--out", str(tmp_path / "direct"), "--json")
    assert json.loads(rerun.stdout)["sha256"] == json.loads(direct.stdout)["sha256"]
    assert json.loads(rerun.stdout)["out"] == str(again)


def test_train_recipe_refusals(invoke: Any, carded: Path) -> None:
    reg = ("--registry", str(carded))
    none = invoke(*reg, "train", "--recipe", "lstm")
    assert none.exit_code == 1 and "Model 'lstm' has no recipe" in none.output
    extra = invoke(*reg, "train", "--recipe", "tiny-sine", "--epochs", "3")
    assert extra.exit_code == 2 and "leave out epochs" in extra.output
    bare = invoke("train", "lstm")
    assert bare.exit_code == 2 and "Give a model NAME and --data SOURCE" in bare.output


def test_schedules_are_functions_of_epoch_and_history() -> None:
    assert epoch_lr("none", 0.1, 5, 10, []) == 0.1
    assert epoch_lr("cosine", 0.1, 1, 10, []) == 0.1
    assert epoch_lr("cosine", 0.1, 6, 10, []) == pytest.approx(0.05)
    flat = [{"val": {"loss": 1.0}}] * (1 + PLATEAU_EPOCHS)
    assert epoch_lr("plateau", 0.1, 6, 10, flat[:-1]) == 0.1
    assert epoch_lr("plateau", 0.1, 7, 10, flat) == 0.05
    assert should_stop(3, 5, 2) and not should_stop(3, 4, 2) and not should_stop(0, 99, 1)


def test_patience_stops_after_the_best_epoch(invoke: Any, tmp_path: Path) -> None:
    args = [*TINY[:-1], "12", "--patience", "2", "--lr", "0.3", "--json"]
    result = invoke("train", "lstm", *args, "--out", str(tmp_path / "p"))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["epochs"] == min(12, data["best_epoch"] + 2)
    history = json.loads((tmp_path / "p" / "metrics.json").read_text())["epochs"]
    assert len(history) == data["epochs"]


def test_weight_decay_and_schedule_are_recorded(invoke: Any, tmp_path: Path) -> None:
    out = tmp_path / "wd"
    args = ["--weight-decay", "0.01", "--schedule", "cosine", "--threads", "1"]
    result = invoke("train", "lstm", *TINY, *args, "--out", str(out))
    assert result.exit_code == 0, result.output
    training = json.loads((out / "config.json").read_text())["training"]
    assert training["weight_decay"] == 0.01 and training["schedule"] == "cosine"
    assert training["optimizer"] == "adamw" and training["threads"] == 1
    assert training["patience"] == 0


def test_eval_without_data_needs_a_carded_name(invoke: Any, trained: Path) -> None:
    for args in (["lstm"], ["--checkpoint", str(trained)], []):
        result = invoke("eval", *args)
        assert result.exit_code == 2, result.output
        assert "Give --data SOURCE; only a trained registry NAME with a model card" in result.output


def test_plateau_and_patience_resume_to_the_same_weights(invoke: Any, tmp_path: Path) -> None:
    """The schedule and the stopping decision come back from the saved history: a run
    stopped after 3 epochs and resumed to 8 ends as one that ran 8 straight."""
    base = ["train", "lstm", *TINY[:-2], "--schedule", "plateau", "--patience", "5"]
    base += ["--lr", "0.05", "--json"]
    straight = invoke(*base, "--epochs", "8", "--out", str(tmp_path / "a"))
    assert straight.exit_code == 0, straight.output
    first = invoke(*base, "--epochs", "3", "--out", str(tmp_path / "b"))
    assert first.exit_code == 0, first.output
    resumed = invoke(*base, "--epochs", "8", "--out", str(tmp_path / "b"), "--resume")
    assert resumed.exit_code == 0, resumed.output
    a, b = json.loads(straight.stdout), json.loads(resumed.stdout)
    assert (a["sha256"], a["best_epoch"], a["epochs"]) == (
        b["sha256"],
        b["best_epoch"],
        b["epochs"],
    )
