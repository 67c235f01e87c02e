"""The shape of the house: module sizes, import circles and ``Any`` counts.

Rerun it before and after a structural change and compare::

    python -m tests.tooling.house            # summary
    python -m tests.tooling.house --sizes    # every module's line count
    python -m tests.tooling.house --mypy     # plus mypy --strict errors per top-level module

Imports are read from the source (``ast``), both module-level ones and the
lazy ones inside functions; imports under ``if TYPE_CHECKING:`` are left out,
since they make no circle at run time.  Circles are reported between modules
and between packages (``cli``, ``twisted``, ``core`` ... each one node, the
top-level modules one node each).  ``Any`` is counted as names in the
source (``Any`` and ``typing.Any``) of the top-level modules
(``wsproto_cb/*.py``), where the issue counted them.
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "wsproto_cb"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, skipping the bodies of ``if TYPE_CHECKING:``."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``name`` imports (a package import counts as its __init__)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                base = name.split(".")
                if not is_package:
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # "from pkg import mod" imports pkg.mod when that is a module.
            targets = [prefix] + [f"{prefix}.{alias.name}" for alias in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), ignoring
    the edges between a package and its own submodules (``pkg/__init__`` that
    re-exports ``pkg.mod`` while ``pkg.mod`` imports a sibling is how packages work).
    """

    def related(a: str, b: str) -> bool:
        return b.startswith(a + ".") or a.startswith(b + ".")

    edges = {a: {b for b in targets if not related(a, b)} for a, targets in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(edges.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def package_of(name: str) -> str:
    """``wsproto_cb.cli.serve`` -> ``wsproto_cb.cli``; top-level modules stand for themselves."""
    parts = name.split(".")
    return ".".join(parts[:2])


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The import graph with every subpackage collapsed to one node."""
    collapsed: dict[str, set[str]] = {}
    for name, targets in graph.items():
        node = package_of(name)
        collapsed.setdefault(node, set()).update(
            package_of(target) for target in targets if package_of(target) != node
        )
    return collapsed


def top_level_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.glob("*.py"))}


def any_count(path: Path) -> int:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return sum(
        1
        for node in ast.walk(tree)
        if (isinstance(node, ast.Name) and node.id == "Any")
        or (isinstance(node, ast.Attribute) and node.attr == "Any")
    )


def mypy_errors(paths: list[Path]) -> dict[str, int]:
    """mypy --strict errors per file, for the given files (imports followed silently)."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", *map(str, paths)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    counts: dict[str, int] = {}
    for line in result.stdout.splitlines():
        match = re.match(r"^(\S+\.py):\d+: error:", line)
        if match:
            counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", action="store_true", help="list every module's line count")
    parser.add_argument("--mypy", action="store_true", help="mypy --strict of top-level modules")
    args = parser.parse_args(argv)

    mods = modules()
    lines = {
        name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in mods.items()
    }
    print(f"modules: {len(mods)}, lines: {sum(lines.values())}")
    big = sorted(((n, name) for name, n in lines.items() if n > 600), reverse=True)
    print("over 600 lines:", ", ".join(f"{name} ({n})" for n, name in big) or "none")
    if args.sizes:
        for name, n in sorted(lines.items(), key=lambda item: -item[1]):
            print(f"  {n:5d}  {name}")

    graph = import_graph()
    for label, found in (
        ("import circles between modules", circles(graph)),
        ("import circles between packages", circles(package_graph(graph))),
    ):
        print(f"{label}: {len(found)}")
        for component in found:
            print("  " + " <-> ".join(component))

    print(f"Any in all modules: {sum(any_count(path) for path in mods.values())}")
    top = top_level_modules()
    counts = {name: any_count(path) for name, path in top.items()}
    print(f"Any in top-level modules: {sum(counts.values())}")
    for name, n in sorted(counts.items(), key=lambda item: -item[1]):
        if n:
            print(f"  {n:4d}  {name}")

    if args.mypy:
        errors = mypy_errors(list(top.values()))
        top_errors = {
            file: n for file, n in errors.items() if Path(file).parent == Path("wsproto_cb")
        }
        print(f"mypy --strict errors in top-level modules: {sum(top_errors.values())}")
        for file, n in sorted(top_errors.items()):
            print(f"  {n:4d}  {file}")
        other = sum(errors.values()) - sum(top_errors.values())
        print(f"mypy --strict errors elsewhere (followed imports): {other}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
