"""Size limits: max_frame_size, max_message_size and a message's wire size (close code 1009)."""

from __future__ import annotations

import pytest

from wsproto_cb.core.connection import (
    DEFAULT_MAX_FRAME_SIZE,
    DEFAULT_MAX_MESSAGE_SIZE,
    WIRE_SIZE_FACTOR,
    Connection,
)
from wsproto_cb.core.deflate import PerMessageDeflate
from wsproto_cb.core.events import ConnectionFailed, Event, MessageData
from wsproto_cb.core.frames import build_frame, build_frame_header

RFC_MASK = bytes.fromhex("37fa213d")


def masked(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    return build_frame(opcode, payload, fin=fin, mask=RFC_MASK)


def masked_header(opcode: int, length: int, *, fin: bool = True) -> bytes:
    return build_frame_header(opcode, length, fin=fin, mask=RFC_MASK)


def feed(conn: Connection, data: bytes) -> list[Event]:
    conn.receive_data(data)
    return conn.events()


def is_failure(events: list[Event], code: int) -> bool:
    return len(events) == 1 and isinstance(events[0], ConnectionFailed) and events[0].code == code


@pytest.mark.parametrize("opcode", [0x1, 0x2])
def test_frame_over_limit_fails_at_the_header(opcode: int) -> None:
    server = Connection(is_server=True, max_frame_size=1024)
    # no payload byte has arrived yet
    assert is_failure(feed(server, masked_header(opcode, 1025)), 1009)
    assert server.failed is not None and server.failed.code == 1009


def test_frame_over_limit_with_64_bit_length_fails_at_the_header() -> None:
    client = Connection(is_server=False, max_frame_size=100_000)
    assert is_failure(feed(client, build_frame_header(0x2, 2**40)), 1009)


def test_frame_at_limit_is_accepted() -> None:
    server = Connection(is_server=True, max_frame_size=1024, max_message_size=1024)
    data = bytes(1024)
    events = feed(server, masked(0x2, data))
    assert b"".join(e.data for e in events if isinstance(e, MessageData)) == data
    assert all(isinstance(e, MessageData) for e in events)


def test_continuation_frame_over_limit_fails() -> None:
    server = Connection(is_server=True, max_frame_size=100, max_message_size=0)
    events = feed(server, masked(0x1, b"a" * 100, fin=False) + masked_header(0x0, 101))
    assert isinstance(events[0], MessageData)
    assert is_failure(events[1:], 1009)


def test_message_over_limit_across_fragments_fails_at_the_crossing_header() -> None:
    server = Connection(is_server=True, max_message_size=1000)
    events = feed(server, masked(0x2, bytes(600), fin=False) + masked(0x0, bytes(400), fin=False))
    assert all(isinstance(e, MessageData) for e in events)
    # one more byte than allowed is announced: fail before the payload comes
    assert is_failure(feed(server, masked_header(0x0, 1)), 1009)


def test_message_at_limit_across_fragments_is_accepted() -> None:
    server = Connection(is_server=True, max_message_size=1000)
    wire = masked(0x1, b"a" * 600, fin=False) + masked(0x0, b"b" * 400)
    events = feed(server, wire)
    assert b"".join(e.data for e in events if isinstance(e, MessageData)) == b"a" * 600 + b"b" * 400
    # the size counts per message: the next one starts from zero
    assert all(isinstance(e, MessageData) for e in feed(server, masked(0x1, b"c" * 1000)))


def test_message_limit_applies_to_a_single_frame() -> None:
    server = Connection(is_server=True, max_frame_size=0, max_message_size=10)
    assert is_failure(feed(server, masked_header(0x2, 11)), 1009)


def test_zero_means_unlimited() -> None:
    server = Connection(is_server=True, max_frame_size=0, max_message_size=0)
    huge = 2**40
    events = feed(server, masked_header(0x2, huge) + bytes(1000))
    assert len(events) == 1 and isinstance(events[0], MessageData)
    assert events[0].frame_length == huge and len(events[0].data) == 1000
    assert not events[0].frame_end


def test_default_limits() -> None:
    assert DEFAULT_MAX_FRAME_SIZE == DEFAULT_MAX_MESSAGE_SIZE == 16 * 1024 * 1024
    server = Connection(is_server=True)
    assert feed(server, masked_header(0x2, DEFAULT_MAX_FRAME_SIZE)) == []
    server = Connection(is_server=True)
    assert is_failure(feed(server, masked_header(0x2, DEFAULT_MAX_FRAME_SIZE + 1)), 1009)


def test_limits_do_not_apply_to_control_frames() -> None:
    # control frames are at most 125 bytes by the RFC, whatever the limit
    server = Connection(is_server=True, max_frame_size=10, max_message_size=10)
    events = feed(server, masked(0x9, bytes(125)))
    assert [type(e).__name__ for e in events] == ["Ping"]


# -- the wire size of a message (WIRE_SIZE_FACTOR x max_message_size) ---------------


def test_a_message_at_a_tiny_limit_fits_in_one_frame() -> None:
    server = Connection(is_server=True, max_message_size=1)
    events = feed(server, masked(0x2, b"x"))  # 7 bytes on the wire, 1 counted
    assert events == [MessageData(b"x", True, True, True, True, True, 1)]


MASKED_HEADER = 6  # a short masked frame: 2 header bytes and the mask


def fragments(first: bytes, pieces: list[bytes], opcode: int = 0x2) -> bytes:
    """A message begun by ``first`` and continued by ``pieces``, all non-final."""
    return masked(opcode, first, fin=False) + b"".join(
        masked(0x0, piece, fin=False) for piece in pieces
    )


def test_empty_continuation_frames_count_toward_the_wire_size() -> None:
    server = Connection(is_server=True, max_message_size=600)
    budget = WIRE_SIZE_FACTOR * 600  # 1200 bytes: 200 empty frames of 6 bytes
    # (the first frame's header is free)
    events = feed(server, fragments(b"", [b""] * (budget // MASKED_HEADER)))
    assert len(events) == 1 + budget // MASKED_HEADER
    assert all(isinstance(e, MessageData) for e in events)
    # the next header would cross the budget: refused before any payload
    assert is_failure(feed(server, masked_header(0x0, 0, fin=False)), 1009)
    assert server.failed is not None and "on the wire" in server.failed.reason


def test_a_message_at_the_wire_size_limit_is_accepted_and_the_next_starts_afresh() -> None:
    server = Connection(is_server=True, max_message_size=600)
    # 99 frames of 6 payload bytes (12 on the wire, 6 for the first) and 3
    # empty frames: 1200 bytes counted
    wire = fragments(b"ab" * 3, [b"cd" * 3] * 98 + [b""] * 2) + masked(0x0, b"", fin=True)
    assert len(wire) - MASKED_HEADER == WIRE_SIZE_FACTOR * 600
    events = feed(server, wire)
    assert all(isinstance(e, MessageData) for e in events) and events[-1].message_end
    assert sum(len(e.data) for e in events if isinstance(e, MessageData)) == 594
    assert all(isinstance(e, MessageData) for e in feed(server, wire))


def test_tiny_fragments_fail_long_before_the_payload_limit() -> None:
    server = Connection(is_server=True, max_message_size=1000)
    # 2-byte fragments take 8 bytes on the wire: 2 + 249 x 8 = 1994, and one more 2002
    events = feed(server, fragments(b"xx", [b"xx"] * 249))
    assert all(isinstance(e, MessageData) for e in events)
    assert is_failure(feed(server, masked(0x0, b"xx", fin=False)), 1009)


def test_wire_size_is_unlimited_when_the_message_size_is() -> None:
    server = Connection(is_server=True, max_message_size=0)
    events = feed(server, fragments(b"", [b""] * 5000))
    assert len(events) == 5001 and all(isinstance(e, MessageData) for e in events)


def test_autobahn_4_mib_in_64_byte_fragments_fits_the_default_limits() -> None:
    # Autobahn|Testsuite 9.3.1 / 9.4.1: 4 MiB sent in 64-byte frames
    server = Connection(is_server=True)
    piece = bytes(64)
    count = 4 * 1024 * 1024 // 64
    wire = fragments(piece, [piece] * (count - 2)) + masked(0x0, piece)
    events = feed(server, wire)
    assert all(isinstance(e, MessageData) for e in events) and events[-1].message_end
    assert len(wire) < DEFAULT_MAX_MESSAGE_SIZE * WIRE_SIZE_FACTOR


def test_compressed_data_that_inflates_to_nothing_counts_toward_the_wire_size() -> None:
    server = Connection(
        is_server=True,
        codec=PerMessageDeflate(True, False, False, 0, 0, None),
        max_message_size=1000,
    )
    # non-final empty stored blocks: valid deflate data with no output at all
    empty_blocks = b"\x00\x00\x00\xff\xff" * 20  # 100 bytes, 106 with the header
    frames = build_frame(0x2, empty_blocks, fin=False, rsv=0x4, mask=RFC_MASK) + b"".join(
        masked(0x0, empty_blocks, fin=False) for _ in range(17)
    )
    events = feed(server, frames)
    assert len(events) == 18 and all(isinstance(e, MessageData) for e in events)
    assert not any(e.data for e in events if isinstance(e, MessageData))
    # 100 + 17 x 106 = 1902 bytes counted so far; one frame more makes 2008
    assert is_failure(feed(server, masked(0x0, empty_blocks, fin=False)), 1009)
