"""The opening handshake over real sockets: deny, limits, origins, subprotocols, info."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from wsproto_cb.types import ConnectionAccept, ConnectionDeny

from .harness import (
    RawServerPeer,
    Recorder,
    RuntimeHarness,
    captured_errors,
    count_validations,
    track_opened,
)


def local_port(proto: Any) -> int:
    """The client's own port, from its transport (either runtime)."""
    transport = proto.transport
    if isinstance(transport, asyncio.BaseTransport):
        return int(transport.get_extra_info("sockname")[1])
    return int(transport.getHost().port)


async def refused(runtime: RuntimeHarness, client: Any) -> tuple[bool, int | None, str]:
    result = await runtime.wait(client.closed)
    assert not client.opened.done()
    return result  # type: ignore[no-any-return]


@pytest.mark.asyncio_task
async def test_connection_deny(runtime_pair: RuntimeHarness) -> None:
    class Server(Recorder):
        def onConnect(self, request: Any) -> None:
            raise ConnectionDeny(403, "nope")

    port = await runtime_pair.listen(runtime_pair.server_factory(Server))
    client = await runtime_pair.connect(runtime_pair.client_factory(Recorder), port)
    was_clean, code, reason = await refused(runtime_pair, client)
    assert (was_clean, code) == (False, 1006)
    assert "403" in reason
    assert client.handshake_error is not None
    assert client.handshake_error.status == 403
    assert "nope" in str(client.handshake_error)


@pytest.mark.asyncio_task
@pytest.mark.parametrize(
    ("reason", "status_line"),
    [
        ("nope", b"HTTP/1.1 403 nope\r\n"),  # the reason in the status line, as in Autobahn
        (None, b"HTTP/1.1 403 Forbidden\r\n"),
        ("bad\r\nX-Injected: 1", b"HTTP/1.1 403 bad??X-Injected: 1\r\n"),
    ],
)
async def test_connection_deny_status_line(
    runtime: RuntimeHarness, reason: str | None, status_line: bytes
) -> None:
    class Server(Recorder):
        def onConnect(self, request: Any) -> None:
            raise ConnectionDeny(403, reason)

    port = await runtime.listen(runtime.server_factory(Server))
    peer = await runtime.raw(port)
    head = await peer.handshake()
    assert head.startswith(status_line), head
    assert b"X-Injected: 1\r\n" not in head.split(b"\r\n", 1)[1]


@pytest.mark.asyncio_task
async def test_max_connections(runtime: RuntimeHarness) -> None:
    factory = runtime.server_factory(Recorder, maxConnections=1)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    first = await runtime.connect(runtime.client_factory(Recorder), port)
    server = await runtime.wait(servers.get())
    await runtime.wait(first.opened)
    second = await runtime.connect(runtime.client_factory(Recorder), port)
    await refused(runtime, second)
    assert second.handshake_error.status == 503
    # the refused connection is forgotten; the open one still counts
    await asyncio.sleep(0.05)
    assert factory.countConnections == 1
    first.sendClose(1000)
    await runtime.wait(server.closed)
    assert factory.countConnections == 0
    third = await runtime.connect(runtime.client_factory(Recorder), port)
    await runtime.wait(third.opened)
    assert factory.countConnections == 1


@pytest.mark.asyncio_task
@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://good.example", True),
        ("https://chat.other.example", True),
        ("https://evil.example", False),
        ("http://good.example", False),
        (None, True),  # non-browser clients send no Origin
    ],
)
async def test_allowed_origins(runtime: RuntimeHarness, origin: str | None, allowed: bool) -> None:
    factory = runtime.server_factory(
        Recorder, allowedOrigins=["https://good.example", "https://*.other.example"]
    )
    port = await runtime.listen(factory)
    client = await runtime.connect(runtime.client_factory(Recorder, origin=origin), port)
    if allowed:
        await runtime.wait(client.opened)
    else:
        await refused(runtime, client)
        assert client.handshake_error.status == 403


