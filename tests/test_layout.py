"""The layout: import rules (no cycles, a declared public API, nothing heavy behind
`zoo list`), module sizes, and the public API documented.

The rules are checked on source text (tests/import_rules.py); each rule also has a fixture
tree that breaks it, so the checker is shown to fail."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest
from import_rules import PUBLIC, check_tree

REPO = Path(__file__).resolve().parent.parent
#: The issue's bound: no module much over 350 lines.
MAX_LINES = 360
#: Top-level modules of zoo/ besides the subpackages.
MAX_TOP_LEVEL = 12


def test_repo_keeps_the_import_rules() -> None:
    assert check_tree(REPO) == []


def _tree(root: Path, files: dict[str, str]) -> Path:
    """A checkout with a minimal legal zoo, plus `files` (path -> source)."""
    base = {
        "zoo/__init__.py": "from zoo._spec import Spec\n__all__ = ['Spec']\n",
        "zoo/_spec.py": "class Spec: ...\n",
        "zoo/cli/__init__.py": "from zoo.cli._group import main\n__all__ = ['main']\n",
        "zoo/cli/_group.py": "import click\nimport zoo\ndef main(): ...\n",
        "zoo/nn/__init__.py": "from zoo.nn._lengths import pack\n__all__ = ['pack']\n",
        "zoo/nn/_lengths.py": "import torch\ndef pack(): ...\n",
        "zoo/export/__init__.py": "",
        "zoo/testing.py": "",
        "plugins/__init__.py": "",
        "plugins/recurrent.py": "import zoo\n",
        "exporters/__init__.py": "",
        "exporters/onnx.py": "import zoo\ndef export(job):\n    import torch\n",
    }
    for path, text in {**base, **files}.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
    (root / "examples").mkdir(exist_ok=True)
    return root


def test_fixture_tree_is_clean(tmp_path: Path) -> None:
    assert check_tree(_tree(tmp_path, {})) == []


BROKEN = {
    "cycle": {  # hidden behind a function-level import
        "zoo/a.py": "from zoo.b import g\ndef f(): ...\n",
        "zoo/b.py": "def g():\n    from zoo.a import f\n",
    },
    "core-imports-cli": {"zoo/train.py": "def run():\n    from zoo.cli import main\n"},
    "plugins-exporters": {"plugins/recurrent.py": "from zoo.exporters import onnx\n"},
    "private-module": {"exporters/pt2.py": "def load():\n    from zoo.nn._lengths import pack\n"},
    "private-name": {"zoo/b.py": "from zoo._spec import _hidden\n"},
    "heavy-at-import": {"plugins/recurrent.py": "import zoo\nfrom zoo.nn import pack\n"},
}


@pytest.mark.parametrize("rule", sorted(BROKEN))
def test_each_rule_fails_on_a_tree_that_breaks_it(tmp_path: Path, rule: str) -> None:
    problems = check_tree(_tree(tmp_path, BROKEN[rule]))
    assert problems and all(p.startswith(f"{rule}:") for p in problems), problems


def test_public_names_must_be_listed(tmp_path: Path) -> None:
    files = {"exporters/pt2.py": "def load():\n    from zoo.nn import unpack\n"}
    (problem,) = check_tree(_tree(tmp_path, files))
    assert problem.startswith("private-module:") and "'unpack'" in problem


def test_type_checking_imports_do_not_count_as_heavy(tmp_path: Path) -> None:
    files = {
        "plugins/recurrent.py": "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import torch\n"
    }
    assert check_tree(_tree(tmp_path, files)) == []


def _python_files(folder: str) -> list[Path]:
    return sorted((REPO / folder).rglob("*.py"))


@pytest.mark.parametrize(
    "path",
    [p for f in ("zoo", "plugins", "exporters", "examples") for p in _python_files(f)],
    ids=lambda p: str(p.relative_to(REPO)),
)
def test_no_module_is_too_long(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(REPO)} has {lines} lines; split it by concept"


def test_zoo_top_level_is_small() -> None:
    modules = sorted(p.name for p in (REPO / "zoo").glob("*.py"))
    assert len(modules) <= MAX_TOP_LEVEL, modules


def test_every_subpackage_says_what_it_owns() -> None:
    for init in sorted((REPO / "zoo").glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc, f"{init.relative_to(REPO)} needs a docstring saying what it owns"


def _all(module: str) -> list[str]:
    path = REPO / (module.replace(".", "/") + "/__init__.py")
    if not path.exists():
        path = REPO / (module.replace(".", "/") + ".py")
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return [ast.literal_eval(e) for e in node.value.elts]  # type: ignore[attr-defined]
    raise AssertionError(f"{module} declares no __all__")


@pytest.mark.parametrize("module", PUBLIC)
def test_docs_document_every_public_name(module: str) -> None:
    """docs/plugins.md names each public module and every name in its `__all__`."""
    guide = (REPO / "docs" / "plugins.md").read_text()
    assert f"`{module}`" in guide
    missing = [n for n in _all(module) if n != "__version__" and f"{n}" not in guide]
    assert not missing, f"docs/plugins.md does not document {module}: {missing}"
