"""Connection receive and send rules of RFC 6455 sections 5.x, at the byte level.

Closing is in test_connection_close.py, size limits in
test_connection_limits.py, compression framing in
test_connection_compression.py, generated inputs in
test_connection_hypothesis.py.
"""

from __future__ import annotations

import pytest

from wsproto_cb.core.connection import Connection, ConnectionState
from wsproto_cb.core.errors import InvalidStateError
from wsproto_cb.core.events import ConnectionFailed, Event, MessageData, Ping, Pong
from wsproto_cb.core.frames import build_frame, parse_header
from wsproto_cb.core.masking import apply_mask

RFC_MASK = bytes.fromhex("37fa213d")


def masked(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0) -> bytes:
    """A frame as a client sends it (with the RFC's example key)."""
    return build_frame(opcode, payload, fin=fin, rsv=rsv, mask=RFC_MASK)


def feed(conn: Connection, data: bytes) -> list[Event]:
    conn.receive_data(data)
    return conn.events()


def state(conn: Connection) -> ConnectionState:
    """The state, read through a call so that mypy does not narrow it between calls."""
    return conn.state


def failed_with(events: list[Event], code: int) -> bool:
    """Whether the last event is ConnectionFailed(code) (and the only failure)."""
    failures = [e for e in events if isinstance(e, ConnectionFailed)]
    return failures == events[-1:] and failures[0].code == code


def messages(events: list[Event]) -> list[tuple[bytes, bool]]:
    """Reassembled (payload, is_binary) of every complete message."""
    out: list[tuple[bytes, bool]] = []
    parts: list[bytes] = []
    for event in events:
        if isinstance(event, MessageData):
            assert event.message_start == (not parts)
            parts.append(event.data)
            if event.message_end:
                out.append((b"".join(parts), event.is_binary))
                parts = []
    assert not parts, "an unfinished message"
    return out


def split_frames(wire: bytes) -> list[tuple[int, int, bytes | None, bytes]]:
    """Parse a byte stream into (b0, b1-mask-bit, mask, unmasked payload) tuples."""
    frames = []
    pos = 0
    while pos < len(wire):
        header = parse_header(wire, pos)
        assert header is not None
        start = pos + header.size
        payload = wire[start : start + header.length]
        assert len(payload) == header.length
        if header.mask is not None:
            payload = apply_mask(payload, header.mask)
        frames.append((wire[pos], wire[pos + 1] & 0x80, header.mask, payload))
        pos = start + header.length
    return frames


# ------------------------------------------- RFC 6455 section 5.7, received


def test_rfc_client_receives_unmasked_hello() -> None:
    events = feed(Connection(is_server=False), bytes.fromhex("810548656c6c6f"))
    assert events == [MessageData(b"Hello", False, True, True, True, True, 5)]


def test_rfc_server_receives_masked_hello() -> None:
    events = feed(Connection(is_server=True), bytes.fromhex("818537fa213d7f9f4d5158"))
    assert events == [MessageData(b"Hello", False, True, True, True, True, 5)]


def test_rfc_client_receives_fragmented_text() -> None:
    events = feed(Connection(is_server=False), bytes.fromhex("010348656c80026c6f"))
    assert events == [
        MessageData(b"Hel", False, True, False, True, True, 3),
        MessageData(b"lo", False, False, True, True, True, 2),
    ]


def test_rfc_ping_and_masked_pong() -> None:
    assert feed(Connection(is_server=False), bytes.fromhex("890548656c6c6f")) == [Ping(b"Hello")]
    server = Connection(is_server=True)
    assert feed(server, bytes.fromhex("8a8537fa213d7f9f4d5158")) == [Pong(b"Hello")]


def test_rfc_256_byte_binary_received() -> None:
    data = bytes(range(256))
    events = feed(Connection(is_server=False), bytes.fromhex("827e0100") + data)
    assert events == [MessageData(data, True, True, True, True, True, 256)]


def test_rfc_64k_binary_received() -> None:
    data = bytes(range(256)) * 256
    events = feed(Connection(is_server=False), bytes.fromhex("827f0000000000010000") + data)
    assert messages(events) == [(data, True)]
    assert events[0].frame_length == 65536  # type: ignore[union-attr]


