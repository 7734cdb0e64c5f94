"""The layout's import rules, checked on source text alone (AST; nothing is imported).

`check_tree(root)` reads a checkout (`zoo/`, `plugins/`, `exporters/`, `examples/*/`) and
returns one line per broken rule:

- cycle: an import cycle between zoo modules, function-level and TYPE_CHECKING imports
  included (a cycle hidden behind a function-level import is still a cycle);
- core-imports-cli: a zoo module outside `zoo.cli` (and other than a `__main__`) imports
  `zoo.cli`;
- plugins-exporters: `plugins/` imports `exporters/` or the reverse;
- private-module: `plugins/`, `exporters/` or `examples/` import a zoo module that is not
  public (`PUBLIC`), or a name that a public module does not list in its `__all__`;
- private-name: a module imports another module's `_private` name (a name, not a module);
- heavy-at-import: torch, numpy, onnx, onnxruntime or rich is imported at import time (module
  level, outside TYPE_CHECKING) by what `zoo --help` and `zoo list` load: `zoo.cli` and
  every plugin module, followed through their own import-time imports.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: The public API: what plugins, exporters, examples and docs may import.
PUBLIC = ("zoo", "zoo.nn", "zoo.export", "zoo.testing", "zoo.cli")
#: Libraries `zoo --help` / `zoo list` must not import.
HEAVY = ("torch", "numpy", "onnx", "onnxruntime", "onnxscript", "rich")
#: Where each source folder's modules live once installed.
PACKAGES = {"zoo": "zoo", "plugins": "zoo.plugins", "exporters": "zoo.exporters"}


@dataclass(frozen=True)
class Import:
    """One import statement's target: `module`, and `name` for `from module import name`."""

    module: str
    name: str | None
    line: int
    at_import_time: bool


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    kind: str  # "zoo", "plugins", "exporters" or "example"

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"


