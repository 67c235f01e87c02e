"""MessageBuffer: a message's pieces in one buffer of about the payload's size."""

from __future__ import annotations

import tracemalloc

import pytest

from wsproto_cb.core.message_buffer import BLOCK_SIZE, COPY_BELOW, MessageBuffer


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
