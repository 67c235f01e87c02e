"""ServerHandshake: RFC 6455 section 4.2 request validation and responses."""

from __future__ import annotations

import pytest

from wsproto_cb.core.errors import HandshakeError, InvalidStateError
from wsproto_cb.core.handshake_server import ServerHandshake
from wsproto_cb.core.headers import Headers
from wsproto_cb.core.http import HandshakeRequest, HandshakeResponse, HttpHeadReader, accept_key

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

# RFC 6455 section 1.3, with the Origin and subprotocols of section 1.2.
RFC_REQUEST = (
    b"GET /chat HTTP/1.1\r\n"
    b"Host: server.example.com\r\n"
    b"Upgrade: websocket\r\n"
    b"Connection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Origin: http://example.com\r\n"
    b"Sec-WebSocket-Protocol: chat, superchat\r\n"
    b"Sec-WebSocket-Version: 13\r\n"
    b"\r\n"
)


def make_request(*, replace: dict[str, str | None] | None = None, extra: bytes = b"") -> bytes:
    """RFC_REQUEST with headers replaced (None removes) and raw lines added."""
    replace = {k.lower(): v for k, v in (replace or {}).items()}
    lines = RFC_REQUEST.split(b"\r\n")[:-2]
    out = [lines[0]]
    for line in lines[1:]:
        name = line.split(b":", 1)[0].decode().lower()
        if name in replace:
            value = replace.pop(name)
            if value is not None:
                out.append(f"{name}: {value}".encode())
        else:
            out.append(line)
    out += [f"{k}: {v}".encode() for k, v in replace.items() if v is not None]
    return b"\r\n".join(out) + b"\r\n" + extra + b"\r\n"


def rejected(data: bytes) -> HandshakeError:
    with pytest.raises(HandshakeError) as info:
        ServerHandshake().receive_data(data)
    return info.value


def test_accept_key_rfc_example() -> None:
    assert accept_key(KEY) == ACCEPT


def test_rfc_request_accepted() -> None:
    server = ServerHandshake()
    request = server.receive_data(RFC_REQUEST)
    assert isinstance(request, HandshakeRequest)
    assert server.request is request
    assert request.path == "/chat"
    assert request.host == "server.example.com"
    assert request.origin == "http://example.com"
    assert request.version == 13
    assert request.key == KEY
    assert request.protocols == ["chat", "superchat"]
    assert request.extensions == []
    response = server.accept("chat")
    assert response == (
        b"HTTP/1.1 101 Switching Protocols\r\n"
        b"Upgrade: websocket\r\n"
        b"Connection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
        b"Sec-WebSocket-Protocol: chat\r\n"
        b"\r\n"
    )
    assert server.response_status == 101


def test_accept_with_extensions_headers_and_server() -> None:
    server = ServerHandshake()
    server.receive_data(RFC_REQUEST)
    response = server.accept(
        extensions="permessage-deflate; server_max_window_bits=10",
        headers=[("Set-Cookie", "a=b"), ("X-Dup", "1"), ("X-Dup", "2")],
        server="wsproto_cb/0.1",
    )
    head = HttpHeadReader("response").feed(response)
    assert head is not None
    assert head.headers.items() == [
        ("Server", "wsproto_cb/0.1"),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", ACCEPT),
        ("Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits=10"),
        ("Set-Cookie", "a=b"),
        ("X-Dup", "1"),
        ("X-Dup", "2"),
    ]


def test_request_one_byte_at_a_time_keeps_trailing_frame() -> None:
    frame = b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"  # RFC 6455 5.7 masked "Hello"
    data = RFC_REQUEST + frame
    server = ServerHandshake()
    result = None
    for i in range(len(RFC_REQUEST) - 1):
        assert server.receive_data(data[i : i + 1]) is None
    # The last byte of the head arrives together with the frame.
    result = server.receive_data(data[len(RFC_REQUEST) - 1 :])
    assert result is not None
    assert server.trailing == frame
    with pytest.raises(InvalidStateError):
        server.receive_data(b"more")


def test_case_insensitive_upgrade_and_connection_token_list() -> None:
    data = make_request(replace={"Upgrade": "WebSocket", "Connection": "keep-alive, Upgrade"})
    assert ServerHandshake().receive_data(data) is not None
    data = make_request(
        replace={"Upgrade": "h2c, WEBSOCKET", "Connection": None}, extra=b"connection: UPGRADE\r\n"
    )
    assert ServerHandshake().receive_data(data) is not None
    data = make_request(replace={"Connection": "keep-alive"}, extra=b"Connection: upgrade\r\n")
    assert ServerHandshake().receive_data(data) is not None


