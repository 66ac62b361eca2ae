"""The code's layout rules (the restructuring issue): dependencies run one way, no file does several jobs.

Import graph: every ``import`` of a project module anywhere in a file (functions included, since a
lazy import is still a dependency), except under ``if TYPE_CHECKING:`` (annotations only).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("engine", "app", "losslab")
#: Source files a newcomer reads; none should be over ~500 lines.
MAX_LINES = 520
#: What the restructuring has not reached yet (issue 12), named so that nothing new joins them:
#: a new cycle or a new long file fails, and so does one of these once it is fixed (then delete it here).
KNOWN_CYCLES: list[list[str]] = []
KNOWN_LONG: set[str] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _files() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING":
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def import_graph() -> dict[str, set[str]]:
    files = _files()
    graph: dict[str, set[str]] = {m: set() for m in files}
    for mod, path in files.items():
        tree = ast.parse(path.read_text(), str(path))
        skip = _type_checking_lines(tree)
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                targets = [f"{base}.{a.name}" for a in node.names] + [base]
            for t in targets:
                # the longest project module the name refers to
                while t and t not in files:
                    t = t.rpartition(".")[0]
                if t and t != mod and not mod.startswith(t + ".") and not (files[t].name == "__init__.py" and mod.startswith(t)):
                    graph[mod].add(t)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
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

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    # losslab.scene imports losslab.sweeps inside Scene.sweep only: still an edge.
    assert "losslab.sweeps" in graph["losslab.scene"]
    assert "losslab.results" in graph["losslab.scene"]


def test_a_cycle_is_found_when_there_is_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_files():
    assert sorted(cycles(import_graph())) == sorted(KNOWN_CYCLES)


def js_import_graph() -> dict[str, set[str]]:
    """The page's ES modules: each file and the project files it imports (static or dynamic ``import()``)."""
    base = ROOT / "static" / "js"
    graph: dict[str, set[str]] = {}
    pattern = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}/[^"'?]+)""")
    for path in base.rglob("*.js"):
        name = path.relative_to(base).as_posix()
        graph[name] = {(path.parent / m).resolve().relative_to(base).as_posix() for m in pattern.findall(path.read_text())}
    return graph


def test_the_js_graph_sees_imports():
    graph = js_import_graph()
    assert "render.js" in graph["main.js"] and "state.js" in graph["running.js"]


def test_no_import_cycle_between_js_modules():
    assert cycles(js_import_graph()) == []


def test_the_engine_has_no_web_imports():
    web = ("fastapi", "starlette", "uvicorn", "app", "losslab", "jinja2", "plotly")
    for path in (ROOT / "engine").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            assert not [n for n in names if n.split(".")[0] in web], f"{path.relative_to(ROOT)} imports {names}"


@pytest.mark.parametrize("path", sorted(p.relative_to(ROOT).as_posix() for pkg in (*PACKAGES, "static/js")
                                        for p in (ROOT / pkg).rglob("*") if p.suffix in (".py", ".js")))
def test_no_source_file_over_about_500_lines(path):
    n = len((ROOT / path).read_text().splitlines())
    if path in KNOWN_LONG:
        assert n > MAX_LINES, f"{path} is short now: remove it from KNOWN_LONG"
    else:
        assert n <= MAX_LINES, f"{path} has {n} lines: split it by job"