@pytest.mark.asyncio_task
@pytest.mark.parametrize(
    ("patterns", "origin", "allowed"),
    [
        # Autobahn's pattern shapes match what a browser sends (default port left out)
        (["https://example.com:443"], "https://example.com", True),
        (["https://*.example.com:*"], "https://chat.example.com", True),
        (["https://*.example.com:*"], "https://chat.example.com:8443", True),
        (["https://*.example.com:*"], "https://example.com.evil.net", False),
        (["https://example.com:443"], "https://EXAMPLE.com", True),
        (["https://example.com:443"], "http://example.com", False),
    ],
)
async def test_allowed_origins_match_the_normal_form(
    runtime: RuntimeHarness, patterns: list[str], origin: str, allowed: bool
) -> None:
    factory = runtime.server_factory(Recorder, allowedOrigins=patterns)
    port = await runtime.listen(factory)
    client = await runtime.connect(runtime.client_factory(Recorder, origin=origin), port)
    if allowed:
        await runtime.wait(client.opened)
    else:
        await refused(runtime, client)
        assert client.handshake_error.status == 403


@pytest.mark.asyncio_task
@pytest.mark.parametrize(
    ("options", "allowed"),
    [
        ({}, True),  # every origin allowed: a page from a file too, as in Autobahn
        ({"allowNullOrigin": False}, False),
        ({"allowedOrigins": ["https://example.com:443"]}, False),  # restricted: refused
        ({"allowedOrigins": ["*"]}, True),
        ({"allowedOrigins": ["https://example.com:443"], "allowNullOrigin": True}, True),
    ],
)
async def test_null_origin(
    runtime: RuntimeHarness, options: dict[str, object], allowed: bool
) -> None:
    factory = runtime.server_factory(Recorder, **options)
    port = await runtime.listen(factory)
    client = await runtime.connect(runtime.client_factory(Recorder, origin="null"), port)
    if allowed:
        await runtime.wait(client.opened)
    else:
        await refused(runtime, client)
        assert client.handshake_error.status == 403


@pytest.mark.asyncio_task
@pytest.mark.parametrize(
    ("server_protocols", "offered", "expected"),
    [
        (["chat.v2", "chat.v1"], ["chat.v1", "chat.v2"], "chat.v2"),  # server's preference
        (["chat.v2", "chat.v1"], ["chat.v1"], "chat.v1"),
        (["chat.v2"], ["other"], None),
        ([], ["chat.v1"], None),
        (["chat.v1"], [], None),
    ],
)
async def test_subprotocol_from_factory(
    runtime: RuntimeHarness, server_protocols: list[str], offered: list[str], expected: str | None
) -> None:
    factory = runtime.server_factory(Recorder, protocols=server_protocols)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    client = await runtime.connect(runtime.client_factory(Recorder, protocols=offered), port)
    server = await runtime.wait(servers.get())
    await runtime.wait(client.opened)
    assert server.websocket_protocol_in_use == expected
    assert client.websocket_protocol_in_use == expected


@pytest.mark.asyncio_task
async def test_subprotocol_and_headers_from_on_connect(runtime: RuntimeHarness) -> None:
    responses: list[Any] = []

    class Server(Recorder):
        def onConnect(self, request: Any) -> Any:
            assert request.protocols == ["a", "b", "c"]
            return ConnectionAccept("b", {"X-Chosen": "b", "X-Multi": ["1", "2"]})

    class Client(Recorder):
        def onConnect(self, response: Any) -> None:
            responses.append(response)

    factory = runtime.server_factory(Server, protocols=["a"])
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    client = await runtime.connect(runtime.client_factory(Client, protocols=["a", "b", "c"]), port)
    server = await runtime.wait(servers.get())
    await runtime.wait(client.opened)
    assert server.websocket_protocol_in_use == client.websocket_protocol_in_use == "b"
    (response,) = responses
    assert response.protocol == "b"
    assert response.headers["x-chosen"] == "b"
    assert response.headers["x-multi"] == "1, 2"
    assert response.peer == client.peer


