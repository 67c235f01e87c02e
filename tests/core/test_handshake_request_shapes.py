"""Request shapes that smuggle past a front-end: the version, a body, the authority.

Each is a request a proxy in front of us may frame or route differently
from the way we read it.  The answers: 505 for any version but HTTP/1.1,
400 for a request line outside the HTTP grammar, 400 for a body in any
framing but ``Content-Length: 0``, 400 when an absolute-form target and
``Host`` disagree or the target is not origin- or absolute-form.
"""

from __future__ import annotations

import pytest

from wsproto_cb.core.errors import HandshakeError
from wsproto_cb.core.handshake_server import ServerHandshake

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
FIELDS = (
    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
    f"Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n"
)
# RFC 6455 5.7: a masked "Hello" (what a smuggled "body" would be read as)
FRAME = b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"


def request(
    start_line: str = "GET /chat HTTP/1.1", host: str | None = "example.com", extra: str = ""
) -> bytes:
    host_line = "" if host is None else f"Host: {host}\r\n"
    return f"{start_line}\r\n{host_line}{FIELDS}{extra}\r\n".encode()


def status_of(data: bytes) -> int | None:
    """The refusal's status, or None when the request is accepted."""
    try:
        ServerHandshake().receive_data(data)
    except HandshakeError as exc:
        return exc.status
    return None


@pytest.mark.parametrize(
    ("version", "status"),
    [
        ("HTTP/1.1", None),
        ("HTTP/1.0", 505),  # no Upgrade, no Host rule in 1.0
        ("HTTP/1.2", 505),  # no such version: refused, not read as 1.1
        ("HTTP/2.0", 505),  # HTTP/2 has no request line
        ("HTTP/3.0", 505),
        ("HTTP/0.9", 505),
        ("HTTP/1.10", 400),  # outside the grammar: DIGIT "." DIGIT
        ("HTTP/11", 400),
        ("http/1.1", 400),  # HTTP-name is case-sensitive
        ("Http/1.1", 400),
        ("HTTP/1.1 ", 400),
        ("HTTP/1.1\t", 400),
        (" HTTP/1.1", 400),
    ],
)
def test_http_version(version: str, status: int | None) -> None:
    assert status_of(request(f"GET /chat {version}")) == status


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        ("Content-Length: 0\r\n", None),  # announces no body (websockets accepts it too)
        ("Content-Length: 00\r\n", None),
        ("Content-Length: 0\r\nContent-Length: 0\r\n", None),
        ("Content-Length: 11\r\n", 400),
        ("Content-Length: 1\r\n", 400),
        ("Content-Length: 0\r\nContent-Length: 11\r\n", 400),
        ("Content-Length: 0, 0\r\n", 400),
        ("Content-Length: +0\r\n", 400),
        ("Content-Length: -0\r\n", 400),
        ("Content-Length: 0x0\r\n", 400),
        ("Content-Length: \r\n", 400),
        ("Transfer-Encoding: chunked\r\n", 400),
        ("Transfer-Encoding: identity\r\n", 400),
        ("Transfer-Encoding: gzip, chunked\r\n", 400),
        ("Transfer-Encoding: \r\n", 400),
        ("transfer-encoding: CHUNKED\r\n", 400),
        ("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n", 400),
        ("Content-Length: 0\r\nTransfer-Encoding: chunked\r\n", 400),
    ],
)
def test_a_body_in_any_framing_is_refused(extra: str, status: int | None) -> None:
    assert status_of(request(extra=extra)) == status


def test_a_non_ascii_digit_is_no_content_length() -> None:
    # latin-1 SUPERSCRIPT TWO is a digit to str.isdigit(), not to HTTP
    data = request(extra="Content-Length: 0\r\n").replace(b": 0\r\n", b": \xb2\r\n")
    assert status_of(data) == 400


def test_the_body_is_never_read_as_frames() -> None:
    server = ServerHandshake()
    with pytest.raises(HandshakeError) as info:
        server.receive_data(request(extra=f"Content-Length: {len(FRAME)}\r\n") + FRAME)
    assert info.value.status == 400
    assert server.request is None
    response = server.error_response(info.value)
    assert response.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"Connection: close\r\n" in response
    assert b"no body (Content-Length)" in response


@pytest.mark.parametrize(
    ("target", "host", "status"),
    [
        ("http://example.com/chat", "example.com", None),
        ("HTTP://EXAMPLE.com/chat", "example.COM", None),  # scheme and host fold case
        ("ws://example.com/chat", "example.com", None),
        ("http://example.com:80/chat", "example.com", None),  # the scheme's default port
        ("https://example.com/chat", "example.com:443", None),
        ("wss://example.com:8443/chat", "example.com:8443", None),
        ("http://example.com", "example.com", None),  # empty path is "/"
        ("http://[::1]:9000/chat", "[::1]:9000", None),
        ("http://[::1]/chat", "[::1]:80", None),
        ("http://other.example/chat", "example.com", 400),  # the smuggling shape
        ("http://example.com:8080/chat", "example.com", 400),
        ("http://example.com/chat", "example.com:8080", 400),
        ("http://example.com:443/chat", "example.com:80", 400),
        ("http://[::1]/chat", "[::2]", 400),
        ("http://user@example.com/chat", "example.com", 400),  # userinfo
        ("http://user:pw@example.com/chat", "example.com", 400),
        ("http://exa mple.com/chat", "example.com", 400),
        ("http:///chat", "example.com", 400),  # no authority
        ("ftp://example.com/chat", "example.com", 400),
        ("example.com:443", "example.com:443", 400),  # authority-form (CONNECT's)
        ("*", "example.com", 400),  # asterisk-form (OPTIONS')
        ("chat", "example.com", 400),
    ],
)
def test_target_forms_and_authority(target: str, host: str, status: int | None) -> None:
    assert status_of(request(f"GET {target} HTTP/1.1", host=host)) == status


def test_accepted_absolute_form_keeps_the_agreed_host() -> None:
    result = ServerHandshake().receive_data(request("GET http://example.com/a?b=c HTTP/1.1"))
    assert result is not None
    assert (result.host, result.path, result.params) == ("example.com", "/a", {"b": ["c"]})


@pytest.mark.parametrize(
    "hosts",
    [
        ("example.com", "example.com"),  # even the same value twice (RFC 9112 3.2)
        ("example.com", "other.example"),
        ("", "example.com"),
    ],
)
def test_host_exactly_once(hosts: tuple[str, str]) -> None:
    first, second = hosts
    assert status_of(request(host=first, extra=f"Host: {second}\r\n")) == 400


@pytest.mark.parametrize("host", [None, "", "a b", "example.com/x", "example.com:port"])
def test_missing_or_invalid_host(host: str | None) -> None:
    assert status_of(request(host=host)) == 400
