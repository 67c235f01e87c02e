"""ClientHandshake (RFC 6455 section 4.1) and the in-memory round trip."""

from __future__ import annotations

import base64

import pytest

from wsproto_cb.core.errors import HandshakeError, InvalidStateError
from wsproto_cb.core.handshake_client import ClientHandshake
from wsproto_cb.core.handshake_server import ServerHandshake
from wsproto_cb.core.headers import build_extension_header
from wsproto_cb.core.http import HandshakeResponse, accept_key, generate_key

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def response(*lines: str, status: str = "101 Switching Protocols") -> bytes:
    head = [f"HTTP/1.1 {status}", *lines]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")


GOOD = ("Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Accept: {ACCEPT}")


def client(**kwargs: object) -> ClientHandshake:
    kwargs.setdefault("key", KEY)
    return ClientHandshake("server.example.com", 80, "/chat", **kwargs)  # type: ignore[arg-type]


def test_generate_key_is_16_random_bytes() -> None:
    keys = {generate_key() for _ in range(20)}
    assert len(keys) == 20
    assert all(len(base64.b64decode(k, validate=True)) == 16 for k in keys)


def test_request_bytes() -> None:
    c = ClientHandshake(
        "server.example.com",
        80,
        "/chat",
        origin="http://example.com",
        protocols=["chat", "superchat"],
        useragent="wsproto_cb-test",
        headers=[("Cookie", "a=b")],
        key=KEY,
    )
    assert c.data_to_send() == (
        b"GET /chat HTTP/1.1\r\n"
        b"Host: server.example.com\r\n"
        b"User-Agent: wsproto_cb-test\r\n"
        b"Upgrade: websocket\r\n"
        b"Connection: Upgrade\r\n"
        b"Origin: http://example.com\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Protocol: chat, superchat\r\n"
        b"Sec-WebSocket-Version: 13\r\n"
        b"Cookie: a=b\r\n"
        b"\r\n"
    )
    assert c.data_to_send() == b""
    assert c.request.protocols == ["chat", "superchat"]
    assert c.request.key == KEY


@pytest.mark.parametrize(
    ("host", "port", "secure", "expected"),
    [
        ("example.com", 80, False, "example.com"),
        ("example.com", 443, True, "example.com"),
        ("example.com", 443, False, "example.com:443"),
        ("example.com", 80, True, "example.com:80"),
        ("127.0.0.1", 9000, False, "127.0.0.1:9000"),
        ("::1", 9000, False, "[::1]:9000"),
        ("[::1]", 80, False, "[::1]"),
    ],
)
def test_host_header_omits_default_port(host: str, port: int, secure: bool, expected: str) -> None:
    c = ClientHandshake(host, port, "/", secure=secure)
    assert c.request.host == expected
    assert f"\r\nHost: {expected}\r\n".encode() in c.data_to_send()


def test_round_trip_in_memory() -> None:
    offer = build_extension_header([("permessage-deflate", [("client_max_window_bits", None)])])
    c = ClientHandshake(
        "localhost", 9000, "/ws?x=1", protocols=["v2", "v1"], extensions=offer, origin="null"
    )
    server = ServerHandshake()
    request = server.receive_data(c.data_to_send())
    assert request is not None
    assert request.path == "/ws"
    assert request.params == {"x": ["1"]}
    assert request.host == "localhost:9000"
    assert request.origin == "null"
    assert request.protocols == ["v2", "v1"]
    assert request.extensions == [("permessage-deflate", [("client_max_window_bits", None)])]
    answer = server.accept(
        "v1", extensions="permessage-deflate; client_max_window_bits=15", server="test"
    )
    frame = b"\x81\x02hi"  # server sends a frame right after the handshake
    resp = c.receive_data(answer + frame)
    assert isinstance(resp, HandshakeResponse)
    assert c.response is resp
    assert resp.status == 101
    assert resp.protocol == "v1"
    assert resp.extensions == [("permessage-deflate", [("client_max_window_bits", "15")])]
    assert resp.headers.get("server") == "test"
    assert c.trailing == frame
    with pytest.raises(InvalidStateError):
        c.receive_data(b"more")


def test_response_one_byte_at_a_time() -> None:
    c = client()
    data = response(*GOOD)
    for i in range(len(data) - 1):
        assert c.receive_data(data[i : i + 1]) is None
    assert c.receive_data(data[-1:]) is not None
    assert c.trailing == b""


def test_case_insensitive_tokens_in_response() -> None:
    data = response(
        "upgrade: WebSocket", "connection: keep-alive, UPGRADE", f"sec-websocket-accept: {ACCEPT}"
    )
    assert client().receive_data(data) is not None


def test_non_101_status_kept() -> None:
    c = client()
    with pytest.raises(HandshakeError) as info:
        c.receive_data(response("Content-Length: 3", status="403 Forbidden") + b"no!")
    assert info.value.status == 403
    assert info.value.reason == "Forbidden"
    assert c.trailing == b"no!"
    with pytest.raises(HandshakeError) as info:
        client().receive_data(response(status="200 "))
    assert info.value.status == 200


