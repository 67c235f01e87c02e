"""MessageBuffer: a message's pieces in one buffer of about the payload's size."""

from __future__ import annotations

import tracemalloc

import pytest

from wsproto_cb.core.message_buffer import (
    BLOCK_SIZE,
    COPY_BELOW,
    PREALLOCATE_MAX,
    PREALLOCATE_MIN,
    MessageBuffer,
    PayloadBuilder,
    PayloadBuilderC,
    PayloadBuilderPython,
)


def test_pieces_join_in_order_and_take_empties_the_buffer() -> None:
    buffer = MessageBuffer(b"ab")
    for piece in (b"", b"cd", b"", b"e"):
        buffer.append(piece)
    assert len(buffer) == 5
    assert buffer.take() == b"abcde"
    assert len(buffer) == 0 and buffer.take() == b""
    buffer.append(b"again")
    assert buffer.take() == b"again"


def test_small_and_large_pieces_keep_their_order() -> None:
    small, large = b"s" * (COPY_BELOW - 1), b"L" * COPY_BELOW
    pieces = [small, large, small, small, large, large, b"x"] + [small] * 100 + [large]
    buffer = MessageBuffer()
    for piece in pieces:
        buffer.append(piece)
    assert len(buffer) == sum(map(len, pieces))
    assert buffer.take() == b"".join(pieces)
    assert len(pieces) * (COPY_BELOW - 1) > BLOCK_SIZE  # a block filled up on the way


def test_a_single_piece_is_returned_without_a_copy() -> None:
    piece = bytes(range(256)) * (COPY_BELOW // 256)
    assert MessageBuffer(piece).take() is piece
    buffer = MessageBuffer()
    buffer.append(b"")
    buffer.append(piece)
    buffer.append(b"")
    assert buffer.take() is piece


def test_empty_buffer() -> None:
    assert MessageBuffer().take() == b""
    assert len(MessageBuffer()) == 0


@pytest.mark.parametrize(
    "sizes",
    [
        [2] * 200_000,  # a list of 2-byte pieces took 20 times the payload
        [COPY_BELOW - 1] * 1000,  # copied
        [COPY_BELOW] * 1000,  # kept as they are
        [COPY_BELOW, 1] * 1000,
    ],
    ids=["2-bytes", "just-below", "just-at", "alternating"],
)
def test_pieces_take_about_their_payload_in_memory(sizes: list[int]) -> None:
    """What the buffer holds: the memory still allocated after appending fresh pieces."""
    payload = sum(sizes)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        buffer = MessageBuffer()
        for size in sizes:
            buffer.append(b"x" * size)  # a new object, dropped unless kept
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held <= 1.1 * payload + 2 * BLOCK_SIZE, f"{held} bytes for a {payload}-byte message"
    assert buffer.take() == b"x" * payload


# -- a large frame announced by its header: one buffer of its size ---------

BUILDERS = [pytest.param(PayloadBuilderPython, id="python")]
if PayloadBuilderC is not None:
    BUILDERS.append(pytest.param(PayloadBuilderC, id="c"))


@pytest.mark.parametrize("builder", BUILDERS)
def test_payload_builder_fills_in_order_and_is_taken_once(builder: type) -> None:
    b = builder(10)
    assert (len(b), b.remaining) == (0, 10)
    b.append(b"abc")
    b.append(memoryview(b"defg"))
    b.append(bytearray(b""))
    b.append(b"hij")
    assert (len(b), b.remaining) == (10, 0)
    taken = b.take()
    assert type(taken) is bytes and taken == b"abcdefghij"
    assert (len(b), b.remaining) == (0, 0)
    with pytest.raises(ValueError, match="taken already"):
        b.take()
    with pytest.raises(ValueError, match="taken already"):
        b.append(b"")


@pytest.mark.parametrize("builder", BUILDERS)
def test_payload_builder_refuses_more_than_its_size(builder: type) -> None:
    b = builder(4)
    b.append(b"ab")
    with pytest.raises(ValueError, match="3 bytes given but only 2 are left"):
        b.append(b"cde")
    assert b.take() == b"ab"  # (not full: what was appended)
    with pytest.raises(ValueError, match="must not be negative"):
        builder(-1)
    assert builder(0).take() == b""


def test_the_c_builder_hands_out_its_buffer_without_a_copy() -> None:
    if PayloadBuilderC is None:
        pytest.skip("the C twin is not built or is disabled")
    size = 1 << 20
    tracemalloc.start()
    try:
        b = PayloadBuilderC(size)
        for _ in range(16):
            b.append(bytes(size // 16))
        before = tracemalloc.get_traced_memory()[0]
        taken = b.take()
        grew = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(taken) == size and grew < 1024


def pieces_of(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


LARGE = bytes(range(256)) * 1024  # 256 KiB, a frame past PREALLOCATE_MIN


@pytest.mark.parametrize("piece", [1, 1000, COPY_BELOW, 65_536, 100_000])
def test_a_large_frame_in_pieces_is_assembled_whole(piece: int) -> None:
    first, *rest = pieces_of(LARGE, piece)
    buffer = MessageBuffer(first, len(LARGE))
    for data in rest:
        buffer.append(data)
    assert len(buffer) == len(LARGE)
    assert buffer.take() == LARGE and len(buffer) == 0


@pytest.mark.parametrize("extra", [b"", b"+", b"+" * COPY_BELOW, b"+" * 70_000])
def test_an_expected_length_is_a_hint_only(extra: bytes) -> None:
    """More frames after the first (a fragmented message), or a short one: still whole."""
    message = LARGE + extra
    buffer = MessageBuffer(message[:5000], len(LARGE))
    for data in pieces_of(message[5000:], 7000):
        buffer.append(data)
    assert buffer.take() == message
    short = MessageBuffer(LARGE[:5000], len(LARGE))
    short.append(LARGE[5000:9000])
    assert short.take() == LARGE[:9000]


@pytest.mark.parametrize(
    "expected", [PREALLOCATE_MIN - 1, PREALLOCATE_MAX + 1, 1 << 62], ids=["small", "huge", "absurd"]
)
def test_no_buffer_is_allocated_ahead_outside_the_range(expected: int) -> None:
    """An announced length below the range costs nothing ahead; above it (a peer
    whose limits are off may announce any length) nothing is allocated either."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        buffer = MessageBuffer(b"x" * 2000, expected)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < 16 * 1024
    buffer.append(b"y")
    assert buffer.take() == b"x" * 2000 + b"y"


def test_a_large_frame_is_taken_without_joining_its_pieces() -> None:
    if PayloadBuilder is not PayloadBuilderC:
        pytest.skip("the C twin is not in use")
    first, *rest = pieces_of(LARGE, 65_536)
    buffer = MessageBuffer(first, len(LARGE))
    for data in rest:
        buffer.append(data)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        taken = buffer.take()
        grew = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert taken == LARGE and grew < 1024