def test_duplicate_headers_kept_in_order() -> None:
    data = make_request(extra=b"X-Forwarded-For: 1.1.1.1\r\nx-forwarded-for: 2.2.2.2\r\n")
    request = ServerHandshake().receive_data(data)
    assert request is not None
    assert request.headers.get_all("X-Forwarded-For") == ["1.1.1.1", "2.2.2.2"]
    assert request.headers.as_dict()["x-forwarded-for"] == "1.1.1.1, 2.2.2.2"


def test_version_8_gets_426_with_supported_version() -> None:
    server = ServerHandshake()
    with pytest.raises(HandshakeError) as info:
        server.receive_data(make_request(replace={"Sec-WebSocket-Version": "8"}))
    err = info.value
    assert err.status == 426
    assert err.headers == [("Sec-WebSocket-Version", "13")]
    response = server.error_response(err)
    head = HttpHeadReader("response").feed(response)
    assert isinstance(head, HandshakeResponse)
    assert head.status == 426
    assert head.reason == "Upgrade Required"
    assert head.headers.get("Sec-WebSocket-Version") == "13"
    assert head.headers.get("Connection") == "close"


@pytest.mark.parametrize(
    ("replace", "extra", "status"),
    [
        ({"Sec-WebSocket-Version": None}, b"", 400),
        ({"Sec-WebSocket-Version": "abc"}, b"", 426),
        ({}, b"Sec-WebSocket-Version: 13\r\n", 400),  # twice
        ({"Host": None}, b"", 400),
        ({}, b"Host: other.example.com\r\n", 400),
        ({"Host": "bad host"}, b"", 400),
        ({"Host": "a/b"}, b"", 400),
        ({"Upgrade": None}, b"", 426),
        ({"Upgrade": "h2c"}, b"", 426),
        ({"Connection": None}, b"", 400),
        ({"Connection": "keep-alive"}, b"", 400),
        ({"Connection": "upgrade-insecure"}, b"", 400),
        ({"Sec-WebSocket-Key": None}, b"", 400),
        ({}, b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", 400),
        ({"Sec-WebSocket-Key": "dGhlIHNhbXBsZQ=="}, b"", 400),  # 11 bytes
        ({"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ"}, b"", 400),  # no padding
        ({"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25j!Q=="}, b"", 400),
        ({"Sec-WebSocket-Protocol": "chat, not a token"}, b"", 400),
        ({}, b"Sec-WebSocket-Extensions: foo; =\r\n", 400),
    ],
)
def test_invalid_requests(replace: dict[str, str | None], extra: bytes, status: int) -> None:
    assert rejected(make_request(replace=replace, extra=extra)).status == status


def test_upgrade_missing_gets_426_with_upgrade_header() -> None:
    server = ServerHandshake()
    with pytest.raises(HandshakeError) as info:
        server.receive_data(make_request(replace={"Upgrade": None}))
    response = server.error_response(info.value)
    assert b"\r\nUpgrade: websocket\r\n" in response
    assert b"\r\nConnection: Upgrade, close\r\n" in response


@pytest.mark.parametrize(
    ("start_line", "status"),
    [
        (b"POST /chat HTTP/1.1", 405),
        (b"get /chat HTTP/1.1", 405),
        (b"GET /chat HTTP/1.0", 505),
        (b"GET /chat#frag HTTP/1.1", 400),
        (b"GET chat HTTP/1.1", 400),
        (b"GET * HTTP/1.1", 400),
        (b"GET ftp://example.com/chat HTTP/1.1", 400),
    ],
)
def test_invalid_request_lines(start_line: bytes, status: int) -> None:
    data = start_line + RFC_REQUEST[RFC_REQUEST.index(b"\r\n") :]
    assert rejected(data).status == status


def test_405_carries_allow_header() -> None:
    err = rejected(b"POST /chat HTTP/1.1" + RFC_REQUEST[RFC_REQUEST.index(b"\r\n") :])
    assert err.headers == [("Allow", "GET")]


def test_absolute_form_target() -> None:
    data = b"GET ws://server.example.com/chat?x=%20y HTTP/1.1" + RFC_REQUEST[18:]
    request = ServerHandshake().receive_data(data)
    assert request is not None
    assert request.path == "/chat"
    assert request.params == {"x": [" y"]}


def test_path_and_params() -> None:
    data = b"GET /ch%20at?a=1&a=2&b=&c=%C3%A9 HTTP/1.1" + RFC_REQUEST[18:]
    request = ServerHandshake().receive_data(data)
    assert request is not None
    assert request.target == "/ch%20at?a=1&a=2&b=&c=%C3%A9"
    assert request.path == "/ch at"
    # Like Autobahn (urllib.parse.parse_qs): repeated keys gathered, empty dropped.
    assert request.params == {"a": ["1", "2"], "c": ["é"]}


@pytest.mark.parametrize(
    ("target", "path", "params"),
    [
        ("/", "/", {}),
        ("/chat", "/chat", {}),
        ("/chat?", "/chat", {}),  # an empty query: no parameters
        ("/a%2Fb", "/a/b", {}),  # decoded only when escaped
        ("/100%25", "/100%", {}),
        ("/a/b?x=1", "/a/b", {"x": ["1"]}),
        ("/?x=", "/", {}),  # an empty value is left out (parse_qs)
    ],
)
def test_path_and_params_of_plain_targets(
    target: str, path: str, params: dict[str, list[str]]
) -> None:
    data = f"GET {target} HTTP/1.1".encode() + RFC_REQUEST[18:]
    request = ServerHandshake().receive_data(data)
    assert request is not None
    assert (request.path, request.params) == (path, params)


@pytest.mark.parametrize(
    ("upgrade", "connection", "status"),
    [
        ("websocket", "Upgrade", None),  # each the token alone
        ("WebSocket", "UPGRADE", None),
        ("websocketx", "Upgrade", 426),  # not the token, nor a list holding it
        ("web socket", "Upgrade", 426),
        ("websocket", "Upgrades", 400),
        ("websocket", "close,upgrade", None),  # in a list, no spaces
        ("websocket", ",upgrade,", None),  # empty elements ignored
    ],
)
def test_upgrade_tokens_alone_or_in_lists(
    upgrade: str, connection: str, status: int | None
) -> None:
    data = make_request(replace={"Upgrade": upgrade, "Connection": connection})
    if status is None:
        assert ServerHandshake().receive_data(data) is not None
    else:
        assert rejected(data).status == status


def test_upgrade_token_with_surrounding_space_from_another_parser() -> None:
    """A request parsed elsewhere (Twisted Web) may keep spaces around a value."""
    parsed = ServerHandshake().receive_data(RFC_REQUEST)
    assert parsed is not None
    headers = Headers(
        [(n, f" {v} " if n in ("Upgrade", "Connection") else v) for n, v in parsed.headers]
    )
    request = HandshakeRequest("GET", "/chat", "HTTP/1.1", headers)
    assert ServerHandshake().receive_request(request) is request


def test_host_with_port_and_ipv6() -> None:
    for host in ("example.com:9000", "[::1]:9000", "[::1]", "127.0.0.1:80"):
        request = ServerHandshake().receive_data(make_request(replace={"Host": host}))
        assert request is not None
        assert request.host == host


def test_extensions_parsed_in_request() -> None:
    ext = 'permessage-deflate; client_max_window_bits; server_max_window_bits="10", x-foo'
    request = ServerHandshake().receive_data(
        make_request(extra=f"Sec-WebSocket-Extensions: {ext}\r\n".encode())
    )
    assert request is not None
    assert request.extensions == [
        (
            "permessage-deflate",
            [("client_max_window_bits", None), ("server_max_window_bits", "10")],
        ),
        ("x-foo", []),
    ]


def test_unoffered_subprotocol_is_a_programming_error() -> None:
    server = ServerHandshake()
    server.receive_data(RFC_REQUEST)
    with pytest.raises(ValueError, match="not offered"):
        server.accept("mqtt")
    assert server.response_status is None
    assert server.accept("superchat").count(b"Sec-WebSocket-Protocol: superchat\r\n") == 1


def test_subprotocol_when_none_offered_is_a_programming_error() -> None:
    server = ServerHandshake()
    server.receive_data(make_request(replace={"Sec-WebSocket-Protocol": None}))
    with pytest.raises(ValueError, match="not offered"):
        server.accept("chat")
    assert b"Sec-WebSocket-Protocol" not in server.accept()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"headers": [("X-A", "1\r\nSet-Cookie: evil=1")]},
        {"headers": [("X-A\r\nSet-Cookie", "1")]},
        {"headers": [("X-A", "1\n")]},
        {"server": "x\r\n\r\n<html>"},
        {"extensions": "permessage-deflate\r\nX-Injected: 1"},
        {"extensions": "permessage-deflate; ="},
        {"headers": [("Sec-WebSocket-Accept", "forged")]},
        {"headers": [("Connection", "close")]},
    ],
)
def test_accept_refuses_injection_and_reserved_headers(kwargs: dict[str, object]) -> None:
    server = ServerHandshake()
    server.receive_data(RFC_REQUEST)
    with pytest.raises(ValueError):
        server.accept(**kwargs)  # type: ignore[arg-type]
    assert server.response_status is None