def _module_name(base: str, relative: Path) -> str:
    parts = [base, *relative.with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(p for p in parts if p)


def read_tree(root: Path) -> dict[str, Module]:
    """Every Python module of the checkout, by its installed dotted name."""
    modules: dict[str, Module] = {}
    for folder, base in PACKAGES.items():
        for path in sorted((root / folder).rglob("*.py")):
            rel = path.relative_to(root / folder)
            name = _module_name(base, rel)
            modules[name] = Module(name, path, ast.parse(path.read_text()), folder)
    for project in sorted((root / "examples").glob("*/")):
        for path in sorted(project.rglob("*.py")):
            rel = path.relative_to(project)
            if rel.parts[0] in ("tests", "build"):
                continue
            modules[_module_name("", rel)] = Module(
                _module_name("", rel), path, ast.parse(path.read_text()), "example"
            )
    return modules


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(module: Module) -> Iterator[Import]:
    """Every import in the module, with whether it runs when the module is imported."""

    def walk(nodes: list[ast.stmt], runs: bool) -> Iterator[Import]:
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(alias.name, None, node.lineno, runs)
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(module, node)
                for alias in node.names:
                    yield Import(base, alias.name, node.lineno, runs)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield from walk(node.body, False)
            elif isinstance(node, ast.If) and _type_checking(node):
                yield from walk(node.body, False)
                yield from walk(node.orelse, runs)
            else:
                for field in ("body", "orelse", "finalbody", "handlers"):
                    children = getattr(node, field, None)
                    if isinstance(children, list):
                        yield from walk([c for c in children if isinstance(c, ast.stmt)], runs)
                for handler in getattr(node, "handlers", []) or []:
                    yield from walk(handler.body, runs)

    yield from walk(module.tree.body, True)


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.name.split(".")
    if not module.is_package:
        package = package[:-1]
    package = package[: len(package) - (node.level - 1)]
    return ".".join([*package, *([node.module] if node.module else [])])


def _target(modules: dict[str, Module], imp: Import) -> tuple[str | None, str | None]:
    """(the module the import names, the imported non-module name or None)."""
    if imp.name is not None and f"{imp.module}.{imp.name}" in modules:
        return f"{imp.module}.{imp.name}", None
    if imp.module in modules:
        return imp.module, imp.name
    return None, imp.name


def _private(dotted: str) -> bool:
    return any(part.startswith("_") and part != "__init__" for part in dotted.split("."))


def _exported(module: Module) -> set[str] | None:
    for node in module.tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return {ast.literal_eval(e) for e in node.value.elts}  # type: ignore[attr-defined]
    return None


def check_tree(root: Path) -> list[str]:
    """Every broken rule in the checkout at `root`, one line each (empty: all kept)."""
    modules = read_tree(root)
    problems: list[str] = []
    graph: dict[str, set[str]] = {m: set() for m in modules if m.split(".")[0] == "zoo"}
    runtime: dict[str, set[str]] = {m: set() for m in modules}
    heavy: dict[str, str] = {}
    for name, module in modules.items():
        for imp in imports(module):
            where = f"{module.path.relative_to(root)}:{imp.line}"
            target, leaf = _target(modules, imp)
            if target is not None and name in graph and target in graph and target != name:
                graph[name].add(target)
            if target is not None and imp.at_import_time:
                runtime[name].add(target)
            top = imp.module.split(".")[0]
            if imp.at_import_time and top in HEAVY and name not in heavy:
                heavy[name] = f"{where} imports {imp.module}"
            wanted = target or imp.module
            core = module.kind == "zoo" and not name.startswith("zoo.cli")
            if core and wanted.startswith("zoo.cli") and not name.endswith("__main__"):
                problems.append(f"core-imports-cli: {where}: {name} imports {wanted}")
            if module.kind == "plugins" and wanted.startswith("zoo.exporters"):
                problems.append(f"plugins-exporters: {where}: {name} imports {wanted}")
            if module.kind == "exporters" and wanted.startswith("zoo.plugins"):
                problems.append(f"plugins-exporters: {where}: {name} imports {wanted}")
            if module.kind != "zoo" and top == "zoo" and target is not None:
                builtin_plugin = target.startswith(("zoo.plugins.", "zoo.exporters."))
                if target not in PUBLIC and not builtin_plugin:
                    problems.append(
                        f"private-module: {where}: {name} imports {target}, not public "
                        f"(public: {', '.join(PUBLIC)})"
                    )
                elif leaf is not None and target in PUBLIC:
                    listed = _exported(modules[target])
                    if listed is not None and leaf not in listed:
                        problems.append(
                            f"private-module: {where}: {name} imports {leaf!r} from {target}, "
                            "which is not in its __all__"
                        )
            private_name = leaf is not None and leaf.startswith("_") and not leaf.startswith("__")
            if private_name and target is not None and target != name:
                problems.append(f"private-name: {where}: {name} imports {leaf!r} from {target}")
    problems += [f"cycle: {c}" for c in _cycles(graph)]
    entry = {m for m in modules if m == "zoo.cli" or modules[m].kind in ("plugins", "exporters")}
    entry |= {m for m in modules if modules[m].kind == "example" and "." not in m}
    for start in sorted(entry):
        seen, stack = {start}, [start]
        parents: dict[str, str] = {}
        while stack:
            current = stack.pop()
            if current in heavy:
                chain = [current]
                while chain[-1] in parents:
                    chain.append(parents[chain[-1]])
                problems.append(
                    f"heavy-at-import: {' <- '.join(chain)}: {heavy[current]} at import time"
                )
                break
            for nxt in sorted(runtime.get(current, ())):
                for step in _with_parents(nxt, modules):
                    if step not in seen:
                        seen.add(step)
                        parents[step] = current
                        stack.append(step)
    return problems


def _with_parents(name: str, modules: dict[str, Module]) -> list[str]:
    """Importing `a.b.c` runs `a` and `a.b` first."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1) if ".".join(parts[:i]) in modules]


def _cycles(graph: dict[str, set[str]]) -> list[str]:
    """One line per strongly connected group of modules (Tarjan), with one cycle in it."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    lines = []
    for group in groups:
        members = set(group)
        path, current = [group[0]], group[0]
        while True:
            current = min(w for w in graph[current] if w in members)
            if current in path:
                path = [*path[path.index(current) :], current]
                break
            path.append(current)
        lines.append(" -> ".join(path))
    return lines
