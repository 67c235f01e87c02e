"""Shared test setup: one event loop for asyncio and Twisted.

pytest-twisted runs with ``--reactor=asyncio`` (see pyproject.toml), so the
Twisted reactor drives an asyncio loop and every test body runs inside it.
Three ways to write a test:

- plain ``def test_...``: synchronous; do not call ``asyncio.run()`` (a loop
  is already running).
- ``@pytest_twisted.ensureDeferred`` on ``async def``: the coroutine is
  driven by Twisted and may ``await`` Deferreds; wrap asyncio awaitables in
  ``Deferred.fromFuture(asyncio.ensure_future(...))``.
- ``@pytest.mark.asyncio_task`` on ``async def``: the coroutine runs as an
  asyncio Task on the shared loop and may ``await`` asyncio awaitables;
  convert Deferreds with ``d.asFuture(asyncio.get_running_loop())``.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from twisted.internet.defer import Deferred

#: Upper bound for one ``asyncio_task`` test, so a hung test fails instead of
#: hanging the run.
ASYNCIO_TASK_TIMEOUT = 60.0


def _as_deferred(
    test: Callable[..., Coroutine[Any, Any, object]], timeout: float
) -> Callable[..., Deferred[object]]:
    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> Deferred[object]:
        async def bounded() -> object:
            async with asyncio.timeout(timeout):
                return await test(*args, **kwargs)

        return Deferred.fromFuture(asyncio.ensure_future(bounded()))

    return run


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        marker = item.get_closest_marker("asyncio_task")
        if marker is None or not isinstance(item, pytest.Function):
            continue
        if not inspect.iscoroutinefunction(item.obj):
            raise pytest.UsageError(f"{item.nodeid}: asyncio_task needs an async def test")
        timeout = float(marker.kwargs.get("timeout", ASYNCIO_TASK_TIMEOUT))
        item.obj = _as_deferred(item.obj, timeout)