# --------------------------------------------- RFC 6455 section 5.7, sent


def test_rfc_server_sends_exact_bytes() -> None:
    server = Connection(is_server=True)
    assert server.send_message(b"Hello") == bytes.fromhex("810548656c6c6f")
    assert server.send_message(b"Hello", fragment_size=3) == bytes.fromhex("010348656c80026c6f")
    assert server.send_ping(b"Hello") == bytes.fromhex("890548656c6c6f")
    data = bytes(range(256))
    assert server.send_message(data, is_binary=True) == bytes.fromhex("827e0100") + data
    big = bytes(65536)
    assert server.send_message(big, True) == bytes.fromhex("827f0000000000010000") + big


def test_rfc_client_sends_masked_frames() -> None:
    client = Connection(is_server=False)
    wire = client.send_message(b"Hello")
    assert wire[:2] == b"\x81\x85" and len(wire) == 11
    assert apply_mask(wire[6:], wire[2:6]) == b"Hello"
    wire = client.send_pong(b"Hello")
    assert wire[:2] == b"\x8a\x85" and apply_mask(wire[6:], wire[2:6]) == b"Hello"
    wire = client.send_message(bytes(256), is_binary=True)
    assert wire[:4] == bytes.fromhex("82fe0100") and len(wire) == 4 + 4 + 256
    assert apply_mask(wire[8:], wire[4:8]) == bytes(256)
    wire = client.send_message(bytes(65536), is_binary=True)
    assert wire[:10] == bytes.fromhex("82ff0000000000010000")
    assert apply_mask(wire[14:], wire[10:14]) == bytes(65536)


def test_client_uses_a_fresh_key_per_frame() -> None:
    client = Connection(is_server=False)
    keys = {client.send_message(b"x")[2:6] for _ in range(50)}
    assert len(keys) > 45


# ------------------------------------------------------------------ masking


def test_server_fails_unmasked_frames() -> None:
    for wire in (bytes.fromhex("810548656c6c6f"), bytes.fromhex("890548656c6c6f")):
        assert failed_with(feed(Connection(is_server=True), wire), 1002)


def test_server_may_accept_unmasked_frames() -> None:
    server = Connection(is_server=True, require_incoming_mask=False)
    events = feed(server, bytes.fromhex("810548656c6c6f") + bytes.fromhex("818537fa213d7f9f4d5158"))
    assert messages(events) == [(b"Hello", False), (b"Hello", False)]


def test_client_fails_masked_frames() -> None:
    for wire in (masked(0x1, b"Hello"), masked(0x9, b"")):
        assert failed_with(feed(Connection(is_server=False), wire), 1002)


def test_client_may_accept_masked_frames() -> None:
    client = Connection(is_server=False, accept_incoming_mask=True)
    events = feed(client, masked(0x1, b"Hello") + masked(0x9, b"hi"))
    assert events == [MessageData(b"Hello", False, True, True, True, True, 5), Ping(b"hi")]


def test_apply_outgoing_mask_false_sets_bit_but_sends_payload_clear() -> None:
    client = Connection(is_server=False, apply_outgoing_mask=False)
    wire = client.send_message(b"Hello")
    assert wire[0] == 0x81 and wire[1] == 0x85 and wire[6:] == b"Hello"
    wire = client.send_ping(b"hi")
    assert wire[:2] == b"\x89\x82" and wire[6:] == b"hi"
    client.begin_message(is_binary=True)
    header = client.begin_message_frame(4)
    assert header[:2] == b"\x02\x84" and len(header) == 6
    assert client.message_frame_data(b"ab") + client.message_frame_data(b"cd") == b"abcd"


def test_mask_outgoing_false_sends_unmasked() -> None:
    client = Connection(is_server=False, mask_outgoing=False)
    assert client.send_message(b"Hello") == bytes.fromhex("810548656c6c6f")


# ------------------------------------------------------- header-level rules


@pytest.mark.parametrize("rsv_bits", [0x40, 0x20, 0x10, 0x70])
@pytest.mark.parametrize("opcode", [0x1, 0x2, 0x9])
def test_rsv_bits_without_extension_fail(rsv_bits: int, opcode: int) -> None:
    wire = bytes((0x80 | rsv_bits | opcode, 0x80)) + RFC_MASK
    assert failed_with(feed(Connection(is_server=True), wire), 1002)


