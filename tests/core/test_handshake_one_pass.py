"""The request head in one pass: the whole-head reader against the line-by-line one.

A head that arrives whole (the usual case) is parsed by one decode and two
regular expressions (``HttpHeadReader._parse_whole``); anything unusual, and
every malformed head, by the line-by-line reader.  Both must accept the same
heads with the same result, and lookups must not lower-case the stored names
again.  Extension lists without quoted strings take a similar shortcut.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wsproto_cb.core import http
from wsproto_cb.core.errors import HandshakeError
from wsproto_cb.core.handshake_server import ServerHandshake
from wsproto_cb.core.headers import (
    Headers,
    _ExtensionScanner,
    check_extension_header,
    parse_extension_header,
)
from wsproto_cb.core.http import HandshakeRequest, HttpHeadReader

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
REQUEST = (
    b"GET /chat?room=1 HTTP/1.1\r\n"
    b"Host: example.com:8000\r\n"
    b"Upgrade: websocket\r\n"
    b"Connection: keep-alive, Upgrade\r\n"
    b"Sec-WebSocket-Key: " + KEY.encode() + b"\r\n"
    b"Sec-WebSocket-Version: 13\r\n"
    b"Sec-WebSocket-Protocol: chat, superchat\r\n"
    b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    b"\r\n"
)


def _outcome(reader: HttpHeadReader, chunks: list[bytes]) -> object:
    """What a reader makes of ``chunks``: (head, trailing), an error, or None."""
    try:
        for i, chunk in enumerate(chunks):
            head = reader.feed(chunk)
            if head is not None:
                rest = reader.trailing + b"".join(chunks[i + 1 :])
                return ("head", head, list(head.headers), rest)
    except HandshakeError as exc:
        return ("error", exc.status, exc.reason)
    return None


def _both_ways(data: bytes, **limits: int) -> tuple[object, object]:
    whole = _outcome(HttpHeadReader("request", **limits), [data])
    bytewise = _outcome(
        HttpHeadReader("request", **limits), [data[i : i + 1] for i in range(len(data))]
    )
    return whole, bytewise


def test_a_whole_head_in_one_read_skips_the_line_by_line_reader(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_lines(self: HttpHeadReader, line: bytes) -> bool:
        raise AssertionError("parsed line by line")

    monkeypatch.setattr(HttpHeadReader, "_line", no_lines)
    head = HttpHeadReader().feed(REQUEST + b"\x81\x00")
    assert isinstance(head, HandshakeRequest)
    assert head.headers.get("sec-websocket-key") == KEY


@pytest.mark.parametrize(
    "data",
    [
        REQUEST,
        REQUEST + b"\x81\x05hello",
        # repeated fields, in order, different spellings of one name
        b"GET / HTTP/1.1\r\nX-A: 1\r\nx-a: 2\r\nX-A:3\r\nHost: a\r\n\r\n",
        # whitespace around values (kept inside), empty values, tabs
        b"GET / HTTP/1.1\r\nA:  \t v  a  l \t \r\nB:\r\nC: \t\r\nD:\tx\ty\t\r\n\r\n",
        # a long run of whitespace in a value
        b"GET / HTTP/1.1\r\nA: x" + b" " * 5000 + b"y" + b"\t" * 2000 + b"\r\n\r\n",
        # obsolete line folding: refused
        b"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
        b"GET / HTTP/1.1\r\n folded: x\r\n\r\n",
        # malformed fields and lines
        b"GET / HTTP/1.1\r\nA : b\r\n\r\n",
        b"GET / HTTP/1.1\r\nA\x00: b\r\n\r\n",
        b"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",
        b"GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n",
        b"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
        b"GET / HTTP/1.1\r\n: empty name\r\n\r\n",
        b"GET  / HTTP/1.1\r\nA: b\r\n\r\n",
        # bare LF ends, leading empty lines: the line-by-line reader's cases
        b"GET / HTTP/1.1\nA: b\n\n",
        b"GET / HTTP/1.1\r\nA: b\n\r\n",
        b"\r\n\r\nGET / HTTP/1.1\r\nA: b\r\n\r\n",
        # latin-1 in a value
        b"GET / HTTP/1.1\r\nA: caf\xe9\r\n\r\n",
    ],
)
def test_whole_and_line_by_line_agree(data: bytes) -> None:
    whole, bytewise = _both_ways(data)
    assert whole == bytewise


@pytest.mark.parametrize(
    ("data", "limits"),
    [
        (REQUEST, {"max_line_size": 60}),
        (REQUEST, {"max_head_size": 100}),
        (REQUEST, {"max_headers": 3}),
        (REQUEST, {"max_line_size": 60, "max_head_size": 100_000}),
    ],
)
def test_limits_are_the_same_for_a_whole_head(data: bytes, limits: dict[str, int]) -> None:
    whole, bytewise = _both_ways(data, **limits)
    assert whole == bytewise
    assert isinstance(whole, tuple) and whole[0] == "error" and whole[1] == 431


_atoms = st.sampled_from(
    [b"\r\n", b"\n", b"\r", b":", b" ", b"\t", b"\x00", b"\xe9", b"X-A", b"x-a", b"v", b"Host: a"]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, len(REQUEST) - 1), st.lists(_atoms, max_size=3)), max_size=4)
)
def test_mutated_heads_agree(edits: list[tuple[int, list[bytes]]]) -> None:
    data = REQUEST
    for pos, atoms in edits:
        data = data[:pos] + b"".join(atoms) + data[pos:]
    whole, bytewise = _both_ways(data, max_line_size=200, max_head_size=600, max_headers=12)
    assert whole == bytewise


class CountingName(str):
    """A header name that counts how often it is lower-cased."""

    calls = 0

    def lower(self) -> str:
        CountingName.calls += 1
        return str.lower(self)


def test_lookups_lower_case_each_stored_name_once() -> None:
    CountingName.calls = 0
    names = [CountingName(n) for n in ("Host", "Upgrade", "X-A", "x-a", "Connection")]
    headers = Headers(zip(names, ["h", "websocket", "1", "2", "Upgrade"], strict=True))
    for _ in range(10):
        assert headers.get("HOST") == "h"
        assert headers.get_all("X-a") == ["1", "2"]
        assert headers.values_of("connection") == ["Upgrade"]
        assert "upgrade" in headers and "nope" not in headers
    assert headers.as_dict() == {
        "host": "h",
        "upgrade": "websocket",
        "x-a": "1, 2",
        "connection": "Upgrade",
    }
    assert CountingName.calls == len(names)
    headers.add(CountingName("X-B"), "3")
    assert headers.get("x-b") == "3" and CountingName.calls == len(names) + 1


def test_the_request_is_read_once_through_validation_and_the_response(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed: list[str] = []

    def counting(values: list[str]) -> object:
        parsed.append("extensions")
        return parse_extension_header(values)

    monkeypatch.setattr(http, "parse_extension_header", counting)
    server = ServerHandshake()
    request = server.receive_data(REQUEST)
    assert request is not None
    assert request.protocols is request.protocols
    assert request.extensions is request.extensions
    assert request.params == {"room": ["1"]} and request.path == "/chat"
    response = server.accept("chat", "permessage-deflate")
    assert response.startswith(b"HTTP/1.1 101 ")
    assert parsed == ["extensions"]


_ext_atoms = st.sampled_from(
    [
        "permessage-deflate",
        "x",
        "client_max_window_bits",
        "10",
        ";",
        ",",
        "=",
        " ",
        "\t",
        '"',
        "\\",
        "é",
        "a b",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_ext_atoms, max_size=14).map("".join))
def test_extension_shortcut_agrees_with_the_full_grammar(value: str) -> None:
    try:
        expected: object = _ExtensionScanner(value).extensions()
    except HandshakeError as exc:
        expected = ("error", exc.status)
    try:
        got: object = parse_extension_header([value])
        check_extension_header(value)
    except HandshakeError as exc:
        got = ("error", exc.status)
    assert got == expected
