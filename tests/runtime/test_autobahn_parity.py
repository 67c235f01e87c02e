"""Autobahn|Python's extra names and behaviours, on both runtimes over real sockets.

Issue 15 items: the factory's reactor/loop (always there, never raising),
options copied onto the protocol (class attributes override the factory),
the compatibility names (``log``, ``is_open``, ``trafficStats``, timings,
close details, ``on``/``off``, hooks), exceptions that are RuntimeErrors,
control sends on a closed connection, and close reasons cut to fit.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import warnings
from typing import Any, ClassVar

import pytest

from wsproto_cb.exceptions import Disconnected, PayloadExceededError

from .harness import Recorder, RuntimeHarness, future, resolve, track_opened


async def open_pair(
    runtime: RuntimeHarness,
    server_mixin: type = Recorder,
    client_mixin: type = Recorder,
    server_options: dict[str, Any] | None = None,
    **client_options: Any,
) -> tuple[Any, Any]:
    factory = runtime.server_factory(server_mixin, **(server_options or {}))
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    client = await runtime.connect(runtime.client_factory(client_mixin, **client_options), port)
    server = await runtime.wait(servers.get())
    await runtime.wait(client.opened)
    return server, client


# ------------------------------------------------------- 1, 2: reactor and loop


class CallsLaterThroughItsFactory(Recorder):
    """An Autobahn client: ``self.factory.reactor.callLater`` (Twisted) or
    ``self.factory.loop.call_later`` (asyncio) from ``onOpen``."""

    def onOpen(self) -> None:
        super().onOpen()
        factory = self.factory
        if hasattr(factory, "reactor"):
            factory.reactor.callLater(0.01, self.sendMessage, b"hello")
        else:
            factory.loop.call_later(0.01, self.sendMessage, b"hello")


@pytest.mark.asyncio_task
async def test_factory_clock_is_there_without_being_given(runtime: RuntimeHarness) -> None:
    server, client = await open_pair(runtime, client_mixin=CallsLaterThroughItsFactory)
    assert await runtime.wait(server.messages.get()) == (b"hello", False)
    for factory in (server.factory, client.factory):
        clock = getattr(factory, "reactor", None) or factory.loop
        assert clock is not None


def test_twisted_factories_reactor_is_the_given_one_or_the_global_one() -> None:
    from twisted.internet import reactor
    from twisted.internet.task import Clock

    from wsproto_cb.twisted import WebSocketClientFactory, WebSocketServerFactory

    clock = Clock()
    for cls in (WebSocketServerFactory, WebSocketClientFactory):
        assert cls().reactor is reactor
        assert cls(reactor=clock).reactor is clock
        factory = cls()
        factory.reactor = clock
        assert factory.reactor is clock


def test_asyncio_factory_loop_never_raises_outside_a_loop() -> None:
    # (in a thread of its own: the tests' thread runs the shared loop)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(_check_loop_outside_a_loop).result(timeout=10)


def _check_loop_outside_a_loop() -> None:
    from wsproto_cb.asyncio import WebSocketClientFactory, WebSocketServerFactory

    for cls in (WebSocketServerFactory, WebSocketClientFactory):
        factory = cls()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert factory.loop is None
            assert hasattr(factory, "loop")
            assert getattr(factory, "loop", "missing") is None
        loop = asyncio.new_event_loop()
        try:
            assert cls(loop=loop).loop is loop
            factory.loop = loop
            assert factory.loop is loop
        finally:
            loop.close()


@pytest.mark.asyncio_task
async def test_asyncio_factory_loop_is_the_running_loop_inside_it() -> None:
    from wsproto_cb.asyncio import WebSocketServerFactory

    assert WebSocketServerFactory().loop is asyncio.get_running_loop()


# ------------------------------------------------------------ 7: options


class SmallMessagesOnly(Recorder):
    maxMessagePayloadSize = 10  # overrides the factory, as in Autobahn


@pytest.mark.asyncio_task
async def test_protocol_class_attribute_overrides_the_factory_option(
    runtime: RuntimeHarness,
) -> None:
    server, client = await open_pair(runtime, server_mixin=SmallMessagesOnly)
    assert server.factory.maxMessagePayloadSize > 10
    assert server.maxMessagePayloadSize == 10
    assert client.maxMessagePayloadSize == client.factory.maxMessagePayloadSize
    with pytest.raises(PayloadExceededError):
        server.sendMessage(b"x" * 11)
    client.sendMessage(b"x" * 11)
    _clean, code, _reason = await runtime.wait(client.closed)
    assert code == 1009


@pytest.mark.asyncio_task
async def test_options_are_read_on_the_protocol_and_fixed_at_connect(
    runtime: RuntimeHarness,
) -> None:
    server, client = await open_pair(runtime, server_options={"autoFragmentSize": 4})
    assert (server.autoFragmentSize, server.autoPingInterval) == (4, 0)
    assert server.openHandshakeTimeout == server.factory.openHandshakeTimeout
    assert client.perMessageCompressionOffers == []
    server.factory.setProtocolOptions(autoFragmentSize=0)  # later changes leave it alone
    assert server.autoFragmentSize == 4
    server.sendMessage(b"0123456789")
    assert await runtime.wait(client.messages.get()) == (b"0123456789", False)
    assert server.trafficStats.outgoingWebSocketFrames == 3


class PingsEveryFewMilliseconds(Recorder):
    autoPingInterval = 0.02
    autoPingTimeout = 5.0


@pytest.mark.asyncio_task
async def test_auto_ping_interval_as_class_attribute_is_used(runtime: RuntimeHarness) -> None:
    pinged = future()

    class RecordsPings(Recorder):
        def onPing(self, payload: bytes) -> None:
            resolve(pinged, payload)
            super().onPing(payload)  # type: ignore[misc]

    server, _client = await open_pair(
        runtime, server_mixin=PingsEveryFewMilliseconds, client_mixin=RecordsPings
    )
    assert server.factory.autoPingInterval == 0
    assert len(await runtime.wait(pinged)) == server.autoPingSize


class InstanceOverride(Recorder):
    def __init__(self) -> None:
        super().__init__()
        self.autoFragmentSize = 3


@pytest.mark.asyncio_task
async def test_instance_attribute_set_before_connect_overrides(runtime: RuntimeHarness) -> None:
    server, client = await open_pair(runtime, server_mixin=InstanceOverride)
    assert server.factory.autoFragmentSize == 0 and server.autoFragmentSize == 3
    server.sendMessage(b"0123456789")
    assert await runtime.wait(client.messages.get()) == (b"0123456789", False)
    assert client.trafficStats.incomingWebSocketFrames == 4  # 3 + 3 + 3 + 1 bytes


# --------------------------------------------------------- 8: compat names


class Observed(Recorder):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.on("message", lambda *a, **kw: self.events.append(("message", a, kw)))
        self.on("open", lambda *a, **kw: self.events.append(("open", a, kw)))
        self.on("close", lambda *a, **kw: self.events.append(("close", a, kw)))


@pytest.mark.asyncio_task
async def test_on_and_off_observers(runtime: RuntimeHarness) -> None:
    server, client = await open_pair(runtime, server_mixin=Observed)
    client.sendMessage(b"one", True)
    await runtime.wait(server.messages.get())
    server.off("message")
    client.sendMessage(b"two")
    await runtime.wait(server.messages.get())
    client.sendClose(1000)
    await runtime.wait(server.closed)
    assert server.events == [
        ("open", (), {}),
        ("message", (b"one",), {"is_binary": True}),
        ("close", (True, 1000, None), {}),
    ]
    with pytest.raises(RuntimeError, match="Invalid event"):
        server.on("nonsense", print)


@pytest.mark.asyncio_task
async def test_is_open_log_constants_and_connection_count(runtime: RuntimeHarness) -> None:
    server, client = await open_pair(runtime)
    for proto in (server, client):
        await runtime.wait(proto.is_open)
        proto.log.info("open {peer}", peer=proto.peer)
        proto.log.debug("debug {n}", n=1)
        assert proto.CLOSE_STATUS_CODE_NORMAL == 1000
        assert proto.CLOSE_STATUS_CODE_GOING_AWAY == 1001
        assert proto.MESSAGE_TYPE_BINARY == 2
    assert server.factory.getConnectionCount() == 1


@pytest.mark.asyncio_task
async def test_traffic_stats_count_real_octets(runtime: RuntimeHarness) -> None:
    server, client = await open_pair(runtime)
    client.sendMessage(b"a" * 200, True)  # 2 + 2 (126) + 4 mask header bytes
    client.sendMessage(b"b" * 10)  # 2 + 4 header bytes
    await runtime.wait(server.messages.get())
    await runtime.wait(server.messages.get())
    sent, got = client.trafficStats, server.trafficStats
    assert sent.outgoingWebSocketMessages == got.incomingWebSocketMessages == 2
    assert sent.outgoingWebSocketFrames == got.incomingWebSocketFrames == 2
    assert sent.outgoingOctetsAppLevel == got.incomingOctetsAppLevel == 210
    assert sent.outgoingOctetsWebSocketLevel == got.incomingOctetsWebSocketLevel == 210
    assert sent.outgoingOctetsWireLevel == got.incomingOctetsWireLevel == 210 + 8 + 6
    assert sent.preopenOutgoingOctetsWireLevel == got.preopenIncomingOctetsWireLevel > 100
    assert got.preopenOutgoingOctetsWireLevel == sent.preopenIncomingOctetsWireLevel > 100
    assert got.__json__()["incomingWebSocketOverhead"] == pytest.approx(14 / 210)
    got.reset()
    assert got.incomingWebSocketMessages == 0 and got.outgoingOctetsWireLevel == 0


@pytest.mark.asyncio_task
async def test_traffic_stats_count_large_streamed_frames(runtime: RuntimeHarness) -> None:
    # (frames of 64 KiB and more are written as parts: header, then the payload)
    server, client = await open_pair(runtime)
    big = bytes(range(256)) * 300  # 76,800 bytes: a 64-bit length header
    for sender, receiver, header in ((client, server, 2 + 8 + 4), (server, client, 2 + 8)):
        sender.beginMessage(isBinary=True)
        sender.sendMessageFrame(big)
        sender.sendMessageFrame(bytearray(big))  # (not bytes: framed as one buffer)
        sender.endMessage()
        assert await runtime.wait(receiver.messages.get()) == (big * 2, True)
        sent, got = sender.trafficStats, receiver.trafficStats
        assert sent.outgoingWebSocketMessages == got.incomingWebSocketMessages == 1
        assert sent.outgoingWebSocketFrames == got.incomingWebSocketFrames == 3
        assert sent.outgoingOctetsAppLevel == got.incomingOctetsAppLevel == len(big) * 2
        assert sent.outgoingOctetsWebSocketLevel == got.incomingOctetsWebSocketLevel == len(big) * 2
        wire = len(big) * 2 + 2 * header + header - 8  # (the final frame: empty, short header)
        assert sent.outgoingOctetsWireLevel == got.incomingOctetsWireLevel == wire


@pytest.mark.asyncio_task
async def test_track_timings(runtime: RuntimeHarness) -> None:
    server, client = await open_pair(runtime, server_options={"trackTimings": True})
    assert server.trackTimings is True and client.trackedTimings is None
    client.sendMessage(b"x")
    await runtime.wait(server.messages.get())
    timings = server.trackedTimings
    assert timings["onOpen"] is not None and timings["onMessage"] >= timings["onOpen"]
    assert timings.diff("onOpen", "onMessage", formatted=False) >= 0
    assert timings.diff("onOpen", "nothing") == "    n.a."
    client.setTrackTimings(True)
    assert client.trackedTimings is not None
    server.setTrackTimings(False)
    assert server.trackedTimings is None


@pytest.mark.asyncio_task
@pytest.mark.parametrize("closer", ["client", "server"])
async def test_close_details(runtime: RuntimeHarness, closer: str) -> None:
    server, client = await open_pair(runtime)
    first, other = (client, server) if closer == "client" else (server, client)
    assert first.remoteCloseCode is None and first.localCloseCode is None
    first.sendClose(4000, "bye ✓")
    await runtime.wait(other.closed)
    await runtime.wait(first.closed)
    assert (first.closedByMe, other.closedByMe) == (True, False)
    assert (first.localCloseCode, first.localCloseReason) == (4000, "bye ✓".encode())
    assert (other.remoteCloseCode, other.remoteCloseReason) == (4000, "bye ✓")
    assert (other.localCloseCode, other.localCloseReason) == (1000, None)
    assert (first.remoteCloseCode, first.remoteCloseReason) == (1000, None)


class SeesCloseFrames(Recorder):
    def __init__(self) -> None:
        super().__init__()
        self.close_frames: list[tuple[int | None, bytes | None]] = []

    def onCloseFrame(self, code: int | None, reasonRaw: bytes | None) -> Any:
        self.close_frames.append((code, reasonRaw))
        return super().onCloseFrame(code, reasonRaw)  # type: ignore[misc]


@pytest.mark.asyncio_task
async def test_on_close_frame_hook(runtime: RuntimeHarness) -> None:
    server, client = await open_pair(runtime, server_mixin=SeesCloseFrames)
    client.sendClose(3001, "why")
    assert await runtime.wait(server.closed) == (True, 3001, "why")
    assert server.close_frames == [(3001, b"why")]


class AnswersPlainRequestsWithAPage(Recorder):
    failed: ClassVar[list[tuple[str, int]]] = []

    def failHandshake(self, reason: str, code: int = 400, responseHeaders: Any = None) -> None:
        self.failed.append((reason, code))
        if code == 426:
            self.sendHtml("<h1>WebSocket here ✓</h1>")
        elif code == 403:
            self.sendRedirect("https://example.com/")
        else:
            super().failHandshake(reason, code, responseHeaders)  # type: ignore[misc]


@pytest.mark.asyncio_task
async def test_fail_handshake_hook_with_html_and_redirect(runtime: RuntimeHarness) -> None:
    AnswersPlainRequestsWithAPage.failed = []
    factory = runtime.server_factory(AnswersPlainRequestsWithAPage, allowedOrigins=["https://ok"])
    port = await runtime.listen(factory)

    async def ask(request: bytes) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        data = await runtime.wait(reader.read())  # until the server closes
        writer.close()
        return data

    page = await ask(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    head, body = page.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Type: text/html; charset=UTF-8" in head
    assert body == "<h1>WebSocket here ✓</h1>".encode()
    upgrade = (
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        b"Origin: https://evil\r\n\r\n"
    )
    redirect = await ask(upgrade)
    assert redirect.startswith(b"HTTP/1.1 303 See Other\r\n")
    assert b"\r\nLocation: https://example.com/\r\n" in redirect
    assert [code for _reason, code in AnswersPlainRequestsWithAPage.failed] == [426, 403]


# ------------------------------------------------ 10: errors and closed sends


def test_send_errors_are_runtime_errors() -> None:
    assert issubclass(Disconnected, RuntimeError)
    assert issubclass(PayloadExceededError, RuntimeError)
    assert issubclass(PayloadExceededError, ValueError)  # as before


@pytest.mark.asyncio_task
async def test_control_and_stream_sends_on_a_closed_connection_do_nothing(
    runtime: RuntimeHarness,
) -> None:
    server, client = await open_pair(runtime)
    client.sendClose(1000)
    await runtime.wait(server.closed)
    await runtime.wait(client.closed)
    for proto in (client, server):
        written = proto.trafficStats.outgoingOctetsWireLevel
        proto.sendPing(b"late")
        proto.sendPong(b"late")
        proto.beginMessage()
        proto.sendMessageFrame(b"late")
        proto.beginMessageFrame(3)
        assert proto.sendMessageFrameData(b"abc") is None
        proto.endMessage()
        assert proto.trafficStats.outgoingOctetsWireLevel == written
        with pytest.raises(Disconnected):
            proto.sendMessage(b"still an error")


@pytest.mark.asyncio_task
async def test_long_close_reason_is_cut_on_a_character_boundary(runtime: RuntimeHarness) -> None:
    server, client = await open_pair(runtime)
    reason = "é" * 100  # 200 bytes of UTF-8
    client.sendClose(4000, reason)
    was_clean, code, got = await runtime.wait(server.closed)
    assert (was_clean, code) == (True, 4000)
    assert got == "é" * 61  # 122 bytes: the 62nd "é" would need byte 124


@pytest.mark.asyncio_task
async def test_self_log_formats_txaio_style(
    runtime: RuntimeHarness, caplog: pytest.LogCaptureFixture
) -> None:
    from twisted.logger import formatEvent, globalLogPublisher

    events: list[str] = []

    def observer(event: dict[str, Any]) -> None:
        events.append(formatEvent(event))

    globalLogPublisher.addObserver(observer)
    try:
        server, _client = await open_pair(runtime)
        with caplog.at_level("INFO"):
            server.log.info("peer {peer} sent {n} messages", peer="p1", n=3)
            server.log.warn("careful {what}", what="there")
            try:
                raise ValueError("boom")
            except ValueError:
                server.log.failure("failed: {log_failure.value}")
    finally:
        globalLogPublisher.removeObserver(observer)
    if runtime.name == "asyncio":
        lines = [record.getMessage() for record in caplog.records]
        assert caplog.records[-1].exc_info is not None
    else:
        lines = events
    assert "peer p1 sent 3 messages" in lines
    assert "careful there" in lines
    assert "failed: boom" in lines


class SeesItsHandshakeFail(Recorder):
    reasons: ClassVar[list[str]] = []

    def failHandshake(self, reason: str) -> None:
        self.reasons.append(reason)
        super().failHandshake(reason)  # type: ignore[misc]


@pytest.mark.asyncio_task
async def test_client_fail_handshake_hook(runtime: RuntimeHarness) -> None:
    SeesItsHandshakeFail.reasons = []

    async def refuse(peer: Any) -> None:
        await peer.accept(status_line="HTTP/1.1 404 Not Found")
        await peer.reader.read()  # until the client closes

    port = await runtime.raw_server(refuse)
    client = await runtime.connect(runtime.client_factory(SeesItsHandshakeFail), port)
    was_clean, code, _reason = await runtime.wait(client.closed)
    assert (was_clean, code) == (False, 1006)
    assert len(SeesItsHandshakeFail.reasons) == 1
    assert "404" in SeesItsHandshakeFail.reasons[0]