@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
def test_reserved_opcodes_fail(opcode: int) -> None:
    assert failed_with(feed(Connection(is_server=True), masked(opcode, b"x")), 1002)
    assert failed_with(feed(Connection(is_server=False), bytes((0x80 | opcode, 0))), 1002)


@pytest.mark.parametrize("opcode", [0x8, 0x9, 0xA])
def test_fragmented_control_frames_fail(opcode: int) -> None:
    wire = masked(opcode, b"", fin=False)
    assert failed_with(feed(Connection(is_server=True), wire), 1002)


@pytest.mark.parametrize("opcode", [0x8, 0x9, 0xA])
def test_control_frames_over_125_bytes_fail(opcode: int) -> None:
    assert failed_with(feed(Connection(is_server=True), masked(opcode, bytes(126))), 1002)


def test_control_frame_of_125_bytes_is_fine() -> None:
    assert feed(Connection(is_server=True), masked(0x9, bytes(125))) == [Ping(bytes(125))]


@pytest.mark.parametrize("wire", ["817e0005", "817f0000000000000005", "817f8000000000000000"])
def test_bad_length_encodings_fail_the_connection(wire: str) -> None:
    assert failed_with(feed(Connection(is_server=False), bytes.fromhex(wire)), 1002)


# ------------------------------------------------------------ fragmentation


def test_continuation_without_message_fails() -> None:
    assert failed_with(feed(Connection(is_server=True), masked(0x0, b"x")), 1002)
    server = Connection(is_server=True)
    events = feed(server, masked(0x1, b"done") + masked(0x0, b"x"))
    assert messages(events[:1]) == [(b"done", False)]
    assert failed_with(events, 1002)


@pytest.mark.parametrize("opcode", [0x1, 0x2])
def test_new_data_frame_inside_fragmented_message_fails(opcode: int) -> None:
    wire = masked(0x2, b"a", fin=False) + masked(opcode, b"b")
    events = feed(Connection(is_server=True), wire)
    assert isinstance(events[0], MessageData) and events[0].data == b"a"
    assert failed_with(events, 1002)


def test_control_frames_interleaved_in_order() -> None:
    wire = (
        masked(0x1, b"He", fin=False)
        + masked(0x9, b"p1")
        + masked(0x0, b"ll", fin=False)
        + masked(0xA, b"p2")
        + masked(0x9, b"p3")
        + masked(0x0, b"o")
    )
    events = feed(Connection(is_server=True), wire)
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["MessageData", "Ping", "MessageData", "Pong", "Ping", "MessageData"]
    assert events[1] == Ping(b"p1") and events[3] == Pong(b"p2") and events[4] == Ping(b"p3")
    assert messages(events) == [(b"Hello", False)]
    flags = [(e.message_start, e.message_end) for e in events if isinstance(e, MessageData)]
    assert flags == [(True, False), (False, False), (False, True)]


def test_empty_fragments_and_empty_messages() -> None:
    wire = masked(0x2, b"", fin=False) + masked(0x0, b"", fin=False) + masked(0x0, b"")
    wire += masked(0x1, b"")
    events = feed(Connection(is_server=True), wire)
    assert messages(events) == [(b"", True), (b"", False)]
    assert len(events) == 4


def test_frame_split_at_every_byte_is_streamed() -> None:
    data = bytes(range(256)) + bytes(44)
    wire = masked(0x2, data) + masked(0x9, b"ping")
    server = Connection(is_server=True)
    events: list[Event] = []
    for i in range(len(wire)):
        events += feed(server, wire[i : i + 1])
    data_events = [e for e in events if isinstance(e, MessageData)]
    assert b"".join(e.data for e in data_events) == data
    assert data_events[0].frame_start and not data_events[0].frame_end
    assert data_events[-1].frame_end and data_events[-1].message_end
    assert all(e.frame_length == 300 for e in data_events)
    assert sum(e.message_start for e in data_events) == 1
    assert events[-1] == Ping(b"ping")


