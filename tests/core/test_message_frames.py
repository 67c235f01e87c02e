"""Frames in parts (``Connection.message_frames``, ``message_frame_parts``, ``write_parts``).

Large, fragmented and compressed messages are written as parts that
reference the payload instead of one buffer holding copies of it.  The
bytes on the wire must not change: joined, the parts are exactly what
``send_message`` returns, which is checked here against frames built one
by one with the pure-Python reference ``frame_bytes_python``.
"""

from __future__ import annotations

import random
import zlib

import pytest

from wsproto_cb.core.connection import Connection
from wsproto_cb.core.deflate import PerMessageDeflate
from wsproto_cb.core.events import MessageData
from wsproto_cb.core.frames import (
    JOINED_PART_MAX,
    RSV1,
    WRITE_AS_IS_MIN,
    FrameParts,
    frame_bytes_python,
    join_frames,
    parse_header,
    write_parts,
)
from wsproto_cb.core.masking import apply_mask_python

SIZES = [0, 1, 125, 70_000, 1 << 20]
FRAGMENTS = [None, 1_000, WRITE_AS_IS_MIN, 70_000]


def payload(size: int) -> bytes:
    return bytes(range(256)) * (size // 256) + bytes(range(size % 256))


def reference(opcode: int, data: bytes, fragment: int | None, rsv: int = 0) -> bytes:
    """The frames of one message, built one by one with the reference framing."""
    if fragment is None or len(data) <= fragment:
        return frame_bytes_python(opcode, data, True, rsv)
    out = []
    for start in range(0, len(data), fragment):
        first = start == 0
        out.append(
            frame_bytes_python(
                opcode if first else 0x0,
                data[start : start + fragment],
                start + fragment >= len(data),
                rsv if first else 0,
            )
        )
    return b"".join(out)


def deflated(data: bytes) -> bytes:
    """``data`` as the first message of a fresh permessage-deflate stream (no parameters)."""
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return (compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]


@pytest.mark.parametrize("fragment", FRAGMENTS)
@pytest.mark.parametrize("size", SIZES)
def test_plain_frames_join_to_the_reference_bytes(size: int, fragment: int | None) -> None:
    data = payload(size)
    expected = reference(0x2, data, fragment)
    frames = Connection(True).message_frames(data, True, fragment_size=fragment)
    assert join_frames(frames) == expected
    assert b"".join(write_parts(frames)) == expected
    assert Connection(True).send_message(data, True, fragment_size=fragment) == expected


@pytest.mark.parametrize("fragment", FRAGMENTS)
@pytest.mark.parametrize("size", [0, 5_000, 1 << 20])
def test_compressed_frames_join_to_the_reference_bytes(size: int, fragment: int | None) -> None:
    data = payload(size)
    expected = reference(0x1, deflated(data), fragment, RSV1)
    sent = Connection(True, codec=PerMessageDeflate(True, False, False, 0, 0, None))
    frames = sent.message_frames(data, False, fragment_size=fragment)
    assert join_frames(frames) == expected
    assert b"".join(write_parts(frames)) == expected
    joined = Connection(True, codec=PerMessageDeflate(True, False, False, 0, 0, None))
    assert joined.send_message(data, False, fragment_size=fragment) == expected


def test_an_unmasked_payload_is_not_copied() -> None:
    data = payload(1 << 20)
    [(header, body)] = Connection(True).message_frames(data, True)
    assert body is data and header == bytes([0x82, 127]) + (1 << 20).to_bytes(8, "big")
    frames = Connection(True).message_frames(data, True, fragment_size=300_000)
    assert [len(frame[1]) for frame in frames] == [300_000] * 3 + [(1 << 20) - 900_000]
    for frame in frames:
        assert isinstance(frame[1], memoryview) and frame[1].obj is data


@pytest.mark.parametrize("fragment", FRAGMENTS)
@pytest.mark.parametrize("size", [0, 70_000, 1 << 20])
def test_masked_frames_carry_a_key_each_and_parse_back(size: int, fragment: int | None) -> None:
    data = payload(size)
    frames = Connection(False).message_frames(data, True, fragment_size=fragment)
    wire = join_frames(frames)
    pieces, pos = [], 0
    while pos < len(wire):  # each frame: its masked payload against the reference mask
        header = parse_header(wire, pos)
        assert header is not None and header.mask is not None
        start = pos + header.size
        pos = start + header.length
        pieces.append(apply_mask_python(wire[start:pos], header.mask))
    assert b"".join(pieces) == data
    count = 1 if fragment is None or size <= fragment else -(-size // fragment)
    assert len(pieces) == len(frames) == count
    server = Connection(True)
    server.receive_data(b"".join(write_parts(frames)))
    received = [event for event in server.events() if isinstance(event, MessageData)]
    assert b"".join(event.data for event in received) == data and received[-1].message_end


def _frames(*buffers: bytes | memoryview) -> list[FrameParts]:
    return [(buf,) for buf in buffers]


def test_write_parts_keeps_large_buffers_and_joins_the_rest() -> None:
    big = b"B" * WRITE_AS_IS_MIN
    view = memoryview(b"V" * (WRITE_AS_IS_MIN + 1))
    frames = [(b"h1", big), (b"h2", b"small", b"tail"), (b"h3", view), (b"h4",)]
    parts = write_parts(frames)
    assert parts[0] == b"h1" and parts[1] is big
    assert parts[2] == b"h2smalltailh3" and parts[3] is view and parts[4] == b"h4"
    assert all(type(part) is bytes for part in parts if part is not view)


def test_write_parts_joins_small_buffers_into_bounded_parts() -> None:
    frames = _frames(*[b"x" * 1000] * 1000)  # a megabyte in small frames
    parts = write_parts(frames)
    assert b"".join(parts) == b"x" * 1_000_000
    assert all(len(part) < JOINED_PART_MAX + 1000 for part in parts)
    assert len(parts) <= 1_000_000 // JOINED_PART_MAX + 1


def test_write_parts_of_nothing() -> None:
    assert write_parts([]) == []
    assert write_parts([(b"",)]) == [b""]


# A streamed message (begin_message, then message_frame_parts, the last with
# fin): the frames are compared with the reference framing of the payloads a
# fresh compressor gives for the same chunks, under the masks the sender drew.
# (A last chunk of 0 is end_message; a compressed last frame with data
# carries the compressor's output and then its tail.)

STREAM_CHUNKS = [[0], [125, 0, 3], [70_000, 10, 0], [1 << 20, 70_000]]


def streamed_reference(chunks: list[bytes], compress: bool) -> list[tuple[int, bytes, bool, int]]:
    """(opcode, payload, fin, rsv) of each frame of ``chunks`` sent as one message."""
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    frames = []
    for i, chunk in enumerate(chunks):
        fin = i == len(chunks) - 1
        body = compressor.compress(chunk) if compress else chunk
        if compress and fin:
            body += compressor.flush(zlib.Z_SYNC_FLUSH)[:-4] if any(chunks) else b"\x00"
        frames.append((0x2 if i == 0 else 0x0, body, fin, RSV1 if compress and i == 0 else 0))
    return frames


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("sizes", STREAM_CHUNKS)
def test_streamed_frame_parts_are_the_reference_bytes(
    sizes: list[int], compress: bool, masked: bool
) -> None:
    chunks = [random.Random(size).randbytes(size) for size in sizes]  # (zlib has output each)

    def sender() -> Connection:
        codec = PerMessageDeflate(not masked, False, False, 0, 0, None) if compress else None
        return Connection(not masked, codec=codec)

    joined, parted = sender(), sender()
    for conn in (joined, parted):
        conn.begin_message(is_binary=True)
    last = len(chunks) - 1
    as_bytes = [joined.message_frame(chunk, i == last) for i, chunk in enumerate(chunks)]
    as_parts = [parted.message_frame_parts(chunk, i == last) for i, chunk in enumerate(chunks)]
    wire = b"".join(write_parts(as_parts))
    assert join_frames(as_parts) == wire
    pos, expected_wire, unmasked_wire = 0, [], []
    for opcode, body, fin, rsv in streamed_reference(chunks, compress):
        header = parse_header(wire, pos)
        assert header is not None and (header.mask is not None) == masked
        pos += header.size + header.length
        expected_wire.append(frame_bytes_python(opcode, body, fin, rsv, header.mask))
        unmasked_wire.append(frame_bytes_python(opcode, body, fin, rsv))
    assert pos == len(wire) and wire == b"".join(expected_wire)
    if masked:  # (a mask each: the joined sender drew other keys, so compare unmasked)
        assert unmask_frames(b"".join(as_bytes)) == b"".join(unmasked_wire)
    else:
        assert b"".join(as_bytes) == wire
    if not masked and not compress:
        for chunk, frame in zip(chunks, as_parts, strict=False):
            assert frame[1] is chunk  # the payload, not a copy


def unmask_frames(wire: bytes) -> bytes:
    """``wire``'s frames with their payloads unmasked and their mask bits and keys removed."""
    out, pos = [], 0
    while pos < len(wire):
        header = parse_header(wire, pos)
        assert header is not None and header.mask is not None
        start = pos + header.size
        pos = start + header.length
        body = apply_mask_python(wire[start:pos], header.mask)
        out.append(frame_bytes_python(header.opcode, body, header.fin, header.rsv))
    return b"".join(out)
