"""Fixtures: ``runtime`` (server and client on one runtime), ``runtime_pair``, ``tls``."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred

from .harness import RUNTIMES, RuntimeHarness, TLSFiles


def _close(harness: RuntimeHarness) -> None:
    pytest_twisted.blockon(Deferred.fromFuture(asyncio.ensure_future(harness.close())))


@pytest.fixture(autouse=True)
def loop_errors() -> Iterator[list[dict[str, Any]]]:
    """Fail a test whose run left errors for the loop's exception handler
    (an exception in a callback, a Future's exception never retrieved ...)."""
    from twisted.internet import reactor

    loop: asyncio.AbstractEventLoop = reactor._asyncioEventloop  # type: ignore[attr-defined]
    errors: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    yield errors
    loop.set_exception_handler(previous)
    assert not errors, [context.get("message") or context for context in errors]


@pytest.fixture(params=RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> Iterator[RuntimeHarness]:
    harness = RuntimeHarness(request.param)
    yield harness
    _close(harness)


@pytest.fixture(
    params=list(itertools.product(RUNTIMES, RUNTIMES)),
    ids=lambda pair: f"{pair[0]}-server-{pair[1]}-client",
)
def runtime_pair(request: pytest.FixtureRequest) -> Iterator[RuntimeHarness]:
    server, client = request.param
    harness = RuntimeHarness(server, client)
    yield harness
    _close(harness)


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    """A throwaway certificate for ``localhost`` (skips without ``cryptography``)."""
    pytest.importorskip("cryptography")
    return TLSFiles.create(str(tmp_path_factory.mktemp("tls")))
