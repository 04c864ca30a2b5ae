"""The import graph of ``src/ml_ci`` has no loops: a module stands above all that it imports.

Every import counts, including those inside functions and under ``TYPE_CHECKING``: a lazy
import is still a dependency, it only moves the cost. Two graphs are checked: modules, and
packages (``ml_ci.<name>``, a top-level module being its own package).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import ml_ci

SRC = Path(ml_ci.__file__).resolve().parent.parent

# (importer, imported) module pairs that still close a package loop, each with the way out;
# remove a pair once its import is gone (test_known_package_loops_are_still_there says when)
KNOWN: dict[tuple[str, str], str] = {
    ("ml_ci.compare.baseline", "ml_ci.release.registry"): (
        "baseline.stage reads the registry, while release.recompute runs compare: the registry "
        "(release.registry, tags, versioning) belongs in a package of its own below both"
    ),
}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted((SRC / "ml_ci").rglob("*.py")):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def _imports(modules: Mapping[str, Path]) -> dict[str, set[str]]:
    """Module -> the ml_ci modules it imports (``from a.b import c`` is ``a.b.c`` when that is
    a module, else ``a.b``)."""

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            for target in targets:
                found = resolve(target) if target.split(".")[0] == "ml_ci" else None
                if found is not None and found != name and found != "ml_ci":
                    graph[name].add(found)
    return graph


def _loops(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    loops: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    loops.append(sorted(component))
    return loops


def _package(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _package_graph(
    graph: Mapping[str, set[str]], skip: Iterable[tuple[str, str]] = ()
) -> dict[str, set[str]]:
    skipped = set(skip)
    packages: dict[str, set[str]] = {_package(name): set() for name in graph}
    for name, targets in graph.items():
        for target in targets:
            if _package(target) != _package(name) and (name, target) not in skipped:
                packages[_package(name)].add(_package(target))
    return packages


def _ties(graph: Mapping[str, set[str]], loop: list[str], of: str = "module") -> list[str]:
    """The imports inside one loop, for the failure message."""
    members = set(loop)
    key = _package if of == "package" else (lambda name: name)
    return sorted(
        f"{name} -> {target}"
        for name, targets in graph.items()
        for target in targets
        if key(name) in members and key(target) in members and key(name) != key(target)
    )


def test_loops_are_found() -> None:
    """The checker itself: a loop of three is one component, a chain is none."""
    assert _loops({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _loops({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = _imports(_modules())
    loops = _loops(graph)
    assert not loops, "\n".join(", ".join(_ties(graph, loop)) for loop in loops)


def test_no_package_loop() -> None:
    graph = _imports(_modules())
    packages = _package_graph(graph, skip=KNOWN)
    loops = _loops(packages)
    assert not loops, "\n".join(", ".join(_ties(graph, loop, "package")) for loop in loops)


def test_known_package_loops_are_still_there() -> None:
    graph = _imports(_modules())
    gone = [pair for pair in KNOWN if pair[1] not in graph.get(pair[0], set())]
    assert not gone, f"remove from KNOWN (the import is gone): {gone}"
