"""The three timers against peers that misbehave on purpose (small timeouts),
over real sockets on both runtimes: one test per timer, for the wiring.  The
rules themselves (exact deadlines, cancellation, auto-ping with and without
restart on traffic) are tested on a controllable clock in tests/callbacks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from wsproto_cb.core.events import CloseReceived, Ping

from .harness import RawServerPeer, Recorder, RuntimeHarness, track_opened


def closed_future() -> asyncio.Future[tuple[bool, int | None, str | None]]:
    return asyncio.get_running_loop().create_future()


def recorder_reporting(fut: asyncio.Future[Any]) -> type:
    """A Recorder whose onClose also resolves ``fut`` (for servers a test never sees)."""

    class Server(Recorder):
        def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
            super().onClose(wasClean, code, reason)
            if not fut.done():
                fut.set_result((wasClean, code, reason))

    return Server


def elapsed_since(start: float) -> float:
    return asyncio.get_running_loop().time() - start


# ------------------------------------------------------------ openHandshakeTimeout


@pytest.mark.asyncio_task
async def test_open_handshake_timeout_server(runtime: RuntimeHarness) -> None:
    closed = closed_future()
    factory = runtime.server_factory(recorder_reporting(closed), openHandshakeTimeout=0.3)
    port = await runtime.listen(factory)
    start = asyncio.get_running_loop().time()
    peer = await runtime.raw(port)  # connects and sends nothing
    assert not await peer.closed_within(0.15)
    assert await peer.closed_within(2)
    assert 0.25 <= elapsed_since(start) < 1.5
    was_clean, code, reason = await runtime.wait(closed)
    assert (was_clean, code) == (False, 1006)
    assert "opening handshake timeout" in reason
    await asyncio.sleep(0.01)
    assert factory.countConnections == 0


@pytest.mark.asyncio_task
async def test_open_handshake_timeout_client(runtime: RuntimeHarness) -> None:
    async def silent(peer: RawServerPeer) -> None:
        await peer.reader.read()  # reads the request, never answers

    port = await runtime.raw_server(silent)
    start = asyncio.get_running_loop().time()
    client = await runtime.connect(runtime.client_factory(Recorder, openHandshakeTimeout=0.3), port)
    was_clean, code, reason = await runtime.wait(client.closed)
    assert 0.25 <= elapsed_since(start) < 1.5
    assert (was_clean, code) == (False, 1006)
    assert "opening handshake timeout" in reason
    assert not client.opened.done()


# ----------------------------------------------------------- closeHandshakeTimeout


@pytest.mark.asyncio_task
async def test_close_handshake_timeout_server(runtime: RuntimeHarness) -> None:
    factory = runtime.server_factory(Recorder, closeHandshakeTimeout=0.3)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    peer = await runtime.raw(port)
    assert (await peer.handshake()).startswith(b"HTTP/1.1 101")
    server = await runtime.wait(servers.get())
    start = asyncio.get_running_loop().time()
    server.sendClose(1000, "bye")
    event = await peer.next_event()
    assert event == CloseReceived(1000, "bye")
    # the peer never answers the close frame
    assert await peer.closed_within(2)
    assert 0.25 <= elapsed_since(start) < 1.5
    was_clean, code, reason = await runtime.wait(server.closed)
    assert (was_clean, code) == (False, 1006)
    assert "closing handshake timeout" in reason


@pytest.mark.asyncio_task
async def test_close_handshake_timeout_client(runtime: RuntimeHarness) -> None:
    got_close: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    async def deaf(peer: RawServerPeer) -> None:
        await peer.accept()
        got_close.set_result(await peer.next_event())
        await peer.reader.read()

    port = await runtime.raw_server(deaf)
    client = await runtime.connect(
        runtime.client_factory(Recorder, closeHandshakeTimeout=0.3), port
    )
    await runtime.wait(client.opened)
    client.sendClose(4000)
    assert await runtime.wait(got_close) == CloseReceived(4000, "")
    was_clean, code, reason = await runtime.wait(client.closed)
    assert (was_clean, code) == (False, 1006)
    assert "closing handshake timeout" in reason


@pytest.mark.asyncio_task
async def test_server_connection_drop_timeout(runtime: RuntimeHarness) -> None:
    """A server that answers the close but keeps TCP open is dropped by the client."""

    async def lingering(peer: RawServerPeer) -> None:
        await peer.accept()
        event = await peer.next_event()
        assert isinstance(event, CloseReceived)
        peer.writer.write(peer.conn.acknowledge_close())
        await peer.reader.read()  # but never closes TCP itself

    port = await runtime.raw_server(lingering)
    client = await runtime.connect(
        runtime.client_factory(Recorder, serverConnectionDropTimeout=0.3), port
    )
    await runtime.wait(client.opened)
    start = asyncio.get_running_loop().time()
    client.sendClose(1000)
    was_clean, code, reason = await runtime.wait(client.closed)
    assert elapsed_since(start) >= 0.25
    assert (was_clean, code) == (False, 1006)
    assert "server did not drop" in reason


# --------------------------------------------------------------------- auto-ping


@pytest.mark.asyncio_task
async def test_auto_ping_drops_silent_peer(runtime: RuntimeHarness) -> None:
    closed = closed_future()
    factory = runtime.server_factory(
        recorder_reporting(closed), autoPingInterval=0.2, autoPingTimeout=0.2
    )
    port = await runtime.listen(factory)
    peer = await runtime.raw(port)
    assert (await peer.handshake()).startswith(b"HTTP/1.1 101")
    start = asyncio.get_running_loop().time()
    event = await peer.next_event()  # a ping, never answered
    assert isinstance(event, Ping) and len(event.payload) == 12  # autoPingSize
    assert await peer.closed_within(2)
    assert 0.35 <= elapsed_since(start) < 1.5  # interval + timeout
    was_clean, code, reason = await runtime.wait(closed)
    assert (was_clean, code) == (False, 1006)
    assert "auto-ping timeout" in reason


@pytest.mark.asyncio_task
async def test_auto_ping_raw_peer_answering_stays(runtime: RuntimeHarness) -> None:
    factory = runtime.server_factory(Recorder, autoPingInterval=0.1, autoPingTimeout=0.1)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    peer = await runtime.raw(port)
    await peer.handshake()
    server = await runtime.wait(servers.get())
    pings = 0
    loop = asyncio.get_running_loop()
    end = loop.time() + 0.6
    while loop.time() < end:
        try:
            event = await peer.next_event(timeout=end - loop.time())
        except TimeoutError:
            break
        assert isinstance(event, Ping), event
        pings += 1
        peer.send(peer.conn.send_pong(event.payload))
    assert pings >= 3
    assert not server.closed.done()
    peer.send(peer.conn.send_message(b"still here"))
    assert await runtime.wait(server.messages.get()) == (b"still here", False)
