"""Registers the ``conformance`` marker for tests/test_conformance.py.

Loaded by that module's ``pytest_plugins``, so it works under
``--strict-markers`` whether or not the project's pytest configuration lists
the marker; the slow testsuite runs get the marker here, after registration,
so that ``-m conformance`` and ``-m "not conformance"`` select them.
"""

from __future__ import annotations

import pytest

MARKER = "conformance"
MODULE = "test_conformance.py"
SLOW_TESTS = ("test_quick_conformance",)  # the others there are fast unit tests


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: Autobahn|Testsuite runs (minutes; need wstest)")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if (
            item.path.name == MODULE
            and getattr(item, "originalname", None) in SLOW_TESTS
            and item.get_closest_marker(MARKER) is None
        ):
            item.add_marker(MARKER)
