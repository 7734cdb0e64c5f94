"""`zoo register` and loading trained models by name: TOML written by hand, sha256 enforced,
and nothing but safetensors ever loaded (pickle payloads are refused without running)."""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest
import torch
from conftest import TINY
from hypothesis import given
from hypothesis import strategies as st

from zoo.catalog._register import toml_string, toml_value
from zoo.checkpoint._format import read_checkpoint


@given(st.text())
def test_toml_strings_round_trip(text: str) -> None:
    assert tomllib.loads(f"v = {toml_string(text)}")["v"] == text


def test_toml_values_round_trip() -> None:
    value = {"a": 1, "b": 0.1, "c": 1e-05, "d": True, "e": 'x"y\\z\n', "f": [1, 2], "g-h": {}}
    assert tomllib.loads(f"v = {toml_value(value)}")["v"] == value


def test_register_then_list_and_load_by_name(invoke: Any, trained: Path, tmp_path: Path) -> None:
    registry = tmp_path / "models.toml"
    result = invoke(
        "register", "--checkpoint", str(trained), "--name", "tiny-sine",
        "--registry", str(registry), "--description", 'a "quoted" description',
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    weights = hashlib.sha256((trained / "model.safetensors").read_bytes()).hexdigest()
    config = hashlib.sha256((trained / "config.json").read_bytes()).hexdigest()
    manifest = f"zoo-checkpoint-v1\nconfig.json {config}\nmodel.safetensors {weights}\n"
    digest = hashlib.sha256(manifest.encode()).hexdigest()  # pins config.json and weights
    entry = tomllib.loads(registry.read_text())["models"]["tiny-sine"]
    assert entry["checkpoint"] == "runs/tiny" and entry["sha256"] == digest
    assert entry["description"] == 'a "quoted" description' and entry["tags"] == ["trained"]
    assert entry["config"]["hidden_size"] == 4 and entry["config"]["input_size"] == 1

    listed = invoke("list", "--registry", str(registry), "tiny*", "--json")
    rows = json.loads(listed.output)
    assert [r["name"] for r in rows] == ["tiny-sine"] and rows[0]["trained"] is True

    by_name = invoke("--registry", str(registry), "eval", "tiny-sine", "--data", "sine", "--json")
    by_path = invoke("eval", "--checkpoint", str(trained), "--data", "sine", "--json")
    assert by_name.exit_code == 0, by_name.output
    assert json.loads(by_name.output)["metrics"] == json.loads(by_path.output)["metrics"]

    second = invoke(
        "register", "--checkpoint", str(trained), "--name", "again", "--registry", str(registry)
    )
    assert second.exit_code == 0, second.output
    names = set(tomllib.loads(registry.read_text())["models"])
    assert names == {"tiny-sine", "again"}
    assert registry.read_text().startswith("# Trained models added by `zoo register`")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("tiny", "already has a model 'tiny'"),
        ("lstm", "Model 'lstm' is already defined in"),
        ("a b", "Invalid model name 'a b'"),
    ],
)
def test_register_refuses_bad_or_taken_names(
    invoke: Any, trained: Path, tmp_path: Path, name: str, message: str
) -> None:
    registry = tmp_path / "models.toml"
    assert (
        invoke(
            "register", "--checkpoint", str(trained), "--name", "tiny", "--registry", str(registry)
        ).exit_code
        == 0
    )
    before = registry.read_text()
    result = invoke(
        "register", "--checkpoint", str(trained), "--name", name, "--registry", str(registry)
    )
    assert result.exit_code == 1 and message in result.output, result.output
    assert registry.read_text() == before


def test_register_copies_a_checkpoint_outside_the_registry_folder_and_says_so(
    invoke: Any, trained: Path, tmp_path: Path
) -> None:
    registry = tmp_path / "elsewhere" / "models.toml"
    result = invoke(
        "register", "--checkpoint", str(trained), "--name", "x", "--registry", str(registry)
    )
    assert result.exit_code == 0, result.output
    copy = tmp_path / "elsewhere" / "checkpoints" / "x"
    assert f"copied {trained} to {copy}" in result.output
    assert 'checkpoint = "checkpoints/x"' in registry.read_text()
    assert read_checkpoint(copy).digest == read_checkpoint(trained).digest
    assert invoke("--registry", str(registry), "eval", "x", "--data", "sine").exit_code == 0
    again = invoke(
        "register", "--checkpoint", str(trained), "--name", "y", "--registry", str(registry)
    )
    assert again.exit_code == 0 and (copy.parent / "y").is_dir()
    taken = invoke(  # the name is taken: no copy is left behind
        "register", "--checkpoint", str(trained), "--name", "x", "--registry", str(registry)
    )
    assert taken.exit_code == 1 and sorted(p.name for p in copy.parent.iterdir()) == ["x", "y"]


