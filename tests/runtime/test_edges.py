"""Edges over real sockets: limits, protocol errors, early data, compression, streams."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

from wsproto_cb.compress import PerMessageDeflateOffer, PerMessageDeflateOfferAccept
from wsproto_cb.core.events import MessageData
from wsproto_cb.exceptions import InvalidStateError, PayloadExceededError

from .harness import Echo, Recorder, RuntimeHarness, track_opened


async def open_pair(runtime: RuntimeHarness, server: type = Recorder, **options: Any) -> Any:
    server_options = options.pop("server_options", {})
    factory = runtime.server_factory(server, **server_options)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    client = await runtime.connect(runtime.client_factory(Recorder, **options), port)
    await runtime.wait(client.opened)
    return await runtime.wait(servers.get()), client


@pytest.mark.asyncio_task
async def test_message_over_the_limit_fails_with_1009(runtime: RuntimeHarness) -> None:
    server, client = await open_pair(runtime, server_options={"maxMessagePayloadSize": 1000})
    client.sendMessage(b"x" * 1000, True)  # exactly the limit passes
    assert await runtime.wait(server.messages.get()) == (b"x" * 1000, True)
    client.sendMessage(b"x" * 600, True, fragmentSize=200)
    assert await runtime.wait(server.messages.get()) == (b"x" * 600, True)
    client.sendMessage(b"x" * 1001, True, fragmentSize=300)
    was_clean, code, _reason = await runtime.wait(client.closed)
    assert (was_clean, code) == (True, 1009)
    assert server.messages.empty()


@pytest.mark.asyncio_task
async def test_sending_over_the_limit_raises(runtime: RuntimeHarness) -> None:
    server, client = await open_pair(runtime, server_options={"maxMessagePayloadSize": 100})
    with pytest.raises(PayloadExceededError, match="maxMessagePayloadSize"):
        server.sendMessage(b"y" * 101)
    with pytest.raises(PayloadExceededError):
        server.sendPreparedMessage(server.factory.prepareMessage(b"y" * 101))
    server.sendMessage(b"y" * 100)  # nothing was sent before: the stream is intact
    assert await runtime.wait(client.messages.get()) == (b"y" * 100, False)


@pytest.mark.asyncio_task
@pytest.mark.parametrize("fail_by_drop", [False, True])
async def test_invalid_utf8_fails_with_1007(runtime: RuntimeHarness, fail_by_drop: bool) -> None:
    server, client = await open_pair(runtime, server_options={"failByDrop": fail_by_drop})
    client.sendMessage(b"ok \xff\xfe", False)  # our client does not check what it sends
    was_clean, code, reason = await runtime.wait(client.closed)
    if fail_by_drop:
        assert (was_clean, code) == (False, 1006)  # no close frame, just a TCP close
    else:
        assert (was_clean, code) == (True, 1007)
    was_clean, code, reason = await runtime.wait(server.closed)
    assert (was_clean, code) == (False, 1006)
    assert "1007" in reason
    assert server.messages.empty()


@pytest.mark.asyncio_task
async def test_server_sends_in_on_open(runtime: RuntimeHarness) -> None:
    """The first message can share a TCP segment with the 101 response."""

    class Server(Recorder):
        def onOpen(self) -> None:
            self.sendMessage(b"welcome")
            self.sendPing(b"hi")
            super().onOpen()

    _server, client = await open_pair(runtime, Server)
    assert await runtime.wait(client.messages.get()) == (b"welcome", False)


@pytest.mark.asyncio_task
@pytest.mark.parametrize("async_connect", [False, True])
async def test_frames_sent_with_the_request(runtime: RuntimeHarness, async_connect: bool) -> None:
    """Frames that arrive with (or right after) the request are kept until open."""

    class Server(Echo, Recorder):
        if async_connect:

            async def onConnect(self, request: Any) -> None:
                await runtime.sleep(0.05)

    port = await runtime.listen(runtime.server_factory(Server))
    peer = await runtime.raw(port)
    frames = peer.conn.send_message(b"early 1") + peer.conn.send_message(b"early 2")
    assert (await peer.handshake(then=frames)).startswith(b"HTTP/1.1 101")
    for text in (b"early 1", b"early 2"):
        event = await peer.next_event()
        assert isinstance(event, MessageData) and event.data == text


@pytest.mark.asyncio_task
async def test_compression_negotiated_over_sockets(runtime_pair: RuntimeHarness) -> None:
    def accept(offers: list[PerMessageDeflateOffer]) -> Any:
        return PerMessageDeflateOfferAccept(offers[0]) if offers else None

    server, client = await open_pair(
        runtime_pair,
        server_options={"perMessageCompressionAccept": accept},
        perMessageCompressionOffers=[PerMessageDeflateOffer()],
    )
    assert len(server.websocket_extensions_in_use) == 1
    assert len(client.websocket_extensions_in_use) == 1
    assert "permessage-deflate" in client.http_headers["sec-websocket-extensions"]
    text = ("compress me " * 5000).encode()
    blob = os.urandom(50_000)
    client.sendMessage(text)
    client.sendMessage(blob, True, fragmentSize=7000)
    client.sendMessage(b"", True)
    assert await runtime_pair.wait(server.messages.get()) == (text, False)
    assert await runtime_pair.wait(server.messages.get()) == (blob, True)
    assert await runtime_pair.wait(server.messages.get()) == (b"", True)
    server.sendPreparedMessage(server.factory.prepareMessage(text))  # compressed per connection
    server.sendMessage(text, doNotCompress=True)
    assert await runtime_pair.wait(client.messages.get()) == (text, False)
    assert await runtime_pair.wait(client.messages.get()) == (text, False)


@pytest.mark.asyncio_task
async def test_streamed_message_with_control_frames(runtime: RuntimeHarness) -> None:
    server, client = await open_pair(runtime)
    server.beginMessage(isBinary=False)
    server.sendMessageFrame("ä".encode()[:1])  # a UTF-8 sequence split across frames
    server.sendPing(b"between frames")
    server.sendMessageFrame("ä".encode()[1:])
    with pytest.raises(InvalidStateError):
        server.sendMessage(b"not now")
    with pytest.raises(InvalidStateError):
        server.sendPreparedMessage(server.factory.prepareMessage(b"not now either"))
    server.endMessage()
    server.sendPreparedMessage(server.factory.prepareMessage(b"now"))
    assert await runtime.wait(client.messages.get()) == ("ä".encode(), False)
    assert await runtime.wait(client.messages.get()) == (b"now", False)
    assert await runtime.wait(server.pongs.get()) == b"between frames"


@pytest.mark.asyncio_task
async def test_nothing_delivered_after_on_close(runtime: RuntimeHarness) -> None:
    """The connection goes while an async handler runs (here the application
    drops it): onClose is the last callback, queued messages are not delivered.
    (The rule in detail: tests/callbacks/test_lifetimes.py; here the wiring.)"""
    log: list[str] = []
    closed = asyncio.get_running_loop().create_future()
    started = asyncio.get_running_loop().create_future()
    ended = asyncio.get_running_loop().create_future()
    gate = runtime.gate()

    class Server(Recorder):
        async def onMessage(self, payload: bytes, isBinary: bool) -> None:
            log.append(f"start {payload.decode()}")
            if not started.done():
                started.set_result(self)
            await gate.waiter
            log.append(f"end {payload.decode()}")
            if not ended.done():
                ended.set_result(None)

        def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
            log.append("close")
            closed.set_result(None)

    port = await runtime.listen(runtime.server_factory(Server))
    peer = await runtime.raw(port)
    await peer.handshake()
    peer.send(b"".join(peer.conn.send_message(f"{i}".encode()) for i in range(3)))
    server = await runtime.wait(started)
    server.dropConnection(abort=True)
    await runtime.wait(closed)
    gate.open()  # the handler ends after onClose; a queued message would start now
    await runtime.wait(ended)
    for _ in range(3):  # (a few loop turns, for a wrongly started handler to show)
        await asyncio.sleep(0)
    assert log == ["start 0", "close", "end 0"]
