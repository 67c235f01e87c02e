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
import signal
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from twisted.internet.defer import Deferred


def _let_children_hear_ctrl_c() -> None:
    """Undo an ignored or blocked SIGINT that this run inherited.

    A test run started as a background job (``bash .ci/run &``, nohup, some CI
    runners) begins with SIGINT ignored, and an ignored signal survives exec:
    every server a test starts would then ignore the Ctrl-C that the graceful
    stop tests and the Autobahn programs send, and "not exit" after 20 s.
    Handlers, unlike SIG_IGN, are reset at exec, so installing Python's own
    handler here gives each child the default disposition.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


_let_children_hear_ctrl_c()

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
