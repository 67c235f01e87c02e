"""MessageBuffer: a message's pieces in one buffer of about the payload's size."""

from __future__ import annotations

import tracemalloc

from wsproto_cb.core.message_buffer import MessageBuffer


def test_pieces_join_in_order_and_take_empties_the_buffer() -> None:
    buffer = MessageBuffer(b"ab")
    for piece in (b"", b"cd", b"", b"e"):
        buffer.append(piece)
    assert len(buffer) == 5
    assert buffer.take() == b"abcde"
    assert len(buffer) == 0 and buffer.take() == b""
    buffer.append(b"again")
    assert buffer.take() == b"again"


def test_a_single_piece_is_returned_without_a_copy() -> None:
    piece = bytes(range(256)) * 4
    assert MessageBuffer(piece).take() is piece
    buffer = MessageBuffer()
    buffer.append(b"")
    buffer.append(piece)
    buffer.append(b"")
    assert buffer.take() is piece


def test_empty_buffer() -> None:
    assert MessageBuffer().take() == b""
    assert len(MessageBuffer()) == 0


def test_tiny_pieces_take_about_their_payload_in_memory() -> None:
    """200,000 pieces of 2 bytes: a list of them took 20 times the payload."""
    pieces = [(i % 65536).to_bytes(2, "big") for i in range(200_000)]
    payload = 2 * len(pieces)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        buffer = MessageBuffer()
        for piece in pieces:
            buffer.append(piece)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held <= 1.5 * payload, f"{held} bytes for a {payload}-byte message"
    assert buffer.take() == b"".join(pieces)
