"""Assembling a message from the pieces the connection delivers.

A message may arrive as millions of tiny pieces (one per frame, or per read
of a frame).  Kept as a list of ``bytes`` objects, each piece would cost its
object header and list slot, about 40 bytes, on top of its data: 2-byte
fragments would take 20 times their payload in memory.  :class:`MessageBuffer`
copies the pieces into one growing ``bytearray`` instead, so a message in
assembly takes about its payload's size (a ``bytearray`` over-allocates by
an eighth) however it was fragmented.
"""

from __future__ import annotations

__all__ = ["MessageBuffer"]


class MessageBuffer:
    """The data of one message (or frame) so far; :meth:`take` returns it as bytes.

    A single piece is kept as it is and returned without a copy; a second
    one starts the ``bytearray``.  Empty pieces cost nothing.
    """

    __slots__ = ("_first", "_joined")

    def __init__(self, first: bytes = b"") -> None:
        self._first = first
        self._joined: bytearray | None = None

    def append(self, data: bytes) -> None:
        """Add the next piece (copied: the caller may drop it)."""
        if not data:
            return
        joined = self._joined
        if joined is not None:
            joined += data
        elif self._first:
            self._joined = joined = bytearray(self._first)
            joined += data
            self._first = b""
        else:
            self._first = data

    def take(self) -> bytes:
        """Everything appended so far, as one bytes object; the buffer is then empty."""
        joined = self._joined
        if joined is None:
            data, self._first = self._first, b""
            return data
        self._joined = None
        return bytes(joined)

    def __len__(self) -> int:
        joined = self._joined
        return len(self._first) if joined is None else len(joined)