def test_next_event_returns_none_until_data_arrives() -> None:
    server = Connection(is_server=True)
    wire = masked(0x1, b"Hello")
    assert server.next_event() is None
    server.receive_data(wire[:5])  # header and part of the key
    assert server.next_event() is None
    server.receive_data(wire[5:])
    assert server.next_event() == MessageData(b"Hello", False, True, True, True, True, 5)
    assert server.next_event() is None


def test_many_frames_in_one_read_are_pulled_one_at_a_time() -> None:
    server = Connection(is_server=True)
    server.receive_data(b"".join(masked(0x2, bytes([i])) for i in range(100)))
    out = []
    while (event := server.next_event()) is not None:
        out.append(event)
        server.receive_data(masked(0x9, b"late") if len(out) == 50 else b"")
    assert [e.data for e in out[:100]] == [bytes([i]) for i in range(100)]  # type: ignore[union-attr]
    assert out[100:] == [Ping(b"late")]


# -------------------------------------------------------------------- UTF-8


def test_invalid_utf8_in_one_frame_fails_with_1007() -> None:
    assert failed_with(feed(Connection(is_server=True), masked(0x1, b"ok\xff")), 1007)


def test_invalid_utf8_fails_fast_in_first_fragment() -> None:
    server = Connection(is_server=True)
    # the final fragment never arrives: the failure must not wait for it
    events = feed(server, masked(0x1, b"\xce\xba\xce\xb5\xf4\x90\x80\x80", fin=False))
    assert events == [ConnectionFailed(1007, events[0].reason)]  # type: ignore[union-attr]


def test_invalid_utf8_fails_fast_inside_a_frame() -> None:
    wire = masked(0x1, b"\xce\xba" + b"\xc0\xaf" + bytes(96))
    server = Connection(is_server=True)
    # only the header and the first 4 payload bytes have arrived
    assert failed_with(feed(server, wire[:10]), 1007)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (b"\xce\xba\xf4", b"\x90\x80\x80"),  # above U+10FFFF
        (b"\xed", b"\xa0\x80"),  # a UTF-16 surrogate
        (b"\xe0", b"\x80\x80"),  # overlong
        (b"\xe2\x82", b"A"),  # a sequence cut short
    ],
)
def test_invalid_sequence_split_across_fragments(first: bytes, second: bytes) -> None:
    server = Connection(is_server=True)
    events = feed(server, masked(0x1, first, fin=False))
    assert [type(e) for e in events] == [MessageData]
    # the second fragment is not final: the error is found as soon as it arrives
    assert failed_with(feed(server, masked(0x0, second, fin=False)), 1007)


def test_surrogate_prefix_at_fragment_end_fails_fast() -> None:
    # ED A0..BF can only start a surrogate: no continuation makes it valid
    server = Connection(is_server=True)
    assert failed_with(feed(server, masked(0x1, b"ab\xed\xa0", fin=False)), 1007)
    server = Connection(is_server=True)
    events = feed(server, masked(0x1, b"ab\xed", fin=False))
    assert [type(e) for e in events] == [MessageData]
    assert failed_with(feed(server, masked(0x0, b"\xa0", fin=False)), 1007)


def test_valid_prefixes_at_fragment_end_are_kept() -> None:
    for prefix in (b"\xed\x9f", b"\xf4\x8f\xbf", b"\xf0\x90", b"\xe2\x82"):
        server = Connection(is_server=True)
        events = feed(server, masked(0x1, prefix, fin=False))
        assert [type(e) for e in events] == [MessageData], prefix


@pytest.mark.parametrize("tail", [b"\xce", b"\xe2\x82", b"\xf0\x9f\x98"])
def test_truncated_sequence_at_message_end_fails(tail: bytes) -> None:
    assert failed_with(feed(Connection(is_server=True), masked(0x1, b"ok" + tail)), 1007)
    server = Connection(is_server=True)
    events = feed(server, masked(0x1, b"ok", fin=False) + masked(0x0, tail))
    assert failed_with(events, 1007)


def test_valid_multibyte_split_across_fragments() -> None:
    text = "κόσμε €𝄞".encode()
    wire = b"".join(
        masked(0x1 if i == 0 else 0x0, text[i : i + 1], fin=i == len(text) - 1)
        for i in range(len(text))
    )
    events = feed(Connection(is_server=True), wire)
    assert messages(events) == [(text, False)]


