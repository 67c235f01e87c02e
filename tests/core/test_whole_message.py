"""The per-message fast path: ``read_message`` and ``frame_bytes``, C and Python.

Every case runs against the pure-Python reference and the C twin in
``wsproto_cb.core._wire`` (skipped when it is not built or disabled).  The
reader may only take a whole, plain, valid one-frame message; for anything
else it must decline (None) so the connection's parser decides.  The last
tests check that a connection reading through it delivers exactly what the
parser alone delivers, close codes included.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wsproto_cb.core import connection as connection_module
from wsproto_cb.core import frames, whole_message
from wsproto_cb.core.connection import Connection
from wsproto_cb.core.events import ConnectionFailed, MessageData
from wsproto_cb.core.frames import frame_bytes_python
from wsproto_cb.core.whole_message import (
    MASK_FORBIDDEN,
    MASK_OPTIONAL,
    MASK_REQUIRED,
    read_message_python,
)

MASK = bytes.fromhex("37fa213d")
NOT_BUILT = "C extension wsproto_cb.core._wire not built or disabled"

READERS = [
    pytest.param(read_message_python, id="python"),
    pytest.param(
        whole_message.read_message_c,
        id="c",
        marks=pytest.mark.skipif(whole_message.read_message_c is None, reason=NOT_BUILT),
    ),
]
BUILDERS = [
    pytest.param(frame_bytes_python, id="python"),
    pytest.param(
        frames.frame_bytes_c,
        id="c",
        marks=pytest.mark.skipif(frames.frame_bytes_c is None, reason=NOT_BUILT),
    ),
]
SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def frame(
    opcode: int, payload: bytes, mask: bytes | None = MASK, first: int | None = None
) -> bytes:
    """A frame built by the reference; ``first`` replaces its first byte."""
    raw = frame_bytes_python(opcode, payload, True, 0, mask)
    return raw if first is None else bytes([first]) + raw[1:]


def server_read(read: Any, buf: bytes | bytearray, pos: int = 0, **limits: int) -> Any:
    """``read`` with a server's rules: masked frames, 1 MiB limits, UTF-8 checked."""
    return read(
        buf,
        pos,
        MASK_REQUIRED,
        limits.get("max_frame", 1 << 20),
        limits.get("max_message", 1 << 20),
        True,
    )


# ------------------------------------------------------------ read_message


@pytest.mark.parametrize("read", READERS)
@pytest.mark.parametrize("length", [0, 1, 125, 126, 65535, 65536])
@pytest.mark.parametrize("opcode", [0x1, 0x2])
def test_whole_frame_read_at_each_length(read: Any, length: int, opcode: int) -> None:
    payload = b"a" * length
    wire = frame(opcode, payload)
    assert server_read(read, wire) == (payload, opcode == 0x2, len(wire))