@pytest.mark.asyncio_task
@pytest.mark.parametrize("form", ["str", "tuple", "1-tuple"])
async def test_on_connect_result_forms(runtime: RuntimeHarness, form: str) -> None:
    class Server(Recorder):
        def onConnect(self, request: Any) -> Any:
            if form == "1-tuple":
                return ("p2",)  # Autobahn takes it too
            return "p2" if form == "str" else ("p2", {"X-Form": form})

    factory = runtime.server_factory(Server)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    client = await runtime.connect(runtime.client_factory(Recorder, protocols=["p1", "p2"]), port)
    await runtime.wait(servers.get())
    await runtime.wait(client.opened)
    assert client.websocket_protocol_in_use == "p2"
    assert client.http_headers.get("x-form") == (None if form != "tuple" else form)


@pytest.mark.asyncio_task
@pytest.mark.parametrize("overrides", [False, True])
async def test_on_connect_returning_none_chooses_no_subprotocol(
    runtime: RuntimeHarness, overrides: bool
) -> None:
    """Only the default onConnect picks from the factory's ``protocols``; an
    override that returns None chooses none, as in Autobahn."""

    class Picks(Recorder):
        pass

    class ChoosesNone(Recorder):
        def onConnect(self, request: Any) -> None:
            return None

    factory = runtime.server_factory(ChoosesNone if overrides else Picks, protocols=["chat"])
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    client = await runtime.connect(runtime.client_factory(Recorder, protocols=["chat"]), port)
    server = await runtime.wait(servers.get())
    await runtime.wait(client.opened)
    expected = None if overrides else "chat"
    assert server.websocket_protocol_in_use == client.websocket_protocol_in_use == expected


@pytest.mark.asyncio_task
async def test_on_connect_choosing_unoffered_subprotocol(runtime: RuntimeHarness) -> None:
    class Server(Recorder):
        def onConnect(self, request: Any) -> str:
            return "not-offered"

    port = await runtime.listen(runtime.server_factory(Server))
    with captured_errors() as errors:
        client = await runtime.connect(runtime.client_factory(Recorder, protocols=["p1"]), port)
        await refused(runtime, client)
    assert client.handshake_error.status == 500
    assert len(errors) == 1
    assert "not-offered" in str(errors[0].exc)
    assert "not-offered" in errors[0].traceback


@pytest.mark.asyncio_task
@pytest.mark.parametrize(
    ("status_line", "extra", "status"),
    [
        ("HTTP/1.1 101 Switching Protocols", "Sec-WebSocket-Protocol: not-offered\r\n", 101),
        ("HTTP/1.1 101 Switching Protocols", "Sec-WebSocket-Extensions: unknown-ext\r\n", None),
        ("HTTP/1.1 200 OK", "", 200),
    ],
    ids=["unoffered-subprotocol", "unoffered-extension", "not-101"],
)
async def test_client_refuses_bad_response(
    runtime: RuntimeHarness, status_line: str, extra: str, status: int | None
) -> None:
    async def answer(peer: RawServerPeer) -> None:
        await peer.accept(extra, status_line)
        await peer.reader.read()  # until the client closes

    port = await runtime.raw_server(answer)
    client = await runtime.connect(runtime.client_factory(Recorder, protocols=["p1"]), port)
    was_clean, code, reason = await refused(runtime, client)
    assert (was_clean, code) == (False, 1006)
    assert "upgrade failed" in reason
    assert client.handshake_error is not None
    if status is not None:  # (extension negotiation reports status 0)
        assert client.handshake_error.status == status


