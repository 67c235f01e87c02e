"""The package has no import circles, between modules or between packages
(``python -m tests.tooling.house`` prints the rest of the house's numbers)."""

from __future__ import annotations

from tests.tooling.house import circles, import_graph, package_graph


def test_no_import_circles_between_modules() -> None:
    assert circles(import_graph()) == []


def test_no_import_circles_between_packages() -> None:
    # (cli and twisted share the server flags through wsproto_cb.server_flags, below both)
    assert circles(package_graph(import_graph())) == []


def test_a_circle_is_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]
    assert circles(package_graph({"x.p.m": {"x.q.n"}, "x.q.n": {"x.p.k"}, "x.p.k": set()})) == [
        ["x.p", "x.q"]
    ]
