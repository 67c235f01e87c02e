"""``factory.closeAllConnections`` and the runtimes' bounded ``shutdown``, in process."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

try:
    from runtime.harness import Recorder, RuntimeHarness, track_opened
except ModuleNotFoundError:  # pragma: no cover - imported as tests.deploy
    from tests.runtime.harness import Recorder, RuntimeHarness, track_opened


def shutdown(runtime: RuntimeHarness, factory: Any) -> Any:
    """The runtime's shutdown: a coroutine on asyncio, a Deferred on Twisted."""
    return runtime.module.shutdown(factory)


async def open_pair(runtime: RuntimeHarness, **server_options: Any) -> tuple[Any, Any, Any]:
    factory = runtime.server_factory(Recorder, **server_options)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    client = await runtime.connect(runtime.client_factory(Recorder), port)
    server = await runtime.wait(servers.get())
    await runtime.wait(client.opened)
    return factory, server, client


@pytest.mark.asyncio_task
async def test_close_all_connections_sends_1001(runtime: RuntimeHarness) -> None:
    factory, server, client = await open_pair(runtime)
    waits = factory.closeAllConnections()
    assert len(waits) == 1
    assert await runtime.wait(client.closed) == (True, 1001, "going away")
    assert await runtime.wait(server.closed) == (True, 1000, None)  # (the client's answer)
    assert await runtime.wait(waits[0]) is server
    assert factory.countConnections == 0


@pytest.mark.asyncio_task
async def test_close_all_connections_custom_code(runtime: RuntimeHarness) -> None:
    factory, _server, client = await open_pair(runtime)
    factory.closeAllConnections(4000, "maintenance")
    assert await runtime.wait(client.closed) == (True, 4000, "maintenance")


@pytest.mark.asyncio_task
async def test_shutdown_closes_everything_and_returns(runtime: RuntimeHarness) -> None:
    factory, server, client = await open_pair(runtime)
    await runtime.wait(shutdown(runtime, factory))
    assert server.state == server.STATE_CLOSED
    assert await runtime.wait(client.closed) == (True, 1001, "going away")
    assert factory.countConnections == 0


@pytest.mark.asyncio_task
async def test_shutdown_with_no_connections_is_immediate(runtime: RuntimeHarness) -> None:
    factory = runtime.server_factory()
    await runtime.listen(factory)
    started = time.monotonic()
    await runtime.wait(shutdown(runtime, factory))
    assert time.monotonic() - started < 0.2


@pytest.mark.asyncio_task
async def test_shutdown_bounded_for_a_peer_that_never_answers(runtime: RuntimeHarness) -> None:
    factory = runtime.server_factory(closeHandshakeTimeout=0.3)
    port = await runtime.listen(factory)
    peer = await runtime.raw(port)
    assert (await peer.handshake()).startswith(b"HTTP/1.1 101")
    started = time.monotonic()
    await runtime.wait(shutdown(runtime, factory))
    elapsed = time.monotonic() - started
    assert 0.25 < elapsed < 1.5, elapsed  # the close timeout, not the peer's pace
    assert factory.countConnections == 0
    assert await peer.closed_within(2.0)


@pytest.mark.asyncio_task
async def test_shutdown_drops_connections_still_in_the_opening_handshake(
    runtime: RuntimeHarness,
) -> None:
    factory = runtime.server_factory(openHandshakeTimeout=30)
    port = await runtime.listen(factory)
    peer = await runtime.raw(port)  # TCP only: no upgrade request yet
    while factory.countConnections == 0:
        await asyncio.sleep(0.01)
    started = time.monotonic()
    await runtime.wait(shutdown(runtime, factory))
    assert time.monotonic() - started < 1.0
    assert await peer.closed_within(2.0)
    assert factory.countConnections == 0


@pytest.mark.asyncio_task
async def test_shutdown_timeout_argument_bounds_the_wait(runtime: RuntimeHarness) -> None:
    factory = runtime.server_factory(closeHandshakeTimeout=30)
    port = await runtime.listen(factory)
    peer = await runtime.raw(port)
    assert (await peer.handshake()).startswith(b"HTTP/1.1 101")
    started = time.monotonic()
    await runtime.wait(runtime.module.shutdown(factory, timeout=0.2))
    assert time.monotonic() - started < 1.5
    assert await peer.closed_within(2.0)  # aborted after the bound