def test_utf8_state_resets_between_messages() -> None:
    server = Connection(is_server=True)
    events = feed(server, masked(0x1, "é".encode()) + masked(0x2, b"\xff") + masked(0x1, b"a"))
    assert messages(events) == [("é".encode(), False), (b"\xff", True), (b"a", False)]


def test_validate_utf8_false_delivers_invalid_text() -> None:
    server = Connection(is_server=True, validate_utf8=False)
    assert messages(feed(server, masked(0x1, b"\xff\xfe"))) == [(b"\xff\xfe", False)]


# ----------------------------------------------------------- event ordering


def test_valid_message_then_broken_frame_in_one_read() -> None:
    server = Connection(is_server=True)
    wire = masked(0x1, b"first") + masked(0x9, b"p") + masked(0x5, b"") + masked(0x1, b"never")
    server.receive_data(wire)
    assert server.next_event() == MessageData(b"first", False, True, True, True, True, 5)
    assert server.next_event() == Ping(b"p")
    event = server.next_event()
    assert isinstance(event, ConnectionFailed) and event.code == 1002
    assert server.next_event() is None
    assert server.failed is not None and server.failed.code == 1002
    server.receive_data(masked(0x1, b"ignored"))
    assert server.next_event() is None


def test_failure_is_reported_once_and_connection_can_then_be_failed() -> None:
    server = Connection(is_server=True)
    events = feed(server, b"\x81\x05Hello")
    assert failed_with(events, 1002)
    wire = server.fail(1002, "unmasked")
    assert wire == b"\x88\x0a\x03\xeaunmasked"
    assert state(server) is ConnectionState.CLOSED
    assert not server.close_handshake_complete


# ------------------------------------------------------------------- sending


def test_fragment_size_splits_messages() -> None:
    server = Connection(is_server=True)
    wire = server.send_message(b"abcdefg", is_binary=True, fragment_size=3)
    assert wire == b"\x02\x03abc" + b"\x00\x03def" + b"\x80\x01g"
    assert server.send_message(b"abcdef", fragment_size=3) == b"\x01\x03abc\x80\x03def"
    assert server.send_message(b"abc", fragment_size=3) == b"\x81\x03abc"
    assert server.send_message(b"", fragment_size=3) == b"\x81\x00"
    with pytest.raises(ValueError):
        server.send_message(b"abc", fragment_size=0)


def test_client_fragments_are_each_masked_and_reassemble() -> None:
    client = Connection(is_server=False)
    data = bytes(range(200))
    wire = client.send_message(data, is_binary=True, fragment_size=64)
    frames = split_frames(wire)
    assert [f[0] for f in frames] == [0x02, 0x00, 0x00, 0x80]
    assert all(f[1] for f in frames) and len({f[2] for f in frames}) == 4
    assert b"".join(f[3] for f in frames) == data
    assert messages(feed(Connection(is_server=True), wire)) == [(data, True)]


def test_streaming_message_frames() -> None:
    client = Connection(is_server=False)
    client.begin_message()
    wire = client.message_frame("κό".encode())
    wire += client.message_frame(b"")
    wire += client.message_frame("σμε".encode())
    wire += client.end_message()
    frames = split_frames(wire)
    assert [f[0] for f in frames] == [0x01, 0x00, 0x00, 0x80]
    assert frames[-1][3] == b""
    assert messages(feed(Connection(is_server=True), wire)) == [("κόσμε".encode(), False)]


def test_streaming_message_frame_with_fin() -> None:
    server = Connection(is_server=True)
    server.begin_message(is_binary=True)
    assert server.message_frame(b"ab") + server.message_frame(b"c", fin=True) == (
        b"\x02\x02ab\x80\x01c"
    )
    with pytest.raises(InvalidStateError):
        server.message_frame(b"x")  # the message has ended
    assert server.send_message(b"next") == b"\x81\x04next"