@pytest.mark.asyncio_task
async def test_connection_info(runtime_pair: RuntimeHarness) -> None:
    requests: list[Any] = []

    class Server(Recorder):
        def onConnect(self, request: Any) -> None:
            requests.append(request)

    factory = runtime_pair.server_factory(Server)
    servers = track_opened(factory)
    port = await runtime_pair.listen(factory)
    client_factory = runtime_pair.client_factory(
        Recorder,
        url="ws://127.0.0.1/chat/room?a=1&a=2&b=x",
        origin="https://app.example",
        headers={"X-Token": "secret"},
    )
    client = await runtime_pair.connect(client_factory, port)
    server = await runtime_pair.wait(servers.get())
    await runtime_pair.wait(client.opened)

    assert server.peer == f"tcp4:127.0.0.1:{local_port(client)}"
    assert client.peer == f"tcp4:127.0.0.1:{port}"
    assert server.http_request_path == "/chat/room"
    assert server.http_request_uri == "/chat/room?a=1&a=2&b=x"
    assert server.http_request_params == {"a": ["1", "2"], "b": ["x"]}
    assert server.http_request_host == f"127.0.0.1:{port}"
    assert server.http_headers["x-token"] == "secret"
    assert server.http_headers["origin"] == "https://app.example"
    assert server.http_headers["user-agent"].startswith("wsproto_cb/")
    assert server.websocket_version == 13  # the wire's
    assert client.websocket_version == 18  # the client's option: Autobahn's draft number
    assert server.websocket_protocol_in_use is None
    assert client.http_headers["upgrade"].lower() == "websocket"
    assert client.http_headers["server"].startswith("wsproto_cb/")

    (request,) = requests
    assert request.peer == server.peer
    assert request.host == "127.0.0.1"
    assert request.path == "/chat/room"
    assert request.params == {"a": ["1", "2"], "b": ["x"]}
    assert request.origin == "https://app.example"
    assert request.version == 13
    assert request.protocols == []
    assert request.headers["x-token"] == "secret"


@pytest.mark.asyncio_task
async def test_bad_request_gets_400(runtime: RuntimeHarness) -> None:
    server_closed = asyncio.get_running_loop().create_future()

    class Server(Recorder):
        def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
            server_closed.set_result((wasClean, code, reason))

    port = await runtime.listen(runtime.server_factory(Server))
    peer = await runtime.raw(port)
    peer.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # no Upgrade
    head = await runtime.wait(peer.reader.readuntil(b"\r\n\r\n"))
    assert head.startswith(b"HTTP/1.1 4")
    assert await peer.closed_within(2)
    was_clean, code, reason = await runtime.wait(server_closed)
    assert (was_clean, code) == (False, 1006)
    assert "opening handshake failed" in reason


