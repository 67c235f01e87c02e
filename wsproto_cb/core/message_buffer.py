"""Assembling a message from the pieces the connection delivers.

A message may arrive as millions of tiny pieces (one per frame, or per read
of a frame).  Kept as a list of ``bytes`` objects, each piece would cost its
object header and list slot, about 40 bytes, on top of its data: 2-byte
fragments took some 20 times their payload in memory.

:class:`MessageBuffer` keeps pieces of at least :data:`COPY_BELOW` bytes as
they are (their overhead is then under 5 %) and copies smaller ones into a
shared block, which becomes one piece when it reaches :data:`BLOCK_SIZE`.
A message in assembly thus takes about its payload's size however it was
fragmented, and a large message is copied once, when :meth:`take` joins it.
(One growing ``bytearray`` would hold the same memory but copy every byte
twice, and allocate a second buffer of the message's size at the end.)
"""

from __future__ import annotations

from typing import Final

__all__ = ["BLOCK_SIZE", "COPY_BELOW", "MessageBuffer"]

#: Pieces shorter than this are copied into the current block.
COPY_BELOW: Final = 1024

#: A block of small pieces is closed when it reaches this size.
BLOCK_SIZE: Final = 64 * 1024


class MessageBuffer:
    """The data of one message (or frame) so far; :meth:`take` returns it as bytes.

    A message that is a single piece is returned without a copy.  Empty
    pieces cost nothing.
    """

    __slots__ = ("_block", "_pieces", "_size")

    def __init__(self, first: bytes = b"") -> None:
        self._pieces: list[bytes] = []
        self._block: bytearray | None = None
        self._size = 0
        if first:
            self.append(first)

    def append(self, data: bytes) -> None:
        """Add the next piece (a small one is copied: the caller may drop it)."""
        size = len(data)
        if not size:
            return
        self._size += size
        block = self._block
        if size < COPY_BELOW:
            if block is None:
                self._block = block = bytearray()
            block += data
            if len(block) >= BLOCK_SIZE:
                self._pieces.append(bytes(block))
                self._block = None
            return
        if block is not None:  # close it first: pieces stay in order
            self._pieces.append(bytes(block))
            self._block = None
        self._pieces.append(data)

    def take(self) -> bytes:
        """Everything appended so far, as one bytes object; the buffer is then empty."""
        pieces, block = self._pieces, self._block
        self._pieces, self._block, self._size = [], None, 0
        if block is not None:
            pieces.append(bytes(block))
        if len(pieces) == 1:
            return pieces[0]
        return b"".join(pieces)

    def __len__(self) -> int:
        return self._size