@pytest.mark.parametrize("read", READERS)
@pytest.mark.parametrize("length", [0, 5, 125, 126, 65536])
def test_every_prefix_declines(read: Any, length: int) -> None:
    """Split anywhere before the last byte, the frame is not taken (the parser streams it)."""
    wire = frame(0x2, bytes(range(256)) * (length // 256) + bytes(length % 256))
    cuts = range(len(wire)) if len(wire) < 300 else [*range(20), len(wire) - 1]
    for cut in cuts:
        assert server_read(read, wire[:cut]) is None, cut
    assert server_read(read, wire) is not None


@pytest.mark.parametrize("read", READERS)
def test_reads_at_pos_in_bytearray_and_leaves_the_rest(read: Any) -> None:
    first, second = frame(0x1, b"one"), frame(0x2, b"\x00two")
    buf = bytearray(b"junk" + first + second + b"\x81")
    found = server_read(read, buf, 4)
    assert found == (b"one", False, 4 + len(first))
    assert server_read(read, buf, found[2]) == (b"\x00two", True, 4 + len(first) + len(second))
    assert server_read(read, buf, len(buf) - 1) is None
    assert server_read(read, buf, len(buf)) is None
    with pytest.raises(ValueError):
        server_read(read, buf, len(buf) + 1)


@pytest.mark.parametrize("read", READERS)
@pytest.mark.parametrize(
    ("masked", "rule", "taken"),
    [
        (True, MASK_REQUIRED, True),
        (False, MASK_REQUIRED, False),
        (True, MASK_FORBIDDEN, False),
        (False, MASK_FORBIDDEN, True),
        (True, MASK_OPTIONAL, True),
        (False, MASK_OPTIONAL, True),
    ],
)
def test_mask_rules(read: Any, masked: bool, rule: int, taken: bool) -> None:
    wire = frame(0x1, b"Hello", MASK if masked else None)
    found = read(wire, 0, rule, 0, 0, True)
    assert found == ((b"Hello", False, len(wire)) if taken else None)


@pytest.mark.parametrize("read", READERS)
@pytest.mark.parametrize(
    ("first", "why"),
    [
        (0x01, "text, not final"),
        (0x02, "binary, not final"),
        (0x80, "continuation"),
        (0x00, "continuation, not final"),
        (0x88, "close"),
        (0x89, "ping"),
        (0x8A, "pong"),
        (0xC1, "RSV1 (compressed)"),
        (0xA1, "RSV2"),
        (0x91, "RSV3"),
        (0x83, "reserved data opcode"),
        (0x8B, "reserved control opcode"),
    ],
)
def test_declines_everything_but_a_final_plain_data_frame(read: Any, first: int, why: str) -> None:
    assert server_read(read, frame(0x1, b"x", first=first)) is None, why


@pytest.mark.parametrize("read", READERS)
@pytest.mark.parametrize(
    "header",
    [
        bytes([0x82, 0xFE, 0x00, 0x7D]),  # 125 in the 16-bit form
        bytes([0x82, 0xFF]) + (0xFFFF).to_bytes(8, "big"),  # 65535 in the 64-bit form
        bytes([0x82, 0xFF]) + (1 << 63).to_bytes(8, "big"),  # top bit set
    ],
)
def test_declines_non_minimal_or_invalid_lengths(read: Any, header: bytes) -> None:
    length = int.from_bytes(header[2:], "big") & 0xFFFF
    wire = header + MASK + bytes(length)
    assert server_read(read, wire) is None
    conn = Connection(is_server=True)
    conn.receive_data(wire)
    event = conn.next_event()
    assert isinstance(event, ConnectionFailed) and event.code == 1002


@pytest.mark.parametrize("read", READERS)
def test_declines_frames_over_the_limits(read: Any) -> None:
    wire = frame(0x2, bytes(100))
    assert server_read(read, wire, max_frame=100, max_message=100) is not None
    assert server_read(read, wire, max_frame=99, max_message=0) is None
    assert server_read(read, wire, max_frame=0, max_message=99) is None
    assert server_read(read, wire, max_frame=0, max_message=0) is not None


@pytest.mark.parametrize("read", READERS)
@pytest.mark.parametrize(
    "text",
    [
        b"\xff",  # never valid
        b"\x80abc",  # continuation first
        b"abc\xc3",  # truncated at the end
        b"abcdefgh\xe2\x82",  # truncated after an ASCII run
        b"\xc0\xaf",  # overlong 2-byte
        b"\xe0\x80\xaf",  # overlong 3-byte
        b"\xf0\x80\x80\xaf",  # overlong 4-byte
        b"\xed\xa0\x80",  # UTF-16 surrogate
        b"\xf4\x90\x80\x80",  # above U+10FFFF
        b"\xf5\x80\x80\x80",
        b"abcdefg\xce\xba\xe1\xbd",  # valid, then a truncated sequence
    ],
)
def test_declines_invalid_utf8_in_text_only(read: Any, text: bytes) -> None:
    assert server_read(read, frame(0x1, text)) is None
    assert server_read(read, frame(0x2, text)) == (text, True, len(frame(0x2, text)))
    unchecked = read(frame(0x1, text), 0, MASK_REQUIRED, 0, 0, False)
    assert unchecked is not None and unchecked[0] == text


@pytest.mark.parametrize("read", READERS)
def test_valid_utf8_at_every_boundary(read: Any) -> None:
    text = "a\u03ba\u1f79\u03c3\U0001d11e\u20ac".encode()
    for pad in range(9):  # every alignment against the 8-byte ASCII scan
        payload = b"x" * pad + text + b"y" * pad
        assert server_read(read, frame(0x1, payload))[0] == payload


# ---------------------------------------------------------- C == Python


@pytest.mark.skipif(whole_message.read_message_c is None, reason=NOT_BUILT)
@SETTINGS
@given(data=st.binary(max_size=64))
def test_c_utf8_check_matches_the_decoder(data: bytes) -> None:
    assert whole_message.read_message_c is not None
    wire = frame(0x1, data)
    c = server_read(whole_message.read_message_c, wire)
    assert c == server_read(read_message_python, wire)
    try:
        data.decode("utf-8")
        assert c is not None
    except UnicodeDecodeError:
        assert c is None


frame_specs = st.tuples(
    st.sampled_from([0x01, 0x02, 0x81, 0x82, 0x80, 0x00, 0x88, 0x89, 0xC1, 0x83, 0x91]),
    st.booleans(),  # masked
    st.one_of(st.binary(max_size=40), st.sampled_from([b"\xce\xba" * 70, bytes(300)])),
)


@pytest.mark.skipif(whole_message.read_message_c is None, reason=NOT_BUILT)
@SETTINGS
@given(
    specs=st.lists(frame_specs, max_size=6),
    tail=st.binary(max_size=12),
    rule=st.sampled_from([MASK_FORBIDDEN, MASK_REQUIRED, MASK_OPTIONAL]),
    max_frame=st.sampled_from([0, 10, 200, -1]),
    max_message=st.sampled_from([0, 10, 200, -1]),
    check_utf8=st.booleans(),
)
def test_c_matches_python_on_random_streams(
    specs: list[tuple[int, bool, bytes]],
    tail: bytes,
    rule: int,
    max_frame: int,
    max_message: int,
    check_utf8: bool,
) -> None:
    c = whole_message.read_message_c
    assert c is not None
    buf = b"".join(frame(0, p, MASK if m else None, first=f) for f, m, p in specs) + tail
    for source in (buf, bytearray(buf)):
        for pos in range(len(buf) + 1):
            args = (source, pos, rule, max_frame, max_message, check_utf8)
            assert c(*args) == read_message_python(*args), pos


# ------------------------------------------------------------ frame_bytes


@pytest.mark.parametrize("build", BUILDERS)
def test_rfc_examples(build: Any) -> None:
    assert build(0x1, b"Hello").hex() == "810548656c6c6f"
    assert build(0x1, b"Hello", True, 0, MASK).hex() == "818537fa213d7f9f4d5158"
    assert build(0x1, b"Hel", False).hex() == "010348656c"
    assert build(0xA, b"Hello", True, 0, MASK).hex() == "8a8537fa213d7f9f4d5158"
    assert build(0x2, b"", True, 4).hex() == "c200"


@pytest.mark.parametrize("build", BUILDERS)
@pytest.mark.parametrize("length", [0, 125, 126, 65535, 65536])
def test_length_encodings(build: Any, length: int) -> None:
    wire = build(0x2, bytes(length))
    header = {0: 2, 125: 2, 126: 4, 65535: 4, 65536: 10}[length]
    assert len(wire) == header + length
    assert server_read(read_message_python, wire, max_frame=0, max_message=0) is None  # unmasked
    found = read_message_python(wire, 0, MASK_FORBIDDEN, 0, 0, True)
    assert found == (bytes(length), True, len(wire))


@pytest.mark.parametrize("build", BUILDERS)
def test_mask_must_be_four_bytes(build: Any) -> None:
    with pytest.raises(ValueError):
        build(0x1, b"x", True, 0, b"abc")


@pytest.mark.skipif(frames.frame_bytes_c is None, reason=NOT_BUILT)
@SETTINGS
@given(
    opcode=st.sampled_from([0x0, 0x1, 0x2, 0x8, 0x9, 0xA]),
    payload=st.one_of(st.binary(max_size=300), st.sampled_from([bytes(65535), bytes(65536)])),
    fin=st.booleans(),
    rsv=st.integers(0, 7),
    mask=st.one_of(st.none(), st.binary(min_size=4, max_size=4)),
    kind=st.sampled_from([bytes, bytearray, memoryview]),
)
def test_c_builds_the_same_frames(
    opcode: int, payload: bytes, fin: bool, rsv: int, mask: bytes | None, kind: Any
) -> None:
    assert frames.frame_bytes_c is not None
    args = (opcode, kind(payload), fin, rsv, mask)
    assert frames.frame_bytes_c(*args) == frame_bytes_python(*args)


# --------------------------------------- a connection reading through it


def _deliveries(conn: Connection, data: bytes, chunk: int, fast: bool) -> list[Any]:
    """Whole messages and the failure code, reading ``data`` in ``chunk``-byte reads."""
    out: list[Any] = []
    parts: list[bytes] = []
    for start in range(0, len(data), chunk):
        conn.receive_data(data[start : start + chunk])
        while True:
            found = conn.next_message() if fast else None
            if found is not None:
                out.append((found[0], found[1]))
                continue
            event = conn.next_event()
            if event is None:
                break
            if isinstance(event, MessageData):
                parts.append(event.data)
                if event.message_end:
                    out.append((b"".join(parts), event.is_binary))
                    parts = []
            elif isinstance(event, ConnectionFailed):
                out.append(("failed", event.code))
            else:
                out.append(event)
    return out


# (each implementation in a loop: pytest-twisted cannot run a parametrised @given test)
_BUILT_READERS = [read_message_python] + [
    r for r in (whole_message.read_message_c,) if r is not None
]


@SETTINGS
@given(
    specs=st.lists(frame_specs, max_size=6),
    tail=st.binary(max_size=12),
    chunk=st.sampled_from([1, 3, 7, 64, 1 << 20]),
    limit=st.sampled_from([0, 10, 200]),
)
def test_connection_delivers_the_same_with_and_without_it(
    specs: list[tuple[int, bool, bytes]],
    tail: bytes,
    chunk: int,
    limit: int,
) -> None:
    data = b"".join(frame(0, p, MASK if m else None, first=f) for f, m, p in specs) + tail
    slow = _deliveries(
        Connection(True, max_frame_size=limit, max_message_size=limit), data, chunk, False
    )
    for read in _BUILT_READERS:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(connection_module, "read_message", read)
            fast = _deliveries(
                Connection(True, max_frame_size=limit, max_message_size=limit), data, chunk, True
            )
        assert fast == slow, read


def test_connection_uses_it_only_between_messages() -> None:
    conn = Connection(is_server=True)
    conn.receive_data(frame(0x1, b"He", first=0x01) + frame(0x1, b"llo", first=0x80))
    assert conn.next_message() is None  # a fragment: the parser's
    first = conn.next_event()
    assert isinstance(first, MessageData) and not first.message_end
    conn.receive_data(frame(0x1, b"whole"))
    assert conn.next_message() is None  # the continuation is next, not "whole"
    last = conn.next_event()
    assert isinstance(last, MessageData) and last.message_end and last.data == b"llo"
    found = conn.next_message()
    assert found is not None and found[:2] == (b"whole", False)
    assert conn.next_message() is None and conn.next_event() is None
