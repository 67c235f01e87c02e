"""Fixtures for interop tests: our runtimes (as in tests/runtime) and peer processes.

``runtime`` is the fixture of ``tests/runtime``: one of our runtimes,
parametrised asyncio / twisted, with sockets closed after the test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred

from .peers import Ours, PeerProcess

try:  # pytest puts tests/ on sys.path (rootdir conftest, no tests/__init__.py)
    from runtime.harness import RUNTIMES, RuntimeHarness
except ModuleNotFoundError:  # pragma: no cover - imported as tests.interop
    from tests.runtime.harness import RUNTIMES, RuntimeHarness


class AutobahnPeer(PeerProcess):
    """``autobahn_peer.py`` on one of Autobahn's frameworks."""

    def __init__(self, framework: str) -> None:
        super().__init__(["autobahn_peer.py", framework])
        self.framework = framework
        self.port = 0
        self.strict_port = 0


@pytest.fixture(autouse=True)
def loop_errors() -> Iterator[list[dict[str, Any]]]:
    """Fail a test that left errors for the loop's exception handler (as in tests/runtime)."""
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
    pytest_twisted.blockon(Deferred.fromFuture(asyncio.ensure_future(harness.close())))


@pytest.fixture
def ours(runtime: RuntimeHarness) -> Iterator[Ours]:
    """Our servers and clients on ``runtime``, behind wire taps."""
    made = Ours(runtime)
    yield made
    made.close()


@pytest.fixture(scope="module", params=["asyncio", "twisted"], ids=lambda p: f"autobahn_{p}")
def autobahn(request: pytest.FixtureRequest) -> Iterator[AutobahnPeer]:
    """An Autobahn|Python peer process (its own process: txaio picks one framework)."""
    peer = AutobahnPeer(request.param)
    try:
        listening = peer.wait_sync(event="listening")
        peer.port = int(listening["port"])
        peer.strict_port = int(listening["strict_port"])
        yield peer
    finally:
        peer.close()