def test_accept_before_request_and_twice() -> None:
    server = ServerHandshake()
    with pytest.raises(InvalidStateError):
        server.accept()
    server.receive_data(RFC_REQUEST)
    server.accept()
    with pytest.raises(InvalidStateError):
        server.accept()
    with pytest.raises(InvalidStateError):
        server.reject(403, "Forbidden")


def test_reject_builds_a_closing_response() -> None:
    server = ServerHandshake()
    server.receive_data(RFC_REQUEST)
    response = server.reject(403, "Forbidden", [("X-Why", "origin")], b"go away")
    assert response == (
        b"HTTP/1.1 403 Forbidden\r\n"
        b"X-Why: origin\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Length: 7\r\n"
        b"Connection: close\r\n"
        b"\r\n"
        b"go away"
    )
    assert server.response_status == 403


def test_reject_without_body_and_with_own_content_type() -> None:
    response = ServerHandshake().reject(404, "Not Found")
    assert response == (b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    response = ServerHandshake().reject(200, "OK", [("Content-Type", "text/html")], b"<p>")
    assert response.count(b"Content-Type") == 1


@pytest.mark.parametrize(
    ("status", "reason", "headers"),
    [
        (403, "Forbidden\r\nSet-Cookie: x=1", []),
        (403, "Forbidden\n", []),
        (403, "Forbidden", [("X", "a\rb")]),
        (403, "Forbidden", [("Content-Length", "0")]),
        (101, "Switching Protocols", []),
        (600, "Too High", []),
    ],
)
def test_reject_refuses_injection_and_bad_status(
    status: int, reason: str, headers: list[tuple[str, str]]
) -> None:
    server = ServerHandshake()
    with pytest.raises(ValueError):
        server.reject(status, reason, headers)
    assert server.response_status is None


def test_error_response_keeps_peer_bytes_out_of_the_status_line() -> None:
    server = ServerHandshake()
    with pytest.raises(HandshakeError) as info:
        server.receive_data(b"EVIL\xff / HTTP/1.1\r\n\r\n")
    response = server.error_response(info.value)
    assert response.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert response.endswith(b"\r\n\r\n400 Bad Request: malformed HTTP request line\n")


def test_error_response_for_oversized_head() -> None:
    server = ServerHandshake(max_head_size=1024)
    with pytest.raises(HandshakeError) as info:
        server.receive_data(RFC_REQUEST[:-2] + b"X-Pad: " + b"p" * 900 + b"\r\n\r\n")
    assert info.value.status == 431
    assert server.error_response(info.value).startswith(
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    )


def test_receive_request_validates_a_request_parsed_elsewhere() -> None:
    head = HttpHeadReader().feed(RFC_REQUEST)
    assert isinstance(head, HandshakeRequest)
    server = ServerHandshake()
    assert server.receive_request(head) is head
    assert ACCEPT.encode() in server.accept()
    bad = HandshakeRequest("GET", "/chat", "HTTP/1.1", Headers([("Host", "a")]))
    with pytest.raises(HandshakeError) as info:
        ServerHandshake().receive_request(bad)
    assert info.value.status == 426
    weird = HandshakeRequest("GET", "/", "HTTP/x", head.headers)
    with pytest.raises(HandshakeError) as info:
        ServerHandshake().receive_request(weird)
    assert info.value.status == 505


def test_receive_validated_request_takes_it_without_checking_again() -> None:
    """For an HTTP server that validated the request itself (and answered a bad one)."""
    head = HttpHeadReader().feed(RFC_REQUEST)
    assert isinstance(head, HandshakeRequest)
    server = ServerHandshake()
    assert server.receive_validated_request(head) is head
    assert server.request is head
    assert ACCEPT.encode() in server.accept()
    with pytest.raises(InvalidStateError):
        server.receive_validated_request(head)
