"""HttpHeadReader: incremental, bounded parsing of one HTTP head."""

from __future__ import annotations

import pytest

from wsproto_cb.core.errors import HandshakeError, InvalidStateError
from wsproto_cb.core.http import (
    HandshakeRequest,
    HandshakeResponse,
    HttpHeadReader,
    build_head,
)

REQUEST = (
    b"GET /chat?a=1 HTTP/1.1\r\n"
    b"Host: server.example.com\r\n"
    b"X-Dup: one\r\n"
    b"x-dup: two\r\n"
    b"X-Empty:\r\n"
    b"X-Spaces: \t padded value \t\r\n"
    b"\r\n"
)


def test_request_head_parsed_whole() -> None:
    reader = HttpHeadReader("request")
    head = reader.feed(REQUEST)
    assert isinstance(head, HandshakeRequest)
    assert (head.method, head.target, head.http_version) == ("GET", "/chat?a=1", "HTTP/1.1")
    assert list(head.headers) == [
        ("Host", "server.example.com"),
        ("X-Dup", "one"),
        ("x-dup", "two"),
        ("X-Empty", ""),
        ("X-Spaces", "padded value"),
    ]
    assert reader.complete
    assert reader.trailing == b""


def test_request_head_one_byte_at_a_time_with_trailing() -> None:
    reader = HttpHeadReader("request")
    data = REQUEST + b"\x81\x05hello"
    result = None
    for i in range(len(REQUEST)):
        assert result is None
        result = reader.feed(data[i : i + 1])
    assert isinstance(result, HandshakeRequest)
    assert reader.trailing == b""
    reader2 = HttpHeadReader("request")
    head = reader2.feed(data)
    assert head == result
    assert reader2.trailing == b"\x81\x05hello"


def test_feed_after_completion_is_a_state_error() -> None:
    reader = HttpHeadReader("request")
    reader.feed(REQUEST)
    with pytest.raises(InvalidStateError):
        reader.feed(b"more")


def test_feed_after_failure_is_a_state_error() -> None:
    reader = HttpHeadReader("request")
    with pytest.raises(HandshakeError):
        reader.feed(b"garbage\r\n")
    with pytest.raises(InvalidStateError):
        reader.feed(b"more")


def test_bare_lf_line_endings_accepted() -> None:
    head = HttpHeadReader().feed(b"GET / HTTP/1.1\nHost: a\n\nrest")
    assert isinstance(head, HandshakeRequest)
    assert head.headers.get("host") == "a"