@pytest.mark.asyncio_task
async def test_the_request_is_validated_once(
    runtime: RuntimeHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = count_validations(monkeypatch)
    factory = runtime.server_factory(Recorder)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    client = await runtime.connect(runtime.client_factory(Recorder), port)
    await runtime.wait(client.opened)
    await runtime.wait(servers.get())
    assert len(calls) == 1
    peer = await runtime.raw(port)
    peer.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # no Upgrade
    head = await runtime.wait(peer.reader.readuntil(b"\r\n\r\n"))
    assert head.startswith(b"HTTP/1.1 426 ")
    assert len(calls) == 2


@pytest.mark.asyncio_task
async def test_on_connecting_changes_the_request(runtime_pair: RuntimeHarness) -> None:
    from wsproto_cb.types import ConnectingRequest

    details: list[Any] = []
    requests: list[Any] = []

    class Client(Recorder):
        async def onConnecting(self, transport_details: Any) -> Any:
            details.append(transport_details)
            return ConnectingRequest(
                host="public.example",
                port=8443,
                resource="/other?via=connecting",
                headers={"X-From": "onConnecting"},
                origin="https://origin.example",
                protocols=["late"],
            )

    class Server(Recorder):
        def onConnect(self, request: Any) -> Any:
            requests.append(request)
            return super().onConnect(request)  # (picks from the factory's protocols)

    factory = runtime_pair.server_factory(Server, protocols=["late"])
    servers = track_opened(factory)
    port = await runtime_pair.listen(factory)
    client = await runtime_pair.connect(runtime_pair.client_factory(Client), port)
    server = await runtime_pair.wait(servers.get())
    await runtime_pair.wait(client.opened)
    (detail,) = details
    assert detail.peer == f"tcp4:127.0.0.1:{port}" and detail.is_secure is False
    (request,) = requests
    assert request.host == "public.example"
    assert server.http_request_host == "public.example:8443"
    assert request.path == "/other" and request.params == {"via": ["connecting"]}
    assert request.headers["x-from"] == "onConnecting"
    assert request.origin == "https://origin.example"
    assert server.websocket_protocol_in_use == client.websocket_protocol_in_use == "late"


@pytest.mark.asyncio_task
async def test_on_connecting_bad_result(runtime: RuntimeHarness) -> None:
    class Client(Recorder):
        def onConnecting(self, transport_details: Any) -> Any:
            return {"resource": "/"}

    port = await runtime.listen(runtime.server_factory(Recorder))
    with captured_errors() as errors:
        client = await runtime.connect(runtime.client_factory(Client), port)
        was_clean, code, reason = await refused(runtime, client)
    assert (was_clean, code) == (False, 1006)
    assert "onConnecting" in reason
    (error,) = errors
    assert isinstance(error.exc, TypeError)


ONE_LINE = ("X-Forwarded-For: 192.0.2.7, 10.0.0.1, 10.0.0.2",)
# the client's own line first, then the one its proxy added
TWO_LINES = ("X-Forwarded-For: 192.0.2.7", "X-Forwarded-For: 10.0.0.1, 10.0.0.2")


@pytest.mark.asyncio_task
@pytest.mark.parametrize("lines", [ONE_LINE, TWO_LINES], ids=["one-line", "two-lines"])
@pytest.mark.parametrize(("hops", "expected"), [(0, None), (1, "10.0.0.2"), (2, "10.0.0.1")])
async def test_trust_x_forwarded_for(
    runtime: RuntimeHarness, lines: tuple[str, ...], hops: int, expected: str | None
) -> None:
    factory = runtime.server_factory(Recorder, trustXForwardedFor=hops)
    servers = track_opened(factory)
    port = await runtime.listen(factory)
    peer = await runtime.raw(port)
    await peer.handshake(headers=lines)
    server = await runtime.wait(servers.get())
    if expected is None:
        assert server.peer.startswith("tcp4:127.0.0.1:")
    else:
        assert server.peer == expected


# RFC 6455 5.7: a masked "Hello", sent where a request body would be.
_FRAME = b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"
_UPGRADE = (
    b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
)


@pytest.mark.asyncio_task
@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + _UPGRADE
            + b"Content-Length: %d\r\n\r\n" % len(_FRAME)
            + _FRAME,
            400,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + _UPGRADE
            + b"Transfer-Encoding: chunked\r\n\r\n"
            + b"%x\r\n" % len(_FRAME)
            + _FRAME
            + b"\r\n0\r\n\r\n",
            400,
        ),
        (b"GET / HTTP/2.0\r\nHost: 127.0.0.1\r\n" + _UPGRADE + b"\r\n" + _FRAME, 505),
        (b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n" + _UPGRADE + b"\r\n" + _FRAME, 505),
        (
            b"GET http://internal.example/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + _UPGRADE
            + b"\r\n"
            + _FRAME,
            400,
        ),
    ],
    ids=["content-length", "chunked", "http-2.0", "http-1.0", "absolute-form-other-host"],
)
async def test_smuggling_shapes_refused_before_any_frame(
    runtime: RuntimeHarness, request_bytes: bytes, status: int
) -> None:
    """A request a front-end could frame differently is refused with its status,
    the connection closed, and what followed it never read as a frame."""
    calls: list[str] = []

    class Server(Recorder):
        def onConnect(self, request: Any) -> None:
            calls.append("onConnect")

        def onOpen(self) -> None:
            calls.append("onOpen")

        def onMessage(self, payload: bytes, isBinary: bool) -> None:
            calls.append("onMessage")

    port = await runtime.listen(runtime.server_factory(Server))
    peer = await runtime.raw(port)
    peer.send(request_bytes)
    head = await runtime.wait(peer.reader.readuntil(b"\r\n\r\n"))
    assert head.startswith(b"HTTP/1.1 %d " % status)
    assert b"\r\nConnection: close\r\n" in head
    assert await peer.closed_within(2)
    assert calls == []


