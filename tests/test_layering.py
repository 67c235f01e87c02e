"""The sans-I/O packages import neither asyncio nor Twisted and do no I/O.

They are the protocol core (``wsproto_cb.core``) and the backplane's logic
(``wsproto_cb.backplane``: RESP, envelopes, links to Redis, all driven
through a small I/O interface that each runtime implements once).  Two
checks for each: importing every module in a fresh interpreter must not
pull in a runtime (transitively), and no source file may import an I/O or
runtime module directly, even lazily inside a function.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import wsproto_cb

PACKAGE_DIR = Path(wsproto_cb.__file__).resolve().parent
SANS_IO = ["core", "backplane"]

#: Runtimes the core must never import, directly or transitively.  (Socket
#: modules are checked statically only: innocent stdlib modules such as
#: email.utils import socket themselves.)
FORBIDDEN_AT_RUNTIME = ("asyncio", "twisted", "txaio", "autobahn")

#: Top-level names the core's source must not import.
FORBIDDEN_IMPORTS = frozenset(
    {"asyncio", "twisted", "socket", "select", "selectors", "ssl", "txaio", "autobahn"}
)

_PROBE = """
import json, pkgutil, sys, importlib
before = set(sys.modules)
package = importlib.import_module("wsproto_cb." + sys.argv[1])
names = sorted(
    info.name
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
)
for name in names:
    importlib.import_module(name)
print(json.dumps({"before": sorted(before), "after": sorted(sys.modules), "imported": names}))
"""


def _sources(package: str) -> list[Path]:
    return sorted((PACKAGE_DIR / package).rglob("*.py"))


def test_sans_io_packages_have_modules() -> None:
    # Guards the other tests against passing vacuously on an empty glob.
    assert {"codes", "errors", "masking"} <= {path.stem for path in _sources("core")}
    assert {"resp", "envelope", "link", "redis"} <= {path.stem for path in _sources("backplane")}


@pytest.mark.parametrize("package", SANS_IO)
def test_importing_a_sans_io_package_pulls_in_no_runtime(package: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, package],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    expected = {f"wsproto_cb.{package}.{path.stem}" for path in _sources(package)}
    expected.discard(f"wsproto_cb.{package}.__init__")
    assert expected <= set(report["imported"])

    new = set(report["after"]) - set(report["before"])
    leaked = sorted(
        name
        for name in new
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN_AT_RUNTIME)
    )
    assert leaked == [], f"importing wsproto_cb.{package} pulled in {leaked}"
    # The baseline must not already contain them, or the comparison proves nothing.
    assert "asyncio" not in report["before"]
    assert "twisted" not in report["before"]


def _imported_top_levels(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.args[0] if node.args else None, ast.Constant)
            and (
                (isinstance(node.func, ast.Name) and node.func.id == "__import__")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
        ):
            value = node.args[0].value  # type: ignore[attr-defined]
            if isinstance(value, str):
                found.add(value.split(".")[0])
    return found


@pytest.mark.parametrize("package", SANS_IO)
def test_sans_io_sources_import_no_runtime_or_io(package: str) -> None:
    offenders: dict[str, list[str]] = {}
    for path in _sources(package):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        bad = sorted(_imported_top_levels(tree) & FORBIDDEN_IMPORTS)
        if bad:
            offenders[str(path.relative_to(PACKAGE_DIR.parent))] = bad
    assert offenders == {}


def test_static_scan_catches_forbidden_imports() -> None:
    # The scanner itself must be able to fail.
    sample = (
        "import asyncio\nfrom twisted.internet import reactor\n"
        "def f():\n    import socket\n    from select import select\n"
        "importlib.import_module('ssl')\n"
    )
    assert _imported_top_levels(ast.parse(sample)) >= {
        "asyncio",
        "twisted",
        "socket",
        "select",
        "ssl",
    }
