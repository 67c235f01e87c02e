"""``runtime``: the fixture of tests/runtime (asyncio / twisted), for in-process tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred

try:  # pytest puts tests/ on sys.path (rootdir conftest, no tests/__init__.py)
    from runtime.harness import RUNTIMES, RuntimeHarness
except ModuleNotFoundError:  # pragma: no cover - imported as tests.deploy
    from tests.runtime.harness import RUNTIMES, RuntimeHarness


@pytest.fixture(params=RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> Iterator[RuntimeHarness]:
    harness = RuntimeHarness(request.param)
    yield harness
    pytest_twisted.blockon(Deferred.fromFuture(asyncio.ensure_future(harness.close())))
