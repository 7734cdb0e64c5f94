"""Registry files: the shipped catalogue, user files, and errors naming file, entry and key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import zoo
from zoo.catalog._registry import builtin_registry, read_registry
from zoo.catalog._session import App


def _write(tmp_path: Path, text: str, name: str = "reg.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_builtin_registry_has_the_three_defaults_and_presets(plugins: zoo.Plugins) -> None:
    entries = {e.name: e for e in read_registry(builtin_registry(), plugins.architectures)}
    assert {"rnn", "lstm", "bilstm"} <= set(entries)
    assert len(entries) > 3
    for name in ("rnn", "lstm", "bilstm"):
        assert entries[name].architecture == name and entries[name].config == {}


def test_user_registry_adds_entries(plugins: zoo.Plugins, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[models.tiny]\narchitecture = "lstm"\nconfig = { hidden_size = 4 }\ntags = ["mine"]\n',
    )
    app = App(plugins, extra_registries=[path])
    model = app.resolve("tiny")
    assert model.config["hidden_size"] == 4 and model.entry.source == path
    assert [e.name for e in app.registry.match("tin*")] == ["tiny"]


def test_zoo_registry_env_var(plugins: zoo.Plugins, tmp_path: Path, monkeypatch: Any) -> None:
    path = _write(tmp_path, '[models.envmodel]\narchitecture = "rnn"\n')
    monkeypatch.setenv("ZOO_REGISTRY", str(path))
    assert "envmodel" in App(plugins).registry.entries


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[models.a\n", "invalid TOML: "),
        ('[models.a]\narchitecture = "lstm"\nwidth = 3\n', "entry 'a': unknown key(s) ['width']"),
        ("[models.a]\narchitecture = 3\n", "entry 'a', key 'architecture': must be str, got int"),
        (
            '[models.a]\narchitecture = "lstn"\n',
            "entry 'a', key 'architecture': unknown architecture 'lstn'",
        ),
        ("[models.a]\ndescription = 'x'\n", "entry 'a': missing required key 'architecture'"),
        (
            '[models.a]\narchitecture = "lstm"\nconfig = { hidden_size = "big" }\n',
            "entry 'a', key 'config': Config key 'hidden_size' of architecture 'lstm' must be int",
        ),
        (
            '[models.a]\narchitecture = "lstm"\nconfig = { hiden_size = 3 }\n',
            "Did you mean 'hidden_size'?",
        ),
        (
            '[models.a]\narchitecture = "lstm"\nconfig = { num_layers = 0 }\n',
            "must be a positive integer, got 0",
        ),
        (
            '[models.a]\narchitecture = "lstm"\ntags = [1]\n',
            "key 'tags': must be a list of strings",
        ),
        (
            f'[models.a]\narchitecture = "lstm"\ncheckpoint = "../up"\nsha256 = "{"0" * 64}"\n',
            "entry 'a', key 'checkpoint': '../up' escapes the registry's folder",
        ),
        (
            f'[models.a]\narchitecture = "lstm"\ncheckpoint = "/etc"\nsha256 = "{"0" * 64}"\n',
            "escapes the registry's folder",
        ),
        (
            '[models.a]\narchitecture = "lstm"\ncheckpoint = "run"\n',
            "key 'sha256': a checkpoint needs",
        ),
        ('[models."a/b"]\narchitecture = "lstm"\n', "entry 'a/b': names use letters"),
        ("[other]\nx = 1\n", "unknown top-level key(s) ['other']"),
    ],
)
def test_bad_registry_files_name_file_entry_and_key(
    plugins: zoo.Plugins, tmp_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(zoo.RegistryError) as info:
        read_registry(path, plugins.architectures)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


def test_toml_syntax_error_has_the_line(plugins: zoo.Plugins, tmp_path: Path) -> None:
    path = _write(tmp_path, '[models.a]\narchitecture = "lstm"\ndescription = \n')
    with pytest.raises(zoo.RegistryError, match="line 3"):
        read_registry(path, plugins.architectures)


def test_duplicate_names_across_files_name_both(plugins: zoo.Plugins, tmp_path: Path) -> None:
    path = _write(tmp_path, '[models.lstm]\narchitecture = "lstm"\n')
    with pytest.raises(zoo.RegistryError) as info:
        _ = App(plugins, extra_registries=[path]).registry
    assert str(path) in str(info.value) and str(builtin_registry()) in str(info.value)


def test_checkpoint_inside_the_folder_resolves(plugins: zoo.Plugins, tmp_path: Path) -> None:
    sha = "ab" * 32
    path = _write(
        tmp_path, f'[models.a]\narchitecture = "lstm"\ncheckpoint = "runs/a"\nsha256 = "{sha}"\n'
    )
    (entry,) = read_registry(path, plugins.architectures)
    assert entry.checkpoint == (tmp_path / "runs" / "a").resolve() and entry.sha256 == sha


def test_plugins_contribute_registry_files(make_plugins: Any, tmp_path: Path) -> None:
    path = _write(tmp_path, '[models.from-plugin]\narchitecture = "rnn"\n')

    class Contributes:
        @zoo.hookimpl
        def register_registry_files(self, register: Any) -> None:
            register(path)

    assert "from-plugin" in App(make_plugins(Contributes())).registry.entries


def test_unknown_model_suggests_a_name(plugins: zoo.Plugins) -> None:
    with pytest.raises(
        zoo.UnknownNameError, match=r"Unknown model 'lstn'\. Did you mean 'lstm'\? Run `zoo list`\."
    ):
        App(plugins).resolve("lstn")
