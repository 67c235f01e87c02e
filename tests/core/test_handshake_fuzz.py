"""Garbage into the handshake parsers raises HandshakeError and nothing else."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from wsproto_cb.core.errors import HandshakeError
from wsproto_cb.core.handshake_client import ClientHandshake
from wsproto_cb.core.handshake_server import ServerHandshake
from wsproto_cb.core.headers import parse_extension_header, parse_subprotocol_list
from wsproto_cb.core.http import HttpHeadReader

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
VALID_REQUEST = (
    b"GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: " + KEY.encode() + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
VALID_RESPONSE = (
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
)

# Bytes biased towards HTTP syntax so that the parsers get past the first line.
_http_atoms = st.sampled_from(
    [
        b"\r\n",
        b"\n",
        b"\r",
        b":",
        b" ",
        b"\t",
        b",",
        b";",
        b"=",
        b'"',
        b"\\",
        b"GET ",
        b"HTTP/1.1",
        b" 101 ",
        b"Host: a",
        b"Upgrade: websocket",
        b"Connection: upgrade",
        b"Sec-WebSocket-Key: " + KEY.encode(),
        b"Sec-WebSocket-Version: 13",
        b"Sec-WebSocket-Extensions: ",
        b"Sec-WebSocket-Protocol: ",
        b"\x00",
        b"\xff",
        b"/",
    ]
)
garbage = st.one_of(
    st.binary(max_size=300),
    st.lists(st.one_of(_http_atoms, st.binary(max_size=8)), max_size=40).map(b"".join),
)
# A valid message with a few bytes mutated.
mutations = st.lists(st.tuples(st.integers(0, 400), st.binary(min_size=1, max_size=3)), max_size=4)
chunkings = st.lists(st.integers(1, 64), min_size=1, max_size=8)


def _mutate(data: bytes, edits: list[tuple[int, bytes]]) -> bytes:
    for pos, repl in edits:
        pos %= len(data)
        data = data[:pos] + repl + data[pos + len(repl) :]
    return data


def _chunks(data: bytes, sizes: list[int]) -> list[bytes]:
    out, i, k = [], 0, 0
    while i < len(data):
        n = sizes[k % len(sizes)]
        out.append(data[i : i + n])
        i, k = i + n, k + 1
    return out


@settings(max_examples=150, deadline=None)
@given(garbage, chunkings, st.sampled_from(["request", "response"]))
def test_reader_raises_only_handshake_error(data: bytes, sizes: list[int], mode: str) -> None:
    reader = HttpHeadReader(mode, max_line_size=128, max_head_size=512, max_headers=8)  # type: ignore[arg-type]
    try:
        for chunk in _chunks(data, sizes):
            if reader.feed(chunk) is not None:
                break
    except HandshakeError as exc:
        assert (400 <= exc.status < 500) if mode == "request" else exc.status == 0


@settings(max_examples=150, deadline=None)
@given(st.one_of(garbage, mutations.map(lambda e: _mutate(VALID_REQUEST, e))), chunkings)
def test_server_raises_only_handshake_error(data: bytes, sizes: list[int]) -> None:
    server = ServerHandshake()
    try:
        for chunk in _chunks(data, sizes):
            if server.receive_data(chunk) is not None:
                server.accept()
                break
    except HandshakeError as exc:
        assert server.error_response(exc).startswith(b"HTTP/1.1 ")


@settings(max_examples=150, deadline=None)
@given(st.one_of(garbage, mutations.map(lambda e: _mutate(VALID_RESPONSE, e))), chunkings)
def test_client_raises_only_handshake_error(data: bytes, sizes: list[int]) -> None:
    client = ClientHandshake("a", 80, "/chat", key=KEY, protocols=["chat"])
    try:
        for chunk in _chunks(data, sizes):
            if client.receive_data(chunk) is not None:
                break
    except HandshakeError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=40), max_size=3))
def test_list_parsers_raise_only_handshake_error(values: list[str]) -> None:
    for parse in (parse_extension_header, parse_subprotocol_list):
        try:
            parse(values)
        except HandshakeError as exc:
            assert exc.status == 400