@pytest.mark.parametrize("chunks", [[3, 3, 4], [1] * 10, [10], [0, 5, 0, 5], [2, 7, 1]])
def test_streaming_frame_data_keeps_mask_phase(chunks: list[int]) -> None:
    client = Connection(is_server=False)
    payload = b"0123456789"
    client.begin_message(is_binary=True)
    wire = client.begin_message_frame(10)
    pos = 0
    for n in chunks:
        wire += client.message_frame_data(payload[pos : pos + n])
        pos += n
    wire += client.begin_message_frame(3) + client.message_frame_data(b"abc")
    wire += client.end_message()
    frames = split_frames(wire)
    assert [f[0] for f in frames] == [0x02, 0x00, 0x80]
    assert [f[3] for f in frames] == [payload, b"abc", b""]
    assert messages(feed(Connection(is_server=True), wire)) == [(payload + b"abc", True)]


def test_streaming_frame_server_side_exact() -> None:
    server = Connection(is_server=True)
    server.begin_message()
    wire = server.begin_message_frame(300) + server.message_frame_data(b"a" * 300)
    assert wire == b"\x01\x7e\x01\x2c" + b"a" * 300
    assert server.end_message() == b"\x80\x00"


def test_streaming_misuse_raises() -> None:
    client = Connection(is_server=False)
    with pytest.raises(InvalidStateError):
        client.message_frame(b"x")
    with pytest.raises(InvalidStateError):
        client.begin_message_frame(1)
    with pytest.raises(InvalidStateError):
        client.end_message()
    client.begin_message()
    with pytest.raises(InvalidStateError):
        client.begin_message()
    with pytest.raises(InvalidStateError):
        client.send_message(b"x")
    client.begin_message_frame(4)
    with pytest.raises(ValueError):
        client.message_frame_data(b"12345")
    with pytest.raises(InvalidStateError):
        client.message_frame(b"x")  # 4 payload bytes are still due
    with pytest.raises(InvalidStateError):
        client.send_ping(b"x")  # a control frame inside a payload corrupts the stream
    with pytest.raises(InvalidStateError):
        client.send_close(1000)
    client.message_frame_data(b"1234")
    with pytest.raises(ValueError):
        client.begin_message_frame(-1)
    client.send_ping(b"between frames is fine")
    client.end_message()
    client.send_message(b"after")


def test_ping_and_pong_payload_limits() -> None:
    server = Connection(is_server=True)
    assert server.send_ping(bytes(125))[:2] == b"\x89\x7d"
    assert server.send_pong(b"") == b"\x8a\x00"
    with pytest.raises(ValueError):
        server.send_ping(bytes(126))
    with pytest.raises(ValueError):
        server.send_pong(bytes(126))


def test_client_and_server_talk_both_ways() -> None:
    client = Connection(is_server=False)
    server = Connection(is_server=True)
    events = feed(server, client.send_message(b"hi") + client.send_ping(b"?"))
    assert messages(events) == [(b"hi", False)] and events[1] == Ping(b"?")
    reply = server.send_pong(b"?") + server.send_message(b"\x00\x01", is_binary=True)
    events = feed(client, reply)
    assert events[0] == Pong(b"?") and messages(events[1:]) == [(b"\x00\x01", True)]


@pytest.mark.parametrize("size", [2047, 2048, 2049, 5000, 70000])
@pytest.mark.parametrize("is_server", [True, False])
def test_large_frames_across_reads(size: int, is_server: bool) -> None:
    # payloads are sliced or read through a memoryview depending on size and
    # on whether the receive buffer is the caller's bytes or our bytearray
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    frame = masked(0x2, data) if is_server else build_frame(0x2, data)
    wire = frame + frame
    conn = Connection(is_server=is_server)
    events: list[Event] = []
    for cut in (1, 3, 7, size // 3, size + 5, len(wire)):
        events += feed(conn, wire[:cut])
        wire = wire[cut:]
    assert messages(events) == [(data, True), (data, True)]


def test_frame_bytes_due_counts_down_to_the_largest_frame() -> None:
    server = Connection(True)
    server.begin_message(True)
    header = server.begin_message_frame(2**63 - 1)
    assert header == b"\x02\x7f" + (2**63 - 1).to_bytes(8, "big")
    assert server.frame_bytes_due == 2**63 - 1
    assert server.message_frame_data(b"abc") == b"abc"
    assert server.frame_bytes_due == 2**63 - 4
    with pytest.raises(ValueError, match="2\\*\\*63-1"):
        Connection(True).begin_message_frame(2**63)
    with pytest.raises(ValueError, match="2\\*\\*63-1"):
        Connection(True).begin_message_frame(-1)
