"""The package has no import cycles and nothing points up: every ``spanqa`` import follows the data.

An import tucked into a function to dodge a cycle is still a cycle in the design: a newcomer cannot read the
modules in any order. This test walks every module's imports of ``spanqa.*`` (``import`` and ``from ... import``,
wherever they sit) and fails naming the modules of any cycle, and of any import from a later stage of the flow
(:data:`LAYERS`). The one exception is a module-level ``__getattr__``: a deprecation shim that serves an old name
for one release (and is removed with it).
"""

from __future__ import annotations

import ast
from pathlib import Path

import spanqa

ROOT = Path(spanqa.__file__).parent


def _modules() -> dict[str, Path]:
    out = {}
    for p in ROOT.rglob("*.py"):
        parts = ("spanqa",) + p.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = p
    return out


def _graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    def resolve(name: str) -> str | None:
        parts = name.split(".")
        while parts:
            if ".".join(parts) in mods:
                return ".".join(parts)
            parts.pop()
        return None

    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        shims = {id(n) for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == "__getattr__"
                 for n in ast.walk(f)}
        for node in ast.walk(tree):
            if id(node) in shims:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("spanqa")]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("spanqa"):
                targets = [f"{node.module}.{a.name}" for a in node.names] or [node.module]
            for t in targets:
                hit = resolve(t)
                if hit and hit != name:
                    graph[name].add(hit)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    graph = _graph(_modules())
    assert sum(len(v) for v in graph.values()) > 100  # the walk sees the package's imports
    cycles = _cycles(graph)
    assert cycles == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_finder_finds_one():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


#: the flow, first to last: a module may import its own stage and earlier ones, never a later one
LAYERS = ["core", "corpus", "model", "compare", "score", "run", "review", "measure", "cli"]
#: modules directly under ``spanqa/``: the version and the old-path finder sit below everything, the package's
#: ``__init__`` (the public API) and ``__main__`` above everything
BOTTOM, TOP = {"spanqa._version", "spanqa._moved"}, {"spanqa", "spanqa.__main__"}


def _layer(module: str) -> int:
    if module in BOTTOM:
        return -1
    if module in TOP:
        return len(LAYERS)
    return LAYERS.index(module.split(".")[1])


def test_every_module_sits_in_a_stage_of_the_flow():
    mods = _modules()
    loose = [m for m in mods if m not in BOTTOM | TOP and m.split(".")[1] not in LAYERS]
    assert loose == [], f"modules outside the flow's folders {LAYERS}: {loose}"


def test_nothing_imports_a_later_stage():
    graph = _graph(_modules())
    up = sorted(f"{a} -> {b}" for a, deps in graph.items() for b in deps if _layer(b) > _layer(a))
    assert up == [], "imports pointing up the flow: " + "; ".join(up)


def test_the_layer_check_sees_an_upward_import():
    assert _layer("spanqa.core.span") < _layer("spanqa.model.kfold") < _layer("spanqa.cli.audit")
    assert _layer("spanqa._version") < _layer("spanqa.core.span") and _layer("spanqa") > _layer("spanqa.cli")


def test_every_module_says_what_it_exports():
    """``__all__`` on every module (the CLI's command modules aside), and every name in it exists."""
    import importlib

    missing, unknown = [], []
    for name in sorted(_modules()):
        if name.startswith("spanqa.cli") or name == "spanqa.__main__":
            continue
        module = importlib.import_module(name)
        if not hasattr(module, "__all__"):
            missing.append(name)
            continue
        unknown += [f"{name}.{x}" for x in module.__all__ if not hasattr(module, x)]
    assert missing == [], f"modules without __all__: {missing}"
    assert unknown == [], f"names in __all__ that do not exist: {unknown}"