@pytest.mark.parametrize(
    ("lines", "protocols", "message"),
    [
        (GOOD[1:], (), "Upgrade"),
        (("Upgrade: h2c", *GOOD[1:]), (), "Upgrade"),
        ((GOOD[0], GOOD[2]), (), "Connection"),
        ((GOOD[0], "Connection: close", GOOD[2]), (), "Connection"),
        (GOOD[:2], (), "Accept"),
        ((*GOOD[:2], f"Sec-WebSocket-Accept: {accept_key(generate_key())}"), (), "Accept"),
        ((*GOOD, f"Sec-WebSocket-Accept: {ACCEPT}"), (), "Accept"),
        ((*GOOD, "Sec-WebSocket-Protocol: chat"), (), "none was offered"),
        ((*GOOD, "Sec-WebSocket-Protocol: mqtt"), ("chat",), "not offered"),
        ((*GOOD, "Sec-WebSocket-Protocol: chat, v2"), ("chat", "v2"), "more than one"),
        (
            (*GOOD, "Sec-WebSocket-Protocol: chat", "Sec-WebSocket-Protocol: chat"),
            ("chat",),
            "more than one",
        ),
        ((*GOOD, "Sec-WebSocket-Extensions: foo; ="), (), "Extensions"),
    ],
)
def test_invalid_101_responses(
    lines: tuple[str, ...], protocols: tuple[str, ...], message: str
) -> None:
    with pytest.raises(HandshakeError, match=message) as info:
        client(protocols=protocols).receive_data(response(*lines))
    assert info.value.status == 101


@pytest.mark.parametrize("version", ["HTTP/1.0", "HTTP/1.2", "HTTP/2.0", "HTTP/0.9"])
def test_101_only_in_http_1_1(version: str) -> None:
    data = response(*GOOD).replace(b"HTTP/1.1 ", f"{version} ".encode(), 1)
    with pytest.raises(HandshakeError, match=r"not HTTP/1\.1") as info:
        client().receive_data(data)
    assert info.value.status == 101


@pytest.mark.parametrize("version", [b"http/1.1", b"HTTP/1.10", b"HTTP/2"])
def test_status_line_outside_the_grammar(version: bytes) -> None:
    data = response(*GOOD).replace(b"HTTP/1.1 ", version + b" ", 1)
    with pytest.raises(HandshakeError) as info:
        client().receive_data(data)
    assert info.value.status == 0


def test_refusal_in_http_1_0_keeps_its_status() -> None:
    # An old front-end answering 403 in HTTP/1.0 still reports the 403.
    data = response("Content-Length: 0", status="403 Forbidden").replace(b"1.1", b"1.0", 1)
    with pytest.raises(HandshakeError) as info:
        client().receive_data(data)
    assert (info.value.status, info.value.reason) == (403, "Forbidden")


def test_extensions_not_validated_against_the_offer() -> None:
    # Negotiation belongs to the extension layer: an unoffered one is parsed, not refused.
    resp = client().receive_data(response(*GOOD, "Sec-WebSocket-Extensions: x-unknown; a=1"))
    assert resp is not None
    assert resp.extensions == [("x-unknown", [("a", "1")])]


def test_unparseable_response_has_status_0() -> None:
    with pytest.raises(HandshakeError) as info:
        client().receive_data(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
    assert info.value.status == 0
    with pytest.raises(HandshakeError) as info:
        c = client()
        for _ in range(1000):
            c.receive_data(b"x" * 1024)
    assert info.value.status == 0


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("bad host", 80, "/"), {}),
        (("a\r\nX: y", 80, "/"), {}),
        (("ex\u00e4mple.com", 80, "/"), {}),
        (("", 80, "/"), {}),
        (("[::1", 80, "/"), {}),
        (("1::2::3", 80, "/"), {}),
        (("example.com", 0, "/"), {}),
        (("example.com", 65536, "/"), {}),
        (("example.com", True, "/"), {}),
        (("example.com", 80, "chat"), {}),
        (("example.com", 80, ""), {}),
        (("example.com", 80, "/a b"), {}),
        (("example.com", 80, "/a\r\nX: y"), {}),
        (("example.com", 80, "/a#frag"), {}),
        (("example.com", 80, "/\u00e9"), {}),
        (("example.com", 80, "/"), {"protocols": ["chat", "bad proto"]}),
        (("example.com", 80, "/"), {"protocols": ["chat", "chat"]}),
        (("example.com", 80, "/"), {"protocols": "chat"}),
        (("example.com", 80, "/"), {"origin": "http://a\r\nX: y"}),
        (("example.com", 80, "/"), {"useragent": "ua\n"}),
        (("example.com", 80, "/"), {"extensions": "permessage-deflate\r\nX: y"}),
        (("example.com", 80, "/"), {"extensions": "permessage-deflate;"}),
        (("example.com", 80, "/"), {"headers": [("X-A", "1\r\nX-B: 2")]}),
        (("example.com", 80, "/"), {"headers": [("X A", "1")]}),
        (("example.com", 80, "/"), {"headers": [("Sec-WebSocket-Key", KEY)]}),
        (("example.com", 80, "/"), {"headers": [("host", "other")]}),
        (("example.com", 80, "/"), {"key": "short"}),
        (("example.com", 80, "/"), {"key": "dGhlIHNhbXBsZSBub25jZQ=x"}),
    ],
)
def test_constructor_refuses_invalid_values(
    args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    with pytest.raises(ValueError):
        ClientHandshake(*args, **kwargs)  # type: ignore[arg-type]
