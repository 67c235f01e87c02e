"""Generated inputs: round trips through client and server, and garbage.

Round trip: whatever a Connection serializes, a peer Connection parses back
to the same messages and pings, however the byte stream is cut into reads.
Garbage: no input makes the parser raise; it only reports events, at most
one ConnectionFailed, and nothing after it.
"""

from __future__ import annotations

import itertools
import random
import zlib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wsproto_cb.core.connection import Connection
from wsproto_cb.core.errors import ProtocolError
from wsproto_cb.core.events import (
    CloseReceived,
    ConnectionFailed,
    Event,
    MessageData,
    Ping,
    Pong,
)
from wsproto_cb.core.frames import FrameHeader, build_frame_header, parse_header
from wsproto_cb.core.masking import apply_mask

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ASCII and 2-, 3- and 4-byte UTF-8 sequences
_TEXT_PATTERN = "a\u03ba\u1f79\u03c3\u03bc\u03b5\u20ac\U0001d11e ".encode()


def payload_of(size: int, is_binary: bool, seed: int) -> bytes:
    """``size`` bytes: random for binary, valid multi-byte UTF-8 for text."""
    if is_binary:
        return random.Random(seed).randbytes(size)
    raw = (_TEXT_PATTERN * (size // len(_TEXT_PATTERN) + 1))[:size]
    raw = raw.decode("utf-8", "ignore").encode("utf-8")
    return raw + b"a" * (size - len(raw))


sizes = st.one_of(
    st.sampled_from([0, 1, 125, 126, 127, 65535, 65536]),
    st.integers(0, 3000),
)

# ("message", is_binary, size, fragment_size, seed) | ("stream", is_binary, size,
# cut, seed, ping_between) | ("ping", payload)
items = st.one_of(
    st.tuples(
        st.just("message"),
        st.booleans(),
        sizes,
        st.one_of(st.none(), st.integers(1, 70000)),
        st.integers(0, 2**32),
    ),
    st.tuples(
        st.just("stream"),
        st.booleans(),
        st.integers(0, 2000),
        st.integers(1, 700),
        st.integers(0, 2**32),
        st.booleans(),
    ),
    st.tuples(st.just("ping"), st.binary(max_size=125)),
)


def serialize(sender: Connection, script: list[Any]) -> tuple[bytes, list[tuple[str, Any]]]:
    """Run ``script`` on ``sender``; return the bytes and what the peer should see."""
    out: list[bytes] = []
    expected: list[tuple[str, Any]] = []
    for item in script:
        if item[0] == "ping":
            out.append(sender.send_ping(item[1]))
            expected.append(("ping", item[1]))
        elif item[0] == "message":
            _, is_binary, size, fragment_size, seed = item
            data = payload_of(size, is_binary, seed)
            if fragment_size is not None:
                fragment_size = max(fragment_size, size // 64 + 1)  # bounded frame count
            out.append(sender.send_message(data, is_binary, fragment_size=fragment_size))
            expected.append(("message", (data, is_binary)))
        else:
            _, is_binary, size, cut, seed, ping_between = item
            data = payload_of(size, is_binary, seed)
            sender.begin_message(is_binary)
            # first part as whole frames, the rest as one frame streamed in pieces
            half = size // 2
            for start in range(0, half, cut):
                out.append(sender.message_frame(data[start : min(start + cut, half)]))
                if ping_between:
                    out.append(sender.send_ping(b"mid"))
                    expected.append(("ping", b"mid"))
            out.append(sender.begin_message_frame(size - half))
            for start in range(half, size, cut):
                out.append(sender.message_frame_data(data[start : start + cut]))
            out.append(sender.end_message())
            expected.append(("message", (data, is_binary)))
    return b"".join(out), expected


def parse(receiver: Connection, chunks: list[bytes]) -> list[tuple[str, Any]]:
    got: list[tuple[str, Any]] = []
    parts: list[bytes] = []
    for chunk in chunks:
        receiver.receive_data(chunk)
        while (event := receiver.next_event()) is not None:
            if isinstance(event, MessageData):
                assert event.message_start == (not parts)
                parts.append(event.data)
                if event.message_end:
                    got.append(("message", (b"".join(parts), event.is_binary)))
                    parts = []
            elif isinstance(event, Ping):
                got.append(("ping", event.payload))
            else:
                raise AssertionError(f"unexpected event {event!r}")
    assert not parts
    return got


def cut(wire: bytes, points: list[int]) -> list[bytes]:
    bounds = sorted({p % (len(wire) + 1) for p in points} | {0, len(wire)})
    return [wire[a:b] for a, b in itertools.pairwise(bounds)]


@SETTINGS
@given(
    script=st.lists(items, max_size=8),
    client_to_server=st.booleans(),
    data=st.data(),
)
def test_round_trip(script: list[Any], client_to_server: bool, data: st.DataObject) -> None:
    sender = Connection(is_server=not client_to_server)
    receiver = Connection(is_server=client_to_server)
    wire, expected = serialize(sender, script)
    if len(wire) <= 2000 and data.draw(st.booleans(), label="one byte at a time"):
        chunks = [wire[i : i + 1] for i in range(len(wire))]
    else:
        points = data.draw(st.lists(st.integers(0, 2**32), max_size=20), label="cuts")
        chunks = cut(wire, points)
    assert b"".join(chunks) == wire
    assert parse(receiver, chunks) == expected
    assert receiver.failed is None


@SETTINGS
@given(script=st.lists(items, max_size=4), data=st.data())
def test_round_trip_then_close(script: list[Any], data: st.DataObject) -> None:
    client = Connection(is_server=False)
    server = Connection(is_server=True)
    wire, expected = serialize(client, script)
    code = data.draw(st.sampled_from([1000, 1001, 1011, 3000, 4999]), label="code")
    reason = data.draw(st.text(max_size=30), label="reason")
    wire += client.send_close(code, reason)
    chunks = cut(wire, data.draw(st.lists(st.integers(0, 2**32), max_size=10), label="cuts"))
    got: list[Event] = []
    for chunk in chunks:
        server.receive_data(chunk)
        got.extend(server.events())
    assert got[-1] == CloseReceived(code, reason)
    assert sum(isinstance(e, MessageData) and e.message_end for e in got) == sum(
        kind == "message" for kind, _ in expected
    )
    client.receive_data(server.acknowledge_close())
    assert client.events() == [CloseReceived(1000, "")]
    assert client.close_handshake_complete and server.close_handshake_complete


# ------------------------------------------------------------------ garbage


class ZlibCodec:
    """Enough of a permessage-deflate codec to reach the RSV1 code paths."""

    def __init__(self) -> None:
        self._d = zlib.decompressobj(wbits=-15)

    def start_compress_message(self) -> None:
        pass

    def compress_message_data(self, data: bytes) -> bytes:
        return data

    def end_compress_message(self) -> bytes:
        return b""

    def start_decompress_message(self) -> None:
        pass

    def decompress_message_data(self, data: bytes, max_length: int) -> bytes:
        return self._d.decompress(data)

    def end_decompress_message(self, max_length: int) -> bytes:
        return self._d.decompress(b"\x00\x00\xff\xff")


@st.composite
def plausible_frame(draw: st.DrawFn) -> bytes:
    """A frame with random header fields: often valid, often just wrong."""
    opcode = draw(st.sampled_from([0, 1, 2, 8, 9, 10, 3, 0xB]))
    fin = draw(st.booleans())
    rsv = draw(st.sampled_from([0, 0, 0, 4, 2, 1]))
    payload = draw(st.binary(max_size=200))
    if opcode == 8 and payload and draw(st.booleans()):
        payload = draw(st.sampled_from([b"\x03\xe8", b"\x03\xe8ok", b"\x03\xed", b"\x0f\xa0"]))
    mask = draw(st.one_of(st.none(), st.binary(min_size=4, max_size=4)))
    header = build_frame_header(opcode, len(payload), fin=fin, rsv=rsv, mask=mask)
    body = apply_mask(payload, mask) if mask is not None else payload
    if draw(st.integers(0, 9)) == 0:  # corrupt one byte somewhere
        frame = bytearray(header + body)
        frame[draw(st.integers(0, len(frame) - 1))] ^= draw(st.integers(1, 255))
        return bytes(frame)
    return header + body


garbage = st.one_of(
    st.binary(max_size=600),
    st.lists(plausible_frame(), max_size=8).map(b"".join),
    st.tuples(st.lists(plausible_frame(), max_size=4).map(b"".join), st.binary(max_size=50)).map(
        lambda t: t[0] + t[1]
    ),
)


def check_events(events: list[Event]) -> None:
    kinds = (MessageData, Ping, Pong, CloseReceived, ConnectionFailed)
    assert all(isinstance(e, kinds) for e in events)
    for i, event in enumerate(events):
        if isinstance(event, ConnectionFailed | CloseReceived):
            assert i == len(events) - 1, "an event after a failure or close"
    failures = [e for e in events if isinstance(e, ConnectionFailed)]
    for failure in failures:
        assert failure.code in (1002, 1007, 1009)


@SETTINGS
@given(
    wire=garbage,
    is_server=st.booleans(),
    lenient=st.booleans(),
    with_codec=st.booleans(),
    data=st.data(),
)
def test_garbage_never_raises(
    wire: bytes, is_server: bool, lenient: bool, with_codec: bool, data: st.DataObject
) -> None:
    conn = Connection(
        is_server=is_server,
        codec=ZlibCodec() if with_codec else None,
        # lenient: accept either masking, so more frames get past the first check
        require_incoming_mask=False if lenient else None,
        accept_incoming_mask=True if lenient else None,
        max_frame_size=data.draw(st.sampled_from([0, 100, 1 << 24]), label="max_frame"),
        max_message_size=data.draw(st.sampled_from([0, 150, 1 << 24]), label="max_msg"),
    )
    chunks = cut(wire, data.draw(st.lists(st.integers(0, 2**32), max_size=6), label="cuts"))
    events: list[Event] = []
    for chunk in chunks:
        conn.receive_data(chunk)
        events.extend(conn.events())
    check_events(events)
    # whatever happened, the connection can still be closed or failed
    if conn.close_received:
        conn.acknowledge_close()
    else:
        conn.fail(1002, "done")
    assert conn.next_event() is None


@SETTINGS
@given(buf=st.binary(max_size=20), pos=st.integers(0, 20))
def test_parse_header_garbage(buf: bytes, pos: int) -> None:
    try:
        header = parse_header(buf, pos)
    except ProtocolError as exc:
        assert exc.code == 1002
        return
    if header is not None:
        assert isinstance(header, FrameHeader)
        assert pos + header.size <= len(buf)
        assert header.opcode in (0, 1, 2, 8, 9, 10)
        assert header.length < 2**63
