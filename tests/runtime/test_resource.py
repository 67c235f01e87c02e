"""WebSocketResource: WebSocket on a path of a real Twisted Web Site over a socket.

The Site also serves an ordinary resource, so each test shows both living
side by side; clients run on both runtimes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from wsproto_cb.compress import (
    PerMessageDeflateOffer,
    PerMessageDeflateOfferAccept,
    accept_deflate_offer,
)
from wsproto_cb.core.codes import Opcode
from wsproto_cb.core.events import MessageData
from wsproto_cb.core.frames import build_frame
from wsproto_cb.core.masking import apply_mask
from wsproto_cb.twisted import WebSocketResource as ExportedResource
from wsproto_cb.twisted.resource import WebSocketResource
from wsproto_cb.types import ConnectionDeny

from .harness import (
    RUNTIMES,
    Echo,
    Recorder,
    RuntimeHarness,
    TLSFiles,
    abort_transport,
    count_validations,
    pause_transport_reading,
    track_opened,
)

PAGE = b"<!doctype html><title>static</title>"


@pytest.fixture(params=RUNTIMES)
def web(request: pytest.FixtureRequest) -> Iterator[RuntimeHarness]:
    """Twisted servers (the Site), clients on ``asyncio`` or ``twisted``."""
    harness = RuntimeHarness("twisted", request.param)
    yield harness
    import pytest_twisted
    from twisted.internet.defer import Deferred

    pytest_twisted.blockon(Deferred.fromFuture(asyncio.ensure_future(harness.close())))


def site_for(factory: Any, **site_options: Any) -> Any:
    from twisted.web.resource import Resource
    from twisted.web.server import Site

    # (twisted.web.static is avoided: importing it warns about Twisted's own code)
    class Page(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            request.setHeader("Content-Type", "text/html")
            return PAGE

    root = Resource()
    root.putChild(b"", Page())
    root.putChild(b"ws", WebSocketResource(factory))
    return Site(root, **site_options)


async def serve(web: RuntimeHarness, factory: Any, tls: TLSFiles | None = None, **kw: Any) -> int:
    from twisted.internet import reactor

    site = site_for(factory, **kw)
    if tls is not None:
        port = reactor.listenSSL(  # type: ignore[attr-defined]
            0, site, tls.twisted_server_options(), interface="127.0.0.1"
        )
    else:
        port = reactor.listenTCP(0, site, interface="127.0.0.1")  # type: ignore[attr-defined]
    web._listeners.append(("twisted", port))
    return int(port.getHost().port)


async def http_exchange(port: int, request: bytes, responses: int = 1) -> list[bytes]:
    """Send raw HTTP; read ``responses`` responses (head + Content-Length body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        out = []
        for _ in range(responses):
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            out.append(head + await asyncio.wait_for(reader.readexactly(length), 5))
        return out
    finally:
        writer.close()


class Server(Echo, Recorder):
    pass


def test_exported_from_wsproto_cb_twisted() -> None:
    assert ExportedResource is WebSocketResource


@pytest.mark.asyncio_task
async def test_static_page_and_websocket_side_by_side(web: RuntimeHarness) -> None:
    factory = web.server_factory(Server)
    servers = track_opened(factory)
    port = await serve(web, factory)

    (page,) = await http_exchange(port, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert page.startswith(b"HTTP/1.1 200 ")
    assert page.endswith(PAGE)

    client_factory = web.client_factory(Recorder, url="ws://127.0.0.1/ws/room?x=1")
    client = await web.connect(client_factory, port)
    server = await web.wait(servers.get())
    await web.wait(client.opened)
    assert server.http_request_path == "/ws/room"
    assert server.http_request_params == {"x": ["1"]}
    assert server.http_request_uri == "/ws/room?x=1"
    assert server.peer.startswith("tcp4:127.0.0.1:")
    assert client.http_headers["upgrade"].lower() == "websocket"
    # a message large enough to fill the transport buffers (producer path)
    payload = bytes(range(256)) * 8192
    client.sendMessage(payload, True)
    assert await web.wait(client.messages.get()) == (payload, True)
    client.sendMessage("héllo".encode())
    assert await web.wait(client.messages.get()) == ("héllo".encode(), False)
    client.sendClose(1000, "bye")
    assert await web.wait(server.closed) == (True, 1000, "bye")
    assert await web.wait(client.closed) == (True, 1000, None)
    assert factory.countConnections == 0

    # the Site still serves pages afterwards
    (page,) = await http_exchange(port, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert page.endswith(PAGE)


@pytest.mark.asyncio_task
async def test_non_websocket_requests_get_http_errors(web: RuntimeHarness) -> None:
    port = await serve(web, web.server_factory(Server))
    # A plain GET gets 426 with a clear body, on a connection Twisted Web
    # keeps alive: the next request on it is served normally.
    plain, page = await http_exchange(
        port,
        b"GET /ws HTTP/1.1\r\nHost: localhost\r\n\r\nGET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
        responses=2,
    )
    head, _, body = plain.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 426 Upgrade Required\r\n")
    assert b"\r\nupgrade: websocket" in head.lower()
    assert b"text/plain" in head
    assert body == (
        b"426 Upgrade Required: not a WebSocket upgrade request "
        b"(this URL accepts WebSocket connections only)\n"
    )
    assert page.startswith(b"HTTP/1.1 200 ") and page.endswith(PAGE)

    upgrade = (
        "Host: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    )
    (post,) = await http_exchange(
        port, f"POST /ws HTTP/1.1\r\n{upgrade}Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    assert post.startswith(b"HTTP/1.1 405 ")
    assert b"\r\nallow: get" in post.lower()
    (version,) = await http_exchange(
        port, f"GET /ws HTTP/1.1\r\n{upgrade}Sec-WebSocket-Version: 8\r\n\r\n".encode()
    )
    assert version.startswith(b"HTTP/1.1 426 ")
    assert b"\r\nsec-websocket-version: 13" in version.lower()
    assert version.endswith(b"426 Upgrade Required: unsupported WebSocket version\n")
    (bad_key,) = await http_exchange(
        port,
        b"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    assert bad_key.startswith(b"HTTP/1.1 400 ")
    assert b"Sec-WebSocket-Key" in bad_key


@pytest.mark.asyncio_task
async def test_subprotocol_and_permessage_deflate(web: RuntimeHarness) -> None:
    seen: list[Any] = []

    class Chooser(Server):
        def onConnect(self, request: Any) -> str:
            seen.append(request)
            return "calc.v2" if "calc.v2" in request.protocols else "calc.v1"

    def accept(offers: list[PerMessageDeflateOffer]) -> PerMessageDeflateOfferAccept | None:
        return accept_deflate_offer(offers)

    factory = web.server_factory(Chooser, perMessageCompressionAccept=accept)
    servers = track_opened(factory)
    port = await serve(web, factory)
    client = await web.connect(
        web.client_factory(
            Recorder,
            url="ws://127.0.0.1/ws",
            protocols=["calc.v1", "calc.v2"],
            perMessageCompressionOffers=[PerMessageDeflateOffer()],
        ),
        port,
    )
    server = await web.wait(servers.get())
    await web.wait(client.opened)
    assert seen[0].protocols == ["calc.v1", "calc.v2"]
    assert seen[0].path == "/ws"
    assert server.websocket_protocol_in_use == client.websocket_protocol_in_use == "calc.v2"
    assert [e.EXTENSION_NAME for e in server.websocket_extensions_in_use] == ["permessage-deflate"]
    assert [e.EXTENSION_NAME for e in client.websocket_extensions_in_use] == ["permessage-deflate"]
    text = b"compress me " * 10_000
    client.sendMessage(text)
    assert await web.wait(client.messages.get()) == (text, False)
    client.sendClose(1000)
    assert (await web.wait(server.closed))[:2] == (True, 1000)


@pytest.mark.asyncio_task
async def test_close_codes_both_ways(web: RuntimeHarness) -> None:
    class Closer(Server):
        def onMessage(self, payload: bytes, isBinary: bool) -> None:
            if payload == b"close me":
                self.sendClose(4000, "as you wish")
            else:
                super().onMessage(payload, isBinary)

    factory = web.server_factory(Closer)
    servers = track_opened(factory)
    port = await serve(web, factory)
    url = "ws://127.0.0.1/ws"

    client = await web.connect(web.client_factory(Recorder, url=url), port)
    server = await web.wait(servers.get())
    await web.wait(client.opened)  # (the server opens first: the 101 is still on its way)
    client.sendMessage(b"close me")
    assert await web.wait(client.closed) == (True, 4000, "as you wish")
    # (the server's onClose reports the client's reply: 1000, as in Autobahn)
    assert await web.wait(server.closed) == (True, 1000, None)

    client = await web.connect(web.client_factory(Recorder, url=url), port)
    server = await web.wait(servers.get())
    await web.wait(client.opened)
    client.sendClose(1001, "going away")
    assert await web.wait(server.closed) == (True, 1001, "going away")
    assert await web.wait(client.closed) == (True, 1000, None)


@pytest.mark.asyncio_task
async def test_on_connect_deny_and_origin_check(web: RuntimeHarness) -> None:
    class Denier(Server):
        def onConnect(self, request: Any) -> None:
            if request.params.get("token") != ["secret"]:
                raise ConnectionDeny(403, "bad token")

    factory = web.server_factory(Denier, allowedOrigins=["https://example.com"])
    port = await serve(web, factory)
    denied = await web.connect(web.client_factory(Recorder, url="ws://127.0.0.1/ws"), port)
    was_clean, code, _reason = await web.wait(denied.closed)
    assert (was_clean, code) == (False, 1006)
    assert denied.handshake_error.status == 403

    wrong_origin = await web.connect(
        web.client_factory(
            Recorder, url="ws://127.0.0.1/ws?token=secret", origin="https://evil.example"
        ),
        port,
    )
    await web.wait(wrong_origin.closed)
    assert wrong_origin.handshake_error.status == 403

    allowed = await web.connect(
        web.client_factory(
            Recorder, url="ws://127.0.0.1/ws?token=secret", origin="https://example.com"
        ),
        port,
    )
    await web.wait(allowed.opened)
    allowed.sendClose(1000)
    assert (await web.wait(allowed.closed))[0] is True


@pytest.mark.asyncio_task
async def test_smuggling_shapes_get_the_same_answers_through_twisted_web(
    web: RuntimeHarness,
) -> None:
    """Twisted Web parses the request here, and has read any body before the
    resource runs; the core's rule (one place) still refuses what announces one."""
    calls: list[str] = []

    class Watched(Server):
        def onConnect(self, request: Any) -> None:
            calls.append("onConnect")

    from twisted.internet import reactor
    from twisted.web.server import Site

    # The resource at the root: Twisted Web routes an absolute-form target
    # by its path segments ("http:", "", host ...), so only a root resource
    # is ever asked to render one.
    site = Site(WebSocketResource(web.server_factory(Watched)))
    listening = reactor.listenTCP(0, site, interface="127.0.0.1")  # type: ignore[attr-defined]
    web._listeners.append(("twisted", listening))
    port = int(listening.getHost().port)
    frame = build_frame(Opcode.TEXT, b"Hello", mask=b"\x01\x02\x03\x04")
    upgrade = (
        b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    )
    host = b"Host: 127.0.0.1\r\n"
    shapes = [
        (
            b"GET / HTTP/1.1\r\n"
            + host
            + upgrade
            + b"Content-Length: %d\r\n\r\n" % len(frame)
            + frame,
            b"400 ",
            b"no body (Content-Length)",
        ),
        (
            b"GET / HTTP/1.1\r\n"
            + host
            + upgrade
            + b"Transfer-Encoding: chunked\r\n\r\n"
            + b"%x\r\n" % len(frame)
            + frame
            + b"\r\n0\r\n\r\n",
            b"400 ",
            b"no body (Transfer-Encoding)",
        ),
        (b"GET / HTTP/1.0\r\n" + host + upgrade + b"\r\n", b"505 ", b"HTTP/1.1 required"),
        (
            b"GET http://internal.example/ HTTP/1.1\r\n" + host + upgrade + b"\r\n",
            b"400 ",
            b"another host",
        ),
        (b"GET / HTTP/1.1\r\n" + host + host + upgrade + b"\r\n", b"400 ", b"more than once"),
    ]
    for request, status, detail in shapes:
        (answer,) = await http_exchange(port, request)
        assert answer.split(b" ", 2)[1] + b" " == status, (request, answer)
        assert detail in answer, (request, answer)
    # HTTP/2.0 on a request line: Twisted Web refuses it itself, with a 400
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/2.0\r\n" + host + upgrade + b"\r\n" + frame)
    assert (await web.wait(reader.readuntil(b"\r\n"))).startswith(b"HTTP/1.1 400 ")
    writer.close()
    assert calls == []


@pytest.mark.asyncio_task
async def test_the_request_is_validated_once(
    web: RuntimeHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The resource checks the request (and answers a bad one through Twisted
    Web); the protocol it hands the request to does not check it again."""
    from wsproto_cb.twisted import resource

    validations = count_validations(monkeypatch, resource)
    factory = web.server_factory(Server)
    servers = track_opened(factory)
    port = await serve(web, factory)
    client = await web.connect(web.client_factory(Recorder, url="ws://127.0.0.1/ws"), port)
    await web.wait(client.opened)
    await web.wait(servers.get())
    assert len(validations) == 1
    (plain,) = await http_exchange(port, b"GET /ws HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert plain.startswith(b"HTTP/1.1 426 ")
    assert len(validations) == 2


@pytest.mark.asyncio_task
async def test_frames_sent_with_the_request_are_not_lost(web: RuntimeHarness) -> None:
    port = await serve(web, web.server_factory(Server))
    peer = await web.raw(port)
    mask = b"\x01\x02\x03\x04"
    frame = build_frame(Opcode.TEXT, b"early bird", mask=mask)
    # (build_frame masks when given a mask; check by unmasking the tail)
    assert apply_mask(frame[-10:], mask) == b"early bird"
    head = await peer.handshake(path="/ws", then=frame)
    assert head.startswith(b"HTTP/1.1 101 ")
    event = await peer.next_event()
    assert isinstance(event, MessageData)
    assert event.data == b"early bird"


@pytest.mark.asyncio_task
async def test_site_idle_timeout_does_not_close_websockets(web: RuntimeHarness) -> None:
    from twisted.internet.task import Clock

    clock = Clock()  # the Site's timers (its idle timeout) run on it: no sleeping
    factory = web.server_factory(Server)
    port = await serve(web, factory, timeout=0.2, reactor=clock)
    # an idle HTTP connection is closed once the clock passes the timeout ...
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    head = await web.wait(reader.readuntil(b"\r\n\r\n"))
    assert head.startswith(b"HTTP/1.1 200 ")
    await web.wait(reader.readexactly(len(PAGE)))
    client = await web.connect(web.client_factory(Recorder, url="ws://127.0.0.1/ws"), port)
    await web.wait(client.opened)
    clock.advance(0.5)
    assert await web.wait(reader.read()) == b""
    writer.close()
    # ... a WebSocket connection is not
    client.sendMessage(b"still here")
    assert await web.wait(client.messages.get()) == (b"still here", False)
    client.sendClose(1000)
    assert (await web.wait(client.closed))[0] is True


@pytest.mark.filterwarnings(
    "ignore:Passing pyOpenSSL (X509|PKey) objects is deprecated:DeprecationWarning"
)
@pytest.mark.asyncio_task
async def test_wss_through_a_tls_site(web: RuntimeHarness, tls: TLSFiles) -> None:
    factory = web.server_factory(Server, url="wss://localhost")
    servers = track_opened(factory)
    port = await serve(web, factory, tls=tls)
    client = await web.connect(
        web.client_factory(Recorder, url="wss://localhost/ws"), port, tls=tls
    )
    server = await web.wait(servers.get())
    await web.wait(client.opened)
    payload = bytes(range(256)) * 4096
    client.sendMessage(payload, True)
    assert await web.wait(client.messages.get()) == (payload, True)
    client.sendClose(1000, "tls bye")
    assert await web.wait(server.closed) == (True, 1000, "tls bye")
    assert await web.wait(client.closed) == (True, 1000, None)


@pytest.mark.filterwarnings(
    "ignore:Passing pyOpenSSL (X509|PKey) objects is deprecated:DeprecationWarning"
)
@pytest.mark.parametrize("secure", [False, True], ids=["tcp", "tls"])
@pytest.mark.asyncio_task
async def test_transport_backpressure_reaches_the_protocol(
    web: RuntimeHarness, tls: TLSFiles, secure: bool
) -> None:
    """The taken-over transport pauses the WebSocket protocol (and its producer)
    when the peer does not read, over TCP and over TLS."""
    from twisted.internet import reactor

    limit = 16 * 1024 * 1024
    chunk = bytes(64 * 1024)
    paused: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    class Flood(Server):
        def onOpen(self) -> None:
            super().onOpen()
            self.sent = 0
            self.registerProducer(self, True)
            self.pump()

        def pump(self) -> None:
            if paused.done() or self.state != self.STATE_OPEN or self.sent >= limit:
                return
            self.sendMessage(chunk, True)
            self.sent += len(chunk)
            reactor.callLater(0, self.pump)  # type: ignore[attr-defined]

        def pauseProducing(self) -> None:
            if not paused.done():
                paused.set_result(self.sent)

        def resumeProducing(self) -> None:
            pass

        def stopProducing(self) -> None:
            pass

    scheme, host = ("wss", "localhost") if secure else ("ws", "127.0.0.1")
    factory = web.server_factory(Flood, url=f"{scheme}://{host}")
    port = await serve(web, factory, tls=tls if secure else None)

    class Sleeper(Recorder):
        def onOpen(self) -> None:
            super().onOpen()
            pause_transport_reading(self.transport)

    client = await web.connect(
        web.client_factory(Sleeper, url=f"{scheme}://{host}/ws"), port, tls=tls if secure else None
    )
    await web.wait(client.opened)
    sent_when_paused = await web.wait(paused, timeout=20)
    assert sent_when_paused < limit
    abort_transport(client.transport)


@pytest.mark.asyncio_task
async def test_upgrade_pipelined_after_an_ordinary_request(web: RuntimeHarness) -> None:
    """A page request, the upgrade and a first frame, all in one write: the
    page is served, then the connection becomes a WebSocket and the frame
    arrives."""
    port = await serve(web, web.server_factory(Server))
    peer = await web.raw(port)
    upgrade = (
        "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {peer.KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    frame = build_frame(Opcode.BINARY, b"\x00pipelined", mask=b"abcd")
    peer.send(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n" + upgrade + frame)
    page_head = await asyncio.wait_for(peer.reader.readuntil(b"\r\n\r\n"), 5)
    assert page_head.startswith(b"HTTP/1.1 200 ")
    assert await asyncio.wait_for(peer.reader.readexactly(len(PAGE)), 5) == PAGE
    head = await asyncio.wait_for(peer.reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 101 ")
    event = await peer.next_event()
    assert isinstance(event, MessageData)
    assert (event.data, event.is_binary) == (b"\x00pipelined", True)


def test_the_factory_must_be_a_twisted_server_factory() -> None:
    from wsproto_cb.asyncio import WebSocketServerFactory as AsyncioFactory

    with pytest.raises(TypeError, match=r"wsproto_cb\.twisted\.WebSocketServerFactory"):
        WebSocketResource(AsyncioFactory())
