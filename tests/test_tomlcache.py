"""The registry's parse cache changes timings, never results: same data, refreshed on change,
off with ZOO_CACHE_DIR="", small files and files changed just now never cached."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from zoo.catalog import _tomlcache as tomlcache
from zoo.catalog._registry import read_registry


def _registry(path: Path, entries: int, description: str = "entry") -> Path:
    path.write_text(
        "".join(
            f'[models.m{i:04d}]\narchitecture = "lstm"\ndescription = "{description} {i}"\n'
            f"config = {{ hidden_size = {8 + i % 5} }}\n\n"
            for i in range(entries)
        )
    )
    assert path.stat().st_size >= tomlcache.MIN_CACHED_BYTES
    return path


@pytest.fixture
def no_racy_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written by the test count as settled at once (see test_a_file_changed_just_now)."""
    monkeypatch.setattr(tomlcache, "RACY_NS", 0)


@pytest.mark.usefixtures("no_racy_wait")
def test_cached_data_equals_a_fresh_parse_and_follows_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, plugins: object
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("ZOO_CACHE_DIR", str(cache))
    path = _registry(tmp_path / "big.toml", 200)
    first = tomlcache.load_toml(path)
    assert first == tomllib.loads(path.read_text())
    assert len(list(cache.glob("toml-*.json"))) == 1
    assert tomlcache.load_toml(path) == first  # from the cache

    _registry(path, 200, description="changed")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    again = tomlcache.load_toml(path)
    assert again["models"]["m0001"]["description"] == "changed 1"
    entries = read_registry(path, plugins.architectures)  # type: ignore[attr-defined]
    assert len(entries) == 200 and entries[3].config == {"hidden_size": 11}


def test_cache_off_and_small_files_write_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("ZOO_CACHE_DIR", str(cache))
    small = tmp_path / "small.toml"
    small.write_text('[models.a]\narchitecture = "lstm"\n')
    assert tomlcache.load_toml(small) == {"models": {"a": {"architecture": "lstm"}}}
    assert not cache.exists()
    monkeypatch.setenv("ZOO_CACHE_DIR", "")
    big = _registry(tmp_path / "big.toml", 200)
    assert tomlcache.load_toml(big) == tomllib.loads(big.read_text())
    assert not cache.exists()


@pytest.mark.usefixtures("no_racy_wait")
def test_a_rewrite_with_the_same_size_and_mtime_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`touch -d`/`rsync -t` restore the mtime; the ctime still moves."""
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    path = _registry(tmp_path / "big.toml", 200, description="aaaa")
    before = path.stat()
    assert tomlcache.load_toml(path)["models"]["m0001"]["description"] == "aaaa 1"
    _registry(path, 200, description="bbbb")  # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert tomlcache.load_toml(path)["models"]["m0001"]["description"] == "bbbb 1"


def test_a_file_changed_just_now_is_not_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second write within the clock's tick would leave the same stamp: wait it out."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("ZOO_CACHE_DIR", str(cache))
    path = _registry(tmp_path / "big.toml", 200)
    assert tomlcache.load_toml(path) == tomllib.loads(path.read_text())
    assert not list(cache.glob("toml-*.json"))


@pytest.mark.usefixtures("no_racy_wait")
def test_a_corrupt_cache_file_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("ZOO_CACHE_DIR", str(cache))
    path = _registry(tmp_path / "big.toml", 200)
    expected = tomlcache.load_toml(path)
    (written,) = cache.glob("toml-*.json")
    written.write_text("{not json")
    assert tomlcache.load_toml(path) == expected