def test_leading_empty_lines_skipped() -> None:
    head = HttpHeadReader().feed(b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert isinstance(head, HandshakeRequest)


def test_response_head() -> None:
    reader = HttpHeadReader("response")
    head = reader.feed(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x82\x00")
    assert isinstance(head, HandshakeResponse)
    assert (head.status, head.reason, head.http_version) == (
        101,
        "Switching Protocols",
        "HTTP/1.1",
    )
    assert reader.trailing == b"\x82\x00"


@pytest.mark.parametrize(
    ("line", "reason"),
    [(b"HTTP/1.1 101", ""), (b"HTTP/1.1 404 ", ""), (b"HTTP/1.0 403 Nope \xe9", "Nope \xe9")],
)
def test_status_line_variants(line: bytes, reason: str) -> None:
    head = HttpHeadReader("response").feed(line + b"\r\n\r\n")
    assert isinstance(head, HandshakeResponse)
    assert head.reason == reason


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (b"GET / HTTP/1.1\r\n folded: x\r\n\r\n", "folding"),  # obs-fold as first line
        (b"GET / HTTP/1.1\r\nA: b\r\n\tcontinued\r\n\r\n", "folding"),
        (b"GET / HTTP/1.1\r\nNoColon\r\n\r\n", "without a colon"),
        (b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", "whitespace before the colon"),
        (b"GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", "whitespace before the colon"),
        (b"GET / HTTP/1.1\r\n: a\r\n\r\n", "header name"),
        (b"GET / HTTP/1.1\r\nBad(Name): a\r\n\r\n", "header name"),
        (b"GET / HTTP/1.1\r\nX-A: a\x00b\r\n\r\n", "control character"),
        (b"GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n", "control character"),  # bare CR
        (b"GET / HTTP/1.1\r\nX-A: a\x7f\r\n\r\n", "control character"),
        (b"GET /\r\n\r\n", "request line"),  # HTTP/0.9 style
        (b"GET  / HTTP/1.1\r\n\r\n", "request line"),
        (b"GET / HTTP/1.1 \r\n\r\n", "request line"),
        (b"GET / HTTP/11\r\n\r\n", "request line"),
        (b"G\xc3\xa9T / HTTP/1.1\r\n\r\n", "request line"),
        (b"GET /\xc3\xa9 HTTP/1.1\r\n\r\n", "request line"),
    ],
)
def test_malformed_request_heads_are_400(head: bytes, reason: str) -> None:
    with pytest.raises(HandshakeError) as info:
        HttpHeadReader("request").feed(head)
    assert reason in info.value.reason
    assert info.value.status == 400


@pytest.mark.parametrize(
    "head",
    [b"HTTP/1.1 10 X\r\n\r\n", b"HTTP/1.1 1011 X\r\n\r\n", b"HTTP/1.1 101 a\x01\r\n\r\n", b"x\r\n"],
)
def test_malformed_response_heads_have_status_0(head: bytes) -> None:
    with pytest.raises(HandshakeError) as info:
        HttpHeadReader("response").feed(head)
    assert info.value.status == 0


def _feed_until_error(
    reader: HttpHeadReader, prefix: bytes, filler: bytes
) -> tuple[int, HandshakeError]:
    """Feed ``prefix`` then up to about 1 MB of ``filler`` chunks; return how
    many bytes had been fed when the reader gave up, and its error."""
    fed = len(prefix)
    with pytest.raises(HandshakeError) as info:
        reader.feed(prefix)
        for _ in range(1_000_000 // len(filler)):
            fed += len(filler)
            reader.feed(filler)
    return fed, info.value


def test_endless_request_line_fails_past_the_line_limit() -> None:
    reader = HttpHeadReader("request")
    fed, error = _feed_until_error(reader, b"GET /", b"a" * 1024)
    assert error.status == 414
    assert 8 * 1024 < fed <= 8 * 1024 + 2048


def test_endless_header_line_fails_past_the_line_limit() -> None:
    reader = HttpHeadReader("request")
    fed, error = _feed_until_error(reader, b"GET / HTTP/1.1\r\nX-Big: ", b"b" * 1024)
    assert error.status == 431
    assert fed <= 8 * 1024 + 2048


def test_one_megabyte_without_newline_in_one_feed() -> None:
    with pytest.raises(HandshakeError) as info:
        HttpHeadReader("request").feed(b"G" * 1_000_000)
    assert info.value.status == 414


def test_header_line_limit_exact() -> None:
    reader = HttpHeadReader("request", max_line_size=100)
    line = b"X: " + b"v" * 97  # exactly 100 bytes
    assert reader.feed(b"GET / HTTP/1.1\r\n" + line + b"\r\n") is None
    with pytest.raises(HandshakeError) as info:
        reader.feed(line + b"v\r\n")
    assert info.value.status == 431


def test_head_size_limit_with_many_short_lines() -> None:
    reader = HttpHeadReader("request", max_headers=100_000)
    fed, error = _feed_until_error(reader, b"GET / HTTP/1.1\r\n", b"X-A: 123456789012345\r\n" * 40)
    assert error.status == 431
    assert 64 * 1024 < fed <= 64 * 1024 + 2048


def test_head_size_limit_counts_leading_empty_lines() -> None:
    with pytest.raises(HandshakeError) as info:
        HttpHeadReader("request", max_head_size=1000).feed(b"\r\n" * 600)
    assert info.value.status == 431


def test_too_many_headers() -> None:
    reader = HttpHeadReader("request")
    ok = b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 128
    assert reader.feed(ok) is None
    with pytest.raises(HandshakeError) as info:
        reader.feed(b"X: y\r\n")
    assert info.value.status == 431


def test_limits_in_response_mode_have_status_0() -> None:
    with pytest.raises(HandshakeError) as info:
        HttpHeadReader("response").feed(b"HTTP/1.1 101 " + b"x" * 9000)
    assert info.value.status == 0


def test_bad_mode() -> None:
    with pytest.raises(ValueError):
        HttpHeadReader("both")  # type: ignore[arg-type]


def test_build_head_and_injection() -> None:
    assert build_head("HTTP/1.1 101 OK", [("A", "b")]) == b"HTTP/1.1 101 OK\r\nA: b\r\n\r\n"
    with pytest.raises(ValueError):
        build_head("HTTP/1.1 200 OK\r\nX: y", [])
    with pytest.raises(ValueError):
        build_head("HTTP/1.1 200 OK", [("A", "b\r\nX-Injected: 1")])
    with pytest.raises(ValueError):
        build_head("HTTP/1.1 200 OK", [("A\r\nB", "c")])