@pytest.mark.asyncio_task
async def test_printing_request_and_response_shows_every_field(
    runtime_pair: RuntimeHarness,
) -> None:
    """``print(request)`` / ``print(response)`` in onConnect, as Autobahn's examples do."""
    printed: dict[str, str] = {}

    class Server(Recorder):
        def onConnect(self, request: Any) -> Any:
            printed["request"] = str(request)
            return "chat"

    class Client(Recorder):
        def onConnect(self, response: Any) -> None:
            printed["response"] = str(response)

    port = await runtime_pair.listen(runtime_pair.server_factory(Server))
    client = await runtime_pair.connect(
        runtime_pair.client_factory(
            Client, url="ws://127.0.0.1/path?x=1", protocols=["chat"], origin="https://o.example"
        ),
        port,
    )
    await runtime_pair.wait(client.opened)
    request, response = printed["request"], printed["response"]
    for field in (
        "'peer'", "'headers'", "'host'", "'path': '/path'", "'params': {'x': ['1']}",
        "'version': 13", "'origin': 'https://o.example'", "'protocols': ['chat']", "'extensions'",
    ):  # fmt: skip
        assert field in request, (field, request)
    for field in ("'peer'", "'headers'", "'version'", "'protocol': 'chat'", "'extensions'"):
        assert field in response, (field, response)
    assert "'sec-websocket-protocol': 'chat'" in response


@pytest.mark.asyncio_task
async def test_request_and_response_fields_have_autobahns_shapes(runtime: RuntimeHarness) -> None:
    """What ``print(request)`` / ``print(response)`` show, field by field as
    Autobahn fills them: ``origin`` "" when none was sent, extension offers as
    ``(name, {param: [value]})``, the client's version 18 (RFC 6455's draft)."""
    from pprint import pformat

    from wsproto_cb.compress import PerMessageDeflateOffer

    seen: dict[str, Any] = {}

    class Server(Recorder):
        def onConnect(self, request: Any) -> Any:
            seen["request"] = request
            seen["server_attrs"] = (self.websocket_origin, self.websocket_protocols)
            return "chat"

    class Client(Recorder):
        def onConnect(self, response: Any) -> None:
            seen["response"] = response

    port = await runtime.listen(runtime.server_factory(Server))
    offer = PerMessageDeflateOffer(
        accept_no_context_takeover=False, request_no_context_takeover=True
    )
    client = await runtime.connect(
        runtime.client_factory(
            Client,
            url="ws://127.0.0.1/p?x=1&x=2",
            protocols=["chat"],
            perMessageCompressionOffers=[offer],
        ),
        port,
    )
    await runtime.wait(client.opened)
    request, response = seen["request"], seen["response"]
    assert request.origin == ""
    assert seen["server_attrs"] == ("", ["chat"])
    assert request.extensions == [
        (
            "permessage-deflate",
            {"client_max_window_bits": [True], "server_no_context_takeover": [True]},
        )
    ]
    assert request.params == {"x": ["1", "2"]}
    assert str(request) == pformat(
        {
            "peer": request.peer,
            "headers": request.headers,
            "host": "127.0.0.1",
            "path": "/p",
            "params": {"x": ["1", "2"]},
            "version": 13,
            "origin": "",
            "protocols": ["chat"],
            "extensions": request.extensions,
        }
    )
    assert response.version == client.websocket_version == 18
    assert str(response) == pformat(
        {
            "peer": response.peer,
            "headers": response.headers,
            "version": 18,
            "protocol": "chat",
            "extensions": response.extensions,
        }
    )
    assert response.peer.startswith("tcp4:127.0.0.1:")
    assert response.headers["sec-websocket-protocol"] == "chat"


@pytest.mark.asyncio_task
async def test_on_connect_error_answers_500_without_its_text(runtime: RuntimeHarness) -> None:
    """An exception from onConnect is logged; the client gets a 500 that does not
    quote it (Autobahn's status line carries the exception's text)."""

    class Server(Recorder):
        def onConnect(self, request: Any) -> None:
            raise RuntimeError("db password is hunter2")

    port = await runtime.listen(runtime.server_factory(Server))
    with captured_errors() as errors:
        peer = await runtime.raw(port)
        head = await peer.handshake()
        assert await peer.closed_within(2)
    assert head.startswith(b"HTTP/1.1 500 internal server error\r\n"), head
    assert b"hunter2" not in head
    assert len(errors) == 1 and "hunter2" in str(errors[0].exc)