def _register(invoke: Any, checkpoint: Path, registry: Path, name: str = "tiny") -> None:
    result = invoke(
        "register", "--checkpoint", str(checkpoint), "--name", name, "--registry", str(registry)
    )
    assert result.exit_code == 0, result.output


def test_changed_weights_are_refused_by_name(invoke: Any, trained: Path, tmp_path: Path) -> None:
    """Another valid checkpoint swapped in: config.json agrees with it, the registry does not."""
    registry = tmp_path / "models.toml"
    _register(invoke, trained, registry)
    other = tmp_path / "other"
    assert invoke("train", "lstm", *TINY, "--seed", "9", "--out", str(other)).exit_code == 0
    for name in ("model.safetensors", "config.json"):
        shutil.copy(other / name, trained / name)
    for args in (
        ["export", "tiny", "--out", str(tmp_path / "e")],
        ["eval", "tiny", "--data", "sine"],
    ):
        result = invoke("--registry", str(registry), *args)
        assert result.exit_code == 1, result.output
        assert "does not match" in result.output and "Refusing to load" in result.output
    assert not (tmp_path / "e" / "tiny.onnx").exists()


def test_tampered_weights_are_refused(invoke: Any, trained: Path, tmp_path: Path) -> None:
    """Weights edited in place: they no longer hash to config.json's sha256."""
    registry = tmp_path / "models.toml"
    _register(invoke, trained, registry)
    data = bytearray((trained / "model.safetensors").read_bytes())
    data[-1] ^= 0x01
    (trained / "model.safetensors").write_bytes(bytes(data))
    for args in (
        ["--registry", str(registry), "eval", "tiny", "--data", "sine"],
        ["eval", "--checkpoint", str(trained), "--data", "sine"],
        ["export", "--checkpoint", str(trained), "--out", str(tmp_path / "e")],
    ):
        result = invoke(*args)
        assert result.exit_code == 1, result.output
        assert "does not match" in result.output and "modified or only partly written" in (
            result.output
        )


class _Payload:
    """Unpickling this creates `marker`: proof that a loader ran pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


def _payloads(tmp_path: Path) -> dict[str, bytes]:
    marker = tmp_path / "PWNED"
    raw = pickle.dumps(_Payload(marker))
    pickle.loads(raw)  # the payload is live: loading it does create the marker...
    assert marker.exists()
    marker.unlink()  # ...so its absence below means nothing loaded it
    zipped = tmp_path / "torch-save.pt"
    torch.save({"weights": _Payload(marker)}, zipped)
    return {"pickle": raw, "torch.save": zipped.read_bytes()}


def _as_checkpoint(folder: Path, payload: bytes, template: Path) -> Path:
    """A checkpoint dir whose model.safetensors is `payload`, config.json naming its sha256."""
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(payload)
    meta = json.loads((template / "config.json").read_text())
    meta["sha256"] = hashlib.sha256(payload).hexdigest()
    (folder / "config.json").write_text(json.dumps(meta))
    return folder


def test_pickle_offered_as_a_checkpoint_is_refused_unexecuted(
    invoke: Any, trained: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "PWNED"
    for kind, payload in _payloads(tmp_path).items():
        as_file = tmp_path / f"{kind}.pkl"
        as_file.write_bytes(payload)
        result = invoke("export", "--checkpoint", str(as_file), "--out", str(tmp_path / "e"))
        assert result.exit_code == 1 and "is not a directory" in result.output

        folder = _as_checkpoint(tmp_path / f"ckpt-{kind}", payload, trained)
        for args in (
            ["export", "--checkpoint", str(folder), "--out", str(tmp_path / "e")],
            ["eval", "--checkpoint", str(folder), "--data", "sine"],
            ["predict", "--checkpoint", str(folder), "--data", "sine"],
            ["inspect", "--checkpoint", str(folder), "--data", "sine", "--out", str(tmp_path)],
            ["register", "--checkpoint", str(folder), "--name", "evil",
             "--registry", str(tmp_path / "reg.toml")],
        ):  # fmt: skip
            result = invoke(*args)
            assert result.exit_code == 1, (args, result.output)
            assert "Traceback" not in result.output
            assert "not a valid safetensors file" in result.output, (args, result.output)
        assert not marker.exists(), f"{kind} payload was executed"
    assert not (tmp_path / "reg.toml").exists()


def test_pickled_train_state_is_refused_unexecuted(
    invoke: Any, trained: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "PWNED"
    state_dir = trained / "train_state"
    meta = json.loads((state_dir / "state.json").read_text())
    for payload in _payloads(tmp_path).values():
        (state_dir / meta["tensors"]).write_bytes(payload)
        meta["sha256"] = hashlib.sha256(payload).hexdigest()
        (state_dir / "state.json").write_text(json.dumps(meta))
        result = invoke("train", "lstm", *TINY, "--out", str(trained), "--resume")
        assert result.exit_code == 1 and "not a valid safetensors file" in result.output
        assert not marker.exists()
